// cgroup v1: one hierarchy per controller (or co-mounted group), as on legacy and hybrid
// hosts. A VE's cgroup is the same relative path in each hierarchy VEs use.

#include "kernel/cgroup.hpp"
#include "kernel/cgroup_common.hpp"
#include "kernel/files.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace ovz::detail {
namespace {

constexpr const char* wanted[] = {"cpu", "cpuacct", "cpuset", "memory",
                                  "pids", "freezer", "devices", "blkio"};

struct hierarchy {
  std::string mount;
  std::vector<std::string> controllers;
  bool has(std::string_view c) const {
    return std::find(controllers.begin(), controllers.end(), c) != controllers.end();
  }
};

std::vector<hierarchy> find_hierarchies() {
  std::vector<hierarchy> found;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - ");
    if (dash == std::string::npos) continue;
    std::istringstream pre(line.substr(0, dash)), post(line.substr(dash + 3));
    std::string id, parent, devno, root, mount_point, fstype, source, options;
    pre >> id >> parent >> devno >> root >> mount_point;
    post >> fstype >> source >> options;
    if (fstype != "cgroup") continue;
    hierarchy h{mount_point, {}};
    std::istringstream opts(options);
    for (std::string o; std::getline(opts, o, ',');)
      if (std::find(std::begin(wanted), std::end(wanted), o) != std::end(wanted))
        h.controllers.push_back(o);
    if (h.controllers.empty()) continue;
    bool seen = std::any_of(found.begin(), found.end(),
                            [&](const hierarchy& f) { return f.controllers == h.controllers; });
    if (!seen) found.push_back(std::move(h));
  }
  return found;
}

// A new cpuset cgroup starts with no CPUs and no memory nodes, and refuses tasks until it
// has some: give it its parent's.
result<void> inherit_cpuset(const std::string& parent, const std::string& dir) {
  for (const char* file : {"cpuset.cpus", "cpuset.mems"}) {
    BOOST_OUTCOME_TRY(value, read_file(parent + "/" + file));
    while (!value.empty() && value.back() == '\n') value.pop_back();
    if (!value.empty()) {
      BOOST_OUTCOME_TRY(write_file(dir + "/" + file, value));
    }
  }
  return success();
}

class cgroup_v1 final : public cgroup_backend {
 public:
  cgroup_v1() : h_(find_hierarchies()) {
    auto pids = std::find_if(h_.begin(), h_.end(), [](const auto& h) { return h.has("pids"); });
    procs_index_ = pids == h_.end() ? 0 : static_cast<std::size_t>(pids - h_.begin());
  }

  int version() const noexcept override { return 1; }

  result<void> create(const std::string& path) override {
    if (h_.empty())
      return fail(errc::unsupported,
                  "no cgroup v1 controller is mounted under /sys/fs/cgroup and it is not cgroup2");
    for (const auto& h : h_) {
      BOOST_OUTCOME_TRY(make_levels(h.mount, path, [&](const std::string& parent,
                                                        const std::string& dir) -> result<void> {
        return h.has("cpuset") ? inherit_cpuset(parent, dir) : success();
      }));
    }
    return success();
  }

  result<void> attach(const std::string& path, pid_t pid) override {
    for (const auto& h : h_) {
      BOOST_OUTCOME_TRY(write_file(h.mount + "/" + path + "/cgroup.procs", std::to_string(pid)));
    }
    return success();
  }

  result<std::vector<pid_t>> procs(const std::string& path) const override {
    if (h_.empty()) return std::vector<pid_t>{};
    return read_procs(dir(path));
  }

  bool exists(const std::string& path) const override {
    struct stat st {};
    return !h_.empty() && ::stat(dir(path).c_str(), &st) == 0;
  }

  result<void> kill_all(const std::string& path, std::chrono::milliseconds timeout) override {
    if (h_.empty()) return success();
    return kill_until_empty(dir(path), timeout);
  }

  result<void> remove(const std::string& path) override {
    for (const auto& h : h_) {
      BOOST_OUTCOME_TRY(remove_dir(h.mount + "/" + path));
    }
    return success();
  }

  void remove_if_unused(const std::string& path) noexcept override {
    for (const auto& h : h_) ::rmdir((h.mount + "/" + path).c_str());
  }

 private:
  std::string dir(const std::string& path) const { return h_[procs_index_].mount + "/" + path; }

  std::vector<hierarchy> h_;
  std::size_t procs_index_ = 0;
};

}  // namespace

std::unique_ptr<cgroup_backend> make_cgroup_v1() { return std::make_unique<cgroup_v1>(); }

}  // namespace ovz::detail
