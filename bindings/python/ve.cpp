// The VE class, and the reading of its arguments: CTIDs, commands, descriptors, and the
// keywords of set(), set_security() and apply() as the library's settings.

#include "convert.hpp"
#include "defines.hpp"
#include "watch.hpp"

#include <ovz/beancounter.hpp>
#include <ovz/checkpoint.hpp>
#include <ovz/config.hpp>
#include <ovz/cpu.hpp>
#include <ovz/ctid.hpp>
#include <ovz/disk_quota.hpp>
#include <ovz/migration.hpp>
#include <ovz/network.hpp>
#include <ovz/security.hpp>
#include <ovz/setting.hpp>
#include <ovz/ubc_watch.hpp>
#include <ovz/ve.hpp>
#include <ovz/ve_params.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

namespace ovz_python {

using namespace py::literals;

namespace {

// A CTID from an int or its decimal text. ctid::parse judges both, so every bad value gets
// the library's own message (a negative int included).
ovz::ctid to_ctid(const py::handle& value) {
  if (py::isinstance<py::bool_>(value) ||
      !(py::isinstance<py::int_>(value) || py::isinstance<py::str>(value)))
    throw py::type_error("a CTID is an int or a str of digits");
  return unwrap(ovz::ctid::parse(py::str(value).cast<std::string>()));
}

// A command: a str runs through /bin/sh -c, a list is the argv itself.
using command = std::variant<std::string, std::vector<std::string>>;

std::vector<std::string> to_argv(const command& cmd) {
  if (const auto* line = std::get_if<std::string>(&cmd)) return {"/bin/sh", "-c", *line};
  const auto& argv = std::get<std::vector<std::string>>(cmd);
  if (argv.empty()) raise_invalid("the command is empty");
  return argv;
}

// A descriptor given as an int or as an object with fileno() (a file, a socket); None is -1,
// which exec_options reads as "captured" (or /dev/null for stdin).
int to_fd(const py::object& f, const char* name) {
  if (f.is_none()) return -1;
  if (py::isinstance<py::int_>(f) && !py::isinstance<py::bool_>(f)) return f.cast<int>();
  if (py::hasattr(f, "fileno")) return f.attr("fileno")().cast<int>();
  throw py::type_error(std::string(name) + " is a descriptor (an int), an object with fileno() "
                       "or None");
}

// exec()'s environment from any mapping of str to str (a dict, os.environ), as NAME=value.
std::vector<std::string> to_env(const py::object& env) {
  std::vector<std::string> out;
  if (env.is_none()) return out;
  for (auto item : env.attr("items")()) {
    auto pair = item.cast<std::pair<std::string, std::string>>();
    if (pair.first.empty() || pair.first.find('=') != std::string::npos)
      raise_invalid("environment variable name \"" + pair.first + "\" is empty or holds '='");
    out.push_back(pair.first + "=" + pair.second);
  }
  return out;
}

// Each keyword of set(), set_security() and apply() is read by ovz::parse_setting, as ovzctl
// and the C ABI read theirs; here only the Python value becomes vzctl's text.
void add_setting(ovz::ve_changes& c, const std::string& name, const std::string& text) {
  unwrap(ovz::parse_setting(name, text, c));
}

bool is_int(const py::handle& v) {
  return py::isinstance<py::int_>(v) && !py::isinstance<py::bool_>(v);
}

// A resource keyword's value as vzctl's text: CPU numbers, quotatime and quotaugidlimit are
// ints, cpumask a str, and a beancounter, diskspace or diskinodes an int (both limits), a
// pair or vzctl's "B[:L]" ("SOFT[:HARD]").
std::string resource_text(const std::string& name, const py::handle& value) {
  if (name == "cpuunits" || name == "cpulimit" || name == "cpus" || name == "quotatime" ||
      name == "quotaugidlimit") {
    if (!is_int(value)) throw py::type_error(name + " is an int");
    return py::str(value).cast<std::string>();
  }
  if (name == "cpumask") {
    if (!py::isinstance<py::str>(value)) throw py::type_error("cpumask is a str");
    return value.cast<std::string>();
  }
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (is_int(value)) return py::str(value).cast<std::string>();
  if ((py::isinstance<py::tuple>(value) || py::isinstance<py::list>(value)) &&
      py::len(value) == 2) {
    auto pair = py::reinterpret_borrow<py::sequence>(value);
    for (auto item : pair)
      if (!is_int(item)) throw py::type_error(name + ": barrier and limit are ints");
    return py::str(pair[0]).cast<std::string>() + ":" + py::str(pair[1]).cast<std::string>();
  }
  throw py::type_error(name + ": expected an int, a (barrier, limit) pair or a 'B:L' str");
}

// set()'s keyword arguments as the library's ve_params; nothing is changed yet.
ovz::ve_params to_params(const py::dict& kwargs) {
  ovz::ve_changes c;
  for (auto [key, value] : kwargs) {
    const auto name = key.cast<std::string>();
    if (ovz::setting_kind_of(name) != ovz::setting_kind::resource)
      raise_invalid("unknown parameter \"" + name +
                    "\": not a beancounter, cpuunits, cpulimit, cpus, cpumask, diskspace, "
                    "diskinodes, quotatime or quotaugidlimit");
    add_setting(c, name, resource_text(name, value));
  }
  return c.params;
}

// params() as the keywords set() takes, so that ve.set(**ve.params()) changes nothing.
py::dict from_params(const ovz::ve_params& p) {
  py::dict d;
  for (const auto& [r, v] : p.ubc) d[ovz::to_string(r)] = py::make_tuple(v.barrier, v.limit);
  if (p.cpu.cpuunits) d["cpuunits"] = *p.cpu.cpuunits;
  if (p.cpu.cpulimit) d["cpulimit"] = *p.cpu.cpulimit;
  if (p.cpu.cpus) d["cpus"] = *p.cpu.cpus;
  if (p.cpu.cpumask) d["cpumask"] = *p.cpu.cpumask;
  const auto& disk = p.disk;
  if (disk.diskspace) d["diskspace"] = py::make_tuple(disk.diskspace->soft, disk.diskspace->hard);
  if (disk.diskinodes)
    d["diskinodes"] = py::make_tuple(disk.diskinodes->soft, disk.diskinodes->hard);
  if (disk.quotatime) d["quotatime"] = *disk.quotatime;
  if (disk.quotaugidlimit) d["quotaugidlimit"] = *disk.quotaugidlimit;
  return d;
}

// create()'s disk keywords, read as set() reads them.
ovz::disk_params to_disk(const py::object& diskspace, const py::object& diskinodes,
                         const py::object& quotatime, const py::object& quotaugidlimit) {
  py::dict given;
  for (auto [name, value] : {std::pair{"diskspace", &diskspace}, {"diskinodes", &diskinodes},
                             {"quotatime", &quotatime}, {"quotaugidlimit", &quotaugidlimit}})
    if (!value->is_none()) given[name] = *value;
  return to_params(given).disk;
}

// set_security()'s keywords: capability={"net_admin": True}, devnodes={"net/tun": "rw"}.
ovz::security_changes to_security(const std::optional<py::dict>& capability,
                                  const std::optional<py::dict>& devnodes,
                                  const std::optional<std::string>& seccomp_profile,
                                  std::optional<bool> no_new_privs) {
  ovz::ve_changes c;
  std::string caps;
  for (auto [name, on] : capability.value_or(py::dict())) {
    if (!py::isinstance<py::bool_>(on)) throw py::type_error("capability values are True or False");
    caps += name.cast<std::string>() + (on.cast<bool>() ? ":on " : ":off ");
  }
  if (!caps.empty()) add_setting(c, "capability", caps);
  std::string nodes;
  for (auto [name, access] : devnodes.value_or(py::dict()))
    nodes += name.cast<std::string>() + ":" + access.cast<std::string>() + " ";
  if (!nodes.empty()) add_setting(c, "devnodes", nodes);
  if (seccomp_profile) add_setting(c, "seccomp_profile", *seccomp_profile);
  if (no_new_privs) add_setting(c, "no_new_privs", *no_new_privs ? "yes" : "no");
  return c.security;
}

using string_list = std::vector<std::string>;

// apply()'s network keywords, valued as vzctl set's options.
ovz::network_changes to_network(const string_list& ipadd, const string_list& ipdel,
                                const string_list& netif_add, const string_list& netif_del) {
  ovz::ve_changes c;
  for (const auto& [name, values] : {std::pair{"ipadd", &ipadd}, {"ipdel", &ipdel},
                                     {"netif_add", &netif_add}, {"netif_del", &netif_del}})
    for (const auto& v : *values) add_setting(c, name, v);
  return c.network;
}

// security() as the keywords set_security() takes.
py::dict from_security(const ovz::ve_security& s) {
  py::dict caps, nodes, d;
  for (const auto& c : s.capabilities) caps[py::str(c.name)] = c.on;
  for (const auto& n : s.devnodes) nodes[py::str(n.name)] = ovz::to_string(n.access);
  d["capability"] = caps;
  d["devnodes"] = nodes;
  d["seccomp_profile"] = s.seccomp_profile.empty() ? "default" : s.seccomp_profile;
  d["no_new_privs"] = s.no_new_privs;
  return d;
}

py::dict from_config(const ovz::ve_config& conf) {
  py::dict d;
  for (const auto& key : conf.keys()) d[py::str(key)] = conf.get(key).value_or("");
  return d;
}

}  // namespace

void define_ve(py::module_& m) {
  py::class_<ovz::ve>(m, "VE",
                      "One VE under a state root: a light handle (CTID and paths). The VE "
                      "need not exist; its state lives in the kernel and the state root.")
      .def(py::init([](const py::handle& id, const std::optional<std::filesystem::path>& root) {
             return unwrap(ovz::ve::open(to_ctid(id), to_root(root)));
           }),
           "ctid"_a, "root"_a = py::none(),
           "A handle to VE `ctid` (an int or decimal str) under the state root `root` (None: "
           "$OVZ_ROOT or /var/lib/ovz). Raises InvalidArgument for a bad CTID.")
      .def_property_readonly("ctid", [](const ovz::ve& v) { return v.id().value(); },
                             "The CTID.")
      .def_property_readonly("root", &ovz::ve::state_root, "The state root (absolute).")
      .def_property_readonly("conf_path", &ovz::ve::conf_path,
                             "<state root>/conf/<CTID>.conf, OpenVZ's CTID.conf.")
      .def_property_readonly("private_path", &ovz::ve::private_path,
                             "<state root>/private/<CTID>: everything the VE stores.")
      .def(
          "create",
          [](ovz::ve& v, const std::optional<std::string>& ostemplate,
             const std::optional<std::string>& hostname, bool userns,
             const std::optional<std::string>& config, const py::object& diskspace,
             const py::object& diskinodes, const py::object& quotatime,
             const py::object& quotaugidlimit) {
            ovz::create_options opts{
                .ostemplate = ostemplate.value_or(""),
                .hostname = hostname.value_or(""),
                .config = config.value_or(""),
                .userns = userns,
                .disk = to_disk(diskspace, diskinodes, quotatime, quotaugidlimit)};
            unwrap(without_gil([&] { return v.create(opts); }));
          },
          "ostemplate"_a = py::none(), "hostname"_a = py::none(), py::kw_only(),
          "userns"_a = false, "config"_a = py::none(), "diskspace"_a = py::none(),
          "diskinodes"_a = py::none(), "quotatime"_a = py::none(),
          "quotaugidlimit"_a = py::none(),
          "Makes the VE from a template (None: the built-in 'busybox') with a hostname "
          "(None: 'ct<CTID>'); with userns=True an unprivileged VE in a user namespace of its "
          "own, its root a free range of host ids for its whole life; config names the limits "
          "sample CTID.conf starts from (None: 'basic'; shipped: 'basic', 'light', "
          "'unlimited'; the state root's conf/ve-NAME.conf-sample wins). With a diskspace "
          "(1 KiB blocks: an int, a (soft, hard) pair or '10G:11G') the VE keeps its files in "
          "an ext4 image of its own of the hard size, with diskinodes' hard count of inodes; "
          "quotatime and quotaugidlimit as set() takes them. Raises Exists if it exists, "
          "NotFound for a missing template or sample.")
      .def(
          "start",
          [](ovz::ve& v, const std::optional<command>& init) {
            ovz::start_options opts;
            if (init) opts.init = to_argv(*init);
            unwrap(without_gil([&] { return v.start(opts); }));
          },
          "init"_a = py::none(),
          "Starts the VE with `init` as PID 1 (None: the template's /sbin/init; a str runs "
          "through /bin/sh -c). Raises NotFound if absent, AlreadyRunning if running.")
      .def(
          "plan",
          [](const ovz::ve& v, const std::optional<command>& init) {
            ovz::start_options opts;
            if (init) opts.init = to_argv(*init);
            return unwrap(without_gil([&] { return v.plan(opts); }));
          },
          "init"_a = py::none(),
          "What start() would make of the VE, as text with an item per line: namespaces, id "
          "map, storage and mounts, limits, device rules, capabilities, seccomp, network, "
          "hostname, environment, init, console log. Nothing is started.")
      .def(
          "run",
          [](ovz::ve& v, const command& cmd) {
            auto argv = to_argv(cmd);
            return unwrap(without_gil([&] { return v.run(argv); }));
          },
          "argv"_a,
          "Starts the VE with `argv` as its init, waits until it exits and stops the VE "
          "again; returns the exit code (128+N for signal N). A str runs through /bin/sh -c.")
      .def(
          "stop",
          [](ovz::ve& v, bool fast, std::optional<double> timeout) {
            auto opts = to_stop_options(fast, timeout);
            unwrap(without_gil([&] { return v.stop(opts); }));
          },
          "fast"_a = false, "timeout"_a = py::none(),
          "Stops the VE: asks its init to shut down the way it understands (systemd "
          "SIGRTMIN+3, sysvinit runlevel 0, busybox SIGUSR2, others SIGTERM), then kills what is "
          "left after `timeout` seconds (None: the VE's STOP_TIMEOUT, else 10; at once when "
          "`fast`). Raises NotRunning if stopped.")
      .def(
          "restart",
          [](ovz::ve& v, bool fast, std::optional<double> timeout,
             const std::optional<command>& init) {
            auto stop = to_stop_options(fast, timeout);
            ovz::start_options start;
            if (init) start.init = to_argv(*init);
            unwrap(without_gil([&] { return v.restart(stop, start); }));
          },
          "fast"_a = false, "timeout"_a = py::none(), py::kw_only(), "init"_a = py::none(),
          "stop(fast, timeout) if running, then start(init).")
      .def(
          "destroy", [](ovz::ve& v) { unwrap(without_gil([&] { return v.destroy(); })); },
          "Removes a stopped VE: private area and config. Raises AlreadyRunning if running, "
          "NotFound if absent.")
      .def(
          "suspend", [](ovz::ve& v) { unwrap(without_gil([&] { return v.suspend(); })); },
          "Freezes every process of the running VE where it stands (vzctl suspend) until "
          "resume(): status.suspended is True, and exec(), enter() and set_user_password() "
          "raise Suspended meanwhile; stop() resumes it first. Nothing to do on a suspended VE. "
          "Raises NotRunning if stopped.")
      .def(
          "resume", [](ovz::ve& v) { unwrap(without_gil([&] { return v.resume(); })); },
          "Lets a suspended VE run on (vzctl resume); nothing to do on a running VE that is "
          "not suspended. Raises NotRunning if stopped.")
      .def_property_readonly("dump_path", &ovz::ve::dump_path,
                             "<state root>/dump/<CTID>: where checkpoint() and restore() keep "
                             "the VE's checkpoint when given no directory.")
      .def(
          "checkpoint",
          [](ovz::ve& v, const std::optional<std::filesystem::path>& dir, bool leave_running) {
            const auto where = dir.value_or(std::filesystem::path{});
            const ovz::checkpoint_options opts{.leave_running = leave_running};
            unwrap(without_gil([&] { return v.checkpoint(where, opts); }));
          },
          "dir"_a = py::none(), "leave_running"_a = false,
          "Writes the running VE (processes, memory, open files, sockets, TCP connections) "
          "with CRIU into the directory `dir` (None: dump_path), then stops it unless "
          "`leave_running` (vzctl chkpnt). A dump that fails leaves the VE running as it was "
          "and no directory behind. Raises NotRunning if stopped, Unsupported (with CRIU's "
          "reason) where this host cannot checkpoint.")
      .def(
          "restore",
          [](ovz::ve& v, const std::optional<std::filesystem::path>& dir) {
            const auto where = dir.value_or(std::filesystem::path{});
            unwrap(without_gil([&] { return v.restore(where); }));
          },
          "dir"_a = py::none(),
          "Starts the stopped VE from the checkpoint in `dir` (None: dump_path), its processes "
          "as they were (vzctl restore). A checkpoint of another VE, architecture or cgroup "
          "version is refused before anything starts; a restore that fails leaves the VE "
          "stopped. Raises AlreadyRunning if running.")
      .def(
          "migrate",
          [](ovz::ve& v, int fd, bool online, std::optional<double> timeout) {
            ovz::migrate_options opts{.online = online};
            if (timeout) {
              if (!std::isfinite(*timeout) || *timeout < 0 || *timeout > 1e9)
                raise_invalid("the timeout must be a non-negative number of seconds, or None");
              opts.timeout = std::chrono::milliseconds(std::llround(*timeout * 1000.0));
            }
            unwrap(without_gil([&] { return v.migrate(fd, opts); }));
          },
          "fd"_a, "online"_a = false, "timeout"_a = py::none(),
          "Moves the VE to the ovz.receive_ve() at the other end of `fd` (a connected stream: "
          "socket.fileno()), its config, private area and, when `online`, its checkpoint; then "
          "it runs there as it ran here (restored when online, else stopped here and started "
          "there) and nothing of it stays here (vzmigrate). Raises PeerFailed with the other "
          "side's reason when it refuses (it has the CTID, lacks the template) before anything "
          "here changes; any failure before it runs there leaves it running here again. Raises "
          "InDoubt when the other side's last answer never came: it may run there, and is "
          "left here (stopped; online suspended, its host side cut off until resume()) to be run "
          "here or destroyed. `timeout` (seconds, None: no limit): how long the other side may "
          "stay silent before the move gives up with TimedOut; silence after everything was "
          "sent is InDoubt, so it must cover the other side's start or restore.")
      .def_property_readonly(
          "status", [](const ovz::ve& v) { return unwrap(v.status()); },
          "The VE's VEStatus (state 'absent', 'stopped' or 'running'; suspended when frozen).")
      .def_property_readonly(
          "config", [](const ovz::ve& v) { return from_config(unwrap(v.config())); },
          "CTID.conf as a dict of KEY: value (str). Raises NotFound if absent.")
      .def(
          "exec",
          [](const ovz::ve& v, const command& cmd, const py::object& env,
             const std::optional<std::filesystem::path>& cwd, const py::object& in,
             const py::object& out, const py::object& err, const py::object& started) {
            auto argv = to_argv(cmd);
            ovz::exec_options opts{.env = to_env(env),
                                   .stdin_fd = to_fd(in, "stdin"),
                                   .stdout_fd = to_fd(out, "stdout"),
                                   .stderr_fd = to_fd(err, "stderr")};
            if (cwd) opts.cwd = cwd->string();
            // Raised once the command has ended: exec() must not throw through libovz.
            std::optional<py::error_already_set> raised;
            if (!started.is_none())
              opts.started = [&](pid_t pid) {
                py::gil_scoped_acquire gil;
                try {
                  started(pid);
                } catch (py::error_already_set& e) {
                  raised.emplace(std::move(e));
                }
              };
            auto r = unwrap(without_gil([&] { return v.exec(argv, opts); }));
            if (raised) throw std::move(*raised);
            return py::make_tuple(r.exit_code, decode_output(r.out), decode_output(r.err));
          },
          "argv"_a, py::kw_only(), "env"_a = py::none(), "cwd"_a = py::none(),
          "stdin"_a = py::none(), "stdout"_a = py::none(), "stderr"_a = py::none(),
          "started"_a = py::none(),
          "Runs a command inside the running VE and waits for it: a list is the argv, a str "
          "runs through /bin/sh -c. `env` (a mapping; None: a minimal PATH, HOME and TERM) "
          "and `cwd` (None: /) are the command's. stdin, stdout and stderr may be descriptors "
          "or objects with fileno() to give the command; None reads /dev/null and captures "
          "the output. Returns (exit_code, stdout, stderr), a stream given elsewhere reading "
          "''; exit_code is 128+N when killed by signal N. `started` (a callable) is called "
          "with the command's PID once it runs, before exec() waits: to signal it meanwhile "
          "(it leads its own session in the VE, out of reach of the terminal's Ctrl-C). "
          "Raises NotRunning if the VE is stopped.")
      .def(
          "enter",
          [](const ovz::ve& v, const std::optional<std::vector<std::string>>& argv, int in_fd,
             int out_fd) {
            ovz::enter_options opts{.argv = argv.value_or(std::vector<std::string>{}),
                                    .in_fd = in_fd, .out_fd = out_fd};
            return unwrap(without_gil([&] { return v.enter(opts); }));
          },
          "argv"_a = py::none(), "in_fd"_a = 0, "out_fd"_a = 1,
          "An interactive shell (`argv`, None: /bin/bash or /bin/sh) inside on a new "
          "pseudo-terminal, relayed to the terminal on in_fd/out_fd until it exits; returns "
          "its exit code.")
      .def(
          "open_console",
          [](const ovz::ve& v) {
            return unwrap(without_gil([&] { return v.open_console(); })).release();
          },
          "A connection to the running VE's console (its /dev/console) as a file descriptor "
          "the caller owns (socket.socket(fileno=fd) wraps it): what the VE writes there from "
          "now on can be read from it, what is written to it is typed there. Raises "
          "NotRunning if the VE is stopped.")
      .def(
          "console",
          [](const ovz::ve& v, int in_fd, int out_fd, const std::string& detach_key) {
            if (detach_key.size() > 1)
              throw py::value_error("detach_key: one character, or '' for none");
            ovz::console_options opts{.in_fd = in_fd, .out_fd = out_fd,
                                      .detach_key = detach_key.empty() ? '\0' : detach_key[0]};
            return unwrap(without_gil([&] { return v.console(opts); }));
          },
          "in_fd"_a = 0, "out_fd"_a = 1, "detach_key"_a = "\x1b",
          "Relays the terminal on in_fd/out_fd to the VE's console, as `vzctl console`, until "
          "detach_key then '.' is typed at the start of a line (returns True) or the VE stops "
          "(False).")
      .def(
          "set",
          [](ovz::ve& v, bool save, const py::kwargs& kwargs) {
            auto changes = to_params(kwargs);
            unwrap(without_gil([&] { return v.set(changes, save); }));
          },
          py::kw_only(), "save"_a = false,
          "Changes resources: any beancounter by name (numproc=64, physpages=(0, 65536), "
          "kmemsize='64M:80M'), cpuunits, cpulimit, cpus (ints) and cpumask (str); and the "
          "disk of a VE created with a diskspace: diskspace (1 KiB blocks, as a beancounter "
          "is given, '10G:11G'), diskinodes, quotatime and quotaugidlimit (ints). Applies at "
          "once to a running VE, and to CTID.conf when `save` or when the VE is stopped; a "
          "larger diskspace grows the image (live only with CAP_SYS_RESOURCE), a smaller one "
          "needs the VE stopped. "
          "Everything is checked before anything changes: InvalidArgument on a bad name or "
          "value, Unsupported for disk settings of a VE without an image or what this kernel "
          "cannot enforce (quotaugidlimit above 0 without its quota).")
      .def(
          "params", [](const ovz::ve& v) { return from_params(unwrap(v.params())); },
          "The settings in CTID.conf as the keywords set() takes: beancounter name: "
          "(barrier, limit), cpuunits, cpulimit, cpus, cpumask, diskspace and diskinodes: "
          "(soft, hard), quotatime, quotaugidlimit.")
      .def(
          "quota",
          [](const ovz::ve& v) { return unwrap(without_gil([&] { return v.quota(); })); },
          "The VE's disk usage against DISKSPACE and DISKINODES (`vzquota stat`), running or "
          "not, as a DiskQuota. Raises Unsupported for a VE created without a diskspace.")
      .def(
          "set_ugid_quota",
          [](ovz::ve& v, const py::object& user, const py::object& group,
             const py::object& blocks, const py::object& inodes) {
            if (user.is_none() == group.is_none())
              raise_invalid("set_ugid_quota: give one of user and group");
            const ovz::quota_ugid who{
                .type = user.is_none() ? ovz::quota_ugid::kind::group : ovz::quota_ugid::kind::user,
                .id = (user.is_none() ? group : user).cast<std::uint32_t>()};
            std::optional<ovz::disk_limit> b, i;
            for (auto [name, value, to] : {std::tuple{"diskspace", &blocks, &b},
                                           {"diskinodes", &inodes, &i}}) {
              if (value->is_none()) continue;
              // An int, a pair or "SOFT[:HARD]", as set()'s diskspace and diskinodes.
              *to = unwrap(ovz::parse_disk_limit(resource_text(name, *value),
                                                 std::string_view(name) == "diskspace"));
            }
            unwrap(without_gil([&] { return v.set_ugid_quota(who, b, i); }));
          },
          py::kw_only(), "user"_a = py::none(), "group"_a = py::none(), "blocks"_a = py::none(),
          "inodes"_a = py::none(),
          "Limits one user's or group's files inside the VE (vzquota setlimit2), by its id "
          "inside: blocks in 1 KiB blocks and inodes, each an int, a (soft, hard) pair or "
          "'SOFT[:HARD]' (0 removes the limit, None keeps it). Running or not. Raises "
          "Unsupported without the kernel's quota or with QUOTAUGIDLIMIT 0, InvalidArgument "
          "beyond QUOTAUGIDLIMIT users and groups with limits.")
      .def(
          "ugid_quotas",
          [](const ovz::ve& v) { return unwrap(without_gil([&] { return v.ugid_quotas(); })); },
          "Every user and group with files or limits on the VE's disk, users first, by id "
          "(repquota), as UgidQuota. Raises Unsupported without the kernel's quota on it.")
      .def(
          "beancounters",
          [](const ovz::ve& v) {
            return unwrap(without_gil([&] { return v.beancounters(); })).stats;
          },
          "Every Beancounter of the VE: held and maxheld as measured, barrier and limit as "
          "set, failcnt as the kernel counted refusals.")
      .def(
          "cpu_time",
          [](const ovz::ve& v) {
            const auto t = unwrap(without_gil([&] { return v.cpu_time(); }));
            return std::chrono::duration<double>(t).count();
          },
          "The CPU time in seconds the VE's processes used since its start, all CPUs "
          "together (OpenVZ's /proc/vz/vestat): 0.0 for a stopped VE. A rate of use is the "
          "difference of two readings over the time between them. Raises NotFound for a VE "
          "that does not exist.")
      .def(
          "watch_beancounters",
          [](const ovz::ve& v, double poll_interval) {
            if (!std::isfinite(poll_interval) || poll_interval <= 0)
              raise_invalid("the poll interval must be a positive number of seconds");
            const auto interval =
                std::chrono::ceil<std::chrono::milliseconds>(
                    std::chrono::duration<double>(poll_interval));
            return beancounter_watcher(
                unwrap(without_gil([&] { return ovz::ubc_event_queue::start(v, interval); })));
          },
          "poll_interval"_a = 1.0,
          "Watches the VE's refusals: a BeancounterWatcher whose events say when failcnt of "
          "numproc, physpages, swappages or kmemsize grew. On cgroup v2 the kernel's "
          "notifications wake it at once; on v1 it looks every `poll_interval` seconds. "
          "Counts grown before the call are not reported; a restarted VE is followed.")
      .def(
          "set_hostname",
          [](ovz::ve& v, const std::string& name, bool save) {
            unwrap(without_gil([&] { return v.set_hostname(name, save); }));
          },
          "name"_a, "save"_a = false,
          "Changes the hostname: live in a running VE, and in CTID.conf when `save` or when "
          "the VE is stopped.")
      .def(
          "set_user_password",
          [](ovz::ve& v, const std::string& user, const std::string& password) {
            unwrap(without_gil([&] { return v.set_user_password(user, password); }));
          },
          "user"_a, "password"_a,
          "Sets `user`'s password in the VE, adding the user (useradd -m) when it has none, "
          "as vzctl set --userpasswd. Nothing of it is saved in CTID.conf or shown on a "
          "command line: a running VE's own chpasswd reads it on stdin; a stopped VE (or one "
          "without chpasswd) has its /etc/passwd, shadow and group edited by the host, with "
          "a yescrypt hash.")
      .def(
          "set_security",
          [](ovz::ve& v, const std::optional<py::dict>& capability,
             const std::optional<py::dict>& devnodes, const std::optional<std::string>& seccomp_profile,
             std::optional<bool> no_new_privs, bool save) {
            auto changes = to_security(capability, devnodes, seccomp_profile, no_new_privs);
            unwrap(without_gil([&] { return v.set_security(changes, save); }));
          },
          py::kw_only(), "capability"_a = py::none(), "devnodes"_a = py::none(),
          "seccomp_profile"_a = py::none(), "no_new_privs"_a = py::none(), "save"_a = false,
          "Changes the confinement: capability={'net_admin': True, 'chown': False}, "
          "devnodes={'net/tun': 'rw', 'loop0': 'none'} (host nodes below /dev; 'r', 'w', "
          "'rw' or 'none'), seccomp_profile (a profile file's absolute path, 'default' or "
          "'unconfined'), no_new_privs. Device nodes change at once in a running VE; the "
          "rest cannot change in running processes, so a running VE needs save=True and they "
          "apply to new commands and the next start.")
      .def(
          "apply",
          [](ovz::ve& v, const std::optional<std::string>& hostname,
             const std::optional<py::dict>& capability, const std::optional<py::dict>& devnodes,
             const std::optional<std::string>& seccomp_profile, std::optional<bool> no_new_privs,
             const string_list& ipadd, const string_list& ipdel, const string_list& netif_add,
             const string_list& netif_del, std::optional<unsigned> stop_timeout,
             const std::optional<string_list>& nameserver,
             const std::optional<string_list>& searchdomain, std::optional<bool> onboot,
             bool save, const py::kwargs& resources) {
            ovz::ve_changes changes{
                .hostname = hostname,
                .params = to_params(resources),
                .security = to_security(capability, devnodes, seccomp_profile, no_new_privs),
                .network = to_network(ipadd, ipdel, netif_add, netif_del)};
            // Through the setting parser, which checks the range as CTID.conf's reader does.
            if (stop_timeout) add_setting(changes, "stop_timeout", std::to_string(*stop_timeout));
            if (onboot) add_setting(changes, "onboot", *onboot ? "yes" : "no");
            // Each list replaces CTID.conf's (an empty one removes it); the parser checks
            // and appends each value.
            for (auto [given, list, name] :
                 {std::tuple{&nameserver, &changes.nameservers, "nameserver"},
                  {&searchdomain, &changes.searchdomains, "searchdomain"}}) {
              if (!*given) continue;
              list->emplace();
              for (const auto& value : **given) add_setting(changes, name, value);
            }
            unwrap(without_gil([&] { return v.apply(changes, save); }));
          },
          py::kw_only(), "hostname"_a = py::none(), "capability"_a = py::none(),
          "devnodes"_a = py::none(), "seccomp_profile"_a = py::none(),
          "no_new_privs"_a = py::none(), "ipadd"_a = string_list(), "ipdel"_a = string_list(),
          "netif_add"_a = string_list(), "netif_del"_a = string_list(),
          "stop_timeout"_a = py::none(), "nameserver"_a = py::none(),
          "searchdomain"_a = py::none(), "onboot"_a = py::none(), "save"_a = false,
          "Changes hostname, resources (the keywords set() takes), confinement (those of "
          "set_security()) and network as one change: under one lock with one save of "
          "CTID.conf. The network as vzctl set's options take it, each a list: ipadd "
          "(addresses), ipdel (addresses, or 'all'), netif_add ('ifname[,mac,host_ifname,"
          "host_mac,bridge]'), netif_del (device names inside); deletions are made first. "
          "stop_timeout: the seconds a stop waits for init (CTID.conf's STOP_TIMEOUT; needs "
          "save=True on a running VE); onboot: started by start_all() (as stop_timeout); "
          "nameserver and searchdomain: lists of addresses and domains (or ['inherit'], the "
          "host's) for the VE's /etc/resolv.conf, [] to remove them from CTID.conf. When a "
          "part is refused or the save fails, the live changes already made are undone.")
      .def(
          "security", [](const ovz::ve& v) { return from_security(unwrap(v.security())); },
          "The confinement CTID.conf sets, as the keywords set_security() takes.")
      .def(
          "add_ip",
          [](ovz::ve& v, const std::string& addr, bool save) {
            auto a = unwrap(ovz::ip_address::parse(addr));
            unwrap(without_gil([&] { return v.add_ip(a, save); }));
          },
          "addr"_a, "save"_a = false,
          "Adds a routed address ('10.0.0.2', 'fd00::2', optionally '/PREFIX') on the VE's "
          "venet0 (vzctl set --ipadd): live in a running VE, and in CTID.conf when `save` or "
          "when the VE is stopped. Exists when another VE or the host has it.")
      .def(
          "del_ip",
          [](ovz::ve& v, const std::string& addr, bool save) {
            auto a = unwrap(ovz::ip_address::parse(addr));
            unwrap(without_gil([&] { return v.del_ip(a, save); }));
          },
          "addr"_a, "save"_a = false, "Removes a routed address (vzctl set --ipdel ADDR).")
      .def(
          "del_all_ips",
          [](ovz::ve& v, bool save) { unwrap(without_gil([&] { return v.del_all_ips(save); })); },
          "save"_a = false, "Removes every routed address (vzctl set --ipdel all).")
      .def(
          "add_netif",
          [](ovz::ve& v, const std::string& ifname, const std::string& mac,
             const std::string& host_ifname, const std::string& host_mac,
             const std::string& bridge, bool save) {
            // `ifname` may also be vzctl's whole comma form; keywords fill in the rest.
            auto spec = unwrap(ovz::netif_spec::parse(ifname));
            for (auto [field, value] : {std::pair{&spec.mac, &mac}, {&spec.host_ifname, &host_ifname},
                                        {&spec.host_mac, &host_mac}, {&spec.bridge, &bridge}})
              if (!value->empty()) *field = *value;
            unwrap(without_gil([&] { return v.add_netif(spec, save); }));
          },
          "ifname"_a, py::kw_only(), "mac"_a = "", "host_ifname"_a = "", "host_mac"_a = "",
          "bridge"_a = "", "save"_a = false,
          "Adds a bridged veth device named `ifname` inside (vzctl set --netif_add; `ifname` "
          "may be its whole 'ifname,mac,host_ifname,host_mac,bridge' form). Empty fields get "
          "defaults: stable MACs, host end 'veth<CTID>.<N>', no bridge. A missing bridge is "
          "made; a device of that name that is not a bridge is refused.")
      .def(
          "del_netif",
          [](ovz::ve& v, const std::string& ifname, bool save) {
            unwrap(without_gil([&] { return v.del_netif(ifname, save); }));
          },
          "ifname"_a, "save"_a = false,
          "Removes a bridged device by its name inside the VE (vzctl set --netif_del).")
      .def(
          "network",
          [](const ovz::ve& v) {
            auto net = unwrap(v.network());
            py::list ips, netifs;
            for (const auto& a : net.ip_addresses) ips.append(a.str());
            for (const auto& n : net.netifs)
              netifs.append(py::dict("ifname"_a = n.ifname, "mac"_a = n.mac,
                                     "host_ifname"_a = n.host_ifname,
                                     "host_mac"_a = n.host_mac, "bridge"_a = n.bridge));
            return py::dict("ip_addresses"_a = ips, "netifs"_a = netifs);
          },
          "The network CTID.conf holds: {'ip_addresses': [str], 'netifs': [{'ifname', 'mac', "
          "'host_ifname', 'host_mac', 'bridge'}]}.")
      .def("__repr__", [](const ovz::ve& v) {
        return "VE(" + v.id().str() + ", root=" +
               py::repr(py::str(v.state_root().string())).cast<std::string>() + ")";
      });
}

}  // namespace ovz_python
