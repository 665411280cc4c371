#pragma once
// A cgroup held by a directory descriptor: its files are opened relative to it (openat), so
// the path is resolved once, and a parent removed and remade meanwhile (another VE's destroy
// takes the shared parent with it) cannot send a write into a cgroup other than the one
// opened. The path stays for messages and for inotify, which watches by name.

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ovz::detail {

class cgroup_dir {
 public:
  /// Opens the cgroup directory at `path`; ENOENT when there is no such cgroup.
  static result<cgroup_dir> open(std::string path);

  /// The sub-cgroup `name` of this one, opened.
  result<cgroup_dir> child(const std::string& name) const;
  /// The names of the sub-cgroups in it, whoever made them (the VE's own init included).
  result<std::vector<std::string>> children() const;

  int fd() const noexcept { return fd_.get(); }
  const std::string& path() const noexcept { return path_; }
  /// The path of one of its files, for messages and inotify.
  std::string file(std::string_view name) const;
  /// True when the cgroup has this file (its controller is enabled or mounted here).
  bool has(const char* name) const noexcept;
  /// The whole content of one of its files.
  result<std::string> read(const char* name) const;
  /// One write(2) of `value` into one of its files.
  result<void> write(const char* name, std::string_view value) const;

  /// From now on keeps each file it reads (and what has() finds missing) open, and rereads
  /// it in place (pread at 0) the next time: for a reader that looks at the same counters
  /// over and over, where opening them is most of the cost. Not for more than one thread.
  void hold_files() noexcept { holding_ = true; }

 private:
  cgroup_dir(unique_fd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}
  // A file held open by hold_files(); fd -1: it is not there.
  struct held_file {
    std::string name;
    unique_fd fd;
  };
  result<const held_file*> held(const char* name) const;

  unique_fd fd_;
  std::string path_;
  bool holding_ = false;
  mutable std::vector<held_file> held_;
  mutable std::size_t next_ = 0;  // where held() looks first
};

/// A VE's cgroup held open: the directory in each cgroup v1 hierarchy VEs use, or the one
/// directory of cgroup v2, with the controllers each has (v2: empty, all in one).
struct ve_cgroup {
  struct hierarchy_dir {
    std::vector<std::string> controllers;
    cgroup_dir dir;
  };
  std::vector<hierarchy_dir> dirs;

  /// The directory of the hierarchy with `controller`; on v2 the only one; null when no
  /// hierarchy has it.
  const cgroup_dir* with(std::string_view controller) const noexcept;
};

}  // namespace ovz::detail
