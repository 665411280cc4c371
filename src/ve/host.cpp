#include <ovz/host.hpp>

#include "kernel/cgroup_mounts.hpp"
#include "kernel/cgroup_tuning.hpp"
#include "kernel/sysctl_floor.hpp"
#include "ve/host_services.hpp"
#include "fail.hpp"

#include <algorithm>
#include <optional>

namespace ovz::inline v0 {

result<host> host::detect() {
  // One host_services for the process, made once the backend is detected: every ve opened
  // without a host shares it.
  static const auto detected = []() -> result<std::shared_ptr<const detail::host_services>> {
    BOOST_OUTCOME_TRY(cg, detail::host_cgroups());
    auto s = std::make_shared<detail::host_services>();
    s->cgroups = cg;
    return std::shared_ptr<const detail::host_services>(std::move(s));
  }();
  if (!detected) return detected.error();
  return host(*detected);
}

host host::with_cgroup_v2(const std::filesystem::path& cgroup_root) {
  auto s = std::make_shared<detail::host_services>();
  s->owned = detail::make_cgroupfs_v2(cgroup_root.string());
  s->cgroups = s->owned.get();
  return host(std::move(s));
}

result<host> host::with_systemd(const std::string& bus_address,
                                 const std::filesystem::path& cgroup_root) {
  BOOST_OUTCOME_TRY(manager, detail::make_systemd_cgroups(bus_address, cgroup_root.string()));
  auto s = std::make_shared<detail::host_services>();
  s->owned = std::move(manager);
  s->cgroups = s->owned.get();
  return host(std::move(s));
}

const char* host::cgroup_manager() const noexcept { return services_->cgroups->name(); }

int host::cgroup_version() const noexcept { return services_->cgroups->version(); }

const detail::host_services& host::services() const noexcept { return *services_; }

namespace {

std::optional<std::vector<std::string>> cgroup2_mount_options() {
  for (const auto& m : detail::host_cgroup_mounts())
    if (m.v2) return m.options;
  return std::nullopt;
}

}  // namespace

result<bool> tune_host() {
  // inotify counts instances and watches per user, and the root of a VE without a user
  // namespace is the host's: Debian's 128 instances run out at about the 25th VE whose systemd
  // takes its 5 or 6, which then starts none of its services. Enough for a thousand such VEs.
  BOOST_OUTCOME_TRY(instances, detail::raise_sysctl("fs.inotify.max_user_instances",
                                                    inotify_instances_floor));
  BOOST_OUTCOME_TRY(watches, detail::raise_sysctl("fs.inotify.max_user_watches",
                                                  inotify_watches_floor));
  static const std::vector<std::string> none;
  const auto options = cgroup2_mount_options();
  BOOST_OUTCOME_TRY(changed, detail::favor_cgroup_changes(options ? *options : none));
  // The kernel applies the flags only from the host's cgroup namespace, silently.
  const auto now = options ? cgroup2_mount_options() : std::nullopt;
  if (changed && now && std::ranges::count(*now, "favordynmods") == 0) {
    return detail::fail(errc::unsupported,
                        "favordynmods: not taken by the cgroup2 root: this process is not in "
                        "the host's cgroup namespace");
  }
  return changed || instances || watches;
}

}  // namespace ovz::inline v0
