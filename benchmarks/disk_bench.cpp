// ovz_disk_bench: what keeping a VE's files in an ext4 image of its own (DISKSPACE, see
// disk_quota.hpp) costs. Write throughput in a VE with an image, in a VE without one (its
// upper layer a directory of the host's filesystem) and in a directory of that filesystem
// itself, all under one state root; and what the image adds to a VE's create and start. A
// benchmark, not a test: a missed goal is reported, never turned into an exit code.
//
// The writes are one static program (ovz_disk_writer) run in all three places, which times
// itself, so that exec into a VE and spawning on the host stay out of the numbers.

#include "bench_support.hpp"

#include <ovz/ctid.hpp>
#include <ovz/disk_quota.hpp>
#include <ovz/fd.hpp>
#include <ovz/state_root.hpp>
#include <ovz/ve.hpp>

#include <fmt/core.h>

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

using namespace ovz_bench;

// The CTIDs this benchmark uses: two VEs for the writes, two made and destroyed per round of
// the create+start measurement.
constexpr std::uint32_t plain_writes_ctid = 17900;
constexpr std::uint32_t image_writes_ctid = 17901;
constexpr std::uint32_t plain_cycle_ctid = 17902;
constexpr std::uint32_t image_cycle_ctid = 17903;

constexpr const char* writer_in_ve = "/ovz_disk_writer";
constexpr const char* dir_in_ve = "/ovz-disk-bench";

struct options {
  int runs = 5;
  long mib = 64;
  long files = 5000;
  std::string diskspace = "10G";
  fs::path root;  // empty: a fresh directory under /tmp
};

ovz::result<ovz::ve> open_ve(std::uint32_t id, const fs::path& root) {
  auto c = ovz::ctid::from_number(id);
  if (!c) return c.error();
  return ovz::ve::open(*c, root);
}

// ---- the places written to ----

// Runs the writer's `mode` ("seq" or "files") with `count` there and returns the
// milliseconds it reported.
using writer_run = std::function<timing(const std::string& mode, long count)>;

timing reported(const std::string& out) {
  double ms = 0;
  const auto* end = out.data() + out.size();
  auto [p, ec] = std::from_chars(out.data(), end, ms);
  if (ec != std::errc{} || (p != end && *p != '\n')) {
    return failed(fmt::format("ovz_disk_writer printed \"{}\", not milliseconds", out));
  }
  return {ms, {}};
}

writer_run on_host(const fs::path& dir) {
  return [dir](const std::string& mode, long count) {
    std::string out;
    auto t = run_command({OVZ_DISK_WRITER, mode, dir.string(), std::to_string(count)}, &out);
    return t.failure.empty() ? reported(out) : t;
  };
}

writer_run in_ve(ovz::ve* v) {
  return [v](const std::string& mode, long count) {
    auto r = v->exec({writer_in_ve, mode, dir_in_ve, std::to_string(count)});
    if (!r) return failed(fmt::format("exec: {}", r.error().message()));
    if (r->exit_code != 0) {
      return failed(fmt::format("ovz_disk_writer exited with {}: {}", r->exit_code, r->err));
    }
    return reported(r->out);
  };
}

// Starts `v` (created with `disk`) and puts the writer and an empty directory into it. The
// VE's own shell writes the file from a descriptor, so nothing on the host side follows a
// path into the VE's tree.
std::string prepare_ve(ovz::ve& v, const ovz::disk_params& disk) {
  ovz::create_options c{.config = "unlimited", .disk = disk};
  if (auto r = v.create(c); !r) return fmt::format("create: {}", r.error().message());
  if (auto r = v.start(); !r) return fmt::format("start: {}", r.error().message());
  ovz::unique_fd writer(::open(OVZ_DISK_WRITER, O_RDONLY | O_CLOEXEC));
  if (writer.get() < 0) return fmt::format("open {}: {}", OVZ_DISK_WRITER, errno_text(errno));
  auto r = v.exec({"/bin/sh", "-c",
                   fmt::format("cat > {0} && chmod 755 {0} && mkdir {1}", writer_in_ve, dir_in_ve)},
                  {.stdin_fd = writer.get()});
  if (!r) return fmt::format("exec: {}", r.error().message());
  if (r->exit_code != 0) return fmt::format("copying ovz_disk_writer in: {}", r->err);
  return {};
}

