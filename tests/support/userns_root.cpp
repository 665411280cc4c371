#include "support/userns_root.hpp"

#include "kernel/idmap.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <iostream>

namespace ovz::test {
namespace {

void run(const std::string& command) {
  INFO(command);
  REQUIRE(std::system(("PATH=$PATH:/usr/sbin:/sbin; " + command).c_str()) == 0);
}

bool idmappable(const std::filesystem::path& dir) {
  const std::vector<id_map> map{{0, 100000, 65536}};
  auto ns = detail::userns_with_maps(map, map);
  if (!ns) FAIL("a user namespace to probe idmapped mounts: " << ns.error().message());
  return bool(detail::idmapped_tree(dir, ns->get(), "a test"));
}

}  // namespace

scratch_fs::scratch_fs(const std::string& type) {
  std::string dir = (std::filesystem::temp_directory_path() / "ovz-fs-XXXXXX").string();
  if (!::mkdtemp(dir.data())) FAIL("mkdtemp " << dir << " failed");
  dir_ = dir;
  if (type == "ext4") {
    image_ = dir + ".img";
    run(fmt::format("truncate -s 1G {0} && mkfs.ext4 -q -F {0} && mount -o loop {0} {1}",
                    image_.string(), dir));
  } else {
    run(fmt::format("mount -t {0} {0} {1}", type, dir));
  }
  std::filesystem::permissions(dir_, std::filesystem::perms(0755));
}

scratch_fs::~scratch_fs() {
  (void)std::system(fmt::format("umount -l {} 2>/dev/null", dir_.string()).c_str());
  std::error_code ec;
  std::filesystem::remove(dir_, ec);
  if (!image_.empty()) std::filesystem::remove(image_, ec);
}

userns_root::userns_root() {
  const auto tmp = std::filesystem::temp_directory_path();
  if (idmappable(tmp)) {
    root_.emplace();
  } else {
    std::cout << "note: " << tmp.string()
              << " has no idmapped mounts; user-namespace VEs go on an ext4 made for the test\n";
    fs_.emplace("ext4");
    root_.emplace(fs_->path());
  }
  std::filesystem::permissions(root_->path(), std::filesystem::perms::others_exec,
                               std::filesystem::perm_options::add);
}

}  // namespace ovz::test
