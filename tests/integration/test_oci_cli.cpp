// The ovz-oci program speaks runc's command line, as Podman and containerd's shim call it.

#include "support/bundle.hpp"
#include "support/program.hpp"
#include "support/temp_root.hpp"
#include "support/text_file.hpp"

#include <ovz/oci_container.hpp>

#include <fmt/format.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

using namespace ovz;
using Catch::Contains;
using ovz::test::bundle;
namespace fs = std::filesystem;

TEST_CASE("ovz-oci speaks runc's command line", "[oci][ovz-oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  b.configure("sleep 30");
  const std::string r = root.path().string();
  auto oci = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {OVZ_OCI_PATH, "--root", r});
    return test::run_program(std::move(args));
  };
  // The container keeps create's stdio: a file here, as conmon's pipes are its own.
  const auto pid_file = root.path() / "pidfile";
  auto made = test::run_program(
      {"/bin/sh", "-c",
       fmt::format("exec {} --root {} create --bundle={} --pid-file {} cli-1 >{} 2>&1",
                   OVZ_OCI_PATH, r, b.dir.string(), pid_file.string(),
                   (root.path() / "create.out").string())});
  INFO(test::read_text(root.path() / "create.out"));
  REQUIRE(made.exit_code == 0);
  const std::string pid = test::read_text(pid_file);
  CHECK(pid.find_first_not_of("0123456789") == std::string::npos);

  auto state = oci({"state", "cli-1"});
  CHECK(state.exit_code == 0);
  CHECK_THAT(state.out, Contains("\"ociVersion\": \"1.1.0\","));
  CHECK_THAT(state.out, Contains("\"status\": \"created\""));
  CHECK_THAT(state.out, Contains(fmt::format("\"pid\": {},", pid)));
  CHECK_THAT(state.out, Contains(fmt::format("\"rootfs\": \"{}/rootfs\",", b.dir.string())));
  CHECK_THAT(state.out, Contains("\"org.openvz.ubc.numproc\": \"24:24\""));
  CHECK(oci({"start", "cli-1"}).exit_code == 0);
  auto ps = oci({"ps", "--format", "json", "cli-1"});
  CHECK(ps.exit_code == 0);
  CHECK(ps.out == fmt::format("[{}]\n", pid));
  auto in = oci({"exec", "cli-1", "/bin/sh", "-c", "echo from $(hostname); exit 4"});
  CHECK(in.exit_code == 4);
  CHECK(in.out == "from oci-test\n");
  const auto process_file = root.path() / "process.json";
  std::ofstream(process_file) << R"({"args": ["/bin/sleep", "20"], "cwd": "/", "env": ["PATH=/bin"]})";
  const auto exec_pid_file = root.path() / "exec.pid";
  // Detached, the process keeps exec's stdio: a file here too.
  auto detached = test::run_program(
      {"/bin/sh", "-c",
       fmt::format("exec {} --root {} exec --process {} --detach --pid-file {} cli-1 >{} 2>&1",
                   OVZ_OCI_PATH, r, process_file.string(), exec_pid_file.string(),
                   (root.path() / "exec.out").string())});
  CHECK(detached.exit_code == 0);
  CHECK(test::read_text(root.path() / "exec.out").empty());
  const std::string exec_pid = test::read_text(exec_pid_file);
  CHECK_THAT(oci({"ps", "--format", "json", "cli-1"}).out, Contains(exec_pid));
  CHECK(oci({"kill", "cli-1", "KILL"}).exit_code == 0);
  for (int i = 0; i < 500 && oci({"state", "cli-1"}).out.find("stopped") == std::string::npos; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK_THAT(oci({"state", "cli-1"}).out, Contains("\"pid\": 0,"));
  CHECK(oci({"delete", "cli-1"}).exit_code == 0);

  auto unknown = oci({"state", "cli-1"});
  CHECK(unknown.exit_code == 1);
  CHECK(unknown.out.empty());
  CHECK_THAT(unknown.err, Contains("container does not exist"));
  CHECK(oci({"delete", "--force", "cli-1"}).exit_code == 0);
  CHECK(oci({"kill", "cli-1", "9"}).exit_code == 1);
  const auto log = root.path() / "oci-log";
  auto logged = oci({"--log", log.string(), "--log-format=json", "start", "cli-1"});
  CHECK(logged.exit_code == 1);
  const std::string line = test::read_text(log);
  CHECK_THAT(line, Catch::Matches(R"(\{"level":"error","msg":"container does not exist: cli-1","time":"[0-9T:-]+Z"\}\n)"));
  CHECK_THAT(oci({"--version"}).out, Catch::StartsWith("ovz-oci version ") &&
                                         Contains("\nspec: 1.1.0\n"));
  auto features = oci({"features"});
  CHECK(features.exit_code == 0);
  CHECK_THAT(features.out, Contains("\"org.openvz.ubc.numproc\""));
  CHECK_THAT(features.out, Contains("\"CAP_SYS_ADMIN\""));
  CHECK_THAT(features.out, Contains("\"createContainer\", \"startContainer\""));
  CHECK_THAT(features.out, Contains("\"pid\", \"user\", \"uts\""));
  CHECK_THAT(features.out, Contains("\"seccomp\": {\"enabled\": true, \"actions\": [\"SCMP_ACT_ALLOW\""));
  CHECK_THAT(features.out, Contains("\"SCMP_CMP_MASKED_EQ\"]"));
  CHECK_THAT(features.out, Contains("\"rbind\", \"idmap\", \"ridmap\"]"));
  CHECK_THAT(features.out, Contains("\"mountExtensions\": {\"idmap\": {\"enabled\": true}}"));
  auto bad = oci({"kill", "--nosuch", "x"});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Contains("unknown option --nosuch for kill"));
  CHECK(test::leftovers(root).empty());
}
