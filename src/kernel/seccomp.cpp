#include "kernel/seccomp.hpp"

#include "fail.hpp"

#include <ovz/fd.hpp>

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <memory>
#include <mutex>

namespace ovz::detail {
namespace {

constexpr const char* refused[] = {
    "init_module",   "finit_module", "delete_module", "kexec_load", "kexec_file_load",
    "open_by_handle_at", "name_to_handle_at", "add_key", "request_key", "keyctl",
    "swapon",        "swapoff",      "acct",          "iopl",       "ioperm",
    "lookup_dcookie", "quotactl",    "nfsservctl",    "vm86",       "vm86old",
    "perf_event_open", "userfaultfd", "bpf", "syslog",
};

result<std::vector<sock_filter>> compile() {
  std::unique_ptr<void, void (*)(scmp_filter_ctx)> ctx(seccomp_init(SCMP_ACT_ALLOW),
                                                      seccomp_release);
  if (!ctx) return fail(errc::unsupported, "seccomp_init failed");
  for (const char* name : refused) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR) continue;  // not a system call on this architecture
    if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), nr, 0); rc < 0)
      return sys_fail(-rc, "seccomp_rule_add {}", name);
  }
  // libseccomp writes the program to a descriptor; a memfd keeps it in memory.
  unique_fd mem(::memfd_create("ovz-seccomp", MFD_CLOEXEC));
  if (!mem) return sys_fail(errno, "memfd_create for the seccomp program");
  if (int rc = seccomp_export_bpf(ctx.get(), mem.get()); rc < 0)
    return sys_fail(-rc, "seccomp_export_bpf");
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  std::vector<sock_filter> program(static_cast<std::size_t>(size) / sizeof(sock_filter));
  if (::pread(mem.get(), program.data(), program.size() * sizeof(sock_filter), 0) !=
      static_cast<ssize_t>(program.size() * sizeof(sock_filter)))
    return sys_fail(errno, "read the seccomp program back");
  return program;
}

}  // namespace

result<const std::vector<sock_filter>*> default_seccomp_filter() {
  static std::once_flag once;
  static result<std::vector<sock_filter>> program = error();
  std::call_once(once, [] { program = compile(); });
  if (!program) return program.error();
  return &*program;
}

}  // namespace ovz::detail
