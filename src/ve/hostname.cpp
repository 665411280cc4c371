#include <ovz/namespaces.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "log.hpp"
#include "kernel/ns_thread.hpp"
#include "model/hostname.hpp"
#include "ve/change.hpp"

#include <sched.h>
#include <sys/utsname.h>
#include <unistd.h>

namespace ovz::inline v0 {
namespace {

// UTS namespaces are per thread: a short-lived thread joins the VE's and sets the name there,
// leaving the caller's threads untouched. Returns the name it replaced.
result<std::string> sethostname_in(pid_t init_pid, const std::string& name) {
  BOOST_OUTCOME_TRY(uts, ns_handle::open(init_pid, ns_type::uts));
  return detail::on_own_thread<std::string>("set the hostname", [&]() -> result<std::string> {
    if (::setns(uts.fd(), CLONE_NEWUTS) != 0)
      return detail::sys_fail(errno, "setns into the UTS namespace of PID {}", init_pid);
    struct utsname before {};
    if (::uname(&before) != 0) return detail::sys_fail(errno, "uname");
    if (::sethostname(name.data(), name.size()) != 0)
      return detail::sys_fail(errno, "sethostname {}", name);
    return std::string(before.nodename);
  });
}

}  // namespace

}  // namespace ovz::inline v0

namespace ovz::detail {

result<undo_step> change_hostname(change_site& site, const std::string& hostname) {
  undo_step undo;
  if (site.init_pid) {
    BOOST_OUTCOME_TRY(before, sethostname_in(site.init_pid, hostname));
    undo = [pid = site.init_pid, before] {
      logged(sethostname_in(pid, before), "rollback of the hostname to " + before);
    };
  }
  if (site.writes_conf()) {
    if (auto ok = site.conf.set("HOSTNAME", hostname); !ok) {
      if (undo) undo();
      return ok.error();
    }
  }
  return undo;
}

}  // namespace ovz::detail

namespace ovz::inline v0 {

result<void> ve::set_hostname(const std::string& hostname, bool save) {
  return apply({.hostname = hostname}, save);
}

}  // namespace ovz::inline v0
