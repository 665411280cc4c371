// The per-VE monitor: it outlives the caller that started the VE, serves the VE's console
// (/dev/console, a terminal) to its log and to attached clients, and turns a reboot inside
// into a restart and a halt into a stop that leaves nothing. CTIDs 14600-14699.

#include "support/proc_info.hpp"
#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include <ovz/ve.hpp>

#include "model/layout.hpp"

#include <fmt/format.h>

#include <poll.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

using namespace ovz;
using namespace std::chrono_literals;
using ovz::test::temp_root;

namespace {

// What arrives on `fd` until it holds `wanted`, or 10 s have passed.
std::string read_until(int fd, const std::string& wanted) {
  std::string seen;
  const auto until = std::chrono::steady_clock::now() + 10s;
  while (seen.find(wanted) == std::string::npos && std::chrono::steady_clock::now() < until) {
    struct pollfd p = {fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    seen.append(buf, static_cast<std::size_t>(n));
  }
  return seen;
}

// Waits up to 10 s for `done()`.
template <class F>
bool eventually(F done) {
  for (int i = 0; i < 200; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return done();
}

}  // namespace

TEST_CASE("a VE's /dev/console is a terminal whose output reaches the log and every attached "
          "client", "[ve][console][monitor]") {
  test::require_root();
  test::running_ve running(14600);
  auto& v = running.v;
  const auto l = detail::layout_of(running.root.path(), v.id());

  auto kind = MUST(v.exec({"/bin/sh", "-c", "[ -c /dev/console ] && readlink /proc/1/fd/1"}));
  CHECK(kind.exit_code == 0);
  CHECK(kind.out.find("/dev/pts/") == 0);

  auto first = MUST(v.open_console());
  auto second = MUST(v.open_console());
  REQUIRE(MUST(v.exec({"/bin/sh", "-c", "echo to-the-console > /dev/console"})).exit_code == 0);
  CHECK(read_until(first.get(), "to-the-console").find("to-the-console") != std::string::npos);
  CHECK(read_until(second.get(), "to-the-console").find("to-the-console") != std::string::npos);
  CHECK(test::read_text(l.console_log).find("to-the-console") != std::string::npos);

  // A terminal attached to it is relayed until the detach sequence ("Esc ." at the start of
  // a line); the Esc of an ordinary line goes through.
  int typed[2], shown[2];
  REQUIRE(::pipe(typed) == 0);
  REQUIRE(::pipe(shown) == 0);
  const std::string keys = "echo a\x1b b\n\x1b.";
  REQUIRE(::write(typed[1], keys.data(), keys.size()) == static_cast<ssize_t>(keys.size()));
  CHECK(MUST(v.console({.in_fd = typed[0], .out_fd = shown[1]})));
  for (int fd : {typed[0], typed[1], shown[0], shown[1]}) ::close(fd);

  // A stopped VE's console closes for its clients, and nothing of the monitor is left.
  MUST(v.stop({.fast = true}));
  char buf[4096];
  ssize_t n;
  while ((n = ::read(first.get(), buf, sizeof buf)) > 0) {
  }
  CHECK(n == 0);
  CHECK_FALSE(std::filesystem::exists(l.console_socket));
  auto closed = v.open_console();
  REQUIRE_FALSE(closed);
  CHECK(closed.error().is(errc::not_running));
}

TEST_CASE("what a client types on the console reaches the VE's console shell",
          "[ve][console][monitor]") {
  test::require_root();
  temp_root root;
  auto v = root.open(14601);
  MUST(v.create());
  MUST(v.start({.init = {"/bin/sh"}}));
  auto console = MUST(v.open_console());
  const std::string line = "echo $((6*7))-typed\n";
  REQUIRE(::write(console.get(), line.data(), line.size()) == static_cast<ssize_t>(line.size()));
  CHECK(read_until(console.get(), "42-typed").find("42-typed") != std::string::npos);
  MUST(v.stop({.fast = true}));
  MUST(v.destroy());
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("the monitor is init's parent and outlives the ovzctl that started the VE",
          "[ve][monitor]") {
  test::require_root();
  temp_root root;
  auto v = root.open(14602);
  MUST(v.create());
  const auto cmd = std::string(OVZCTL_PATH) + " --root " + root.path().string() +
                   " start 14602 >/dev/null 2>&1";
  REQUIRE(std::system(cmd.c_str()) == 0);
  auto st = MUST(v.status());
  REQUIRE(st.state == ve_state::running);
  const pid_t monitor = test::parent_of(st.init_pid);
  CHECK(test::comm_of(monitor) == "ovz-monitor");
  // What ps shows of it: which VE it serves, of which state root.
  CHECK(test::command_line_of(monitor) ==
        fmt::format("ovz-monitor --ctid=14602 --root={} --init={}", root.path().string(),
                    st.init_pid));
  MUST(v.stop({}));
  CHECK_FALSE(test::pid_alive(monitor));
  MUST(v.destroy());
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("a VE started by the library has ovz-monitor as init's parent, named and with its "
          "arguments, which stops it when init ends",
          "[ve][monitor]") {
  test::require_root();
  temp_root root;
  auto v = root.open(14604);
  MUST(v.create());
  MUST(v.start({.init = {"/bin/sleep", "2"}}));
  auto st = MUST(v.status());
  const pid_t monitor = test::parent_of(st.init_pid);
  CHECK(test::comm_of(monitor) == "ovz-monitor");
  CHECK(test::command_line_of(monitor) ==
        fmt::format("ovz-monitor --ctid=14604 --root={} --init={}", root.path().string(),
                    st.init_pid));
  // Once init ends by itself, the monitor cleans up and ends (the VE reads as stopped as soon
  // as init is gone, while its monitor may still be at it).
  for (int i = 0; i < 1500 && test::pid_alive(monitor); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK_FALSE(test::pid_alive(monitor));
  CHECK(MUST(v.status()).state == ve_state::stopped);
  MUST(v.destroy());
  CHECK(test::leftovers(root).empty());
}

TEST_CASE("reboot inside restarts the VE, halt inside stops it and leaves nothing",
          "[ve][monitor]") {
  test::require_root();
  temp_root root;
  auto v = root.open(14603);
  MUST(v.create());
  MUST(v.start());
  const auto l = detail::layout_of(root.path(), v.id());
  const pid_t first = MUST(v.status()).init_pid;

  // The command dies with the VE: what exec says of it does not matter.
  (void)v.exec({"/bin/sh", "-c", "reboot -f"});
  CHECK(eventually([&] {
    auto st = v.status();
    return st && st->state == ve_state::running && st->init_pid != first;
  }));
  CHECK(test::read_text(l.console_log).find("VE 14603 is rebooting") != std::string::npos);
  CHECK(MUST(v.exec({"/bin/true"})).exit_code == 0);

  (void)v.exec({"/bin/sh", "-c", "poweroff -f"});
  CHECK(eventually([&] {
    auto st = v.status();
    return st && st->state == ve_state::stopped && test::leftovers(root).empty();
  }));
  INFO(test::leftovers(root).size());
  CHECK(test::leftovers(root).empty());
  MUST(v.destroy());
}
