#pragma once
// ovzctl's command line: argv in, a command out. Pure logic — no I/O, no VE is touched — so it
// can be unit-tested and fuzzed on its own.

#include <ovz/ctid.hpp>
#include <ovz/network.hpp>
#include <ovz/result.hpp>
#include <ovz/template.hpp>
#include <ovz/ve.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovzctl {

enum class verb {
  help,
  version,
  create,
  start,
  stop,
  restart,
  suspend,
  resume,
  chkpnt,
  restore,
  migrate,
  migrate_receive,
  destroy,
  status,
  plan,
  exec,
  enter,
  console,
  set,
  ubc,
  quota,
  list,
  template_list,
  template_import,
  template_create,
  features,
  tune_host,
};

/// What `set` changes: every `--NAME VALUE` read by ovz::parse_setting (setting.hpp), so only
/// the options given are applied; network changes in network_changes' order, deletions
/// first, as vzctl does.
struct set_request : ovz::ve_changes {
  bool save = false;
  /// --userpasswd USER[:PASSWORD]: not a setting (nothing of it is saved); without a
  /// password, one line of stdin is the password, which keeps it off ovzctl's own argv.
  std::optional<std::string> user{};
  std::optional<std::string> password{};

  bool has_params() const noexcept {
    const auto& c = params.cpu;
    return !params.ubc.empty() || c.cpuunits || c.cpulimit || c.cpus || c.cpumask ||
           params.disk != ovz::disk_params{};
  }
  bool has_security() const noexcept {
    return !security.capabilities.empty() || !security.devnodes.empty() ||
           security.seccomp_profile || security.no_new_privs;
  }
  bool empty() const noexcept {
    return !hostname && !has_params() && !has_security() && network.empty() && !stop_timeout &&
           !nameservers && !searchdomains && !onboot && !user;
  }
};

/// One parsed invocation. Only the fields of `what` are meaningful.
struct command {
  verb what = verb::help;
  /// --root; empty means ovz::resolve_state_root()'s choice (OVZ_ROOT or the default).
  std::filesystem::path root;
  /// The VE of every verb that names one (optional for ubc; start and stop take --all or
  /// --onboot instead).
  std::optional<ovz::ctid> id;
  ovz::create_options create;  ///< create
  bool fast = false;           ///< stop --fast
  /// stop, restart --timeout (seconds); unset: the VE's STOP_TIMEOUT, else 10 s
  std::optional<std::chrono::milliseconds> stop_timeout;
  /// chkpnt, restore --dumpfile: the checkpoint's directory; empty: the VE's dump_path()
  std::filesystem::path dumpfile;
  ovz::checkpoint_options checkpoint;  ///< chkpnt --leave-running
  /// migrate: where to (local:PATH, ssh://[USER@]HOST[:PORT][/ROOT])
  std::string destination;
  ovz::migrate_options migrate;  ///< migrate --online
  std::vector<std::string> exec_words;  ///< exec: the command's words, not yet joined
  set_request set;             ///< set
  bool all = false;            ///< list -a, start --all, stop --all
  bool onboot = false;         ///< start --onboot: the VEs with ONBOOT="yes"
  std::filesystem::path tarball;  ///< template import
  std::string template_name;      ///< template import --name (empty: from the file name), create
  ovz::debootstrap_options debootstrap;  ///< template create
  /// quota --ugid: the users' and groups' table too
  bool ugid_table = false;
  /// quota --user ID or --group ID with --blocks and --inodes (vzquota setlimit2); a limit
  /// not given stays as it is
  std::optional<ovz::quota_ugid> ugid_owner;
  std::optional<ovz::disk_limit> ugid_blocks, ugid_inodes;
};

/// Parses the arguments after argv[0]. Every refusal is errc::invalid_argument with a message
/// fit to show after "ovzctl: ".
ovz::result<command> parse(const std::vector<std::string_view>& args);

/// The --help text.
std::string_view usage() noexcept;

/// exec's words as /bin/sh -c would run them: when sh would take each word as it is (no
/// quoting, expansion, globbing, redirection, assignment or separator) and the program is a
/// path (no PATH search), they themselves; otherwise empty, and exec runs them through sh.
std::vector<std::string> literal_command(const std::vector<std::string>& words);

}  // namespace ovzctl
