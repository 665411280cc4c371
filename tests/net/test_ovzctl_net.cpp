// ovzctl's network options end to end, in the suite's own network namespace (which the
// ovzctl processes inherit). CTIDs 9200-9249.

#include "net/net_host.hpp"

#include "kernel/netlink.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

extern char** environ;

namespace {

struct run_result {
  int exit_code = -1;
  std::string out;  // stdout and stderr, in one file: the order a user sees
};

run_result ovzctl(const ovz::test::temp_root& root, std::vector<std::string> args) {
  args.insert(args.begin(), {OVZCTL_PATH, "--root", root.path().string()});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const auto log = root.path() / "ovzctl.out";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  pid_t pid = -1;
  int spawned = ::posix_spawn(&pid, OVZCTL_PATH, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  REQUIRE(spawned == 0);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  std::ostringstream text;
  text << std::ifstream(log).rdbuf();
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), text.str()};
}

}  // namespace

TEST_CASE("ovzctl set --ipadd/--ipdel and --netif_add/--netif_del", "[net][ovzctl]") {
  using namespace ovz::test;
  require_net_host();
  const auto before = host_state();
  {
    temp_root root;
    REQUIRE(ovzctl(root, {"create", "9200"}).exit_code == 0);
    auto r = ovzctl(root, {"set", "9200", "--ipadd", "10.92.0.1", "--ipadd", "fd00:92::1",
                           "--netif_add", "eth0,,,,br920", "--save"});
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("Adding IP address(es): 10.92.0.1") != std::string::npos);
    auto v = root.open(9200);
    auto conf = MUST(v.config());
    CHECK(conf.get("IP_ADDRESS") == "10.92.0.1 fd00:92::1");
    CHECK(conf.get("NETIF").value_or("").starts_with("ifname=eth0,mac=02:"));

    REQUIRE(ovzctl(root, {"start", "9200"}).exit_code == 0);
    auto list = ovzctl(root, {"list"});
    CHECK(list.out.find("10.92.0.1") != std::string::npos);
    start_echo_server(v, 9200);
    CHECK(tcp_exchange("10.92.0.1", 9200, "ovzctl") == "ovzctl");
    CHECK(tcp_exchange("fd00:92::1", 9200, "ovzctl6") == "ovzctl6");

    r = ovzctl(root, {"set", "9200", "--ipdel", "10.92.0.1", "--netif_del", "eth0"});
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    CHECK(tcp_exchange("10.92.0.1", 9200, "x").starts_with("connect failed"));
    // Not saved: the config still has them, and a restart brings them back.
    CHECK(MUST(v.config()).get("IP_ADDRESS") == "10.92.0.1 fd00:92::1");
    REQUIRE(ovzctl(root, {"restart", "9200"}).exit_code == 0);
    start_echo_server(v, 9201);
    CHECK(tcp_exchange("10.92.0.1", 9201, "back") == "back");

    r = ovzctl(root, {"set", "9200", "--ipadd", "127.0.0.1"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("loopback") != std::string::npos);
    r = ovzctl(root, {"set", "9200", "--ipadd", "10.92.0.300"});
    CHECK(r.exit_code == 2);
    CHECK(r.out.find("Invalid IP address") != std::string::npos);
    r = ovzctl(root, {"set", "9200", "--netif_del", "eth7"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("no network device eth7") != std::string::npos);
    r = ovzctl(root, {"set", "9200", "--netif_add", "eth1,,,,lan0"});
    CHECK(r.exit_code == 1);
    CHECK(r.out.find("not a bridge") != std::string::npos);

    r = ovzctl(root, {"set", "9200", "--ipdel", "all", "--save"});
    REQUIRE(r.exit_code == 0);
    CHECK_FALSE(MUST(v.config()).get("IP_ADDRESS"));
    REQUIRE(ovzctl(root, {"stop", "9200"}).exit_code == 0);
    REQUIRE(ovzctl(root, {"destroy", "9200"}).exit_code == 0);
  }
  auto host = MUST(ovz::detail::netlink::socket::open());
  if (auto br = MUST(host.find_link("br920"))) MUST(host.delete_link(br->index, "br920"));
  CHECK(host_state() == before);
}
