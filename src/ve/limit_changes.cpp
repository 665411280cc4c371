#include "ve/limit_changes.hpp"

#include "fail.hpp"
#include "kernel/files.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <charconv>

namespace ovz::detail {

result<void> count_limit_change(const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) return sys_fail(ec.value(), "create {}", file.parent_path().string());
  unique_fd fd(::open(file.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd) return sys_fail(errno, "open {}", file.string());
  // Two changes at once count twice: each reads and writes the count under the lock.
  if (::flock(fd.get(), LOCK_EX) != 0) return sys_fail(errno, "lock {}", file.string());
  BOOST_OUTCOME_TRY(text, reread_file(fd.get(), file.string()));
  std::uint64_t count = 0;
  std::from_chars(text.data(), text.data() + text.size(), count);  // empty: none yet
  // The count only grows, so its text never gets shorter: written over in place, the file
  // held open by readers shows it.
  const auto next = std::to_string(count + 1) + "\n";
  const auto n = ::pwrite(fd.get(), next.data(), next.size(), 0);
  if (n != static_cast<ssize_t>(next.size()))
    return sys_fail(n < 0 ? errno : EIO, "write {}", file.string());
  return success();
}

std::uint64_t limit_changes::generation() {
  // No file: no change counted yet under this state root. It is looked for again each time.
  if (!fd_) fd_.reset(::open(file_.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  std::string now;
  if (fd_) {
    auto text = reread_file(fd_.get(), file_.string());
    if (!text) {
      fd_.reset();
      return ++generation_;
    }
    now = std::move(*text);
  }
  if (now != last_) {
    last_ = std::move(now);
    ++generation_;
  }
  return generation_;
}

}  // namespace ovz::detail
