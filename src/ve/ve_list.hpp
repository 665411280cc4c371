#pragma once
// The VEs of a state root: those whose CTID.conf exists.

#include <ovz/ctid.hpp>
#include <ovz/result.hpp>
#include <ovz/ve.hpp>

#include <filesystem>
#include <vector>

namespace ovz::detail {

/// The CTIDs that have a config under the state root, in order.
result<std::vector<ctid>> list_ctids(const std::filesystem::path& state_root);

/// Calls `f(const ve&)` (returning result<void>) for every VE under the state root, in CTID
/// order, until one fails.
template <class F>
result<void> for_each_ve(const std::filesystem::path& state_root, F&& f) {
  BOOST_OUTCOME_TRY(ids, list_ctids(state_root));
  for (ctid id : ids) {
    BOOST_OUTCOME_TRY(v, ve::open(id, state_root));
    BOOST_OUTCOME_TRY(f(v));
  }
  return success();
}

}  // namespace ovz::detail
