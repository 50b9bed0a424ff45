// libFuzzer harness for the .npy reader; what it does with an input: fuzz_targets.hpp.
#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static neuncut::fuzz::InputFile file;
  neuncut::fuzz::npy(file, data, size);
  return 0;
}
