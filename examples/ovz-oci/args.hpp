#pragma once
// ovz-oci's command line, runc's as conmon, Podman and containerd's shim write it: global
// options before the command, `--opt value` and `--opt=value` alike, the command's options
// before the container's ID. Pure logic, so it can be unit-tested on its own.

#include <ovz/result.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ovz_oci {

enum class command {
  help, version, features, create, run, start, state, kill, remove, list, ps, exec, pause,
  resume, update
};

struct arguments {
  command cmd = command::help;
  // Global options.
  std::filesystem::path root{};  ///< empty: ovz::default_oci_root()
  std::filesystem::path log{};   ///< empty: errors go to stderr only
  bool log_json = false;
  bool systemd_cgroup = false;
  // The command's.
  std::string id{};
  std::filesystem::path bundle{};  ///< create, run: empty means the working directory
  std::filesystem::path config{};  ///< create, run: empty means the bundle's config.json
  bool keep = false;               ///< run: the stopped container is not deleted
  std::filesystem::path pid_file{};
  std::filesystem::path console_socket{};
  unsigned preserve_fds = 0;
  bool all = false;    ///< kill --all
  bool force = false;  ///< delete --force
  int signal = 15;     ///< kill: SIGTERM unless given
  bool json = false;   ///< ps, list: --format json
  bool quiet = false;  ///< list: IDs only
  // exec's.
  std::filesystem::path process{};  ///< a runtime-spec process object; else `args` and these:
  std::vector<std::string> args{};
  bool detach = false;  ///< exec, run: return once it runs
  bool tty = false;
  std::string cwd{};
  std::vector<std::string> env{};
  std::optional<std::pair<unsigned, unsigned>> user{};  ///< uid, gid
  std::vector<std::string> caps{};  ///< --cap: added to its bounding, effective, permitted sets
  bool no_new_privs = false;
  // update's.
  std::filesystem::path resources{};  ///< a LinuxResources object; "-": stdin
};

/// Parses argv (without the program name). errc::invalid_argument naming the option or word.
ovz::result<arguments> parse(const std::vector<std::string_view>& argv);

/// A signal by number ("9") or name ("KILL", "SIGKILL", any case); errc::invalid_argument.
ovz::result<int> parse_signal(std::string_view text);

/// The usage text.
std::string usage();

}  // namespace ovz_oci
