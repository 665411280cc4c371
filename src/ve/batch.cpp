// Every VE of a state root at once: the host's boot and shutdown (vzctl's init script).
#include <ovz/state_root.hpp>
#include <ovz/ve.hpp>

#include "ve/ve_list.hpp"

namespace ovz::inline v0 {
namespace {

// Each VE is tried whatever became of the ones before it.
template <class F>
result<std::vector<ve_batch_entry>> each_ve(const std::filesystem::path& state_root, F&& f) {
  const auto root = resolve_state_root(state_root);
  BOOST_OUTCOME_TRY(ids, detail::list_ctids(root));
  std::vector<ve_batch_entry> out;
  for (ctid id : ids) {
    auto v = ve::open(id, root);
    if (!v) {
      out.push_back({id, false, v.error()});
      continue;
    }
    auto entry = f(*v);
    if (entry) out.push_back(std::move(*entry));
  }
  return out;
}

ve_batch_entry entry_of(ctid id, const result<void>& r) {
  if (r) return {id, true, {}};
  return {id, false, r.error()};
}

}  // namespace

result<std::vector<ve_batch_entry>> start_all(const std::filesystem::path& state_root,
                                              bool onboot_only) {
  return each_ve(state_root, [&](ve& v) -> std::optional<ve_batch_entry> {
    auto conf = v.config();
    if (!conf) return ve_batch_entry{v.id(), false, conf.error()};
    if (onboot_only && conf->get("ONBOOT") != "yes") return std::nullopt;
    auto started = v.start();
    if (!started && started.error().code() == errc::already_running)
      return ve_batch_entry{v.id(), false, {}};
    return entry_of(v.id(), started);
  });
}

result<std::vector<ve_batch_entry>> stop_all(const std::filesystem::path& state_root,
                                             const stop_options& opts) {
  return each_ve(state_root, [&](ve& v) -> std::optional<ve_batch_entry> {
    auto st = v.status();
    if (!st) return ve_batch_entry{v.id(), false, st.error()};
    if (st->state != ve_state::running) return std::nullopt;
    return entry_of(v.id(), v.stop(opts));
  });
}

}  // namespace ovz::inline v0
