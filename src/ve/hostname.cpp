#include <ovz/namespaces.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/ns_thread.hpp"
#include "model/hostname.hpp"
#include "model/layout.hpp"
#include "ve/lock.hpp"
#include "ve/runtime.hpp"

#include <sched.h>
#include <unistd.h>


namespace ovz {
namespace {

// UTS namespaces are per thread: a short-lived thread joins the VE's and sets the name there,
// leaving the caller's threads untouched.
result<void> sethostname_in(pid_t init_pid, const std::string& name) {
  BOOST_OUTCOME_TRY(uts, ns_handle::open(init_pid, ns_type::uts));
  return detail::on_own_thread<void>("set the hostname", [&]() -> result<void> {
    if (::setns(uts.fd(), CLONE_NEWUTS) != 0)
      return detail::sys_fail(errno, "setns into the UTS namespace of PID {}", init_pid);
    if (::sethostname(name.data(), name.size()) != 0)
      return detail::sys_fail(errno, "sethostname {}", name);
    return success();
  });
}

}  // namespace

result<void> ve::set_hostname(const std::string& hostname, bool save) {
  const auto ctx = fmt::format("VE {}", id_.value());
  BOOST_OUTCOME_TRY(detail::check_hostname(hostname));
  auto l = detail::layout_of(root_, id_);
  auto lock = detail::ve_lock::acquire(l, id_);
  if (!lock) return lock.error();
  BOOST_OUTCOME_TRY(conf, config());
  BOOST_OUTCOME_TRY(cg, detail::host_cgroups());
  BOOST_OUTCOME_TRY(live, detail::probe(*cg, l));
  if (live.init_pid) {
    if (auto ok = sethostname_in(live.init_pid, hostname); !ok)
      return detail::with_context(ok.error(), ctx);
  }
  if (save || !live.init_pid) {
    BOOST_OUTCOME_TRY(conf.set("HOSTNAME", hostname));
    if (auto ok = conf.save(l.conf); !ok) return detail::with_context(ok.error(), ctx);
  }
  return success();
}

}  // namespace ovz
