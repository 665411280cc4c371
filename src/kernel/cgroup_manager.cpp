#include "kernel/cgroup_manager.hpp"

#include "kernel/cgroup_common.hpp"

#include <cerrno>

namespace ovz::detail {

int cgroup_birth::clone_fd() const noexcept { return held_ ? m_->clone_fd(*held_) : -1; }

result<void> cgroup_birth::admit(pid_t pid) {
  if (held_) return m_->attach(*held_, pid);
  BOOST_OUTCOME_TRY(made, m_->create_with(path_, pid));
  BOOST_OUTCOME_TRY(setup_(made));
  held_ = std::move(made);
  return success();
}

result<cgroup_birth> cgroup_manager::begin(const std::string& path, cgroup_setup setup) {
  cgroup_birth birth(*this, path, std::move(setup));
  if (needs_process()) return birth;
  BOOST_OUTCOME_TRY(made, create(path));
  BOOST_OUTCOME_TRY(birth.setup_(made));
  birth.held_ = std::move(made);
  return birth;
}

result<std::vector<pid_t>> cgroup_manager::procs(const ve_cgroup& cg) const {
  // Every hierarchy lists the VE's processes; v1 managers read the pids one, as by path.
  const cgroup_dir* d = cg.with("pids");
  return read_procs(d ? *d : cg.dirs.front().dir);
}

result<ve_cgroup> cgroup_manager::create_with(const std::string& path, pid_t pid) {
  BOOST_OUTCOME_TRY(made, create(path));
  BOOST_OUTCOME_TRY(attach(made, pid));
  return made;
}

result<void> cgroup_manager::attach_beside(const std::string& path, pid_t member, pid_t pid) {
  for (int moved = 0;; ++moved) {
    BOOST_OUTCOME_TRY(cg, open_of(path, member));
    auto joined = attach(cg, pid);
    if (joined || joined.error().sys_errno() != EBUSY || moved == 8) return joined;
  }
}

result<cgroup_usage> cgroup_manager::stats(const std::string& path) {
  auto cg = open(path);
  if (!cg) return cg.error().sys_errno() == ENOENT ? cgroup_usage{} : result<cgroup_usage>(cg.error());
  return resources().usage(*cg, nullptr);
}

result<std::uint64_t> cgroup_manager::cpu_time_us(const std::string& path) {
  auto cg = open(path);
  if (!cg && cg.error().sys_errno() == ENOENT) return std::uint64_t{0};
  if (!cg) return cg.error();
  return resources().cpu_time_us(*cg);
}

}  // namespace ovz::detail
