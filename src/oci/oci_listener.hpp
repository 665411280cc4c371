#pragma once
// The seccomp listener of an OCI container's process, handed to the agent at
// linux.seccomp.listenerPath as the runtime-spec has it: the process makes the listener when it
// installs its filter and sends it over a socket of ours, and a thread of ours passes it on at
// once, with the container process's state. Passed on only after the spawn returned, it would
// reach the agent too late for a call the process makes before it waits at its start gate
// (setresuid, capset…), and that call would wait for ever.

#include <ovz/fd.hpp>
#include <ovz/oci_bundle.hpp>
#include <ovz/result.hpp>

#include <sys/types.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

namespace ovz::detail {

class seccomp_agent_link {
 public:
  /// The container's state JSON as the agent is to see it, for the PID of the process.
  using state_of = std::function<std::string(pid_t)>;
  /// Ready for one process confined by `s`'s filter: connected to the agent.
  static result<std::unique_ptr<seccomp_agent_link>> open(const oci_seccomp& s, state_of state);
  ~seccomp_agent_link();

  /// The socket the process sends its listener over (spawn_spec::seccomp_listener_socket).
  int process_end() const noexcept { return theirs_.get(); }
  /// The process's PID, told before it installs its filter (a spawn's prepare step).
  void set_pid(pid_t pid) noexcept { pid_.store(pid); }
  pid_t pid() const noexcept { return pid_.load(); }
  /// Once the spawn returned: whether the listener reached the agent (asked again, the same
  /// answer). An error names what refused it (the agent's socket, the message); where none
  /// came (the spawn failed first), there is nothing to say.
  result<void> finish();

 private:
  seccomp_agent_link(const oci_seccomp& s, state_of state);
  void run() noexcept;
  result<void> hand_over(int listener) const;

  std::string path_, metadata_;
  state_of state_;
  unique_fd agent_, ours_, theirs_;
  std::atomic<pid_t> pid_{0};
  std::optional<result<void>> outcome_;  // the thread's, read after it is joined
  std::thread thread_;
};

}  // namespace ovz::detail
