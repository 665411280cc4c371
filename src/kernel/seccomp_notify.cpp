#include "kernel/seccomp_notify.hpp"

#include "fail.hpp"

#include <seccomp.h>
#include <sys/uio.h>
#include <unistd.h>

#include <memory>

namespace ovz::detail {
namespace {

struct notice_buffers {
  seccomp_notif* req = nullptr;
  seccomp_notif_resp* resp = nullptr;
  notice_buffers() { seccomp_notify_alloc(&req, &resp); }
  ~notice_buffers() { seccomp_notify_free(req, resp); }
  notice_buffers(const notice_buffers&) = delete;
  notice_buffers& operator=(const notice_buffers&) = delete;
};

notice_buffers& buffers() {
  // Sized by the kernel (SECCOMP_GET_NOTIF_SIZES), once: the supervisor is single-threaded.
  static notice_buffers b;
  return b;
}

void respond(int listener, std::uint64_t id, int error, std::uint32_t flags) {
  auto& b = buffers();
  *b.resp = {};
  b.resp->id = id;
  b.resp->error = error ? -error : 0;
  b.resp->flags = flags;
  // ENOENT: the caller is gone; nothing to answer then.
  (void)seccomp_notify_respond(listener, b.resp);
}

}  // namespace

result<std::optional<syscall_notice>> receive_notice(int listener) {
  auto& b = buffers();
  if (!b.req || !b.resp) return fail(errc::unsupported, "seccomp_notify_alloc failed");
  // The kernel refuses a buffer that is not zeroed (room for future fields).
  *b.req = {};
  errno = 0;
  if (int rc = seccomp_notify_receive(listener, b.req); rc < 0) {
    // libseccomp says ECANCELED for any failure; the ioctl's errno tells which. ENOENT: the
    // caller went away (killed) before we took its call.
    const int err = rc == -ECANCELED && errno ? errno : -rc;
    if (err == ENOENT || err == EINTR) return std::optional<syscall_notice>{};
    return sys_fail(err, "seccomp_notify_receive");
  }
  syscall_notice n;
  n.id = b.req->id;
  n.pid = static_cast<pid_t>(b.req->pid);
  std::unique_ptr<char, void (*)(void*)> name(
      seccomp_syscall_resolve_num_arch(b.req->data.arch, b.req->data.nr), std::free);
  if (name) n.name = name.get();
  for (std::size_t i = 0; i < n.args.size(); ++i) n.args[i] = b.req->data.args[i];
  return std::optional<syscall_notice>(std::move(n));
}

bool notice_valid(int listener, std::uint64_t id) {
  return seccomp_notify_id_valid(listener, id) == 0;
}

void answer(int listener, std::uint64_t id, int error) { respond(listener, id, error, 0); }

void let_kernel_run(int listener, std::uint64_t id) {
  respond(listener, id, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
}

result<std::string> read_caller_bytes(pid_t pid, std::uint64_t address, std::size_t size) {
  std::string out(size, '\0');
  struct iovec local = {out.data(), size};
  struct iovec remote = {reinterpret_cast<void*>(address), size};
  if (size && ::process_vm_readv(pid, &local, 1, &remote, 1, 0) != static_cast<ssize_t>(size))
    return sys_fail(EFAULT, "read {} bytes of PID {} at {:#x}", size, pid, address);
  return out;
}

result<void> write_caller_bytes(int mem, std::uint64_t address, const void* bytes,
                                std::size_t size) {
  if (::pwrite(mem, bytes, size, static_cast<off_t>(address)) != static_cast<ssize_t>(size))
    return sys_fail(EFAULT, "write {} bytes at {:#x}", size, address);
  return success();
}

result<std::string> read_caller_string(pid_t pid, std::uint64_t address, std::size_t max) {
  std::string out;
  // Page by page: a string near the end of a mapping must not fail for the bytes after it.
  constexpr std::size_t page = 4096;
  while (out.size() < max) {
    const std::uint64_t at = address + out.size();
    const std::size_t chunk = std::min<std::size_t>(page - at % page, max - out.size());
    std::string part(chunk, '\0');
    struct iovec local = {part.data(), chunk};
    struct iovec remote = {reinterpret_cast<void*>(at), chunk};
    const ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) return sys_fail(EFAULT, "read a string of PID {} at {:#x}", pid, address);
    part.resize(static_cast<std::size_t>(n));
    if (auto nul = part.find('\0'); nul != std::string::npos) return out + part.substr(0, nul);
    out += part;
  }
  return sys_fail(ENAMETOOLONG, "a string of PID {} at {:#x}", pid, address);
}

}  // namespace ovz::detail
