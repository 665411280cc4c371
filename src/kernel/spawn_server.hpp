#pragma once
// The caller's spawn server: libovz's helper program kept running (ovz-spawn --serve), one per
// process, started on the first spawn that needs it. Each spawn hands it the plan and its
// descriptors, and it forks the spawn's first child as the caller's own (CLONE_PARENT): a
// fork of a small process instead of a program's start per spawn, which costs far more (on a
// VM most of all, where glibc's start-up traps to the hypervisor tens of times). A caller that
// forked gets a server of its own. The server ends when the caller closes its socket (at its
// exit at the latest); until then it is a child of the caller's, asleep.

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include <sys/types.h>

#include <span>
#include <string>
#include <string_view>

namespace ovz::detail {

struct served_child {
  pid_t pid = -1;
  unique_fd pidfd;
};

/// Starts libovz's helper program `helper` as `name` with the one argument `arg`, handing it
/// `fds` under their own numbers, with default signal dispositions and no signal blocked.
/// glibc's posix_spawn is a vfork: nothing of the caller's address space is copied.
result<pid_t> start_helper_program(const std::string& helper, const char* name,
                                   const std::string& arg, std::span<const int> fds);

/// The first child of a spawn, forked by the server of `helper` from `plan` (encode_plan's)
/// with `fds` (passed_fds's, at most max_passed_fds). A server that has ended is started anew once.
result<served_child> serve_spawn(const std::string& helper, std::string_view plan,
                                 std::span<const int> fds);

/// This process's socket to its server; -1 while it has none. The one descriptor libovz keeps
/// open between calls once a spawn started the server.
int spawn_server_socket();

}  // namespace ovz::detail
