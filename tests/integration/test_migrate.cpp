// Moving a VE between two state roots over a stream (a socket pair here, the receiving side
// on a thread as another host's ovzctl would be): stopped, running (stopped and started
// there), online (checkpointed and restored there, where CRIU works); and what is left where
// when the other side refuses, goes away at each step, fills its disk or never answers.
// CTIDs 17118, 17120-17129, 17131-17133.

#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include <ovz/migration.hpp>
#include <ovz/template.hpp>

#include "kernel/frame_stream.hpp"
#include "kernel/netlink.hpp"
#include "ve/migration_stream.hpp"
#include "ve/page_relay.hpp"

#include <linux/if.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <thread>

using namespace ovz;

namespace {

// Two ends of a stream, the second for the receiving side.
struct stream {
  int ends[2] = {-1, -1};
  stream() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) == 0); }
  // The sender's end keeps only a few KiB in flight: what follows a receiver that stopped
  // reading cannot all be written before it goes, as over a long link (else the sender
  // could send up to done into the buffers, and rightly take the silence for a lost answer).
  static stream tight() {
    stream s;
    const int bytes = 4096;
    REQUIRE(::setsockopt(s.ends[0], SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) == 0);
    return s;
  }
  stream(stream&& o) noexcept {
    std::swap(ends, o.ends);
  }
  ~stream() {
    for (int fd : ends)
      if (fd >= 0) ::close(fd);
  }
};

// Migrates `v` into `to` with receive_ve on a thread; both sides' results.
struct outcome {
  result<void> sent;
  result<ctid> received;
};

outcome migrate_between(ve& v, const test::temp_root& to, const migrate_options& opts = {}) {
  stream s;
  auto receiving = std::async(std::launch::async, [&] {
    auto got = receive_ve(s.ends[1], to.path());
    // As the receiving host's process ends: a sender still writing is not left blocked.
    ::shutdown(s.ends[1], SHUT_RDWR);
    return got;
  });
  auto sent = v.migrate(s.ends[0], opts);
  // A sender that gave up early leaves the receiver waiting for frames that never come.
  ::shutdown(s.ends[0], SHUT_RDWR);
  return {sent, receiving.get()};
}

bool exists(const ve& v) { return std::filesystem::exists(v.conf_path()); }

// Both sides succeeded, and the VE is gone from the source's root.
void require_moved(const outcome& o, const ve& v, const test::temp_root& from) {
  INFO((o.sent ? "" : o.sent.error().message()) << (o.received ? "" : o.received.error().message()));
  REQUIRE(o.sent);
  REQUIRE(o.received);
  CHECK(o.received->value() == v.id().value());
  CHECK_FALSE(exists(v));
  CHECK(test::leftovers(from).empty());
}

// The count a VE's counting loop has reached, twice a second apart: that it goes on.
std::pair<long, long> counting(const ve& v) {
  auto now = [&] { return std::atol(MUST(v.exec({"cat", "/tmp/count"})).out.c_str()); };
  const long first = now();
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  return {first, now()};
}

// Which of `addresses` the host routes (to a VE's venet), sorted.
std::vector<std::string> routed_on_host(std::vector<std::string> addresses) {
  auto host = MUST(detail::netlink::socket::open());
  std::vector<std::string> out;
  for (const auto& rt : MUST(host.routes()))
    if (std::ranges::find(addresses, rt.dst.address()) != addresses.end())
      out.push_back(rt.dst.address());
  std::ranges::sort(out);
  return out;
}

// The host's device of that name: "up", "down" or "absent".
std::string link_on_host(const std::string& name) {
  auto host = MUST(detail::netlink::socket::open());
  auto link = MUST(host.find_link(name));
  return !link ? "absent" : (link->flags & IFF_UP) != 0 ? "up" : "down";
}

