#pragma once
// The cgroup hierarchies CRIU reads and writes a VE's cgroups through, given to it ready
// (its cgroup_yard). Left to itself CRIU mounts each hierarchy anew with no options, and a
// new cgroup2 mount in the host's cgroup namespace applies its options to the whole host:
// every dump and restore would drop the host's nsdelegate (the boundary that keeps a VE's
// root off its own limits) and memory_recursiveprot. The yard holds bind mounts of the
// host's own mounts instead, which change nothing.

#include <ovz/result.hpp>

#include <filesystem>

namespace ovz::detail {

class criu_yard {
 public:
  /// A tmpfs in a new directory /tmp/ovz-criu-yard.XXXXXX, private, holding each hierarchy
  /// /proc/self/cgroup lists under the name CRIU looks for ("unified", "cpu,cpuacct",
  /// "systemd"): the host's mount of it bound there, or a mount of its own where the host
  /// has none.
  static result<criu_yard> make();
  criu_yard(criu_yard&& o) noexcept : dir_(std::move(o.dir_)) { o.dir_.clear(); }
  criu_yard& operator=(criu_yard&&) = delete;
  ~criu_yard();

  const std::filesystem::path& path() const { return dir_; }

 private:
  criu_yard() = default;
  std::filesystem::path dir_;
};

}  // namespace ovz::detail
