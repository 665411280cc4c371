#pragma once
// A directory made immutable (chattr +i) for a scope: nothing, root included, can create a
// file in it, so a save of CTID.conf there fails as on a broken disk.

#include <filesystem>

namespace ovz::test {

class immutable_dir {
 public:
  explicit immutable_dir(const std::filesystem::path& dir);
  ~immutable_dir();
  immutable_dir(const immutable_dir&) = delete;
  immutable_dir& operator=(const immutable_dir&) = delete;
  /// False when the filesystem has no immutable flag: the caller skips, saying so.
  bool held() const { return fd_ >= 0; }

 private:
  int fd_;
  int saved_ = 0;
};

}  // namespace ovz::test
