#include "ve/syscall_broker.hpp"

#include <ovz/namespaces.hpp>

#include "fail.hpp"
#include "log.hpp"
#include "kernel/files.hpp"
#include "kernel/mount_in_ns.hpp"
#include "kernel/proc_creds.hpp"
#include "kernel/seccomp_notify.hpp"
#include "kernel/sys.hpp"
#include "ve/terminal.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <string>

namespace ovz::detail {
namespace {

constexpr std::size_t name_max = 64;     // the kernel's __NEW_UTS_LEN
constexpr std::size_t fstype_max = 256;  // more than any filesystem's name
constexpr std::size_t data_max = 4096;   // mount(2) copies one page of options

// umount2's flags (sys/mount.h's, which this file cannot take beside linux/mount.h's names).
constexpr std::uint64_t mnt_force = 1, mnt_detach = 2, umount_nofollow = 8;

bool same_ns(pid_t a, pid_t b, ns_type type) {
  auto inode = [&](pid_t pid) -> result<std::uint64_t> {
    BOOST_OUTCOME_TRY(ns, ns_handle::open(pid, type));
    return ns.inode();
  };
  auto first = inode(a), second = inode(b);
  return first && second && *first == *second;
}

unique_fd root_of(pid_t pid) {
  auto root = open_root_of(pid);
  return root ? std::move(*root) : unique_fd();
}

// The errno a caller gets for one of our errors: the kernel's where it refused, else EPERM.
int errno_of(const error& e) { return e.sys_errno() ? e.sys_errno() : EPERM; }

// An optional string argument: none at address 0.
result<std::string> string_arg(const syscall_notice& n, int index, std::size_t max) {
  if (n.args[index] == 0) return std::string();
  return read_caller_string(n.pid, n.args[index], max);
}

bool is_name_call(const std::string& name) {
  return name == "sethostname" || name == "setdomainname";
}

}  // namespace

void syscall_broker::add_source(unique_fd sock) {
  if (sock) sources_.push_back(std::move(sock));
}

void syscall_broker::accept_from(int listening) {
  add_source(unique_fd(::accept4(listening, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK)));
}

void syscall_broker::watch(std::vector<pollfd>& fds) const {
  for (const auto& s : sources_) fds.push_back({s.get(), POLLIN, 0});
  for (const auto& l : listeners_) fds.push_back({l.get(), POLLIN, 0});
}

bool syscall_broker::handle(const pollfd& ready) {
  auto is = [&](const unique_fd& f) { return f.get() == ready.fd; };
  if (std::any_of(sources_.begin(), sources_.end(), is)) {
    take_listener(ready.fd);
    return true;
  }
  if (std::any_of(listeners_.begin(), listeners_.end(), is)) {
    // Without POLLIN: every process of that filter is gone.
    if (!(ready.revents & POLLIN) || !answer_one(ready.fd)) std::erase_if(listeners_, is);
    return true;
  }
  return false;
}

void syscall_broker::take_listener(int source) {
  auto got = receive_fd(source);
  if (got && *got) {
    listeners_.push_back(std::move(**got));
    return;
  }
  if (got && !*got) {
    std::erase_if(sources_, [&](const unique_fd& f) { return f.get() == source; });
    return;
  }
  // Not yet there (a non-blocking connection whose sender has not written): poll again.
  if (got.error().sys_errno() == EAGAIN) return;
  std::erase_if(sources_, [&](const unique_fd& f) { return f.get() == source; });
}

bool syscall_broker::answer_one(int listener) {
  auto got = receive_notice(listener);
  if (!got) {
    // Given up rather than polled again and again: its calls fail with ENOSYS from now on.
    log(log_level::warning, fmt::format("{}: the VE's mount and hostname calls will fail",
                                        got.error().message()));
    return false;
  }
  if (!*got) return true;
  const syscall_notice& n = **got;
  unique_fd pidfd(pidfd_open(n.pid));
  if (n.name == "quotactl") {
    answer(listener, n.id, do_quotactl(listener, n, pidfd.get()));
    return true;
  }
  const bool name_call = is_name_call(n.name);
  // Ours to do only for the VE's own namespaces; a process in a user namespace it made gets
  // what the kernel gives it there.
  const bool ours = pidfd && same_ns(n.pid, init_, ns_type::user) &&
                    same_ns(n.pid, init_, name_call ? ns_type::uts : ns_type::mnt);
  const auto creds = ours ? read_proc_creds(n.pid) : std::nullopt;
  mount_site site;
  unique_fd root, cwd, source;
  if (ours && !name_call) {
    root = root_of(n.pid);
    cwd.reset(::open(fmt::format("/proc/{}/cwd", n.pid).c_str(),
                     O_PATH | O_DIRECTORY | O_CLOEXEC));
    source = root_of(init_);
    site = {pidfd.get(), root.get(), cwd.get(), source.get()};
  }
  // From here on, what we opened by its PID is the caller's.
  if (!notice_valid(listener, n.id)) return true;
  if (!ours) {
    let_kernel_run(listener, n.id);
    return true;
  }
  int err = EPERM;
  if (!creds || creds->euid != 0)
    err = EPERM;
  else if (name_call)
    err = do_set_name(n, pidfd.get());
  else if (!root || !cwd || !source)
    err = ESRCH;
  else if (n.name == "mount")
    err = do_mount(n, site);
  else if (n.name == "umount2")
    err = do_umount(n, site);
  answer(listener, n.id, err);
  return true;
}

// The VE's own processes only: one in namespaces it made is not on the VE's disk.
int syscall_broker::do_quotactl(int listener, const syscall_notice& n, int pidfd) {
  if (!pidfd || !same_ns(n.pid, init_, ns_type::mnt)) return EPERM;
  quotactl_caller caller;
  caller.pid = n.pid;
  auto creds = read_proc_creds(n.pid);
  unique_fd root = root_of(n.pid);
  unique_fd cwd(::open(fmt::format("/proc/{}/cwd", n.pid).c_str(),
                       O_PATH | O_DIRECTORY | O_CLOEXEC));
  unique_fd mem(::open(fmt::format("/proc/{}/mem", n.pid).c_str(), O_RDWR | O_CLOEXEC));
  if (!notice_valid(listener, n.id)) return ESRCH;
  if (!creds || !root || !cwd || !mem) return ESRCH;
  caller.creds = *creds;
  caller.root = root.get();
  caller.cwd = cwd.get();
  caller.mem = mem.get();
  return quota_.answer(n, caller);
}

int syscall_broker::do_set_name(const syscall_notice& n, int pidfd) {
  const std::size_t len = n.args[1];
  if (len > name_max) return EINVAL;
  auto name = read_caller_bytes(n.pid, n.args[0], len);
  if (!name) return EFAULT;
  // Our own UTS namespace does not matter to us: we join the VE's for the call.
  if (::setns(pidfd, CLONE_NEWUTS) != 0) return errno;
  const int rc = n.name == "sethostname" ? ::sethostname(name->data(), len)
                                         : ::setdomainname(name->data(), len);
  return rc == 0 ? 0 : errno;
}

// The VE's /run, /run/lock and /dev/shm, tmpfs made for it at its start (and only then: the
// first call comes once init runs), count as its own: a distribution's boot scripts remount
// them (Debian's mountkernfs.sh).
void syscall_broker::adopt_start_mounts() {
  if (adopted_) return;
  adopted_ = true;
  unique_fd root = root_of(init_);
  if (!root) return;
  for (const char* path : {"run", "run/lock", "dev/shm"})
    if (auto id = tmpfs_mount_at(root.get(), path)) own_[*id] = own_mount_kind::tmpfs;
}

int syscall_broker::do_mount(const syscall_notice& n, const mount_site& site) {
  adopt_start_mounts();
  mount_call call;
  auto source = string_arg(n, 0, PATH_MAX);
  auto target = string_arg(n, 1, PATH_MAX);
  auto fstype = string_arg(n, 2, fstype_max);
  auto data = string_arg(n, 4, data_max);
  if (!source || !target || !fstype) return EFAULT;
  if (target->empty()) return ENOENT;
  call.source = std::move(*source);
  call.target = std::move(*target);
  call.fstype = std::move(*fstype);
  call.flags = n.args[3];
  // Options that are not text (no NUL within a page) are none a policy allows.
  call.data = data ? std::move(*data) : std::string("\x01");
  const mount_plan plan = plan_mount(call);
  result<std::uint64_t> made = std::uint64_t{0};
  own_mount_kind kind = own_mount_kind::tmpfs;
  switch (plan.action) {
    case mount_action::refuse:
      return plan.error;
    case mount_action::new_fs:
      kind = plan.fstype == "mqueue" ? own_mount_kind::mqueue : own_mount_kind::tmpfs;
      made = mount_new_fs(site, call.target, plan.fstype, plan.options, plan.attr_set,
                          plan.fstype == "mqueue" ? CLONE_NEWIPC : 0);
      break;
    case mount_action::clone_proc:
      kind = own_mount_kind::proc;
      made = mount_copy(site, call.target, "proc", plan.attr_set);
      break;
    case mount_action::clone_sysfs:
      kind = own_mount_kind::sysfs;
      made = mount_copy(site, call.target, "sys", plan.attr_set);
      break;
    case mount_action::remount: {
      auto done = remount_own(site, call.target, plan.options, plan.attr_set, plan.attr_clr,
                              [this](std::uint64_t id) {
                                auto it = own_.find(id);
                                return it != own_.end() && remountable(it->second);
                              });
      return done ? 0 : errno_of(done.error());
    }
  }
  if (!made) return errno_of(made.error());
  own_[*made] = kind;
  return 0;
}

int syscall_broker::do_umount(const syscall_notice& n, const mount_site& site) {
  adopt_start_mounts();
  auto target = string_arg(n, 0, PATH_MAX);
  if (!target) return EFAULT;
  if (target->empty()) return ENOENT;
  const std::uint64_t flags = n.args[1];
  if (flags & ~(mnt_force | mnt_detach | umount_nofollow)) return EINVAL;
  auto gone = unmount_own(site, *target, !(flags & umount_nofollow),
                          [this](std::uint64_t id) { return own_.contains(id); });
  if (!gone) return errno_of(gone.error());
  own_.erase(*gone);
  forget_gone_mounts();
  return 0;
}

// Mounts that went with one unmounted above them: where the kernel reuses mount IDs, one
// kept would let the VE unmount whatever mount takes its ID next.
void syscall_broker::forget_gone_mounts() {
  if (mount_ids_unique()) return;
  auto seen = mount_ids_seen_by(init_);
  if (!seen) return;
  std::erase_if(own_, [&](const auto& entry) {
    return std::find(seen->begin(), seen->end(), entry.first) == seen->end();
  });
}

}  // namespace ovz::detail
