#include <ovz/oci_container.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "log.hpp"
#include "kernel/dirs.hpp"
#include "kernel/files.hpp"
#include "kernel/proc_stat.hpp"
#include "oci/cgroup_path.hpp"
#include "oci/json_fields.hpp"
#include "oci/oci_hooks.hpp"
#include "oci/oci_listener.hpp"
#include "oci/oci_plan.hpp"
#include "oci/oci_process.hpp"
#include "oci/oci_seccomp.hpp"
#include "kernel/seccomp.hpp"
#include "oci/oci_source.hpp"
#include "oci/record.hpp"
#include "ve/live_state.hpp"
#include "ve/locate.hpp"
#include "ve/monitor.hpp"
#include "ve/plan_apply.hpp"
#include "ve/ve_namespaces.hpp"
#include "ve/ve_op.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>

namespace ovz::inline v0 {
namespace {

using detail::oci_paths;
using detail::oci_record;

constexpr detail::ve_op::needs locked{.lock = true};

// The init the record names, if it is that process still and has not ended: a PID reused
// by another process, or a zombie its parent has not reaped yet, is a stopped container.
bool init_alive(const oci_record& r) {
  if (r.init_pid <= 0) return false;
  auto st = detail::read_proc_stat(r.init_pid);
  return st && st->state != 'Z' && st->start_ticks == r.init_start;
}

// Held while a container's ID is taken or given back, so that two creates never choose the
// same CTID or ID.
result<unique_fd> lock_ids(const std::filesystem::path& root) {
  const auto dir = root / "oci";
  BOOST_OUTCOME_TRY(detail::make_root_only_dir(root));
  BOOST_OUTCOME_TRY(detail::make_root_only_dir(dir));
  unique_fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return detail::sys_fail(errno, "open {}", dir.string());
  while (::flock(fd.get(), LOCK_EX) != 0)
    if (errno != EINTR) return detail::sys_fail(errno, "lock {}", dir.string());
  return fd;
}

// The lowest CTID without a CTID.conf under the root.
result<ctid> free_ctid(const std::filesystem::path& root) {
  for (std::uint32_t n = 1; n <= ctid::max; ++n) {
    BOOST_OUTCOME_TRY(id, ctid::from_number(n));
    std::error_code ec;
    if (!std::filesystem::exists(detail::layout_of(root, id).conf, ec) && !ec) return id;
  }
  return detail::fail(errc::already_exists, "no free CTID under {}", root.string());
}

result<ve_config> ve_config_for(const oci_bundle& b, const std::string& id, const ve_params& params,
                                const detail::ve_layout& l) {
  ve_config conf;
  BOOST_OUTCOME_TRY(params_to_config(params, conf));
  BOOST_OUTCOME_TRY(cgroup, detail::oci_cgroup_path(b.cgroups_path, l.cgroup_parent));
  for (auto [key, value] : {std::pair<std::string_view, std::string>{"NAME", id},
                            {"HOSTNAME", b.hostname},
                            {"VE_LAYOUT", "simfs"},
                            {"VE_PRIVATE", b.root.string()},
                            {"VE_ROOT", l.mount_point.string()},
                            {"OCI_BUNDLE", b.dir.string()},
                            {detail::cgroup_path_key, cgroup}}) {
    if (value.empty()) continue;
    BOOST_OUTCOME_TRY(conf.set(key, value));
  }
  return conf;
}

// What a hook is given on its stdin.
std::string hook_state(const std::string& id, oci_status status, pid_t pid, const oci_bundle& b) {
  oci_state s;
  s.id = id;
  s.status = status;
  s.pid = pid;
  s.bundle = b.dir;
  s.annotations = b.annotations;
  return to_json(s);
}

// The VE's process made as the plan says, its record kept: the part of create that runs
// under the VE's lock.
result<oci_record> launch(const std::filesystem::path& root, const std::string& id,
                          const oci_bundle& b, const ve_params& params, oci_record r,
                          const oci_paths& paths, const oci_io& io) {
  BOOST_OUTCOME_TRY(v, ve::open(*r.ve, root));
  return detail::ve_op::run(v, locked, [&](detail::ve_op& op) -> result<oci_record> {
    // A crashed runtime's leftovers of this CTID (an empty cgroup, a process) go first; a
    // cgroup the bundle named may be anyone's: taken only when empty, as runc takes it.
    if (op.layout.cgroup_parent.empty()) {
      BOOST_OUTCOME_TRY(pids, op.cg().procs(op.layout.cgroup));
      if (!pids.empty())
        return detail::fail(errc::already_exists,
                            "the cgroup /{} of cgroupsPath has processes already ({} of them, "
                            "PID {} first): it is another container's or the host's",
                            op.layout.cgroup, pids.size(), pids.front());
    } else if (op.cg().exists(op.layout.cgroup)) {
      BOOST_OUTCOME_TRY(detail::clean_up(op.host(), op.layout));
    }
    BOOST_OUTCOME_TRY(plan, detail::oci_plan_for(b, op.layout, params, detail::ve_cgroup_hierarchies()));
    if (::mkfifo(paths.gate.c_str(), 0600) != 0)
      return detail::sys_fail(errno, "mkfifo {}", paths.gate.string());
    // Read and write: the process holds a reader and a writer of its own, so neither its open
    // nor start's waits for the other.
    unique_fd gate(::open(paths.gate.c_str(), O_RDWR | O_CLOEXEC));
    if (!gate) return detail::sys_fail(errno, "open {}", paths.gate.string());
    std::unique_ptr<detail::seccomp_agent_link> agent;
    if (!plan.confine.notify.empty()) {
      BOOST_OUTCOME_TRY(link, detail::seccomp_agent_link::open(*b.seccomp, [&](pid_t pid) {
        return hook_state(id, oci_status::creating, pid, b);
      }));
      agent = std::move(link);
    }
    // createRuntime, then the deprecated prestart: in the runtime's namespaces, once the
    // container's exist (a CNI-style hook configures its network then).
    auto created = [&](pid_t pid) -> result<void> {
      if (agent) agent->set_pid(pid);
      const auto state = hook_state(id, oci_status::creating, pid, b);
      BOOST_OUTCOME_TRY(detail::run_hooks(b.hooks.create_runtime, "createRuntime", state));
      return detail::run_hooks(b.hooks.prestart, "prestart", state);
    };
    // createContainer: in the container's namespaces once its mounts are made, before the
    // pivot into its root.
    detail::oci_source::mounted_hook mounted;
    if (!b.hooks.create_container.empty()) {
      mounted = [&](pid_t pid, const detail::container_exec& exec) {
        return detail::run_hooks_inside(b.hooks.create_container, "createContainer",
                                        hook_state(id, oci_status::creating, pid, b), exec);
      };
    }
    detail::oci_source source(*b.process, io, gate.get(), b.root, created, mounted,
                              agent ? agent->process_end() : -1);
    auto init = detail::apply_plan(plan, op.layout, op.host(), source);
    auto handed = agent ? agent->finish() : result<void>(success());
    if (!init) {
      op.cg().remove_if_unused(op.layout.cgroup_parent);
      return init.error();
    }
    r.init_pid = init->pid();
    auto recorded = [&]() -> result<void> {
      BOOST_OUTCOME_TRY(handed);
      auto st = detail::read_proc_stat(init->pid());
      if (!st)
        return detail::fail(errc::child_failed, "the container's process {} is gone", init->pid());
      r.init_start = st->start_ticks;
      return detail::save_record(paths, r);
    }();
    if (!recorded) {
      detail::logged(detail::clean_up(op.host(), op.layout), "the container's clean-up");
      op.cg().remove_if_unused(op.layout.cgroup_parent);
      return recorded.error();
    }
    return r;
  });
}

// Removes what create made of the container outside its VE's cgroup: CTID.conf, its mount
// point and its record (the ID is free again once the record is gone).
result<void> forget(const std::filesystem::path& root, const oci_record& r, const oci_paths& paths) {
  std::error_code ec;
  if (r.ve) {
    const auto l = detail::layout_of(root, *r.ve);
    std::filesystem::remove(l.conf, ec);
    if (ec) return detail::sys_fail(ec.value(), "remove {}", l.conf.string());
    std::filesystem::remove(l.mount_point, ec);
  }
  std::filesystem::remove_all(paths.dir, ec);
  if (ec) return detail::sys_fail(ec.value(), "remove {}", paths.dir.string());
  return success();
}

result<std::string> read_text(const std::filesystem::path& p) { return detail::read_file(p.string()); }

// runc's rule: a terminal needs the socket its master side goes to, and the socket a terminal.
result<void> check_io(const oci_process& proc, const oci_io& io) {
  if (io.listen_fds > io.pass_fds.size())
    return detail::fail(errc::invalid_argument,
                        "{} listening sockets but {} descriptors passed: they are the first of "
                        "those passed", io.listen_fds, io.pass_fds.size());
  if (proc.terminal && io.console_socket < 0)
    return detail::fail(errc::invalid_argument,
                        "process.terminal is set: a console socket is needed for the terminal");
  if (!proc.terminal && io.console_socket >= 0)
    return detail::fail(errc::invalid_argument,
                        "a console socket was given but process.terminal is not set");
  return success();
}

// The record, and the state it and the kernel give without config.json's annotations: what
// every operation decides on (state() adds them; reading them means parsing config.json).
struct observed {
  oci_record record;
  oci_state state;
};

// Taken on the container's directory by create until its process is made and recorded: a
// reader that finds no process in the record waits for it (shared), then reads again.
result<unique_fd> lock_dir(const oci_paths& paths, int how) {
  unique_fd fd(::open(paths.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return detail::sys_fail(errno, "open {}", paths.dir.string());
  while (::flock(fd.get(), how) != 0)
    if (errno != EINTR) return detail::sys_fail(errno, "lock {}", paths.dir.string());
  return fd;
}

result<observed> observe(const std::filesystem::path& root, const std::string& id) {
  const oci_paths paths = detail::oci_paths_of(root, id);
  BOOST_OUTCOME_TRY(r, detail::load_record(paths, id));
  if (r.init_pid <= 0) {
    // Still being created (or its create failed and is forgetting it).
    auto waited = lock_dir(paths, LOCK_SH);
    if (!waited && waited.error().sys_errno() == ENOENT)
      return detail::fail(errc::not_found, "container does not exist: {}", id);
    if (!waited) return waited.error();
    BOOST_OUTCOME_TRY(again, detail::load_record(paths, id));
    r = again;
  }
  observed o{r, {}};
  oci_state& s = o.state;
  s.id = id;
  s.bundle = r.bundle;
  s.created = r.created;
  s.ve = r.ve;
  if (!init_alive(r)) return o;
  s.pid = r.init_pid;
  std::error_code ec;
  if (std::filesystem::exists(paths.gate, ec)) {
    s.status = oci_status::created;
    return o;
  }
  BOOST_OUTCOME_TRY(v, ve::open(*r.ve, root));
  BOOST_OUTCOME_TRY(frozen, detail::ve_op::run(v, {}, [](detail::ve_op& op) -> result<bool> {
    return op.cg().frozen(op.layout.cgroup);
  }));
  s.status = frozen ? oci_status::paused : oci_status::running;
  return o;
}

}  // namespace

const char* to_string(oci_status s) noexcept {
  switch (s) {
    case oci_status::creating: return "creating";
    case oci_status::created: return "created";
    case oci_status::running: return "running";
    case oci_status::paused: return "paused";
    case oci_status::stopped: return "stopped";
  }
  return "stopped";
}

std::filesystem::path default_oci_root() { return "/run/ovz-oci"; }

result<void> oci_container::check_id(std::string_view id) {
  const bool ok = !id.empty() && id.size() <= 1024 && id != "." && id != ".." &&
                  std::all_of(id.begin(), id.end(), [](char c) {
                    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '+' ||
                           c == '-' || c == '.';
                  });
  if (!ok)
    return detail::fail(errc::invalid_argument,
                        "invalid container ID \"{}\": letters, digits, '_', '+', '-' and '.' only",
                        detail::excerpt(std::string(id)));
  return success();
}

result<oci_container> oci_container::create(const std::filesystem::path& root, std::string id,
                                            const std::filesystem::path& bundle,
                                            const oci_io& io) {
  BOOST_OUTCOME_TRY(check_id(id));
  BOOST_OUTCOME_TRY(b, load_oci_bundle(bundle));
  if (!b.process)
    return detail::fail(errc::bad_config, "{}/config.json has no process", bundle.string());
  BOOST_OUTCOME_TRY(check_io(*b.process, io));
  BOOST_OUTCOME_TRY(params, oci_params(b.resources, b.annotations));
  const oci_paths paths = detail::oci_paths_of(root, id);

  oci_record r;
  unique_fd being_created;  // held until the record names the process, or the ID is free again
  {
    auto held = lock_ids(root);  // released at the end of this block
    if (!held) return held.error();
    if (::mkdir(paths.dir.c_str(), 0700) != 0) {
      if (errno == EEXIST)
        return detail::fail(errc::already_exists, "container with given ID already exists: {}", id);
      return detail::sys_fail(errno, "mkdir {}", paths.dir.string());
    }
    auto creating = lock_dir(paths, LOCK_EX);
    if (!creating) {
      detail::logged(forget(root, r, paths), "forget the container " + id);
      return creating.error();
    }
    being_created = std::move(*creating);
    auto reserved = [&]() -> result<void> {
      BOOST_OUTCOME_TRY(ve, free_ctid(root));
      r.ve = ve;
      r.bundle = b.dir;
      r.created = detail::rfc3339_now();
      BOOST_OUTCOME_TRY(l, detail::locate(root, ve));
      BOOST_OUTCOME_TRY(conf, ve_config_for(b, id, params, l));
      std::error_code ec;
      std::filesystem::create_directories(l.conf.parent_path(), ec);
      if (ec) return detail::sys_fail(ec.value(), "create {}", l.conf.parent_path().string());
      BOOST_OUTCOME_TRY(conf.save(l.conf));
      BOOST_OUTCOME_TRY(detail::save_record(paths, r));
      BOOST_OUTCOME_TRY(json, read_text(b.dir / "config.json"));
      return detail::replace_file(paths.config, json);
    }();
    if (!reserved) {
      detail::logged(forget(root, r, paths), "forget the container " + id);
      return reserved.error();
    }
  }
  auto launched = launch(root, id, b, params, r, paths, io);
  if (!launched) {
    detail::logged(forget(root, r, paths), "forget the container " + id);
    return launched.error();
  }
  return oci_container(root, std::move(id), *r.ve);
}

result<oci_container> oci_container::open(const std::filesystem::path& root, std::string_view id) {
  BOOST_OUTCOME_TRY(check_id(id));
  BOOST_OUTCOME_TRY(r, detail::load_record(detail::oci_paths_of(root, id), id));
  return oci_container(root, std::string(id), *r.ve);
}

result<std::vector<std::string>> oci_container::list(const std::filesystem::path& root) {
  std::vector<std::string> ids;
  std::error_code ec;
  std::filesystem::directory_iterator it(root / "oci", ec), end;
  if (ec && ec != std::errc::no_such_file_or_directory)
    return detail::sys_fail(ec.value(), "list {}", (root / "oci").string());
  for (; !ec && it != end; it.increment(ec)) {
    const auto id = it->path().filename().string();
    // The lock file and a create's half-made directory are no containers.
    if (check_id(id) && std::filesystem::exists(detail::oci_paths_of(root, id).record)) ids.push_back(id);
  }
  if (ec) return detail::sys_fail(ec.value(), "list {}", (root / "oci").string());
  std::sort(ids.begin(), ids.end());
  return ids;
}

result<oci_state> oci_container::state() const {
  BOOST_OUTCOME_TRY(o, observe(root_, id_));
  if (auto b = config()) {
    o.state.annotations = std::move(b->annotations);
    o.state.rootfs = std::move(b->root);
  }
  return std::move(o.state);
}

result<oci_bundle> oci_container::config() const {
  const oci_paths paths = detail::oci_paths_of(root_, id_);
  BOOST_OUTCOME_TRY(r, detail::load_record(paths, id_));
  BOOST_OUTCOME_TRY(json, read_text(paths.config));
  return parse_oci_config(json, r.bundle);
}

result<void> oci_container::start() {
  BOOST_OUTCOME_TRY(o, observe(root_, id_));
  const oci_state& s = o.state;
  if (s.status == oci_status::stopped)
    return detail::fail(errc::not_running, "cannot start a container that has stopped: {}", id_);
  if (s.status != oci_status::created)
    return detail::fail(errc::already_running, "cannot start an already running container: {}",
                        id_);
  BOOST_OUTCOME_TRY(b, config());
  const auto gate = detail::oci_paths_of(root_, id_).gate;
  // Without blocking: a process that died meanwhile has no reader open (ENXIO).
  unique_fd w(::open(gate.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (!w) {
    if (errno == ENXIO)
      return detail::fail(errc::not_running, "cannot start a container that has stopped: {}", id_);
    return detail::sys_fail(errno, "open {}", gate.string());
  }
  if (!b.hooks.start_container.empty()) {
    // In the container, before its own process; one that fails stops the container.
    auto ran = detail::run_hooks_inside(
        b.hooks.start_container, "startContainer", hook_state(id_, oci_status::created, s.pid, b),
        [this](const oci_process& p, const oci_io& io) { return exec(p, io, false); });
    if (!ran) {
      detail::logged(kill(SIGKILL, true), "stop the container " + id_);
      return ran.error();
    }
  }
  // A process killed since the open is EPIPE here, not SIGPIPE in the caller.
  if (!detail::write_all_quietly(w.get(), "0")) {
    if (errno == EPIPE)
      return detail::fail(errc::not_running, "cannot start a container that has stopped: {}", id_);
    return detail::sys_fail(errno, "write {}", gate.string());
  }
  if (::unlink(gate.c_str()) != 0) return detail::sys_fail(errno, "remove {}", gate.string());
  detail::run_hooks_warning(b.hooks.poststart, "poststart",
                            hook_state(id_, oci_status::running, s.pid, b));
  return success();
}

result<void> oci_container::pause() {
  BOOST_OUTCOME_TRY(o, observe(root_, id_));
  const oci_state& s = o.state;
  if (s.status != oci_status::running)
    return detail::fail(errc::not_running, "container not running: {} is {}", id_, to_string(s.status));
  BOOST_OUTCOME_TRY(v, ve::open(ve_, root_));
  return detail::ve_op::run(v, locked, [](detail::ve_op& op) { return op.cg().freeze(op.layout.cgroup); });
}

result<void> oci_container::resume() {
  BOOST_OUTCOME_TRY(o, observe(root_, id_));
  const oci_state& s = o.state;
  if (s.status != oci_status::paused)
    return detail::fail(errc::not_running, "container not paused: {} is {}", id_, to_string(s.status));
  BOOST_OUTCOME_TRY(v, ve::open(ve_, root_));
  return detail::ve_op::run(v, locked, [](detail::ve_op& op) { return op.cg().thaw(op.layout.cgroup); });
}

result<void> oci_container::update(const oci_resources& resources) {
  BOOST_OUTCOME_TRY(o, observe(root_, id_));
  const oci_state& s = o.state;
  // A created container's process has not started: its VE is not running yet, so a change
  // would reach CTID.conf only.
  if (s.status == oci_status::stopped || s.status == oci_status::created)
    return detail::fail(errc::not_running, "container not running: {} is {}", id_,
                        to_string(s.status));
  BOOST_OUTCOME_TRY(params, oci_params(resources));
  BOOST_OUTCOME_TRY(v, ve::open(ve_, root_));
  BOOST_OUTCOME_TRY(v.set(params, true));
  if (resources.unified.empty()) return success();
  return detail::ve_op::run(v, locked, [&](detail::ve_op& op) -> result<void> {
    BOOST_OUTCOME_TRY(cg, op.cg().open(op.layout.cgroup));
    return op.cg().resources().write_files(cg, resources.unified);
  });
}

result<std::vector<pid_t>> oci_container::processes() const {
  BOOST_OUTCOME_TRY(v, ve::open(ve_, root_));
  return detail::ve_op::run(v, {}, [](detail::ve_op& op) { return op.cg().procs(op.layout.cgroup); });
}

result<void> oci_container::kill(int signal, bool all) {
  BOOST_OUTCOME_TRY(o, observe(root_, id_));
  const oci_state& s = o.state;
  if (s.status == oci_status::stopped) {
    if (all) return success();
    return detail::fail(errc::not_running, "container not running: {}", id_);
  }
  if (all) {
    BOOST_OUTCOME_TRY(pids, processes());
    for (pid_t pid : pids)
      if (::kill(pid, signal) != 0 && errno != ESRCH)
        return detail::sys_fail(errno, "kill {} {}", signal, pid);
  } else {
    BOOST_OUTCOME_TRY(init, process::open(s.pid));
    BOOST_OUTCOME_TRY(init.signal(signal));
  }
  if (s.status == oci_status::paused && signal == SIGKILL) {
    BOOST_OUTCOME_TRY(v, ve::open(ve_, root_));
    return detail::ve_op::run(v, {}, [](detail::ve_op& op) { return op.cg().thaw(op.layout.cgroup); });
  }
  return success();
}

result<void> oci_container::destroy(bool force) {
  BOOST_OUTCOME_TRY(o, observe(root_, id_));
  const oci_state& s = o.state;
  if ((s.status == oci_status::running || s.status == oci_status::paused) && !force)
    return detail::fail(errc::already_running, "cannot delete container {} that is not stopped: {}",
                        id_, to_string(s.status));
  BOOST_OUTCOME_TRY(v, ve::open(ve_, root_));
  BOOST_OUTCOME_TRY(detail::ve_op::run(v, locked, [](detail::ve_op& op) -> result<void> {
    BOOST_OUTCOME_TRY(op.cg().thaw(op.layout.cgroup));
    BOOST_OUTCOME_TRY(detail::clean_up(op.host(), op.layout));
    op.cg().remove_if_unused(op.layout.cgroup_parent);
    return success();
  }));
  // Read before forget() removes the copy of config.json.
  auto b = config();
  {
    auto held = lock_ids(root_);
    if (!held) return held.error();
    BOOST_OUTCOME_TRY(forget(root_, o.record, detail::oci_paths_of(root_, id_)));
  }
  if (b && !b->hooks.poststop.empty())
    detail::run_hooks_warning(b->hooks.poststop, "poststop",
                              hook_state(id_, oci_status::stopped, 0, *b));
  return success();
}

result<process> oci_container::exec(const oci_process& proc, const oci_io& io, bool detach) {
  BOOST_OUTCOME_TRY(check_io(proc, io));
  BOOST_OUTCOME_TRY(o, observe(root_, id_));
  const oci_state& s = o.state;
  if (s.status == oci_status::stopped)
    return detail::fail(errc::not_running, "cannot exec in a stopped container: {}", id_);
  if (s.status == oci_status::paused)
    return detail::fail(errc::suspended, "cannot exec in a paused container: {}", id_);
  BOOST_OUTCOME_TRY(init, process::open(s.pid));
  BOOST_OUTCOME_TRY(v, ve::open(ve_, root_));
  BOOST_OUTCOME_TRY(op, detail::ve_op::begin(v, {}));
  BOOST_OUTCOME_TRY(b, config());
  spawn_spec spec;
  detail::set_process(spec, proc, io, b.root);
  // The container's filter holds for what is started in it too, its listener going to the
  // agent as the init's did.
  BOOST_OUTCOME_TRY(filter, detail::oci_seccomp_filter(b.seccomp));
  std::unique_ptr<detail::seccomp_agent_link> agent;
  if (filter) {
    BOOST_OUTCOME_TRY(program,
                      detail::compile_seccomp(filter->profile, detail::broker_scope::none,
                                              filter->notify));
    spec.seccomp = std::move(program);
    if (!filter->notify.empty()) {
      BOOST_OUTCOME_TRY(link, detail::seccomp_agent_link::open(*b.seccomp, [&](pid_t) {
        return hook_state(id_, s.status, s.pid, b);
      }));
      agent = std::move(link);
      spec.seccomp_listener_socket = agent->process_end();
    }
  }
  spec.helper = detail::spawn_helper();
  spec.detach = detach;
  spec.prepare = [&](pid_t pid) {
    if (agent) agent->set_pid(pid);
    return op.cg().attach_beside(op.layout.cgroup, init.pid(), pid);
  };
  BOOST_OUTCOME_TRY(which, detail::ve_namespaces(init));
  auto child = spawn_in(init, which, spec);
  auto handed = agent ? agent->finish() : result<void>(success());
  if (child && !handed) {
    // A process whose agent never got its listener would run without its answers.
    if (auto started = process::open(agent->pid()))
      detail::logged(started->signal(SIGKILL), "stop the process exec started");
    if (!detach) (void)child->wait();
    return detail::with_context(handed.error(), "exec in " + id_);
  }
  if (!child)
    return detail::unless_stopped(op.cg(), op.layout, init,
                                  detail::with_context(child.error(), "exec in " + id_));
  return child;
}

std::string to_json(const oci_state& s) {
  const auto quoted = &detail::json::quoted;  // not std::quoted, which ADL would find
  std::string annotations;
  for (const auto& [k, v] : s.annotations)
    annotations += fmt::format("{}\n    {}: {}", annotations.empty() ? "" : ",", quoted(k), quoted(v));
  return fmt::format(
      "{{\n  \"ociVersion\": \"{}\",\n  \"id\": {},\n  \"pid\": {},\n  \"status\": \"{}\",\n"
      "  \"bundle\": {},\n  \"rootfs\": {},\n  \"created\": {},\n  \"owner\": \"\",\n"
      "  \"annotations\": {{{}{}}}\n}}\n",
      oci_spec_version, quoted(s.id), s.pid, to_string(s.status), quoted(s.bundle.string()),
      quoted(s.rootfs.string()), quoted(s.created), annotations,
      annotations.empty() ? "" : "\n  ");
}

}  // namespace ovz::inline v0
