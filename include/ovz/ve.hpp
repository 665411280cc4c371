#pragma once
/// @file
/// The Virtual Environment: an isolated server of its own on a shared kernel.

#include <ovz/checkpoint.hpp>
#include <ovz/migration.hpp>
#include <ovz/config.hpp>
#include <ovz/ctid.hpp>
#include <ovz/fd.hpp>
#include <ovz/export.hpp>
#include <ovz/host.hpp>
#include <ovz/network.hpp>
#include <ovz/result.hpp>
#include <ovz/security.hpp>
#include <ovz/ve_params.hpp>

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ovz::detail {
class ve_op;
}

namespace ovz::inline v0 {

/// absent → (create) → stopped → (start) → running; stop and destroy go back.
enum class ve_state { absent, stopped, running };

/// "absent", "stopped" or "running".
OVZ_API const char* to_string(ve_state s) noexcept;

/// The config sample a VE is created from when none is named: limits for a small VE.
inline constexpr const char* default_config_sample = "basic";

struct create_options {
  std::string ostemplate{};  ///< template name; empty means the built-in "busybox"
  std::string hostname{};    ///< empty means "ct<CTID>"
  /// The config sample the VE's CTID.conf starts from (vzctl create --config): the state
  /// root's `conf/ve-NAME.conf-sample` when it has one, else the sample of that name shipped
  /// with the library ("basic", "light", "unlimited"). Empty means default_config_sample.
  std::string config{};
  /// An unprivileged VE in a user namespace of its own: its root is a free range of host ids
  /// (USERNS_MAP, 65536 ids from 100000 up), kept for the VE's life. Starting it needs
  /// idmapped mounts (Linux 5.12+, and a filesystem that has them under the state root).
  bool userns = false;
  /// vzctl create --diskspace/--diskinodes/--quotatime: with a diskspace the VE keeps its
  /// files in an ext4 image of its own of that hard size (and diskinodes' hard count of
  /// inodes, else one per 4 KiB), whose limits hold on any kernel; without one, in a
  /// directory of the host's filesystem, unlimited. See disk_quota.hpp.
  disk_params disk{};
};

struct start_options {
  /// The VE's init. Empty means the template's /sbin/init, which becomes PID 1.
  std::vector<std::string> init{};
};

struct stop_options {
  /// Skip asking init and kill everything at once (vzctl stop --fast).
  bool fast = false;
  /// How long init may take to shut down once asked, before everything is killed; unset:
  /// CTID.conf's STOP_TIMEOUT (seconds), else 10 s.
  std::optional<std::chrono::milliseconds> timeout{};
};

/// What `vzctl status` and `vzlist` show of one VE.
struct ve_status {
  ctid id;
  ve_state state = ve_state::absent;
  bool mounted = false;  ///< the root filesystem is mounted (in the VE's mount namespace)
  pid_t init_pid = 0;    ///< host PID of the VE's init, 0 when not running
  int nproc = 0;         ///< processes in the VE
  bool suspended = false;  ///< running, but frozen by suspend()
  std::string hostname{};
  std::string ostemplate{};
};

struct exec_options {
  /// Environment of the command; empty means a minimal PATH/HOME/TERM set.
  std::vector<std::string> env{};
  std::string cwd = "/";
  /// Descriptors of the caller to give the command as stdin/stdout/stderr. -1: stdin reads
  /// /dev/null, stdout and stderr are captured into exec_result.
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  /// Called on the calling thread once the command runs, with its PID as the caller sees it,
  /// before exec() waits for it: the caller may signal it meanwhile. The command leads a
  /// session of its own inside the VE (a daemon it leaves must not belong to one led
  /// outside), so a terminal's Ctrl-C reaches only the caller, which forwards it (ovzctl
  /// exec does). Must not throw.
  std::function<void(pid_t)> started{};
};

struct exec_result {
  /// The command's exit status; 128+N when killed by signal N, as shells report it.
  int exit_code = 0;
  std::string out{};  ///< captured stdout (when not redirected)
  std::string err{};  ///< captured stderr (when not redirected)
};

struct enter_options {
  /// The shell to run; empty means /bin/bash when the VE has it, else /bin/sh.
  std::vector<std::string> argv{};
  /// The terminal to relay: its input goes to the VE's shell, the shell's output to it.
  int in_fd = 0;
  int out_fd = 1;
};

struct console_options {
  /// The terminal to relay: its input is typed on the VE's console, the console's output
  /// goes to it.
  int in_fd = 0;
  int out_fd = 1;
  /// Typed at the start of a line and followed by '.', it detaches (vzctl's "Esc ."); 0: no
  /// detach key, the relay ends only with the VE or the input.
  char detach_key = '\x1b';
};

/// Several kinds of settings changed together, as one `vzctl set` command names them; what
/// is not named stays as it is.
struct ve_changes {
  std::optional<std::string> hostname{};
  ve_params params{};
  security_changes security{};
  network_changes network{};
  /// CTID.conf's STOP_TIMEOUT: how long a stop lets init shut down (whole seconds). Kept in
  /// CTID.conf only, so it needs `save` on a running VE.
  std::optional<std::chrono::seconds> stop_timeout{};
  /// CTID.conf's NAMESERVER (vzctl set --nameserver): IPv4 or IPv6 addresses written into
  /// the VE's /etc/resolv.conf as its "nameserver" lines, at every start and at once in a
  /// running VE; {"inherit"}: the host's (read at each start). Empty: NAMESERVER removed,
  /// the VE's resolv.conf left as it is from then on.
  std::optional<std::vector<std::string>> nameservers{};
  /// CTID.conf's SEARCHDOMAIN (vzctl set --searchdomain): domains for resolv.conf's
  /// "search" line, as nameservers.
  std::optional<std::vector<std::string>> searchdomains{};
  /// CTID.conf's ONBOOT (vzctl set --onboot): start_all() with `onboot_only` starts the VE.
  /// Kept in CTID.conf only, so it needs `save` on a running VE.
  std::optional<bool> onboot{};
};

/// One VE under a state root. The object is a light handle (CTID and paths); the VE's state
/// lives in the kernel and the state root, so several handles, processes or a restarted
/// program see the same VE. Operations that change a VE hold its lock; a second one at the
/// same time fails with errc::locked.
class OVZ_API ve {
 public:
  /// A handle to the VE `id` under `state_root` (resolve_state_root() is applied, so an
  /// empty path means OVZ_ROOT or the default). The VE need not exist.
  static result<ve> open(ctid id, const std::filesystem::path& state_root = {});
  /// The same, on `on` rather than the host detected once per process (host::detect()):
  /// its cgroups, its log sink.
  static result<ve> open(ctid id, const std::filesystem::path& state_root, const host& on);

