#pragma once
// One change of a VE's settings made of parts (hostname, resources, confinement, network):
// each part is checked and made live in a running VE and written into the CTID.conf in
// memory, and gives back how to undo its live part, so that a later refusal or a failed save
// leaves the VE as it was (ve::apply).

#include <ovz/config.hpp>
#include <ovz/network.hpp>
#include <ovz/result.hpp>
#include <ovz/security.hpp>
#include <ovz/ve_params.hpp>

#include "model/layout.hpp"
#include "ve/host_services.hpp"

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace ovz::detail {

struct change_site {
  const std::filesystem::path& state_root;
  const ve_layout& layout;
  const host_services& host;
  pid_t init_pid;  // 0: the VE is stopped
  ve_config& conf;  // saved once every part is in
  bool save;
  /// A stopped VE keeps its settings only in CTID.conf, so they are written regardless.
  bool writes_conf() const { return save || init_pid == 0; }
};

/// Puts back what a part changed live; empty when it changed nothing live.
using undo_step = std::function<void()>;

result<undo_step> change_hostname(change_site& site, const std::string& hostname);
result<undo_step> change_params(change_site& site, const ve_params& changes);
result<undo_step> change_security(change_site& site, const security_changes& changes);
result<undo_step> change_network(change_site& site, const network_changes& changes);
/// NAMESERVER and SEARCHDOMAIN (unset: as they are), live in the VE's /etc/resolv.conf.
result<undo_step> change_resolver(change_site& site,
                                  const std::optional<std::vector<std::string>>& nameservers,
                                  const std::optional<std::vector<std::string>>& searchdomains);

/// DISKSPACE (grown live, shrunk only while stopped), DISKINODES, QUOTATIME, QUOTAUGIDLIMIT
/// of a VE with a disk image; a DISKSPACE for a stopped VE without one moves its files onto a
/// new one. A disk grown is not shrunk back by the undo: it only gains room.
result<undo_step> change_disk(change_site& site, const disk_params& changes);

/// What create can refuse of its disk settings before it makes anything.
result<void> check_create_disk(const disk_params& disk);

/// What of network changes can be refused without looking at any VE (malformed or reserved
/// addresses, bad device fields), so that it is refused before anything changes.
result<void> check_network_changes(const network_changes& changes);

}  // namespace ovz::detail
