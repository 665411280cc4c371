#include "ve/ve_tree.hpp"

#include <ovz/template.hpp>

#include "fail.hpp"
#include "kernel/files.hpp"
#include "ve/storage.hpp"
#include "ve/userns.hpp"

namespace ovz::detail {
namespace {

result<std::uint32_t> id_base(const ve_config& conf) {
  BOOST_OUTCOME_TRY(range, userns_range(conf));
  return range ? range->base : 0;
}

}  // namespace

result<ve_tree> running_tree(pid_t init_pid, const ve_config& conf) {
  BOOST_OUTCOME_TRY(base, id_base(conf));
  BOOST_OUTCOME_TRY(root, open_root_of(init_pid));
  return ve_tree{std::move(root), base};
}

result<ve_tree> stopped_tree(const ve_config& conf, const ve_layout& l,
                             const std::filesystem::path& state_root) {
  BOOST_OUTCOME_TRY(range, userns_range(conf));
  BOOST_OUTCOME_TRY(tmpl, template_store(state_root).find(
                              conf.get("OSTEMPLATE").value_or(builtin_template)));
  auto storage = storage_for(storage_kind_of(l), conf, l, tmpl.path);
  // The storage is mounted there meanwhile, in a mount namespace of the caller's own; a VE
  // never started has none yet.
  std::error_code ec;
  std::filesystem::create_directories(l.mount_point, ec);
  if (ec) return sys_fail(ec.value(), "create {}", l.mount_point.string());
  if (!range) {
    BOOST_OUTCOME_TRY(root, storage->host_root());
    return ve_tree{std::move(root), 0};
  }
  BOOST_OUTCOME_TRY(root, userns_root(l, *storage, *range));
  return ve_tree{std::move(root), range->base};
}

}  // namespace ovz::detail
