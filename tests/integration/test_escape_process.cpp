// From inside a VE, processes that are not the VE's are out of reach: the host's and another
// VE's cannot be traced, signalled, opened by pidfd, read, or looked at in /proc, and are
// untouched afterwards; a debugger still works on the VE's own processes. CTIDs 1155-1156.

#include "support/escape_probe.hpp"
#include "support/temp_root.hpp"

#include <ovz/ve.hpp>

#include "kernel/cgroup_manager.hpp"
#include "model/layout.hpp"
#include "ve/locate.hpp"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

using namespace ovz;
using ovz::test::temp_root;

namespace {

std::string proc_file(pid_t pid, const char* name) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/" + name);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// True once the process runs the probe's hold mode (its exe, not a shell about to exec it).
bool holds_secret(pid_t pid) {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
  return !ec && exe.filename().string().ends_with("escape_probe") &&
         proc_file(pid, "cmdline").find("hold") != std::string::npos;
}

// A host process holding a secret (the probe's hold mode), killed at scope exit.
class held_process {
 public:
  held_process() : pid_(::fork()) {
    if (pid_ == 0) {
      const auto probe = test::escape_probe().string();
      ::execl(probe.c_str(), probe.c_str(), "hold", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    REQUIRE(pid_ > 0);
    while (test::pid_alive(pid_) && !holds_secret(pid_)) ::usleep(1000);  // until it exec'd
  }
  ~held_process() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  held_process(const held_process&) = delete;
  held_process& operator=(const held_process&) = delete;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

// The host PID of the VE's process running the probe's hold mode, once it runs it (the
// shell that started it in the background may have returned before its exec).
pid_t held_in(const temp_root& root, const ve& v) {
  auto cg = MUST(detail::host_cgroups());
  for (int tries = 0; tries < 10000; ++tries) {
    for (pid_t pid : MUST(cg->procs(MUST(detail::locate(root.path(), v.id())).cgroup)))
      if (holds_secret(pid)) return pid;
    ::usleep(1000);
  }
  FAIL("no held process in VE " << v.id().value());
  return 0;
}

// Alive, neither stopped nor traced.
void check_untouched(pid_t pid) {
  INFO("PID " << pid);
  REQUIRE(test::pid_alive(pid));
  auto stat = proc_file(pid, "stat");
  auto state = stat.substr(stat.rfind(')') + 2, 1);
  CHECK((state == "S" || state == "R"));
  CHECK(proc_file(pid, "status").find("\nTracerPid:\t0\n") != std::string::npos);
}

}  // namespace

TEST_CASE("the host's and other VEs' processes are out of a VE's reach, its own are not",
          "[isolation]") {
  test::require_root();
  temp_root root;
  auto attacker = root.open(1155);
  auto other = root.open(1156);
  for (auto* v : {&attacker, &other}) {
    MUST(v->create());
    test::install_escape_probe(root, *v);
    MUST(v->start());
  }
  held_process host;
  MUST(other.exec({"/bin/sh", "-c", "/escape_probe hold </dev/null >/dev/null 2>&1 &"}));
  const pid_t in_other = held_in(root, other);
  const pid_t other_init = MUST(other.status()).init_pid;

  auto r = MUST(attacker.exec({"/escape_probe", "procs", "host=" + std::to_string(host.pid()),
                               "ve=" + std::to_string(in_other),
                               "ve_init=" + std::to_string(other_init)}));
  INFO(r.err);
  for (const char* target : {"host", "ve", "ve_init"}) {
    const std::string t = target;
    test::check_refused(r.out, {(t + "_ptrace").c_str(), (t + "_pidfd_open").c_str(),
                                (t + "_process_vm_readv").c_str(), (t + "_proc_mem").c_str(),
                                (t + "_proc_root").c_str(), (t + "_kill").c_str()});
  }
  CHECK(r.exit_code == 0);
  // The VE is not crippled: its root debugs its own processes.
  CHECK(r.out.find("ptrace_own_child works") != std::string::npos);

  check_untouched(host.pid());
  check_untouched(in_other);
  CHECK(MUST(other.status()).state == ve_state::running);
  CHECK(MUST(other.exec({"/bin/true"})).exit_code == 0);
  MUST(attacker.stop({.fast = true}));
  MUST(other.stop({.fast = true}));
}
