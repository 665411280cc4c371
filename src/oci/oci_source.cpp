#include "oci/oci_source.hpp"

#include "fail.hpp"
#include "kernel/files.hpp"
#include "kernel/ns_sysctl.hpp"
#include "kernel/seccomp.hpp"
#include "oci/oci_process.hpp"
#include "ve/monitor.hpp"

#include <fcntl.h>

namespace ovz::detail {

result<process> oci_source::start(const ve_plan& plan, std::vector<fs_step> root_steps,
                                  int cgroup_fd, init_preparation prep) {
  spawn_spec spec;
  set_process(spec, proc_, io_, rootfs_);
  place_in_plan(spec, plan, std::move(root_steps));
  std::vector<unique_fd> joined;
  for (const auto& [type, path] : plan.join) {
    unique_fd ns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) return sys_fail(errno, "open the {} namespace {}", ns_name(type), path.string());
    spec.join.push_back({type, ns.get()});
    joined.push_back(std::move(ns));
  }
  spec.detach = true;
  spec.start_gate = gate_;
  if (plan.confine.seccomp) {
    BOOST_OUTCOME_TRY(program, compile_seccomp(*plan.confine.seccomp, broker_scope::none,
                                               plan.confine.notify));
    spec.seccomp = std::move(program);
    spec.seccomp_listener_socket = listener_socket_;
  }
  spec.cgroup_fd = cgroup_fd;
  const bool own_net = plan.namespaces.has(ns_type::net);
  const std::optional<int> oom = proc_.oom_score_adj;
  // The container's namespaces as they are once it waits before its pivot: what it made, what
  // it joined.
  ns_set all = plan.namespaces;
  for (const auto& j : plan.join) all.add(j.first);
  auto exec_in = [&](pid_t pid) {
    return [&, pid](const oci_process& p, const oci_io& io) -> result<process> {
      spawn_spec in;
      set_process(in, p, io, rootfs_);
      in.helper = spawn_helper();
      in.cgroup_fd = cgroup_fd;
      in.prepare = prep.admit;
      BOOST_OUTCOME_TRY(target, process::open(pid));
      return spawn_in(target, all, in);
    };
  };
  if (mounted_) {
    spec.before_pivot = [&](pid_t pid) { return mounted_(pid, exec_in(pid)); };
  }
  spec.prepare = [&prep, own_net, oom, &plan, this](pid_t pid) -> result<void> {
    BOOST_OUTCOME_TRY(prep.admit(pid));
    BOOST_OUTCOME_TRY(write_ns_sysctls(pid, plan.sysctl));
    if (oom) {
      BOOST_OUTCOME_TRY(write_file(fmt::format("/proc/{}/oom_score_adj", pid), std::to_string(*oom)));
    }
    // Its own network namespace gets its loopback up; the host's is left alone.
    if (own_net) {
      BOOST_OUTCOME_TRY(prep.network(pid));
    }
    return created_ ? created_(pid) : success();
  };
  return spawn(spec);
}

}  // namespace ovz::detail
