#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/fault.hpp"
#include "kernel/files.hpp"
#include "model/layout.hpp"
#include "ve/live_state.hpp"
#include "ve/storage.hpp"
#include "ve/locked_ops.hpp"
#include "ve/ve_op.hpp"

namespace ovz::detail {

result<void> destroy_locked(ve_op& op) {
  const auto& l = op.layout;
  std::error_code ec;
  const bool exists = std::filesystem::exists(l.conf, ec);
  if (ec) return detail::sys_fail(ec.value(), "stat {}", l.conf.string());
  if (op.live.init_pid)
    return detail::fail(errc::already_running, "{} is running: stop it first", op.context());
  // Read before the config goes. Removing needs no template; a config gone or unreadable (a
  // crashed destroy) leaves the default storage's area to remove.
  const auto conf = ve_config::load(l.conf);
  const auto storage = detail::storage_for(detail::storage_kind_of(l), conf ? *conf : ve_config{}, l, {});

  // The config goes first, and for good (its directory synced) before any data: a VE exists
  // while its config does, so a crash at any step leaves a whole VE or none. Data left
  // without a config is removed by the next create or destroy of the CTID.
  if (exists) {
    BOOST_OUTCOME_TRY(detail::clean_up(op.host(), l));
    op.cg().remove_if_unused(l.cgroup_parent);
    if (!std::filesystem::remove(l.conf, ec) && ec)
      return detail::sys_fail(ec.value(), "remove {}", l.conf.string());
    BOOST_OUTCOME_TRY(detail::sync_dir(l.conf.parent_path().string()));
    detail::fault_point("destroy:config-removed");
  }
  BOOST_OUTCOME_TRY(storage->remove_area());
  for (const auto& p : {l.console_log, l.console_log_rotated, l.dump, l.pre_dumps}) {
    std::filesystem::remove_all(p, ec);
    if (ec) return detail::sys_fail(ec.value(), "remove {}", p.string());
  }
  if (!exists) return detail::fail(errc::not_found, "{} does not exist", op.context());
  return success();
}

}  // namespace ovz::detail

namespace ovz::inline v0 {

result<void> ve::destroy() {
  return detail::ve_op::run(*this, {.lock = true, .live = true}, detail::destroy_locked);
}

}  // namespace ovz::inline v0
