#include "oci/oci_plan.hpp"

#include "fail.hpp"
#include "kernel/idmap.hpp"
#include "kernel/ns_sysctl.hpp"
#include "oci/bundle_storage.hpp"
#include "oci/oci_process.hpp"
#include "oci/oci_seccomp.hpp"
#include "ve/cgroup_view.hpp"
#include "ve/devices.hpp"
#include "ve/limits.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <array>
#include <string_view>

namespace ovz::detail {
namespace {

struct mount_flag {
  std::string_view name;
  bool clear;
  unsigned long flag;
};

// mount(8)'s names of the flags; the rest of a mount's options is its data.
constexpr std::array<mount_flag, 22> mount_flags{{
    {"ro", false, MS_RDONLY},          {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},      {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},        {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},      {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},   {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},     {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME}, {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME}, {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME}, {"defaults", false, 0},
}};

// Propagation is the root's (private throughout); these options say nothing else.
constexpr std::array<std::string_view, 8> propagation{
    "private", "rprivate", "shared", "rshared", "slave", "rslave", "unbindable", "runbindable"};

struct parsed_options {
  unsigned long flags = 0;
  bool bind = false;
  bool recursive = false;  // rbind
  bool idmap = false;      // idmap or ridmap
  bool idmap_recursive = false;  // ridmap
  std::string data;
};

parsed_options parse_options(const oci_mount& m) {
  parsed_options o;
  o.bind = m.type == "bind";
  for (const auto& opt : m.options) {
    if (opt == "bind" || opt == "rbind") {
      o.bind = true;
      o.recursive = o.recursive || opt == "rbind";
      continue;
    }
    if (opt == "idmap" || opt == "ridmap") {
      o.idmap = true;
      o.idmap_recursive = o.idmap_recursive || opt == "ridmap";
      continue;
    }
    if (std::find(propagation.begin(), propagation.end(), opt) != propagation.end()) continue;
    auto f = std::find_if(mount_flags.begin(), mount_flags.end(),
                          [&](const mount_flag& m) { return m.name == opt; });
    if (f == mount_flags.end()) {
      o.data += (o.data.empty() ? "" : ",") + opt;
    } else if (f->clear) {
      o.flags &= ~f->flag;
    } else {
      o.flags |= f->flag;
    }
  }
  return o;
}

// A path inside the container as the host sees it before pivot_root; ".." never climbs out
// of the root in the text (symbolic links are the child's to meet).
result<std::string> inside(const std::filesystem::path& root, const std::string& path,
                           std::string_view field) {
  if (path.empty() || path[0] != '/')
    return fail(errc::bad_config, "{}: \"{}\" is not an absolute path", field, path);
  std::filesystem::path rel = std::filesystem::path(path).lexically_normal().relative_path();
  for (const auto& part : rel)
    if (part == "..")
      return fail(errc::bad_config, "{}: \"{}\" climbs out of the container's root", field, path);
  return (root / rel).string();
}

// mkdir -p of `target` below `root`, as steps.
void make_dirs(std::vector<fs_step>& steps, const std::filesystem::path& root,
               const std::string& target) {
  std::filesystem::path at = root;
  for (const auto& part : std::filesystem::path(target).lexically_relative(root)) {
    at /= part;
    fs_step s;
    s.what = fs_step::kind::mkdir;
    s.target = at.string();
    s.mode = 0755;
    steps.push_back(std::move(s));
  }
}

void make_file(std::vector<fs_step>& steps, const std::filesystem::path& root,
               const std::string& target) {
  make_dirs(steps, root, std::filesystem::path(target).parent_path().string());
  fs_step s;
  s.what = fs_step::kind::mknod;
  s.target = target;
  s.mode = S_IFREG | 0644;
  steps.push_back(std::move(s));
}

// An idmapped bind's maps: the mount's own, or with the idmap option alone the container's.
result<void> set_idmap(fs_step& s, const oci_mount& m, const parsed_options& o, std::size_t i,
                       const std::optional<userns_plan>& user) {
  if (!o.idmap && m.uid_mappings.empty()) return success();
  if (!o.bind)
    return fail(errc::bad_config, "mounts[{}]: only a bind mount can be idmapped, not {}", i,
                m.type);
  if (!m.uid_mappings.empty()) {
    s.idmap_uids = m.uid_mappings;
    s.idmap_gids = m.gid_mappings;
  } else if (user) {
    s.idmap_uids = user->uid_map;
    s.idmap_gids = user->gid_map;
  } else {
    return fail(errc::bad_config,
                "mounts[{}]: idmap without uidMappings and gidMappings takes the container's "
                "user namespace's, and it has none", i);
  }
  s.idmap_recursive = o.idmap_recursive;
  return success();
}

result<void> add_mount(std::vector<fs_step>& steps, const oci_bundle& b, std::size_t i,
                       const std::filesystem::path& root,
                       const std::vector<cgroup_hierarchy>& cgroups,
                       const std::optional<userns_plan>& user) {
  const oci_mount& m = b.mounts[i];
  const auto field = fmt::format("mounts[{}].destination", i);
  BOOST_OUTCOME_TRY(target, inside(root, m.destination, field));
  parsed_options o = parse_options(m);
  // Only the owner of the network namespace mounts a sysfs: a container in a user namespace
  // of its own that keeps the host's network (or joins another's) gets the host's /sys bound,
  // as runc gives it.
  const oci_namespace* net = b.find(ns_type::net);
  const bool host_sys = !o.bind && m.type == "sysfs" && b.find(ns_type::user) &&
                        (!net || !net->path.empty());
  if (host_sys) o.bind = o.recursive = true;
  fs_step s;
  BOOST_OUTCOME_TRY(set_idmap(s, m, o, i, user));
  if (!o.bind && (m.type == "cgroup" || m.type == "cgroup2")) {
    // The VE's own view of its cgroups, v1 or v2 as the host has them.
    for (auto& view : cgroup_view_steps(root, cgroups, b.find(ns_type::user) != nullptr))
      steps.push_back(std::move(view));
    return success();
  }
  if (!o.bind) {
    make_dirs(steps, root, target);
    s.what = fs_step::kind::mount;
    s.source = m.source.empty() ? m.type : m.source;
    s.target = target;
    s.fstype = m.type;
    s.flags = o.flags;
    s.data = o.data;
    steps.push_back(std::move(s));
    return success();
  }
  const std::filesystem::path source =
      host_sys ? std::filesystem::path("/sys")
      : m.source.empty() || m.source[0] == '/' ? std::filesystem::path(m.source)
                                               : b.dir / m.source;
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0)
    return sys_fail(errno, "mounts[{}].source {}", i, source.string());
  if (S_ISDIR(st.st_mode)) {
    make_dirs(steps, root, target);
  } else {
    make_file(steps, root, target);
  }
  s.what = fs_step::kind::bind;
  s.source = source.string();
  s.target = target;
  s.flags = o.recursive ? MS_REC : 0;
  steps.push_back(s);
  // A bind takes no flags of its own: they are a remount's, read-only or not.
  constexpr unsigned long per_mount = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                      MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;
  if (o.flags & per_mount) {
    s.what = fs_step::kind::remount;
    s.source.clear();
    s.flags = o.flags & per_mount;
    s.idmap_uids.clear();
    s.idmap_gids.clear();
    steps.push_back(std::move(s));
  }
  return success();
}

struct node {
  const char* name;
  unsigned major, minor;
};

// The nodes runtime-spec has every container's /dev hold.
constexpr std::array<node, 6> default_nodes{{
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9},
    {"tty", 5, 0},
}};

