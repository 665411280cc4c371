#pragma once
// What the fuzz targets share: a property check that stops the run with a message, which
// libFuzzer then reports as a crash and saves the input of.

#include <ovz/error.hpp>

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace ovz_fuzz {

[[noreturn]] inline void violated(const char* property, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: property violated: %s\n", file, line, property);
  std::abort();
}

inline std::string_view as_text(const unsigned char* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ovz_fuzz

#define FUZZ_REQUIRE(cond) \
  ((cond) ? void(0) : ::ovz_fuzz::violated(#cond, __FILE__, __LINE__))

// A refusal the user can act on: the documented code and a message.
#define FUZZ_REFUSED(err, code) FUZZ_REQUIRE((err).is(code) && !(err).message().empty())
