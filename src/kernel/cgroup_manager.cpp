#include "kernel/cgroup_manager.hpp"

#include <cerrno>

namespace ovz::detail {

result<cgroup_usage> cgroup_manager::stats(const std::string& path) {
  auto cg = open(path);
  if (!cg) return cg.error().sys_errno() == ENOENT ? cgroup_usage{} : result<cgroup_usage>(cg.error());
  return resources().usage(*cg);
}

}  // namespace ovz::detail
