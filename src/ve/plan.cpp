// No system call here: the plan is computed from its inputs alone (tests/unit/test_plan.cpp).
#include "ve/plan.hpp"

#include <ovz/template.hpp>
#include <ovz/ve_params.hpp>

#include "fail.hpp"
#include "kernel/seccomp.hpp"
#include "model/network.hpp"
#include "ve/cgroup_view.hpp"
#include "ve/limits.hpp"
#include "ve/rootfs.hpp"
#include "ve/userns.hpp"
#include "ve/ve_environment.hpp"
#include "ve/ve_namespaces.hpp"

#include <sys/capability.h>
#include <sys/mount.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace ovz::detail {

result<ve_plan> plan_for(const ve_config& conf, const ve_layout& l, const plan_inputs& host,
                         const std::vector<std::string>& init) {
  BOOST_OUTCOME_TRY(settings, params_from_config(conf));
  BOOST_OUTCOME_TRY(check_bootable(settings));
  BOOST_OUTCOME_TRY(userns, userns_range(conf));
  BOOST_OUTCOME_TRY(net, network_from_config(conf));
  BOOST_OUTCOME_TRY(confined, confinement_for(conf, host.confine));

  ve_plan p{.id = l.id};
  p.cgroup = l.cgroup;
  p.namespaces = ve_namespaces();
  if (userns) {
    const auto maps = userns_maps(*userns);
    p.userns = userns_plan{maps, maps, userns};
    p.namespaces.add(ns_type::user);
  }
  p.storage = storage_for(host.storage, conf, l, host.template_root);
  p.root = l.mount_point;
  p.mounts = rootfs_steps(p.root, userns.has_value(), pty_limit(settings));
  for (auto& s : devnode_steps(p.root.string() + "/dev", host.devnodes, userns.has_value()))
    p.mounts.push_back(std::move(s));
  for (auto& s : cgroup_view_steps(p.root, host.cgroups, userns.has_value()))
    p.mounts.push_back(std::move(s));
  p.proc_views = host.proc_views;
  p.module = module_view(l.id, settings);
  // A new cgroup starts with every limit off: only what CTID.conf sets needs writing.
  p.limits = limits_for(settings, fields_for(settings), l.id.value());
  p.device_rules = ve_device_rules(host.devnodes);
  p.devnodes = host.devnodes;
  p.confine = std::move(confined);
  p.network = std::move(net);
  p.hostname = conf.get("HOSTNAME").value_or("ct" + l.id.str());
  BOOST_OUTCOME_TRY(etc, etc_settings_for(conf, p.hostname, p.network, host.host_resolv));
  p.etc = std::move(etc);
  p.env = ve_environment();
  p.init = init.empty() ? std::vector<std::string>{"/sbin/init"} : init;
  // Through a writer process with a cap, not the file itself: a VE process that reopens
  // /proc/1/fd/1 writes into the pipe, never into a host file it could grow without end.
  p.console = l.console_log;
  p.monitor = host.monitor;
  return p;
}

namespace {

std::string flags_text(unsigned long f) {
  static const std::pair<unsigned long, const char*> names[] = {
      {MS_RDONLY, "ro"},   {MS_NOSUID, "nosuid"}, {MS_NODEV, "nodev"},
      {MS_NOEXEC, "noexec"}, {MS_STRICTATIME, "strictatime"}};
  std::vector<std::string> out;
  for (const auto& [bit, name] : names)
    if (f & bit) out.emplace_back(name);
  return fmt::format("{}", fmt::join(out, ","));
}

std::string step_text(const fs_step& s) {
  const std::string opt = s.optional ? " (if present)" : "";
  switch (s.what) {
    case fs_step::kind::mount: {
      std::string opts = flags_text(s.flags);
      if (!s.data.empty()) opts += (opts.empty() ? "" : ",") + s.data;
      return fmt::format("mount {} {} on {}{}{}", s.fstype, s.source, s.target,
                         opts.empty() ? "" : " (" + opts + ")", opt);
    }
    case fs_step::kind::bind:
      return fmt::format("{} {} on {}{}", s.flags & MS_REC ? "rbind" : "bind", s.source, s.target,
                         opt);
    case fs_step::kind::remount_ro:
      return fmt::format("remount {} ro,{}{}", s.target, flags_text(s.flags), opt);
    case fs_step::kind::remount:
      return fmt::format("remount {} {}{}", s.target, flags_text(s.flags), opt);
    case fs_step::kind::mkdir: return fmt::format("mkdir {} {:04o}", s.target, s.mode);
    case fs_step::kind::mknod:
      return fmt::format("mknod {} {:o} {}:{}", s.target, s.mode, s.dev >> 8 & 0xfff,
                         (s.dev & 0xff) | (s.dev >> 12 & 0xfff00));
    case fs_step::kind::symlink: return fmt::format("symlink {} -> {}", s.target, s.source);
    case fs_step::kind::attach: return fmt::format("attach the id-shifted root on {}", s.target);
    case fs_step::kind::mask: return fmt::format("mask {}{}", s.target, opt);
  }
  return "?";
}

std::string limit_text(const std::optional<std::uint64_t>& v) {
  return v ? std::to_string(*v) : "max";
}

std::string cpuset_text(const cgroup_limits& l) {
  if (!l.cpuset_cpus.empty()) return l.cpuset_cpus;
  return l.cpuset_count ? fmt::format("{} of the parent's, by CTID", l.cpuset_count) : "all";
}

std::string caps_text(const std::vector<int>& caps) {
  std::vector<std::string> names;
  for (int c : caps) {
    char* name = ::cap_to_name(static_cast<cap_value_t>(c));
    names.emplace_back(name ? name : std::to_string(c));
    ::cap_free(name);
  }
  return fmt::format("{}", fmt::join(names, " "));
}

}  // namespace

