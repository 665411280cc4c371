#pragma once
// Who owns a VE's cgroup: where it is made, how processes enter it, are frozen, listed and
// killed, and how it goes. What is written into it is the resources' part
// (kernel/cgroup_resources.hpp). Every operation takes the cgroup with the sub-cgroups below
// it: a VE's own init (a systemd) makes `init.scope`, `system.slice`, … and moves its
// processes there. Paths are relative to the hierarchy roots, e.g. "ovz/101".
//
// The manager is chosen by detection at run time (kernel/cgroup_detect.cpp): systemd where it
// owns a cgroup v2 tree (kernel/systemd_cgroups.cpp: each VE a delegated scope), otherwise
// cgroupfs, v2 where /sys/fs/cgroup is cgroup2, v1 on legacy and hybrid hosts (controllers
// mounted one per directory under /sys/fs/cgroup).

#include <ovz/result.hpp>

#include "kernel/cgroup_dir.hpp"
#include "kernel/cgroup_resources.hpp"

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace ovz::detail {

class cgroup_manager;
/// What is done to a VE's cgroup once made, before its init runs: limits, device rules.
using cgroup_setup = std::function<result<void>(const ve_cgroup&)>;

/// A VE's cgroup being made for its init (cgroup_manager::begin). Where the manager can make
/// a cgroup with no process in it (cgroupfs), it is made and set up before the init exists,
/// so that the kernel starts the init in it (clone_fd(), CLONE_INTO_CGROUP on v2). Where it
/// cannot (a systemd scope exists only around a process), admit() makes it around the init,
/// which waits to be released. Either way the init runs nothing of the VE's before admit()
/// returns, so the limits hold from its first instruction.
class cgroup_birth {
 public:
  /// For clone3's CLONE_INTO_CGROUP; -1 when the init is born elsewhere and admit()ted.
  int clone_fd() const noexcept;
  /// Puts the waiting init `pid` in the cgroup, made and set up by the time it returns.
  result<void> admit(pid_t pid);

 private:
  friend class cgroup_manager;
  cgroup_birth(cgroup_manager& m, std::string path, cgroup_setup setup)
      : m_(&m), path_(std::move(path)), setup_(std::move(setup)) {}
  cgroup_manager* m_;
  std::string path_;
  cgroup_setup setup_;
  std::optional<ve_cgroup> held_;
};

class cgroup_manager {
 public:
  virtual ~cgroup_manager() = default;

  /// 1 or 2.
  virtual int version() const noexcept = 0;
  /// Who makes the VEs' cgroups: "cgroupfs" (libovz itself) or "systemd".
  virtual const char* name() const noexcept { return "cgroupfs"; }
  /// Starts the birth of the cgroup `path` for a VE's init, `setup` to be run on it once made.
  result<cgroup_birth> begin(const std::string& path, cgroup_setup setup);
  /// Creates the cgroup and its missing parents, with the controllers VEs use enabled, and
  /// returns it held open. errc::unsupported where a cgroup cannot exist without a process
  /// (needs_process()).
  virtual result<ve_cgroup> create(const std::string& path) = 0;
  /// Where the cgroup `path` is in its hierarchy, as /proc/PID/cgroup names it ("/a/b"): the
  /// same in every hierarchy VEs use.
  virtual std::string hierarchy_path(const std::string& path) const { return "/" + path; }
  /// True when the manager makes a cgroup only around a process (create_with()).
  virtual bool needs_process() const noexcept { return false; }
  /// Creates the cgroup with `pid` (a process waiting to be released) in it: by default
  /// create() and then attach(); a manager that needs_process() makes it around the process.
  virtual result<ve_cgroup> create_with(const std::string& path, pid_t pid);
  /// The existing cgroup, held open; ENOENT when it is missing (in a hierarchy VEs use).
  virtual result<ve_cgroup> open(const std::string& path) const = 0;
  /// The cgroup at or below `path` that process `member` is in, held open: where a VE's own
  /// init moved itself (init.scope). Processes started in the VE join it there, as on v2 a
  /// cgroup whose controllers are enabled for its children takes no process (EBUSY). `path`
  /// itself when `member` is elsewhere.
  virtual result<ve_cgroup> open_of(const std::string& path, pid_t member) const = 0;
  /// Moves a process into the cgroup.
  virtual result<void> attach(const ve_cgroup& cg, pid_t pid) = 0;
  /// Moves `pid` into the cgroup `member` is in (open_of). A member that moves meanwhile is
  /// followed: systemd, booting, leaves the VE's cgroup for init.scope and then enables
  /// controllers behind it, and the cgroup read a moment before takes no process (EBUSY).
  virtual result<void> attach_beside(const std::string& path, pid_t member, pid_t pid);
  /// The descriptor clone3's CLONE_INTO_CGROUP takes to start a process in the cgroup; -1
  /// where the kernel has none (v1).
  virtual int clone_fd(const ve_cgroup& cg) const noexcept = 0;

  /// The processes in the cgroup and its sub-cgroups; an empty list when it does not exist.
  virtual result<std::vector<pid_t>> procs(const std::string& path) const = 0;
  /// The same of a cgroup held open (a reader holding its files rereads cgroup.procs in
  /// place); an empty list once it was removed.
  result<std::vector<pid_t>> procs(const ve_cgroup& cg) const;
  virtual bool exists(const std::string& path) const = 0;
  /// Stops every process of the cgroup and its sub-cgroups where it is (no fork, no exit, no
  /// signal handled) and returns once all are stopped; errc::timed_out after a second when a
  /// task cannot be stopped (uninterruptible sleep).
  virtual result<void> freeze(const std::string& path) = 0;
  /// Lets a frozen cgroup run again; fine when it does not exist.
  virtual result<void> thaw(const std::string& path) = 0;
  /// True when the cgroup is frozen, every task of it stopped (freeze() returned); false
  /// while a freeze is still under way, and when the cgroup or the freezer does not exist.
  /// One read of one small file: status() asks it of every running VE.
  virtual result<bool> frozen(const std::string& path) const = 0;
  /// SIGKILLs everything in the cgroup and its sub-cgroups and waits until they are empty.
  virtual result<void> kill_all(const std::string& path, std::chrono::milliseconds timeout) = 0;
  /// Removes the cgroup and its sub-cgroups, the deepest first (they must be empty); fine when
  /// it does not exist.
  virtual result<void> remove(const std::string& path) = 0;
  /// Removes the cgroup if it exists and is empty; otherwise leaves it. An empty path (the
  /// parent of a cgroup libovz was given) is left.
  virtual void remove_if_unused(const std::string& path) noexcept = 0;
  /// The counters of the cgroup; all zero (not `measured`) when it does not exist.
  result<cgroup_usage> stats(const std::string& path);
  /// The CPU time the cgroup used (cgroup_resources::cpu_time_us); 0 when it does not exist.
  result<std::uint64_t> cpu_time_us(const std::string& path);

  /// What writes limits and device rules into this manager's cgroups and reads them.
  virtual cgroup_resources& resources() noexcept = 0;
};

std::unique_ptr<cgroup_manager> make_cgroupfs_v1();
std::unique_ptr<cgroup_manager> make_cgroupfs_v2(std::string mount_point);
/// VEs' cgroups as delegated scopes of the systemd at `bus_address` (sd-bus's spelling, e.g.
/// "unix:path=/run/systemd/private"), in the cgroup2 hierarchy mounted at `mount_point`.
/// Fails when that systemd does not answer.
result<std::unique_ptr<cgroup_manager>> make_systemd_cgroups(std::string bus_address,
                                                             std::string mount_point);

/// The host's cgroup manager, detected once per process.
result<cgroup_manager*> host_cgroups();

}  // namespace ovz::detail
