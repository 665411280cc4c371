// The module's functions: the log handler, the VEs of a state root taken together,
// templates, and what this host can do.

#include "convert.hpp"
#include "defines.hpp"

#include <ovz/beancounter.hpp>
#include <ovz/checkpoint.hpp>
#include <ovz/disk_quota.hpp>
#include <ovz/host.hpp>
#include <ovz/log.hpp>
#include <ovz/migration.hpp>
#include <ovz/state_root.hpp>
#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz_python {

using namespace py::literals;

namespace {

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

}  // namespace

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

}  // namespace ovz_python
