// ovz_net_bench: TCP throughput and round-trip time between the host and a VE, over its
// routed address (venet0) and over a bridged veth device, beside the same measurement over
// loopback inside one namespace. A benchmark, not a test: a missed goal is reported, never
// turned into an exit code.
//
// It runs in a network namespace of its own (made first, before any thread), the stand-in
// host, so no packet leaves the machine. The server end of each measurement is a socket made
// in the VE's network namespace (by a thread that joined it), so both ends are this program
// and only the path between them differs.

#include <ovz/network.hpp>
#include <ovz/ve.hpp>

#include "bench_support.hpp"
#include "kernel/netlink.hpp"

#include <fmt/core.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
constexpr std::uint16_t port = 5201;

[[noreturn]] void die(const std::string& what) {
  fmt::print(stderr, "ovz_net_bench: {}\n", what);
  std::exit(1);
}

template <class T>
T must(ovz::result<T> r, const char* what) {
  if (!r) die(fmt::format("{}: {}", what, r.error().message()));
  if constexpr (!std::is_void_v<T>) return std::move(r).value();
}

struct options {
  double seconds = 2.0;
  int pings = 20000;
  int rounds = 3;
};

sockaddr_in to_sockaddr(const char* ip) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  ::inet_pton(AF_INET, ip, &sa.sin_addr);
  return sa;
}

// A listener in the network namespace of `netns_pid` (0: ours), serving one connection on a
// thread: `echo` sends back what it reads, otherwise it reads and discards until EOF.
class server {
 public:
  server(pid_t netns_pid, bool echo) {
    std::promise<void> listening;
    auto ready = listening.get_future();
    worker_ = std::thread([this, netns_pid, echo, p = std::move(listening)]() mutable {
      if (netns_pid) {
        int ns = ::open(fmt::format("/proc/{}/ns/net", netns_pid).c_str(), O_RDONLY | O_CLOEXEC);
        if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) die("setns into the VE's netns");
        ::close(ns);
      }
      int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int one = 1;
      ::setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in any{};
      any.sin_family = AF_INET;
      any.sin_port = htons(port);
      if (::bind(l, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0 || ::listen(l, 1) != 0)
        die(fmt::format("listen: {}", std::strerror(errno)));
      p.set_value();
      int c = ::accept4(l, nullptr, nullptr, SOCK_CLOEXEC);
      ::close(l);
      ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      std::vector<char> buf(1 << 17);
      for (;;) {
        ssize_t n = ::recv(c, buf.data(), buf.size(), 0);
        if (n <= 0) break;
        if (echo && ::send(c, buf.data(), static_cast<std::size_t>(n), MSG_NOSIGNAL) != n) break;
      }
      ::close(c);
    });
    ready.wait();
  }
  ~server() { worker_.join(); }

 private:
  std::thread worker_;
};

