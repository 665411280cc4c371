#include <ovz/state_root.hpp>
#include <ovz/ubc_reader.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/ovz_module.hpp"
#include "kernel/proc_locks.hpp"
#include "ve/ve_list.hpp"
#include "ve/ve_meter.hpp"

#include <algorithm>
#include <map>

namespace ovz::inline v0 {

struct ubc_reader::state {
  std::filesystem::path root;
  ubc_sources sources = ubc_sources::files_only;
  std::map<ctid, detail::ve_meter> meters;
  unique_fd module;  // /dev/ovz, once a module that gives snapshots was found
  std::vector<unsigned char> snapshot_buffer;
};

namespace {

// The module is optional: one that is missing, speaks another ABI or gives no snapshots
// leaves the files to do all (ovzctl features says why); it is looked for again next read.
void find_module(ubc_reader::state& s) {
  if (s.sources != ubc_sources::any || s.module) return;
  if (auto fd = detail::open_ovz_module_with(&detail::ovz_module_info::snapshot))
    s.module = std::move(*fd);
}

// Every running VE's snapshot; `keep`: each VE's files stay open for the next read, else they
// close once it is read (a one-off read of many VEs must not hold them all at once).
result<std::vector<ubc_snapshot>> read_all(ubc_reader::state& s, bool keep) {
  BOOST_OUTCOME_TRY(ids, detail::list_ctids(s.root));
  // A VE destroyed since the last read takes what was held for it along.
  std::erase_if(s.meters, [&](const auto& m) {
    return !std::binary_search(ids.begin(), ids.end(), m.first);
  });
  // /proc/locks lists every lock of the host, the module's snapshot every VE's memory
  // counters: each read once, not once per VE.
  const auto locks = detail::held_locks();
  find_module(s);
  std::optional<detail::module_snapshot> module;
  if (s.module) {
    BOOST_OUTCOME_TRY(m, detail::read_snapshot(s.module.get(), s.snapshot_buffer));
    module = std::move(m);
  }
  std::vector<ubc_snapshot> snaps;
  snaps.reserve(ids.size());
  for (ctid id : ids) {
    auto at = s.meters.find(id);
    if (at == s.meters.end()) {
      BOOST_OUTCOME_TRY(v, ve::open(id, s.root));
      at = s.meters.emplace(id, detail::ve_meter(v)).first;
    }
    auto snap = at->second.read(true, locks, module ? &*module : nullptr);
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
  return open(state_root, ubc_sources::any);
}

result<ubc_reader> ubc_reader::open(const std::filesystem::path& state_root,
                                    ubc_sources sources) {
  auto s = std::make_unique<state>();
  s->root = resolve_state_root(state_root);
  s->sources = sources;
  find_module(*s);
  return ubc_reader(std::move(s));
}

result<std::vector<ubc_snapshot>> ubc_reader::read() { return read_all(*s_, true); }

std::string_view ubc_reader::backend() const noexcept {
  return s_->module ? "ovz module + cgroup files" : "cgroup files";
}

// Files only: a one-off read keeps nothing open, /dev/ovz included.
result<std::vector<ubc_snapshot>> all_beancounters(const std::filesystem::path& state_root) {
  ubc_reader::state s;
  s.root = resolve_state_root(state_root);
  return read_all(s, false);
}

}  // namespace ovz::inline v0
