#include "kernel/log_writer.hpp"

#include "kernel/proc_stat.hpp"
#include "log.hpp"
#include "kernel/raw.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace ovz::detail {
namespace {

int open_log(const log_writer_plan& w) noexcept {
  // O_NOFOLLOW: a link planted in log/ must not make the host write elsewhere.
  return raw::openat(w.dir, w.name, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0640);
}

bool write_all(int fd, const char* p, std::size_t n) noexcept {
  while (n > 0) {
    ssize_t k = raw::write(fd, p, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    p += k;
    n -= static_cast<std::size_t>(k);
  }
  return true;
}

}  // namespace

void capped_log::reopen() noexcept {
  out_ = open_log(w_);
  off_t end = out_ >= 0 ? raw::seek_end(out_) : 0;
  size_ = end > 0 ? static_cast<std::uint64_t>(end) : 0;
}

void capped_log::append(const char* data, std::size_t n) noexcept {
  if (out_ < 0) reopen();  // also a log left full by an earlier run is rotated next
  if (out_ >= 0 && size_ + n > w_.max_bytes) {
    // Where the rename cannot be done, the log starts over in place: the cap holds anyway.
    if (raw::renameat(w_.dir, w_.name, w_.dir, w_.rotated) != 0) (void)raw::ftruncate(out_, 0);
    raw::close(out_);
    reopen();
  }
  if (out_ >= 0 && write_all(out_, data, n)) size_ += n;
}

void capped_log::close() noexcept {
  if (out_ >= 0) raw::close(out_);
  out_ = -1;
}

void finish_writer(const process& writer) {
  auto ended = writer.wait_exit(std::chrono::seconds(5));
  if (ended && *ended) return;
  logged(writer.signal(SIGKILL), "kill the monitor that did not end");
  logged(writer.wait_exit(std::chrono::seconds(5)), "wait for the killed monitor");
}

result<std::optional<process>> parent_named(pid_t pid, std::string_view comm) {
  auto child = read_proc_stat(pid);
  if (!child) return std::nullopt;
  auto parent = read_proc_stat(child->ppid);
  if (!parent || parent->comm != comm) return std::nullopt;
  auto writer = process::open(child->ppid);
  if (!writer) {
    if (writer.error().sys_errno() == ESRCH) return std::nullopt;
    return writer.error();
  }
  // The pidfd is the writer's only if it is still the child's parent: a writer that exited
  // before the pidfd was opened would have left the child to another parent, and its PID
  // free for reuse.
  auto again = read_proc_stat(pid);
  if (!again || again->ppid != child->ppid) return std::nullopt;
  return std::optional<process>(std::move(*writer));
}

}  // namespace ovz::detail