int connect_to(const char* ip) {
  auto sa = to_sockaddr(ip);
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
    die(fmt::format("connect {}: {}", ip, std::strerror(errno)));
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// Bulk transfer for `seconds`: bytes per second, counted when the server has read them all
// (its close after EOF ends the measurement).
double throughput(pid_t netns_pid, const char* ip, const options& o) {
  server sink(netns_pid, false);
  int fd = connect_to(ip);
  std::vector<char> buf(1 << 17, 'x');
  std::uint64_t sent = 0;
  const auto start = clock_type::now();
  const auto end = start + std::chrono::duration<double>(o.seconds);
  while (clock_type::now() < end) {
    ssize_t n = ::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
    if (n <= 0) die("send");
    sent += static_cast<std::uint64_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  char c;
  while (::recv(fd, &c, 1, 0) > 0) {
  }
  const double secs = std::chrono::duration<double>(clock_type::now() - start).count();
  ::close(fd);
  return static_cast<double>(sent) / secs;
}

// Ping-pong of 64-byte messages: the median round trip in microseconds.
double round_trip(pid_t netns_pid, const char* ip, const options& o) {
  server echo(netns_pid, true);
  int fd = connect_to(ip);
  char msg[64] = {};
  std::vector<double> rtts;
  rtts.reserve(static_cast<std::size_t>(o.pings));
  for (int i = 0; i < o.pings; ++i) {
    auto t0 = clock_type::now();
    if (::send(fd, msg, sizeof msg, MSG_NOSIGNAL) != sizeof msg) die("send");
    std::size_t got = 0;
    while (got < sizeof msg) {
      ssize_t n = ::recv(fd, msg + got, sizeof msg - got, 0);
      if (n <= 0) die("recv");
      got += static_cast<std::size_t>(n);
    }
    rtts.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
  }
  ::close(fd);
  std::nth_element(rtts.begin(), rtts.begin() + static_cast<std::ptrdiff_t>(rtts.size() / 2),
                   rtts.end());
  return rtts[rtts.size() / 2];
}

ovz::ip_address ip(const char* text) { return must(ovz::ip_address::parse(text), text); }

}  // namespace

int main(int argc, char* argv[]) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--seconds" && i + 1 < argc) {
      o.seconds = std::atof(argv[++i]);
    } else if (a == "--pings" && i + 1 < argc) {
      o.pings = std::atoi(argv[++i]);
    } else if (a == "--rounds" && i + 1 < argc) {
      o.rounds = std::max(1, std::atoi(argv[++i]));
    } else {
      fmt::print(stderr, "usage: ovz_net_bench [--seconds S] [--pings N] [--rounds R]\n");
      return 2;
    }
  }
  if (::geteuid() != 0) die("needs root");
  // The stand-in host, while this is the only thread.
  if (auto why = ovz_bench::isolate_network(); !why.empty()) die(why);
  auto host = must(ovz::detail::netlink::socket::open(), "netlink");

  char tmpl[] = "/tmp/ovz-net-bench-XXXXXX";
  if (!::mkdtemp(tmpl)) die("mkdtemp");
  const std::filesystem::path root = tmpl;
  auto v = must(ovz::ve::open(*ovz::ctid::from_number(9990), root), "open");
  must(v.create(), "create");
  must(v.add_ip(ip("10.199.0.1"), true), "add_ip");
  must(v.add_netif(must(ovz::netif_spec::parse("eth0,,,,brbench"), "netif"), true), "add_netif");
  must(v.start(), "start");
  const pid_t init = must(v.status(), "status").init_pid;
  auto br = must(host.find_link("brbench"), "find bridge");
  must(host.add_address(br->index, ip("10.198.0.254/24")), "bridge address");
  must(host.add_route(ip("10.198.0.0/24"), br->index), "bridge route");
  auto up = must(v.exec({"/bin/sh", "-c", "ip addr add 10.198.0.1/24 dev eth0"}), "exec");
  if (up.exit_code != 0) die("ip addr add in the VE: " + up.err);

  struct path {
    const char* name;
    pid_t netns;
    const char* addr;
    std::vector<double> bytes_per_s{}, rtt_us{};
  };
  path paths[] = {{"loopback", 0, "127.0.0.1"}, {"routed", init, "10.199.0.1"},
                  {"bridged", init, "10.198.0.1"}};
  for (auto& p : paths) (void)round_trip(p.netns, p.addr, {o.seconds, 200, 1});  // warm-up
  // Rounds interleave the paths, so that a change in the machine's load over the run
  // touches all of them alike; each line shows the median of its rounds.
  for (int r = 0; r < o.rounds; ++r) {
    for (auto& p : paths) {
      p.bytes_per_s.push_back(throughput(p.netns, p.addr, o));
      p.rtt_us.push_back(round_trip(p.netns, p.addr, o));
    }
  }
  auto median = [](std::vector<double> v) {
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
    return v[v.size() / 2];
  };
  struct summary {
    const char* name;
    double bytes_per_s, rtt_us;
  };
  std::vector<summary> lines;
  for (const auto& p : paths) lines.push_back({p.name, median(p.bytes_per_s), median(p.rtt_us)});

  fmt::print("{:<10} {:>14} {:>10} {:>14} {:>10}\n", "path", "throughput", "vs lo", "RTT (median)",
             "vs lo");
  for (const auto& p : lines) {
    fmt::print("{:<10} {:>9.2f} Gbit/s {:>9.0f}% {:>11.1f} us {:>9.2f}x\n", p.name,
               p.bytes_per_s * 8 / 1e9, 100 * p.bytes_per_s / lines[0].bytes_per_s, p.rtt_us,
               p.rtt_us / lines[0].rtt_us);
  }
  for (const auto& p : lines) {
    if (&p == &lines[0]) continue;
    const double ratio = p.bytes_per_s / lines[0].bytes_per_s;
    fmt::print("goal: {} throughput >= 90% of loopback: {:.0f}% {}\n", p.name, 100 * ratio,
               ratio >= 0.9 ? "met" : "MISSED");
  }

  must(v.stop({.fast = true}), "stop");
  must(v.destroy(), "destroy");
  std::error_code ec;
  std::filesystem::remove_all(root, ec);
  return 0;
}
