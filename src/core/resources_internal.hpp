// PRIVATE header (not installed): the memory estimate the estimators check before they
// allocate (see include/neuncut/core/resources.hpp for the public half).
#pragma once

#include <string>
#include <vector>

#include "neuncut/core/types.hpp"

namespace neuncut {

/// One part of a memory estimate, for the message when it is refused.
struct MemoryItem {
  std::string what;  ///< e.g. "network weights, gradient and Adam state"
  double bytes = 0;
};

/// Throws InvalidArgument when the items add up to more than physical_memory_bytes(): the
/// message gives the total, the largest items and the memory available, and names `fix`.
void require_memory(const std::string& task, const std::vector<MemoryItem>& items, const std::string& fix);

/// Bytes of float32 parameters of a fully connected network with these layer widths
/// (weights and biases), in double so that absurd widths do not overflow.
double network_parameter_bytes(const std::vector<Index>& widths);

/// "1.5 GiB", "12.0 MiB", "512 bytes".
std::string format_bytes(double bytes);

}  // namespace neuncut