  ctid id() const noexcept { return id_; }
  const std::filesystem::path& state_root() const noexcept { return root_; }
  /// `<state root>/conf/<CTID>.conf`, OpenVZ's CTID.conf.
  std::filesystem::path conf_path() const;
  /// `<state root>/private/<CTID>`: everything the VE stores (VE_PRIVATE in OpenVZ).
  std::filesystem::path private_path() const;

  /// Makes the VE's config and private area from a template. Refuses an existing VE, a bad
  /// hostname or a missing template, and then leaves nothing behind.
  result<void> create(const create_options& opts = {});
  /// Starts the VE: its own PID, mount, UTS, IPC, network and cgroup namespaces and cgroup,
  /// root pivoted into the overlay of template and private area, init as PID 1.
  result<void> start(const start_options& opts = {});
  /// What start() would make of the VE, as text with an item per line (namespaces, id map,
  /// storage and mounts, limits, device rules, dropped capabilities, seccomp profile,
  /// no_new_privs, RLIMIT_NOFILE, network, hostname, environment, init, console log),
  /// without doing any of it. Refuses what start() would refuse in CTID.conf.
  result<std::string> plan(const start_options& opts = {}) const;
  /// Starts the VE with `argv` as its init and waits until it exits; the VE is stopped again
  /// afterwards. Returns the exit code (128+N for signal N).
  result<int> run(const std::vector<std::string>& argv);
  /// Stops the VE: asks its init to shut down the way it understands (systemd: SIGRTMIN+3;
  /// sysvinit: runlevel 0 through /run/initctl; busybox init: SIGUSR2; any other: SIGTERM),
  /// waits for it up to the timeout, then kills everything left through the cgroup.
  /// Nothing of the VE survives: no process, no mount, no cgroup.
  result<void> stop(const stop_options& opts = {});
  /// stop() if running, then start().
  result<void> restart(const stop_options& stop = {}, const start_options& start = {});
  /// Freezes every process of the running VE where it stands (vzctl suspend): it uses no CPU
  /// and answers nothing until resume(); status() says `suspended`, and what needs its
  /// processes to run (exec(), enter(), set_user_password() on a running VE) fails with
  /// errc::suspended meanwhile; stop() resumes it first. errc::not_running when the VE is
  /// not running.
  result<void> suspend();
  /// Lets a suspended VE run on (vzctl resume), its host side put back first when a
  /// migration in doubt cut it off; fine on a running VE that is not suspended.
  result<void> resume();

