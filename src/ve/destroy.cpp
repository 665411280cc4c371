#include <ovz/ve.hpp>

#include "fail.hpp"
#include "model/layout.hpp"
#include "ve/lock.hpp"
#include "ve/runtime.hpp"

namespace ovz {

result<void> ve::destroy() {
  const auto ctx = fmt::format("VE {}", id_.value());
  auto l = detail::layout_of(root_, id_);
  auto lock = detail::ve_lock::acquire(l, id_);
  if (!lock) return lock.error();
  std::error_code ec;
  if (!std::filesystem::exists(l.conf, ec))
    return detail::fail(errc::not_found, "{} does not exist", ctx);
  BOOST_OUTCOME_TRY(cg, detail::host_cgroups());
  BOOST_OUTCOME_TRY(live, detail::probe(*cg, l));
  if (live.init_pid)
    return detail::fail(errc::already_running, "{} is running: stop it first", ctx);
  if (auto ok = detail::clean_up(*cg, l); !ok) return detail::with_context(ok.error(), ctx);
  cg->remove_if_unused(l.cgroup_parent);

  // The private area is renamed away first and the config removed next, so that a crash
  // leaves either a whole VE or no VE plus a directory the next create removes.
  auto trash = l.private_dir.parent_path() / fmt::format(".{}.destroying", id_.value());
  std::filesystem::remove_all(trash, ec);
  if (std::filesystem::exists(l.private_dir, ec)) {
    std::filesystem::rename(l.private_dir, trash, ec);
    if (ec)
      return detail::sys_fail(ec.value(), "{}: rename {} to {}", ctx, l.private_dir.string(),
                              trash.string());
  }
  if (!std::filesystem::remove(l.conf, ec) && ec)
    return detail::sys_fail(ec.value(), "{}: remove {}", ctx, l.conf.string());
  for (const auto& p : {trash, l.mount_point, l.console_log}) {
    std::filesystem::remove_all(p, ec);
    if (ec) return detail::sys_fail(ec.value(), "{}: remove {}", ctx, p.string());
  }
  return success();
}

}  // namespace ovz
