#include <ovz/state_root.hpp>
#include <ovz/ubc_reader.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/proc_locks.hpp"
#include "ve/ve_list.hpp"
#include "ve/ve_meter.hpp"

#include <algorithm>
#include <map>

namespace ovz::inline v0 {

struct ubc_reader::state {
  std::filesystem::path root;
  std::map<ctid, detail::ve_meter> meters;
};

namespace {

// Every running VE's snapshot; `keep`: each VE's files stay open for the next read, else they
// close once it is read (a one-off read of many VEs must not hold them all at once).
result<std::vector<ubc_snapshot>> read_all(ubc_reader::state& s, bool keep) {
  BOOST_OUTCOME_TRY(ids, detail::list_ctids(s.root));
  // A VE destroyed since the last read takes what was held for it along.
  std::erase_if(s.meters, [&](const auto& m) {
    return !std::binary_search(ids.begin(), ids.end(), m.first);
  });
  // /proc/locks lists every lock of the host: read once, not once per VE.
  const auto locks = detail::held_locks();
  std::vector<ubc_snapshot> snaps;
  snaps.reserve(ids.size());
  for (ctid id : ids) {
    auto at = s.meters.find(id);
    if (at == s.meters.end()) {
      BOOST_OUTCOME_TRY(v, ve::open(id, s.root));
      at = s.meters.emplace(id, detail::ve_meter(v)).first;
    }
    auto snap = at->second.read(true, locks);
    if (!keep) s.meters.erase(at);
    // Destroyed between the listing and its read: not a VE any more, no error.
    if (!snap && snap.error().is(errc::not_found)) continue;
    if (!snap) return snap.error();
    if (*snap) snaps.push_back(std::move(**snap));
  }
  return snaps;
}

}  // namespace

ubc_reader::ubc_reader(std::unique_ptr<state> s) : s_(std::move(s)) {}
ubc_reader::ubc_reader(ubc_reader&&) noexcept = default;
ubc_reader& ubc_reader::operator=(ubc_reader&&) noexcept = default;
ubc_reader::~ubc_reader() = default;

result<ubc_reader> ubc_reader::open(const std::filesystem::path& state_root) {
  auto s = std::make_unique<state>();
  s->root = resolve_state_root(state_root);
  return ubc_reader(std::move(s));
}

result<std::vector<ubc_snapshot>> ubc_reader::read() { return read_all(*s_, true); }

std::string_view ubc_reader::backend() const noexcept { return "cgroup files"; }

result<std::vector<ubc_snapshot>> all_beancounters(const std::filesystem::path& state_root) {
  ubc_reader::state s{resolve_state_root(state_root), {}};
  return read_all(s, false);
}

}  // namespace ovz::inline v0