  /// `<state root>/dump/<CTID>`: where checkpoint() and restore() keep the VE's checkpoint
  /// when they are given no directory (vzctl's Dump.CTID).
  std::filesystem::path dump_path() const;
  /// Writes the running VE — its processes, memory, open files, sockets and TCP connections
  /// — into the directory `dir` (empty: dump_path()) with CRIU, its cgroup frozen meanwhile,
  /// beside a manifest (checkpoint_manifest) and its CTID.conf, then stops it unless
  /// `opts.leave_running`. A dump that fails leaves the VE running as it was and no
  /// directory behind. errc::unsupported, with CRIU's reason, where this host cannot
  /// checkpoint (checkpoint_supported()).
  result<void> checkpoint(const std::filesystem::path& dir = {},
                          const checkpoint_options& opts = {});
  /// Starts the stopped VE from a checkpoint in `dir` (empty: dump_path()): its cgroup,
  /// limits, addresses and storage as a start makes them, its processes as they were (the
  /// same PIDs inside). The manifest is checked first: a checkpoint of another VE, of
  /// another architecture or cgroup version is refused before anything starts. A restore
  /// that fails leaves the VE stopped, as it was.
  result<void> restore(const std::filesystem::path& dir = {});

  /// Moves the VE to the receive_ve() at the other end of `fd`, a connected stream: its
  /// config, private area and (online) checkpoint, then it runs there as it ran here. The
  /// other side may refuse (a CTID it has, a template it has not) before anything here
  /// changes. Any failure before it runs there leaves it here as it was and
  /// errc::peer_failed or the local error: offline started again; online the same processes
  /// run on, the final dump's freeze undone. Once the other side has it, nothing of it stays
  /// here. When the other side's last answer (that it runs the VE, or why not) never comes,
  /// the VE may run there: it is left here with errc::in_doubt, never run twice — offline
  /// stopped, online suspended with its host side cut off (its devices down and set aside,
  /// its routes gone) — for its owner to start or resume() here, or destroy. The lock is
  /// held throughout.
  result<void> migrate(int fd, const migrate_options& opts = {});

  /// Removes a stopped VE: its config first (the VE is gone), then its private area. What a
  /// crashed destroy left of the data is removed by the next create or destroy of the CTID;
  /// destroy of a VE that does not exist removes it and returns errc::not_found.
  result<void> destroy();

  result<ve_status> status() const;
  /// The VE's CTID.conf.
  result<ve_config> config() const;

  /// Runs argv inside the running VE (its namespaces, cgroup and root) and waits for it.
  result<exec_result> exec(const std::vector<std::string>& argv,
                           const exec_options& opts = {}) const;
  /// An interactive shell inside on a new pseudo-terminal, relayed to the caller's terminal
  /// until the shell exits; returns its exit code.
  result<int> enter(const enter_options& opts = {}) const;

  /// A connection to the running VE's console (its /dev/console, a terminal its monitor
  /// holds): what the VE writes there from now on arrives on it, what is written to it is
  /// typed there. For a program that relays it itself (a web terminal); console() relays
  /// it to a terminal. Several may be open at once. errc::not_running when the VE is not.
  result<unique_fd> open_console() const;

