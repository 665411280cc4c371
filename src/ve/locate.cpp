#include "ve/locate.hpp"

#include "fail.hpp"

#include <ovz/config.hpp>

#include <sys/stat.h>

namespace ovz::detail {

result<root_identity> identify_state_root(const std::filesystem::path& state_root,
                                          const std::filesystem::path& default_root) {
  struct stat st {};
  if (::stat(state_root.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR)
      return fail(errc::not_found, "state root {} does not exist", state_root.string());
    return sys_fail(errno, "stat state root {}", state_root.string());
  }
  if (!S_ISDIR(st.st_mode))
    return fail(errc::not_found, "state root {} is not a directory", state_root.string());
  root_identity id{.dev = st.st_dev, .ino = st.st_ino};
  struct stat installed {};
  id.installation = ::stat(default_root.c_str(), &installed) == 0 &&
                    installed.st_dev == st.st_dev && installed.st_ino == st.st_ino;
  return id;
}

result<ve_layout> locate(const std::filesystem::path& state_root, ctid id,
                         std::optional<ve_config>* parsed) {
  auto root = identify_state_root(state_root);
  if (!root) {
    const bool absent = root.error().is(errc::not_found);
    return with_context(root.error(), absent ? fmt::format("VE {} does not exist", id.value())
                                             : fmt::format("VE {}", id.value()));
  }
  auto l = layout_of(state_root, id, *root);
  // A CTID.conf that is missing or does not parse names no cgroup: status() still reports
  // such a VE, and config() or start() say what is wrong with the file.
  auto conf = ve_config::load(l.conf);
  if (!conf) return l;
  if (auto given = conf->get(cgroup_path_key)) {
    BOOST_OUTCOME_TRY(path, given_cgroup(*given));
    l.cgroup = std::move(path);
    l.cgroup_parent.clear();
  }
  if (parsed) parsed->emplace(std::move(*conf));
  return l;
}

}  // namespace ovz::detail
