#pragma once
/// @file
/// A container of the OCI runtime specification, run as a VE: what `runc create`, `start`,
/// `state`, `kill` and `delete` do, for a runtime built on libovz (ovz-oci) and for any
/// program that runs OCI bundles itself.
///
/// Each container is a VE under the runtime's state root (its CTID chosen at create, its
/// CTID.conf holding the bundle's resources as beancounters and CPU settings, NAME its ID),
/// so OpenVZ's tools read and change it like any VE. Its root is the bundle's directory,
/// bound as it is (OpenVZ's simfs). The caller of create stays the container's parent: its
/// init is reparented to the caller's nearest subreaper (conmon, a containerd shim), which
/// waits for it and sees its exit status; no monitor of libovz's sits in between.

#include <ovz/ctid.hpp>
#include <ovz/export.hpp>
#include <ovz/namespaces.hpp>
#include <ovz/oci_bundle.hpp>
#include <ovz/result.hpp>

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::inline v0 {

/// The runtime-spec version followed, as state's ociVersion and the runtime's features give it.
inline constexpr const char oci_spec_version[] = "1.1.0";

/// The runtime-spec's status of a container.
/// `creating` is what a createRuntime or prestart hook is told; state() waits for a create
/// at work and never reports it.
enum class oci_status { creating, created, running, paused, stopped };
/// "creating", "created", "running", "paused" or "stopped".
OVZ_API const char* to_string(oci_status s) noexcept;

/// What `state` reports (runtime-spec "State").
struct oci_state {
  std::string id{};
  oci_status status = oci_status::stopped;
  pid_t pid = 0;  ///< the init's host PID; 0 once stopped
  std::filesystem::path bundle{};
  std::filesystem::path rootfs{};  ///< its root, absolute: config.json's root.path
  std::string created{};  ///< RFC 3339, UTC
  std::map<std::string, std::string> annotations{};
  std::optional<ctid> ve{};  ///< the VE it runs as
};

/// The state as runtime-spec JSON, as `runc state` prints it.
OVZ_API std::string to_json(const oci_state& s);

/// The stdio of a container's process (create's, exec's).
struct oci_io {
  /// stdin, stdout and stderr without a terminal: the caller's own by default, which conmon
  /// and containerd's shim make their pipes.
  int stdin_fd = 0;
  int stdout_fd = 1;
  int stderr_fd = 2;
  /// With process.terminal: a connected AF_UNIX socket the pseudo-terminal's master side is
  /// sent over (one SCM_RIGHTS message, as runc sends it), its slave side the process's stdio
  /// and controlling terminal. Required then, refused otherwise (errc::invalid_argument).
  int console_socket = -1;
  /// Descriptors that become the process's 3, 4, … in this order (runc's --preserve-fds);
  /// -1 leaves that number closed.
  std::vector<int> pass_fds{};
  /// How many of pass_fds, from the first, are sockets a service manager passed (systemd's
  /// socket activation, LISTEN_FDS): the process gets LISTEN_FDS=n and LISTEN_PID=1 (it is
  /// PID 1 of its namespace) in its environment, as runc gives them.
  unsigned listen_fds = 0;
};

/// The default state root of an OCI runtime on libovz: /run/ovz-oci, as runc's is /run/runc
/// (conmon asks for `state` without --root).
OVZ_API std::filesystem::path default_oci_root();

class OVZ_API oci_container {
 public:
  /// Checks an ID as runc does: letters, digits, '_', '+', '-' and '.', not "." or "..", at
  /// most 1024 bytes; errc::invalid_argument otherwise.
  static result<void> check_id(std::string_view id);

  /// Creates the container `id` from the bundle `bundle` under the state root `root` (made if
  /// missing): its VE, cgroup and limits, namespaces and mounts, and its process set up as
  /// process names it, waiting to execute it until start(). The program is looked for in the
  /// container now: a missing one is errc::not_found here, not a failed start. An ID in use is
  /// errc::already_exists; anything refused leaves nothing of the container behind.
  static result<oci_container> create(const std::filesystem::path& root, std::string id,
                                      const std::filesystem::path& bundle,
                                      const oci_io& io = {});
  /// The existing container `id`; errc::not_found ("container does not exist") otherwise.
  static result<oci_container> open(const std::filesystem::path& root, std::string_view id);
  /// The IDs of the containers under the state root `root`, sorted; none when it has none
  /// (or does not exist).
  static result<std::vector<std::string>> list(const std::filesystem::path& root);

  const std::string& id() const noexcept { return id_; }
  ctid ve() const noexcept { return ve_; }

  result<oci_state> state() const;
  /// config.json as it was at create (a copy the container keeps: the bundle is its owner's).
  result<oci_bundle> config() const;
  /// Lets the created container's process run; errc::already_running or errc::not_running
  /// when it is not `created`.
  result<void> start();
  /// Sends `signal` to the container's init, or with `all` to every process in it. A created,
  /// running or paused container takes it (a paused one is thawed for SIGKILL); a stopped one
  /// is errc::not_running ("container not running"), except `all`, which has nothing to do.
  result<void> kill(int signal, bool all = false);
  /// Removes a stopped or created container (a created one is killed first): its VE, cgroup
  /// and state; the bundle stays. A running or paused one only with `force`, which kills it
  /// and waits for it. Its ID is free again afterwards.
  result<void> destroy(bool force = false);
  /// Freezes every process of the running container (its cgroup's freezer): state() says
  /// `paused` until resume(). errc::not_running unless it runs.
  result<void> pause();
  /// Lets a paused container run on; errc::not_running unless it is paused.
  result<void> resume();
  /// Changes the running (or paused) container's limits at once, as `resources` names them
  /// (an update's resources file): what it does not name stays; saved in its CTID.conf too.
  /// errc::not_running before start and after it stopped.
  result<void> update(const oci_resources& resources);
  /// The host PIDs of the container's processes.
  result<std::vector<pid_t>> processes() const;
  /// Starts `proc` in the created or running container (runc exec): in its namespaces,
  /// cgroup and root, as proc's user with its capabilities, limits and environment; returns
  /// once it runs the program. `detach`: its parent exits, so that the caller's subreaper
  /// (conmon, the shim) adopts it, and the process returned is it; else the process returned
  /// is the caller's child that waits for it, whose wait() gives its exit status. A stopped
  /// container is errc::not_running, a paused one errc::suspended.
  result<process> exec(const oci_process& proc, const oci_io& io = {}, bool detach = true);

 private:
  oci_container(std::filesystem::path root, std::string id, ctid ve)
      : root_(std::move(root)), id_(std::move(id)), ve_(ve) {}
  std::filesystem::path root_;
  std::string id_;
  ctid ve_;
};

}  // namespace ovz::inline v0