void start_counting(const ve& v) {
  MUST(v.exec({"sh", "-c",
               "i=0; (while :; do i=$((i+1)); echo $i > /tmp/c.new; mv /tmp/c.new /tmp/count; sleep 0.2; done) "
               "</dev/null >/dev/null 2>&1 &"}));
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
}

}  // namespace

TEST_CASE("a stopped VE moves to another state root with its files and stays stopped",
          "[migrate]") {
  test::require_root();
  test::temp_root from, to;
  auto v = from.open(17120);
  MUST(v.create());
  MUST(v.set_hostname("moved", true));
  MUST(v.start());
  MUST(v.exec({"sh", "-c", "echo kept > /root/note"}));
  MUST(v.stop());

  require_moved(migrate_between(v, to), v, from);
  CHECK_FALSE(std::filesystem::exists(v.private_path()));
  auto there = to.open(17120);
  CHECK(MUST(there.status()).state == ve_state::stopped);
  CHECK(MUST(there.config()).get("HOSTNAME") == "moved");
  MUST(there.start());
  CHECK(MUST(there.exec({"cat", "/root/note"})).out == "kept\n");
  MUST(there.stop({.fast = true}));
  CHECK(test::leftovers(to).empty());
}

TEST_CASE("a running VE moved offline is stopped here and started there", "[migrate]") {
  test::require_root();
  test::running_ve r(17121);
  test::temp_root to;
  MUST(r.v.exec({"sh", "-c", "echo kept > /root/note"}));
  require_moved(migrate_between(r.v, to), r.v, r.root);
  auto there = to.open(17121);
  CHECK(MUST(there.status()).state == ve_state::running);
  CHECK(MUST(there.exec({"cat", "/root/note"})).out == "kept\n");
  MUST(there.stop({.fast = true}));
  CHECK(test::leftovers(to).empty());
}

TEST_CASE("a target that has the CTID refuses before the VE is touched", "[migrate]") {
  test::require_root();
  test::running_ve r(17122);
  test::temp_root to;
  MUST(to.open(17122).create());
  const auto init = MUST(r.v.status()).init_pid;
  auto [sent, received] = migrate_between(r.v, to);
  REQUIRE_FALSE(sent);
  CHECK(sent.error().is(errc::peer_failed));
  CHECK(sent.error().message().find("VE 17122 exists in " + to.path().string()) !=
        std::string::npos);
  REQUIRE_FALSE(received);
  CHECK(received.error().is(errc::already_exists));
  // Untouched: the same init runs on.
  CHECK(MUST(r.v.status()).init_pid == init);
}

TEST_CASE("a target that goes away while the files move leaves the VE running here again",
          "[migrate]") {
  test::require_root();
  test::running_ve r(17123);
  // More than the first data frame the receiver takes (1 MiB) and the stream holds.
  MUST(r.v.exec({"sh", "-c", "echo kept > /root/note; dd if=/dev/urandom of=/root/big bs=1M count=4"}));
  // A receiver that says ready, takes the first frames and goes away: a host that died.
  auto s = stream::tight();
  std::thread dying([fd = s.ends[1]] {
    auto hello = detail::read_frame(fd, 1 << 20, "hello");
    (void)detail::write_frame(fd, 2 /* ready */, {});
    for (int i = 0; i < 3; ++i) (void)detail::read_frame(fd, 1 << 20, "a frame");
    ::shutdown(fd, SHUT_RDWR);
  });
  auto sent = r.v.migrate(s.ends[0]);
  dying.join();
  REQUIRE_FALSE(sent);
  INFO(sent.error().message());
  CHECK(sent.error().message().find("it runs here again") != std::string::npos);
  auto st = MUST(r.v.status());
  CHECK(st.state == ve_state::running);
  CHECK(MUST(r.v.exec({"cat", "/root/note"})).out == "kept\n");
}

