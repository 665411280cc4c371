#include "ve/ve_op.hpp"

#include "fail.hpp"
#include "ve/locate.hpp"

namespace ovz::detail {

error in_context_of(const std::string& ctx, const error& e) {
  const std::string_view m = e.message();
  // Messages made where the VE is known already begin "VE N is …" or "VE N: …".
  if (m.starts_with(ctx) && (m.size() == ctx.size() || m[ctx.size()] == ' ' ||
                             m[ctx.size()] == ':'))
    return e;
  return with_context(e, ctx);
}

ve_op::ve_op(const ve& v, std::string ctx, ve_layout l)
    : layout(std::move(l)), v_(&v), ctx_(std::move(ctx)) {}

error ve_op::in_context(const error& e) const { return in_context_of(ctx_, e); }

result<ovz::host> ve_op::host_of(const ve& v) {
  if (v.host_) return *v.host_;
  return ovz::host::detect();
}

result<ve_op> ve_op::begin(const ve& v, needs n) {
  auto ctx = fmt::format("VE {}", v.id().value());
  auto fail_here = [&](const error& e) -> result<ve_op> { return in_context_of(ctx, e); };
  std::optional<ve_config> located;
  auto l = n.cgroup ? locate(v.state_root(), v.id(), &located)
                    : result<ve_layout>(ve_layout{layout_of(v.state_root(), v.id()), {}, {}});
  if (!l) return fail_here(l.error());
  ve_op op(v, ctx, std::move(*l));
  if (n.lock) {
    auto lock = ve_lock::acquire(op.layout, v.id());
    if (!lock) return fail_here(lock.error());
    op.lock_.emplace(std::move(*lock));
  }
  // Under a lock it is read again: another caller may have changed it until we held it.
  if (n.config && located && !n.lock) {
    op.conf = std::move(*located);
  } else if (n.config) {
    auto conf = v.config();
    if (!conf) return fail_here(conf.error());
    op.conf = std::move(*conf);
  }
  if (n.cgroup || n.live) {
    auto h = host_of(v);
    if (!h) return fail_here(h.error());
    op.host_.emplace(std::move(*h));
  }
  if (n.live) {
    auto live = probe(op.cg(), op.layout);
    if (!live) return fail_here(live.error());
    op.live = std::move(*live);
  }
  return op;
}

}  // namespace ovz::detail
