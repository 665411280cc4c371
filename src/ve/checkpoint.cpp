// Checkpoint and restore of a VE over CRIU: the dump of its init's tree into a directory
// beside a manifest, and a start whose processes come from that directory (criu_source).

#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/cgroup_mounts.hpp"
#include "kernel/cgroup_subtree.hpp"
#include "kernel/files.hpp"
#include "kernel/criu_service.hpp"
#include "model/network.hpp"
#include "ve/criu_source.hpp"
#include "ve/live_state.hpp"
#include "ve/locked_ops.hpp"
#include "ve/migration_hello.hpp"
#include "ve/net_live.hpp"
#include "ve/plan.hpp"
#include "ve/plan_apply.hpp"
#include "ve/proc_views.hpp"
#include "ve/storage.hpp"
#include "ve/ve_op.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

namespace ovz::detail {
namespace {

constexpr const char manifest_name[] = "manifest";
constexpr const char conf_copy_name[] = "ve.conf";
constexpr const char manifest_version[] = "1";

const char* storage_name(detail::storage_kind k) {
  return k == detail::storage_kind::image ? "image" : "overlay";
}

std::string kernel_release() {
  struct utsname u {};
  ::uname(&u);
  return u.release;
}

// What restore checks before it starts anything, and what a user reads to know what the
// directory holds: KEY="value" lines as CTID.conf has them.
result<ve_config> manifest_of(const detail::ve_op& op, const std::string& criu_version,
                              const std::string& veth_pairs,
                              const std::vector<std::string>& proc_views) {
  ve_config m;
  auto put = [&](std::string_view key, std::string_view value) { return m.set(key, value); };
  BOOST_OUTCOME_TRY(put("VERSION", manifest_version));
  BOOST_OUTCOME_TRY(put("CTID", std::to_string(op.id().value())));
  BOOST_OUTCOME_TRY(put("OSTEMPLATE", op.conf.get("OSTEMPLATE").value_or("")));
  BOOST_OUTCOME_TRY(put("STORAGE", storage_name(detail::storage_kind_of(op.layout))));
  BOOST_OUTCOME_TRY(put("CGROUP_VERSION", std::to_string(op.cg().version())));
  BOOST_OUTCOME_TRY(put("CGROUP_MANAGER", op.cg().name()));
  BOOST_OUTCOME_TRY(put("ARCH", host_machine()));
  BOOST_OUTCOME_TRY(put("KERNEL", kernel_release()));
  BOOST_OUTCOME_TRY(put("CRIU", criu_version));
  BOOST_OUTCOME_TRY(put("IP_ADDRESS", op.conf.get("IP_ADDRESS").value_or("")));
  BOOST_OUTCOME_TRY(put("NETIF", op.conf.get("NETIF").value_or("")));
  BOOST_OUTCOME_TRY(put("VETH", veth_pairs));
  std::string views;
  for (const auto& v : proc_views) views += (views.empty() ? "" : " ") + v;
  BOOST_OUTCOME_TRY(put("PROC_VIEWS", views));
  return m;
}

// A restore on this host of what `m` describes: the same VE, machine, cgroup version and
// kind of storage; another kernel or CRIU is CRIU's to judge.
result<void> check_manifest(const ve_config& m, const detail::ve_op& op,
                            const std::filesystem::path& dir) {
  auto expect = [&](std::string_view key, const std::string& here,
                    std::string_view what) -> result<void> {
    const auto there = m.get(key).value_or("");
    if (there == here) return success();
    return detail::fail(errc::invalid_argument,
                        "the checkpoint in {} is {} {} and this is {} {} ({} in its manifest)",
                        dir.string(), what, there.empty() ? "unknown" : there, what, here, key);
  };
  BOOST_OUTCOME_TRY(expect("VERSION", manifest_version, "of layout version"));
  BOOST_OUTCOME_TRY(expect("CTID", std::to_string(op.id().value()), "of VE"));
  BOOST_OUTCOME_TRY(expect("ARCH", host_machine(), "of machine"));
  BOOST_OUTCOME_TRY(expect("CGROUP_VERSION", std::to_string(op.cg().version()), "of cgroup version"));
  BOOST_OUTCOME_TRY(expect("STORAGE", storage_name(detail::storage_kind_of(op.layout)),
                           "of storage"));
  return success();
}

// The directory a dump writes into, beside where it goes once complete: a failed dump leaves
// nothing, and a complete one replaces the previous checkpoint at once.
class staged_dir {
 public:
  static result<staged_dir> make(const std::filesystem::path& final) {
    std::error_code ec;
    std::filesystem::create_directories(final.parent_path(), ec);
    if (ec) return detail::sys_fail(ec.value(), "create {}", final.parent_path().string());
    std::string name = final.string() + ".new-XXXXXX";
    if (!::mkdtemp(name.data())) return detail::sys_fail(errno, "mkdtemp {}", name);
    staged_dir d;
    d.final_ = final;
    d.path_ = name;
    d.fd_.reset(::open(name.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!d.fd_) return detail::sys_fail(errno, "open {}", name);
    return d;
  }
  staged_dir(staged_dir&&) = default;
  ~staged_dir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  int fd() const { return fd_.get(); }
  const std::filesystem::path& path() const { return path_; }

  result<void> publish() {
    std::error_code ec;
    const auto old = final_.string() + ".old";
    std::filesystem::remove_all(old, ec);
    if (std::filesystem::exists(final_)) {
      std::filesystem::rename(final_, old, ec);
      if (ec) return detail::sys_fail(ec.value(), "move the previous {} aside", final_.string());
    }
    std::filesystem::rename(path_, final_, ec);
    if (ec) return detail::sys_fail(ec.value(), "rename {} to {}", path_.string(), final_.string());
    path_.clear();
    std::filesystem::remove_all(old, ec);
    return success();
  }

 private:
  staged_dir() = default;
  std::filesystem::path final_, path_;
  unique_fd fd_;
};

// The freezer of the VE's cgroup as CRIU reads it, as its manager placed it (v1's freezer
// hierarchy, v2's cgroup, the leaf below a systemd scope).
result<std::string> freezer_of(const detail::ve_op& op) {
  BOOST_OUTCOME_TRY(cg, op.cg().open(op.layout.cgroup));
  const auto* dir = cg.with("freezer");
  if (!dir) return detail::fail(errc::unsupported, "no freezer for {}'s cgroup", op.context());
  return dir->path();
}

// The VE's pairs with the host as the manifest's VETH lists them: "venet0:venet101
// eth0:veth101.0". CRIU dumps the VE's side of its network; the host ends are external, made
// again at restore with the names they had (adopt_network equips them).
result<std::string> veth_pairs_of(const detail::ve_op& op) {
  BOOST_OUTCOME_TRY(net, detail::network_from_config(op.conf));
  BOOST_OUTCOME_TRY(pairs, detail::host_veth_ends(op.host(), op.layout, net));
  std::string out;
  for (const auto& p : pairs) out += fmt::format("{}{}:{}", out.empty() ? "" : " ", p.inside, p.host);
  return out;
}

// A manifest's list ("a b c"), as words.
std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> out;
  std::istringstream in{std::string(text)};
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The manifest's VETH as CRIU's externals, the same at dump and restore.
std::vector<std::string> veth_externals(std::string_view pairs) {
  std::vector<std::string> out;
  while (!pairs.empty()) {
    const auto end = std::min(pairs.find(' '), pairs.size());
    const auto pair = pairs.substr(0, end);
    if (const auto colon = pair.find(':'); colon != std::string_view::npos)
      out.push_back(fmt::format("veth[{}]:{}", pair.substr(0, colon), pair.substr(colon + 1)));
    pairs.remove_prefix(std::min(end + 1, pairs.size()));
  }
  return out;
}

// In a user namespace CRIU's restoring tasks read their images as the VE's root, which is
// `root_id` on the host: the images of `dir` and of the pre-dumps it rests on become that
// id's (the VE's own memory; no path inside the VE reaches them). But the restoring root task
// opens its time namespace's image (timens-N.img) before its parent has written the user
// namespace's id maps, and until then its capabilities cover no file: that image is readable
// by others, in a directory others may search (its parents are root's alone), or the restore
// fails whenever the task is the quicker one.
result<void> hand_images_to(const std::filesystem::path& dir, std::uint32_t root_id) {
  std::error_code ec;
  if (::chmod(dir.c_str(), 0711) != 0) return detail::sys_fail(errno, "chmod {}", dir.string());
  for (auto d = dir;;) {
    if (::chown(d.c_str(), root_id, root_id) != 0) return detail::sys_fail(errno, "chown {}", d.string());
    for (const auto& e : std::filesystem::directory_iterator(d, ec)) {
      if (!e.is_regular_file(ec)) continue;
      if (::chown(e.path().c_str(), root_id, root_id) != 0)
        return detail::sys_fail(errno, "chown {}", e.path().string());
      if (e.path().filename().string().starts_with("timens-") &&
          ::chmod(e.path().c_str(), 0644) != 0)
        return detail::sys_fail(errno, "chmod {}", e.path().string());
    }
    if (ec) return detail::sys_fail(ec.value(), "list {}", d.string());
    const auto parent = d / "parent";
    std::error_code none;
    if (std::filesystem::symlink_status(parent, none).type() != std::filesystem::file_type::symlink)
      break;
    d = std::filesystem::canonical(parent, ec);
    if (ec) return detail::sys_fail(ec.value(), "resolve {}", parent.string());
  }
  return success();
}

}  // namespace

namespace {

// What a dump and a pre-dump of the VE ask of CRIU, into the open directory `images`.
result<criu_dump_request> dump_request(const ve_op& op, int images, const char* log,
                                       const dump_chain& chain) {
  criu_dump_request r;
  r.images_dir = images;
  r.log_file = log;
  r.pid = op.live.init_pid;
  BOOST_OUTCOME_TRY(freezer, freezer_of(op));
  r.freeze_cgroup = std::move(freezer);
  r.track_mem = chain.track_mem;
  r.parent_img = chain.parent_img;
  r.page_server = chain.page_server;
  // Where a VE's programs watch files besides CRIU's own guesses (/etc, /var/log,
  // /var/spool): its runtime and temporary files and its users' homes; never /proc,
  // /sys or /dev, whose walks are long and whose files CRIU has other ways to find.
  r.irmap_scan_paths = {"/run", "/tmp", "/var/lib", "/var/tmp", "/root", "/home", "/srv"};
  return r;
}

}  // namespace

result<void> checkpoint_locked(ve_op& op, const std::filesystem::path& where,
                               const checkpoint_options& opts, const dump_chain& chain,
                               const images_written& hand_over) {
  if (!op.live.init_pid)
    return detail::fail(errc::not_running, "{} is not running", op.context());
  BOOST_OUTCOME_TRY(detail::criu_kernel_check());
  BOOST_OUTCOME_TRY(version, detail::criu_version_of());
  BOOST_OUTCOME_TRY(staged, staged_dir::make(where));
  BOOST_OUTCOME_TRY(pairs, veth_pairs_of(op));
  BOOST_OUTCOME_TRY(views, detail::proc_view_binds(op.live.init_pid));
  BOOST_OUTCOME_TRY(manifest, manifest_of(op, version.text(), pairs, views));
  BOOST_OUTCOME_TRY(detail::replace_file(staged.path() / manifest_name, manifest.serialize()));
  BOOST_OUTCOME_TRY(detail::replace_file(staged.path() / conf_copy_name, op.conf.serialize()));
  if (op.cg().version() == 2) {
    BOOST_OUTCOME_TRY(cg, freezer_of(op));  // on v2 the VE's cgroup itself
    BOOST_OUTCOME_TRY(controls, detail::subtree_controls(cg));
    BOOST_OUTCOME_TRY(detail::replace_file(staged.path() / detail::criu_source::controls_name, controls));
  }
  BOOST_OUTCOME_TRY(r, dump_request(op, staged.fd(), "dump.log", chain));
  r.leave_running = opts.leave_running;
  r.externals = veth_externals(pairs);
  for (auto& e : detail::proc_view_externals(views)) r.externals.push_back(std::move(e));
  criu_notify at_post_dump;
  if (hand_over)
    at_post_dump = [&](criu_notice& n) -> result<void> {
      return n.script == "post-dump" ? hand_over(staged.path()) : result<void>(success());
    };
  auto dumped = detail::criu_dump(r, at_post_dump);
  if (!dumped) return detail::with_context(dumped.error(), "checkpoint");
  BOOST_OUTCOME_TRY(staged.publish());
  if (opts.leave_running) return success();
  // CRIU killed the processes it wrote; what a stop removes goes too.
  return detail::clean_up(op.host(), op.layout);
}

result<void> predump_locked(ve_op& op, const std::filesystem::path& where,
                            const dump_chain& chain) {
  if (::mkdir(where.c_str(), 0700) != 0) return sys_fail(errno, "mkdir {}", where.string());
  unique_fd images(::open(where.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!images) return sys_fail(errno, "open {}", where.string());
  BOOST_OUTCOME_TRY(r, dump_request(op, images.get(), "pre-dump.log", chain));
  r.pre_dump = true;
  auto dumped = criu_dump(r, {});
  if (!dumped) return with_context(dumped.error(), "pre-dump");
  return success();
}

namespace {

// Where the VE's cgroup is on cgroup v2 (empty on v1), before it is made.
std::filesystem::path v2_dir_of(const ve_op& op) {
  if (op.cg().version() != 2) return {};
  for (const auto& h : ve_cgroup_hierarchies())
    if (h.v2) return h.mount_point + op.cg().hierarchy_path(op.layout.cgroup);
  return {};
}

}  // namespace

result<void> restore_locked(ve_op& op, const std::filesystem::path& where) {
  if (op.live.init_pid)
    return detail::fail(errc::already_running, "{} is already running (init PID {})",
                        op.context(), op.live.init_pid);
  auto manifest = ve_config::load(where / manifest_name);
  if (!manifest) {
    if (manifest.error().sys_errno() == ENOENT)
      return detail::fail(errc::not_found, "no checkpoint in {} (no {})", where.string(),
                          manifest_name);
    return manifest.error();
  }
  BOOST_OUTCOME_TRY(check_manifest(*manifest, op, where));
  BOOST_OUTCOME_TRY(detail::criu_kernel_check());
  unique_fd images(::open(where.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!images) return detail::sys_fail(errno, "open {}", where.string());
  // CRIU makes the host ends of the VE's pairs by name: nothing of a crashed run may
  // hold them.
  if (op.cg().exists(op.layout.cgroup)) {
    BOOST_OUTCOME_TRY(detail::clean_up(op.host(), op.layout));
  } else {
    BOOST_OUTCOME_TRY(detail::tear_down_network(op.host(), op.layout));
  }
  BOOST_OUTCOME_TRY(inputs, detail::gather_plan_inputs(op.conf, op.layout, op.state_root()));
  BOOST_OUTCOME_TRY(plan, detail::plan_for(op.conf, op.layout, inputs, {}));
  if (plan.userns && plan.userns->root_uid()) {
    BOOST_OUTCOME_TRY(hand_images_to(where, *plan.userns->root_uid()));
  }
  auto externals = veth_externals(manifest->get("VETH").value_or(""));
  // The /proc files the VE had from ovzproc: from one mounted for the restore where the
  // module is loaded, else the host's own (the numbers a start here would show).
  const auto views = words_of(manifest->get("PROC_VIEWS").value_or(""));
  std::optional<detail::proc_views_mount> mounted;
  std::filesystem::path views_source = "/proc";
  if (!views.empty() && plan.proc_views.bound()) {
    if (plan.proc_views.mounted_per_start()) {
      BOOST_OUTCOME_TRY(m, detail::proc_views_mount::mount(plan.proc_views.dir));
      mounted.emplace(std::move(m));
    }
    views_source = plan.proc_views.dir;
  }
  for (auto& e : detail::proc_view_externals(views, views_source)) externals.push_back(std::move(e));
  detail::criu_source source(std::move(images), op.state_root(), std::move(externals),
                             op.cg().hierarchy_path(op.layout.cgroup), v2_dir_of(op));
  auto init = detail::apply_plan(plan, op.layout, op.host(), source);
  if (!init) return detail::with_context(init.error(), "restore");
  return success();
}

}  // namespace ovz::detail

namespace ovz::inline v0 {

std::filesystem::path ve::dump_path() const { return detail::layout_of(root_, id_).dump; }

result<void> ve::checkpoint(const std::filesystem::path& dir, const checkpoint_options& opts) {
  return detail::ve_op::run(*this, {.lock = true, .config = true, .live = true},
                            [&](detail::ve_op& op) {
                              return detail::checkpoint_locked(
                                  op, dir.empty() ? dump_path() : dir, opts);
                            });
}

result<void> ve::restore(const std::filesystem::path& dir) {
  return detail::ve_op::run(*this, {.lock = true, .config = true, .live = true},
                            [&](detail::ve_op& op) {
                              return detail::restore_locked(op, dir.empty() ? dump_path() : dir);
                            });
}

}  // namespace ovz::inline v0
