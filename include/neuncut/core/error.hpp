// Exceptions thrown by neuncut.
//
// Bad input from the caller (shapes, ranges, NaN, malformed files) raises InvalidArgument
// or FormatError before any work starts; the message names the offending value and what was
// expected. Python maps InvalidArgument/FormatError to ValueError and the rest to
// RuntimeError with the same text. Numerical outcomes (a solver that did not converge, a
// collapsed clustering) are reported in result structs, not thrown.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace neuncut {

/// Base class of every neuncut exception.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// An argument or input array violates the documented contract (ValueError in Python).
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

/// A file could not be opened, read or written (RuntimeError in Python).
class IoError : public Error {
 public:
  using Error::Error;
};

/// A file was read but its contents are malformed, truncated, corrupted or of an unsupported
/// version (ValueError in Python).
class FormatError : public Error {
 public:
  using Error::Error;
};

/// A long computation was stopped by its progress callback (KeyboardInterrupt in Python).
class Interrupted : public Error {
 public:
  using Error::Error;
};

namespace detail {
template <class... Args>
std::string concat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}
}  // namespace detail

}  // namespace neuncut

/// Throws ExceptionType with the streamed message parts when cond is false.
/// Example: NEUNCUT_REQUIRE(k >= 2, InvalidArgument, "k must be >= 2, got ", k);
#define NEUNCUT_REQUIRE(cond, ExceptionType, ...)                                        \
  do {                                                                                   \
    if (!(cond)) throw ::neuncut::ExceptionType(::neuncut::detail::concat(__VA_ARGS__)); \
  } while (0)