  /// Relays the caller's terminal (in raw mode meanwhile) to the VE's console, as `vzctl
  /// console`, until the detach sequence is typed (true) or the VE stops (false).
  result<bool> console(const console_options& opts = {}) const;

  /// Sets `user`'s password in the VE, adding the user when it has none, as `vzctl set
  /// --userpasswd USER:PASSWORD` (useradd -m: a group of its name, /home/USER, /bin/sh).
  /// Nothing of it goes into CTID.conf, and the password is on no process's command line.
  /// A running VE's own chpasswd and useradd do it, run inside as exec() runs commands, the
  /// password on their stdin; a stopped VE (or a running one without them: busybox) has its
  /// /etc/passwd, shadow, group and gshadow edited by the host through its root as the VE
  /// sees it, under the VE's /etc/.pwd.lock, with a yescrypt hash. A bad user name or
  /// password (empty, a newline) is errc::invalid_argument and changes nothing.
  result<void> set_user_password(const std::string& user, const std::string& password);

  /// Changes hostname, resources, confinement and network as one change: each part as
  /// set_hostname(), set(), set_security() and add_ip() … del_netif() describe, under one lock
  /// and with one save of CTID.conf. When a part is refused or the save fails, the live
  /// changes already made are undone, so the VE and its CTID.conf are as they were; a bridged
  /// device deleted live comes back as CTID.conf describes it (what the VE set on it inside is
  /// gone, and one that was never saved cannot come back).
  result<void> apply(const ve_changes& changes, bool save);

  /// Changes resource settings (beancounters, CPU): at once in a running VE, and in
  /// CTID.conf when `save` (or when the VE is stopped, where nothing else would keep them);
  /// a running VE picks the saved ones up at its next start. Everything is checked before
  /// anything changes. Limits this host cannot enforce are kept and reported as such by
  /// beancounters().
  result<void> set(const ve_params& changes, bool save);
  /// The settings in CTID.conf; what it does not name is unlimited (CPU: 1000 units, no
  /// ceiling, all CPUs).
  result<ve_params> params() const;
  /// Every beancounter: held and maxheld measured from the kernel where this host can
  /// (zero and `measured == false` where it cannot), barrier and limit as in force (a
  /// limit the kernel enforces on the running VE as the kernel holds it, so a change not
  /// saved shows; the others as CTID.conf sets them), failcnt as the kernel counted refusals.
  result<ubc_snapshot> beancounters() const;
  /// The CPU time the VE's processes used since its start, all CPUs together, user and system
  /// (OpenVZ's /proc/vz/vestat); a rate of use is the difference of two readings over the
  /// time between them. Zero for a stopped VE; errc::not_found for one that does not exist.
  result<std::chrono::microseconds> cpu_time() const;
  /// The VE's disk usage against DISKSPACE and DISKINODES (`vzquota stat`), running or not.
  /// errc::unsupported for a VE created without a diskspace, which has no quota.
  result<disk_quota> quota() const;
  /// Limits one user's or group's files inside the VE (vzquota setlimit2; the VE's root sets
  /// them with the same effect through its quota tools): `blocks` in 1 KiB blocks, `inodes`;
  /// zeros remove them, an empty one keeps what the user or group has. Running or not. Needs the kernel's quota and QUOTAUGIDLIMIT
  /// above 0, which caps how many users and groups have limits (errc::unsupported, and
  /// errc::invalid_argument naming it, when not).
  result<void> set_ugid_quota(quota_ugid owner, std::optional<disk_limit> blocks,
                              std::optional<disk_limit> inodes);
  /// Every user and group with files or limits on the VE's disk, users first, by id
  /// (repquota); errc::unsupported without the kernel's quota on its disk.
  result<std::vector<ugid_quota>> ugid_quotas() const;

  /// Changes the hostname: live in a running VE, and in CTID.conf when `save` (or when the VE
  /// is stopped, where nothing else would keep it). The VE's /etc/hostname and /etc/hosts
  /// follow (at once in a running VE, else at its next start): hosts keeps a "127.0.0.1
  /// localhost" line and maps the VE's first address (127.0.1.1 without one) to "FQDN SHORT",
  /// its other lines as they were, so `hostname -f` answers inside.
  result<void> set_hostname(const std::string& hostname, bool save);

