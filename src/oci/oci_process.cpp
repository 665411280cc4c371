#include "oci/oci_process.hpp"

#include "kernel/files.hpp"

#include <fmt/format.h>

#include <fcntl.h>
#include <linux/openat2.h>

#include <sys/capability.h>
#include <sys/resource.h>

#include <algorithm>
#include <sstream>

namespace ovz::detail {

std::vector<int> dropped_capabilities(const oci_process& p) {
  static const std::vector<int> defaults = {
      CAP_CHOWN,  CAP_DAC_OVERRIDE, CAP_FOWNER,       CAP_FSETID,           CAP_KILL,
      CAP_SETGID, CAP_SETUID,       CAP_SETPCAP,      CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT,
      CAP_SETFCAP, CAP_AUDIT_WRITE, CAP_MKNOD,        CAP_NET_RAW};
  const std::vector<int>& keep = p.capabilities ? p.capabilities->bounding : defaults;
  std::vector<int> out;
  for (int cap = 0; cap < static_cast<int>(::cap_max_bits()); ++cap)
    if (std::find(keep.begin(), keep.end(), cap) == keep.end()) out.push_back(cap);
  return out;
}

std::string home_in(const std::filesystem::path& rootfs, unsigned uid) {
  unique_fd root(::open(rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!root) return "/";
  auto fd = open_below(root.get(), "etc/passwd", O_RDONLY | O_CLOEXEC, RESOLVE_IN_ROOT);
  if (!fd) return "/";
  auto text = reread_file(fd->get(), "etc/passwd");
  if (!text) return "/";
  std::istringstream lines(*text);
  for (std::string line; std::getline(lines, line);) {
    // name:password:uid:gid:gecos:home:shell
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string x; std::getline(fields, x, ':');) f.push_back(x);
    if (f.size() >= 6 && f[2] == std::to_string(uid)) return f[5].empty() ? "/" : f[5];
  }
  return "/";
}

void set_process(spawn_spec& spec, const oci_process& p, const oci_io& io,
                 const std::filesystem::path& rootfs) {
  spec.argv = p.args;
  spec.env = p.env;
  if (std::none_of(spec.env.begin(), spec.env.end(),
                   [](const std::string& e) { return e.rfind("HOME=", 0) == 0; }))
    spec.env.push_back("HOME=" + home_in(rootfs, p.user.uid));
  spec.cwd = p.cwd;
  // A session of its own: a terminal becomes its controlling one.
  spec.new_session = true;
  if (p.terminal) {
    spec.pty_socket = io.console_socket;
  } else {
    spec.stdin_fd = io.stdin_fd;
    spec.stdout_fd = io.stdout_fd;
    spec.stderr_fd = io.stderr_fd;
  }
  spec.pass_fds = io.pass_fds;
  if (io.listen_fds > 0) {
    std::erase_if(spec.env, [](const std::string& e) {
      return e.starts_with("LISTEN_FDS=") || e.starts_with("LISTEN_PID=");
    });
    spec.env.push_back(fmt::format("LISTEN_FDS={}", io.listen_fds));
    spec.env.push_back("LISTEN_PID=1");
  }
  spec.drop_capabilities = dropped_capabilities(p);
  if (p.capabilities) {
    auto mask = [](const std::vector<int>& caps) {
      std::uint64_t m = 0;
      for (int cap : caps)
        if (cap >= 0 && cap < 64) m |= std::uint64_t{1} << cap;
      return m;
    };
    spec.capabilities = capability_sets{mask(p.capabilities->effective),
                                        mask(p.capabilities->permitted),
                                        mask(p.capabilities->inheritable),
                                        mask(p.capabilities->ambient)};
  }
  spec.no_new_privs = p.no_new_privileges;
  spec.user = process_user{p.user.uid, p.user.gid, p.user.additional_gids};
  for (const auto& r : p.rlimits) {
    if (r.resource == RLIMIT_NOFILE) {
      spec.nofile = resource_limit{r.soft, r.hard};
    } else {
      spec.rlimits.push_back({r.resource, {r.soft, r.hard}});
    }
  }
}

}  // namespace ovz::detail
