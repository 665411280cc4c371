#include "kernel/host_nodes.hpp"

#include "fail.hpp"
#include "kernel/ns_thread.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <string>

namespace ovz::detail {
namespace {

// Runs on a thread of its own.
result<std::vector<unique_fd>> nodes_on_own_thread(const std::vector<host_node>& nodes) {
  if (::unshare(CLONE_FS | CLONE_NEWNS) != 0)
    return sys_fail(errno, "unshare a mount namespace for the device nodes");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return sys_fail(errno, "make / private in the device nodes' mount namespace");
  unique_fd fs(::fsopen("tmpfs", FSOPEN_CLOEXEC));
  if (!fs || ::fsconfig(fs.get(), FSCONFIG_SET_STRING, "mode", "0700", 0) != 0 ||
      ::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
    return sys_fail(errno, "make a tmpfs for the device nodes");
  unique_fd scratch(::fsmount(fs.get(), FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC));
  if (!scratch) return sys_fail(errno, "fsmount the device nodes' tmpfs");
  // Anywhere in this namespace: it is reached through its descriptor.
  if (::move_mount(scratch.get(), "", AT_FDCWD, "/", MOVE_MOUNT_F_EMPTY_PATH) != 0)
    return sys_fail(errno, "attach the device nodes' tmpfs");
  std::vector<unique_fd> out;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const host_node& n = nodes[i];
    const std::string name = std::to_string(i);
    const auto what = [&] {
      return fmt::format("{} device {}:{}", S_ISBLK(n.mode) ? "block" : "character",
                         major(n.dev), minor(n.dev));
    };
    if (::mknodat(scratch.get(), name.c_str(), n.mode, n.dev) != 0)
      return sys_fail(errno, "make {}", what());
    // Exactly its mode, whatever the umask; owned as asked.
    if (::fchmodat(scratch.get(), name.c_str(), n.mode & 07777, 0) != 0 ||
        ::fchownat(scratch.get(), name.c_str(), n.uid, n.gid, AT_SYMLINK_NOFOLLOW) != 0)
      return sys_fail(errno, "give {} its mode and owner {}:{}", what(), n.uid, n.gid);
    unique_fd node(::open_tree(scratch.get(), name.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC));
    if (!node) return sys_fail(errno, "open_tree {}", what());
    out.push_back(std::move(node));
  }
  return out;
}

}  // namespace

result<std::vector<unique_fd>> make_host_nodes(const std::vector<host_node>& nodes) {
  if (nodes.empty()) return std::vector<unique_fd>{};
  return on_own_thread<std::vector<unique_fd>>("make device nodes",
                                               [&] { return nodes_on_own_thread(nodes); });
}

}  // namespace ovz::detail