TEST_CASE("a target that fails and stops reading is heard, not waited on for ever",
          "[migrate]") {
  test::require_root();
  test::running_ve r(17118);
  MUST(r.v.exec({"sh", "-c", "dd if=/dev/urandom of=/root/big bs=1M count=4"}));
  // A receiver whose disk broke at the first tree: it says why and reads no more, but its
  // end stays open (a host still up) until the sender has returned.
  auto s = stream::tight();
  std::promise<void> returned;
  std::thread failing([fd = s.ends[1], back = returned.get_future()] {
    (void)detail::read_frame(fd, 1 << 20, "hello");
    (void)detail::write_frame(fd, 2 /* ready */, {});
    for (;;) {
      auto f = detail::read_frame(fd, 1 << 20, "a frame");
      if (!f || f->type == 5 /* tree */) break;
    }
    (void)detail::write_frame(fd, 3 /* error */, "write /var/lib/vz: Input/output error");
    back.wait();
  });
  auto sent = r.v.migrate(s.ends[0]);
  returned.set_value();
  failing.join();
  REQUIRE_FALSE(sent);
  INFO(sent.error().message());
  CHECK(sent.error().is(errc::peer_failed));
  CHECK(sent.error().message().find("the other side: write /var/lib/vz: Input/output error") !=
        std::string::npos);
  CHECK(sent.error().message().find("it runs here again") != std::string::npos);
  CHECK(MUST(r.v.status()).state == ve_state::running);
}

namespace {

// A fake target's page sessions, served for real into directories of `dir` (each dump's
// memory whole, without a parent): what it takes when a frame is a pages frame.
struct page_taker {
  std::filesystem::path dir;
  int sessions = 0;
  bool took(int fd, const detail::frame& f) {
    if (f.type != static_cast<std::uint32_t>(detail::mig::pages)) return false;
    if (sessions == 0) std::filesystem::create_directories(dir);
    (void)detail::serve_pages(fd, dir / std::to_string(++sessions), "");
    return true;
  }
};

// A receiver that takes everything up to done and then gives `answer` (a frame type, or 0:
// none, the stream cut): the other host as the source sees it when its last word is lost.
// Memory it takes into `pages`.
void take_all_then(int fd, std::uint32_t answer, std::string_view payload = {},
                   const std::filesystem::path& pages = {}) {
  page_taker taker{pages};
  (void)detail::read_frame(fd, 1 << 20, "hello");
  (void)detail::write_frame(fd, 2 /* ready */, {});
  for (;;) {
    auto f = detail::read_frame(fd, 1 << 20, "a frame");
    if (!f || f->type == 7 /* done */) break;
    taker.took(fd, *f);
  }
  if (answer != 0) (void)detail::write_frame(fd, answer, payload);
  ::shutdown(fd, SHUT_RDWR);
}

// Which frame a fake target takes last; none: it takes nothing after its ready.
using last_frame = std::function<bool(const detail::frame&)>;

// A target that takes frames up to the `last` one and then neither reads nor speaks, its end
// open — a hung host — until `released`.
void hang_after(int fd, const last_frame& last, std::future<void> released) {
  (void)detail::read_frame(fd, 1 << 20, "hello");
  (void)detail::write_frame(fd, 2 /* ready */, {});
  while (last) {
    auto f = detail::read_frame(fd, 1 << 20, "a frame");
    if (!f || last(*f)) break;
  }
  released.wait();
}

}  // namespace

TEST_CASE("a target that hangs is given up after the timeout: before done the VE runs here "
          "again, after it the VE is in doubt",
          "[migrate]") {
  test::require_root();
  // Where the target falls silent: right after its ready (the files cannot all go), or
  // once it has taken everything (its answer never comes).
  const bool after_done = GENERATE(false, true);
  INFO((after_done ? "silent after done" : "silent after ready"));
  test::running_ve r(17132);
  auto s = stream::tight();
  std::promise<void> released;
  std::thread hung(hang_after, s.ends[1],
                   after_done ? [](const detail::frame& f) { return f.type == 7 /* done */; }
                              : last_frame{},
                   released.get_future());
  auto sent = r.v.migrate(s.ends[0], {.timeout = std::chrono::milliseconds(1000)});
  released.set_value();
  hung.join();
  REQUIRE_FALSE(sent);
  INFO(sent.error().message());
  CHECK(sent.error().message().find("for 1000 ms") != std::string::npos);
  if (after_done) {
    CHECK(sent.error().is(errc::in_doubt));
    CHECK(MUST(r.v.status()).state == ve_state::stopped);
  } else {
    CHECK(sent.error().is(errc::timed_out));
    CHECK(sent.error().message().find("it runs here again") != std::string::npos);
    CHECK(MUST(r.v.status()).state == ve_state::running);
  }
}

