#include "mpi.hpp"

#include <algorithm>
#include <cstdlib>

#ifdef NEUNCUT_WITH_MPI
// The C API only: Open MPI's and MPICH's mpi.h otherwise pull in their deprecated C++ bindings,
// which need libraries the C target does not link.
#define OMPI_SKIP_MPICXX 1
#define MPICH_SKIP_MPICXX 1
#include <mpi.h>
#endif

namespace neuncut::cli::mpi {
namespace {
bool g_active = false;
int g_rank = 0, g_size = 1;

// The variables Open MPI's, MPICH's and PMIx launchers set in the processes they start.
bool started_by_launcher() {
  return std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK");
}
}  // namespace

#ifdef NEUNCUT_WITH_MPI
bool built_with_mpi() { return true; }

Session::Session(int* argc, char*** argv) {
  if (!started_by_launcher()) return;
  MPI_Init(argc, argv);
  g_active = true;
  MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &g_size);
}
Session::~Session() {
  if (g_active) MPI_Finalize();
  g_active = false;
}

int rank() { return g_rank; }
int size() { return g_size; }
void barrier() {
  if (g_active) MPI_Barrier(MPI_COMM_WORLD);
}
int max_over_ranks(int value) {
  int out = value;
  if (g_active) MPI_Allreduce(&value, &out, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return out;
}
double max_over_ranks(double value) {
  double out = value;
  if (g_active) MPI_Allreduce(&value, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return out;
}
void sum_over_ranks(double* values, std::size_t n) {
  // In pieces: MPI counts are int.
  constexpr std::size_t kPiece = std::size_t(1) << 28;
  for (std::size_t done = 0; g_active && done < n; done += kPiece)
    MPI_Allreduce(MPI_IN_PLACE, values + done, int(std::min(kPiece, n - done)), MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
std::uint64_t broadcast(std::uint64_t value) {
  if (g_active) MPI_Bcast(&value, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  return value;
}
#else
bool built_with_mpi() { return false; }
// Without MPI the launcher's variables still say how many copies it started, so that main can
// refuse to run R copies that would each do the whole job and write the same files.
Session::Session(int*, char***) {
  (void)g_active;
  if (!started_by_launcher()) return;
  for (const char* name : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
    if (const char* v = std::getenv(name)) g_size = std::max(1, std::atoi(v));
  for (const char* name : {"OMPI_COMM_WORLD_RANK", "PMI_RANK"})
    if (const char* v = std::getenv(name)) g_rank = std::max(0, std::atoi(v));
}
Session::~Session() = default;
int rank() { return g_rank; }
int size() { return g_size; }
void barrier() {}
int max_over_ranks(int value) { return value; }
double max_over_ranks(double value) { return value; }
void sum_over_ranks(double*, std::size_t) {}
std::uint64_t broadcast(std::uint64_t value) { return value; }
#endif

}  // namespace neuncut::cli::mpi
