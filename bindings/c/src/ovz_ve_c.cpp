// The C ABI of a VE's life (ovz.h's ovz_ve_*): its handle, create to destroy, its status and
// the list of every VE, what runs inside it (exec, run, enter, console), its config and plan,
// and every VE started or stopped at once.

#include <ovz.h>

#include "c_settings.hpp"
#include "c_structs.hpp"
#include "c_support.hpp"
#include "c_ve.hpp"

#include <ovz/ctid.hpp>
#include <ovz/ve.hpp>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

struct ovz_batch {
  std::vector<ovz::ve_batch_entry> entries;
};

using namespace ovz_c;

namespace {

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

// An operation on a VE that takes nothing and hands nothing out (destroy, suspend, ...).
int ve_action(const char* fn, ovz_ve_t* ve, ovz::result<void> (ovz::ve::*action)()) {
  return guarded([&] {
    if (!ve) return invalid(std::string(fn) + ": ve is NULL");
    auto r = (ve->v.*action)();
    return r ? 0 : fail(r.error());
  });
}

}  // namespace

extern "C" {

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

}  // extern "C"