TEST_CASE("online: a target that stops answering in a page session is given up after the "
          "timeout, and the VE runs on here",
          "[migrate][checkpoint]") {
  test::require_root();
  if (!test::checkpoint_works_here()) return;
  test::running_ve r(17133);
  start_counting(r.v);
  const auto init = MUST(r.v.status()).init_pid;
  stream s;
  std::promise<void> released;
  // The dump's first words unanswered.
  std::thread hung(
      hang_after, s.ends[1],
      [](const detail::frame& f) { return f.type == static_cast<std::uint32_t>(detail::mig::pages); },
      released.get_future());
  auto sent = r.v.migrate(s.ends[0], {.online = true, .timeout = std::chrono::milliseconds(3000)});
  released.set_value();
  hung.join();
  REQUIRE_FALSE(sent);
  INFO(sent.error().message());
  CHECK(sent.error().is(errc::timed_out));
  CHECK(sent.error().message().find("page session for 3000 ms") != std::string::npos);
  const auto st = MUST(r.v.status());
  CHECK(st.state == ve_state::running);
  CHECK(st.init_pid == init);
  const auto [at, later] = counting(r.v);
  CHECK(later > at);
  CHECK_FALSE(std::filesystem::exists(r.root.path() / "dump" / "17133.pre"));
}

TEST_CASE("a lost last answer leaves the VE stopped here, in doubt, not run twice",
          "[migrate]") {
  test::require_root();
  test::running_ve r(17125);
  MUST(r.v.exec({"sh", "-c", "echo kept > /root/note"}));
  stream s;
  std::thread cut([fd = s.ends[1]] { take_all_then(fd, 0); });
  auto sent = r.v.migrate(s.ends[0]);
  cut.join();
  REQUIRE_FALSE(sent);
  INFO(sent.error().message());
  CHECK(sent.error().is(errc::in_doubt));
  CHECK(sent.error().message().find("it may run there") != std::string::npos);
  CHECK(sent.error().message().find("ovzctl start 17125") != std::string::npos);
  // At rest and whole: the user runs it here when it does not run there.
  CHECK(MUST(r.v.status()).state == ve_state::stopped);
  MUST(r.v.start());
  CHECK(MUST(r.v.exec({"cat", "/root/note"})).out == "kept\n");
}

TEST_CASE("online, a lost last answer leaves the VE suspended here and cut off, to resume",
          "[migrate][checkpoint]") {
  test::require_root();
  if (auto ok = checkpoint_supported(); !ok) {
    WARN("SKIPPED: " << ok.error().message());
    return;
  }
  test::running_ve r(17127);
  MUST(r.v.add_ip(*ip_address::parse("10.171.27.1"), true));
  start_counting(r.v);
  const auto init = MUST(r.v.status()).init_pid;
  auto routed = [] { return !routed_on_host({"10.171.27.1"}).empty(); };
  REQUIRE(routed());
  stream s;
  std::thread cut([fd = s.ends[1], pages = r.root.path() / "target"] {
    take_all_then(fd, 0, {}, pages);
  });
  auto sent = r.v.migrate(s.ends[0], {.online = true});
  cut.join();
  REQUIRE_FALSE(sent);
  INFO(sent.error().message());
  CHECK(sent.error().is(errc::in_doubt));
  CHECK(sent.error().message().find("ovzctl resume 17127") != std::string::npos);
  // Its processes held here, frozen, and nothing reaches them: should it run there, the two
  // never meet on the network.
  const auto st = MUST(r.v.status());
  CHECK(st.state == ve_state::running);
  CHECK(st.suspended);
  CHECK(st.init_pid == init);
  CHECK(link_on_host("venet17127") == "absent");
  CHECK_FALSE(routed());
  // It does not run there: resumed here, the same processes count on, reachable as before.
  MUST(r.v.resume());
  const auto [at, later] = counting(r.v);
  CHECK(at > 0);
  CHECK(later > at);
  CHECK(MUST(r.v.status()).init_pid == init);
  CHECK(link_on_host("venet17127") == "up");
  CHECK(routed());
  CHECK_FALSE(std::filesystem::exists(r.root.path() / "dump" / "17127.pre"));
}