struct place {
  std::string name;
  writer_run run;
  std::string failure;  // why it cannot be written to, or empty
  std::vector<double> seq_ms{}, files_ms{};
};

// Rounds go through the places in turn, so that a change in the machine's load over the run
// touches all of them alike; round 0 is the untimed warm-up.
void measure_writes(std::vector<place>& places, const options& o) {
  for (int round = 0; round <= o.runs && !interrupted; ++round) {
    for (auto& p : places) {
      if (!p.failure.empty() || interrupted) continue;
      auto s = p.run("seq", o.mib);
      auto f = s.failure.empty() ? p.run("files", o.files) : s;
      if (!f.failure.empty()) {
        p.failure = f.failure;
      } else if (round > 0) {
        p.seq_ms.push_back(s.ms);
        p.files_ms.push_back(f.ms);
      }
    }
  }
  for (auto& p : places) {
    if (p.failure.empty() && interrupted) p.failure = "interrupted";
  }
}

row as_row(std::string name, const place& p, const std::vector<double>& ms) {
  if (!p.failure.empty()) return {std::move(name), {}, p.failure};
  return {std::move(name), summarize(ms), {}};
}

void print_writes(const std::vector<place>& places, const options& o) {
  std::vector<row> rows;
  for (const auto& p : places) {
    rows.push_back(as_row(fmt::format("{} MiB + fsync: {}", o.mib, p.name), p, p.seq_ms));
  }
  for (const auto& p : places) {
    rows.push_back(as_row(fmt::format("{} × 4 KiB + syncfs: {}", o.files, p.name), p, p.files_ms));
  }
  print_table(rows);

  const std::size_t n = places.size();
  const row& host_seq = rows[0];
  const row& host_files = rows[n];
  fmt::print("\nthroughput (medians)    {:>12} {:>8} {:>14} {:>8}\n", "sequential", "vs host",
             "small files", "vs host");
  for (std::size_t i = 0; i < n; ++i) {
    const row& s = rows[i];
    const row& f = rows[n + i];
    if (!s.s || !f.s || !host_seq.s || !host_files.s) {
      fmt::print("{:<23} n/a\n", places[i].name);
      continue;
    }
    fmt::print("{:<23} {:>6.1f} MiB/s {:>7.0f}% {:>8.0f} files/s {:>7.0f}%\n", places[i].name,
               double(o.mib) / (s.s->median / 1e3), 100 * host_seq.s->median / s.s->median,
               double(o.files) / (f.s->median / 1e3), 100 * host_files.s->median / f.s->median);
  }
  const std::size_t image = n - 1;
  for (auto [what, at] : {std::pair{"sequential", std::size_t{0}}, std::pair{"small files", n}}) {
    const row& host = rows[at];
    const row& mine = rows[at + image];
    if (!host.s || !mine.s) continue;
    const double share = host.s->median / mine.s->median;
    fmt::print("goal: {} {} ≥ 90% of the host directory's: {:.0f}%   {}\n", places[image].name,
               what, 100 * share, share >= 0.9 ? "met" : "MISSED");
  }
}

// ---- create + start ----

struct cycle_kind {
  std::string name;
  std::uint32_t id;
  ovz::disk_params disk;
  std::vector<double> create_ms{}, start_ms{}, both_ms{}, gone_ms{};
  std::string failure{};
};

