#include "neuncut/core/resources.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "core/parallel.hpp"
#include "core/resources_internal.hpp"
#include "neuncut/core/error.hpp"

namespace neuncut {

int hardware_threads() { return detail::resolve_threads(0); }

int bounded_threads(int requested) { return detail::resolve_threads(requested); }

std::string thread_bound_warning(int requested) {
  const int hardware = hardware_threads();
  if (requested <= hardware) return "";
  return detail::concat("threads ", requested, " exceeds the ", hardware, " hardware thread", hardware == 1 ? "" : "s",
                        " available; using ", hardware);
}

std::uint64_t physical_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES), page_size = ::sysconf(_SC_PAGE_SIZE);
  std::uint64_t bytes = pages > 0 && page_size > 0 ? std::uint64_t(pages) * std::uint64_t(page_size) : 0;
  // A container's limit is what the kernel enforces; "max" (no limit) does not parse.
  std::ifstream cgroup("/sys/fs/cgroup/memory.max");
  std::uint64_t limit = 0;
  if (cgroup >> limit && limit > 0) bytes = bytes == 0 ? limit : std::min(bytes, limit);
  return bytes;
}

std::string format_bytes(double bytes) {
  char buf[64];
  if (bytes >= 1024.0 * 1024 * 1024) std::snprintf(buf, sizeof buf, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  else if (bytes >= 1024.0 * 1024) std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1024.0 * 1024));
  else std::snprintf(buf, sizeof buf, "%.0f bytes", bytes);
  return buf;
}

void require_memory(const std::string& task, const std::vector<MemoryItem>& items, const std::string& fix) {
  double total = 0;
  for (const MemoryItem& item : items) total += item.bytes;
  const std::uint64_t available = physical_memory_bytes();
  if (available == 0 || total <= double(available)) return;
  std::vector<MemoryItem> sorted = items;
  std::sort(sorted.begin(), sorted.end(), [](const MemoryItem& a, const MemoryItem& b) { return a.bytes > b.bytes; });
  std::string parts;
  for (std::size_t i = 0; i < sorted.size() && i < 3; ++i)
    if (sorted[i].bytes > 0)
      parts += (parts.empty() ? "" : ", ") + sorted[i].what + " " + format_bytes(sorted[i].bytes);
  throw InvalidArgument(task + " needs about " + format_bytes(total) + " of memory (" + parts +
                        ") but this machine has " + format_bytes(double(available)) + " of physical memory; " + fix);
}

double network_parameter_bytes(const std::vector<Index>& widths) {
  double count = 0;
  for (std::size_t l = 0; l + 1 < widths.size(); ++l)
    count += double(widths[l]) * double(widths[l + 1]) + double(widths[l + 1]);
  return 4.0 * count;
}

}  // namespace neuncut
