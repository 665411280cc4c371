#include "ve/userns.hpp"

#include "fail.hpp"
#include "kernel/files.hpp"
#include "kernel/idmap.hpp"
#include "ve/lock.hpp"
#include "ve/ve_list.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ovz::detail {
namespace {

constexpr const char* not_switchable =
    "a VE's user namespace is chosen at create and kept for life, as its files belong to the "
    "mapped ids: create a new VE (with --userns or without) and copy the data over";

result<void> check_owner(const ve_layout& l, const ve_storage& storage, const id_range& r) {
  BOOST_OUTCOME_TRY(owner, storage.root_owner());
  if (owner != r.base)
    return fail(errc::bad_config,
                "the VE's files in {} belong to host uid {}, not to the VE's root (host uid {}): "
                "the VE was not created with this USERNS_MAP; {}",
                l.private_dir.string(), owner, r.base, not_switchable);
  return success();
}

}  // namespace

result<void> check_reachable(const std::filesystem::path& target, const userns_plan& ns) {
  const auto uid = ns.root_uid();
  const auto gid = ns.root_gid();
  // Root inside searches a directory others may search, one its own ids may, and any whose
  // owner and group the maps hold (its capabilities cover those).
  auto searchable = [&](const struct stat& st) {
    return (st.st_mode & S_IXOTH) || (uid && st.st_uid == *uid && (st.st_mode & S_IXUSR)) ||
           (gid && st.st_gid == *gid && (st.st_mode & S_IXGRP)) ||
           (maps_to(ns.uid_map, st.st_uid) && maps_to(ns.gid_map, st.st_gid));
  };
  for (auto dir = target.parent_path(); ; dir = dir.parent_path()) {
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) return sys_fail(errno, "stat {}", dir.string());
    if (!searchable(st))
      return fail(errc::invalid_argument,
                  "{} (mode {:04o}, owner {}:{}) is not searchable by the root of the VE's user "
                  "namespace (host uid {}), which must reach {}: chmod o+x {}, or give it to "
                  "that root (the directories on the way must be 0711 or 0755 for VEs in a "
                  "user namespace)",
                  dir.string(), st.st_mode & 07777, st.st_uid, st.st_gid,
                  uid ? std::to_string(*uid) : "unmapped", target.string(), dir.string());
    if (dir == dir.root_path()) break;
  }
  return success();
}

result<std::optional<id_range>> userns_range(const ve_config& conf) {
  auto mode = conf.get("USERNS");
  auto map = conf.get("USERNS_MAP");
  const bool on = mode && *mode == "yes";
  if (mode && !on && *mode != "no")
    return fail(errc::bad_config, "USERNS=\"{}\" is neither \"yes\" nor \"no\"", *mode);
  if (on && !map)
    return fail(errc::bad_config, "USERNS=\"yes\" without USERNS_MAP, which create --userns "
                                  "writes: {}", not_switchable);
  if (!on && map)
    return fail(errc::bad_config, "USERNS_MAP=\"{}\" is set but USERNS is not \"yes\": {}", *map,
                not_switchable);
  if (!on) return std::optional<id_range>{};
  BOOST_OUTCOME_TRY(r, parse_id_range(*map));
  return std::optional<id_range>{r};
}

result<id_allocation> allocate_ids(const std::filesystem::path& state_root) {
  auto lock_path = state_root / "lock" / "userns.lck";
  BOOST_OUTCOME_TRY(lock, open_lock_file(lock_path));
  // Held only while a create picks a range and saves its config: waiting is short.
  while (::flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return sys_fail(errno, "flock {}", lock_path.string());
  }
  std::vector<id_range> taken;
  for (const char* file : {"/etc/subuid", "/etc/subgid"}) {
    auto text = read_file(file);
    if (text) {
      auto ranges = parse_subid(*text);
      taken.insert(taken.end(), ranges.begin(), ranges.end());
    } else if (text.error().sys_errno() != ENOENT) {
      return text.error();
    }
  }
  BOOST_OUTCOME_TRY(ids, list_ctids(state_root));
  for (ctid id : ids) {
    // A config that does not load or map cannot start either: its range is not in use.
    auto conf = ve_config::load(layout_of(state_root, id).conf);
    if (!conf) continue;
    if (auto map = conf->get("USERNS_MAP")) {
      if (auto r = parse_id_range(*map)) taken.push_back(*r);
    }
  }
  auto range = free_id_range(taken);
  if (!range)
    return fail(errc::unsupported, "no free block of {} host ids is left for a user namespace",
                ve_id_count);
  return id_allocation{std::move(lock), *range};
}

result<void> adopt_ids(ve_config& conf, const id_range& r) {
  BOOST_OUTCOME_TRY(conf.set("USERNS", "yes"));
  return conf.set("USERNS_MAP", format_id_range(r));
}

std::vector<id_map> userns_maps(const id_range& r) { return {{0, r.base, r.count}}; }

result<unique_fd> userns_root(const ve_layout& l, const ve_storage& storage, const id_range& r) {
  BOOST_OUTCOME_TRY(check_owner(l, storage, r));
  const auto map = userns_maps(r);
  BOOST_OUTCOME_TRY(ns, userns_with_maps(map, map));
  return storage.shifted_root(ns.get());
}

result<bool> in_other_userns(pid_t pid) {
  BOOST_OUTCOME_TRY(theirs, ns_handle::open(pid, ns_type::user));
  BOOST_OUTCOME_TRY(ours, ns_handle::open(::getpid(), ns_type::user));
  BOOST_OUTCOME_TRY(a, theirs.inode());
  BOOST_OUTCOME_TRY(b, ours.inode());
  return a != b;
}

}  // namespace ovz::detail
