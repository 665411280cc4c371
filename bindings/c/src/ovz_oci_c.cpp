// The C ABI of OCI containers (ovz.h's ovz_oci_*) over ovz::oci_container.

#include <ovz.h>

#include "c_support.hpp"

#include <ovz/oci_bundle.hpp>
#include <ovz/oci_container.hpp>

#include <algorithm>
#include <string>

struct ovz_oci {
  ovz::oci_container c;
};

using namespace ovz_c;

namespace {

std::filesystem::path oci_root(const char* root) {
  return root && *root ? std::filesystem::path(root) : ovz::default_oci_root();
}

// The caller's io, or the default; the size guards as for every options struct.
int read_io(const ovz_oci_io* io, ovz::oci_io& out, const char* fn) {
  if (!io) return 0;
  if (io->size < sizeof(ovz_oci_io))
    return invalid(std::string(fn) + ": io's size is not sizeof(ovz_oci_io) (use OVZ_OCI_IO_INIT)");
  out.stdin_fd = io->stdin_fd;
  out.stdout_fd = io->stdout_fd;
  out.stderr_fd = io->stderr_fd;
  out.console_socket = io->console_socket;
  if (io->pass_fd_count && !io->pass_fds)
    return invalid(std::string(fn) + ": io's pass_fd_count is set but pass_fds is NULL");
  out.pass_fds.assign(io->pass_fds, io->pass_fds + io->pass_fd_count);
  out.listen_fds = static_cast<unsigned>(io->listen_fd_count);
  return 0;
}

template <class Op>
int on(ovz_oci_t* c, const char* fn, Op op) {
  return guarded([&] {
    if (!c) return invalid(std::string(fn) + ": container is NULL");
    auto r = op(c->c);
    if (!r) return fail(r.error());
    return 0;
  });
}

}  // namespace

int ovz_oci_create(ovz_oci_t** out, const char* root, const char* id, const char* bundle,
                   const ovz_oci_io* io) {
  return guarded([&] {
    if (!out || !id || !bundle) return invalid("ovz_oci_create: out, id or bundle is NULL");
    *out = nullptr;
    ovz::oci_io given;
    if (int rc = read_io(io, given, "ovz_oci_create")) return rc;
    auto c = ovz::oci_container::create(oci_root(root), id, bundle, given);
    if (!c) return fail(c.error());
    *out = new ovz_oci{std::move(*c)};
    return 0;
  });
}

int ovz_oci_open(ovz_oci_t** out, const char* root, const char* id) {
  return guarded([&] {
    if (!out || !id) return invalid("ovz_oci_open: out or id is NULL");
    *out = nullptr;
    auto c = ovz::oci_container::open(oci_root(root), id);
    if (!c) return fail(c.error());
    *out = new ovz_oci{std::move(*c)};
    return 0;
  });
}

int ovz_oci_list(const char* root, char** ids) {
  return guarded([&] {
    if (!ids) return invalid("ovz_oci_list: ids is NULL");
    *ids = nullptr;
    auto found = ovz::oci_container::list(oci_root(root));
    if (!found) return fail(found.error());
    std::string text;
    for (const auto& id : *found) text += id + "\n";
    *ids = dup_string(text).release();
    return 0;
  });
}

unsigned ovz_oci_ctid(const ovz_oci_t* c) { return c ? c->c.ve().value() : 0; }

int ovz_oci_state(const ovz_oci_t* c, char** json) {
  return guarded([&] {
    if (!c || !json) return invalid("ovz_oci_state: container or json is NULL");
    *json = nullptr;
    auto s = c->c.state();
    if (!s) return fail(s.error());
    *json = dup_string(ovz::to_json(*s)).release();
    return 0;
  });
}

int ovz_oci_start(ovz_oci_t* c) {
  return on(c, "ovz_oci_start", [](ovz::oci_container& x) { return x.start(); });
}

int ovz_oci_kill(ovz_oci_t* c, int signal, int all) {
  return on(c, "ovz_oci_kill", [&](ovz::oci_container& x) { return x.kill(signal, all != 0); });
}

int ovz_oci_delete(ovz_oci_t* c, int force) {
  return on(c, "ovz_oci_delete", [&](ovz::oci_container& x) { return x.destroy(force != 0); });
}

int ovz_oci_pause(ovz_oci_t* c) {
  return on(c, "ovz_oci_pause", [](ovz::oci_container& x) { return x.pause(); });
}

int ovz_oci_resume(ovz_oci_t* c) {
  return on(c, "ovz_oci_resume", [](ovz::oci_container& x) { return x.resume(); });
}

int ovz_oci_update(ovz_oci_t* c, const char* resources_json) {
  return on(c, "ovz_oci_update", [&](ovz::oci_container& x) -> ovz::result<void> {
    if (!resources_json)
      return ovz::error(make_error_code(ovz::errc::invalid_argument),
                        "ovz_oci_update: resources_json is NULL");
    BOOST_OUTCOME_TRY(r, ovz::parse_oci_resources(resources_json));
    return x.update(r);
  });
}

int ovz_oci_exec(ovz_oci_t* c, const char* process_json, const ovz_oci_io* io, int detach,
                 int* pid, int* exit_code) {
  return guarded([&] {
    if (!c || !process_json) return invalid("ovz_oci_exec: container or process_json is NULL");
    ovz::oci_io given;
    if (int rc = read_io(io, given, "ovz_oci_exec")) return rc;
    auto proc = ovz::parse_oci_process(process_json);
    if (!proc) return fail(proc.error());
    auto p = c->c.exec(*proc, given, detach != 0);
    if (!p) return fail(p.error());
    if (pid) *pid = p->pid();
    if (detach) return 0;
    auto code = p->wait();
    if (!code) return fail(code.error());
    if (exit_code) *exit_code = *code;
    return 0;
  });
}

int ovz_oci_pids(const ovz_oci_t* c, int* pids, size_t max, size_t* count) {
  return guarded([&] {
    if (!c || (!pids && max)) return invalid("ovz_oci_pids: container or pids is NULL");
    auto all = c->c.processes();
    if (!all) return fail(all.error());
    std::copy_n(all->begin(), std::min(max, all->size()), pids);
    if (count) *count = all->size();
    return 0;
  });
}

void ovz_oci_free(ovz_oci_t* c) { delete c; }
