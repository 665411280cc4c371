#include "kernel/password_hash.hpp"

#include "fail.hpp"

#include <crypt.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace ovz::detail {

result<std::string> hash_password(std::string_view password) {
  char setting[CRYPT_GENSALT_OUTPUT_SIZE];
  // No random bytes given: libcrypt takes them from getrandom(2) itself.
  if (!::crypt_gensalt_rn("$y$", 0, nullptr, 0, setting, sizeof setting))
    return sys_fail(errno ? errno : EINVAL, "crypt_gensalt yescrypt");
  auto data = std::make_unique<crypt_data>();
  const std::string phrase(password);
  const char* hash = ::crypt_rn(phrase.c_str(), setting, data.get(), sizeof *data);
  // A failed crypt_rn gives NULL, or a string starting with '*' on older libcrypts.
  std::string out = hash && hash[0] != '*' ? std::string(hash) : std::string();
  ::explicit_bzero(data.get(), sizeof *data);
  if (out.empty()) return sys_fail(errno ? errno : EINVAL, "crypt yescrypt");
  return out;
}

}  // namespace ovz::detail