// The last mount on /dev is the one seen: a tmpfs gets the default nodes, a bind (the host's
// /dev, as crun's tests do) has its own.
bool mounts_own_dev(const oci_bundle& b) {
  auto last = std::find_if(b.mounts.rbegin(), b.mounts.rend(),
                           [](const oci_mount& m) { return m.destination == "/dev"; });
  return last != b.mounts.rend() && !parse_options(*last).bind;
}

bool mounts_at(const oci_bundle& b, std::string_view destination) {
  return std::any_of(b.mounts.begin(), b.mounts.end(),
                     [&](const oci_mount& m) { return m.destination == destination; });
}

result<void> add_devices(std::vector<fs_step>& steps, const oci_bundle& b,
                         const std::filesystem::path& root) {
  const bool userns = b.find(ns_type::user) != nullptr;
  const std::string dev = (root / "dev").string();
  if (mounts_own_dev(b)) {
    for (const auto& n : default_nodes)
      add_node_steps(steps, dev + "/" + n.name, std::string("/dev/") + n.name, S_IFCHR | 0666,
                     makedev(n.major, n.minor), userns);
    for (auto [link, to] : {std::pair{"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"},
                            {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"}}) {
      fs_step s;
      s.what = fs_step::kind::symlink;
      s.source = to;
      s.target = dev + "/" + link;
      steps.push_back(std::move(s));
    }
    if (mounts_at(b, "/dev/pts")) {
      fs_step s;
      s.what = fs_step::kind::symlink;
      s.source = "pts/ptmx";
      s.target = dev + "/ptmx";
      steps.push_back(std::move(s));
    }
  }
  // Made, not bound from the host, whose /dev need not have them (in a user namespace, the
  // host makes them for the container).
  for (std::size_t i = 0; i < b.devices.size(); ++i) {
    const oci_device& d = b.devices[i];
    BOOST_OUTCOME_TRY(target, inside(root, d.path, fmt::format("linux.devices[{}].path", i)));
    make_dirs(steps, root, std::filesystem::path(target).parent_path().string());
    fs_step s;
    s.what = fs_step::kind::mknod;
    s.target = target;
    s.mode = (d.type == 'b' ? S_IFBLK : d.type == 'p' ? S_IFIFO : S_IFCHR) | (d.file_mode & 07777);
    s.dev = makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor));
    s.uid = d.uid;
    s.gid = d.gid;
    steps.push_back(std::move(s));
  }
  return success();
}

