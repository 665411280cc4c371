#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "net/net_host.hpp"

#include "kernel/files.hpp"
#include "kernel/netlink.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <iostream>
#include <thread>

namespace ovz::test {
namespace {

std::string host_error;  // why the stand-in host could not be made; empty when it was

result<void> make_host() {
  if (::unshare(CLONE_NEWNET) != 0)
    return error(std::error_code(errno, std::system_category()),
                 std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno));
  BOOST_OUTCOME_TRY(s, detail::netlink::socket::open());
  BOOST_OUTCOME_TRY(lo, s.find_link("lo"));
  BOOST_OUTCOME_TRY(s.set_up(lo->index, "lo"));
  BOOST_OUTCOME_TRY(s.add_veth({"lan0", std::nullopt, 0}, {"lan0peer", std::nullopt, 0}));
  for (const char* name : {"lan0", "lan0peer"}) {
    // No IPv6 link-local address: its duplicate address detection would change the
    // namespace's state in the middle of the first test.
    BOOST_OUTCOME_TRY(detail::write_file(
        std::string("/proc/sys/net/ipv6/conf/") + name + "/addr_gen_mode", "1"));
    BOOST_OUTCOME_TRY(l, s.find_link(name));
    BOOST_OUTCOME_TRY(s.set_up(l->index, name));
  }
  BOOST_OUTCOME_TRY(lan, s.find_link("lan0"));
  for (auto [a, net] : {std::pair{"192.0.2.1/24", "192.0.2.0/24"},
                         std::pair{"2001:db8::1/64", "2001:db8::/64"}}) {
    BOOST_OUTCOME_TRY(s.add_address(lan->index, addr(a)));
    BOOST_OUTCOME_TRY(s.add_route(addr(net), lan->index));  // add_address adds no prefix route
  }
  // IPv6 makes the local route of an address once the link has carrier, which a veth gets
  // asynchronously: wait for it, so that the tests' "before" snapshots see the settled host.
  for (int i = 0; i < 100; ++i) {
    BOOST_OUTCOME_TRY(routes, s.routes());
    if (std::ranges::any_of(routes, [](const detail::netlink::route_info& r) {
          return r.dst.same_host(addr("2001:db8::1")) && r.table == 255;
        }))
      return success();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return error(std::error_code(ETIMEDOUT, std::system_category()),
               "lan0's IPv6 address never got its local route");
}

template <class T>
T must_nl(result<T> r, const char* what) {
  if (!r) FAIL(what << ": " << r.error().message());
  if constexpr (!std::is_void_v<T>) return std::move(r).value();
}

std::vector<std::string> state_of(detail::netlink::socket& s) {
  std::vector<std::string> out;
  auto links = must_nl(s.links(), "links");
  auto name = [&](int index) {
    auto it = std::ranges::find(links, index, &detail::netlink::link_info::index);
    return it == links.end() ? std::to_string(index) : it->name;
  };
  for (const auto& l : links) out.push_back("link " + l.name + " " + l.kind + " " + l.alias);
  for (const auto& a : must_nl(s.addresses(), "addresses"))
    out.push_back("addr " + name(a.index) + " " + a.local.str());
  for (const auto& r : must_nl(s.routes(), "routes")) out.push_back("route " + r.str);
  for (bool proxy : {false, true}) {
    for (const auto& n : must_nl(s.neighbours(proxy), "neighbours")) {
      // Multicast entries are the kernel's own (MLD, IGMP), made and kept as it sends
      // reports, and dropped again when they age.
      if (n.dst.family == AF_INET6 && n.dst.bytes[0] == 0xff) continue;
      if (n.dst.family == AF_INET && (n.dst.bytes[0] & 0xf0) == 0xe0) continue;
      out.push_back(std::string(proxy ? "proxy " : "neigh ") + name(n.index) + " " +
                    n.dst.address());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

ip_address addr(const char* text) {
  auto a = ip_address::parse(text);
  if (!a) throw std::runtime_error(a.error().message());
  return *a;
}

void require_net_host() {
  require_root();
  if (host_error.empty()) return;
  std::cout << "SKIPPED: cannot make the test's own network namespace: " << host_error << "\n";
  std::cout.flush();
  std::_Exit(77);
}

std::vector<std::string> host_state() {
  auto s = must_nl(detail::netlink::socket::open(), "netlink socket");
  return state_of(s);
}

std::vector<std::string> ve_net_state(const ve& v) {
  auto st = MUST(v.status());
  auto s = must_nl(detail::netlink::socket::open_in(st.init_pid), "netlink socket in the VE");
  return state_of(s);
}

std::vector<std::string> added(const std::vector<std::string>& before,
                               const std::vector<std::string>& after) {
  std::vector<std::string> out;
  std::ranges::set_difference(after, before, std::back_inserter(out));
  return out;
}

bool contains(const std::vector<std::string>& lines, const std::string& needle) {
  return std::ranges::any_of(
      lines, [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

std::string joined(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::string tcp_exchange(const std::string& address, std::uint16_t port,
                         const std::string& payload) {
  auto a = addr(address.c_str());
  sockaddr_storage ss{};
  socklen_t len;
  if (a.family == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(port);
    std::memcpy(&sin->sin_addr, a.bytes.data(), 4);
    len = sizeof *sin;
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(port);
    std::memcpy(&sin6->sin6_addr, a.bytes.data(), 16);
    len = sizeof *sin6;
  }
  int last = 0;
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = ::socket(a.family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return std::string("socket failed: ") + std::strerror(errno);
    timeval tv{5, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
      last = errno;
      ::close(fd);
      // The server may not be listening yet (refused), or not be there at all.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    std::string back;
    bool ok = ::send(fd, payload.data(), payload.size(), MSG_NOSIGNAL) ==
              static_cast<ssize_t>(payload.size());
    ::shutdown(fd, SHUT_WR);
    char buf[4096];
    ssize_t n;
    while (ok && (n = ::recv(fd, buf, sizeof buf, 0)) > 0) back.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return back;
  }
  return std::string("connect failed: ") + std::strerror(last);
}

exec_result sh(const ve& v, const std::string& script) {
  return MUST(v.exec({"/bin/sh", "-c", script}));
}

void start_echo_server(const ve& v, std::uint16_t port) {
  const auto p = std::to_string(port);
  // Returns once it listens, so that clients inside VEs need not retry.
  auto r = sh(v, "nc -ll -p " + p + " -e /bin/cat </dev/null >/dev/null 2>&1 & "
                 "for i in $(seq 100); do netstat -ltn | grep -q ':" + p + " ' && exit 0; "
                 "sleep 0.1; done; exit 1");
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
}

}  // namespace ovz::test

int main(int argc, char* argv[]) {
  // Before anything else, and before any thread exists: unshare moves only the calling
  // thread, so it must be the only one.
  if (::geteuid() == 0) {
    if (auto ok = ovz::test::make_host(); !ok) ovz::test::host_error = ok.error().message();
  } else {
    ovz::test::host_error = "not root";
  }
  return Catch::Session().run(argc, argv);
}
