// The C ABI of the host's OS templates (ovz.h's ovz_template_*): what VEs are made from, kept
// under a state root apart from any one VE.

#include <ovz.h>

#include "c_structs.hpp"
#include "c_support.hpp"

#include <ovz/state_root.hpp>
#include <ovz/template.hpp>

#include <string>

using namespace ovz_c;

extern "C" {

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

}  // extern "C"
