#pragma once
/// @file
/// An OCI bundle: a directory holding config.json (runtime-spec 1.0 and 1.1) and the root
/// filesystem it names, read into what a VE started from it needs. What libovz does not act
/// on is skipped, as the spec asks of unknown fields; what it cannot read the way the spec
/// says is an errc::bad_config naming the field.
///
/// OpenVZ's settings that OCI lacks come as annotations: `org.openvz.ubc.NAME` with a
/// beancounter's value as CTID.conf takes it ("64:64", "256M", "unlimited"),
/// `org.openvz.cpuunits`, `org.openvz.cpulimit`, `org.openvz.cpus`, `org.openvz.diskspace`,
/// `org.openvz.diskinodes` (oci_openvz_annotations() lists them all).

#include <ovz/export.hpp>
#include <ovz/namespaces.hpp>
#include <ovz/result.hpp>
#include <ovz/ve_params.hpp>

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::inline v0 {

struct oci_mount {
  std::string destination{};  ///< absolute, inside the container
  std::string type{};         ///< empty for a bind mount
  std::string source{};       ///< relative sources resolve against the bundle
  std::vector<std::string> options{};
  /// A bind shown through an idmapped mount with these maps (runtime-spec 1.1).
  std::vector<id_map> uid_mappings{};
  std::vector<id_map> gid_mappings{};
};

struct oci_user {
  uid_t uid = 0;
  gid_t gid = 0;
  std::optional<mode_t> umask{};
  std::vector<gid_t> additional_gids{};
};

/// Capability sets as CAP_* numbers; names this kernel's libcap does not know are left out.
struct oci_capabilities {
  std::vector<int> bounding{}, effective{}, permitted{}, inheritable{}, ambient{};
};

struct oci_rlimit {
  int resource = 0;  ///< RLIMIT_*
  std::uint64_t soft = 0;
  std::uint64_t hard = 0;
};

/// config.json's `process`, and the whole of an `exec --process` file.
struct oci_process {
  bool terminal = false;
  unsigned console_height = 0;
  unsigned console_width = 0;
  oci_user user{};
  std::vector<std::string> args{};
  std::vector<std::string> env{};
  std::string cwd = "/";
  std::optional<oci_capabilities> capabilities{};  ///< absent: the runtime's defaults
  std::vector<oci_rlimit> rlimits{};
  bool no_new_privileges = false;
  std::optional<int> oom_score_adj{};
};

struct oci_namespace {
  ns_type type = ns_type::mnt;
  std::filesystem::path path{};  ///< empty: a new one; else the namespace file to join
};

/// A device node made in the container's /dev.
struct oci_device {
  char type = 'c';  ///< 'c', 'b', 'u' (unbuffered character) or 'p' (FIFO)
  std::string path{};
  std::int64_t major = 0;
  std::int64_t minor = 0;
  mode_t file_mode = 0666;
  uid_t uid = 0;
  gid_t gid = 0;
};

/// One rule of the device cgroup, in order; the last that matches decides.
struct oci_device_rule {
  bool allow = false;
  char type = 'a';  ///< 'a' (all), 'c' or 'b'
  std::optional<std::int64_t> major{};  ///< absent: any
  std::optional<std::int64_t> minor{};
  std::string access = "rwm";
};

/// `linux.resources`, and the whole of an `update --resources` file. Absent: unchanged (an
/// update) or unlimited (a create).
struct oci_resources {
  std::optional<std::int64_t> memory_limit{};        ///< bytes; -1 unlimited
  std::optional<std::int64_t> memory_reservation{};  ///< bytes
  std::optional<std::int64_t> memory_swap{};         ///< RAM plus swap, bytes; -1 unlimited
  std::optional<std::uint64_t> cpu_shares{};
  std::optional<std::int64_t> cpu_quota{};   ///< microseconds per period; -1 unlimited
  std::optional<std::uint64_t> cpu_period{};  ///< microseconds
  std::optional<std::string> cpu_cpus{};      ///< a CPU list, "0-3,6"
  std::optional<std::int64_t> pids_limit{};   ///< 0 or -1 unlimited
  std::vector<oci_device_rule> devices{};
  /// cgroup v2 files by name ("memory.high": "1073741824"), written to the VE's cgroup after
  /// its limits; refused on cgroup v1.
  std::map<std::string, std::string> unified{};
};

enum class oci_seccomp_op { ne, lt, le, eq, ge, gt, masked_eq };

struct oci_seccomp_arg {
  unsigned index = 0;
  std::uint64_t value = 0;
  std::uint64_t value_two = 0;
  oci_seccomp_op op = oci_seccomp_op::eq;
};

struct oci_seccomp_rule {
  std::vector<std::string> names{};
  std::string action{};  ///< SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, …
  std::optional<unsigned> errno_ret{};
  std::vector<oci_seccomp_arg> args{};
};

struct oci_seccomp {
  std::string default_action{};
  std::optional<unsigned> default_errno_ret{};
  std::vector<std::string> architectures{};  ///< SCMP_ARCH_X86_64, …
  std::vector<std::string> flags{};
  std::vector<oci_seccomp_rule> syscalls{};
  /// Where the listener of SCMP_ACT_NOTIFY's calls is sent (an AF_UNIX stream socket's
  /// path), with the container process's state and `listener_metadata`.
  std::string listener_path{};
  std::string listener_metadata{};
};

struct oci_hook {
  std::string path{};
  std::vector<std::string> args{};
  std::vector<std::string> env{};
  std::optional<int> timeout{};  ///< seconds
};

struct oci_hooks {
  std::vector<oci_hook> prestart{}, create_runtime{}, create_container{}, start_container{},
      poststart{}, poststop{};
};

struct oci_bundle {
  std::filesystem::path dir{};  ///< the bundle, absolute
  std::string oci_version{};
  std::optional<oci_process> process{};  ///< absent: the container cannot be started
  std::filesystem::path root{};          ///< absolute: a relative root.path is the bundle's
  bool root_readonly = false;
  std::string hostname{};
  std::vector<oci_mount> mounts{};
  oci_hooks hooks{};
  std::map<std::string, std::string> annotations{};
  std::vector<oci_namespace> namespaces{};
  std::vector<id_map> uid_mappings{};
  std::vector<id_map> gid_mappings{};
  std::vector<oci_device> devices{};
  oci_resources resources{};
  std::string cgroups_path{};
  std::map<std::string, std::string> sysctl{};
  std::optional<oci_seccomp> seccomp{};
  std::vector<std::string> masked_paths{};
  std::vector<std::string> readonly_paths{};
  std::string rootfs_propagation{};

  /// The namespace of that type the container gets, if any.
  const oci_namespace* find(ns_type t) const noexcept;
};

/// Reads `dir`/config.json.
OVZ_API result<oci_bundle> load_oci_bundle(const std::filesystem::path& dir);
/// Reads a config.json given as text, for the bundle `dir`.
OVZ_API result<oci_bundle> parse_oci_config(std::string_view json,
                                            const std::filesystem::path& dir);
/// Reads a process object (runc exec --process).
OVZ_API result<oci_process> parse_oci_process(std::string_view json);
/// Reads a LinuxResources object (runc update --resources).
OVZ_API result<oci_resources> parse_oci_resources(std::string_view json);

/// The VE settings resources and annotations ask for: linux.resources mapped onto OpenVZ's
/// (pids.limit → numproc; memory.limit → physpages' limit; memory.swap, which counts RAM and
/// swap together, less the limit → swappages; cpu.shares → cpuunits, 1024 to 1000;
/// cpu.quota/period → cpulimit in percent; cpu.cpus → cpumask; -1 unlimited), then the
/// org.openvz.* annotations on top, each read as `vzctl set --NAME VALUE` reads it. What is
/// absent stays unnamed, so that an update changes only what it names. A bad value is
/// errc::invalid_argument naming the field or annotation.
OVZ_API result<ve_params> oci_params(const oci_resources& resources,
                                     const std::map<std::string, std::string>& annotations = {});

/// The capabilities this kernel has, as config.json names them ("CAP_CHOWN", …), each at
/// its number's index, for `features` and for callers that take names.
OVZ_API std::vector<std::string> oci_capability_names();

/// The annotations libovz reads, "org.openvz.ubc.numproc" and the like, for `features`.
OVZ_API std::vector<std::string> oci_openvz_annotations();

/// The seccomp actions (SCMP_ACT_*) and argument operators (SCMP_CMP_*) a bundle may name,
/// for `features`.
OVZ_API std::vector<std::string> oci_seccomp_actions();
OVZ_API std::vector<std::string> oci_seccomp_operators();

}  // namespace ovz::inline v0
