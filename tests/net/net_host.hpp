#pragma once
// The networking suite's stand-in host: main() moves the whole test process into a network
// namespace of its own before Catch2 runs, so every VE, route and packet of these tests lives
// there and nothing can reach a real interface. The namespace has lo and a "LAN" device
// lan0 (one end of a veth pair, the other end lan0peer) holding 192.0.2.1/24 and
// 2001:db8::1/64 (documentation prefixes), and no route out.

#include "support/temp_root.hpp"

#include <ovz/network.hpp>
#include <ovz/ve.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ovz::test {

inline const char* lan_v4 = "192.0.2.1";
inline const char* lan_v6 = "2001:db8::1";

/// Ends the test with 77 (skipped) when main() could not make the host namespace.
void require_net_host();

/// Everything of the namespace the tests may leak: links, addresses, routes, neighbour and
/// proxy neighbour entries, one line each, sorted.
std::vector<std::string> host_state();
/// The same, of a running VE's network namespace.
std::vector<std::string> ve_net_state(const ve& v);

/// Lines of `after` not in `before` (what a test left behind), and the reverse.
std::vector<std::string> added(const std::vector<std::string>& before,
                               const std::vector<std::string>& after);

/// True when a line holds `needle`.
bool contains(const std::vector<std::string>& lines, const std::string& needle);

/// One line each, for a message.
std::string joined(const std::vector<std::string>& lines);

/// Connects from the host namespace to addr:port, sends `payload`, half-closes and reads
/// until EOF; retries the connection (up to ~10 s) while the server is not yet listening.
/// Returns what came back, or "connect failed: <errno text>".
std::string tcp_exchange(const std::string& addr, std::uint16_t port, const std::string& payload);

/// Starts busybox `nc -ll -p PORT -e cat` in the VE, in the background: a TCP echo server
/// that is a process of the VE. Returns once it listens.
void start_echo_server(const ve& v, std::uint16_t port);

/// Runs a shell script in the VE; its exit code and output.
exec_result sh(const ve& v, const std::string& script);

ip_address addr(const char* text);

}  // namespace ovz::test