// One round of `k`: create and start timed apart and together, then stop (fast) and destroy,
// also timed: what the image adds to taking a VE down.
std::string cycle_once(cycle_kind& k, const fs::path& root, bool keep) {
  auto v = open_ve(k.id, root);
  if (!v) return fmt::format("open: {}", v.error().message());
  scratch_ve ve(*v);
  const auto t0 = clock_type::now();
  if (auto r = ve->create({.disk = k.disk}); !r) {
    return fmt::format("create: {}", r.error().message());
  }
  const double created = ms_since(t0);
  if (auto r = ve->start(); !r) return fmt::format("start: {}", r.error().message());
  const double started = ms_since(t0);
  const auto t1 = clock_type::now();
  if (auto r = ve->stop({.fast = true}); !r) return fmt::format("stop: {}", r.error().message());
  if (auto r = ve->destroy(); !r) return fmt::format("destroy: {}", r.error().message());
  if (keep) {
    k.gone_ms.push_back(ms_since(t1));
    k.create_ms.push_back(created);
    k.start_ms.push_back(started - created);
    k.both_ms.push_back(started);
  }
  return {};
}

std::vector<row> measure_cycles(const fs::path& root, const options& o,
                                const ovz::disk_params& disk) {
  std::vector<cycle_kind> kinds{{"VE, no image", plain_cycle_ctid, {}},
                                {"VE with image", image_cycle_ctid, disk}};
  fmt::print(stderr, "  create, start, stop+destroy\n");
  for (int round = 0; round <= o.runs && !interrupted; ++round) {
    for (auto& k : kinds) {
      if (k.failure.empty()) k.failure = cycle_once(k, root, round > 0);
    }
  }
  std::vector<row> rows;
  for (auto [what, member] :
       {std::pair{"create", &cycle_kind::create_ms}, std::pair{"start", &cycle_kind::start_ms},
        std::pair{"create+start", &cycle_kind::both_ms},
        std::pair{"stop+destroy", &cycle_kind::gone_ms}}) {
    for (const auto& k : kinds) {
      std::string name = fmt::format("{}: {}", what, k.name);
      const std::string why = interrupted && k.failure.empty() ? "interrupted" : k.failure;
      if (!why.empty()) rows.push_back({name, {}, why});
      else rows.push_back({name, summarize(k.*member), {}});
    }
  }
  return rows;
}

// ---- what is left behind ----

// Loop devices still backed by a file under `root`: a destroy that did not detach its image.
std::vector<std::string> loops_below(const fs::path& root) {
  std::vector<std::string> left;
  std::error_code ec;
  for (const auto& dev : fs::directory_iterator("/sys/block", ec)) {
    auto backing = read_file(dev.path() / "loop" / "backing_file");
    if (backing.starts_with(root.string() + "/")) {
      left.push_back(fmt::format("/dev/{} ({})", dev.path().filename().string(),
                                 backing.substr(0, backing.find('\n'))));
    }
  }
  return left;
}

// ---- arguments ----

std::optional<options> parse_args(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 == argc) return std::nullopt;
    std::string_view value = argv[++i];
    std::optional<long> n;
    if (a == "--runs" && (n = parse_count(value))) o.runs = static_cast<int>(*n);
    else if (a == "--mib" && (n = parse_count(value))) o.mib = *n;
    else if (a == "--files" && (n = parse_count(value))) o.files = *n;
    else if (a == "--diskspace") o.diskspace = value;
    else if (a == "--root") o.root = value;
    else return std::nullopt;
  }
  return o;
}

constexpr const char* usage =
    "usage: ovz_disk_bench [--runs N] [--mib N] [--files N] [--diskspace SIZE] [--root DIR]\n"
    "  --runs N          timed rounds of every measurement (default 5)\n"
    "  --mib N           MiB written by the sequential write (default 64)\n"
    "  --files N         4 KiB files written by the small-file write (default 5000)\n"
    "  --diskspace SIZE  the image's size, DISKSPACE's K/M/G/T (default 10G)\n"
    "  --root DIR        state root (default: a fresh directory under /tmp, removed at the "
    "end); its filesystem holds the host directory, the images and the VEs' upper layers\n";

}  // namespace

