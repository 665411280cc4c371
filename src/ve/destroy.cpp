#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/fault.hpp"
#include "kernel/files.hpp"
#include "model/layout.hpp"
#include "ve/locate.hpp"
#include "ve/lock.hpp"
#include "ve/live_state.hpp"

namespace ovz::inline v0 {

result<void> ve::destroy() {
  const auto ctx = fmt::format("VE {}", id_.value());
  BOOST_OUTCOME_TRY(l, detail::locate(root_, id_));
  auto lock = detail::ve_lock::acquire(l, id_);
  if (!lock) return lock.error();
  std::error_code ec;
  const bool exists = std::filesystem::exists(l.conf, ec);
  if (ec) return detail::sys_fail(ec.value(), "{}: stat {}", ctx, l.conf.string());
  BOOST_OUTCOME_TRY(cg, detail::host_cgroups());
  BOOST_OUTCOME_TRY(live, detail::probe(*cg, l));
  if (live.init_pid)
    return detail::fail(errc::already_running, "{} is running: stop it first", ctx);

  // The config goes first, and for good (its directory synced) before any data: a VE exists
  // while its config does, so a crash at any step leaves a whole VE or none. Data left without
  // a config is removed by the next create or destroy of the CTID.
  if (exists) {
    if (auto ok = detail::clean_up(*cg, l); !ok) return detail::with_context(ok.error(), ctx);
    cg->remove_if_unused(l.cgroup_parent);
    if (!std::filesystem::remove(l.conf, ec) && ec)
      return detail::sys_fail(ec.value(), "{}: remove {}", ctx, l.conf.string());
    if (auto ok = detail::sync_dir(l.conf.parent_path().string()); !ok)
      return detail::with_context(ok.error(), ctx);
    detail::fault_point("destroy:config-removed");
  }
  for (const auto& p : {l.private_dir, l.mount_point, l.console_log, l.console_log_rotated}) {
    std::filesystem::remove_all(p, ec);
    if (ec) return detail::sys_fail(ec.value(), "{}: remove {}", ctx, p.string());
  }
  if (!exists) return detail::fail(errc::not_found, "{} does not exist", ctx);
  return success();
}

}  // namespace ovz::inline v0
