// ovz-oci's command line as conmon, Podman and containerd's shim write it.

#include "ovz-oci/args.hpp"

#include <catch2/catch.hpp>

#include <csignal>

using ovz_oci::command;
using ovz_oci::parse;

namespace {

ovz_oci::arguments ok(std::vector<std::string_view> argv) {
  auto a = parse(argv);
  if (!a) FAIL(a.error().message());
  return *a;
}

std::string refused(std::vector<std::string_view> argv) {
  auto a = parse(argv);
  REQUIRE_FALSE(a);
  return a.error().message();
}

}  // namespace

TEST_CASE("ovz-oci reads conmon's create and containerd's globals", "[ovz-oci]") {
  auto a = ok({"--log-format=json", "--log", "/run/x/oci-log", "create", "--bundle",
               "/var/lib/b", "--pid-file", "/run/p", "--console-socket", "/tmp/c.sock",
               "--no-new-keyring", "8d1c"});
  CHECK(a.cmd == command::create);
  CHECK(a.log_json);
  CHECK(a.log == "/run/x/oci-log");
  CHECK(a.bundle == "/var/lib/b");
  CHECK(a.pid_file == "/run/p");
  CHECK(a.console_socket == "/tmp/c.sock");
  CHECK(a.id == "8d1c");

  a = ok({"--root", "/run/containerd/runc/default", "--log", "/b/log.json", "--log-format",
          "json", "--systemd-cgroup", "create", "-b", "/b", "--pid-file=/b/init.pid", "ctr1"});
  CHECK(a.root == "/run/containerd/runc/default");
  CHECK(a.systemd_cgroup);
  CHECK(a.bundle == "/b");
  CHECK(a.pid_file == "/b/init.pid");
  CHECK(ok({"-root", "/r", "state", "x"}).root == "/r");  // runc's single dash
}

TEST_CASE("ovz-oci reads kill, delete and ps as their callers write them", "[ovz-oci]") {
  auto a = ok({"kill", "--all", "c", "9"});
  CHECK((a.cmd == command::kill && a.all && a.signal == SIGKILL && a.id == "c"));
  CHECK(ok({"kill", "c"}).signal == SIGTERM);
  CHECK(ok({"kill", "c", "TERM"}).signal == SIGTERM);
  CHECK(ok({"kill", "c", "sigwinch"}).signal == SIGWINCH);
  CHECK(ok({"kill", "-a", "c", "SIGKILL"}).signal == SIGKILL);
  a = ok({"delete", "--force", "c"});
  CHECK((a.cmd == command::remove && a.force));
  a = ok({"ps", "--format", "json", "c"});
  CHECK((a.cmd == command::ps && a.json));
  a = ok({"update", "--resources", "-", "c"});
  CHECK((a.cmd == command::update && a.resources == "-"));
  CHECK(ok({"update", "--resources=/tmp/podman123", "c"}).resources == "/tmp/podman123");
  CHECK(ok({"pause", "c"}).cmd == command::pause);
  CHECK(ok({"resume", "c"}).cmd == command::resume);
  a = ok({"exec", "--pid-file", "/p", "--process", "/f", "--detach", "--tty", "c"});
  CHECK((a.cmd == command::exec && a.detach && a.tty && a.process == "/f" && a.id == "c"));
  a = ok({"exec", "-e", "A=1", "--user", "1000:27", "c", "sh", "-c", "ls -l"});
  CHECK(a.args == std::vector<std::string>{"sh", "-c", "ls -l"});
  CHECK(a.env == std::vector<std::string>{"A=1"});
  CHECK(a.user == std::pair<unsigned, unsigned>{1000, 27});
  a = ok({"exec", "--cap", "CAP_KILL", "-c", "CAP_CHOWN", "--no-new-privs", "c", "true"});
  CHECK((a.caps == std::vector<std::string>{"CAP_KILL", "CAP_CHOWN"} && a.no_new_privs));
  a = ok({"--cgroup-manager", "cgroupfs", "--root", "/r", "run", "--config", "config.json",
          "--detach", "--pid-file", "/p", "c"});
  CHECK((a.cmd == command::run && a.detach && !a.keep && a.config == "config.json" && a.id == "c"));
  CHECK(ok({"run", "--keep", "-b", "/b", "c"}).keep);
  a = ok({"list", "-q"});
  CHECK((a.cmd == command::list && a.quiet && !a.json));
  CHECK(ok({"list", "--format", "json"}).json);
  CHECK(ok({"--version"}).cmd == command::version);
  CHECK(ok({"-v"}).cmd == command::version);
  CHECK(ok({"features"}).cmd == command::features);
  CHECK(ok({}).cmd == command::help);
}

TEST_CASE("ovz-oci refuses what it does not know, naming it", "[ovz-oci]") {
  CHECK(refused({"frobnicate", "x"}) == "unknown command \"frobnicate\"");
  CHECK(refused({"--nosuch", "state", "x"}) == "unknown option --nosuch before the command");
  CHECK(refused({"create", "--nosuch", "x"}) == "unknown option --nosuch for create");
  CHECK(refused({"create", "--bundle"}) == "--bundle needs a value");
  CHECK(refused({"--log-format", "xml", "state", "x"}).find("neither text nor json") != std::string::npos);
  CHECK(refused({"kill", "c", "NOSIG"}) == "unknown signal \"NOSIG\"");
  CHECK(refused({"kill", "c", "0"}) == "no signal 0");
  CHECK(refused({"start"}) == "start needs exactly one container ID");
  CHECK(refused({"delete", "a", "b"}) == "delete needs exactly one container ID");
  CHECK(refused({"kill", "--all=yes", "c"}) == "--all=yes takes no value");
  CHECK(refused({"update", "c"}).find("needs --resources") != std::string::npos);
  CHECK(refused({"exec", "c"}) == "exec needs a command, or a process file (--process)");
  CHECK(refused({"create", "--detach", "c"}) == "unknown option --detach for create");
  CHECK(refused({"list", "c"}) == "list takes no container ID (\"c\")");
}
