// An OCI container's seccomp filter: calls refused by name and argument, and those handed to
// the agent at linux.seccomp.listenerPath.

#include "support/bundle.hpp"
#include "support/program.hpp"
#include "support/temp_root.hpp"

#include "kernel/fd_passing.hpp"
#include "kernel/seccomp_notify.hpp"

#include <ovz/oci_container.hpp>

#include <fmt/format.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <poll.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

using namespace ovz;
using Catch::Contains;
using ovz::test::bundle;
using ovz::test::pipe_pair;
using ovz::test::wait_stopped;
using ovz::test::output_of;
namespace fs = std::filesystem;

TEST_CASE("an OCI container's seccomp profile refuses calls by name and by argument", "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  fs::create_symlink("busybox", b.dir / "rootfs/bin/chmod");
  fs::create_symlink("busybox", b.dir / "rootfs/bin/mkdir");
  // mkdir refused whatever its arguments; chmod only to mode 0777 (fchmodat's third argument,
  // chmod's second); a name this libseccomp does not know is left out.
  b.configure(
      "mkdir /tmp/d 2>/dev/null && echo mkdir ok || echo mkdir refused; touch /tmp/f; "
      "chmod 644 /tmp/f && echo 644 ok; chmod 777 /tmp/f 2>/dev/null || echo 777 refused; "
      "grep ^Seccomp: /proc/self/status",
      "",
      R"(, "seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
            "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
            "syscalls": [
              {"names": ["mkdir", "mkdirat", "no_such_call_yet"], "action": "SCMP_ACT_ERRNO"},
              {"names": ["fchmodat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
               "args": [{"index": 2, "value": 511, "op": "SCMP_CMP_EQ"}]},
              {"names": ["chmod"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
               "args": [{"index": 1, "value": 511, "op": "SCMP_CMP_EQ"}]}]})");
  CHECK(output_of(root, "s1", b.dir) == "mkdir refused\n644 ok\n777 refused\nSeccomp:\t2\n");
  CHECK(test::leftovers(root).empty());
}

namespace {

// A seccomp agent, what linux.seccomp.listenerPath names: a listening socket, and the
// messages and listeners that arrive there.
struct seccomp_agent {
  explicit seccomp_agent(const fs::path& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    REQUIRE(path.string().size() < sizeof a.sun_path);
    std::strcpy(a.sun_path, path.c_str());
    sock.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(::bind(sock.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(sock.get(), 4) == 0);
  }
  // The next process's state message, and its listener.
  std::pair<std::string, unique_fd> next() const {
    pollfd p{sock.get(), POLLIN, 0};
    REQUIRE(::poll(&p, 1, 5000) == 1);
    unique_fd c(::accept4(sock.get(), nullptr, nullptr, SOCK_CLOEXEC));
    REQUIRE(c);
    auto m = MUST(detail::receive_with_fds(c.get(), 4096, 1, "the agent's message"));
    REQUIRE(m);
    REQUIRE(m->fds.size() == 1);
    return {m->bytes, std::move(m->fds.front())};
  }
  unique_fd sock;
};

// Answers the next call `listener` hands over: `error`, or with 0 the kernel runs it.
std::string answer_next(int listener, int error) {
  pollfd p{listener, POLLIN, 0};
  REQUIRE(::poll(&p, 1, 5000) == 1);
  auto notice = MUST(detail::receive_notice(listener));
  REQUIRE(notice);
  if (error) {
    detail::answer(listener, notice->id, error);
  } else {
    detail::let_kernel_run(listener, notice->id);
  }
  return notice->name;
}

}  // namespace

TEST_CASE("an OCI container's SCMP_ACT_NOTIFY calls go to the agent at listenerPath", "[oci]") {
  test::require_root();
  test::temp_root root;
  bundle b(root.path() / "bundle");
  fs::create_symlink("busybox", b.dir / "rootfs/bin/mkdir");
  const auto agent_path = root.path() / "agent";
  auto seccomp = [&](const std::string& rules) {
    return fmt::format(R"(, "seccomp": {{"defaultAction": "SCMP_ACT_ALLOW",
        "listenerPath": "{}", "listenerMetadata": "meta \"1\"", "syscalls": [{}]}})",
                       agent_path.string(), rules);
  };
  const std::string notify_mkdir = R"({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"})";
  b.configure("mkdir /tmp/a 2>/dev/null && echo made a || echo refused a; read x; "
              "mkdir /tmp/b && echo made b; ls /tmp",
              "", seccomp(notify_mkdir));

  // No agent listening: refused before anything is made.
  auto alone = oci_container::create(root.path(), "n0", b.dir);
  REQUIRE_FALSE(alone);
  CHECK(alone.error().code() == std::error_code(ENOENT, std::system_category()));
  CHECK_THAT(alone.error().message(),
             Contains("connect to linux.seccomp.listenerPath " + agent_path.string()));
  CHECK(test::leftovers(root).empty());

  seccomp_agent agent(agent_path);
  pipe_pair in, out;
  oci_io io;
  io.stdin_fd = in.r.get();
  io.stdout_fd = out.w.get();
  auto c = MUST(oci_container::create(root.path(), "n1", b.dir, io));
  const pid_t pid = MUST(c.state()).pid;
  // The runtime-spec's container process state, with the listener, while it is created.
  auto [said, listener] = agent.next();
  CHECK_THAT(said, Contains(R"("ociVersion": "1.1.0", "fds": ["seccompFd"])"));
  CHECK_THAT(said, Contains(fmt::format(R"("pid": {}, "metadata": "meta \"1\"")", pid)));
  CHECK_THAT(said, Contains(R"("status": "creating")") && Contains(R"("id": "n1")"));
  MUST(c.start());
  // Its mkdir waits for the agent's answer: refused, then let through.
  CHECK(answer_next(listener.get(), EACCES).starts_with("mkdir"));
  REQUIRE(::write(in.w.get(), "go\n", 3) == 3);
  CHECK(answer_next(listener.get(), 0).starts_with("mkdir"));
  in.w.reset();
  REQUIRE(wait_stopped(c));
  CHECK(out.drain() == "refused a\nmade b\nb\n");
  MUST(c.destroy());

  // A process exec starts in it has its own listener, sent the same way.
  b.configure("exec sleep 30", "", seccomp(notify_mkdir));
  auto running = MUST(oci_container::create(root.path(), "n2", b.dir));
  (void)agent.next();
  MUST(running.start());
  oci_process p;
  p.args = {"/bin/mkdir", "/tmp/x"};
  p.cwd = "/";
  pipe_pair err;
  oci_io exec_io;
  exec_io.stderr_fd = err.w.get();
  auto waiter = MUST(running.exec(p, exec_io, false));
  auto [exec_said, exec_listener] = agent.next();
  CHECK_THAT(exec_said, Contains(R"("status": "running")"));
  CHECK(answer_next(exec_listener.get(), EPERM).starts_with("mkdir"));
  CHECK(MUST(waiter.wait()) == 1);
  CHECK_THAT(err.drain(), Contains("Operation not permitted"));
  MUST(running.destroy(true));

  // What cannot work is refused, naming it.
  for (const auto& [rules, expect] :
       {std::pair<std::string, std::string>{
            R"({"names": ["sendmsg"], "action": "SCMP_ACT_NOTIFY"})",
            "SCMP_ACT_NOTIFY cannot take sendmsg"},
        {R"({"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY", "args": [{"index": 1, "value": 0, "op": "SCMP_CMP_EQ"}]})",
         "SCMP_ACT_NOTIFY with conditions on arguments is not supported"}}) {
    b.configure("true", "", seccomp(rules));
    auto refused = oci_container::create(root.path(), "n3", b.dir);
    REQUIRE_FALSE(refused);
    CHECK_THAT(refused.error().message(), Contains(expect));
  }
  b.configure("true", "", R"(, "seccomp": {"defaultAction": "SCMP_ACT_ALLOW",
      "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]})");
  auto nowhere = oci_container::create(root.path(), "n4", b.dir);
  REQUIRE_FALSE(nowhere);
  CHECK(nowhere.error().code() == errc::bad_config);
  CHECK_THAT(nowhere.error().message(), Contains("SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath"));
  b.configure("true", "", fmt::format(R"(, "seccomp": {{"defaultAction": "SCMP_ACT_NOTIFY",
      "listenerPath": "{}"}})", agent_path.string()));
  auto every_call = oci_container::create(root.path(), "n5", b.dir);
  REQUIRE_FALSE(every_call);
  CHECK_THAT(every_call.error().message(),
             Contains("linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default"));
  CHECK(test::leftovers(root).empty());
}
