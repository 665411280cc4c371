#pragma once
// What every C entry point shares: the thread's last error, the guard that keeps exceptions
// out of C, and the conversions of paths and strings across the boundary.

#include <ovz.h>

#include <ovz/error.hpp>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <new>
#include <string>
#include <utility>

namespace ovz_c {

/// The thread's last error, as ovz_error_last() gives it.
const ovz_error* last_error_view() noexcept;
void clear_error() noexcept;
/// For failures where building a message could itself fail (out of memory): a literal needs
/// no allocation.
int set_error_static(int code, const char* message) noexcept;
int set_error(int code, int sys_errno, std::string message) noexcept;
int invalid(std::string message);
/// The OVZ_E* code of `e`, and its errno where the kernel refused.
std::pair<int, int> c_code(const ovz::error& e);
/// That code as the last error, with e's message.
int fail(const ovz::error& e);

/// Runs an entry point's body with a fresh last error, and turns whatever it throws into a code.
template <class Body>
int guarded(Body&& body) noexcept {
  try {
    clear_error();
    return body();
  } catch (const std::bad_alloc&) {
    return set_error_static(OVZ_ENOMEM, "out of memory");
  } catch (const std::exception& e) {
    try {
      return set_error(OVZ_EINTERNAL, 0, std::string("internal error: ") + e.what());
    } catch (...) {
      return set_error_static(OVZ_EINTERNAL, "internal error");
    }
  } catch (...) {
    return set_error_static(OVZ_EINTERNAL, "internal error: unknown exception");
  }
}

/// NULL and "" alike are the empty path, which the library reads as its default (the state
/// root, a VE's dump directory).
inline std::filesystem::path root_path(const char* root) { return root ? root : ""; }

/// malloc'd, because C callers free what ovz_string_free gets with free().
struct free_deleter {
  void operator()(void* p) const noexcept { std::free(p); }
};
using c_string = std::unique_ptr<char, free_deleter>;
c_string dup_string(const std::string& s);
/// Into one of ovz.h's fixed-size text fields: cut to fit, always NUL-terminated.
void copy_name(char (&dst)[OVZ_NAME_MAX], const std::string& src);

}  // namespace ovz_c
