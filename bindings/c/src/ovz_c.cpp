// The C ABI (ovz.h) over libovz's public C++ API. Every entry point catches everything: no
// exception may cross into C, where it would terminate the program or unwind through frames
// that cannot clean up.
//
// This file holds what belongs to the library and the host rather than to a VE: errors, the
// version, features, logging, strings, tuning. Each other concept has a file of its own
// (ovz_*_c.cpp), with what they share in the headers beside them.

#include <ovz.h>

#include "c_support.hpp"

#include <ovz/checkpoint.hpp>
#include <ovz/disk_quota.hpp>
#include <ovz/host.hpp>
#include <ovz/log.hpp>
#include <ovz/version.hpp>

#include <unistd.h>

#include <cstdlib>
#include <string>
#include <string_view>

// ovz.h is not generated, so that it stands alone; the build tells this file the version.
static_assert(OVZ_VERSION_MAJOR == OVZ_PROJECT_VERSION_MAJOR &&
                  OVZ_VERSION_MINOR == OVZ_PROJECT_VERSION_MINOR &&
                  OVZ_VERSION_PATCH == OVZ_PROJECT_VERSION_PATCH,
              "ovz.h's OVZ_VERSION_* is not the project's version in CMakeLists.txt");

// ovz_errc is ovz::errc negated.
#define OVZ_ERRC(name, value, c_code, message, py_class, py_doc) \
  static_assert(c_code == -(value), #c_code " in ovz.h is not ovz::errc::" #name " negated");
#include <ovz/errc.def>

using namespace ovz_c;

namespace {

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

int ovz_tune_host(int* changed) {
  return guarded([&] {
    auto r = ovz::tune_host();
    if (!r) return fail(r.error());
    if (changed) *changed = *r ? 1 : 0;
    return static_cast<int>(OVZ_OK);
  });
}

}  // extern "C"