TEST_CASE("online: a target that fails after taking everything leaves the same processes "
          "running here",
          "[migrate][checkpoint]") {
  test::require_root();
  if (!test::checkpoint_works_here()) return;
  test::running_ve r(17131);
  MUST(r.v.add_ip(*ip_address::parse("10.171.31.1"), true));
  MUST(r.v.add_ip(*ip_address::parse("fd00:171:31::1"), true));
  auto routes = [] { return routed_on_host({"10.171.31.1", "fd00:171:31::1"}); };
  const auto routed = routes();
  REQUIRE(routed.size() == 2);
  start_counting(r.v);
  const auto init = MUST(r.v.status()).init_pid;
  const auto [before, _] = counting(r.v);
  stream s;
  std::thread failing([fd = s.ends[1], pages = r.root.path() / "target"] {
    take_all_then(fd, 3 /* error */, "no room to restore", pages);
  });
  auto sent = r.v.migrate(s.ends[0], {.online = true});
  failing.join();
  REQUIRE_FALSE(sent);
  INFO(sent.error().message());
  CHECK(sent.error().is(errc::peer_failed));
  CHECK(sent.error().message().find("no room to restore") != std::string::npos);
  CHECK(sent.error().message().find("it runs here again") != std::string::npos);
  // Not restored from a dump: the very processes CRIU held, counting on, their host side
  // back as it was (the hand-over had taken it down and aside).
  CHECK(routes() == routed);
  CHECK(link_on_host("venet17131") == "up");
  const auto st = MUST(r.v.status());
  CHECK(st.state == ve_state::running);
  CHECK_FALSE(st.suspended);
  CHECK(st.init_pid == init);
  const auto [at, later] = counting(r.v);
  CHECK(at > before);
  CHECK(later > at);
}

namespace {

// A receiver that goes away (a host that died, a cut stream) when the tree `name` begins, or
// the memory of a dump ("pages NAME"), taking into `pages` the memory before.
void take_until(int fd, const std::string& name, const std::filesystem::path& pages) {
  page_taker taker{pages};
  (void)detail::read_frame(fd, 1 << 20, "hello");
  (void)detail::write_frame(fd, 2 /* ready */, {});
  for (;;) {
    auto f = detail::read_frame(fd, 1 << 20, "a frame");
    if (!f || (f->type == 5 /* tree */ && f->payload == name) ||
        (f->type == static_cast<std::uint32_t>(detail::mig::pages) && "pages " + f->payload == name))
      break;
    taker.took(fd, *f);
  }
  ::shutdown(fd, SHUT_RDWR);
}

}  // namespace

