#include "neuncut/io/model_file.hpp"

#include <zlib.h>

#include <cstring>
#include <fstream>
#include <iterator>

#include "io/io_util.hpp"
#include "neuncut/io/atomic_file.hpp"

namespace neuncut {

namespace {
constexpr char kMagic[8] = {'N', 'E', 'U', 'N', 'C', 'U', 'T', '\0'};
constexpr std::size_t kHeaderSize = 32;
// Payloads beyond this are refused before allocation (a corrupted size field).
constexpr std::uint64_t kMaxPayload = std::uint64_t(1) << 36;

std::uint32_t crc32_of(const char* data, std::size_t n, std::uint32_t crc = 0) {
  while (n > 0) {  // zlib's crc32 takes a uInt length
    const uInt chunk = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    crc = static_cast<std::uint32_t>(::crc32(crc, reinterpret_cast<const Bytef*>(data), chunk));
    data += chunk;
    n -= chunk;
  }
  return crc;
}
}  // namespace

void write_model_file(const std::string& path, ModelMethod method, const std::vector<char>& payload) {
  char header[kHeaderSize] = {};
  std::memcpy(header, kMagic, 8);
  const std::uint32_t version = kModelFormatVersion, tag = static_cast<std::uint32_t>(method);
  const std::uint64_t size = payload.size();
  std::memcpy(header + 8, &version, 4);
  std::memcpy(header + 12, &tag, 4);
  header[16] = static_cast<char>(sizeof(float));
  std::memcpy(header + 24, &size, 8);
  std::uint32_t crc = crc32_of(header + 8, kHeaderSize - 8);
  crc = crc32_of(payload.data(), payload.size(), crc);

  AtomicFile file(path);
  file.stream().write(header, kHeaderSize);
  file.stream().write(payload.data(), static_cast<std::streamsize>(payload.size()));
  file.stream().write(reinterpret_cast<const char*>(&crc), 4);
  file.commit();
}

ModelFileContents read_model_file(const std::string& path) {
  detail::require_readable_file(path, "model file");
  std::ifstream in(path, std::ios::binary);
  NEUNCUT_REQUIRE(in.is_open(), IoError, "cannot open model file '", path, "': ", std::strerror(errno));
  in.seekg(0, std::ios::end);
  const auto file_size = static_cast<std::uint64_t>(in.tellg());
  in.seekg(0);
  char header[kHeaderSize];
  NEUNCUT_REQUIRE(file_size >= kHeaderSize && in.read(header, kHeaderSize), FormatError, "'", path,
                  "' is not a neuncut model file (too short: ", file_size, " bytes)");
  NEUNCUT_REQUIRE(std::memcmp(header, kMagic, 8) == 0, FormatError, "'", path,
                  "' is not a neuncut model file (bad magic)");
  ModelFileContents out;
  std::uint32_t tag;
  std::uint64_t size;
  std::memcpy(&out.version, header + 8, 4);
  std::memcpy(&tag, header + 12, 4);
  std::memcpy(&size, header + 24, 8);
  NEUNCUT_REQUIRE(out.version <= kModelFormatVersion, FormatError, "'", path, "' has model format version ",
                  out.version, ", newer than this neuncut reads (", kModelFormatVersion, "); upgrade neuncut");
  NEUNCUT_REQUIRE(out.version >= 1, FormatError, "'", path, "' has invalid model format version 0");
  NEUNCUT_REQUIRE(header[16] == 4, FormatError, "'", path, "' was written with an unsupported float size");
  NEUNCUT_REQUIRE(size <= kMaxPayload && size + kHeaderSize + 4 == file_size, FormatError, "'", path,
                  "' is truncated or corrupted (header says ", size, " payload bytes, file has ", file_size, ")");
  out.payload.resize(size);
  std::uint32_t stored_crc;
  in.read(out.payload.data(), static_cast<std::streamsize>(size));
  in.read(reinterpret_cast<char*>(&stored_crc), 4);
  NEUNCUT_REQUIRE(in.good(), IoError, "read error on '", path, "'");
  std::uint32_t crc = crc32_of(header + 8, kHeaderSize - 8);
  crc = crc32_of(out.payload.data(), out.payload.size(), crc);
  NEUNCUT_REQUIRE(crc == stored_crc, FormatError, "'", path, "' is corrupted (checksum mismatch)");
  NEUNCUT_REQUIRE(tag >= 1 && tag <= 3, FormatError, "'", path, "' holds an unknown method tag ", tag);
  out.method = static_cast<ModelMethod>(tag);
  return out;
}

}  // namespace neuncut
