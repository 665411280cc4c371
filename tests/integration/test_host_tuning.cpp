// tune_host against the real kernel: the host's cgroup2 mount ends with favordynmods and
// every super option it had, the inotify limits at their floors at least, and a second call
// finds nothing left to do. The switch stays (Linux 6.18 cannot undo it before a reboot), and
// so do the limits, as the host's boot would leave them.

#include "kernel/cgroup_mounts.hpp"
#include "kernel/files.hpp"

#include <ovz/host.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>

namespace {

std::optional<std::vector<std::string>> cgroup2_options() {
  for (const auto& m : ovz::detail::host_cgroup_mounts())
    if (m.v2) return m.options;
  return std::nullopt;
}

std::uint64_t inotify_limit(const char* name) {
  auto text = ovz::detail::read_file(std::string("/proc/sys/fs/inotify/") + name);
  REQUIRE(text);
  return std::stoull(*text);
}

}  // namespace

TEST_CASE("tune_host turns favordynmods on and keeps the cgroup2 mount's options", "[host]") {
  const auto before = cgroup2_options();
  const bool inotify_low = inotify_limit("max_user_instances") < ovz::inotify_instances_floor ||
                           inotify_limit("max_user_watches") < ovz::inotify_watches_floor;
  auto changed = ovz::tune_host();
  CHECK(inotify_limit("max_user_instances") >= ovz::inotify_instances_floor);
  CHECK(inotify_limit("max_user_watches") >= ovz::inotify_watches_floor);
  if (!changed && changed.error().code() == ovz::errc::unsupported) {
    WARN("skipped: " << changed.error().message());
    return;
  }
  REQUIRE(changed);
  auto again = ovz::tune_host();
  REQUIRE(again);
  CHECK_FALSE(*again);
  if (!before) {
    WARN("no cgroup2 mount here: favordynmods was set on the unmounted cgroup2 root");
    return;
  }
  const auto after = cgroup2_options();
  REQUIRE(after);
  CHECK(std::ranges::count(*after, "favordynmods") == 1);
  CHECK(*changed == (inotify_low || std::ranges::count(*before, "favordynmods") == 0));
  for (const auto& o : *before) CHECK(std::ranges::count(*after, o) == 1);
}
