// vzctl set --userpasswd: inside by the VE's own tools when it runs and has them, else by the
// host on the VE's account files.
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/password_hash.hpp"
#include "kernel/tree_files.hpp"
#include "model/accounts.hpp"
#include "ve/ve_op.hpp"
#include "ve/ve_tree.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <tuple>

namespace ovz::inline v0 {
namespace {

// useradd -m as vzctl's script runs it (for a user /etc/passwd lacks: `id` would also ask
// NSS, which may know users useradd cannot change), then chpasswd reading "USER:PASSWORD" on
// stdin.
constexpr const char* inside_script =
    "grep -q \"^$1:\" /etc/passwd || useradd -m \"$1\" || exit\n"
    "exec chpasswd\n";

bool has_account_tools(int root) {
  for (const char* dir : {"usr/sbin", "sbin"}) {
    const std::string d(dir);
    if (detail::exists_in_tree(root, d + "/chpasswd") && detail::exists_in_tree(root, d + "/useradd"))
      return true;
  }
  return false;
}

result<void> set_inside(const ve& v, const std::string& user, const std::string& password) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return detail::sys_fail(errno, "pipe2");
  unique_fd in(fds[0]), feed(fds[1]);
  // A pipe holds 64 KiB, far more than a line of chpasswd; the password never leaves it but
  // for chpasswd's stdin.
  const std::string line = user + ":" + password + "\n";
  if (line.size() > 4096)
    return detail::fail(errc::invalid_argument, "userpasswd: the password is longer than 4000 bytes");
  if (::write(feed.get(), line.data(), line.size()) != static_cast<ssize_t>(line.size()))
    return detail::sys_fail(errno, "write the password into a pipe");
  feed.reset();
  BOOST_OUTCOME_TRY(ran, v.exec({"/bin/sh", "-c", inside_script, "sh", user},
                                {.stdin_fd = in.get()}));
  if (ran.exit_code != 0)
    return detail::fail(errc::child_failed, "userpasswd: useradd or chpasswd for {} inside exited {}: {}",
                        user, ran.exit_code, detail::excerpt(ran.err, 200));
  return success();
}

// The lock shadow's tools take (lckpwdf: a write lock on /etc/.pwd.lock), so that a VE
// editing its accounts meanwhile waits for the host, and the host for it.
result<unique_fd> lock_accounts(int root) {
  BOOST_OUTCOME_TRY(etc, detail::open_tree_dir(root, "etc"));
  unique_fd fd(::openat(etc.get(), ".pwd.lock", O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
  if (!fd) return detail::sys_fail(errno, "etc/.pwd.lock: open");
  // Root's inside, as lckpwdf would have made it (a new one would be the host's root's).
  struct stat dir {};
  if (::fstat(etc.get(), &dir) != 0 || ::fchown(fd.get(), dir.st_uid, dir.st_gid) != 0)
    return detail::sys_fail(errno, "etc/.pwd.lock: chown");
  struct flock l {};
  l.l_type = F_WRLCK;
  l.l_whence = SEEK_SET;
  while (::fcntl(fd.get(), F_OFD_SETLKW, &l) != 0) {
    if (errno != EINTR) return detail::sys_fail(errno, "etc/.pwd.lock: lock");
  }
  return fd;
}

result<void> set_on_host(const detail::ve_tree& tree, const std::string& user,
                         const std::string& password) {
  const int root = tree.root.get();
  auto locked = lock_accounts(root);  // held until the files are written
  if (!locked) return locked.error();
  detail::account_files files;
  BOOST_OUTCOME_TRY(passwd, detail::read_in_tree(root, "etc/passwd"));
  BOOST_OUTCOME_TRY(group, detail::read_in_tree(root, "etc/group"));
  if (!passwd || !group)
    return detail::fail(errc::unsupported, "userpasswd: the VE has no /etc/passwd or /etc/group");
  files.passwd = std::move(*passwd);
  files.group = std::move(*group);
  BOOST_OUTCOME_TRY(shadow, detail::read_in_tree(root, "etc/shadow"));
  BOOST_OUTCOME_TRY(gshadow, detail::read_in_tree(root, "etc/gshadow"));
  files.shadow = std::move(shadow);
  files.gshadow = std::move(gshadow);
  BOOST_OUTCOME_TRY(hash, detail::hash_password(password));
  const auto today = std::chrono::duration_cast<std::chrono::days>(
      std::chrono::system_clock::now().time_since_epoch());
  BOOST_OUTCOME_TRY(edit, detail::with_password(files, user, hash, static_cast<long>(today.count())));
  // Group first and passwd before shadow: a reader in between sees a group nobody is in yet,
  // or a user whose shadow line is still coming, never a user without its group.
  const auto& f = edit.files;
  const std::tuple<const char*, const std::optional<std::string>, const std::optional<std::string>>
      order[] = {{"group", f.group, files.group},
                 {"gshadow", f.gshadow, files.gshadow},
                 {"passwd", f.passwd, files.passwd},
                 {"shadow", f.shadow, files.shadow}};
  for (const auto& [name, next, before] : order) {
    if (!next || next == before) continue;
    BOOST_OUTCOME_TRY(detail::replace_in_tree(root, "etc", name, *next));
  }
  if (edit.added && detail::exists_in_tree(root, "home")) {
    BOOST_OUTCOME_TRY(detail::make_dir_in_tree(root, "home", user, 0700,
                                               tree.host_id(edit.added->uid),
                                               tree.host_id(edit.added->gid)));
  }
  return success();
}

}  // namespace

result<void> ve::set_user_password(const std::string& user, const std::string& password) {
  const auto ctx = fmt::format("VE {}", id_.value());
  for (auto ok : {detail::check_user_name(user), detail::check_password(password)})
    if (!ok) return detail::with_context(ok.error(), ctx);
  return detail::ve_op::run(*this, {.lock = true, .config = true, .live = true},
                            [&](detail::ve_op& op) -> result<void> {
    if (op.live.init_pid) {
      // A suspended VE runs no chpasswd, and may hold its accounts' lock, which the host
      // would wait for until the VE is resumed.
      BOOST_OUTCOME_TRY(detail::runnable_init(op.live, id_));
      BOOST_OUTCOME_TRY(tree, detail::running_tree(op.live.init_pid, op.conf));
      if (has_account_tools(tree.root.get())) return set_inside(*this, user, password);
      return set_on_host(tree, user, password);
    }
    BOOST_OUTCOME_TRY(tree, detail::stopped_tree(op.conf, op.layout, op.state_root()));
    return set_on_host(tree, user, password);
  });
}

}  // namespace ovz::inline v0
