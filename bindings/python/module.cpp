// _ovz: the compiled half of the `ovz` Python package. It wraps the C++ API one to one;
// ovz/__init__.py re-exports it and adds what is easier to write in Python.
//
// Every result<T> is unwrapped here: a failure becomes an ovz.Error subclass, so no C++
// error or exception reaches Python unconverted. Blocking calls run without the GIL, and
// Python objects are touched only once it is held again.

#include <ovz/oci_bundle.hpp>
#include <ovz/oci_container.hpp>
#include <ovz/beancounter.hpp>
#include <ovz/checkpoint.hpp>
#include <ovz/config.hpp>
#include <ovz/cpu.hpp>
#include <ovz/ctid.hpp>
#include <ovz/disk_quota.hpp>
#include <ovz/error.hpp>
#include <ovz/host.hpp>
#include <ovz/log.hpp>
#include <ovz/migration.hpp>
#include <ovz/network.hpp>
#include <ovz/result.hpp>
#include <ovz/state_root.hpp>
#include <ovz/security.hpp>
#include <ovz/setting.hpp>
#include <ovz/template.hpp>
#include <ovz/ubc_reader.hpp>
#include <ovz/ubc_watch.hpp>
#include <ovz/ve.hpp>
#include <ovz/ve_params.hpp>
#include <ovz/version.hpp>

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <pybind11/stl/filesystem.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace py = pybind11;
using namespace py::literals;

