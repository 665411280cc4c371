#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <ovz/state_root.hpp>
#include <string>

#include "model/layout.hpp"

namespace fs = std::filesystem;

namespace {

// Sets or clears OVZ_ROOT for one test and puts back what the process had.
class scoped_ovz_root {
 public:
  explicit scoped_ovz_root(const char* value) {
    if (const char* old = std::getenv("OVZ_ROOT")) saved_ = old;
    if (value)
      ::setenv("OVZ_ROOT", value, 1);
    else
      ::unsetenv("OVZ_ROOT");
  }
  ~scoped_ovz_root() {
    if (saved_)
      ::setenv("OVZ_ROOT", saved_->c_str(), 1);
    else
      ::unsetenv("OVZ_ROOT");
  }
  scoped_ovz_root(const scoped_ovz_root&) = delete;
  scoped_ovz_root& operator=(const scoped_ovz_root&) = delete;

 private:
  std::optional<std::string> saved_;
};

}  // namespace

TEST_CASE("resolve_state_root defaults to /var/lib/ovz", "[state_root]") {
  SECTION("OVZ_ROOT unset") {
    scoped_ovz_root env(nullptr);
    CHECK(ovz::resolve_state_root() == fs::path("/var/lib/ovz"));
  }
  SECTION("OVZ_ROOT empty") {
    scoped_ovz_root env("");
    CHECK(ovz::resolve_state_root() == fs::path("/var/lib/ovz"));
  }
  CHECK(std::string(ovz::default_state_root) == "/var/lib/ovz");
}

TEST_CASE("resolve_state_root takes OVZ_ROOT over the default", "[state_root]") {
  scoped_ovz_root env("/srv/ovz");
  CHECK(ovz::resolve_state_root() == fs::path("/srv/ovz"));
  CHECK(ovz::resolve_state_root({}) == fs::path("/srv/ovz"));
}

TEST_CASE("resolve_state_root takes an explicit root over OVZ_ROOT", "[state_root]") {
  scoped_ovz_root env("/srv/ovz");
  CHECK(ovz::resolve_state_root("/data/ves") == fs::path("/data/ves"));
}

TEST_CASE("resolve_state_root makes the root absolute and normal", "[state_root]") {
  scoped_ovz_root env(nullptr);
  const fs::path cwd = fs::current_path();

  CHECK(ovz::resolve_state_root("/data/ves/") == fs::path("/data/ves"));
  CHECK(ovz::resolve_state_root("/data/./x/../ves//") == fs::path("/data/ves"));
  CHECK(ovz::resolve_state_root("/") == fs::path("/"));
  CHECK(ovz::resolve_state_root("ves") == cwd / "ves");
  CHECK(ovz::resolve_state_root("./ves/") == cwd / "ves");
  CHECK(ovz::resolve_state_root(".") == cwd);

  scoped_ovz_root relative("relative/root/");
  CHECK(ovz::resolve_state_root() == cwd / "relative" / "root");
}

TEST_CASE("a state root's cgroup parent is named after its identity", "[state_root]") {
  CHECK(ovz::detail::cgroup_parent_of({.dev = 1, .ino = 2, .installation = true}) == "ovz");
  CHECK(ovz::detail::cgroup_parent_of({.dev = 0x803, .ino = 0x1f}) == "ovz-803-1f");
  CHECK(ovz::detail::cgroup_parent_of({.dev = 1, .ino = 2}) !=
        ovz::detail::cgroup_parent_of({.dev = 1, .ino = 3}));
  const auto l = ovz::detail::layout_of("/srv/ovz", ovz::ctid::from_number(101).value(),
                                        {.dev = 1, .ino = 2});
  CHECK(l.cgroup == "ovz-1-2/101");
  CHECK(l.conf == "/srv/ovz/conf/101.conf");
}
