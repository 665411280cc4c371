#pragma once
// The source of an OCI container's process (ve/plan_apply.hpp): a spawn whose process waits
// at a start gate once set up, as `create` leaves it, and whose parent then exits, so that
// the caller's subreaper (conmon, containerd's shim) adopts it and sees its exit status. Its
// stdio are the caller's, or a terminal whose master side goes to the console socket.

#include <ovz/oci_bundle.hpp>
#include <ovz/oci_container.hpp>

#include "oci/oci_hooks.hpp"
#include "oci/oci_process.hpp"
#include "ve/plan_apply.hpp"

#include <functional>

namespace ovz::detail {

class oci_source final : public process_source {
 public:
  /// `gate`: the descriptor the process reads its start from (spawn_spec::start_gate);
  /// `rootfs`: the bundle's root, as the host sees it.
  /// `created`: called with the process's PID once its namespaces exist and it is in its
  /// cgroup, before it takes a step (createRuntime and prestart hooks).
  /// `mounted`, unless empty: called with its PID and a way to start processes in its
  /// namespaces and cgroup once its mounts are made, before it pivots into its root
  /// (createContainer hooks, whose paths resolve as the host's do then).
  /// `listener_socket`: where its seccomp filter's listener goes (oci_listener.hpp), or -1.
  using mounted_hook = std::function<result<void>(pid_t, const container_exec&)>;
  oci_source(const oci_process& proc, const oci_io& io, int gate, std::filesystem::path rootfs,
             std::function<result<void>(pid_t)> created, mounted_hook mounted,
             int listener_socket)
      : proc_(proc), io_(io), gate_(gate), rootfs_(std::move(rootfs)),
        created_(std::move(created)), mounted_(std::move(mounted)),
        listener_socket_(listener_socket) {}
  result<process> start(const ve_plan& plan, std::vector<fs_step> root_steps, int cgroup_fd,
                        init_preparation prep) override;

 private:
  const oci_process& proc_;
  oci_io io_;
  int gate_;
  std::filesystem::path rootfs_;
  std::function<result<void>(pid_t)> created_;
  mounted_hook mounted_;
  int listener_socket_;
};

}  // namespace ovz::detail
