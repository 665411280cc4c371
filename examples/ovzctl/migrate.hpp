#pragma once
// ovzctl migrate and migrate-receive: the transports around ve::migrate() and receive_ve(),
// which take one connected stream.

#include "ovzctl/args.hpp"

#include <ovz/result.hpp>
#include <ovz/ve.hpp>

namespace ovzctl {

/// Moves `v` to cmd.destination: local:PATH (receive_ve on a thread, over a socket pair) or
/// ssh://[USER@]HOST[:PORT][/ROOT] (`ovzctl migrate-receive` there, over ssh's stdin and
/// stdout; $OVZCTL_SSH names the ssh program).
ovz::result<int> do_migrate(ovz::ve& v, const command& cmd);

/// receive_ve into cmd.root, the stream being stdin and stdout (what ssh gives a command).
ovz::result<int> do_migrate_receive(const command& cmd);

}  // namespace ovzctl
