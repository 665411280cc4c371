#pragma once
// What every operation on one VE begins with, in one place: its layout (and cgroup), its lock,
// its CTID.conf, its live state read from the kernel, the host it runs on; and the error
// context "VE N" added once, to whatever the operation returns.

#include <ovz/config.hpp>
#include <ovz/host.hpp>
#include <ovz/result.hpp>
#include <ovz/ve.hpp>

#include "model/layout.hpp"
#include "ve/host_services.hpp"
#include "ve/live_state.hpp"
#include "ve/lock.hpp"

#include <optional>
#include <string>
#include <type_traits>

namespace ovz::detail {

/// `e` with "CTX: " before it ("VE N"), unless its message already begins by naming the VE.
error in_context_of(const std::string& ctx, const error& e);

class ve_op {
 public:
  /// What the operation needs before it starts; each is got in this order.
  struct needs {
    /// The layout with the VE's cgroup, which needs the state root to exist (otherwise the
    /// VE's files alone, for create); and the host.
    bool cgroup = true;
    /// The VE's lock, held while the ve_op lives.
    bool lock = false;
    /// CTID.conf, loaded: errc::not_found when the VE does not exist.
    bool config = false;
    /// The live state, probed from the VE's cgroup.
    bool live = false;
  };

  static result<ve_op> begin(const ve& v, needs n);

  /// Runs `body(ve_op&)` once begin() has what `n` asks for; an error from either names the
  /// VE, once.
  template <class F>
  static std::invoke_result_t<F, ve_op&> run(const ve& v, needs n, F&& body) {
    auto op = begin(v, n);
    if (!op) return op.error();
    auto r = body(*op);
    if (!r) return op->in_context(r.error());
    return r;
  }

  ctid id() const noexcept { return v_->id(); }
  const ve& handle() const noexcept { return *v_; }
  const std::filesystem::path& state_root() const noexcept { return v_->state_root(); }
  /// "VE N"
  const std::string& context() const noexcept { return ctx_; }
  /// `e` with "VE N: " before it, unless its message already begins by naming the VE.
  error in_context(const error& e) const;

  /// The host `v` runs on: the one it was opened with, or the detected one.
  static result<ovz::host> host_of(const ve& v);

  const host_services& host() const { return host_->services(); }
  cgroup_manager& cg() const { return host().cg(); }

  ve_layout layout;
  ve_config conf;   // empty unless needs.config
  live_state live;  // empty unless needs.live

 private:
  ve_op(const ve& v, std::string ctx, ve_layout l);
  const ve* v_;
  std::string ctx_;
  std::optional<ve_lock> lock_;
  std::optional<ovz::host> host_;
};

}  // namespace ovz::detail
