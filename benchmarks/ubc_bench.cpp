// The cost of a full beancounter snapshot, per VE, with many VEs running: what a panel pays
// to refresh its view of a host, with each way the library has of taking one. Run it on a
// cgroup v1 host and in tests/lab (cgroup v2) to see both backends, there with the ovz module
// loaded for the third (see README.md). Needs root.

#include <ovz/beancounter.hpp>
#include <ovz/ctid.hpp>
#include <ovz/ubc_reader.hpp>
#include <ovz/ve.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

namespace {

using clock_type = std::chrono::steady_clock;

struct options {
  int ves = 200;
  int runs = 10;
};

bool parse_int(std::string_view text, int& out) {
  try {
    std::size_t used = 0;
    out = std::stoi(std::string(text), &used);
    return used == text.size() && out > 0;
  } catch (...) {
    return false;
  }
}

int run(const options& opt, const std::filesystem::path& root) {
  std::vector<ovz::ve> ves;
  auto cleanup = [&] {
    for (auto& v : ves) {
      (void)v.stop({.fast = true});
      (void)v.destroy();
    }
  };
  fmt::print("starting {} VEs under {} ...\n", opt.ves, root.string());
  for (int i = 0; i < opt.ves; ++i) {
    auto v = ovz::ve::open(*ovz::ctid::from_number(20000 + i), root);
    if (!v || !v->create() || !v->start()) {
      fmt::print(stderr, "ubc_bench: VE {} did not start\n", 20000 + i);
      cleanup();
      return 1;
    }
    ves.push_back(*v);
  }
  // Each way of taking a snapshot, timed over the same VEs, one after the other.
  struct way {
    std::string name;
    std::function<ovz::result<std::vector<ovz::ubc_snapshot>>()> snapshot;
  };
  auto files = ovz::ubc_reader::open(root, ovz::ubc_sources::files_only);
  auto any = ovz::ubc_reader::open(root);
  if (!files || !any) {
    fmt::print(stderr, "ubc_bench: {}\n", (files ? any : files).error().message());
    cleanup();
    return 1;
  }
  std::vector<way> ways = {
      {"all_beancounters() (opens every file)", [&] { return ovz::all_beancounters(root); }},
      {fmt::format("ubc_reader ({}, held open)", files->backend()), [&] { return files->read(); }},
  };
  // The VEs started after the module was loaded are registered with it.
  if (any->backend() != files->backend())
    ways.push_back(
        {fmt::format("ubc_reader ({}, held open)", any->backend()), [&] { return any->read(); }});
  fmt::print("full beancounter snapshot of {} running VEs, per VE, over {} runs (goal ≤ 50 µs):\n",
             opt.ves, opt.runs);
  fmt::print("  {:<50} {:>9} {:>9} {:>9}\n", "", "min µs", "median µs", "max µs");
  for (auto& w : ways) {
    (void)w.snapshot();  // a reader opens its files on its first read
    std::vector<double> per_ve_us;
    for (int r = 0; r < opt.runs; ++r) {
      auto t0 = clock_type::now();
      auto snaps = w.snapshot();
      auto t1 = clock_type::now();
      if (!snaps || snaps->size() != ves.size()) {
        fmt::print(stderr, "ubc_bench: {}: {}\n", w.name,
                   snaps ? "wrong count" : snaps.error().message());
        cleanup();
        return 1;
      }
      per_ve_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / opt.ves);
    }
    std::sort(per_ve_us.begin(), per_ve_us.end());
    const double median = per_ve_us[per_ve_us.size() / 2];
    fmt::print("  {:<50} {:>9.1f} {:>9.1f} {:>9.1f}   {}\n", w.name, per_ve_us.front(), median,
               per_ve_us.back(), median <= 50 ? "met" : "missed");
  }
  cleanup();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  options opt;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    int* target = a == "--ves" ? &opt.ves : a == "--runs" ? &opt.runs : nullptr;
    if (!target || i + 1 == argc || !parse_int(argv[++i], *target)) {
      fmt::print(stderr, "usage: ovz_ubc_bench [--ves N] [--runs N]\n");
      return 2;
    }
  }
  // A reader holds about 25 descriptors per VE, and two are held here (files only, and with
  // the module): more than a soft limit of 1024, or the lab's hard 4096, allows for 200 VEs.
  // A panel raises it the same way (root may raise the hard limit too).
  constexpr rlim_t wanted = 65536;
  if (rlimit l{}; ::getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur < wanted) {
    const rlimit raised{std::max(l.rlim_max, wanted), std::max(l.rlim_max, wanted)};
    const rlimit soft_to_hard{l.rlim_max, l.rlim_max};
    if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) ::setrlimit(RLIMIT_NOFILE, &soft_to_hard);
  }
  if (::geteuid() != 0) {
    fmt::print(stderr, "ovz_ubc_bench: needs root (it starts VEs)\n");
    return 1;
  }
  std::string tmpl = (std::filesystem::temp_directory_path() / "ovz-ubc-bench-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return 1;
  int rc = run(opt, tmpl);
  std::error_code ec;
  std::filesystem::remove_all(tmpl, ec);
  return rc;
}