TEST_CASE("online: a target lost at any step leaves the VE serving here", "[migrate][checkpoint]") {
  test::require_root();
  if (!test::checkpoint_works_here()) return;
  // Each step: the tree at whose start the target goes, and whether the VE had been frozen
  // and dumped by then (CRIU let its processes go again) or still ran all along.
  const auto [tree, frozen] = GENERATE(table<std::string, bool>({{"private-base", false},
                                                                 {"pages pre/1", false},
                                                                 {"pre/1", false},
                                                                 {"pages dump", true},
                                                                 {"private-delta", true},
                                                                 {"dump", true}}));
  INFO("target lost at " << tree);
  test::running_ve r(17128);
  start_counting(r.v);
  const auto init = MUST(r.v.status()).init_pid;
  const auto [before, _] = counting(r.v);
  auto s = stream::tight();
  std::thread lost([fd = s.ends[1], name = tree, pages = r.root.path() / "target"] {
    take_until(fd, name, pages);
  });
  auto sent = r.v.migrate(s.ends[0], {.online = true});
  lost.join();
  REQUIRE_FALSE(sent);
  INFO(sent.error().message());
  CHECK_FALSE(sent.error().is(errc::in_doubt));
  CHECK((sent.error().message().find("it runs here again") != std::string::npos) == frozen);
  REQUIRE(MUST(r.v.status()).state == ve_state::running);
  // The same processes: the count went on from where it was, and goes on.
  const auto [at, later] = counting(r.v);
  CHECK(at > before);
  CHECK(later > at);
  CHECK(MUST(r.v.status()).init_pid == init);  // never stopped, never restored
  CHECK_FALSE(std::filesystem::exists(r.root.path() / "dump"/ "17128.pre"));
}

TEST_CASE("online: a target whose disk fills up fails cleanly, and the VE serves on here",
          "[migrate][checkpoint]") {
  test::require_root();
  if (!test::checkpoint_works_here()) return;
  test::running_ve r(17129);
  start_counting(r.v);
  const auto [before, _] = counting(r.v);
  test::temp_root to;
  {
    // The target's state root on a file system with the template and 512 KiB to spare: less
    // than the VE's memory images.
    REQUIRE(::mount("ovz-full", to.path().c_str(), "tmpfs", 0, "size=64m") == 0);
    struct unmounted {
      const std::filesystem::path& p;
      ~unmounted() { ::umount2(p.c_str(), MNT_DETACH); }
    } guard{to.path()};
    MUST(template_store(to.path()).find("busybox"));
    const auto space = std::filesystem::space(to.path());
    {
      std::ofstream filler(to.path() / "filler", std::ios::binary);
      const std::string chunk(1 << 16, 'x');
      for (std::uintmax_t left = space.available - 512 * 1024; left > 0;) {
        const auto n = std::min<std::uintmax_t>(left, chunk.size());
        filler.write(chunk.data(), static_cast<std::streamsize>(n));
        left -= n;
      }
    }
    auto [sent, received] = migrate_between(r.v, to, {.online = true});
    REQUIRE_FALSE(sent);
    REQUIRE_FALSE(received);
    INFO(sent.error().message() << "\n" << received.error().message());
    CHECK(received.error().message().find("No space left on device") != std::string::npos);
    // Nothing of it there.
    CHECK_FALSE(exists(to.open(17129)));
    std::error_code ec;
    CHECK(std::filesystem::directory_iterator(to.path() / "private", ec) ==
          std::filesystem::directory_iterator());
  }
  // Still running or run again from its dump, as far as the move had gone: the same
  // processes, counting on.
  REQUIRE(MUST(r.v.status()).state == ve_state::running);
  const auto [at, later] = counting(r.v);
  CHECK(at > before);
  CHECK(later > at);
  CHECK(test::leftovers(to).empty());
}

TEST_CASE("a target that fails after taking everything says so, and the VE runs here again",
          "[migrate]") {
  test::require_root();
  test::running_ve r(17126);
  const auto before = MUST(r.v.status()).init_pid;
  stream s;
  std::thread failing([fd = s.ends[1]] { take_all_then(fd, 3 /* error */, "no room to start"); });
  auto sent = r.v.migrate(s.ends[0]);
  failing.join();
  REQUIRE_FALSE(sent);
  INFO(sent.error().message());
  CHECK(sent.error().is(errc::peer_failed));
  CHECK(sent.error().message().find("no room to start") != std::string::npos);
  CHECK(sent.error().message().find("it runs here again") != std::string::npos);
  const auto st = MUST(r.v.status());
  CHECK(st.state == ve_state::running);
  CHECK(st.init_pid != before);  // started anew: it had been stopped for the move
}

