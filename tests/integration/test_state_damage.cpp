// What a crash, a killed command or a damaged state root leaves, and what the next command
// does with it: a CTID.conf that cannot be looked at. CTIDs 11110-11129.

#include "support/temp_root.hpp"

#include <ovz/ve.hpp>

#include "model/layout.hpp"

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using ovz::test::temp_root;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("create refuses, and touches nothing, when CTID.conf cannot be looked at",
          "[ve][crash]") {
  ovz::test::require_root();
  temp_root root;
  ovz::ve v = root.open(11114);
  MUST(v.create());
  const auto l = ovz::detail::layout_of(root.path(), v.id());
  { std::ofstream(l.upper / "marker") << "data"; }
  const auto saved = root.path() / "saved.conf";
  fs::rename(l.conf, saved);

  SECTION("CTID.conf is a symlink loop") {
    fs::create_symlink(l.conf.filename(), l.conf);
    auto r = v.create();
    REQUIRE_FALSE(r);
    INFO(r.error().message());
    CHECK(r.error().is(ovz::errc::already_exists));
    fs::remove(l.conf);
  }
  SECTION("conf/ is a symlink loop (ELOOP)") {
    const auto conf_dir = l.conf.parent_path();
    fs::rename(conf_dir, root.path() / "conf.real");
    fs::create_symlink(conf_dir.filename(), conf_dir);
    auto r = v.create();
    REQUIRE_FALSE(r);
    INFO(r.error().message());
    CHECK(r.error().sys_errno() == ELOOP);
    CHECK(r.error().message().find(l.conf.string()) != std::string::npos);
    fs::remove(conf_dir);
    fs::rename(root.path() / "conf.real", conf_dir);
  }
  CHECK(read_text(l.upper / "marker") == "data");
  fs::rename(saved, l.conf);
  CHECK(MUST(v.status()).state == ovz::ve_state::stopped);
}
