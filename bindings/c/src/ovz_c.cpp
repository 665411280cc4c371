// The C ABI (ovz.h) over libovz's public C++ API. Every entry point catches everything: no
// exception may cross into C, where it would terminate the program or unwind through frames
// that cannot clean up.

#include <ovz.h>

#include "c_support.hpp"

#include <ovz/beancounter.hpp>
#include <ovz/checkpoint.hpp>
#include <ovz/migration.hpp>
#include <ovz/cpu.hpp>
#include <ovz/ctid.hpp>
#include <ovz/disk_quota.hpp>
#include <ovz/network.hpp>
#include <ovz/error.hpp>
#include <ovz/host.hpp>
#include <ovz/log.hpp>
#include <ovz/security.hpp>
#include <ovz/setting.hpp>
#include <ovz/state_root.hpp>
#include <ovz/template.hpp>
#include <ovz/ubc_reader.hpp>
#include <ovz/ubc_watch.hpp>
#include <ovz/ve.hpp>
#include <ovz/ve_params.hpp>
#include <ovz/version.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <vector>

// ovz.h is not generated, so that it stands alone; the build tells this file the version.
static_assert(OVZ_VERSION_MAJOR == OVZ_PROJECT_VERSION_MAJOR &&
                  OVZ_VERSION_MINOR == OVZ_PROJECT_VERSION_MINOR &&
                  OVZ_VERSION_PATCH == OVZ_PROJECT_VERSION_PATCH,
              "ovz.h's OVZ_VERSION_* is not the project's version in CMakeLists.txt");

