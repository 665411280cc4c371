#pragma once
// What `template create --debootstrap` decides before it touches anything: which mirror the
// host's apt sources name for a suite, whether the request is sane, debootstrap's command line,
// and the container fix-ups that are text edits.

#include <ovz/result.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz::detail {

/// One binary ("deb") source of apt: where and which suites.
struct apt_source {
  std::string uri;
  std::vector<std::string> suites;
};

/// The "deb" lines of a one-line-style sources.list ("deb [opts] URI SUITE COMPONENT...");
/// comments, deb-src lines and malformed lines are skipped, as apt would warn and go on.
std::vector<apt_source> parse_sources_list(std::string_view text);

/// The enabled stanzas of a deb822 .sources file whose Types include "deb", one per URI.
std::vector<apt_source> parse_deb822_sources(std::string_view text);

/// The mirror to bootstrap `suite` from, in the order apt read the sources: the first source
/// that lists `suite` itself, else the first Debian archive (a URI whose path ends in
/// "/debian"): a bookworm host's mirror also serves trixie. nullopt when there is neither.
std::optional<std::string> pick_mirror(const std::vector<apt_source>& sources,
                                       std::string_view suite);

/// Refuses what debootstrap would misread before anything is made: a suite that is not a plain
/// name, a mirror that is not an http, https, ftp or file URL, a package that is not a Debian
/// package name (all of them could otherwise start with '-' and become an option).
result<void> check_debootstrap_request(std::string_view suite, std::string_view mirror,
                                       const std::vector<std::string>& packages);

/// The packages debootstrap adds to minbase: `include` in its order, plus systemd-sysv
/// (Debian's default init) when none of them is an init — minbase has no /sbin/init, and a
/// template without one cannot boot a VE.
std::vector<std::string> debootstrap_packages(const std::vector<std::string>& include);

/// debootstrap's argv (the program name first). `cache_dir` (absolute, may be empty) keeps the
/// downloaded .debs between runs.
std::vector<std::string> debootstrap_argv(const std::filesystem::path& target,
                                          std::string_view suite, std::string_view mirror,
                                          const std::vector<std::string>& packages,
                                          const std::filesystem::path& cache_dir);

/// sysvinit's inittab with every getty line commented out (and why, once). A VE has no tty1-6:
/// each getty would fail and be respawned every few seconds, then every five minutes, for ever,
/// each time with a wtmp record. Everything else (initdefault, rc, ctrl-alt-del) stays.
std::string inittab_without_gettys(std::string_view inittab);

/// insserv's `/etc/init.d/.depend.start` (the order sysv-rc's startpar follows) with `script`
/// among its TARGETS and started before `before`: what update-rc.d would write for a script
/// whose LSB header says X-Start-Before, without running the tree's own insserv. Unchanged
/// when it already holds it.
std::string depend_start_before(std::string_view depend, std::string_view script,
                                std::string_view before);

}  // namespace ovz::detail