module_ve module_view(ctid id, const ve_params& settings) {
  module_ve m;
  m.name = std::to_string(id.value());
  m.cpus = settings.cpu.cpus.value_or(0);
  for (auto& u : m.ubc) u = {ubc_unlimited, ubc_unlimited};
  for (const auto& [r, value] : settings.ubc)
    m.ubc[static_cast<std::size_t>(r)] = {value.barrier, value.limit};
  return m;
}

std::string to_text(const ve_plan& p) {
  std::string out;
  auto line = [&](std::string_view key, const std::string& value) {
    out += fmt::format("{:<13}{}\n", key, value);
  };
  line("ve", p.id.str());
  line("cgroup", p.cgroup);
  std::vector<std::string> ns;
  for (ns_type t : {ns_type::pid, ns_type::mnt, ns_type::uts, ns_type::ipc, ns_type::net,
                    ns_type::cgroup, ns_type::user, ns_type::time})
    if (p.namespaces.has(t)) ns.emplace_back(ns_name(t));
  line("namespaces", fmt::format("{}", fmt::join(ns, " ")));
  for (const auto& [type, path] : p.join) line("join", fmt::format("{} {}", ns_name(type), path.string()));
  auto maps = [](const std::vector<id_map>& m) {
    std::vector<std::string> out;
    for (const auto& e : m)
      out.push_back(fmt::format("{}-{} -> {}-{}", e.inside, e.inside + (e.count - 1), e.outside,
                                e.outside + (e.count - 1)));
    return fmt::format("{}", fmt::join(out, ", "));
  };
  if (!p.userns) {
    line("id map", "none");
  } else if (p.userns->uid_map == p.userns->gid_map) {
    line("id map", maps(p.userns->uid_map));
  } else {
    line("uid map", maps(p.userns->uid_map));
    line("gid map", maps(p.userns->gid_map));
  }
  line("storage", p.storage ? p.storage->describe() : "none");
  line("root", p.root.string());
  for (const auto& s : p.mounts) line("fs", step_text(s));
  const auto& l = p.limits;
  line("limits", fmt::format("pids={} memory={} swap={} kmem={} memory.min={} memory.low={} "
                             "cpu.shares={} cpu.quota={}/{} cpuset={}",
                             limit_text(l.pids_max), limit_text(l.memory_max),
                             limit_text(l.swap_max), limit_text(l.kmem_max), l.memory_min,
                             l.memory_low, l.cpu_shares, limit_text(l.cpu_quota_us),
                             l.cpu_period_us, cpuset_text(l)));
  for (const auto& d : p.device_rules) {
    std::string access;
    if (d.access & device_rule::read) access += 'r';
    if (d.access & device_rule::write) access += 'w';
    if (d.access & device_rule::mknod) access += 'm';
    line("device", fmt::format("{} {}:{} {}", d.type, d.major,
                               d.minor < 0 ? std::string("*") : std::to_string(d.minor), access));
  }
  line("caps dropped", caps_text(p.confine.drop_capabilities));
  if (!p.confine.seccomp) {
    line("seccomp", "unconfined");
  } else {
    std::string text = p.confine.seccomp->to_text();
    for (std::size_t pos = 0, nl; pos < text.size(); pos = nl + 1) {
      nl = text.find('\n', pos);
      line("seccomp", text.substr(pos, nl - pos));
    }
  }
  line("broker", p.confine.brokered() ? fmt::format("{} (by the monitor)",
                                                    fmt::join(brokered_calls(p.confine.broker), " "))
                                    : std::string("none"));
  line("no_new_privs", p.confine.no_new_privs ? "yes" : "no");
  line("nofile", fmt::format("{}:{}", p.confine.nofile.soft, p.confine.nofile.hard));
  line("ip", p.network.ip_addresses.empty() ? "none" : format_ip_addresses(p.network.ip_addresses));
  line("netif", p.network.netifs.empty() ? "none" : format_netifs(p.network.netifs));
  line("hostname", p.hostname);
  if (p.etc) {
    line("etc", fmt::format("hostname {}; hosts {} {}", p.hostname, p.etc->hosts_ip, p.hostname));
    if (p.etc->nameservers)
      line("etc", fmt::format("resolv.conf nameserver {}", fmt::join(*p.etc->nameservers, " ")));
    if (p.etc->searchdomains)
      line("etc", fmt::format("resolv.conf search {}", fmt::join(*p.etc->searchdomains, " ")));
  }
  for (const auto& [key, value] : p.sysctl) line("sysctl", fmt::format("{}={}", key, value));
  for (const auto& e : p.env) line("env", e);
  line("init", fmt::format("{}", fmt::join(p.init, " ")));
  line("console", fmt::format("{} (at most {} bytes, then .1)", p.console.string(),
                              console_log_max));
  line("monitor", p.monitor.string());
  if (p.proc_views.bound())
    line("proc views", fmt::format("{} from {}: {}",
                                   p.proc_views.what == proc_views_source::kind::module ? "module"
                                                                                       : "LXCFS",
                                   p.proc_views.dir.string(), fmt::join(p.proc_views.files, " ")));
  return out;
}

}  // namespace ovz::detail
