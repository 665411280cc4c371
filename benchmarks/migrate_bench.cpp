// ovz_migrate_bench: how long a VE whose process dirties memory at a steady rate stands still
// in an online migration (pre-dumps of its memory while it runs, then a final freeze meant to
// be short), against a cold checkpoint and restore of the same VE (one freeze for all of it);
// and what both take in all. A benchmark, not a test: a missed goal is reported, never turned
// into an exit code.
//
// The freeze is measured from inside the VE: ovz_dirtier (dirtier.c), copied into the VE's
// root, ticks every 10 ms and keeps the largest gap between two ticks, which the benchmark
// takes after every move. The migration goes between two state roots on this host over a
// socket pair, the receiving side on a thread, as tests/integration/test_migrate.cpp does it.

#include "bench_support.hpp"

#include <ovz/checkpoint.hpp>
#include <ovz/ctid.hpp>
#include <ovz/fd.hpp>
#include <ovz/migration.hpp>
#include <ovz/ve.hpp>

#include <fmt/core.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using namespace ovz_bench;

constexpr std::uint32_t bench_ctid = 17910;
constexpr const char* dirtier_in_ve = "/ovz_dirtier";
// Between moves the VE runs undisturbed this long; the largest gap in that time is the noise
// floor the freezes stand on (the machine's scheduling, the exec that asks for the gap).
constexpr auto quiet = std::chrono::seconds(1);

struct options {
  int runs = 5;
  long mib = 64;
  double rate = 16;
  fs::path root;  // empty: /tmp
};

