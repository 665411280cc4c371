#include <ovz/error.hpp>

#include <utility>

namespace ovz {
namespace {

class ovz_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ovz"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::invalid_argument: return "invalid argument";
      case errc::not_found: return "not found";
      case errc::already_exists: return "already exists";
      case errc::already_running: return "already running";
      case errc::not_running: return "not running";
      case errc::locked: return "locked by another operation";
      case errc::bad_config: return "bad configuration";
      case errc::unsupported: return "not supported on this host";
      case errc::timed_out: return "timed out";
      case errc::child_failed: return "child process failed";
    }
    return "unknown libovz error";
  }
};

}  // namespace

const std::error_category& category() noexcept {
  static const ovz_category instance;
  return instance;
}

std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), category()}; }

error::error(std::error_code code, std::string message)
    : code_(code), message_(std::move(message)) {}

int error::sys_errno() const noexcept {
  return code_.category() == std::system_category() ? code_.value() : 0;
}

}  // namespace ovz
