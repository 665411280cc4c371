#include <ovz/namespaces.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "log.hpp"
#include "kernel/ns_thread.hpp"
#include "model/hostname.hpp"
#include "model/network.hpp"
#include "ve/change.hpp"
#include "ve/etc_files.hpp"
#include "ve/ve_tree.hpp"

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
    // The files first: what cannot be written (a full disk) leaves the name as it was.
    BOOST_OUTCOME_TRY(net, network_from_config(site.conf));
    BOOST_OUTCOME_TRY(settings, etc_settings_for(site.conf, hostname, net, {}));
    BOOST_OUTCOME_TRY(tree, running_tree(site.init_pid, site.conf));
    BOOST_OUTCOME_TRY(files, write_etc_files(tree, settings, etc_names));
    auto put_back = [pid = site.init_pid, conf = site.conf, files] {
      auto tree = running_tree(pid, conf);
      if (!tree) {
        logged(result<void>(tree.error()), "rollback of /etc/hostname and /etc/hosts");
        return;
      }
      logged(restore_etc_files(*tree, files), "rollback of /etc/hostname and /etc/hosts");
    };
    auto before = sethostname_in(site.init_pid, hostname);
    if (!before) {
      put_back();
      return before.error();
    }
    undo = [pid = site.init_pid, before = *before, put_back] {
      logged(sethostname_in(pid, before), "rollback of the hostname to " + before);
      put_back();
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