// The benchmark's directory: a fresh one in `base`, removed with its contents at scope exit,
// unless something is still mounted below it.
class work_dir {
 public:
  explicit work_dir(const fs::path& base) {
    std::error_code ec;
    fs::create_directories(base, ec);
    std::string tmpl = (base / "ovz-migrate-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data())) path_ = tmpl;
    else failure_ = fmt::format("mkdtemp {}: {}", tmpl, errno_text(errno));
  }
  ~work_dir() {
    if (path_.empty()) return;
    if (has_mounts_below(path_)) {
      fmt::print(stderr, "warning: something is still mounted under {}; left in place\n",
                 path_.string());
      return;
    }
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  work_dir(const work_dir&) = delete;
  work_dir& operator=(const work_dir&) = delete;

  const fs::path& path() const { return path_; }
  const std::string& failure() const { return failure_; }

 private:
  fs::path path_;
  std::string failure_;
};

// ---- the dirtier ----

// Creates and starts `v`, copies the dirtier in (the VE's own shell writes it from a
// descriptor, so nothing on the host side follows a path into the VE's tree) and starts it;
// its exec returns once the dirtier's memory is all written. The `unlimited` config sample:
// the basic one's PHYSPAGES (256M) would cap --mib.
std::string prepare(ovz::ve& v, const options& o) {
  if (auto r = v.create({.config = "unlimited"}); !r) {
    return fmt::format("create: {}", r.error().message());
  }
  if (auto r = v.start(); !r) return fmt::format("start: {}", r.error().message());
  ovz::unique_fd dirtier(::open(OVZ_DIRTIER, O_RDONLY | O_CLOEXEC));
  if (!dirtier) return fmt::format("open {}: {}", OVZ_DIRTIER, errno_text(errno));
  auto r = v.exec({"/bin/sh", "-c", fmt::format("cat > {0} && chmod 755 {0}", dirtier_in_ve)},
                  {.stdin_fd = dirtier.get()});
  if (!r) return fmt::format("exec: {}", r.error().message());
  if (r->exit_code != 0) return fmt::format("copying ovz_dirtier in: {}", r->err);
  r = v.exec({dirtier_in_ve, "start", "--mib", std::to_string(o.mib), "--rate",
              fmt::format("{}", o.rate)});
  if (!r) return fmt::format("exec: {}", r.error().message());
  if (r->exit_code != 0) return fmt::format("ovz_dirtier start: {}", r->err);
  return {};
}

// What the dirtier saw since the last take (the dirtier starts over from then): its largest
// gap between two ticks, and its stalls (gaps of 100 ms or more), how many and how long in all.
struct gaps {
  double largest_ms = 0;
  long stalls = 0;
  double stalled_ms = 0;
  std::string failure{};
};

gaps take_gaps(ovz::ve& v) {
  auto r = v.exec({dirtier_in_ve, "take"});
  if (!r) return {.failure = fmt::format("exec ovz_dirtier take: {}", r.error().message())};
  if (r->exit_code != 0) {
    return {.failure = fmt::format("ovz_dirtier take exited with {}: {}", r->exit_code, r->err)};
  }
  auto f = words(r->out);
  long long largest = 0, stalled = 0;
  gaps g;
  auto number = [](const std::string& w, auto& n) {
    auto [p, ec] = std::from_chars(w.data(), w.data() + w.size(), n);
    return ec == std::errc{} && p == w.data() + w.size();
  };
  if (f.size() != 3 || !number(f[0], largest) || !number(f[1], g.stalls) ||
      !number(f[2], stalled)) {
    return {.failure = fmt::format("ovz_dirtier take printed \"{}\", not three numbers", r->out)};
  }
  g.largest_ms = double(largest) / 1e3;
  g.stalled_ms = double(stalled) / 1e3;
  return g;
}

// ---- the moves ----

// `from` migrated online into `to_root` by receive_ve on a thread, over a socket pair.
std::string migrate_online(ovz::ve& from, const fs::path& to_root) {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0) {
    return fmt::format("socketpair: {}", errno_text(errno));
  }
  ovz::unique_fd here(ends[0]), there(ends[1]);
  auto receiving = std::async(std::launch::async, [&] {
    auto got = ovz::receive_ve(there.get(), to_root);
    // As a receiving host's process that ends: a sender still sending (the receiver failed
    // halfway) gets EPIPE, rather than waiting for ever on a full socket nobody reads. What
    // was sent before (the answer) can still be read.
    ::shutdown(there.get(), SHUT_RDWR);
    return got;
  });
  auto sent = from.migrate(here.get(), {.online = true});
  // A sender that gave up early leaves the receiver waiting for frames that never come.
  ::shutdown(here.get(), SHUT_RDWR);
  auto received = receiving.get();
  // The receiving side's failure first: the sender's (a broken stream) often follows from it.
  std::string why;
  if (!received) why = fmt::format("receive_ve: {}", received.error().message());
  if (!sent) why += fmt::format("{}migrate: {}", why.empty() ? "" : "; ", sent.error().message());
  return why;
  return {};
}

// The VE in either state root (the same CTID), stopped and destroyed in both at scope exit.
// Not movable: a moved-from handle would name the default state root.
class the_ve {
 public:
  the_ve(ovz::ve a, ovz::ve b) : at_{std::move(a), std::move(b)} {}
  ~the_ve() {
    for (auto& v : at_) {
      (void)v.stop({.fast = true});
      (void)v.destroy();
    }
  }
  the_ve(const the_ve&) = delete;
  the_ve& operator=(const the_ve&) = delete;

  ovz::ve& here() { return at_[here_]; }
  ovz::ve& there() { return at_[1 - here_]; }
  void moved() { here_ = 1 - here_; }

