// Debian 12 with systemd as a VE's init, as a hosting user runs it: it boots to "running" with
// no failed unit in a VE with and without a user namespace, keeps its cgroups below the VE's
// (none reaches the roots of the host's hierarchies), and stop and destroy leave no cgroup.
// CTIDs 14410-14419.
//
// The template is tests/support/debian-templates' Debian 12 with systemd-sysv, built once per
// machine; the lab sees the host's cache.

#include "distro/debian_template.hpp"
#include "support/temp_root.hpp"
#include "support/text_file.hpp"
#include "support/userns_root.hpp"

#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include "kernel/cgroup_mounts.hpp"
#include "kernel/files.hpp"
#include "model/layout.hpp"

#include <filesystem>
#include <set>
#include <string>

using namespace ovz;

namespace {

// The cgroups a systemd makes at the root it is given, where they are at the roots of the
// host's hierarchies: a VE's systemd must never put them there.
std::set<std::string> systemd_cgroups_at_host_roots() {
  std::set<std::string> found;
  for (const auto& h : detail::ve_cgroup_hierarchies())
    for (const char* name : {"init.scope", "system.slice", "user.slice"})
      if (std::filesystem::exists(std::filesystem::path(h.mount_point) / name))
        found.insert(h.mount_point + "/" + name);
  return found;
}

std::string sh(ve& v, const std::string& script) {
  auto r = MUST(v.exec({"/bin/sh", "-c", script}));
  return r.out + r.err;
}

// Waits for the boot to end (TCG in the lab is slow) and gives systemd's verdict. systemctl
// talks to systemd through its socket in /run, which a systemd just started has yet to make.
std::string boot_state(ve& v) {
  auto state = sh(v, "for i in $(seq 600); do [ -S /run/systemd/private ] && break; sleep 0.1; "
                     "done; timeout 300 systemctl is-system-running --wait");
  while (!state.empty() && state.back() == '\n') state.pop_back();
  return state;
}

}  // namespace

TEST_CASE("Debian 12 with systemd boots in a VE to running with no failed unit, with and without "
          "a user namespace, and stop and destroy leave no cgroup", "[ve][systemd]") {
  test::require_root();
  const auto tarball = test::debian_template("systemd");
  const auto at_roots_before = systemd_cgroups_at_host_roots();
  test::userns_root root;  // for both: the user-namespace VE needs idmapped mounts
  MUST(template_store(root.path()).import(tarball, "debian-systemd"));
  auto plain = root.open(14410);
  auto mapped = root.open(14411);
  MUST(plain.create({.ostemplate = "debian-systemd"}));
  MUST(mapped.create({.ostemplate = "debian-systemd", .userns = true}));
  MUST(plain.start());
  MUST(mapped.start());

  for (ve* v : {&plain, &mapped}) {
    INFO("VE " << v->id().str());
    // An init that ended (once, in the lab, right after the start) tells why on the console.
    if (MUST(v->status()).state != ve_state::running)
      FAIL("its init ended; its console:\n"
           << test::read_text(detail::layout_of(root.path(), v->id()).console_log));
    const auto state = boot_state(*v);
    const auto failed = sh(*v, "systemctl --failed --no-legend --no-pager");
    INFO("systemctl --failed:\n" << failed);
    const auto warnings =
        state == "running"
            ? std::string()
            : sh(*v, "journalctl -b -p warning --no-pager | grep -v 'cgroup ID' | tail -40");
    INFO("warnings of this boot:\n" << warnings);
    CHECK(state == "running");
    CHECK(failed.empty());
    // Its init moved itself into init.scope below the VE's cgroup, in every hierarchy it
    // manages; libovz still finds it running.
    const auto st = MUST(v->status());
    REQUIRE(st.state == ve_state::running);
    const auto listed =
        MUST(detail::read_file("/proc/" + std::to_string(st.init_pid) + "/cgroup"));
    INFO(listed);
    const auto own = "/" + v->id().str() + "/init.scope\n";
    CHECK(listed.find(own) != std::string::npos);
  }
  CHECK(systemd_cgroups_at_host_roots() == at_roots_before);

  // One asked to shut down (systemd ends with its own cgroups still there), one killed.
  MUST(plain.stop());
  MUST(mapped.stop({.fast = true}));
  CHECK(test::leftovers(root.get()).empty());
  MUST(plain.destroy());
  MUST(mapped.destroy());
  CHECK(test::leftovers(root.get()).empty());
  // The last destroy takes the state root's parent cgroup too, in every hierarchy.
  CHECK(test::cgroup_parents(root.get()).empty());
}
