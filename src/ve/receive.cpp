// The receiving side of a migration: the VE's files taken into a staging directory beside
// its private area, put in place (its CTID.conf last: the VE exists from then on), and run
// as it ran at the source. A failure removes everything of it here and tells the source.

#include <ovz/migration.hpp>
#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include "fail.hpp"
#include "kernel/files.hpp"
#include "log.hpp"
#include "ve/locked_ops.hpp"
#include "ve/migration_hello.hpp"
#include "ve/migration_stream.hpp"
#include "ve/page_relay.hpp"
#include "ve/ve_op.hpp"

#include <cstdlib>
#include <optional>
#include <string>

namespace ovz::detail {
namespace {

// Where the files arrive, on the private area's file system so that they move into place
// by rename; removed with whatever is left in it.
class staging {
 public:
  static result<staging> make(const ve_layout& l) {
    std::error_code ec;
    std::filesystem::create_directories(l.private_dir.parent_path(), ec);
    if (ec) return sys_fail(ec.value(), "create {}", l.private_dir.parent_path().string());
    std::string name = l.private_dir.string() + ".incoming-XXXXXX";
    if (!::mkdtemp(name.data())) return sys_fail(errno, "mkdtemp {}", name);
    staging s;
    s.dir_ = name;
    return s;
  }
  staging(staging&& o) noexcept : dir_(std::move(o.dir_)) { o.dir_.clear(); }
  ~staging() {
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  std::filesystem::path operator/(const char* name) const { return dir_ / name; }

 private:
  staging() = default;
  std::filesystem::path dir_;
};

result<void> move_into_place(const std::filesystem::path& from, const std::filesystem::path& to) {
  std::error_code ec;
  // Data without a config is what a crashed create or destroy left: not a VE.
  std::filesystem::remove_all(to, ec);
  std::filesystem::create_directories(to.parent_path(), ec);
  std::filesystem::rename(from, to, ec);
  if (ec) return sys_fail(ec.value(), "rename {} to {}", from.string(), to.string());
  return success();
}

// Whether this root can take the VE the hello describes.
result<void> check_hello(ve_op& op, const hello& h) {
  std::error_code ec;
  if (std::filesystem::exists(op.layout.conf, ec))
    return fail(errc::already_exists, "VE {} exists in {}", h.id.value(),
                op.state_root().string());
  if (h.run == run_there::restore && h.arch != host_machine())
    return fail(errc::invalid_argument, "a checkpoint of {} cannot run on {}", h.arch,
                host_machine());
  if (!h.ostemplate.empty()) {
    BOOST_OUTCOME_TRY(template_store(op.state_root()).find(h.ostemplate));
  }
  return success();
}

// The number of a pre-dump named "pre/N"; nullopt for another name.
std::optional<int> pre_dump_number(std::string_view name) {
  if (!name.starts_with("pre/") || name.size() < 5 || name.size() > 6 ||
      name.find_first_not_of("0123456789", 4) != std::string_view::npos)
    return std::nullopt;
  return std::stoi(std::string(name.substr(4)));
}

// Where the images of a dump of that name go in the staging directory `in`.
result<std::filesystem::path> dump_place(const staging& in, std::string_view name) {
  if (name == "dump") return in / "dump";
  if (auto n = pre_dump_number(name)) {
    std::error_code ec;
    std::filesystem::create_directories(in / "pre", ec);
    if (ec) return sys_fail(ec.value(), "create {}", (in / "pre").string());
    return in / "pre" / std::to_string(*n);
  }
  return fail(errc::peer_failed, "the other side sent a dump named '{}'", name);
}

// Where a tree of that name goes in the staging directory `in`, and how.
result<std::pair<std::filesystem::path, tree_into>> place_of(const staging& in,
                                                            std::string_view name) {
  if (name == "private") return std::pair{in / "private", tree_into::new_dir};
  if (name == "private-base") return std::pair{in / "private", tree_into::new_dir_incremental};
  if (name == "private-delta") return std::pair{in / "private", tree_into::over_dir};
  BOOST_OUTCOME_TRY(dir, dump_place(in, name));
  std::error_code ec;
  // Its memory, where it came first, is there already.
  return std::pair{dir, std::filesystem::exists(dir, ec) ? tree_into::beside : tree_into::new_dir};
}

// A dump's memory, to a page server in its place. Pre-dumps come in order, each on from the
// one before; the final dump on from the last.
result<void> take_pages(const stream_end& s, const staging& in, std::string_view name,
                        int& last_pre) {
  BOOST_OUTCOME_TRY(dir, dump_place(in, name));
  std::string parent;
  if (auto n = pre_dump_number(name)) {
    if (*n != last_pre + 1)
      return fail(errc::peer_failed, "the other side sent pre-dump {} after {}", *n, last_pre);
    if (last_pre > 0) parent = fmt::format("../{}", last_pre);
    last_pre = *n;
  } else if (last_pre > 0) {
    parent = fmt::format("../pre/{}", last_pre);
  }
  return serve_pages(s, dir, parent);
}

// The files, once done has come; then the VE in place, its config last.
result<void> take_files(ve_op& op, int fd, const staging& in) {
  BOOST_OUTCOME_TRY(conf_text, expect(fd, mig::file, "the VE's CTID.conf"));
  BOOST_OUTCOME_TRY(conf, ve_config::parse(conf_text, "the VE's CTID.conf as sent"));
  int last_pre = 0;
  for (;;) {
    BOOST_OUTCOME_TRY(f, next_frame(fd, "the VE's files"));
    if (static_cast<mig>(f.type) == mig::done) break;
    if (static_cast<mig>(f.type) == mig::pages) {
      BOOST_OUTCOME_TRY(take_pages(fd, in, f.payload, last_pre));
      continue;
    }
    if (static_cast<mig>(f.type) != mig::tree)
      return fail(errc::peer_failed, "the other side sent a frame of type {} among the files",
                  f.type);
    BOOST_OUTCOME_TRY(place, place_of(in, f.payload));
    BOOST_OUTCOME_TRY(receive_tree(fd, place.first, place.second));
  }
  // What came, in place; a tree that did not come is not there.
  const std::pair<const char*, const std::filesystem::path*> moves[] = {
      {"private", &op.layout.private_dir}, {"pre", &op.layout.pre_dumps}, {"dump", &op.layout.dump}};
  for (const auto& [name, to] : moves) {
    if (std::filesystem::exists(in / name)) {
      BOOST_OUTCOME_TRY(move_into_place(in / name, *to));
    }
  }
  std::error_code ec;
  std::filesystem::create_directories(op.layout.conf.parent_path(), ec);
  if (ec) return sys_fail(ec.value(), "create {}", op.layout.conf.parent_path().string());
  BOOST_OUTCOME_TRY(replace_file(op.layout.conf, conf.serialize()));
  op.conf = std::move(conf);
  return success();
}

result<void> run_received(ve_op& op, const hello& h) {
  if (h.run == run_there::start) return start_locked(op, {});
  if (h.run != run_there::restore) return success();
  BOOST_OUTCOME_TRY(restore_locked(op, op.layout.dump));
  // The checkpoint was the move's, not one the VE's owner made.
  std::error_code ec;
  for (const auto& p : {op.layout.dump, op.layout.pre_dumps}) std::filesystem::remove_all(p, ec);
  return success();
}

result<ctid> receive_locked(ve_op& op, int fd, const hello& h) {
  BOOST_OUTCOME_TRY(check_hello(op, h));
  BOOST_OUTCOME_TRY(in, staging::make(op.layout));
  BOOST_OUTCOME_TRY(answer(fd, mig::ready));
  auto taken = take_files(op, fd, in);
  if (taken) taken = run_received(op, h);
  if (!taken) {
    // A config never written leaves data only, which destroy removes too (and says so).
    if (auto gone = destroy_locked(op); !gone && !gone.error().is(errc::not_found))
      logged(gone, fmt::format("VE {}: removing what was received", h.id.value()));
    return taken.error();
  }
  // It runs here now. A source that does not hear so leaves its copy at rest (in doubt)
  // rather than run it again, so this one stays.
  if (auto told = answer(fd, mig::ok); !told)
    logged(told, fmt::format("VE {} runs here; telling the source so", h.id.value()));
  return h.id;
}

}  // namespace
}  // namespace ovz::detail

namespace ovz::inline v0 {

result<ctid> receive_ve(int fd, const std::filesystem::path& state_root) {
  // The source learns why it cannot move its VE here, whatever failed.
  auto told = [&](const error& e) -> error {
    (void)detail::answer(fd, detail::mig::error, e.message());
    return e;
  };
  auto text = detail::expect(fd, detail::mig::hello, "the migration's hello");
  if (!text) return text.error();
  auto h = detail::parse_hello(*text);
  if (!h) return told(h.error());
  auto v = ve::open(h->id, state_root);
  if (!v) return told(v.error());
  auto received = detail::ve_op::run(*v, {.lock = true}, [&](detail::ve_op& op) {
    return detail::receive_locked(op, fd, *h);
  });
  if (!received && !received.error().is(errc::peer_failed)) return told(received.error());
  return received;
}

}  // namespace ovz::inline v0
