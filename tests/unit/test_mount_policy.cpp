// Which mount(2) calls a default VE's monitor carries out for it.

#include "model/mount_policy.hpp"

#include <linux/mount.h>

#include <catch2/catch.hpp>

#include <cerrno>

using ovz::detail::mount_action;
using ovz::detail::mount_call;
using ovz::detail::plan_mount;

TEST_CASE("a tmpfs with the options that size and own it is mounted anew", "[mount-policy]") {
  auto p = plan_mount({"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_MGC_VAL,
                       "mode=755,size=20%,nr_inodes=1k,uid=0,gid=0,inode64"});
  REQUIRE(p.action == mount_action::new_fs);
  CHECK(p.fstype == "tmpfs");
  CHECK(p.attr_set == (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV));
  CHECK(p.options.size() == 6);
  CHECK(p.options[5] == std::pair<std::string, std::string>{"inode64", ""});
}

TEST_CASE("what would reach beyond the VE's own mounts is refused", "[mount-policy]") {
  const mount_call refused[] = {
      {"/etc", "/srv", "", MS_BIND, ""},
      {"/etc", "/srv", "", MS_BIND | MS_REC, ""},
      {"", "/srv", "", MS_MOVE, ""},
      {"", "/", "", MS_SHARED | MS_REC, ""},
      {"", "/", "", MS_PRIVATE, ""},
      {"/dev/sda1", "/srv", "ext4", 0, ""},
      {"none", "/srv", "debugfs", 0, ""},
      {"tmpfs", "/srv", "tmpfs", 0, "mpol=bind:0"},
      {"proc", "/srv", "proc", 0, "hidepid=2"},
      {"tmpfs", "/srv", "tmpfs", MS_SYNCHRONOUS, ""},
  };
  for (const auto& call : refused) {
    INFO(call.fstype << " " << call.flags << " " << call.data);
    auto p = plan_mount(call);
    CHECK(p.action == mount_action::refuse);
    CHECK(p.error == EPERM);
  }
}

TEST_CASE("proc and sysfs are copies of the VE's own, sysfs read-only", "[mount-policy]") {
  auto proc = plan_mount({"proc", "/srv/proc", "proc", MS_NOSUID | MS_NOEXEC, ""});
  CHECK(proc.action == mount_action::clone_proc);
  CHECK(proc.recursive);
  CHECK(proc.attr_set == (MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC));
  auto sys = plan_mount({"sysfs", "/srv/sys", "sysfs", 0, ""});
  CHECK(sys.action == mount_action::clone_sysfs);
  CHECK(sys.attr_set == MOUNT_ATTR_RDONLY);
  CHECK(plan_mount({"mqueue", "/dev/mqueue", "mqueue", 0, ""}).action == mount_action::new_fs);
}

TEST_CASE("a remount replaces the mount's flags and may change tmpfs's options",
          "[mount-policy]") {
  auto p = plan_mount({"", "/run", "", MS_REMOUNT | MS_RDONLY | MS_NOATIME, "size=2M"});
  REQUIRE(p.action == mount_action::remount);
  CHECK(p.attr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME));
  CHECK((p.attr_clr & MOUNT_ATTR_NOSUID));
  CHECK_FALSE((p.attr_clr & MOUNT_ATTR_RDONLY));
  CHECK((p.attr_clr & MOUNT_ATTR__ATIME) == MOUNT_ATTR__ATIME);
  CHECK(p.options == std::vector<std::pair<std::string, std::string>>{{"size", "2M"}});
  CHECK(plan_mount({"", "/run", "", MS_REMOUNT | MS_BIND, ""}).action == mount_action::refuse);
  CHECK_FALSE(ovz::detail::remountable(ovz::detail::own_mount_kind::sysfs));
  CHECK_FALSE(ovz::detail::remountable(ovz::detail::own_mount_kind::proc));
}
