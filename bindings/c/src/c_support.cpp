#include "c_support.hpp"

#include <algorithm>
#include <cstring>

namespace ovz_c {
namespace {

// The message lives in `text` so that ovz_error.message stays valid until the next call on
// the thread, as ovz.h promises.
struct last_error_slot {
  std::string text;
  ovz_error view{0, 0, ""};
};
thread_local last_error_slot last_error;

// The C code of a libovz condition.
int c_code(ovz::errc e) {
  switch (e) {
#define OVZ_ERRC(name, value, c_code, message, py_class, py_doc) \
  case ovz::errc::name: return c_code;
#include <ovz/errc.def>
  }
  return OVZ_EINTERNAL;
}

}  // namespace

std::pair<int, int> c_code(const ovz::error& e) {
  const auto& code = e.code();
  if (code.category() == ovz::category())
    return {c_code(static_cast<ovz::errc>(code.value())), 0};
  if (code.category() == std::system_category() || code.category() == std::generic_category())
    return {OVZ_ESYSTEM, code.value()};
  return {OVZ_EINTERNAL, 0};
}

const ovz_error* last_error_view() noexcept { return &last_error.view; }

void clear_error() noexcept { last_error.view = {0, 0, ""}; }

int set_error_static(int code, const char* message) noexcept {
  last_error.view = {code, 0, message};
  return code;
}

int set_error(int code, int sys_errno, std::string message) noexcept {
  last_error.text = std::move(message);
  last_error.view = {code, sys_errno, last_error.text.c_str()};
  return code;
}

int invalid(std::string message) { return set_error(OVZ_EINVAL, 0, std::move(message)); }

int fail(const ovz::error& e) {
  auto [c, sys_errno] = c_code(e);
  return set_error(c, sys_errno, e.message().empty() ? e.code().message() : e.message());
}

c_string dup_string(const std::string& s) {
  c_string copy(static_cast<char*>(std::malloc(s.size() + 1)));
  if (!copy) throw std::bad_alloc();
  std::memcpy(copy.get(), s.c_str(), s.size() + 1);
  return copy;
}

void copy_name(char (&dst)[OVZ_NAME_MAX], const std::string& src) {
  const size_t n = std::min(src.size(), sizeof dst - 1);
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

}  // namespace ovz_c
