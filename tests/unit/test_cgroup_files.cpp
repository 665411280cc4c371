// Kernel files that do not read as documented are reported, never thrown: the error names the
// file and quotes a short, printable excerpt of what it held.

#include <catch2/catch.hpp>

#include "kernel/cgroup_common.hpp"

#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

using namespace ovz;

namespace {

struct temp_dir {
  temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ovz-unit-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()));
    path = tmpl;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::filesystem::path path;
};

template <class T>
void expect_malformed(const result<T>& r, const std::string& file, const std::string& quoted) {
  REQUIRE_FALSE(r);
  INFO(r.error().message());
  CHECK(r.error().sys_errno() == EPROTO);
  CHECK(r.error().message().find(file) != std::string::npos);
  CHECK(r.error().message().find(quoted) != std::string::npos);
  CHECK(r.error().message().size() < file.size() + 150);
}

}  // namespace

TEST_CASE("cgroup.procs is read as PIDs and anything else is an error, not an exception",
          "[cgroup]") {
  temp_dir d;
  const auto procs = (d.path / "cgroup.procs").string();
  std::ofstream(procs) << "12\n345\n";
  CHECK(detail::read_procs(d.path.string()).value() == std::vector<pid_t>{12, 345});
  for (const auto& [text, quoted] : std::vector<std::pair<std::string, std::string>>{
           {"12\nabc\n", "\"abc\""},
           {"99999999999999999999\n", "\"99999999999999999999\""},
           {"-5\n", "\"-5\""},
           {"7 \n", "\"7 \""},
           {std::string(5000, '9') + "\n", "\"9999999999"},
           {"1\x1b[2J\n", "\"1\\x1b[2J\""}}) {
    std::ofstream(procs, std::ios::trunc) << text;
    expect_malformed(detail::read_procs(d.path.string()), procs, quoted);
  }
  CHECK(detail::read_procs((d.path / "gone").string()).value().empty());
}

TEST_CASE("number files that hold something else are errors naming the file", "[cgroup]") {
  temp_dir d;
  const auto file = (d.path / "pids.max").string();
  std::ofstream(file) << "max\n";
  CHECK(detail::read_number(file).value() == UINT64_MAX);
  std::ofstream(file, std::ios::trunc) << "lots\n";
  expect_malformed(detail::read_number(file), file, "\"lots");
  std::ofstream(file, std::ios::trunc) << "max 3\nfail x\n";
  CHECK(detail::read_keyed(file, "max").value() == 3u);
  expect_malformed(detail::read_keyed(file, "fail"), file, "\"fail x\"");
}