void add_masks(std::vector<fs_step>& steps, const oci_bundle& b, const std::filesystem::path& root) {
  for (const auto& path : b.readonly_paths) {
    auto target = inside(root, path, "linux.readonlyPaths");
    if (!target) continue;
    fs_step s;
    s.what = fs_step::kind::bind;
    s.flags = MS_REC;
    s.source = s.target = *target;
    s.optional = true;
    steps.push_back(s);
    s.what = fs_step::kind::remount_ro;
    s.source.clear();
    s.flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    steps.push_back(std::move(s));
  }
  for (const auto& path : b.masked_paths) {
    auto target = inside(root, path, "linux.maskedPaths");
    if (!target) continue;
    fs_step s;
    s.what = fs_step::kind::mask;
    s.target = *target;
    s.optional = true;
    steps.push_back(std::move(s));
  }
}

// What the container may open: the nodes every container has, the console, its own nodes,
// then the bundle's allow rules; a deny of one node takes it out again.
result<std::vector<device_rule>> device_rules(const oci_bundle& b) {
  std::vector<device_rule> rules = ve_device_rules({});
  rules.push_back({'c', 5, 1});
  for (const auto& d : b.devices)
    if (d.type == 'c' || d.type == 'b' || d.type == 'u')
      rules.push_back({d.type == 'b' ? 'b' : 'c', static_cast<unsigned>(d.major),
                       static_cast<int>(d.minor)});
  for (std::size_t i = 0; i < b.resources.devices.size(); ++i) {
    const oci_device_rule& r = b.resources.devices[i];
    if (!r.major) {
      if (!r.allow) continue;  // deny everything: where every list starts
      return fail(errc::unsupported,
                  "linux.resources.devices[{}]: allowing every {} device is not supported", i,
                  r.type == 'a' ? "" : std::string(1, r.type));
    }
    if (r.type == 'a')
      return fail(errc::bad_config, "linux.resources.devices[{}]: type a with a major number", i);
    device_rule rule{r.type, static_cast<unsigned>(*r.major), r.minor ? static_cast<int>(*r.minor) : -1, 0};
    if (r.access.find('r') != std::string::npos) rule.access |= device_rule::read;
    if (r.access.find('w') != std::string::npos) rule.access |= device_rule::write;
    if (r.access.find('m') != std::string::npos) rule.access |= device_rule::mknod;
    if (r.allow) {
      rules.push_back(rule);
    } else {
      std::erase_if(rules, [&](const device_rule& d) {
        return d.type == rule.type && d.major == rule.major && (rule.minor < 0 || d.minor == rule.minor);
      });
    }
  }
  return rules;
}

// A joined user namespace has its maps: the bundle may repeat them, not change them (as runc
// has it).
result<userns_plan> user_plan(const oci_bundle& b, const oci_namespace& user) {
  if (user.path.empty()) {
    if (b.uid_mappings.empty() || b.gid_mappings.empty())
      return fail(errc::bad_config,
                  "linux.namespaces: a user namespace needs linux.uidMappings and gidMappings");
    return userns_plan{b.uid_mappings, b.gid_mappings, {}};
  }
  unique_fd ns(::open(user.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!ns) return sys_fail(errno, "linux.namespaces: open the user namespace {}", user.path.string());
  auto maps = maps_of_userns(ns.get());
  if (!maps)
    return with_context(maps.error(), fmt::format("linux.namespaces: the user namespace {}",
                                                  user.path.string()));
  if (maps->uid_map.empty() || maps->gid_map.empty())
    return fail(errc::bad_config, "linux.namespaces: the user namespace {} has no id maps yet",
                user.path.string());
  if ((!b.uid_mappings.empty() && b.uid_mappings != maps->uid_map) ||
      (!b.gid_mappings.empty() && b.gid_mappings != maps->gid_map))
    return fail(errc::bad_config,
                "linux.uidMappings and gidMappings differ from the maps of the user namespace "
                "{} the container joins", user.path.string());
  return userns_plan{std::move(maps->uid_map), std::move(maps->gid_map), {}};
}

}  // namespace

