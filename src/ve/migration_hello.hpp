#pragma once
// What a migration's sender says first, and the receiver checks before the sender changes
// anything: KEY="value" lines as CTID.conf has them.

#include <ovz/config.hpp>
#include <ovz/ctid.hpp>
#include <ovz/result.hpp>

#include "ve/ve_op.hpp"

namespace ovz::detail {

/// How the VE runs once received: not at all (it was stopped), started (it was stopped for
/// the move), restored from the checkpoint sent with it.
enum class run_there { no, start, restore };

struct hello {
  ctid id;
  run_there run = run_there::no;
  std::string ostemplate;
  std::string arch;
};

/// The hello of the VE `op` moved as `how` says.
result<ve_config> hello_of(const ve_op& op, run_there how);

/// A hello as received: errc::peer_failed for another protocol version or a bad field.
result<hello> parse_hello(std::string_view text);

/// The host's machine type ("x86_64").
std::string host_machine();

}  // namespace ovz::detail