int main(int argc, char** argv) {
  auto opts = parse_args(argc, argv);
  if (!opts) {
    fmt::print(stderr, "{}", usage);
    return 2;
  }
  auto space = ovz::parse_disk_limit(opts->diskspace, true);
  if (!space) {
    fmt::print(stderr, "ovz_disk_bench: --diskspace: {}\n", space.error().message());
    return 2;
  }
  // Room for the sequential file and every round's small files twice over, for the
  // template's changes and the writer.
  const std::uint64_t needed_kib =
      2 * (opts->mib * 1024 + opts->files * 4 * (opts->runs + 1)) + 64 * 1024;
  if (space->hard < needed_kib) {
    fmt::print(stderr, "ovz_disk_bench: --diskspace {} is too small for the writes; at least "
                       "{}M\n", opts->diskspace, (needed_kib + 1023) / 1024);
    return 2;
  }
  if (::geteuid() != 0) {
    fmt::print(stderr, "ovz_disk_bench: needs root (it starts VEs and attaches images)\n");
    return 1;
  }
  catch_interrupts();

  std::optional<temp_dir> own_root;
  fs::path root;
  if (opts->root.empty()) {
    own_root.emplace("ovz-disk-bench-root");
    if (!own_root->failure().empty()) {
      fmt::print(stderr, "ovz_disk_bench: {}\n", own_root->failure());
      return 1;
    }
    root = own_root->path();
  } else {
    root = ovz::resolve_state_root(opts->root);
  }
  const fs::path host_dir = root / "ovz-disk-bench-host";
  std::error_code ec;
  fs::create_directories(host_dir, ec);
  if (ec) {
    fmt::print(stderr, "ovz_disk_bench: mkdir {}: {}\n", host_dir.string(), ec.message());
    return 1;
  }
  const ovz::disk_params disk{.diskspace = *space};
  fmt::print("ovz_disk_bench: {} rounds; {} MiB sequential, {} files of 4 KiB; images of {} "
             "(DISKSPACE {}); state root {}\n",
             opts->runs, opts->mib, opts->files, opts->diskspace,
             ovz::format_disk_limit(*space), root.string());
  std::fflush(stdout);

  std::vector<row> cycles = measure_cycles(root, *opts, disk);
  {
    auto plain = open_ve(plain_writes_ctid, root);
    auto image = open_ve(image_writes_ctid, root);
    if (!plain || !image) {
      fmt::print(stderr, "ovz_disk_bench: {}\n",
                 (plain ? image.error() : plain.error()).message());
      return 1;
    }
    scratch_ve plain_ve(*plain);
    scratch_ve image_ve(*image);
    std::vector<place> places{
        {"host directory", on_host(host_dir), {}},
        {"VE, no image", in_ve(&*plain), prepare_ve(*plain, {})},
        {"VE with image", in_ve(&*image), prepare_ve(*image, disk)},
    };
    fmt::print(stderr, "  writes\n");
    measure_writes(places, *opts);
    print_table(cycles);
    fmt::print("\nmedians compared\n");
    const std::size_t width = 58;
    print_ratio(cycles[5], cycles[4], 1.2, width);
    print_ratio(cycles[1], cycles[0], std::nullopt, width);
    print_ratio(cycles[3], cycles[2], std::nullopt, width);
    print_ratio(cycles[7], cycles[6], std::nullopt, width);
    fmt::print("\n");
    print_writes(places, *opts);
  }

  fs::remove_all(host_dir, ec);
  auto loops = loops_below(root);
  for (const auto& l : loops) {
    fmt::print(stderr, "warning: loop device {} is still attached\n", l);
  }
  if (own_root && (has_mounts_below(root) || !loops.empty())) {
    fmt::print(stderr, "warning: something is still mounted or attached under {}; left in "
                       "place\n", root.string());
    own_root->keep();
  }
  return interrupted ? 128 + interrupted : 0;
}
