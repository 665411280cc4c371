#pragma once
// What a state root keeps of an OCI container beside its VE: `<root>/oci/<ID>/` holds
// `container` (KEY="value": its CTID, bundle, creation time, its init's PID and start time,
// by which a reused PID is told apart), a copy of its config.json (for `state`'s
// annotations, the bundle being its owner's to change), and, until start, the FIFO its
// process waits on.

#include <ovz/ctid.hpp>
#include <ovz/result.hpp>

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace ovz::detail {

struct oci_record {
  std::optional<ctid> ve{};  // chosen at create
  std::filesystem::path bundle{};
  std::string created{};
  pid_t init_pid = 0;
  unsigned long long init_start = 0;  // clock ticks after boot (/proc/PID/stat)
};

struct oci_paths {
  std::filesystem::path dir;        // <root>/oci/<ID>
  std::filesystem::path record;     // <dir>/container
  std::filesystem::path config;     // <dir>/config.json
  std::filesystem::path gate;       // <dir>/exec.fifo
};

oci_paths oci_paths_of(const std::filesystem::path& root, std::string_view id);

result<oci_record> load_record(const oci_paths& p, std::string_view id);
result<void> save_record(const oci_paths& p, const oci_record& r);

/// The current time as RFC 3339 with nanoseconds, UTC ("2026-12-06T09:10:11.123456789Z").
std::string rfc3339_now();

}  // namespace ovz::detail
