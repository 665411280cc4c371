#include "ve/storage.hpp"

#include "fail.hpp"

#include <ovz/ve_params.hpp>

#include <unistd.h>

namespace ovz::detail {

result<void> make_layer_dirs(const std::filesystem::path& upper,
                             const std::filesystem::path& work, uid_t root_id) {
  for (const auto& dir : {upper, work}) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return sys_fail(ec.value(), "create {}", dir.string());
    if (root_id != 0 && ::chown(dir.c_str(), root_id, root_id) != 0)
      return sys_fail(errno, "chown {} to {}:{}", dir.string(), root_id, root_id);
  }
  return success();
}

storage_kind storage_kind_of(const ve_paths& l) {
  std::error_code ec;
  return std::filesystem::exists(l.disk_image, ec) ? storage_kind::image : storage_kind::overlay;
}

std::shared_ptr<const ve_storage> storage_for(storage_kind kind, const ve_config& conf,
                                              const ve_paths& l,
                                              std::filesystem::path template_root) {
  if (kind == storage_kind::overlay) return overlay_storage(l, std::move(template_root));
  auto params = params_from_config(conf);
  if (!params) return image_storage(l, std::move(template_root), params.error());
  return image_storage(l, std::move(template_root), params->disk);
}

}  // namespace ovz::detail
