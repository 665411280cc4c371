// The records the library returns, read-only in Python: VEStatus, BatchEntry, Beancounter,
// DiskUsage, DiskQuota, UgidQuota, Template.

#include "convert.hpp"
#include "defines.hpp"

#include <ovz/beancounter.hpp>
#include <ovz/disk_quota.hpp>
#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include <string>

namespace ovz_python {

namespace {

std::string repr_status(const ovz::ve_status& s) {
  return "VEStatus(ctid=" + s.id.str() + ", state='" + ovz::to_string(s.state) +
         "', init_pid=" + std::to_string(s.init_pid) + ", nproc=" + std::to_string(s.nproc) +
         (s.suspended ? ", suspended=True" : "") +
         ", hostname=" + py::repr(py::str(s.hostname)).cast<std::string>() + ")";
}

std::string repr_stat(const ovz::ubc_stat& s) {
  return std::string("Beancounter(resource='") + ovz::to_string(s.resource) +
         "', held=" + std::to_string(s.held) + ", maxheld=" + std::to_string(s.maxheld) +
         ", barrier=" + std::to_string(s.barrier) + ", limit=" + std::to_string(s.limit) +
         ", failcnt=" + std::to_string(s.failcnt) + ")";
}

}  // namespace

void define_records(py::module_& m) {
  py::class_<ovz::ve_status>(m, "VEStatus", "What `vzctl status` and `vzlist` show of one VE.")
      .def_property_readonly("ctid", [](const ovz::ve_status& s) { return s.id.value(); },
                             "The CTID.")
      .def_property_readonly(
          "state", [](const ovz::ve_status& s) { return ovz::to_string(s.state); },
          "'absent', 'stopped' or 'running'.")
      .def_readonly("mounted", &ovz::ve_status::mounted,
                    "The root filesystem is mounted (in the VE's mount namespace).")
      .def_readonly("init_pid", &ovz::ve_status::init_pid,
                    "Host PID of the VE's init, 0 when not running.")
      .def_readonly("nproc", &ovz::ve_status::nproc, "Processes in the VE.")
      .def_readonly("suspended", &ovz::ve_status::suspended,
                    "Running, but frozen by VE.suspend().")
      .def_readonly("hostname", &ovz::ve_status::hostname, "The VE's hostname.")
      .def_readonly("ostemplate", &ovz::ve_status::ostemplate,
                    "The template the VE was made from.")
      .def("__repr__", &repr_status);

  py::class_<ovz::ve_batch_entry>(m, "BatchEntry",
                                  "What start_all() or stop_all() did to one VE.")
      .def_property_readonly("ctid", [](const ovz::ve_batch_entry& b) { return b.id.value(); },
                             "The CTID.")
      .def_readonly("done", &ovz::ve_batch_entry::done,
                    "Started (stopped); False when it ran (was stopped) already, or failed.")
      .def_property_readonly(
          "failure",
          [](const ovz::ve_batch_entry& b) -> py::object {
            return b.failure ? to_exception(*b.failure) : py::none();
          },
          "Why it could not be started (stopped): the ovz.Error its own call would have "
          "raised; None when it did not fail.")
      .def("__repr__", [](const ovz::ve_batch_entry& b) {
        return "BatchEntry(ctid=" + b.id.str() + ", done=" + (b.done ? "True" : "False") +
               (b.failure ? ", failure=" + py::repr(to_exception(*b.failure)).cast<std::string>()
                          : std::string()) +
               ")";
      });

  py::class_<ovz::ubc_stat>(m, "Beancounter",
                            "One line of /proc/user_beancounters, in OpenVZ's units (pages "
                            "for *pages, bytes or counts otherwise).")
      .def_property_readonly("resource",
                             [](const ovz::ubc_stat& s) { return ovz::to_string(s.resource); },
                             "The resource: 'numproc', 'physpages', ...")
      .def_readonly("held", &ovz::ubc_stat::held, "Currently held.")
      .def_readonly("maxheld", &ovz::ubc_stat::maxheld, "The peak of held.")
      .def_readonly("barrier", &ovz::ubc_stat::barrier, "The barrier (UNLIMITED for none).")
      .def_readonly("limit", &ovz::ubc_stat::limit, "The limit (UNLIMITED for none).")
      .def_readonly("failcnt", &ovz::ubc_stat::failcnt, "Refusals the kernel counted.")
      .def_readonly("measured", &ovz::ubc_stat::measured,
                    "The host can measure held/maxheld (else they read 0).")
      .def_readonly("enforced", &ovz::ubc_stat::enforced,
                    "The host enforces the limit (known only while the VE runs).")
      .def("__repr__", &repr_stat);

  py::class_<ovz::disk_usage>(m, "DiskUsage",
                              "One row of `vzquota stat`: usage against the limits.")
      .def_readonly("usage", &ovz::disk_usage::usage, "In use now.")
      .def_readonly("soft", &ovz::disk_usage::soft, "The soft limit.")
      .def_readonly("hard", &ovz::disk_usage::hard, "The hard limit.")
      .def_readonly("grace", &ovz::disk_usage::grace,
                    "Seconds left before an exceeded soft limit acts as hard; None when none is "
                    "exceeded or the kernel does not enforce it.")
      .def("__repr__", [](const ovz::disk_usage& u) {
        return "DiskUsage(usage=" + std::to_string(u.usage) + ", soft=" + std::to_string(u.soft) +
               ", hard=" + std::to_string(u.hard) +
               ", grace=" + (u.grace ? std::to_string(*u.grace) : std::string("None")) + ")";
      });

  py::class_<ovz::disk_quota>(m, "DiskQuota",
                              "A VE's disk quota (VE.quota()); str() of it is `vzquota stat`'s "
                              "table, as `ovzctl quota` prints it.")
      .def_readonly("blocks", &ovz::disk_quota::blocks, "DiskUsage in 1 KiB blocks (DISKSPACE).")
      .def_readonly("inodes", &ovz::disk_quota::inodes, "DiskUsage of inodes (DISKINODES).")
      .def_readonly("quotatime", &ovz::disk_quota::quotatime, "QUOTATIME, seconds.")
      .def_readonly("soft_enforced", &ovz::disk_quota::soft_enforced,
                    "The kernel holds the VE to its soft limits and grace time; False where it "
                    "has no quota (the hard limits hold anyway: they are the image's size and "
                    "inode count).")
      .def("__str__", &ovz::format_disk_quota)
      .def("__repr__", [](const ovz::disk_quota& q) {
        return "DiskQuota(blocks=" + py::repr(py::cast(q.blocks)).cast<std::string>() +
               ", inodes=" + py::repr(py::cast(q.inodes)).cast<std::string>() +
               ", quotatime=" + std::to_string(q.quotatime) +
               ", soft_enforced=" + (q.soft_enforced ? "True" : "False") + ")";
      });

  py::class_<ovz::ugid_quota>(m, "UgidQuota",
                              "A user's or group's quota inside a VE (VE.ugid_quotas()), the "
                              "second level: what its files take against its own limits.")
      .def_property_readonly(
          "owner",
          [](const ovz::ugid_quota& q) {
            return py::make_tuple(
                q.owner.type == ovz::quota_ugid::kind::user ? "user" : "group", q.owner.id);
          },
          "('user', uid) or ('group', gid), the id as inside the VE.")
      .def_readonly("blocks", &ovz::ugid_quota::blocks, "DiskUsage in 1 KiB blocks (0: no limit).")
      .def_readonly("inodes", &ovz::ugid_quota::inodes, "DiskUsage of inodes (0: no limit).")
      .def("__repr__", [](const ovz::ugid_quota& q) {
        return std::string("UgidQuota(owner=('") +
               (q.owner.type == ovz::quota_ugid::kind::user ? "user" : "group") + "', " +
               std::to_string(q.owner.id) +
               "), blocks=" + py::repr(py::cast(q.blocks)).cast<std::string>() +
               ", inodes=" + py::repr(py::cast(q.inodes)).cast<std::string>() + ")";
      });

  py::class_<ovz::template_info>(m, "Template", "An OS template under a state root.")
      .def_readonly("name", &ovz::template_info::name, "The template's name.")
      .def_readonly("path", &ovz::template_info::path, "Its unpacked root filesystem.")
      .def_readonly("builtin", &ovz::template_info::builtin,
                    "The built-in busybox template.")
      .def("__repr__", [](const ovz::template_info& t) {
        return "Template(name=" + py::repr(py::str(t.name)).cast<std::string>() + ")";
      });
}

}  // namespace ovz_python
