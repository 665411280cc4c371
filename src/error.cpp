#include <ovz/error.hpp>

#include <utility>

namespace ovz::inline v0 {
namespace {

class ovz_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "ovz"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
#define OVZ_ERRC(name, value, c_code, message, py_class, py_doc) \
  case errc::name: return message;
#include <ovz/errc.def>
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

}  // namespace ovz::inline v0
