#include "ve/sample.hpp"

#include <ovz/security.hpp>
#include <ovz/ve_params.hpp>

#include "fail.hpp"
#include "model/file_name.hpp"
#include "model/layout.hpp"
#include "model/sample.hpp"

#include <fmt/ranges.h>

namespace ovz::detail {

result<ve_config> load_sample(const std::filesystem::path& state_root, std::string_view name) {
  BOOST_OUTCOME_TRY(check_file_name(name, "config sample name"));
  const auto own = conf_dir(state_root) / fmt::format("ve-{}.conf-sample", name);
  std::error_code ec;
  const bool has_own = std::filesystem::exists(own, ec);
  if (ec) return sys_fail(ec.value(), "config sample {}", own.string());
  auto conf = [&]() -> result<ve_config> {
    if (has_own) return ve_config::load(own);
    if (auto text = shipped_sample(name))
      return ve_config::parse(*text, fmt::format("shipped ve-{}.conf-sample", name));
    return fail(errc::not_found, "config sample '{}' not found: no {} and none shipped by that "
                "name (shipped: {})", name, own.string(), fmt::join(shipped_sample_names(), ", "));
  }();
  if (!conf) return conf.error();
  const auto origin = fmt::format("config sample '{}'", name);
  auto params = params_from_config(*conf);
  if (!params) return with_context(params.error(), origin);
  if (auto ok = check_bootable(*params); !ok) return with_context(ok.error(), origin);
  if (auto sec = security_from_config(*conf); !sec) return with_context(sec.error(), origin);
  for (const char* key : {"OSTEMPLATE", "HOSTNAME", "VE_ROOT", "VE_PRIVATE", "USERNS_MAP"})
    conf->erase(key);
  return conf;
}

}  // namespace ovz::detail
