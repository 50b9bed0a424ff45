// neuncut_micro: Google Benchmark's main, plus the context a result needs to mean something
// (Google Benchmark already records host, CPUs, MHz, caches and load average).
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <fstream>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  return "unknown";
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("neuncut_version", NEUNCUT_BENCH_VERSION);
  benchmark::AddCustomContext("neuncut_build_type", NEUNCUT_BENCH_BUILD_TYPE);
  benchmark::AddCustomContext("cpu_model", cpu_model());
  benchmark::AddCustomContext("compiler", __VERSION__);
  benchmark::AddCustomContext("eigen_version", std::to_string(EIGEN_WORLD_VERSION) + "." +
                                                   std::to_string(EIGEN_MAJOR_VERSION) + "." +
                                                   std::to_string(EIGEN_MINOR_VERSION));
  benchmark::AddCustomContext("eigen_simd", Eigen::SimdInstructionSetsInUse());
#ifdef _OPENMP
  benchmark::AddCustomContext("omp_num_procs", std::to_string(omp_get_num_procs()));
#endif
  benchmark::AddCustomContext("schema", "neuncut_micro/1");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