namespace {

// The exception classes, made once at import; module attributes keep them alive.
struct error_classes {
  py::handle base;
  py::handle system;
  std::vector<std::pair<ovz::errc, py::handle>> by_code;
};
error_classes classes;

// The names of ovz::errc as Python sees them in Error.code, and the class each raises.
struct errc_entry {
  ovz::errc code;
  const char* code_name;
  const char* class_name;
  const char* doc;
};
constexpr errc_entry errc_table[] = {
#define OVZ_ERRC(name, value, c_code, message, py_class, py_doc) \
  {ovz::errc::name, #name, #py_class, py_doc},
#include <ovz/errc.def>
};

// The Python counterpart of an ovz::error: its class by code, with .code, .errno and the
// message as str(e).
py::object to_exception(const ovz::error& e) {
  py::handle cls = classes.base;
  std::string code_name = "system";
  const int err_no = e.sys_errno();
  if (err_no != 0) {
    cls = classes.system;
  } else {
    for (const auto& entry : errc_table) {
      if (e.is(entry.code)) {
        code_name = entry.code_name;
        for (const auto& [code, c] : classes.by_code)
          if (code == entry.code) cls = c;
      }
    }
  }
  py::object exc = cls(e.message());
  exc.attr("code") = code_name;
  // Set after construction: OSError(errno, msg) would prefix the message with "[Errno N]".
  exc.attr("errno") = err_no;
  return exc;
}

[[noreturn]] void raise_error(const ovz::error& e) {
  py::object exc = to_exception(e);
  PyErr_SetObject(reinterpret_cast<PyObject*>(Py_TYPE(exc.ptr())), exc.ptr());
  throw py::error_already_set();
}

[[noreturn]] void raise_invalid(const std::string& message) {
  raise_error(ovz::error(ovz::make_error_code(ovz::errc::invalid_argument), message));
}

template <class T>
T unwrap(ovz::result<T>&& r) {
  if (!r) raise_error(r.error());
  return std::move(*r);
}

inline void unwrap(ovz::result<void>&& r) {
  if (!r) raise_error(r.error());
}

// Runs a library call without the GIL, so other Python threads run while it waits on the
// kernel or a child process. `f` must not touch Python objects.
template <class F>
auto without_gil(F&& f) {
  py::gil_scoped_release release;
  return f();
}

// A CTID from an int or its decimal text. ctid::parse judges both, so every bad value gets
// the library's own message (a negative int included).
ovz::ctid to_ctid(const py::handle& value) {
  if (py::isinstance<py::bool_>(value) ||
      !(py::isinstance<py::int_>(value) || py::isinstance<py::str>(value)))
    throw py::type_error("a CTID is an int or a str of digits");
  return unwrap(ovz::ctid::parse(py::str(value).cast<std::string>()));
}

std::filesystem::path to_root(const std::optional<std::filesystem::path>& root) {
  return root.value_or(std::filesystem::path{});
}

// A command: a str runs through /bin/sh -c, a list is the argv itself.
using command = std::variant<std::string, std::vector<std::string>>;

std::vector<std::string> to_argv(const command& cmd) {
  if (const auto* line = std::get_if<std::string>(&cmd)) return {"/bin/sh", "-c", *line};
  const auto& argv = std::get<std::vector<std::string>>(cmd);
  if (argv.empty()) raise_invalid("the command is empty");
  return argv;
}

ovz::stop_options to_stop_options(bool fast, std::optional<double> timeout) {
  ovz::stop_options opts{.fast = fast};
  if (!timeout) return opts;  // the VE's STOP_TIMEOUT, else 10 s
  if (!std::isfinite(*timeout) || *timeout < 0 || *timeout > 1e9)
    raise_invalid("the stop timeout must be a non-negative number of seconds, or None");
  opts.timeout = std::chrono::milliseconds(std::llround(*timeout * 1000.0));
  return opts;
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

// What a command printed. Invalid UTF-8 is replaced rather than raised: the output of a
// command inside a VE is not ours to vouch for, and losing the exit code over it is worse.
py::str decode_output(const std::string& bytes) {
  PyObject* s = PyUnicode_DecodeUTF8(bytes.data(), static_cast<Py_ssize_t>(bytes.size()),
                                     "replace");
  if (!s) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(s);
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

std::string repr_status(const ovz::ve_status& s) {
  return "VEStatus(ctid=" + s.id.str() + ", state='" + ovz::to_string(s.state) +
         "', init_pid=" + std::to_string(s.init_pid) + ", nproc=" + std::to_string(s.nproc) +
         (s.suspended ? ", suspended=True" : "") +
         ", hostname=" + py::repr(py::str(s.hostname)).cast<std::string>() + ")";
}

std::string repr_stat(const ovz::ubc_stat& s) {
  return std::string("Beancounter(resource='") + ovz::to_string(s.resource) +
         "', held=" + std::to_string(s.held) + ", maxheld=" + std::to_string(s.maxheld) +
         ", barrier=" + std::to_string(s.barrier) + ", limit=" + std::to_string(s.limit) +
         ", failcnt=" + std::to_string(s.failcnt) + ")";
}

std::string repr_event(const ovz::ubc_event& e) {
  return "BeancounterEvent(ctid=" + e.id.str() + ", resource='" + ovz::resource_name(e) +
         "', failcnt=" + std::to_string(e.failcnt) + ", previous=" + std::to_string(e.previous) +
         ")";
}

// A VE's refusals as Python reads them: next() and iteration wait without the GIL, and in
// slices, so that a signal (Ctrl-C) ends even a wait for ever and close() from another thread
// ends an iteration. The queue is shared with a next() in progress, so that close() frees it
// only once that returns.
class beancounter_watcher {
 public:
  explicit beancounter_watcher(std::unique_ptr<ovz::ubc_event_queue> q) : queue_(std::move(q)) {}

  // The next event; none when `timeout` (seconds, None: for ever) passes first, or when the
  // watcher is closed and `until_closed`.
  std::optional<ovz::ubc_event> wait(std::optional<double> timeout, bool until_closed) {
    using namespace std::chrono;
    if (timeout && (!std::isfinite(*timeout) || *timeout < 0))
      raise_invalid("the timeout must be a non-negative number of seconds, or None");
    const auto deadline =
        steady_clock::now() +
        duration_cast<milliseconds>(duration<double>(std::min(timeout.value_or(0), 1e9)));
    for (;;) {
      if (!queue_) {
        if (until_closed) return std::nullopt;
        throw py::value_error("the watcher is closed");
      }
      auto q = queue_;
      auto slice = milliseconds(100);
      if (timeout)
        slice = std::clamp(duration_cast<milliseconds>(deadline - steady_clock::now()),
                           milliseconds(0), slice);
      auto e = unwrap(without_gil([&] { return q->next(slice); }));
      if (e) return e;
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
      if (timeout && steady_clock::now() >= deadline) return std::nullopt;
    }
  }

  int fileno() const {
    if (!queue_) throw py::value_error("the watcher is closed");
    return queue_->fd();
  }
  void close() { queue_.reset(); }
  bool closed() const { return !queue_; }

 private:
  std::shared_ptr<ovz::ubc_event_queue> queue_;
};

void define_watcher(py::module_& m) {
  py::class_<ovz::ubc_event>(m, "BeancounterEvent",
                             "The kernel refused a VE more than before: failcnt grew.")
      .def_property_readonly("ctid", [](const ovz::ubc_event& e) { return e.id.value(); },
                             "The VE's CTID.")
      .def_property_readonly(
          "resource", [](const ovz::ubc_event& e) { return ovz::resource_name(e); },
          "The beancounter: 'numproc', 'physpages', 'swappages' or 'kmemsize'; or "
          "'diskspace' or 'diskinodes' when the VE's disk usage went above that soft limit "
          "(failcnt then counts those crossings since the watch began).")
      .def_readonly("failcnt", &ovz::ubc_event::failcnt, "The count now.")
      .def_readonly("previous", &ovz::ubc_event::previous, "The count before.")
      .def("__repr__", &repr_event);

  py::class_<beancounter_watcher>(
      m, "BeancounterWatcher",
      "Events of a VE's refusals (VE.watch_beancounters()): iterate over it, or call "
      "next(timeout), or wait for fileno() to be readable in a selector. An event not read yet "
      "takes in later growth of its resource, so nothing piles up and no refusal is missed. "
      "A context manager: closed on the way out.")
      .def(
          "next",
          [](beancounter_watcher& w, std::optional<double> timeout) {
            return w.wait(timeout, false);
          },
          "timeout"_a = py::none(),
          "The oldest event, waiting up to `timeout` seconds for one (None: as long as it "
          "takes); None when none came. Raises ValueError once closed.")
      .def("fileno", &beancounter_watcher::fileno,
           "A descriptor readable while an event waits, for selectors and event loops; read "
           "the events with next(), never from it.")
      .def("close", &beancounter_watcher::close,
           "Stops watching; events not read are dropped. An iteration in another thread ends.")
      .def_property_readonly("closed", &beancounter_watcher::closed, "close() was called.")
      .def("__enter__", [](py::object self) { return self; })
      .def(
          "__exit__",
          [](beancounter_watcher& w, const py::args&) { w.close(); },
          "Closes the watcher.")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", [](beancounter_watcher& w) {
        auto e = w.wait(std::nullopt, true);
        if (!e) throw py::stop_iteration();
        return *e;
      });
}

// {ctid: [Beancounter]}, as all_beancounters() and BeancounterReader.read() give them.
py::dict by_ctid(std::vector<ovz::ubc_snapshot>&& all) {
  py::dict d;
  for (auto& snap : all) d[py::int_(snap.id.value())] = py::cast(std::move(snap.stats));
  return d;
}

class beancounter_reader {
 public:
  beancounter_reader(const std::optional<std::filesystem::path>& root, bool files_only)
      : reader_(std::make_unique<ovz::ubc_reader>(unwrap(ovz::ubc_reader::open(
            to_root(root), files_only ? ovz::ubc_sources::files_only : ovz::ubc_sources::any)))) {}

  py::dict read() {
    if (!reader_) throw py::value_error("the reader is closed");
    return by_ctid(unwrap(without_gil([&] { return reader_->read(); })));
  }
  std::string backend() const {
    if (!reader_) throw py::value_error("the reader is closed");
    return std::string(reader_->backend());
  }
  void close() { reader_.reset(); }
  bool closed() const { return !reader_; }

 private:
  std::unique_ptr<ovz::ubc_reader> reader_;
};

void define_reader(py::module_& m) {
  py::class_<beancounter_reader>(
      m, "BeancounterReader",
      "Beancounters of every running VE under a state root, read again and again at a small "
      "cost per VE: each VE's cgroup and /proc files stay open between reads and are read "
      "again in place. A VE started, stopped or destroyed between two reads shows in the "
      "next. Holds about 20 descriptors per running VE and 2 per process until closed. One "
      "thread at a time. A context manager: closed on the way out.")
      .def(py::init<const std::optional<std::filesystem::path>&, bool>(), "root"_a = py::none(),
           py::kw_only(), "files_only"_a = false,
           "files_only: read the cgroup and /proc files alone, holding no /dev/ovz open (which "
           "would keep the ovz module from being unloaded).")
      .def("read", &beancounter_reader::read,
           "Every running VE's beancounters now: {ctid: [Beancounter]}. Raises ValueError "
           "once closed.")
      .def_property_readonly("backend", &beancounter_reader::backend,
                             "Where the counters come from on this host: 'cgroup files', or "
                             "'ovz module + cgroup files' where the ovz kernel module gives "
                             "the memory counters.")
      .def("close", &beancounter_reader::close, "Closes what the reader holds.")
      .def_property_readonly("closed", &beancounter_reader::closed, "close() was called.")
      .def("__enter__", [](py::object self) { return self; })
      .def(
          "__exit__", [](beancounter_reader& r, const py::args&) { r.close(); },
          "Closes the reader.");
}

void define_errors(py::module_& m) {
  auto make = [&](const char* name, py::handle bases, const char* doc) {
    const std::string qualified = std::string("ovz.") + name;
    PyObject* cls = PyErr_NewExceptionWithDoc(qualified.c_str(), doc, bases.ptr(), nullptr);
    if (!cls) throw py::error_already_set();
    m.add_object(name, py::handle(cls));
    return py::handle(cls);
  };
  classes.base = make("Error", PyExc_Exception,
                      "Every error of libovz. .code is the ovz errc name ('not_found', ...) "
                      "or 'system'; .errno is the errno behind it, or 0.");
  for (const auto& entry : errc_table)
    classes.by_code.emplace_back(entry.code, make(entry.class_name, classes.base, entry.doc));
  auto bases = py::make_tuple(classes.base, py::handle(PyExc_OSError));
  classes.system = make("OvzSystemError", bases,
                        "The kernel refused: .errno is the errno (also an OSError).");
}

void define_records(py::module_& m) {
  py::class_<ovz::ve_status>(m, "VEStatus", "What `vzctl status` and `vzlist` show of one VE.")
      .def_property_readonly("ctid", [](const ovz::ve_status& s) { return s.id.value(); },
                             "The CTID.")
      .def_property_readonly(
          "state", [](const ovz::ve_status& s) { return ovz::to_string(s.state); },
          "'absent', 'stopped' or 'running'.")
      .def_readonly("mounted", &ovz::ve_status::mounted,
                    "The root filesystem is mounted (in the VE's mount namespace).")
      .def_readonly("init_pid", &ovz::ve_status::init_pid,
                    "Host PID of the VE's init, 0 when not running.")
      .def_readonly("nproc", &ovz::ve_status::nproc, "Processes in the VE.")
      .def_readonly("suspended", &ovz::ve_status::suspended,
                    "Running, but frozen by VE.suspend().")
      .def_readonly("hostname", &ovz::ve_status::hostname, "The VE's hostname.")
      .def_readonly("ostemplate", &ovz::ve_status::ostemplate,
                    "The template the VE was made from.")
      .def("__repr__", &repr_status);

  py::class_<ovz::ve_batch_entry>(m, "BatchEntry",
                                  "What start_all() or stop_all() did to one VE.")
      .def_property_readonly("ctid", [](const ovz::ve_batch_entry& b) { return b.id.value(); },
                             "The CTID.")
      .def_readonly("done", &ovz::ve_batch_entry::done,
                    "Started (stopped); False when it ran (was stopped) already, or failed.")
      .def_property_readonly(
          "failure",
          [](const ovz::ve_batch_entry& b) -> py::object {
            return b.failure ? to_exception(*b.failure) : py::none();
          },
          "Why it could not be started (stopped): the ovz.Error its own call would have "
          "raised; None when it did not fail.")
      .def("__repr__", [](const ovz::ve_batch_entry& b) {
        return "BatchEntry(ctid=" + b.id.str() + ", done=" + (b.done ? "True" : "False") +
               (b.failure ? ", failure=" + py::repr(to_exception(*b.failure)).cast<std::string>()
                          : std::string()) +
               ")";
      });

  py::class_<ovz::ubc_stat>(m, "Beancounter",
                            "One line of /proc/user_beancounters, in OpenVZ's units (pages "
                            "for *pages, bytes or counts otherwise).")
      .def_property_readonly("resource",
                             [](const ovz::ubc_stat& s) { return ovz::to_string(s.resource); },
                             "The resource: 'numproc', 'physpages', ...")
      .def_readonly("held", &ovz::ubc_stat::held, "Currently held.")
      .def_readonly("maxheld", &ovz::ubc_stat::maxheld, "The peak of held.")
      .def_readonly("barrier", &ovz::ubc_stat::barrier, "The barrier (UNLIMITED for none).")
      .def_readonly("limit", &ovz::ubc_stat::limit, "The limit (UNLIMITED for none).")
      .def_readonly("failcnt", &ovz::ubc_stat::failcnt, "Refusals the kernel counted.")
      .def_readonly("measured", &ovz::ubc_stat::measured,
                    "The host can measure held/maxheld (else they read 0).")
      .def_readonly("enforced", &ovz::ubc_stat::enforced,
                    "The host enforces the limit (known only while the VE runs).")
      .def("__repr__", &repr_stat);

  py::class_<ovz::disk_usage>(m, "DiskUsage",
                              "One row of `vzquota stat`: usage against the limits.")
      .def_readonly("usage", &ovz::disk_usage::usage, "In use now.")
      .def_readonly("soft", &ovz::disk_usage::soft, "The soft limit.")
      .def_readonly("hard", &ovz::disk_usage::hard, "The hard limit.")
      .def_readonly("grace", &ovz::disk_usage::grace,
                    "Seconds left before an exceeded soft limit acts as hard; None when none is "
                    "exceeded or the kernel does not enforce it.")
      .def("__repr__", [](const ovz::disk_usage& u) {
        return "DiskUsage(usage=" + std::to_string(u.usage) + ", soft=" + std::to_string(u.soft) +
               ", hard=" + std::to_string(u.hard) +
               ", grace=" + (u.grace ? std::to_string(*u.grace) : std::string("None")) + ")";
      });

  py::class_<ovz::disk_quota>(m, "DiskQuota",
                              "A VE's disk quota (VE.quota()); str() of it is `vzquota stat`'s "
                              "table, as `ovzctl quota` prints it.")
      .def_readonly("blocks", &ovz::disk_quota::blocks, "DiskUsage in 1 KiB blocks (DISKSPACE).")
      .def_readonly("inodes", &ovz::disk_quota::inodes, "DiskUsage of inodes (DISKINODES).")
      .def_readonly("quotatime", &ovz::disk_quota::quotatime, "QUOTATIME, seconds.")
      .def_readonly("soft_enforced", &ovz::disk_quota::soft_enforced,
                    "The kernel holds the VE to its soft limits and grace time; False where it "
                    "has no quota (the hard limits hold anyway: they are the image's size and "
                    "inode count).")
      .def("__str__", &ovz::format_disk_quota)
      .def("__repr__", [](const ovz::disk_quota& q) {
        return "DiskQuota(blocks=" + py::repr(py::cast(q.blocks)).cast<std::string>() +
               ", inodes=" + py::repr(py::cast(q.inodes)).cast<std::string>() +
               ", quotatime=" + std::to_string(q.quotatime) +
               ", soft_enforced=" + (q.soft_enforced ? "True" : "False") + ")";
      });

  py::class_<ovz::ugid_quota>(m, "UgidQuota",
                              "A user's or group's quota inside a VE (VE.ugid_quotas()), the "
                              "second level: what its files take against its own limits.")
      .def_property_readonly(
          "owner",
          [](const ovz::ugid_quota& q) {
            return py::make_tuple(
                q.owner.type == ovz::quota_ugid::kind::user ? "user" : "group", q.owner.id);
          },
          "('user', uid) or ('group', gid), the id as inside the VE.")
      .def_readonly("blocks", &ovz::ugid_quota::blocks, "DiskUsage in 1 KiB blocks (0: no limit).")
      .def_readonly("inodes", &ovz::ugid_quota::inodes, "DiskUsage of inodes (0: no limit).")
      .def("__repr__", [](const ovz::ugid_quota& q) {
        return std::string("UgidQuota(owner=('") +
               (q.owner.type == ovz::quota_ugid::kind::user ? "user" : "group") + "', " +
               std::to_string(q.owner.id) +
               "), blocks=" + py::repr(py::cast(q.blocks)).cast<std::string>() +
               ", inodes=" + py::repr(py::cast(q.inodes)).cast<std::string>() + ")";
      });

  py::class_<ovz::template_info>(m, "Template", "An OS template under a state root.")
      .def_readonly("name", &ovz::template_info::name, "The template's name.")
      .def_readonly("path", &ovz::template_info::path, "Its unpacked root filesystem.")
      .def_readonly("builtin", &ovz::template_info::builtin,
                    "The built-in busybox template.")
      .def("__repr__", [](const ovz::template_info& t) {
        return "Template(name=" + py::repr(py::str(t.name)).cast<std::string>() + ")";
      });
}

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

// Python's logging levels, so that a handler can hand them to logging.Logger.log as they are.
int logging_level(ovz::log_level l) {
  switch (l) {
    case ovz::log_level::debug: return 10;
    case ovz::log_level::info: return 20;
    case ovz::log_level::warning: return 30;
    case ovz::log_level::error: return 40;
  }
  return 40;
}

// The library calls the handler from whatever thread logs, with or without the GIL; the
// callable is called, and its last reference dropped, only with the GIL held. ovz/__init__.py
// restores the default handler at exit, before the interpreter is gone.
void set_log_handler(const py::object& handler) {
  if (handler.is_none()) return ovz::set_log_handler({});
  if (!PyCallable_Check(handler.ptr()))
    throw py::type_error("the log handler is a callable(level, message) or None");
  std::shared_ptr<py::object> owned(new py::object(handler), [](py::object* o) {
    py::gil_scoped_acquire gil;
    delete o;
  });
  ovz::set_log_handler([owned](ovz::log_level l, std::string_view m) {
    py::gil_scoped_acquire gil;
    try {
      (*owned)(logging_level(l), decode_output(std::string(m)));
    } catch (py::error_already_set& e) {
      e.discard_as_unraisable("ovz log handler");
    }
  });
}

void define_functions(py::module_& m) {
  m.def("set_log_handler", &set_log_handler, "handler"_a,
        "Sends what the library goes on past (a clean-up or rollback that could not finish, a "
        "fallback taken) to handler(level, message), level as the logging module's (DEBUG ... "
        "ERROR). It may be called from any thread the library runs. None restores the "
        "default: warnings and errors to stderr.");
  m.def(
      "list_ves",
      [](const std::optional<std::filesystem::path>& root) {
        auto path = to_root(root);
        return unwrap(without_gil([&] { return ovz::list_ves(path); }));
      },
      "root"_a = py::none(), "Every VE under the state root as a VEStatus, by CTID.");
  m.def(
      "start_all",
      [](const std::optional<std::filesystem::path>& root, bool onboot_only) {
        auto path = to_root(root);
        return unwrap(without_gil([&] { return ovz::start_all(path, onboot_only); }));
      },
      "root"_a = py::none(), "onboot_only"_a = true,
      "Starts the VEs under the state root in CTID order, as a host's boot does: with "
      "onboot_only those whose CTID.conf says ONBOOT=\"yes\", else every one. Each is tried "
      "whatever became of the others; a list of BatchEntry says what became of each.");
  m.def(
      "stop_all",
      [](const std::optional<std::filesystem::path>& root, bool fast,
         std::optional<double> timeout) {
        auto path = to_root(root);
        auto opts = to_stop_options(fast, timeout);
        return unwrap(without_gil([&] { return ovz::stop_all(path, opts); }));
      },
      "root"_a = py::none(), "fast"_a = false, "timeout"_a = py::none(),
      "Stops every running VE under the state root, as VE.stop(fast, timeout) does, each "
      "whatever became of the others; a list of BatchEntry.");
  m.def(
      "all_beancounters",
      [](const std::optional<std::filesystem::path>& root) {
        auto path = to_root(root);
        return by_ctid(unwrap(without_gil([&] { return ovz::all_beancounters(path); })));
      },
      "root"_a = py::none(),
      "The beancounters of every running VE under the state root: {ctid: [Beancounter]}.");
  m.def(
      "user_beancounters",
      [](const std::optional<std::filesystem::path>& root) {
        auto path = to_root(root);
        auto all = unwrap(without_gil([&] { return ovz::all_beancounters(path); }));
        return ovz::format_user_beancounters(all);
      },
      "root"_a = py::none(),
      "The text /proc/user_beancounters would show for the running VEs under the state "
      "root.");
  m.def(
      "templates",
      [](const std::optional<std::filesystem::path>& root) {
        return unwrap(ovz::template_store(ovz::resolve_state_root(to_root(root))).list());
      },
      "root"_a = py::none(),
      "The OS templates under the state root, sorted by name (the built-in 'busybox' "
      "always).");
  m.def(
      "import_template",
      [](const std::filesystem::path& tarball, const std::optional<std::string>& name,
         const std::optional<std::filesystem::path>& root) {
        auto dir = ovz::resolve_state_root(to_root(root));
        const std::string wanted = name.value_or("");
        return unwrap(without_gil(
            [&] { return ovz::template_store(dir).import(tarball, wanted); }));
      },
      "tarball"_a, "name"_a = py::none(), "root"_a = py::none(),
      "Unpacks a root filesystem tarball (.tar, .tar.gz, .tgz, .tar.xz) as a template; the "
      "name defaults to the file name without its extension.");
  m.def(
      "create_template",
      [](const std::string& name, const std::string& suite, const std::optional<std::string>& mirror,
         const std::optional<std::vector<std::string>>& include,
         const std::optional<std::filesystem::path>& cache_dir,
         const std::optional<std::filesystem::path>& root) {
        auto dir = ovz::resolve_state_root(to_root(root));
        ovz::debootstrap_options opts{.suite = suite,
                                      .mirror = mirror.value_or(""),
                                      .include = include.value_or(std::vector<std::string>{}),
                                      .cache_dir = cache_dir.value_or(std::filesystem::path{})};
        return unwrap(without_gil([&] { return ovz::template_store(dir).create(name, opts); }));
      },
      "name"_a, py::kw_only(), "suite"_a, "mirror"_a = py::none(), "include"_a = py::none(),
      "cache_dir"_a = py::none(), "root"_a = py::none(),
      "Builds a template with the host's debootstrap (minbase, `include` added, systemd-sysv "
      "unless another init is included) from `mirror` (None: the host's apt sources), and makes "
      "it fit for VEs. Takes minutes; a failed create leaves nothing behind.");
  m.def(
      "cgroup_manager",
      [] { return std::string(unwrap(ovz::host::detect()).cgroup_manager()); },
      "Who makes the VEs' cgroups on this host: 'systemd' (each VE a delegated scope, where "
      "systemd boots a cgroup v2 host and answers) or 'cgroupfs' (libovz itself).");
  py::class_<ovz::checkpoint_tools>(m, "CheckpointTools",
                                    "What this host's CRIU can do (checkpoint_tools_here()).")
      .def_readonly("criu_version", &ovz::checkpoint_tools::criu_version, "\"3.17.1\".")
      .def_readonly("memory_tracking", &ovz::checkpoint_tools::memory_tracking,
                    "Dirty-memory tracking: iterative pre-dumps, online migration.")
      .def_readonly("lazy_pages", &ovz::checkpoint_tools::lazy_pages,
                    "Restore before every page is in (userfaultfd).");
  m.def(
      "tune_host", [] { return unwrap(ovz::tune_host()); },
      "Tunes the host's kernel for VEs that come and go, once per boot (cgroup2's "
      "favordynmods: a VE's start no longer waits for an RCU grace period). True when it "
      "changed something, False when the host was tuned already; ovz.Unsupported on a kernel "
      "without it.");
  m.def(
      "checkpoint_supported", [] { unwrap(ovz::checkpoint_supported()); },
      "Returns when VEs can be checkpointed here: CRIU installed ($OVZ_CRIU names another "
      "program) and its own check of this kernel passed (asked once per process). Raises "
      "ovz.Unsupported with CRIU's reason otherwise.");
  m.def(
      "checkpoint_tools_here", [] { return unwrap(ovz::checkpoint_tools_here()); },
      "The CRIU version and the features it finds on this kernel.");
  m.def(
      "receive_ve",
      [](int fd, const std::optional<std::filesystem::path>& root) {
        return unwrap(without_gil([&] { return ovz::receive_ve(fd, to_root(root)); })).value();
      },
      "fd"_a, "root"_a = py::none(),
      "The receiving side of VE.migrate(): takes the VE that comes over `fd` into the state "
      "root `root` (None: $OVZ_ROOT or the default) and runs it as it ran at the source; its "
      "CTID. On failure nothing of it stays here and the source is told why.");
  m.def(
      "view_backends",
      [] {
        const auto b = ovz::view_backends_here();
        py::dict d;
        d["uptime"] = b.uptime;
        d["proc"] = b.proc_files;
        d["beancounters"] = b.beancounters;
        d["module"] = b.module;
        d["module_loaded"] = b.module_loaded;
        return d;
      },
      "What serves each view a VE has of itself on this host: {'uptime': 'ovz module', 'time "
      "namespace' or 'host'; 'proc' (meminfo, cpuinfo, stat, loadavg, swaps): 'ovz module' or "
      "'host'; 'beancounters': 'cgroup files'; 'module': 'ABI 1.0', 'not loaded' or why it is "
      "not used; 'module_loaded': bool}.");
  m.def("kernel_keeps_disk_quota", &ovz::kernel_keeps_disk_quota,
        "Whether this host's kernel keeps disk quota: VEs created here with a diskspace hold "
        "to their soft limits and quotatime (DiskQuota.soft_enforced), not only the hard ones.");
  m.def(
      "resolve_state_root",
      [](const std::optional<std::filesystem::path>& root) {
        return ovz::resolve_state_root(to_root(root));
      },
      "root"_a = py::none(),
      "The state root in use: `root` when given, else $OVZ_ROOT, else /var/lib/ovz.");
}

ovz::oci_io to_oci_io(int stdin_fd, int stdout_fd, int stderr_fd, int console_socket,
                      std::vector<int> pass_fds, unsigned listen_fds) {
  ovz::oci_io io;
  io.pass_fds = std::move(pass_fds);
  io.listen_fds = listen_fds;
  io.stdin_fd = stdin_fd;
  io.stdout_fd = stdout_fd;
  io.stderr_fd = stderr_fd;
  io.console_socket = console_socket;
  return io;
}

std::filesystem::path oci_root(const std::optional<std::filesystem::path>& root) {
  return root ? *root : ovz::default_oci_root();
}

void define_oci(py::module_& m) {
  py::class_<ovz::oci_container>(
      m, "OciContainer",
      "An OCI container run as a VE (runc's create, start, state, kill, delete, exec), under "
      "a runtime's state root (None: /run/ovz-oci).")
      .def_static(
          "create",
          [](const std::string& id, const std::filesystem::path& bundle,
             const std::optional<std::filesystem::path>& root, int stdin_fd, int stdout_fd,
             int stderr_fd, int console_socket, std::vector<int> pass_fds, unsigned listen_fds) {
            const auto io = to_oci_io(stdin_fd, stdout_fd, stderr_fd, console_socket,
                                      std::move(pass_fds), listen_fds);
            return unwrap(without_gil(
                [&] { return ovz::oci_container::create(oci_root(root), id, bundle, io); }));
          },
          "id"_a, "bundle"_a, "root"_a = py::none(), py::kw_only(), "stdin"_a = 0,
          "stdout"_a = 1, "stderr"_a = 2, "console_socket"_a = -1,
          "pass_fds"_a = std::vector<int>{}, "listen_fds"_a = 0u,
          "Creates the container from the bundle directory's config.json, its process waiting "
          "for start(). pass_fds become its 3, 4, ...; the first listen_fds of them are "
          "sockets of systemd's socket activation (LISTEN_FDS, LISTEN_PID=1).")
      .def_static(
          "open",
          [](const std::string& id, const std::optional<std::filesystem::path>& root) {
            return unwrap(ovz::oci_container::open(oci_root(root), id));
          },
          "id"_a, "root"_a = py::none(), "The existing container `id`; NotFound otherwise.")
      .def_static(
          "list",
          [](const std::optional<std::filesystem::path>& root) {
            return unwrap(ovz::oci_container::list(oci_root(root)));
          },
          "root"_a = py::none(), "The IDs of the containers under the state root, sorted.")
      .def_property_readonly("id", &ovz::oci_container::id)
      .def_property_readonly("ctid", [](const ovz::oci_container& c) { return c.ve().value(); })
      .def(
          "state",
          [](const ovz::oci_container& c) {
            auto s = unwrap(c.state());
            py::dict d;
            d["ociVersion"] = "1.0.2";
            d["id"] = s.id;
            d["status"] = ovz::to_string(s.status);
            d["pid"] = s.pid;
            d["bundle"] = s.bundle.string();
            d["created"] = s.created;
            d["annotations"] = s.annotations;
            return d;
          },
          "The runtime-spec state, as runc state prints it.")
      .def("start", [](ovz::oci_container& c) { unwrap(without_gil([&] { return c.start(); })); })
      .def(
          "kill",
          [](ovz::oci_container& c, int signal, bool all) {
            unwrap(without_gil([&] { return c.kill(signal, all); }));
          },
          "signal"_a = 15, "all"_a = false)
      .def(
          "delete",
          [](ovz::oci_container& c, bool force) {
            unwrap(without_gil([&] { return c.destroy(force); }));
          },
          "force"_a = false)
      .def("pause", [](ovz::oci_container& c) { unwrap(without_gil([&] { return c.pause(); })); })
      .def("resume", [](ovz::oci_container& c) { unwrap(without_gil([&] { return c.resume(); })); })
      .def(
          "update",
          [](ovz::oci_container& c, const std::string& resources) {
            auto r = unwrap(ovz::parse_oci_resources(resources));
            unwrap(without_gil([&] { return c.update(r); }));
          },
          "resources"_a, "Changes the limits as a LinuxResources object (JSON text) names them.")
      .def(
          "exec",
          [](ovz::oci_container& c, const std::string& process, bool detach, int stdin_fd,
             int stdout_fd, int stderr_fd, int console_socket, std::vector<int> pass_fds,
             unsigned listen_fds) {
            auto proc = unwrap(ovz::parse_oci_process(process));
            const auto io = to_oci_io(stdin_fd, stdout_fd, stderr_fd, console_socket,
                                      std::move(pass_fds), listen_fds);
            auto p = unwrap(without_gil([&] { return c.exec(proc, io, detach); }));
            if (detach) return static_cast<int>(p.pid());
            return unwrap(without_gil([&] { return p.wait(); }));
          },
          "process"_a, py::kw_only(), "detach"_a = true, "stdin"_a = 0, "stdout"_a = 1,
          "stderr"_a = 2, "console_socket"_a = -1, "pass_fds"_a = std::vector<int>{},
          "listen_fds"_a = 0u,
          "Starts a runtime-spec process (JSON text) in the container: detached, returns its "
          "PID; else waits and returns its exit status.")
      .def("processes", [](const ovz::oci_container& c) { return unwrap(c.processes()); });
}

}  // namespace

PYBIND11_MODULE(_ovz, m) {
  m.doc() = "libovz's C++ API for Python; import the `ovz` package instead.";
  m.attr("version") = OVZ_VERSION_STRING;
  m.attr("UNLIMITED") = ovz::ubc_unlimited;
  define_errors(m);
  define_records(m);
  define_watcher(m);
  define_reader(m);
  define_ve(m);
  define_functions(m);
  define_oci(m);
}
