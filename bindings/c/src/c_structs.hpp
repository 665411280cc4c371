#pragma once
// Every file that takes an options struct or fills a caller's struct reads its size the same
// way, so that a program built against an older or a newer ovz.h meets one rule everywhere.

#include <ovz.h>

#include "c_support.hpp"

#include <ovz/version.hpp>

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>

namespace ovz_c {

// Options structs: `size` says how much of the struct the caller knows. Too small to hold even
// `size` means it was never initialised with its *_INIT macro; bytes past what this library
// knows must be zero, so that a newer caller's request is refused rather than half-done.
template <class S>
int check_options(const S* opts, const char* type) {
  if (opts->size < sizeof(opts->size))
    return invalid(std::string(type) + ": size " + std::to_string(opts->size) +
                   " is too small (initialise it with its _INIT macro)");
  const auto* bytes = reinterpret_cast<const unsigned char*>(opts);
  for (size_t i = sizeof(S); i < opts->size; ++i)
    if (bytes[i] != 0)
      return set_error(OVZ_EUNSUPPORTED, 0,
                       std::string(type) + ": sets fields this libovz " OVZ_VERSION_STRING
                                           " does not know (size " +
                           std::to_string(opts->size) + ")");
  return 0;
}

// True when the caller's struct is long enough to hold `field` entirely.
template <class S, class M>
bool covers(const S& opts, M S::*field) {
  const auto offset = reinterpret_cast<const char*>(&(opts.*field)) -
                      reinterpret_cast<const char*>(&opts);
  return opts.size >= static_cast<size_t>(offset) + sizeof(M);
}

// The structs as libovz 0.1 had them: what the calls without a size fill, forever. Fields
// are only ever added at the end, so 0.1's size is the end of its last field.
constexpr size_t status_size_0_1 = offsetof(ovz_ve_status_t, ostemplate) + OVZ_NAME_MAX;
constexpr size_t ubc_stat_size_0_1 = offsetof(ovz_ubc_stat, enforced) + sizeof(int);
static_assert(status_size_0_1 <= sizeof(ovz_ve_status_t) &&
              ubc_stat_size_0_1 <= sizeof(ovz_ubc_stat));

// Copies the fields of `src` that the caller's `size` bytes of `dst` hold; 0 or the error set.
template <class S>
int fill_sized(void* dst, const S& src, size_t size, const char* fn) {
  if (size == 0) return invalid(std::string(fn) + ": size is 0 (pass sizeof of the struct)");
  std::memcpy(dst, &src, std::min(size, sizeof(S)));
  return 0;
}

}  // namespace ovz_c
