// The VE handle and what reads its state: status, config, list.

#include <ovz/state_root.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "model/layout.hpp"
#include "ve/live_state.hpp"
#include "ve/ve_list.hpp"
#include "ve/ve_op.hpp"


namespace ovz::inline v0 {

const char* to_string(ve_state s) noexcept {
  switch (s) {
    case ve_state::absent: return "absent";
    case ve_state::stopped: return "stopped";
    case ve_state::running: return "running";
  }
  return "?";
}

result<ve> ve::open(ctid id, const std::filesystem::path& state_root) {
  return ve(id, resolve_state_root(state_root));
}

result<ve> ve::open(ctid id, const std::filesystem::path& state_root, const host& on) {
  return ve(id, resolve_state_root(state_root), on);
}

std::filesystem::path ve::conf_path() const { return detail::layout_of(root_, id_).conf; }

std::filesystem::path ve::private_path() const {
  return detail::layout_of(root_, id_).private_dir;
}

result<ve_config> ve::config() const {
  auto l = detail::layout_of(root_, id_);
  auto conf = ve_config::load(l.conf);
  if (!conf && conf.error().sys_errno() == ENOENT)
    return detail::fail(errc::not_found, "VE {} does not exist (no {})", id_.value(),
                        l.conf.string());
  return conf;
}

result<ve_status> ve::status() const {
  ve_status st{.id = id_};
  auto op = detail::ve_op::begin(*this, {});
  if (!op && op.error().is(errc::not_found)) return st;  // no state root, so no VE
  if (!op) return op.error();
  const auto& l = op->layout;
  // A VE whose config does not parse still exists and may run: status reports it, and
  // config() or start() say what is wrong with the file.
  auto conf = ve_config::load(l.conf);
  if (conf) {
    st.state = ve_state::stopped;
    st.hostname = conf->get("HOSTNAME").value_or("");
    st.ostemplate = conf->get("OSTEMPLATE").value_or("");
  } else if (conf.error().sys_errno() != ENOENT) {
    st.state = ve_state::stopped;
  }
  BOOST_OUTCOME_TRY(live, detail::probe(op->cg(), l));
  if (live.init_pid) {
    st.state = ve_state::running;
    st.mounted = true;
    st.init_pid = live.init_pid;
    st.nproc = live.nproc;
    st.suspended = live.frozen;
  }
  return st;
}

result<std::vector<ve_status>> list_ves(const std::filesystem::path& state_root) {
  std::vector<ve_status> all;
  BOOST_OUTCOME_TRY(detail::for_each_ve(resolve_state_root(state_root), [&](const ve& v) -> result<void> {
    BOOST_OUTCOME_TRY(st, v.status());
    all.push_back(std::move(st));
    return success();
  }));
  return all;
}

}  // namespace ovz::inline v0
