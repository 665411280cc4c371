#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/dirs.hpp"
#include "model/hostname.hpp"
#include "model/layout.hpp"
#include "ve/change.hpp"
#include "ve/sample.hpp"
#include "ve/storage.hpp"
#include "ve/userns.hpp"
#include "ve/ve_op.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace ovz::inline v0 {

result<void> ve::create(const create_options& opts) {
  std::string hostname = opts.hostname.empty() ? "ct" + id_.str() : opts.hostname;
  BOOST_OUTCOME_TRY(detail::check_hostname(hostname));
  BOOST_OUTCOME_TRY(detail::check_create_disk(opts.disk));
  // The state root may not exist yet: the VE's files alone, no cgroup.
  return detail::ve_op::run(*this, {.cgroup = false, .lock = true}, [&](detail::ve_op& op) -> result<void> {
    const auto& l = op.layout;
    // Only "no such file" means no VE: anything else there (even a dangling link) may be an
    // existing VE's config, whose private area the steps below would wipe.
    struct stat st;
    if (::lstat(l.conf.c_str(), &st) == 0)
      return detail::fail(errc::already_exists, "{} already exists ({})", op.context(),
                            l.conf.string());
    if (errno != ENOENT) return detail::sys_fail(errno, "lstat {}", l.conf.string());

    auto sample = detail::load_sample(
        root_, opts.config.empty() ? default_config_sample : opts.config);
    if (!sample) return sample.error();
    template_store templates(root_);
    BOOST_OUTCOME_TRY(tmpl, templates.find(opts.ostemplate.empty() ? builtin_template
                                                                         : opts.ostemplate));

    BOOST_OUTCOME_TRY(detail::make_root_only_dir(l.private_dir.parent_path()));
    std::error_code ec;
    // The private area is made under a temporary name and renamed into place, and the config is
    // written last: a VE exists once its config does, so a crash before that leaves only a
    // temporary directory, which the next create of this CTID removes.
    auto staging = l.private_dir.parent_path() / fmt::format(".{}.creating", id_.value());
    std::filesystem::remove_all(staging, ec);
    // Left by a crashed destroy, which removes the config before the data.
    std::filesystem::remove_all(l.private_dir, ec);
    std::filesystem::remove_all(
        l.private_dir.parent_path() / fmt::format(".{}.destroying", id_.value()), ec);
    auto undo = [&](error e) -> result<void> {
      std::error_code ignore;
      std::filesystem::remove_all(staging, ignore);
      std::filesystem::remove_all(l.private_dir, ignore);
      return e;
    };
    ve_config conf = std::move(*sample);
    if (auto ok = params_to_config({.disk = opts.disk}, conf); !ok) return undo(ok.error());
    const auto kind = opts.disk.diskspace ? detail::storage_kind::image
                                          : detail::storage_kind::overlay;
    const auto storage = detail::storage_for(kind, conf, l, tmpl.path);
    // Held until the config is saved, so that a concurrent create sees this VE's range.
    std::optional<detail::id_allocation> ids;
    if (opts.userns) {
      auto got = detail::allocate_ids(root_);
      if (!got) return undo(got.error());
      ids = std::move(*got);
    }
    if (auto ok = storage->create_area(staging, ids ? ids->range.base : 0); !ok)
      return undo(ok.error());
    std::filesystem::rename(staging, l.private_dir, ec);
    if (ec) return undo(detail::sys_fail(ec.value(), "rename {} to {}", staging.string(),
                                         l.private_dir.string()));

    for (auto [key, value] : {std::pair<const char*, std::string>{"OSTEMPLATE", tmpl.name},
                              {"HOSTNAME", hostname},
                              {"VE_ROOT", l.mount_point.string()},
                              {"VE_PRIVATE", l.private_dir.string()},
                              {"ORIGIN_SAMPLE", opts.config.empty() ? default_config_sample
                                                                    : opts.config}}) {
      if (auto ok = conf.set(key, value); !ok) return undo(ok.error());
    }
    if (ids) {
      if (auto ok = detail::adopt_ids(conf, ids->range); !ok) return undo(ok.error());
    }
    std::filesystem::create_directories(l.conf.parent_path(), ec);
    if (ec) return undo(detail::sys_fail(ec.value(), "create {}", l.conf.parent_path().string()));
    if (auto ok = conf.save(l.conf); !ok) return undo(ok.error());
    return success();
  });
}

}  // namespace ovz::inline v0
