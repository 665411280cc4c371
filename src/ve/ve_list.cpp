#include "ve/ve_list.hpp"

#include "fail.hpp"
#include "model/layout.hpp"

#include <algorithm>

namespace ovz::detail {

result<std::vector<ctid>> list_ctids(const std::filesystem::path& state_root) {
  std::vector<ctid> ids;
  std::error_code ec;
  std::filesystem::directory_iterator it(conf_dir(state_root), ec), end;
  if (ec) {
    if (ec == std::errc::no_such_file_or_directory) return ids;
    return sys_fail(ec.value(), "list {}", conf_dir(state_root).string());
  }
  for (; it != end; it.increment(ec)) {
    const auto& p = it->path();
    if (p.extension() != ".conf") continue;
    if (auto id = ctid::parse(p.stem().string())) ids.push_back(*id);  // else a sample or backup
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

}  // namespace ovz::detail
