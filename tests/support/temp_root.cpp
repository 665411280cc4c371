#include "support/temp_root.hpp"

#include <ovz/checkpoint.hpp>

#include <ovz/ctid.hpp>

#include "model/layout.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>

namespace ovz::test {

temp_root::temp_root() : temp_root(std::filesystem::temp_directory_path()) {}

temp_root::temp_root(const std::filesystem::path& parent) {
  std::string tmpl = (parent / "ovz-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) FAIL("mkdtemp " << tmpl << " failed");
  path_ = tmpl;
}

temp_root::~temp_root() {
  // Best effort: a test that failed half-way may have left a VE running.
  if (auto all = list_ves(path_)) {
    for (const auto& st : *all) {
      if (auto v = ve::open(st.id, path_)) {
        if (st.state == ve_state::running) (void)v->stop({.fast = true});
        (void)v->destroy();
      }
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

ve temp_root::open(std::uint32_t id) const {
  auto c = ctid::from_number(id);
  if (!c) FAIL("bad CTID " << id);
  return must(ve::open(*c, path_), "ve::open");
}

running_ve::running_ve(std::uint32_t id) : v(root.open(id)) {
  MUST(v.create());
  MUST(v.start());
}

bool checkpoint_works_here() {
  auto ok = checkpoint_supported();
  if (!ok) WARN("SKIPPED: " << ok.error().message());
  return static_cast<bool>(ok);
}

void require_root() {
  if (::geteuid() == 0) return;
  std::cout << "SKIPPED: this test creates real VEs and needs root (run the suite as root)\n";
  std::cout.flush();
  std::_Exit(77);
}

std::filesystem::path mark_shutdown(const temp_root& root, const ve& v) {
  const auto upper = detail::layout_of(root.path(), v.id()).upper;
  std::filesystem::create_directories(upper / "etc");
  std::ofstream(upper / "etc/inittab") << "::sysinit:/etc/init.d/rcS\n"
                                          "::shutdown:/bin/sh -c 'echo ran > /root/shutdown'\n";
  return upper / "root/shutdown";
}

double uptime_of(ve& v) { return std::stod(MUST(v.exec({"cat", "/proc/uptime"})).out); }

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace ovz::test
