// ovz_podman_bench: `podman run --rm IMAGE /bin/true` with ovz-oci as Podman's runtime,
// beside crun and runc under the same Podman, in one run. Podman's storage, run directory and
// configuration are the benchmark's own (a temporary directory), the image a one-layer import
// of the host's static busybox, no network. Needs root and podman (install-deps.sh).

#include "bench_support.hpp"

#include <fmt/format.h>

#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <optional>

namespace {

using namespace ovz_bench;

// Podman set up to keep everything in `dir`, and torn down again.
class podman_home {
 public:
  podman_home(const fs::path& dir, std::string podman) : dir_(dir), podman_(std::move(podman)) {
    // Where root lacks CAP_SYS_RESOURCE (this lab's VM), no runtime may raise RLIMIT_NOFILE
    // to Podman's default of 1048576.
    std::ofstream(dir / "containers.conf") << fmt::format(
        "[containers]\ndefault_ulimits = [\"nofile=1024:1024\", \"nproc=4096:4096\"]\n"
        "[engine]\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"
        "events_logfile_path = \"{0}/events.log\"\nlock_type = \"file\"\ntmp_dir = \"{0}/tmp\"\n"
        "image_copy_tmp_dir = \"{0}/tmp\"\n"
        "runtime_supports_json = [\"ovz-oci\", \"crun\", \"runc\"]\n",
        dir.string());
    std::ofstream(dir / "storage.conf") << fmt::format(
        "[storage]\ndriver = \"overlay\"\ngraphroot = \"{0}/storage\"\nrunroot = \"{0}/run\"\n",
        dir.string());
    ::setenv("CONTAINERS_CONF", (dir / "containers.conf").c_str(), 1);
    ::setenv("CONTAINERS_STORAGE_CONF", (dir / "storage.conf").c_str(), 1);
    // Podman's storage makes temporary files under $TMPDIR, else /var/tmp.
    std::error_code ec;
    fs::create_directories(dir / "tmp", ec);
    ::setenv("TMPDIR", (dir / "tmp").c_str(), 1);
    had_oci_root_ = fs::exists("/run/ovz-oci");
  }
  ~podman_home() {
    (void)podman({"rm", "--all", "--force", "--time", "0"});
    (void)podman({"rmi", "--all", "--force"});
    for (const char* m : {"storage/overlay", "run/overlay"}) ::umount2((dir_ / m).c_str(), MNT_DETACH);
    std::error_code ec;
    if (!had_oci_root_) fs::remove_all("/run/ovz-oci", ec);
  }
  podman_home(const podman_home&) = delete;
  podman_home& operator=(const podman_home&) = delete;

  timing podman(std::vector<std::string> args) const {
    args.insert(args.begin(), podman_);
    return run_command(args);
  }

  // The host's static busybox as the one-layer image `name`.
  std::string import_busybox(const std::string& name) const {
    const fs::path root = dir_ / "rootfs";
    std::error_code ec;
    for (const char* d : {"bin", "proc", "dev", "sys", "tmp", "etc"}) fs::create_directories(root / d, ec);
    fs::copy_file("/bin/busybox", root / "bin/busybox", ec);
    if (ec) return "copy /bin/busybox: " + ec.message();
    fs::create_symlink("busybox", root / "bin/true", ec);
    const auto tar = dir_ / "rootfs.tar";
    if (auto t = run_command({"/bin/tar", "-C", root.string(), "-cf", tar.string(), "."});
        !t.failure.empty())
      return "tar: " + t.failure;
    auto imported = podman({"import", tar.string(), name});
    return imported.failure.empty() ? "" : "podman import: " + imported.failure;
  }

 private:
  fs::path dir_;
  std::string podman_;
  bool had_oci_root_ = false;
};

row bench_runtime(const podman_home& home, const std::string& name, const std::string& runtime,
                  const std::string& image, int runs) {
  std::optional<hybrid_cgroup_fix> fix;  // crun refuses a hybrid host without it (README)
  if (name.find("crun") != std::string::npos) {
    fix.emplace();
    if (!fix->failure().empty()) return {name, {}, fix->failure()};
  }
  return measure(name, runs, [&] {
    return home.podman({"--runtime", runtime, "run", "--rm", "--network", "none", image,
                        "/bin/true"});
  });
}

}  // namespace

int main(int argc, char** argv) {
  int runs = 20;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    std::optional<int> n = a == "--runs" && i + 1 < argc ? parse_runs(argv[++i]) : std::nullopt;
    if (!n) {
      fmt::print(stderr, "usage: ovz_podman_bench [--runs N]\n");
      return 2;
    }
    runs = *n;
  }
  if (::geteuid() != 0) {
    fmt::print(stderr, "ovz_podman_bench: needs root (Podman runs containers as root)\n");
    return 1;
  }
  auto podman = find_program("podman");
  if (!podman) {
    fmt::print(stderr, "ovz_podman_bench: podman is not installed (install-deps.sh installs it)\n");
    return 1;
  }
  catch_interrupts();
  temp_dir dir("ovz-podman-bench");
  if (!dir.failure().empty()) {
    fmt::print(stderr, "ovz_podman_bench: {}\n", dir.failure());
    return 1;
  }
  row ovz, crun, runc;
  {
    podman_home home(dir.path(), *podman);
    const std::string image = "localhost/ovz-bench-busybox";
    if (auto why = home.import_busybox(image); !why.empty()) {
      fmt::print(stderr, "ovz_podman_bench: {}\n", why);
      return 1;
    }
    fmt::print("podman run --rm --network none IMAGE /bin/true, {} runs each (ms)\n", runs);
    ovz = bench_runtime(home, "podman + ovz-oci", OVZ_OCI, image, runs);
    runc = find_program("runc") ? bench_runtime(home, "podman + runc", *find_program("runc"), image, runs)
                                : row{"podman + runc", {}, "runc is not installed"};
    crun = find_program("crun") ? bench_runtime(home, "podman + crun", *find_program("crun"), image, runs)
                                : row{"podman + crun", {}, "crun is not installed"};
  }
  print_table({ovz, crun, runc});
  print_ratio(ovz, crun, std::nullopt);
  print_ratio(ovz, runc, std::nullopt);
  return 0;
}