 private:
  std::array<ovz::ve, 2> at_;
  int here_ = 0;
};

const std::vector<std::string> names{
    "online migrate freeze", "cold checkpoint+restore freeze", "online migrate total",
    "cold total", "quiet 1 s (largest gap)"};

// The stalls of the timed rounds' moves, for the lines below the table.
struct stall_log {
  std::vector<double> online_count, online_ms, cold_count, cold_ms;
};

// One round: a quiet second, the online migration to the other state root, a quiet second,
// the cold checkpoint and restore there. The times in the order of `names`; each round's
// numbers also go to stderr as they come, the warm-up's too (round 0).
timings round_once(the_ve& v, const fs::path& cold_dir, int round, stall_log& log) {
  auto quiet_gaps = [&]() {
    std::this_thread::sleep_for(quiet);
    return take_gaps(v.here());  // also the dirtier's start over for the move that follows
  };
  auto failure = [&](std::string why) { return timings{{}, std::move(why)}; };

  auto before_online = quiet_gaps();
  if (!before_online.failure.empty()) return failure(before_online.failure);
  auto t0 = clock_type::now();
  if (auto why = migrate_online(v.here(), v.there().state_root()); !why.empty()) {
    return failure(why);
  }
  const double online_total = ms_since(t0);
  v.moved();
  auto online = take_gaps(v.here());
  if (!online.failure.empty()) return failure("after the migration: " + online.failure);

  auto before_cold = quiet_gaps();
  if (!before_cold.failure.empty()) return failure(before_cold.failure);
  t0 = clock_type::now();
  if (auto r = v.here().checkpoint(cold_dir); !r) {
    return failure(fmt::format("checkpoint: {}", r.error().message()));
  }
  const double checkpointed = ms_since(t0);
  if (auto r = v.here().restore(cold_dir); !r) {
    return failure(fmt::format("restore: {}", r.error().message()));
  }
  const double cold_total = ms_since(t0);
  auto cold = take_gaps(v.here());
  if (!cold.failure.empty()) return failure("after the restore: " + cold.failure);
  std::error_code ec;
  fs::remove_all(cold_dir, ec);

  const double quiet_ms = std::max(before_online.largest_ms, before_cold.largest_ms);
  fmt::print(stderr,
             "  round {}: online freeze {:.0f} ms (stalls: {}, {:.0f} ms in all), total {:.0f} "
             "ms; cold freeze {:.0f} ms (stalls: {}, {:.0f} ms), total {:.0f} ms (checkpoint "
             "{:.0f}, restore {:.0f}); quiet {:.1f} ms\n",
             round, online.largest_ms, online.stalls, online.stalled_ms, online_total,
             cold.largest_ms, cold.stalls, cold.stalled_ms, cold_total, checkpointed,
             cold_total - checkpointed, quiet_ms);
  if (round > 0) {
    log.online_count.push_back(double(online.stalls));
    log.online_ms.push_back(online.stalled_ms);
    log.cold_count.push_back(double(cold.stalls));
    log.cold_ms.push_back(cold.stalled_ms);
  }
  return {{online.largest_ms, cold.largest_ms, online_total, cold_total, quiet_ms}, {}};
}

// Without CRIU: the quiet line alone, the others say why not.
std::vector<row> quiet_only(the_ve& v, int runs, const std::string& why) {
  std::vector<row> rows;
  for (std::size_t i = 0; i + 1 < names.size(); ++i) rows.push_back({names[i], {}, why});
  (void)take_gaps(v.here());
  rows.push_back(measure(names.back(), runs, [&] {
    std::this_thread::sleep_for(quiet);
    auto g = take_gaps(v.here());
    return timing{g.largest_ms, g.failure};
  }));
  return rows;
}

void print_stalls(const stall_log& log) {
  if (log.online_count.empty() || log.online_count.size() != log.cold_count.size()) return;
  auto median = [](const std::vector<double>& v) { return summarize(v).median; };
  fmt::print("\nstalls (gaps of 100 ms or more: each pre-dump and the final freeze), medians\n"
             "online migrate                 {:>4.0f}, {:>10.3f} ms in all\n"
             "cold checkpoint+restore        {:>4.0f}, {:>10.3f} ms in all\n",
             median(log.online_count), median(log.online_ms), median(log.cold_count),
             median(log.cold_ms));
}

// ---- arguments ----

std::optional<double> parse_rate(std::string_view text) {
  double r = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), r);
  if (ec != std::errc{} || end != text.data() + text.size() || !(r >= 0)) return std::nullopt;
  return r;
}

std::optional<options> parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 == argc) return std::nullopt;
    std::string_view value = argv[++i];
    std::optional<int> runs;
    std::optional<long> n;
    std::optional<double> rate;
    if (a == "--runs" && (runs = parse_runs(value))) o.runs = *runs;
    else if (a == "--mib" && (n = parse_count(value))) o.mib = *n;
    else if (a == "--rate" && (rate = parse_rate(value))) o.rate = *rate;
    else if (a == "--root") o.root = value;
    else return std::nullopt;
  }
  return o;
}

