// The C ABI of checkpointing (ovz.h's ovz_checkpoint_*, ovz_ve_checkpoint, ovz_ve_restore)
// and of moving a VE to another host over it (ovz_ve_migrate, ovz_receive_ve).

#include <ovz.h>

#include "c_structs.hpp"
#include "c_support.hpp"
#include "c_ve.hpp"

#include <ovz/checkpoint.hpp>
#include <ovz/migration.hpp>
#include <ovz/ve.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>

using namespace ovz_c;

extern "C" {

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

}  // extern "C"
