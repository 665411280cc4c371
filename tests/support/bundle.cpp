#include "support/bundle.hpp"

#include "support/program.hpp"
#include "support/text_file.hpp"

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace ovz::test {

namespace fs = std::filesystem;

bundle::bundle(const fs::path& dir) : dir(dir) {
  make_busybox_root(dir / "rootfs", {"sh", "ls", "cat", "echo", "sleep", "id", "hostname",
                                     "touch", "grep", "wc", "seq", "ps", "true"});
}

void bundle::configure(const std::string& script, const std::string& process_extra,
                       const std::string& linux_extra, const std::string& user) const {
  std::string quoted;
  for (char c : script) quoted += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  write_text(dir / "config.json", fmt::format(R"({{
  "ociVersion": "1.0.2",
  "process": {{"terminal": false, "user": {},
    "args": ["/bin/sh", "-c", "{}"], "env": ["PATH=/bin"], "cwd": "/"{}}},
  "root": {{"path": "rootfs", "readonly": true}},
  "hostname": "oci-test",
  "mounts": [
    {{"destination": "/proc", "type": "proc", "source": "proc"}},
    {{"destination": "/dev", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "mode=755"]}},
    {{"destination": "/dev/pts", "type": "devpts", "source": "devpts", "options": ["newinstance", "ptmxmode=0666"]}},
    {{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}},
    {{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs"}}
  ],
  "annotations": {{"org.openvz.ubc.numproc": "24:24", "io.container.manager": "test"}},
  "linux": {{"namespaces": [{{"type": "pid"}}, {{"type": "network"}}, {{"type": "ipc"}},
                            {{"type": "uts"}}, {{"type": "mount"}}],
    "maskedPaths": ["/proc/kcore", "/sys/firmware"], "readonlyPaths": ["/proc/sys"],
    "resources": {{"memory": {{"limit": 134217728}}}}{}}}
}})",
                                              user, quoted, process_extra, linux_extra));
}

void bundle::rewrite(const std::string& from, const std::string& to) const {
  std::string text = read_text(dir / "config.json");
  REQUIRE(text.find(from) != std::string::npos);
  text.replace(text.find(from), from.size(), to);
  write_text(dir / "config.json", text);
}

void bundle::add_hooks(const std::string& hooks) const {
  rewrite(R"("ociVersion": "1.0.2",)",
          R"("ociVersion": "1.0.2",)" + std::string("\n  \"hooks\": ") + hooks + ",");
}

pipe_pair::pipe_pair() {
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  r.reset(fds[0]);
  w.reset(fds[1]);
}

std::string pipe_pair::drain() {
  w.reset();
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(r.get(), buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

bool pipe_pair::has_data(int ms) {
  pollfd p{r.get(), POLLIN, 0};
  return ::poll(&p, 1, ms) > 0;
}

bool wait_stopped(const oci_container& c) {
  for (int i = 0; i < 500; ++i) {
    auto s = c.state();
    if (s && s->status == oci_status::stopped) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

std::string output_of(const temp_root& root, const std::string& id, const fs::path& bundle) {
  pipe_pair out;
  oci_io io;
  io.stdout_fd = out.w.get();
  auto c = MUST(oci_container::create(root.path(), id, bundle, io));
  MUST(c.start());
  std::string said = out.drain();
  REQUIRE(wait_stopped(c));
  MUST(c.destroy());
  return said;
}

oci_container created_as(const temp_root& root, const std::string& id, const fs::path& bundle,
                         const pipe_pair& in, const pipe_pair& out, uid_t uid) {
  oci_io opts;
  opts.stdin_fd = in.r.get();
  opts.stdout_fd = out.w.get();
  auto c = MUST(oci_container::create(root.path(), id, bundle, opts));
  CHECK_THAT(read_text(fmt::format("/proc/{}/status", MUST(c.state()).pid)),
             Catch::Contains(fmt::format("Uid:\t{0}\t{0}\t{0}\t{0}\n", uid)));
  return c;
}

}  // namespace ovz::test