constexpr const char* usage =
    "usage: ovz_migrate_bench [--runs N] [--mib M] [--rate R] [--root DIR]\n"
    "  --runs N    timed rounds (default 5), after one untimed warm-up round\n"
    "  --mib M     memory the VE's process holds, MiB (default 64)\n"
    "  --rate R    MiB per second it dirties (default 16)\n"
    "  --root DIR  where the two state roots and the cold checkpoint go: a fresh directory in\n"
    "              DIR, removed at the end (default /tmp)\n";

std::string criu_text() {
  auto t = ovz::checkpoint_tools_here();
  if (!t) return "criu: " + t.error().message();
  return fmt::format("criu {} (memory tracking: {}, lazy pages: {})", t->criu_version,
                     t->memory_tracking ? "yes" : "no", t->lazy_pages ? "yes" : "no");
}

}  // namespace

int main(int argc, char** argv) {
  auto opts = parse_args(argc, argv);
  if (!opts) {
    fmt::print(stderr, "{}", usage);
    return 2;
  }
  if (::geteuid() != 0) {
    fmt::print(stderr, "ovz_migrate_bench: needs root (it starts, checkpoints and moves VEs)\n");
    return 1;
  }
  catch_interrupts();

  std::error_code ec;
  work_dir work(fs::absolute(opts->root.empty() ? fs::path("/tmp") : opts->root, ec));
  if (!work.failure().empty()) {
    fmt::print(stderr, "ovz_migrate_bench: {}\n", work.failure());
    return 1;
  }
  const std::array<fs::path, 2> roots{work.path() / "a", work.path() / "b"};
  const fs::path cold_dir = work.path() / "cold-checkpoint";
  const auto supported = ovz::checkpoint_supported();
  fmt::print("ovz_migrate_bench: {} rounds; a VE whose process holds {} MiB and dirties {} "
             "MiB/s; state roots {} and {}; {}\n",
             opts->runs, opts->mib, opts->rate, roots[0].string(), roots[1].string(),
             supported ? criu_text() : "no checkpoints here");
  if (!supported) {
    fmt::print("checkpoint and migration are not supported here: {}\n",
               supported.error().message());
  }
  std::fflush(stdout);

  std::vector<row> rows;
  stall_log stalls;
  {
    auto id = ovz::ctid::from_number(bench_ctid);
    if (!id) {
      fmt::print(stderr, "ovz_migrate_bench: {}\n", id.error().message());
      return 1;
    }
    for (const auto& r : roots) fs::create_directories(r, ec);
    auto a = ovz::ve::open(*id, roots[0]);
    auto b = ovz::ve::open(*id, roots[1]);
    if (!a || !b) {
      fmt::print(stderr, "ovz_migrate_bench: {}\n", (a ? b.error() : a.error()).message());
      return 1;
    }
    the_ve v(*a, *b);
    if (auto why = prepare(v.here(), *opts); !why.empty()) {
      for (const auto& n : names) rows.push_back({n, {}, why});
    } else if (!supported) {
      rows = quiet_only(v, opts->runs, "checkpoints are not supported here (above)");
    } else {
      int round = 0;
      rows = measure_each(names, opts->runs,
                          [&] { return round_once(v, cold_dir, round++, stalls); });
    }
  }
  print_table(rows);
  fmt::print("\n(a freeze is the largest gap between the VE's 10 ms ticks, one tick included. "
             "The cold line\n writes its checkpoint to this host's disk and restores it from "
             "there: no transfer,\n which flatters the cold side, so the ratio is "
             "conservative.)\n\nmedians compared\n");
  print_ratio(rows[0], rows[1], 0.2, 54);
  print_ratio(rows[2], rows[3], std::nullopt, 54);
  if (rows[0].s) print_stalls(stalls);
  return interrupted ? 128 + interrupted : 0;
}
