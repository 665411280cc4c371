// cgroup v2: one unified hierarchy. Controllers must be enabled in each ancestor's
// cgroup.subtree_control before a VE's cgroup gets their files.

#include "kernel/cgroup.hpp"
#include "kernel/cgroup_common.hpp"
#include "kernel/files.hpp"

#include <sys/stat.h>

#include <sstream>

namespace ovz::detail {
namespace {

constexpr const char* wanted[] = {"cpuset", "cpu", "io", "memory", "pids"};

// Enables what the parent offers of the controllers VEs use. A controller that cannot be
// enabled (offered by no ancestor, or a threaded subtree) is left off here; whoever needs its
// files reports that it is missing.
result<void> enable_controllers(const std::string& parent) {
  BOOST_OUTCOME_TRY(offered, read_file(parent + "/cgroup.controllers"));
  BOOST_OUTCOME_TRY(enabled, read_file(parent + "/cgroup.subtree_control"));
  auto words = [](const std::string& s) {
    std::istringstream in(s);
    std::vector<std::string> w;
    for (std::string x; in >> x;) w.push_back(x);
    return w;
  };
  auto has = [](const std::vector<std::string>& list, std::string_view c) {
    for (const auto& x : list)
      if (x == c) return true;
    return false;
  };
  auto offered_list = words(offered), enabled_list = words(enabled);
  for (const char* c : wanted)
    if (has(offered_list, c) && !has(enabled_list, c))
      (void)write_file(parent + "/cgroup.subtree_control", std::string("+") + c);
  return success();
}

class cgroup_v2 final : public cgroup_backend {
 public:
  explicit cgroup_v2(std::string mount) : mount_(std::move(mount)) {}

  int version() const noexcept override { return 2; }

  result<void> create(const std::string& path) override {
    BOOST_OUTCOME_TRY(enable_controllers(mount_));
    return make_levels(mount_, path, [](const std::string&, const std::string& dir) {
      return enable_controllers(dir);
    });
  }

  result<void> attach(const std::string& path, pid_t pid) override {
    return write_file(dir(path) + "/cgroup.procs", std::to_string(pid));
  }

  result<std::vector<pid_t>> procs(const std::string& path) const override {
    return read_procs(dir(path));
  }

  bool exists(const std::string& path) const override {
    struct stat st {};
    return ::stat(dir(path).c_str(), &st) == 0;
  }

  result<void> kill_all(const std::string& path, std::chrono::milliseconds timeout) override {
    // cgroup.kill (Linux 5.14) kills atomically, also processes forking meanwhile.
    if (!exists(path)) return success();
    (void)write_file(dir(path) + "/cgroup.kill", "1");
    return kill_until_empty(dir(path), timeout);
  }

  result<void> remove(const std::string& path) override { return remove_dir(dir(path)); }

  void remove_if_unused(const std::string& path) noexcept override {
    ::rmdir(dir(path).c_str());
  }

 private:
  std::string dir(const std::string& path) const { return mount_ + "/" + path; }
  std::string mount_;
};

}  // namespace

std::unique_ptr<cgroup_backend> make_cgroup_v2(std::string mount_point) {
  return std::make_unique<cgroup_v2>(std::move(mount_point));
}

}  // namespace ovz::detail