// ovz_errc is ovz::errc negated.
#define OVZ_ERRC(name, value, c_code, message, py_class, py_doc) \
  static_assert(c_code == -(value), #c_code " in ovz.h is not ovz::errc::" #name " negated");
#include <ovz/errc.def>

struct ovz_ve {
  ovz::ve v;
};

struct ovz_batch {
  std::vector<ovz::ve_batch_entry> entries;
};

using namespace ovz_c;

namespace {

// Options structs: `size` says how much of the struct the caller knows. Too small to hold even
// `size` means it was never initialised with its *_INIT macro; bytes past what this library
// knows must be zero, so that a newer caller's request is refused rather than half-done.
template <class S>
int check_options(const S* opts, const char* type) {
  if (opts->size < sizeof(opts->size))
    return invalid(std::string(type) + ": size " + std::to_string(opts->size) +
                   " is too small (initialise it with its _INIT macro)");
  const auto* bytes = reinterpret_cast<const unsigned char*>(opts);
  for (size_t i = sizeof(S); i < opts->size; ++i)
    if (bytes[i] != 0)
      return set_error(OVZ_EUNSUPPORTED, 0,
                       std::string(type) + ": sets fields this libovz " OVZ_VERSION_STRING
                                           " does not know (size " +
                           std::to_string(opts->size) + ")");
  return 0;
}

// True when the caller's struct is long enough to hold `field` entirely.
template <class S, class M>
bool covers(const S& opts, M S::*field) {
  const auto offset = reinterpret_cast<const char*>(&(opts.*field)) -
                      reinterpret_cast<const char*>(&opts);
  return opts.size >= static_cast<size_t>(offset) + sizeof(M);
}

// The structs as libovz 0.1 had them: what the calls without a size fill, forever. Fields
// are only ever added at the end, so 0.1's size is the end of its last field.
constexpr size_t status_size_0_1 = offsetof(ovz_ve_status_t, ostemplate) + OVZ_NAME_MAX;
constexpr size_t ubc_stat_size_0_1 = offsetof(ovz_ubc_stat, enforced) + sizeof(int);
static_assert(status_size_0_1 <= sizeof(ovz_ve_status_t) &&
              ubc_stat_size_0_1 <= sizeof(ovz_ubc_stat));

// Copies the fields of `src` that the caller's `size` bytes of `dst` hold; 0 or the error set.
template <class S>
int fill_sized(void* dst, const S& src, size_t size, const char* fn) {
  if (size == 0) return invalid(std::string(fn) + ": size is 0 (pass sizeof of the struct)");
  std::memcpy(dst, &src, std::min(size, sizeof(S)));
  return 0;
}

void copy_name(char (&dst)[OVZ_NAME_MAX], const std::string& src) {
  const size_t n = std::min(src.size(), sizeof dst - 1);
  std::memcpy(dst, src.data(), n);
  dst[n] = '\0';
}

ovz_ve_status_t to_c(const ovz::ve_status& s) {
  ovz_ve_status_t out{};
  out.ctid = s.id.value();
  switch (s.state) {
    case ovz::ve_state::absent: out.state = OVZ_STATE_ABSENT; break;
    case ovz::ve_state::stopped: out.state = OVZ_STATE_STOPPED; break;
    case ovz::ve_state::running: out.state = OVZ_STATE_RUNNING; break;
  }
  out.mounted = s.mounted ? 1 : 0;
  out.init_pid = static_cast<int>(s.init_pid);
  out.nproc = s.nproc;
  copy_name(out.hostname, s.hostname);
  copy_name(out.ostemplate, s.ostemplate);
  out.suspended = s.suspended ? 1 : 0;
  return out;
}

// argv as ovz::ve::exec takes it; false for a NULL or empty argv.
bool to_argv(const char* const argv[], std::vector<std::string>& out) {
  if (!argv || !argv[0]) return false;
  for (size_t i = 0; argv[i]; ++i) out.emplace_back(argv[i]);
  return true;
}

ovz::stop_options to_stop_options(const ovz_stop_options& opts) {
  ovz::stop_options out;
  if (covers(opts, &ovz_stop_options::fast)) out.fast = opts.fast != 0;
  if (covers(opts, &ovz_stop_options::timeout_ms) && opts.timeout_ms != OVZ_STOP_TIMEOUT_CONFIG)
    out.timeout = std::chrono::milliseconds(opts.timeout_ms);
  return out;
}

// Reads the caller's stop options (NULL: defaults) into `out`; 0 or an error code.
int read_stop_options(const ovz_stop_options* opts, ovz::stop_options& out) {
  if (!opts) return 0;
  if (int rc = check_options(opts, "ovz_stop_options")) return rc;
  out = to_stop_options(*opts);
  return 0;
}

// Reads the caller's start options (NULL: defaults) into `out`; 0 or an error code.
int read_start_options(const ovz_start_options* opts, ovz::start_options& out) {
  if (!opts) return 0;
  if (int rc = check_options(opts, "ovz_start_options")) return rc;
  if (covers(*opts, &ovz_start_options::init) && opts->init && !to_argv(opts->init, out.init))
    return invalid("ovz_start_options: init is an empty argv");
  return 0;
}

// A NULL-terminated list of strings (NULL: none).
std::vector<std::string> to_strings(const char* const* list) {
  std::vector<std::string> out;
  for (size_t i = 0; list && list[i]; ++i) out.emplace_back(list[i]);
  return out;
}

// Reads the caller's exec options (NULL: OVZ_EXEC_OPTIONS_INIT) into `out`; 0 or an error code.
int read_exec_options(const ovz_exec_options* opts, ovz::exec_options& out) {
  out.stdin_fd = 0;
  out.stdout_fd = 1;
  out.stderr_fd = 2;
  if (!opts) return 0;
  if (int rc = check_options(opts, "ovz_exec_options")) return rc;
  if (covers(*opts, &ovz_exec_options::env)) out.env = to_strings(opts->env);
  if (covers(*opts, &ovz_exec_options::cwd) && opts->cwd && *opts->cwd) out.cwd = opts->cwd;
  if (covers(*opts, &ovz_exec_options::stdin_fd)) out.stdin_fd = opts->stdin_fd;
  if (covers(*opts, &ovz_exec_options::stdout_fd)) out.stdout_fd = opts->stdout_fd;
  if (covers(*opts, &ovz_exec_options::stderr_fd)) out.stderr_fd = opts->stderr_fd;
  if (covers(*opts, &ovz_exec_options::started) && opts->started) {
    void* data = covers(*opts, &ovz_exec_options::started_data) ? opts->started_data : nullptr;
    out.started = [fn = opts->started, data](pid_t pid) { fn(pid, data); };
  }
  return 0;
}

// One command inside the VE, for every ovz_ve_exec* entry point (`fn` names it in errors).
int exec_in(const char* fn, ovz_ve_t* ve, const char* const argv[], const ovz::exec_options& o,
            int* exit_code, char** out, char** err) {
  std::vector<std::string> args;
  if (!ve || !to_argv(argv, args)) return invalid(std::string(fn) + ": ve is NULL or argv empty");
  auto r = ve->v.exec(args, o);
  if (!r) return fail(r.error());
  // Both copies first, so that a failed allocation hands the caller nothing to free.
  c_string out_copy = out && o.stdout_fd < 0 ? dup_string(r->out) : nullptr;
  c_string err_copy = err && o.stderr_fd < 0 ? dup_string(r->err) : nullptr;
  if (out_copy) *out = out_copy.release();
  if (err_copy) *err = err_copy.release();
  if (exit_code) *exit_code = r->exit_code;
  return 0;
}

// True when `program` is an executable file in one of $PATH's directories.
bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string_view dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  while (true) {
    const auto colon = dirs.find(':');
    std::string dir(dirs.substr(0, colon));
    if (dir.empty()) dir = ".";  // POSIX: an empty entry is the current directory
    if (::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
    if (colon == std::string_view::npos) return false;
    dirs.remove_prefix(colon + 1);
  }
}

// The cgroup version VEs use: the detected host's. 0 when nothing is mounted.
int host_cgroup_version() {
  auto on = ovz::host::detect();
  return on ? on->cgroup_version() : 0;
}

bool host_cgroups_by_systemd() {
  auto on = ovz::host::detect();
  return on && std::string_view(on->cgroup_manager()) == "systemd";
}

// An operation on a VE that takes nothing and hands nothing out (destroy, suspend, ...).
int ve_action(const char* fn, ovz_ve_t* ve, ovz::result<void> (ovz::ve::*action)()) {
  return guarded([&] {
    if (!ve) return invalid(std::string(fn) + ": ve is NULL");
    auto r = (ve->v.*action)();
    return r ? 0 : fail(r.error());
  });
}

// Settings read from a VE, handed out as the CTID.conf lines `to_config` writes them as.
template <class T>
int settings_text(const char* fn, ovz_ve_t* ve, char** out,
                  ovz::result<T> (ovz::ve::*read)() const,
                  ovz::result<void> (*to_config)(const T&, ovz::ve_config&)) {
  return guarded([&] {
    if (!ve || !out) return invalid(std::string(fn) + ": ve or out is NULL");
    auto r = (ve->v.*read)();
    if (!r) return fail(r.error());
    ovz::ve_config text;
    if (auto ok = to_config(*r, text); !ok) return fail(ok.error());
    *out = dup_string(text.serialize()).release();
    return 0;
  });
}

// One `vzctl set --NAME VALUE` added to `c` by the core's parser, the same for ovzctl, C and
// Python; `only`, when given, is the kind of setting the entry point takes. 0 or the error set.
int add_setting(ovz::ve_changes& c, const char* fn, const char* name, const char* value,
                std::optional<ovz::setting_kind> only = std::nullopt) {
  if (only && ovz::setting_kind_of(name) != only)
    return invalid(std::string(fn) + ": \"" + name + "\" is not a setting it takes");
  auto ok = ovz::parse_setting(name, value, c);
  return ok ? 0 : fail(ok.error());
}

// The i-th of a network list as text; OVZ_ENOTFOUND past its end.
template <class List, class Text>
int network_item(const char* fn, ovz_ve_t* ve, size_t i, char** out, List ovz::ve_network::*list,
                 Text text) {
  return guarded([&] {
    if (!ve || !out) return invalid(std::string(fn) + ": ve or out is NULL");
    auto n = ve->v.network();
    if (!n) return fail(n.error());
    const auto& items = (*n).*list;
    if (i >= items.size())
      return set_error(OVZ_ENOTFOUND, 0,
                       std::string(fn) + ": the VE has " + std::to_string(items.size()));
    *out = dup_string(text(items[i])).release();
    return 0;
  });
}

}  // namespace

extern "C" {

const ovz_error* ovz_error_last(void) { return ovz_c::last_error_view(); }

const char* ovz_version(void) { return OVZ_VERSION_STRING; }

namespace {

struct feature {
  const char* name;
  unsigned bit;
  bool (*present)();
};

const feature features[] = {
    {"cgroup2", OVZ_FEATURE_CGROUP2, [] { return host_cgroup_version() == 2; }},
    {"cgroup1", OVZ_FEATURE_CGROUP1, [] { return host_cgroup_version() == 1; }},
    {"systemd", OVZ_FEATURE_SYSTEMD, host_cgroups_by_systemd},
    {"userns", OVZ_FEATURE_USERNS, [] { return ::access("/proc/self/ns/user", F_OK) == 0; }},
    {"criu", OVZ_FEATURE_CRIU, [] { return on_path("criu"); }},
    {"kmod", OVZ_FEATURE_KMOD, [] { return ovz::view_backends_here().module_loaded; }},
    {"timens", OVZ_FEATURE_TIMENS, [] { return ::access("/proc/self/ns/time", F_OK) == 0; }},
    {"quota", OVZ_FEATURE_QUOTA, [] { return ovz::kernel_keeps_disk_quota(); }},
    {"checkpoint", OVZ_FEATURE_CHECKPOINT,
     [] { return static_cast<bool>(ovz::checkpoint_supported()); }},
};

}  // namespace

int ovz_has_feature(const char* name) {
  try {
    if (!name) return 0;
    for (const auto& f : features)
      if (std::string_view(name) == f.name) return f.present() ? 1 : 0;
    return 0;
  } catch (...) {
    return 0;
  }
}

const char* ovz_view_backend(const char* view) {
  try {
    if (!view) return nullptr;
    const auto b = ovz::view_backends_here();
    // The names are a fixed set: hand out static copies, not the struct's strings.
    static constexpr const char* names[] = {"ovz module", "time namespace", "LXCFS", "host",
                                            "cgroup files"};
    const std::string* which = std::string_view(view) == "uptime"         ? &b.uptime
                               : std::string_view(view) == "proc"         ? &b.proc_files
                               : std::string_view(view) == "beancounters" ? &b.beancounters
                                                                          : nullptr;
    if (!which) return nullptr;
    for (const char* n : names)
      if (*which == n) return n;
    return nullptr;
  } catch (...) {
    return nullptr;
  }
}

unsigned ovz_features(void) {
  try {
    unsigned mask = 0;
    for (const auto& f : features)
      if (f.present()) mask |= f.bit;
    return mask;
  } catch (...) {
    return 0;
  }
}

void ovz_set_log_handler(ovz_log_fn handler, void* userdata) {
  static_assert(OVZ_LOG_DEBUG == static_cast<int>(ovz::log_level::debug) &&
                OVZ_LOG_ERROR == static_cast<int>(ovz::log_level::error));
  try {
    if (!handler) return ovz::set_log_handler({});
    ovz::set_log_handler([handler, userdata](ovz::log_level l, std::string_view m) {
      const std::string text(m);  // NUL-terminated for C
      handler(static_cast<ovz_log_level>(l), text.c_str(), userdata);
    });
  } catch (...) {
    // Out of memory making the handler: the previous one stays.
  }
}

void ovz_string_free(char* s) { std::free(s); }

int ovz_ve_open(ovz_ve_t** out, unsigned ctid, const char* root) {
  return guarded([&] {
    if (!out) return invalid("ovz_ve_open: out is NULL");
    *out = nullptr;
    auto id = ovz::ctid::from_number(ctid);
    if (!id) return fail(id.error());
    auto v = ovz::ve::open(*id, root_path(root));
    if (!v) return fail(v.error());
    *out = new ovz_ve{std::move(*v)};
    return 0;
  });
}

void ovz_ve_free(ovz_ve_t* ve) { delete ve; }

unsigned ovz_ve_ctid(const ovz_ve_t* ve) { return ve ? ve->v.id().value() : 0; }

int ovz_ve_create(ovz_ve_t* ve, const ovz_create_options* opts) {
  return guarded([&] {
    if (!ve) return invalid("ovz_ve_create: ve is NULL");
    ovz::create_options o;
    if (opts) {
      if (int rc = check_options(opts, "ovz_create_options")) return rc;
      if (covers(*opts, &ovz_create_options::ostemplate) && opts->ostemplate)
        o.ostemplate = opts->ostemplate;
      if (covers(*opts, &ovz_create_options::hostname) && opts->hostname)
        o.hostname = opts->hostname;
      if (covers(*opts, &ovz_create_options::userns)) o.userns = opts->userns != 0;
      if (covers(*opts, &ovz_create_options::config) && opts->config) o.config = opts->config;
      // Read as ovz_ve_set_param reads them, so that a value means the same at create.
      ovz::ve_changes disk;
      for (auto [field, name] : {std::pair{&ovz_create_options::diskspace, "diskspace"},
                                 {&ovz_create_options::diskinodes, "diskinodes"},
                                 {&ovz_create_options::quotatime, "quotatime"},
                                 {&ovz_create_options::quotaugidlimit, "quotaugidlimit"}}) {
        const char* value = covers(*opts, field) ? opts->*field : nullptr;
        if (!value || !*value) continue;
        if (int rc = add_setting(disk, "ovz_ve_create", name, value)) return rc;
      }
      o.disk = disk.params.disk;
    }
    auto r = ve->v.create(o);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_start(ovz_ve_t* ve) { return ovz_ve_start_with(ve, nullptr); }

int ovz_ve_start_with(ovz_ve_t* ve, const ovz_start_options* opts) {
  return guarded([&] {
    if (!ve) return invalid("ovz_ve_start_with: ve is NULL");
    ovz::start_options o;
    if (int rc = read_start_options(opts, o)) return rc;
    auto r = ve->v.start(o);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_stop(ovz_ve_t* ve, const ovz_stop_options* opts) {
  return guarded([&] {
    if (!ve) return invalid("ovz_ve_stop: ve is NULL");
    ovz::stop_options o;
    if (int rc = read_stop_options(opts, o)) return rc;
    auto r = ve->v.stop(o);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_restart(ovz_ve_t* ve, const ovz_stop_options* opts) {
  return ovz_ve_restart_with(ve, opts, nullptr);
}

int ovz_ve_restart_with(ovz_ve_t* ve, const ovz_stop_options* stop,
                        const ovz_start_options* start) {
  return guarded([&] {
    if (!ve) return invalid("ovz_ve_restart_with: ve is NULL");
    ovz::stop_options stop_opts;
    if (int rc = read_stop_options(stop, stop_opts)) return rc;
    ovz::start_options start_opts;
    if (int rc = read_start_options(start, start_opts)) return rc;
    auto r = ve->v.restart(stop_opts, start_opts);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_destroy(ovz_ve_t* ve) { return ve_action("ovz_ve_destroy", ve, &ovz::ve::destroy); }

int ovz_ve_suspend(ovz_ve_t* ve) { return ve_action("ovz_ve_suspend", ve, &ovz::ve::suspend); }

int ovz_ve_resume(ovz_ve_t* ve) { return ve_action("ovz_ve_resume", ve, &ovz::ve::resume); }

int ovz_ve_get_status(ovz_ve_t* ve, ovz_ve_status_t* out, size_t size) {
  return guarded([&] {
    if (!ve || !out) return invalid("ovz_ve_get_status: ve or out is NULL");
    auto r = ve->v.status();
    if (!r) return fail(r.error());
    return fill_sized(out, to_c(*r), size, "ovz_ve_get_status");
  });
}

int ovz_ve_status(ovz_ve_t* ve, ovz_ve_status_t* out) {
  return ovz_ve_get_status(ve, out, status_size_0_1);
}

struct ovz_ves {
  std::vector<ovz::ve_status> all;
};

int ovz_ves_open(ovz_ves_t** out, const char* root) {
  return guarded([&] {
    if (!out) return invalid("ovz_ves_open: out is NULL");
    *out = nullptr;
    auto r = ovz::list_ves(root_path(root));
    if (!r) return fail(r.error());
    *out = new ovz_ves{std::move(*r)};
    return 0;
  });
}

size_t ovz_ves_count(const ovz_ves_t* ves) { return ves ? ves->all.size() : 0; }

int ovz_ves_at(const ovz_ves_t* ves, size_t i, ovz_ve_status_t* out, size_t size) {
  return guarded([&] {
    if (!ves || !out) return invalid("ovz_ves_at: ves or out is NULL");
    if (i >= ves->all.size())
      return invalid("ovz_ves_at: index " + std::to_string(i) + " past the " +
                     std::to_string(ves->all.size()) + " VEs");
    return fill_sized(out, to_c(ves->all[i]), size, "ovz_ves_at");
  });
}

void ovz_ves_free(ovz_ves_t* ves) { delete ves; }

int ovz_ve_list(const char* root, ovz_ve_status_t** out, size_t* count) {
  return guarded([&] {
    if (!out || !count) return invalid("ovz_ve_list: out or count is NULL");
    *out = nullptr;
    *count = 0;
    auto r = ovz::list_ves(root_path(root));
    if (!r) return fail(r.error());
    if (r->empty()) return 0;
    auto* list = static_cast<char*>(std::calloc(r->size(), status_size_0_1));
    if (!list) throw std::bad_alloc();
    for (size_t i = 0; i < r->size(); ++i)
      std::memcpy(list + i * status_size_0_1, &static_cast<const ovz_ve_status_t&>(to_c((*r)[i])),
                  status_size_0_1);
    *out = reinterpret_cast<ovz_ve_status_t*>(list);
    *count = r->size();
    return 0;
  });
}

void ovz_ve_list_free(ovz_ve_status_t* list) { std::free(list); }

int ovz_ve_exec(ovz_ve_t* ve, const char* const argv[], int* exit_code) {
  return guarded([&] {
    ovz::exec_options o;
    read_exec_options(nullptr, o);
    return exec_in("ovz_ve_exec", ve, argv, o, exit_code, nullptr, nullptr);
  });
}

int ovz_ve_exec_capture(ovz_ve_t* ve, const char* const argv[], int* exit_code, char** out,
                        char** err) {
  return guarded([&] {
    return exec_in("ovz_ve_exec_capture", ve, argv, ovz::exec_options{}, exit_code, out, err);
  });
}

int ovz_ve_exec_with(ovz_ve_t* ve, const char* const argv[], const ovz_exec_options* opts,
                     int* exit_code, char** out, char** err) {
  return guarded([&] {
    ovz::exec_options o;
    if (int rc = read_exec_options(opts, o)) return rc;
    return exec_in("ovz_ve_exec_with", ve, argv, o, exit_code, out, err);
  });
}

int ovz_template_list(const char* root, char** out) {
  return guarded([&] {
    if (!out) return invalid("ovz_template_list: out is NULL");
    auto r = ovz::template_store(ovz::resolve_state_root(root_path(root))).list();
    if (!r) return fail(r.error());
    std::string names;
    for (const auto& t : *r) names += t.name + "\n";
    *out = dup_string(names).release();
    return 0;
  });
}

int ovz_template_import(const char* root, const char* tarball, const char* name) {
  return guarded([&] {
    if (!tarball) return invalid("ovz_template_import: tarball is NULL");
    auto r = ovz::template_store(ovz::resolve_state_root(root_path(root)))
                 .import(tarball, name ? name : "");
    return r ? 0 : fail(r.error());
  });
}

int ovz_template_create(const char* root, const char* name, const ovz_debootstrap_options* opts) {
  return guarded([&] {
    if (!name || !opts) return invalid("ovz_template_create: name or opts is NULL");
    if (int rc = check_options(opts, "ovz_debootstrap_options")) return rc;
    ovz::debootstrap_options o;
    if (covers(*opts, &ovz_debootstrap_options::suite) && opts->suite) o.suite = opts->suite;
    if (o.suite.empty()) return invalid("ovz_template_create: opts->suite is NULL or empty");
    if (covers(*opts, &ovz_debootstrap_options::mirror) && opts->mirror) o.mirror = opts->mirror;
    if (covers(*opts, &ovz_debootstrap_options::include) && opts->include) {
      for (auto p = opts->include; *p; ++p) o.include.emplace_back(*p);
    }
    if (covers(*opts, &ovz_debootstrap_options::cache_dir) && opts->cache_dir)
      o.cache_dir = opts->cache_dir;
    auto r = ovz::template_store(ovz::resolve_state_root(root_path(root))).create(name, o);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_run(ovz_ve_t* ve, const char* const argv[], int* exit_code) {
  return guarded([&] {
    std::vector<std::string> args;
    if (!ve || !to_argv(argv, args)) return invalid("ovz_ve_run: ve is NULL or argv empty");
    auto r = ve->v.run(args);
    if (!r) return fail(r.error());
    if (exit_code) *exit_code = *r;
    return 0;
  });
}

int ovz_ve_enter(ovz_ve_t* ve, int* exit_code) { return ovz_ve_enter_with(ve, nullptr, exit_code); }

int ovz_ve_enter_with(ovz_ve_t* ve, const ovz_enter_options* opts, int* exit_code) {
  return guarded([&] {
    if (!ve) return invalid("ovz_ve_enter_with: ve is NULL");
    ovz::enter_options o;
    if (opts) {
      if (int rc = check_options(opts, "ovz_enter_options")) return rc;
      if (covers(*opts, &ovz_enter_options::argv) && opts->argv && !to_argv(opts->argv, o.argv))
        return invalid("ovz_enter_options: argv is empty");
      if (covers(*opts, &ovz_enter_options::in_fd)) o.in_fd = opts->in_fd;
      if (covers(*opts, &ovz_enter_options::out_fd)) o.out_fd = opts->out_fd;
    }
    auto r = ve->v.enter(o);
    if (!r) return fail(r.error());
    if (exit_code) *exit_code = *r;
    return 0;
  });
}

int ovz_ve_console_open(ovz_ve_t* ve, int* fd) {
  return guarded([&] {
    if (!ve || !fd) return invalid("ovz_ve_console_open: ve or fd is NULL");
    auto r = ve->v.open_console();
    if (!r) return fail(r.error());
    *fd = r.value().release();
    return 0;
  });
}

int ovz_ve_console(ovz_ve_t* ve, const ovz_console_options* opts, int* detached) {
  return guarded([&] {
    if (!ve) return invalid("ovz_ve_console: ve is NULL");
    ovz::console_options o;
    if (opts) {
      if (int rc = check_options(opts, "ovz_console_options")) return rc;
      if (covers(*opts, &ovz_console_options::in_fd)) o.in_fd = opts->in_fd;
      if (covers(*opts, &ovz_console_options::out_fd)) o.out_fd = opts->out_fd;
      if (covers(*opts, &ovz_console_options::detach_key)) o.detach_key = opts->detach_key;
    }
    auto r = ve->v.console(o);
    if (!r) return fail(r.error());
    if (detached) *detached = *r ? 1 : 0;
    return 0;
  });
}

int ovz_ve_config(ovz_ve_t* ve, char** out) {
  return guarded([&] {
    if (!ve || !out) return invalid("ovz_ve_config: ve or out is NULL");
    auto r = ve->v.config();
    if (!r) return fail(r.error());
    *out = dup_string(r->serialize()).release();
    return 0;
  });
}

int ovz_ve_plan(ovz_ve_t* ve, char** out) { return ovz_ve_plan_with(ve, nullptr, out); }

int ovz_ve_plan_with(ovz_ve_t* ve, const ovz_start_options* opts, char** out) {
  return guarded([&] {
    if (!ve || !out) return invalid("ovz_ve_plan_with: ve or out is NULL");
    ovz::start_options o;
    if (int rc = read_start_options(opts, o)) return rc;
    auto text = ve->v.plan(o);
    if (!text) return fail(text.error());
    *out = dup_string(*text).release();
    return 0;
  });
}

int ovz_ve_params(ovz_ve_t* ve, char** out) {
  return settings_text("ovz_ve_params", ve, out, &ovz::ve::params, &ovz::params_to_config);
}

int ovz_ve_set_hostname(ovz_ve_t* ve, const char* hostname, int save) {
  return guarded([&] {
    if (!ve || !hostname) return invalid("ovz_ve_set_hostname: ve or hostname is NULL");
    auto r = ve->v.set_hostname(hostname, save != 0);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_set_user_password(ovz_ve_t* ve, const char* user, const char* password) {
  return guarded([&] {
    if (!ve || !user || !password)
      return invalid("ovz_ve_set_user_password: ve, user or password is NULL");
    auto r = ve->v.set_user_password(user, password);
    return r ? 0 : fail(r.error());
  });
}

int ovz_start_all(ovz_batch_t** out, const char* root, int onboot_only) {
  return guarded([&] {
    if (!out) return invalid("ovz_start_all: out is NULL");
    *out = nullptr;
    auto r = ovz::start_all(root_path(root), onboot_only != 0);
    if (!r) return fail(r.error());
    *out = new ovz_batch{std::move(*r)};
    return 0;
  });
}

int ovz_stop_all(ovz_batch_t** out, const char* root, const ovz_stop_options* opts) {
  return guarded([&] {
    if (!out) return invalid("ovz_stop_all: out is NULL");
    *out = nullptr;
    ovz::stop_options o;
    if (int rc = read_stop_options(opts, o)) return rc;
    auto r = ovz::stop_all(root_path(root), o);
    if (!r) return fail(r.error());
    *out = new ovz_batch{std::move(*r)};
    return 0;
  });
}

size_t ovz_batch_count(const ovz_batch_t* batch) { return batch ? batch->entries.size() : 0; }

int ovz_batch_at(const ovz_batch_t* batch, size_t i, unsigned* ctid, int* done, int* code,
                 const char** message) {
  return guarded([&] {
    if (!batch) return invalid("ovz_batch_at: batch is NULL");
    if (i >= batch->entries.size())
      return invalid("ovz_batch_at: index " + std::to_string(i) + " past the " +
                     std::to_string(batch->entries.size()) + " entries");
    const auto& e = batch->entries[i];
    if (ctid) *ctid = e.id.value();
    if (done) *done = e.done ? 1 : 0;
    if (code) *code = 0;
    if (message) *message = nullptr;
    if (e.failure) {
      if (code) *code = c_code(*e.failure).first;
      if (message) *message = e.failure->message().c_str();
    }
    return 0;
  });
}

void ovz_batch_free(ovz_batch_t* batch) { delete batch; }

int ovz_ve_add_ip(ovz_ve_t* ve, const char* addr, int save) {
  return guarded([&] {
    if (!ve || !addr) return invalid("ovz_ve_add_ip: ve or addr is NULL");
    auto a = ovz::ip_address::parse(addr);
    if (!a) return fail(a.error());
    auto r = ve->v.add_ip(*a, save != 0);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_del_ip(ovz_ve_t* ve, const char* addr, int save) {
  return guarded([&] {
    if (!ve || !addr) return invalid("ovz_ve_del_ip: ve or addr is NULL");
    auto a = ovz::ip_address::parse(addr);
    if (!a) return fail(a.error());
    auto r = ve->v.del_ip(*a, save != 0);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_del_all_ips(ovz_ve_t* ve, int save) {
  return guarded([&] {
    if (!ve) return invalid("ovz_ve_del_all_ips: ve is NULL");
    auto r = ve->v.del_all_ips(save != 0);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_add_netif(ovz_ve_t* ve, const char* spec, int save) {
  return guarded([&] {
    if (!ve || !spec) return invalid("ovz_ve_add_netif: ve or spec is NULL");
    auto s = ovz::netif_spec::parse(spec);
    if (!s) return fail(s.error());
    auto r = ve->v.add_netif(*s, save != 0);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_del_netif(ovz_ve_t* ve, const char* ifname, int save) {
  return guarded([&] {
    if (!ve || !ifname) return invalid("ovz_ve_del_netif: ve or ifname is NULL");
    auto r = ve->v.del_netif(ifname, save != 0);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_network(ovz_ve_t* ve, char** out) {
  return guarded([&] {
    if (!ve || !out) return invalid("ovz_ve_network: ve or out is NULL");
    auto r = ve->v.network();
    if (!r) return fail(r.error());
    ovz::ve_config text;
    if (!r->ip_addresses.empty()) {
      if (auto ok = text.set("IP_ADDRESS", ovz::format_ip_addresses(r->ip_addresses)); !ok)
        return fail(ok.error());
    }
    if (!r->netifs.empty()) {
      if (auto ok = text.set("NETIF", ovz::format_netifs(r->netifs)); !ok) return fail(ok.error());
    }
    *out = dup_string(text.serialize()).release();
    return 0;
  });
}

int ovz_ve_set_param(ovz_ve_t* ve, const char* name, const char* value, int save) {
  return guarded([&] {
    if (!ve || !name || !value) return invalid("ovz_ve_set_param: ve, name or value is NULL");
    ovz::ve_changes c;
    if (int rc = add_setting(c, "ovz_ve_set_param", name, value, ovz::setting_kind::resource))
      return rc;
    auto r = ve->v.set(c.params, save != 0);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_set_security(ovz_ve_t* ve, const char* name, const char* value, int save) {
  return guarded([&] {
    if (!ve || !name || !value) return invalid("ovz_ve_set_security: ve, name or value is NULL");
    ovz::ve_changes c;
    if (int rc = add_setting(c, "ovz_ve_set_security", name, value, ovz::setting_kind::security))
      return rc;
    auto r = ve->v.set_security(c.security, save != 0);
    return r ? 0 : fail(r.error());
  });
}

struct ovz_changes {
  ovz::ve_changes c;
};

int ovz_changes_new(ovz_changes_t** out) {
  return guarded([&] {
    if (!out) return invalid("ovz_changes_new: out is NULL");
    *out = new ovz_changes{};
    return 0;
  });
}

void ovz_changes_free(ovz_changes_t* changes) { delete changes; }

int ovz_changes_add(ovz_changes_t* changes, const char* name, const char* value) {
  return guarded([&] {
    if (!changes || !name || !value) return invalid("ovz_changes_add: changes, name or value is NULL");
    return add_setting(changes->c, "ovz_changes_add", name, value);
  });
}

int ovz_ve_apply(ovz_ve_t* ve, const ovz_changes_t* changes, int save) {
  return guarded([&] {
    if (!ve || !changes) return invalid("ovz_ve_apply: ve or changes is NULL");
    auto r = ve->v.apply(changes->c, save != 0);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_security(ovz_ve_t* ve, char** out) {
  return settings_text("ovz_ve_security", ve, out, &ovz::ve::security, &ovz::security_to_config);
}

int ovz_ve_get_stats(ovz_ve_t* ve, ovz_ubc_stat* stats, size_t capacity, size_t* count) {
  return ovz_ve_beancounters(ve, stats, ubc_stat_size_0_1, capacity, count);
}

namespace {

ovz_ubc_stat c_stat(const ovz::ubc_stat& s) {
  return {.resource = ovz::to_string(s.resource),
          .held = s.held,
          .maxheld = s.maxheld,
          .barrier = s.barrier,
          .limit = s.limit,
          .failcnt = s.failcnt,
          .measured = s.measured ? 1 : 0,
          .enforced = s.enforced ? 1 : 0};
}

}  // namespace

int ovz_ve_beancounters(ovz_ve_t* ve, ovz_ubc_stat* stats, size_t stat_size, size_t capacity,
                        size_t* count) {
  return guarded([&] {
    if (!ve || !count || (!stats && capacity > 0) || (capacity > 0 && stat_size == 0))
      return invalid("ovz_ve_beancounters: ve or count is NULL, or stats NULL or stat_size 0 "
                     "with capacity");
    auto r = ve->v.beancounters();
    if (!r) return fail(r.error());
    const auto& all = r->stats;
    auto* base = reinterpret_cast<char*>(stats);
    for (size_t i = 0; i < std::min(capacity, all.size()); ++i) {
      const ovz_ubc_stat c = c_stat(all[i]);
      std::memcpy(base + i * stat_size, &c, std::min(stat_size, sizeof c));
    }
    *count = all.size();
    return 0;
  });
}

struct ovz_ubc_reader {
  ovz::ubc_reader reader;
  std::vector<ovz::ubc_snapshot> last;
};

int ovz_ubc_reader_open(ovz_ubc_reader_t** out, const char* root) {
  return ovz_ubc_reader_open_from(out, root, OVZ_UBC_SOURCES_ANY);
}

int ovz_ubc_reader_open_from(ovz_ubc_reader_t** out, const char* root, int sources) {
  return guarded([&] {
    if (!out) return invalid("ovz_ubc_reader_open: out is NULL");
    *out = nullptr;
    if (sources != OVZ_UBC_SOURCES_ANY && sources != OVZ_UBC_SOURCES_FILES_ONLY)
      return invalid("ovz_ubc_reader_open_from: sources " + std::to_string(sources) +
                     " is neither OVZ_UBC_SOURCES_ANY (0) nor OVZ_UBC_SOURCES_FILES_ONLY (1)");
    auto r = ovz::ubc_reader::open(root_path(root), sources == OVZ_UBC_SOURCES_FILES_ONLY
                                                        ? ovz::ubc_sources::files_only
                                                        : ovz::ubc_sources::any);
    if (!r) return fail(r.error());
    *out = new ovz_ubc_reader{std::move(*r), {}};
    return 0;
  });
}

namespace {

size_t row_count(const std::vector<ovz::ubc_snapshot>& snaps) {
  size_t n = 0;
  for (const auto& s : snaps) n += s.stats.size();
  return n;
}

}  // namespace

int ovz_ubc_reader_read(ovz_ubc_reader_t* reader, size_t* count) {
  return guarded([&] {
    if (!reader) return invalid("ovz_ubc_reader_read: reader is NULL");
    auto r = reader->reader.read();
    if (!r) return fail(r.error());
    reader->last = std::move(*r);
    if (count) *count = row_count(reader->last);
    return 0;
  });
}

int ovz_ubc_reader_rows(const ovz_ubc_reader_t* reader, ovz_ubc_row* rows, size_t row_size,
                        size_t capacity, size_t* count) {
  return guarded([&] {
    if (!reader || !count || (!rows && capacity > 0) || (capacity > 0 && row_size == 0))
      return invalid("ovz_ubc_reader_rows: reader or count is NULL, or rows NULL or row_size 0 "
                     "with capacity");
    auto* base = reinterpret_cast<char*>(rows);
    size_t i = 0;
    for (const auto& snap : reader->last) {
      for (const auto& s : snap.stats) {
        if (i < capacity) {
          const ovz_ubc_row c = {.ctid = snap.id.value(), .stat = c_stat(s)};
          std::memcpy(base + i * row_size, &c, std::min(row_size, sizeof c));
        }
        ++i;
      }
    }
    *count = i;
    return 0;
  });
}

int ovz_ubc_reader_report(const ovz_ubc_reader_t* reader, char** out) {
  return guarded([&] {
    if (!reader || !out) return invalid("ovz_ubc_reader_report: reader or out is NULL");
    *out = dup_string(ovz::format_user_beancounters(reader->last)).release();
    return 0;
  });
}

const char* ovz_ubc_reader_backend(const ovz_ubc_reader_t* reader) {
  // string_views of static storage, NUL-terminated.
  return reader ? reader->reader.backend().data() : nullptr;
}

void ovz_ubc_reader_free(ovz_ubc_reader_t* reader) { delete reader; }

struct ovz_ubc_watch {
  std::unique_ptr<ovz::ubc_event_queue> queue;
};

int ovz_ubc_watch_open(ovz_ubc_watch_t** out, ovz_ve_t* ve, const ovz_ubc_watch_options* opts) {
  return guarded([&] {
    if (!out || !ve) return invalid("ovz_ubc_watch_open: out or ve is NULL");
    *out = nullptr;
    std::chrono::milliseconds interval(1000);
    if (opts) {
      if (int rc = check_options(opts, "ovz_ubc_watch_options")) return rc;
      if (covers(*opts, &ovz_ubc_watch_options::poll_interval_ms))
        interval = std::chrono::milliseconds(opts->poll_interval_ms);
    }
    auto q = ovz::ubc_event_queue::start(ve->v, interval);
    if (!q) return fail(q.error());
    *out = new ovz_ubc_watch{std::move(*q)};
    return 0;
  });
}

int ovz_ubc_watch_next(ovz_ubc_watch_t* watch, int timeout_ms, ovz_ubc_event* event,
                       size_t size) {
  return guarded([&] {
    // Checked before an event is taken, which a refused copy would lose.
    if (!watch || !event || size == 0)
      return invalid("ovz_ubc_watch_next: watch or event is NULL, or size 0");
    auto e = watch->queue->next(std::chrono::milliseconds(timeout_ms < 0 ? -1 : timeout_ms));
    if (!e) return fail(e.error());
    if (!*e)
      return set_error(OVZ_ETIMEDOUT, 0,
                       "ovz_ubc_watch_next: no event within " + std::to_string(timeout_ms) + " ms");
    const ovz_ubc_event c = {.ctid = (*e)->id.value(),
                             .resource = ovz::resource_name(**e),
                             .failcnt = (*e)->failcnt,
                             .previous = (*e)->previous};
    return fill_sized(event, c, size, "ovz_ubc_watch_next");
  });
}

int ovz_ubc_watch_fd(const ovz_ubc_watch_t* watch) { return watch ? watch->queue->fd() : -1; }

void ovz_ubc_watch_free(ovz_ubc_watch_t* watch) { delete watch; }

int ovz_ubc_report(const char* root, char** out) {
  return guarded([&] {
    if (!out) return invalid("ovz_ubc_report: out is NULL");
    *out = nullptr;
    auto r = ovz::all_beancounters(root_path(root));
    if (!r) return fail(r.error());
    *out = dup_string(ovz::format_user_beancounters(*r)).release();
    return 0;
  });
}

int ovz_ve_get_ubc_limit(ovz_ve_t* ve, const char* resource, uint64_t* barrier,
                         uint64_t* limit) {
  return guarded([&] {
    if (!ve || !resource) return invalid("ovz_ve_get_ubc_limit: ve or resource is NULL");
    auto r = ovz::parse_ubc_resource(resource);
    if (!r) return fail(r.error());
    auto p = ve->v.params();
    if (!p) return fail(p.error());
    ovz::ubc_value v;  // unlimited unless CTID.conf sets it
    for (const auto& [res, value] : p->ubc)
      if (res == *r) v = value;
    if (barrier) *barrier = v.barrier;
    if (limit) *limit = v.limit;
    return 0;
  });
}

namespace {

ovz_disk_usage usage_row(const ovz::disk_usage& u) {
  return ovz_disk_usage{
      .usage = u.usage, .soft = u.soft, .hard = u.hard, .grace = u.grace.value_or(OVZ_QUOTA_NO_GRACE)};
}

}  // namespace

int ovz_tune_host(int* changed) {
  return guarded([&] {
    auto r = ovz::tune_host();
    if (!r) return fail(r.error());
    if (changed) *changed = *r ? 1 : 0;
    return static_cast<int>(OVZ_OK);
  });
}

int ovz_checkpoint_supported(void) {
  return guarded([&] {
    auto ok = ovz::checkpoint_supported();
    return ok ? OVZ_OK : fail(ok.error());
  });
}

int ovz_checkpoint_tools_here(ovz_checkpoint_tools* out, size_t size) {
  return guarded([&] {
    if (!out) return invalid("ovz_checkpoint_tools_here: out is NULL");
    auto t = ovz::checkpoint_tools_here();
    if (!t) return fail(t.error());
    ovz_checkpoint_tools c{};
    std::snprintf(c.criu_version, sizeof c.criu_version, "%s", t->criu_version.c_str());
    c.memory_tracking = t->memory_tracking ? 1 : 0;
    c.lazy_pages = t->lazy_pages ? 1 : 0;
    return fill_sized(out, c, size, "ovz_checkpoint_tools_here");
  });
}

int ovz_ve_checkpoint(ovz_ve_t* ve, const char* dir, const ovz_checkpoint_options* opts) {
  return guarded([&] {
    if (!ve) return invalid("ovz_ve_checkpoint: ve is NULL");
    ovz::checkpoint_options o;
    if (opts) {
      if (int rc = check_options(opts, "ovz_checkpoint_options")) return rc;
      o.leave_running = covers(*opts, &ovz_checkpoint_options::leave_running) && opts->leave_running;
    }
    auto r = ve->v.checkpoint(root_path(dir), o);
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_restore(ovz_ve_t* ve, const char* dir) {
  return guarded([&] {
    if (!ve) return invalid("ovz_ve_restore: ve is NULL");
    auto r = ve->v.restore(root_path(dir));
    return r ? 0 : fail(r.error());
  });
}

int ovz_ve_migrate(ovz_ve_t* ve, int fd, const ovz_migrate_options* opts) {
  return guarded([&] {
    if (!ve) return invalid("ovz_ve_migrate: ve is NULL");
    ovz::migrate_options o;
    if (opts) {
      if (int rc = check_options(opts, "ovz_migrate_options")) return rc;
      o.online = covers(*opts, &ovz_migrate_options::online) && opts->online;
      if (covers(*opts, &ovz_migrate_options::timeout_ms))
        o.timeout = std::chrono::milliseconds(opts->timeout_ms);
    }
    auto r = ve->v.migrate(fd, o);
    return r ? 0 : fail(r.error());
  });
}

int ovz_receive_ve(int fd, const char* state_root, unsigned* ctid) {
  return guarded([&] {
    auto r = ovz::receive_ve(fd, root_path(state_root));
    if (!r) return fail(r.error());
    if (ctid) *ctid = r->value();
    return 0;
  });
}

int ovz_ve_cpu_time(ovz_ve_t* ve, uint64_t* usec) {
  return guarded([&] {
    if (!ve || !usec) return invalid("ovz_ve_cpu_time: ve or usec is NULL");
    auto t = ve->v.cpu_time();
    if (!t) return fail(t.error());
    *usec = static_cast<uint64_t>(t->count());
    return 0;
  });
}

int ovz_ve_quota(ovz_ve_t* ve, ovz_disk_quota* out, size_t size) {
  return guarded([&] {
    if (!ve || !out) return invalid("ovz_ve_quota: ve or out is NULL");
    auto q = ve->v.quota();
    if (!q) return fail(q.error());
    const ovz_disk_quota c = {.blocks = usage_row(q->blocks),
                              .inodes = usage_row(q->inodes),
                              .quotatime = q->quotatime,
                              .soft_enforced = q->soft_enforced ? 1 : 0};
    return fill_sized(out, c, size, "ovz_ve_quota");
  });
}

int ovz_ve_set_ugid_quota(ovz_ve_t* ve, ovz_quota_ugid owner, const char* blocks,
                          const char* inodes) {
  return guarded([&] {
    if (!ve) return invalid("ovz_ve_set_ugid_quota: ve is NULL");
    if (owner.type != OVZ_QUOTA_USER && owner.type != OVZ_QUOTA_GROUP)
      return invalid("ovz_ve_set_ugid_quota: owner.type is neither OVZ_QUOTA_USER nor "
                     "OVZ_QUOTA_GROUP");
    std::optional<ovz::disk_limit> b, i;
    for (auto [text, to, in_blocks] : {std::tuple{blocks, &b, true}, {inodes, &i, false}}) {
      if (!text) continue;
      auto l = ovz::parse_disk_limit(text, in_blocks);
      if (!l) return fail(l.error());
      *to = l.value();
    }
    const ovz::quota_ugid who{.type = owner.type == OVZ_QUOTA_USER ? ovz::quota_ugid::kind::user
                                                                    : ovz::quota_ugid::kind::group,
                              .id = owner.id};
    auto set = ve->v.set_ugid_quota(who, b, i);
    if (!set) return fail(set.error());
    return 0;
  });
}

int ovz_ve_ugid_quotas(ovz_ve_t* ve, ovz_ugid_quota* out, size_t size, size_t capacity,
                       size_t* count) {
  return guarded([&] {
    if (!ve || !count || (!out && capacity > 0) || (capacity > 0 && size == 0))
      return invalid("ovz_ve_ugid_quotas: ve or count is NULL, or out NULL or size 0 with "
                     "capacity");
    auto all = ve->v.ugid_quotas();
    if (!all) return fail(all.error());
    auto* base = reinterpret_cast<char*>(out);
    for (size_t n = 0; n < std::min(capacity, all->size()); ++n) {
      const auto& q = (*all)[n];
      const ovz_ugid_quota c = {
          .owner = {.type = q.owner.type == ovz::quota_ugid::kind::user ? OVZ_QUOTA_USER
                                                                        : OVZ_QUOTA_GROUP,
                    .id = q.owner.id},
          .blocks = usage_row(q.blocks),
          .inodes = usage_row(q.inodes)};
      std::memcpy(base + n * size, &c, std::min(size, sizeof c));
    }
    *count = all->size();
    return 0;
  });
}

int ovz_ve_get_cpu(ovz_ve_t* ve, ovz_cpu_params* out, size_t size) {
  return guarded([&] {
    if (!ve || !out) return invalid("ovz_ve_get_cpu: ve or out is NULL");
    auto p = ve->v.params();
    if (!p) return fail(p.error());
    ovz_cpu_params c{};
    c.cpuunits = p->cpu.cpuunits.value_or(1000);
    c.cpulimit = p->cpu.cpulimit.value_or(0);
    c.cpus = p->cpu.cpus.value_or(0);
    copy_name(c.cpumask, p->cpu.cpumask.value_or("all"));
    return fill_sized(out, c, size, "ovz_ve_get_cpu");
  });
}

int ovz_ve_get_capability(ovz_ve_t* ve, const char* name, int* on) {
  return guarded([&] {
    if (!ve || !name || !on) return invalid("ovz_ve_get_capability: ve, name or on is NULL");
    // The name as CTID.conf's parser spells it: the same one parse_capabilities gives.
    auto wanted = ovz::parse_capabilities(std::string(name) + ":on");
    if (!wanted) return fail(wanted.error());
    auto s = ve->v.security();
    if (!s) return fail(s.error());
    const auto& cap = wanted->front().name;
    for (const auto& c : s->capabilities) {
      if (c.name == cap) {
        *on = c.on ? 1 : 0;
        return 0;
      }
    }
    return set_error(OVZ_ENOTFOUND, 0, "CAPABILITY does not name " + cap);
  });
}

int ovz_ve_get_no_new_privs(ovz_ve_t* ve, int* on) {
  return guarded([&] {
    if (!ve || !on) return invalid("ovz_ve_get_no_new_privs: ve or on is NULL");
    auto s = ve->v.security();
    if (!s) return fail(s.error());
    *on = s->no_new_privs ? 1 : 0;
    return 0;
  });
}

int ovz_ve_get_seccomp_profile(ovz_ve_t* ve, char** out) {
  return guarded([&] {
    if (!ve || !out) return invalid("ovz_ve_get_seccomp_profile: ve or out is NULL");
    auto s = ve->v.security();
    if (!s) return fail(s.error());
    *out = dup_string(s->seccomp_profile.empty() ? "default" : s->seccomp_profile).release();
    return 0;
  });
}

int ovz_ve_get_ip(ovz_ve_t* ve, size_t i, char** out) {
  return network_item("ovz_ve_get_ip", ve, i, out, &ovz::ve_network::ip_addresses,
                      [](const ovz::ip_address& a) { return a.str(); });
}

int ovz_ve_get_netif(ovz_ve_t* ve, size_t i, char** out) {
  return network_item("ovz_ve_get_netif", ve, i, out, &ovz::ve_network::netifs,
                      [](const ovz::netif_spec& s) { return s.str(); });
}

}  // extern "C"
