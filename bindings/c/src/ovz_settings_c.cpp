// The C ABI of a VE's settings (ovz.h's ovz_ve_set_param, ovz_changes_*, ovz_ve_params and
// their kin): changed as `vzctl set` changes them, one or several at once, and read back as
// CTID.conf holds them.

#include <ovz.h>

#include "c_settings.hpp"
#include "c_structs.hpp"
#include "c_support.hpp"
#include "c_ve.hpp"

#include <ovz/cpu.hpp>
#include <ovz/security.hpp>
#include <ovz/setting.hpp>
#include <ovz/ve.hpp>
#include <ovz/ve_params.hpp>

#include <string>

using namespace ovz_c;

namespace {

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

}  // namespace

extern "C" {

int ovz_ve_params(ovz_ve_t* ve, char** out) {
  return settings_text("ovz_ve_params", ve, out, &ovz::ve::params, &ovz::params_to_config);
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

}  // extern "C"
