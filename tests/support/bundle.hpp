#pragma once
// An OCI bundle as the OCI tests make one (busybox in rootfs/, config.json for a shell script),
// the changes they make to its config.json, and pipes standing in for conmon's.

#include "support/temp_root.hpp"

#include <ovz/fd.hpp>
#include <ovz/oci_container.hpp>

#include <sys/types.h>

#include <filesystem>
#include <string>

namespace ovz::test {

/// A bundle whose root holds the host's static busybox and its applets.
struct bundle {
  explicit bundle(const std::filesystem::path& dir);
  /// config.json for `script` run by sh as `user`, with `process_extra` and `linux_extra`
  /// members added.
  void configure(const std::string& script, const std::string& process_extra = "",
                 const std::string& linux_extra = "",
                 const std::string& user = R"({"uid": 0, "gid": 0})") const;
  /// config.json's text with `from` (which it has) replaced by `to`.
  void rewrite(const std::string& from, const std::string& to) const;
  /// config.json with `hooks` (a JSON object) added.
  void add_hooks(const std::string& hooks) const;
  std::filesystem::path dir;
};

struct pipe_pair {
  pipe_pair();
  /// Whatever arrives until every writer has closed it.
  std::string drain();
  bool has_data(int ms);
  unique_fd r, w;
};

/// Whether the container is stopped within five seconds.
bool wait_stopped(const oci_container& c);

/// What the container `id` of `bundle` writes on its stdout, run from create to its end, and
/// deleted then.
std::string output_of(const temp_root& root, const std::string& id,
                      const std::filesystem::path& bundle);

/// The container `id` of `bundle` with `in` and `out` as its stdin and stdout, its process
/// checked to be host uid `uid`.
oci_container created_as(const temp_root& root, const std::string& id,
                         const std::filesystem::path& bundle, const pipe_pair& in,
                         const pipe_pair& out, uid_t uid);

}  // namespace ovz::test
