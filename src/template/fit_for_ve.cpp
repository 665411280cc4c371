// What a debootstrapped or imported tree needs before VEs are made from it. Every path is
// resolved inside the tree (kernel/tree_files.hpp), so a symlink in it cannot make the host
// write elsewhere.
#include "template/internal.hpp"

#include "fail.hpp"
#include "kernel/host_tool.hpp"
#include "kernel/tree_files.hpp"
#include "model/debootstrap.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <memory>

namespace ovz::detail {
namespace {

namespace fs = std::filesystem;

// Replaces (or creates) `dir/name` with `content` and exactly `mode`, owned by root.
result<void> put_file(int root, const std::string& dir, const char* name,
                      std::string_view content, mode_t mode) {
  return replace_in_tree(root, dir, name, content, {.mode = mode, .keep_existing = false});
}

// Calls `each(dir_fd, name)` for the files (not directories) of `dir`; a missing `dir` has
// none.
result<void> each_file(int root, const std::string& dir,
                       const std::function<result<void>(int, const char*)>& each) {
  auto opened = open_tree_dir(root, dir);
  if (!opened) {
    if (opened.error().sys_errno() == ENOENT) return success();
    return opened.error();
  }
  DIR* d = ::fdopendir(opened.value().get());
  if (!d) return sys_fail(errno, "{}: fdopendir", dir);
  opened.value().release();
  std::unique_ptr<DIR, int (*)(DIR*)> owner(d, ::closedir);
  while (dirent* e = ::readdir(d)) {
    if (e->d_type == DT_DIR) continue;
    BOOST_OUTCOME_TRY(each(::dirfd(d), e->d_name));
  }
  return success();
}

// Removes the files (not directories) of `dir` that `which` selects.
result<void> remove_files(int root, const std::string& dir,
                          const std::function<bool(std::string_view)>& which) {
  return each_file(root, dir, [&](int d, const char* name) -> result<void> {
    if (!which(name)) return success();
    if (::unlinkat(d, name, 0) != 0 && errno != ENOENT)
      return sys_fail(errno, "{}/{}: unlink", dir, name);
    return success();
  });
}

result<void> comment_out_gettys(int root) {
  if (!exists_in_tree(root, "etc/inittab")) return success();  // not sysvinit
  BOOST_OUTCOME_TRY(text, read_in_tree(root, "etc/inittab"));
  if (!text) return success();  // a symlink: not sysvinit's own
  return put_file(root, "etc", "inittab", inittab_without_gettys(*text), 0644);
}

constexpr std::string_view ssh_keys_script =
    "#!/bin/sh\n"
    "### BEGIN INIT INFO\n"
    "# Provides:          ovz-ssh-host-keys\n"
    "# Required-Start:    $local_fs\n"
    "# Required-Stop:\n"
    "# X-Start-Before:    ssh\n"
    "# Default-Start:     2 3 4 5\n"
    "# Default-Stop:\n"
    "# Short-Description: Makes this VE's SSH host keys\n"
    "### END INIT INFO\n"
    "# From libovz's template create: the template has no SSH host keys, so that its VEs do\n"
    "# not share them; each VE makes its own before sshd first starts.\n"
    "[ \"$1\" = start ] || exit 0\n"
    "exec /usr/bin/ssh-keygen -A\n";

constexpr std::string_view ssh_keys_unit =
    "# From libovz's template create: the template has no SSH host keys, so that its VEs do\n"
    "# not share them; each VE makes its own before sshd first starts.\n"
    "[Unit]\n"
    "Description=SSH host keys of this VE\n"
    "Before=ssh.service\n"
    "\n"
    "[Service]\n"
    "Type=oneshot\n"
    "ExecStart=/usr/bin/ssh-keygen -A\n"
    "\n"
    "[Install]\n"
    "WantedBy=ssh.service\n";

// What update-rc.d would do for the script, by hand: an imported tree's own binaries are
// not the host's to run as root. Its links start it before ssh (S01, and "ovz" sorts before
// "ssh"), and startpar's order, where insserv keeps one, says so too. A tree that has a link
// already (a template create made, packed and imported again) keeps its own.
result<void> order_before_ssh(int root) {
  for (char level : {'2', '3', '4', '5'}) {
    const std::string dir = fmt::format("etc/rc{}.d", level);
    bool linked = false;
    BOOST_OUTCOME_TRY(each_file(root, dir, [&](int, const char* entry) -> result<void> {
      const std::string_view name = entry;
      linked = linked || (name.starts_with("S") && name.ends_with("ovz-ssh-host-keys"));
      return success();
    }));
    if (linked) continue;
    auto rc = open_tree_dir(root, dir);
    if (!rc) {
      if (rc.error().sys_errno() == ENOENT) continue;
      return rc.error();
    }
    if (::symlinkat("../init.d/ovz-ssh-host-keys", rc->get(), "S01ovz-ssh-host-keys") != 0 &&
        errno != EEXIST)
      return sys_fail(errno, "{}/S01ovz-ssh-host-keys: symlink", dir);
  }
  BOOST_OUTCOME_TRY(depend, read_in_tree(root, "etc/init.d/.depend.start"));
  if (!depend) return success();
  return replace_in_tree(root, "etc/init.d", ".depend.start",
                         depend_start_before(*depend, "ovz-ssh-host-keys", "ssh"));
}

// openssh-server's postinst made host keys: every VE of the template would share them, so
// anyone with one VE could pose as all the others. They are removed, and made per VE at boot.
result<void> own_ssh_host_keys(const fs::path& root_path, int root, tree_origin origin) {
  if (!exists_in_tree(root, "usr/sbin/sshd")) return success();
  BOOST_OUTCOME_TRY(remove_files(root, "etc/ssh", [](std::string_view name) {
    return name.starts_with("ssh_host_") &&
           (name.ends_with("_key") || name.ends_with("_key.pub"));
  }));
  if (exists_in_tree(root, "etc/inittab") && exists_in_tree(root, "etc/init.d")) {
    BOOST_OUTCOME_TRY(put_file(root, "etc/init.d", "ovz-ssh-host-keys", ssh_keys_script, 0755));
    if (origin == tree_origin::debootstrap) {
      // update-rc.d (insserv) orders it by its LSB header, as the package tools would. It
      // runs the tree's own binaries as root, as debootstrap has just done with all of them.
      BOOST_OUTCOME_TRY(run_tool({"chroot", root_path.string(), "/usr/sbin/update-rc.d",
                                  "ovz-ssh-host-keys", "defaults"},
                                 capture::out_and_err));
    } else {
      BOOST_OUTCOME_TRY(order_before_ssh(root));
    }
  }
  if (exists_in_tree(root, "usr/lib/systemd/systemd")) {
    for (const char* dir : {"systemd", "systemd/system", "systemd/system/ssh.service.wants"}) {
      const std::string path = fmt::format("etc/{}", dir);
      const auto slash = path.rfind('/');
      BOOST_OUTCOME_TRY(make_dir_in_tree(root, path.substr(0, slash), path.substr(slash + 1),
                                         0755, 0, 0));
    }
    BOOST_OUTCOME_TRY(put_file(root, "etc/systemd/system", "ovz-ssh-host-keys.service",
                               ssh_keys_unit, 0644));
    BOOST_OUTCOME_TRY(wants, open_tree_dir(root, "etc/systemd/system/ssh.service.wants"));
    if (::symlinkat("/etc/systemd/system/ovz-ssh-host-keys.service", wants.get(),
                    "ovz-ssh-host-keys.service") != 0 &&
        errno != EEXIST) {
      return sys_fail(errno, "etc/systemd/system/ssh.service.wants: symlink");
    }
  }
  return success();
}

}  // namespace

// A VE's NUMPROC limits its processes and threads as a whole, as OpenVZ's did. systemd
// would give every service 15 % of it (DefaultTasksMax, computed from the VE's pids.max where
// it can see the pids controller: cgroup v2), too few for apache's 50 threads at NUMPROC 240.
result<void> tasks_limited_by_the_ve(int root) {
  if (!exists_in_tree(root, "usr/lib/systemd/systemd")) return success();
  BOOST_OUTCOME_TRY(make_dir_in_tree(root, "etc", "systemd", 0755, 0, 0));
  BOOST_OUTCOME_TRY(make_dir_in_tree(root, "etc/systemd", "system.conf.d", 0755, 0, 0));
  return put_file(root, "etc/systemd/system.conf.d", "ovz.conf",
                  "# Made by libovz: the VE's NUMPROC limits its tasks, not 15 % of it each.\n"
                  "[Manager]\nDefaultTasksMax=infinity\n",
                  0644);
}

result<void> fit_for_ve(const fs::path& root_path, tree_origin origin) {
  unique_fd root(::open(root_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return sys_fail(errno, "{}: open", root_path.string());
  const int r = root.get();
  // sysvinit would respawn a getty on each of tty1-6, which a VE has not. systemd needs
  // nothing: getty@.service has ConditionPathExists=/dev/tty0 (a VE has none), and in a
  // container its getty generator adds only console-getty, for the VE's /dev/console.
  BOOST_OUTCOME_TRY(comment_out_gettys(r));
  // systemd-machine-id-setup ran in the chroot: one ID for every VE. An empty file makes
  // systemd give each VE its own at boot, and write it into the VE's private area ("not a
  // first boot", so presets are not applied again). A tree without systemd has none to keep.
  if (exists_in_tree(r, "etc/machine-id")) {
    BOOST_OUTCOME_TRY(put_file(r, "etc", "machine-id", "", 0444));
  }
  // D-Bus reads its copy when /etc/machine-id is empty: it would bring the shared ID back.
  BOOST_OUTCOME_TRY(remove_files(r, "var/lib/dbus", [](std::string_view n) {
    return n == "machine-id";
  }));
  BOOST_OUTCOME_TRY(own_ssh_host_keys(root_path, r, origin));
  BOOST_OUTCOME_TRY(tasks_limited_by_the_ve(r));
  // An imported tree's name, resolver and package caches are what its maker chose; start
  // writes HOSTNAME and, where set, the name servers into every VE anyway.
  if (origin == tree_origin::imported) return success();
  // debootstrap copied both from the build host, whose name and resolver mean nothing in a
  // VE (a resolver on 127.0.0.53 answers nowhere there).
  BOOST_OUTCOME_TRY(put_file(r, "etc", "hostname", "localhost\n", 0644));
  BOOST_OUTCOME_TRY(put_file(r, "etc", "resolv.conf", "", 0644));
  // apt-get clean, and the package lists (about 50 MB a template, stale within days): a VE
  // runs apt-get update before it installs anything, as in Debian's container images.
  BOOST_OUTCOME_TRY(remove_files(r, "var/cache/apt/archives", [](std::string_view n) {
    return n.ends_with(".deb");
  }));
  BOOST_OUTCOME_TRY(remove_files(r, "var/cache/apt", [](std::string_view n) {
    return n.ends_with(".bin");
  }));
  BOOST_OUTCOME_TRY(remove_files(r, "var/lib/apt/lists", [](std::string_view n) {
    return n != "lock";
  }));
  return success();
}

}  // namespace ovz::detail
