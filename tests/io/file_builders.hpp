// .npy and IDX files built byte by byte from their parts, independent of the readers and
// writers under test; shared by the io tests.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace neuncut::testing {

template <class T>
std::string le_bytes(const std::vector<T>& values) {
  std::string out(values.size() * sizeof(T), '\0');
  std::memcpy(out.data(), values.data(), out.size());  // the test hosts are little-endian
  return out;
}

template <class T>
std::string be_bytes(const std::vector<T>& values) {
  std::string out;
  for (T v : values) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    for (std::size_t i = sizeof(T); i-- > 0;) out += b[i];
  }
  return out;
}

/// A .npy file: magic, version `major`, the header `dict` padded to 16 bytes, then `payload`.
inline std::string npy_file(const std::string& dict, const std::string& payload, int major = 1) {
  std::string header = dict;
  const std::size_t prefix = major == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 16 != 0) header += ' ';
  header += '\n';
  std::string out = "\x93NUMPY";
  out += static_cast<char>(major);
  out += '\0';
  const std::uint32_t len = static_cast<std::uint32_t>(header.size());
  out.append(reinterpret_cast<const char*>(&len), major == 1 ? 2 : 4);
  return out + header + payload;
}

/// The header dict numpy writes.
inline std::string npy_dict(const std::string& descr, const std::string& shape, bool fortran = false) {
  return "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
}

/// An IDX file: magic with `type` and the dimension count, big-endian `dims`, then `payload`.
inline std::string idx_file(int type, const std::vector<std::uint32_t>& dims, const std::string& payload) {
  std::string out{'\0', '\0', static_cast<char>(type), static_cast<char>(dims.size())};
  return out + be_bytes(dims) + payload;
}

/// Writes `data` gzip-compressed.
inline void write_gz(const std::string& path, const std::string& data) {
  gzFile gz = gzopen(path.c_str(), "wb");
  ASSERT_NE(gz, nullptr);
  ASSERT_EQ(gzwrite(gz, data.data(), static_cast<unsigned>(data.size())), static_cast<int>(data.size()));
  ASSERT_EQ(gzclose(gz), Z_OK);
}

/// Calls f.template operator()<T>(descr) for every .npy dtype the readers support, T the C++
/// type of its elements (bool as uint8: any non-zero byte is 1).
template <class F>
void for_each_npy_dtype(F&& f) {
  f.template operator()<float>("<f4");
  f.template operator()<double>("<f8");
  f.template operator()<std::uint8_t>("|u1");
  f.template operator()<std::int8_t>("|i1");
  f.template operator()<std::uint16_t>("<u2");
  f.template operator()<std::int16_t>("<i2");
  f.template operator()<std::uint32_t>("<u4");
  f.template operator()<std::int32_t>("<i4");
  f.template operator()<std::uint64_t>("<u8");
  f.template operator()<std::int64_t>("<i8");
  f.template operator()<std::uint8_t>("|b1");
}

// Expects `f` to throw E with a message containing `needle`.
template <class E, class F>
void expect_throw_with(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "expected an exception mentioning '" << needle << "'";
  } catch (const E& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace neuncut::testing