result<std::vector<fs_step>> oci_mount_steps(const oci_bundle& b, const std::filesystem::path& root,
                                             const std::vector<cgroup_hierarchy>& cgroups,
                                             const std::optional<userns_plan>& user) {
  std::vector<fs_step> steps;
  for (std::size_t i = 0; i < b.mounts.size(); ++i) {
    BOOST_OUTCOME_TRY(add_mount(steps, b, i, root, cgroups, user));
  }
  BOOST_OUTCOME_TRY(add_devices(steps, b, root));
  add_masks(steps, b, root);
  // A missing working directory is made, as runc makes it (an image's WORKDIR may not exist).
  if (b.process && !b.process->cwd.empty()) {
    BOOST_OUTCOME_TRY(cwd, inside(root, b.process->cwd, "process.cwd"));
    make_dirs(steps, root, cwd);
  }
  if (b.root_readonly) {
    // Last: the steps before make directories and nodes on it.
    fs_step s;
    s.what = fs_step::kind::remount_ro;
    s.target = root.string();
    steps.push_back(std::move(s));
  }
  return steps;
}

result<ve_plan> oci_plan_for(const oci_bundle& b, const ve_layout& l, const ve_params& params,
                             const std::vector<cgroup_hierarchy>& cgroups) {
  if (!b.process)
    return fail(errc::bad_config, "config.json has no process: the container would run nothing");
  for (const auto& n : b.namespaces)
    if (!n.path.empty() && n.type == ns_type::mnt)
      return fail(errc::unsupported, "joining the {} namespace {} is not supported",
                  ns_name(n.type), n.path.string());
  for (const auto& [key, value] : b.sysctl) {
    // Two ways to one setting, and the later one would win unseen.
    if (key == "kernel.hostname" || key == "kernel/hostname")
      return fail(errc::bad_config,
                  "linux.sysctl: {} is not allowed: the container's hostname is config.json's "
                  "hostname", key);
    auto ns = sysctl_namespace(key);
    if (!ns) return with_context(ns.error(), "linux.sysctl");
    if (!b.find(*ns))
      return fail(errc::bad_config, "linux.sysctl: {} needs the container's own {} namespace",
                  key, ns_name(*ns));
  }
  if (!b.find(ns_type::mnt))
    return fail(errc::bad_config, "linux.namespaces: a container needs a mount namespace");

  ve_plan p{.id = l.id};
  p.cgroup = l.cgroup;
  for (const auto& n : b.namespaces) {
    if (n.path.empty()) {
      p.namespaces.add(n.type);
    } else {
      p.join.emplace_back(n.type, n.path);
    }
  }
  // Its own cgroup namespace whatever the bundle says (Podman asks for none on cgroup v1):
  // the cgroup view mounted in it is a VE's, whose writable name=systemd and unified
  // hierarchies would otherwise be the host's own roots.
  if (!b.find(ns_type::cgroup)) p.namespaces.add(ns_type::cgroup);
  if (const oci_namespace* user = b.find(ns_type::user)) {
    BOOST_OUTCOME_TRY(plan, user_plan(b, *user));
    p.userns = std::move(plan);
  }
  p.sysctl = b.sysctl;
  p.storage = bundle_storage(b.root, l.mount_point);
  // Attached over the bundle's root in the container's mount namespace, as runc binds it: a
  // createContainer hook finds the container's mounts where config.json's root.path says.
  p.root = b.root;
  BOOST_OUTCOME_TRY(mounts, oci_mount_steps(b, p.root, cgroups, p.userns));
  p.mounts = std::move(mounts);
  // The bundle's root is its owner's (an image's): every target is looked up inside it.
  for (auto& step : p.mounts) step.in_root = true;
  p.limits = limits_for(params, fields_for(params), l.id.value());
  BOOST_OUTCOME_TRY(rules, device_rules(b));
  p.device_rules = std::move(rules);
  p.cgroup_files = b.resources.unified;
  p.confine.drop_capabilities = dropped_capabilities(*b.process);
  p.confine.no_new_privs = b.process->no_new_privileges;
  BOOST_OUTCOME_TRY(filter, oci_seccomp_filter(b.seccomp));
  if (filter) {
    p.confine.seccomp = std::move(filter->profile);
    p.confine.notify = std::move(filter->notify);
  }
  if (b.find(ns_type::uts)) p.hostname = b.hostname;
  p.env = b.process->env;
  p.init = b.process->args;
  p.cwd = b.process->cwd;
  p.console = l.console_log;
  return p;
}

}  // namespace ovz::detail
