// The text files libovz reads and writes for a VE: CTID.conf and seccomp profiles. Their
// syntax is model/'s (pure); the I/O is kernel/files'.
#include <ovz/config.hpp>
#include <ovz/seccomp.hpp>

#include "fail.hpp"
#include "kernel/files.hpp"

#include <fcntl.h>

namespace ovz::inline v0 {

result<ve_config> ve_config::load(const std::filesystem::path& file) {
  auto text = detail::read_file(file.string(), O_NOFOLLOW);
  if (!text) return detail::with_context(text.error(), "Cannot read CTID.conf");
  return parse(*text, file.string());
}

result<void> ve_config::save(const std::filesystem::path& file) const {
  return detail::replace_file(file, serialize());
}

result<seccomp_profile> seccomp_profile::load(const std::filesystem::path& file) {
  auto text = detail::read_file(file.string());
  if (!text) return detail::with_context(text.error(), "seccomp profile");
  return parse(*text, file.string());
}

}  // namespace ovz::inline v0