TEST_CASE("online: a running VE's processes go on in the other state root", "[migrate][checkpoint]") {
  test::require_root();
  test::running_ve r(17124);
  test::temp_root to;
  if (auto ok = checkpoint_supported(); !ok) {
    // Refused before anything changes.
    const auto init = MUST(r.v.status()).init_pid;
    auto [sent, received] = migrate_between(r.v, to, {.online = true});
    REQUIRE_FALSE(sent);
    CHECK(sent.error().is(errc::unsupported));
    CHECK(MUST(r.v.status()).init_pid == init);
    WARN("SKIPPED the move itself: " << ok.error().message());
    return;
  }
  // An address: the target on this host restores the VE's host end under its name while the
  // source still holds its processes, and routes the address to it.
  MUST(r.v.add_ip(*ip_address::parse("10.171.24.1"), true));
  auto routed = [] { return !routed_on_host({"10.171.24.1"}).empty(); };
  start_counting(r.v);
  const double up_before = test::uptime_of(r.v);
  const auto read_at = std::chrono::steady_clock::now();
  require_moved(migrate_between(r.v, to, {.online = true}), r.v, r.root);
  auto there = to.open(17124);
  // Its clock of the time since boot goes on from where it was.
  const double up_after = test::uptime_of(there);
  CHECK(up_after > up_before);
  CHECK(up_after < up_before + test::seconds_since(read_at) + 1);
  const long at_move = std::atol(MUST(there.exec({"cat", "/tmp/count"})).out.c_str());
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  const long later = std::atol(MUST(there.exec({"cat", "/tmp/count"})).out.c_str());
  INFO("counted " << at_move << " after the move, " << later << " later");
  CHECK(at_move > 2);  // went on from where it was, not from 0
  CHECK(later > at_move);
  CHECK(link_on_host("venet17124") == "up");
  CHECK(routed());
  MUST(there.stop({.fast = true}));
  CHECK(link_on_host("venet17124") == "absent");
  CHECK_FALSE(routed());
  CHECK(test::leftovers(to).empty());
}

TEST_CASE("a tree sent again incrementally arrives with what changed, and without what went",
          "[migrate]") {
  test::temp_root scratch;
  const auto from = scratch.path() / "from", to = scratch.path() / "to";
  const auto snapshot = scratch.path() / "snar";
  std::filesystem::create_directories(from / "dir");
  test::write_text(from / "kept", "kept\n");
  test::write_text(from / "changed", "before\n");
  test::write_text(from / "dir/removed", "soon gone\n");
  auto send_and_take = [&](const char* name, detail::tree_into how) {
    stream s;
    auto taken = std::async(std::launch::async, [&] {
      auto f = detail::expect(s.ends[1], detail::mig::tree, "a tree");
      if (!f) return result<void>(f.error());
      return detail::receive_tree(s.ends[1], to, how);
    });
    MUST(detail::send_tree(s.ends[0], name, from, snapshot));
    MUST(taken.get());
  };
  send_and_take("private-base", detail::tree_into::new_dir_incremental);
  CHECK(test::read_text(to / "dir/removed") == "soon gone\n");

  std::filesystem::remove(from / "dir/removed");
  test::write_text(from / "changed", "after\n");
  test::write_text(from / "added", "new\n");
  send_and_take("private-delta", detail::tree_into::over_dir);
  CHECK(test::read_text(to / "kept") == "kept\n");
  CHECK(test::read_text(to / "changed") == "after\n");
  CHECK(test::read_text(to / "added") == "new\n");
  CHECK_FALSE(std::filesystem::exists(to / "dir/removed"));
  CHECK(std::filesystem::exists(to / "dir"));
}