  /// The VE's confinement as CTID.conf sets it (CAPABILITY, DEVNODES, SECCOMP_PROFILE,
  /// NO_NEW_PRIVS).
  result<ve_security> security() const;
  /// Changes the confinement. Device nodes are granted or revoked at once in a running VE
  /// (its /dev and the device cgroup follow); capabilities, the seccomp profile and
  /// no_new_privs cannot change in running processes, so in a running VE they must be saved
  /// and apply to commands run inside from then on and to the next start. Saved in CTID.conf
  /// when `save` or when the VE is stopped. Everything is checked (names, the host's nodes, the
  /// profile file) before anything changes.
  result<void> set_security(const security_changes& changes, bool save);

  /// Network changes (see network.hpp) follow set_hostname's rule: live in a running VE, and
  /// in CTID.conf when `save` (or when the VE is stopped); a start applies what CTID.conf
  /// holds. Bad input (an invalid or reserved address, one another VE or the host already
  /// has, an unknown device, a bridge name taken by another kind of device) is refused, and a
  /// save that fails undoes the live change: the VE is as it was. Each is apply() with that
  /// one change; apply() takes several.
  ///
  /// Adds a routed address on the VE's venet0 (vzctl set --ipadd).
  result<void> add_ip(const ip_address& addr, bool save);
  /// Removes a routed address (vzctl set --ipdel ADDR).
  result<void> del_ip(const ip_address& addr, bool save);
  /// Removes every routed address (vzctl set --ipdel all).
  result<void> del_all_ips(bool save);
  /// Adds a bridged veth device (vzctl set --netif_add); empty fields of `spec` get
  /// vzctl's defaults, saved with it.
  result<void> add_netif(const netif_spec& spec, bool save);
  /// Removes a bridged device by its name inside the VE (vzctl set --netif_del).
  result<void> del_netif(const std::string& ifname, bool save);
  /// The network CTID.conf holds: IP_ADDRESS and NETIF.
  result<ve_network> network() const;

 private:
  ve(ctid id, std::filesystem::path root, std::optional<ovz::host> on = {})
      : id_(id), root_(std::move(root)), host_(std::move(on)) {}
  friend class detail::ve_op;
  ctid id_;
  std::filesystem::path root_;
  std::optional<ovz::host> host_;  // none: host::detect(), when an operation first needs it
};

/// Every VE under the state root, by CTID.
OVZ_API result<std::vector<ve_status>> list_ves(const std::filesystem::path& state_root = {});

/// What start_all() or stop_all() did to one VE.
struct ve_batch_entry {
  ctid id;
  /// Started (stopped); false when there was nothing to do: it ran (was stopped) already,
  /// or failed.
  bool done = false;
  std::optional<error> failure{};  ///< why it could not be started (stopped)
};

/// Starts the VEs under the state root one after another in CTID order, as start() does: with
/// `onboot_only` those whose CTID.conf says ONBOOT="yes" (vzctl start at the host's boot,
/// `ovzctl start --onboot`), else every one (`--all`). One that runs already is left as it
/// is, and one that fails does not keep the others from starting: the entries say which
/// did what. An error only when the state root cannot be listed.
OVZ_API result<std::vector<ve_batch_entry>> start_all(const std::filesystem::path& state_root = {},
                                                      bool onboot_only = true);
/// Stops every running VE under the state root, as stop(opts) does, in CTID order (`ovzctl
/// stop --all`, at the host's shutdown); one that fails does not keep the others running.
OVZ_API result<std::vector<ve_batch_entry>> stop_all(const std::filesystem::path& state_root = {},
                                                     const stop_options& opts = {});

/// The beancounters of every running VE under the state root, by CTID (what
/// /proc/user_beancounters shows on an OpenVZ host), as a ubc_reader reads them but closing
/// each VE's files once it is read. A program that looks again and again keeps a ubc_reader.
OVZ_API result<std::vector<ubc_snapshot>> all_beancounters(
    const std::filesystem::path& state_root = {});

}  // namespace ovz::inline v0
