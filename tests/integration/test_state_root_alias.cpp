// A state root reached by another path (a symlink, a bind mount) is the same root: its running
// VEs are seen running, and nothing starts or destroys them twice. CTIDs 11200-11209.

#include "support/temp_root.hpp"

#include <ovz/ve.hpp>

#include "model/layout.hpp"
#include "ve/locate.hpp"

#include <sys/mount.h>

#include <optional>

using namespace ovz;
using ovz::test::temp_root;

namespace {

// Unmounts on scope exit, before the temp root (declared earlier) removes its tree.
struct bind_mount {
  bind_mount(const std::filesystem::path& from, const std::filesystem::path& to) : at(to) {
    std::filesystem::create_directory(to);
    mounted = ::mount(from.c_str(), to.c_str(), nullptr, MS_BIND, nullptr) == 0;
  }
  ~bind_mount() {
    if (mounted) ::umount2(at.c_str(), MNT_DETACH);
  }
  std::filesystem::path at;
  bool mounted = false;
};

void expect_refused(const result<void>& r, errc code) {
  REQUIRE_FALSE(r);
  INFO(r.error().message());
  CHECK(r.error().is(code));
}

}  // namespace

TEST_CASE("a running VE is running through every path to its state root", "[ve][cgroups]") {
  test::require_root();
  temp_root root;
  auto v = root.open(11200);
  MUST(v.create());
  MUST(v.start());
  const pid_t init = MUST(v.status()).init_pid;
  REQUIRE(init > 0);
  const auto link = root.path() / "alias";
  std::filesystem::create_directory_symlink(root.path(), link);
  std::optional<bind_mount> bind(std::in_place, root.path(), root.path() / "bind");
  REQUIRE(bind->mounted);

  for (const auto& other : {link, bind->at}) {
    INFO("through " << other);
    auto same = MUST(ve::open(v.id(), other));
    auto st = MUST(same.status());
    CHECK(st.state == ve_state::running);
    CHECK(st.init_pid == init);
    expect_refused(same.start(), errc::already_running);
    expect_refused(same.destroy(), errc::already_running);
    auto listed = MUST(list_ves(other));
    REQUIRE(listed.size() == 1);
    CHECK(listed[0].state == ve_state::running);
  }
  auto l = detail::layout_of(root.path(), v.id());
  CHECK(std::filesystem::exists(l.conf));
  CHECK(std::filesystem::exists(l.upper));
  CHECK(MUST(v.status()).init_pid == init);

  // Stopped through the alias, it is stopped through the real path too.
  MUST(MUST(ve::open(v.id(), link)).stop({.fast = true}));
  CHECK(MUST(v.status()).state == ve_state::stopped);
  bind.reset();
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("the installation's state root keeps the cgroup name ovz however it is reached",
          "[ve][cgroups]") {
  temp_root root;
  const auto link = root.path() / "alias";
  std::filesystem::create_directory_symlink(root.path(), link);
  auto direct = MUST(detail::identify_state_root(root.path(), link));
  CHECK(direct.installation);
  CHECK(detail::cgroup_parent_of(direct) == "ovz");
  auto aliased = MUST(detail::identify_state_root(link, "/nonexistent-default-root"));
  CHECK_FALSE(aliased.installation);
  CHECK(aliased.dev == direct.dev);
  CHECK(aliased.ino == direct.ino);
  CHECK(detail::cgroup_parent_of(aliased) != "ovz");

  auto missing = detail::identify_state_root(root.path() / "nowhere");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().is(errc::not_found));
  CHECK(MUST(root.open(11201).status()).state == ve_state::absent);
  auto nowhere = MUST(ve::open(root.open(11201).id(), root.path() / "nowhere"));
  CHECK(MUST(nowhere.status()).state == ve_state::absent);
}
