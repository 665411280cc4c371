#include "ovzctl/args.hpp"

#include <ovz/error.hpp>
#include <ovz/setting.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <span>
#include <utility>

namespace ovzctl {
namespace {

template <class... Args>
ovz::error bad_usage(fmt::format_string<Args...> f, Args&&... args) {
  return ovz::error(ovz::make_error_code(ovz::errc::invalid_argument),
                    fmt::format(f, std::forward<Args>(args)...));
}

/// An option of one verb. `apply` checks and stores it in the command; flags get an empty
/// value.
struct option_spec {
  std::string_view name;
  bool takes_value;
  ovz::result<void> (*apply)(command&, std::string_view value);
};

/// What follows a verb before its options.
enum class operands { none, ctid, optional_ctid, ctid_and_command, ctid_and_destination, file, name };

struct verb_spec {
  std::string_view name;  // two words for the subcommands of `template`
  verb what;
  operands takes;
  std::span<const option_spec> options;
};

// --diskspace and the rest read as set reads them (ovz::parse_setting), so that a value means
// the same at create and at set.
ovz::result<void> set_create_disk(command& c, std::string_view name, std::string_view v) {
  ovz::ve_changes probe;
  probe.params.disk = c.create.disk;
  if (auto ok = ovz::parse_setting(name, v, probe); !ok)
    return bad_usage("create: --{}", ok.error().message());
  c.create.disk = probe.params.disk;
  return ovz::success();
}

constexpr option_spec create_options[] = {
    {"--ostemplate", true, [](command& c, std::string_view v) -> ovz::result<void> { c.create.ostemplate = v; return ovz::success(); }},
    {"--hostname", true, [](command& c, std::string_view v) -> ovz::result<void> { c.create.hostname = v; return ovz::success(); }},
    {"--userns", false, [](command& c, std::string_view) -> ovz::result<void> { c.create.userns = true; return ovz::success(); }},
    {"--config", true, [](command& c, std::string_view v) -> ovz::result<void> { c.create.config = v; return ovz::success(); }},
    {"--diskspace", true, [](command& c, std::string_view v) { return set_create_disk(c, "diskspace", v); }},
    {"--diskinodes", true, [](command& c, std::string_view v) { return set_create_disk(c, "diskinodes", v); }},
    {"--quotatime", true, [](command& c, std::string_view v) { return set_create_disk(c, "quotatime", v); }},
    {"--quotaugidlimit", true, [](command& c, std::string_view v) { return set_create_disk(c, "quotaugidlimit", v); }},
};

// Whole seconds, as vzctl and CTID.conf's STOP_TIMEOUT count them.
ovz::result<std::chrono::seconds> seconds_of(std::string_view v) {
  unsigned seconds = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
  if (ec != std::errc() || end != v.data() + v.size() || seconds > 86400)
    return bad_usage("--timeout: '{}' is not a number of seconds from 0 to 86400", v);
  return std::chrono::seconds(seconds);
}

ovz::result<void> set_stop_timeout(command& c, std::string_view v) {
  auto s = seconds_of(v);
  if (!s) return s.error();
  c.stop_timeout = *s;
  return ovz::success();
}

ovz::result<void> set_migrate_timeout(command& c, std::string_view v) {
  auto s = seconds_of(v);
  if (!s) return s.error();
  c.migrate.timeout = *s;
  return ovz::success();
}

constexpr option_spec start_options[] = {
    {"--onboot", false, [](command& c, std::string_view) -> ovz::result<void> { c.onboot = true; return ovz::success(); }},
    {"--all", false, [](command& c, std::string_view) -> ovz::result<void> { c.all = true; return ovz::success(); }},
};

constexpr option_spec restart_options[] = {
    {"--timeout", true, set_stop_timeout},
};

constexpr option_spec stop_options[] = {
    {"--fast", false, [](command& c, std::string_view) -> ovz::result<void> { c.fast = true; return ovz::success(); }},
    {"--timeout", true, set_stop_timeout},
    {"--all", false, [](command& c, std::string_view) -> ovz::result<void> { c.all = true; return ovz::success(); }},
};

constexpr option_spec restore_options[] = {
    {"--dumpfile", true, [](command& c, std::string_view v) -> ovz::result<void> { c.dumpfile = v; return ovz::success(); }},
};

constexpr option_spec migrate_options[] = {
    {"--online", false, [](command& c, std::string_view) -> ovz::result<void> { c.migrate.online = true; return ovz::success(); }},
    {"--timeout", true, set_migrate_timeout},
};

constexpr option_spec chkpnt_options[] = {
    restore_options[0],
    {"--leave-running", false, [](command& c, std::string_view) -> ovz::result<void> { c.checkpoint.leave_running = true; return ovz::success(); }},
};

// vzctl's USER:PASSWORD, split at the first ':' (a password may hold more); USER alone asks
// for the password on stdin.
ovz::result<void> set_userpasswd(command& c, std::string_view v) {
  auto colon = v.find(':');
  auto user = v.substr(0, colon);
  if (user.empty()) return bad_usage("set: --userpasswd: expected USER:PASSWORD or USER");
  c.set.user = std::string(user);
  if (colon == std::string_view::npos) return ovz::success();
  auto password = v.substr(colon + 1);
  if (password.empty()) return bad_usage("set: --userpasswd: empty password for {}", user);
  c.set.password = std::string(password);
  return ovz::success();
}

// Every other `set` option is a setting of ovz::parse_setting.
constexpr option_spec set_options[] = {
    {"--save", false, [](command& c, std::string_view) -> ovz::result<void> { c.set.save = true; return ovz::success(); }},
    {"--userpasswd", true, set_userpasswd},
};

/// set --NAME VALUE for every setting ovz::parse_setting knows.
ovz::result<bool> setting_option(command& c, std::string_view name,
                                 std::optional<std::string_view> inline_value,
                                 const std::vector<std::string_view>& args, std::size_t& i);

constexpr option_spec list_options[] = {
    {"-a", false, [](command& c, std::string_view) -> ovz::result<void> { c.all = true; return ovz::success(); }},
    {"--all", false, [](command& c, std::string_view) -> ovz::result<void> { c.all = true; return ovz::success(); }},
};

constexpr option_spec import_options[] = {
    {"--name", true, [](command& c, std::string_view v) -> ovz::result<void> { c.template_name = v; return ovz::success(); }},
};

// --include a,b and --include a --include b alike.
ovz::result<void> add_includes(command& c, std::string_view list) {
  while (true) {
    auto comma = list.find(',');
    auto package = list.substr(0, comma);
    if (package.empty()) return bad_usage("template create: --include: empty package name");
    c.debootstrap.include.emplace_back(package);
    if (comma == std::string_view::npos) return ovz::success();
    list.remove_prefix(comma + 1);
  }
}

constexpr option_spec template_create_options[] = {
    {"--debootstrap", true, [](command& c, std::string_view v) -> ovz::result<void> { c.debootstrap.suite = v; return ovz::success(); }},
    {"--mirror", true, [](command& c, std::string_view v) -> ovz::result<void> { c.debootstrap.mirror = v; return ovz::success(); }},
    {"--include", true, add_includes},
    {"--cache-dir", true, [](command& c, std::string_view v) -> ovz::result<void> { c.debootstrap.cache_dir = v; return ovz::success(); }},
};

ovz::result<void> set_ugid_owner(command& c, ovz::quota_ugid::kind kind, std::string_view v) {
  std::uint32_t id = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), id);
  if (ec != std::errc{} || end != v.data() + v.size())
    return bad_usage("quota: '{}' is not a numeric user or group id", v);
  if (c.ugid_owner) return bad_usage("quota: one --user or --group at a time");
  c.ugid_owner = ovz::quota_ugid{.type = kind, .id = id};
  return ovz::success();
}

ovz::result<void> set_ugid_limit(std::optional<ovz::disk_limit>& to, std::string_view name,
                                 std::string_view v, bool blocks) {
  auto l = ovz::parse_disk_limit(v, blocks);
  if (!l) return bad_usage("quota: --{}: {}", name, l.error().message());
  to = l.value();
  return ovz::success();
}

constexpr option_spec quota_options[] = {
    {"--ugid", false, [](command& c, std::string_view) -> ovz::result<void> { c.ugid_table = true; return ovz::success(); }},
    {"--user", true, [](command& c, std::string_view v) { return set_ugid_owner(c, ovz::quota_ugid::kind::user, v); }},
    {"--group", true, [](command& c, std::string_view v) { return set_ugid_owner(c, ovz::quota_ugid::kind::group, v); }},
    {"--blocks", true, [](command& c, std::string_view v) { return set_ugid_limit(c.ugid_blocks, "blocks", v, true); }},
    {"--inodes", true, [](command& c, std::string_view v) { return set_ugid_limit(c.ugid_inodes, "inodes", v, false); }},
};

constexpr verb_spec verbs[] = {
    {"create", verb::create, operands::ctid, create_options},
    {"start", verb::start, operands::optional_ctid, start_options},
    {"stop", verb::stop, operands::optional_ctid, stop_options},
    {"restart", verb::restart, operands::ctid, restart_options},
    {"suspend", verb::suspend, operands::ctid, {}},
    {"resume", verb::resume, operands::ctid, {}},
    {"chkpnt", verb::chkpnt, operands::ctid, chkpnt_options},
    {"restore", verb::restore, operands::ctid, restore_options},
    {"migrate", verb::migrate, operands::ctid_and_destination, migrate_options},
    {"migrate-receive", verb::migrate_receive, operands::none, {}},
    {"destroy", verb::destroy, operands::ctid, {}},
    {"status", verb::status, operands::ctid, {}},
    {"plan", verb::plan, operands::ctid, {}},
    {"exec", verb::exec, operands::ctid_and_command, {}},
    {"enter", verb::enter, operands::ctid, {}},
    {"console", verb::console, operands::ctid, {}},
    {"set", verb::set, operands::ctid, set_options},
    {"ubc", verb::ubc, operands::optional_ctid, {}},
    {"quota", verb::quota, operands::ctid, quota_options},
    {"list", verb::list, operands::none, list_options},
    {"template list", verb::template_list, operands::none, {}},
    {"template import", verb::template_import, operands::file, import_options},
    {"template create", verb::template_create, operands::name, template_create_options},
    {"features", verb::features, operands::none, {}},
    {"tune-host", verb::tune_host, operands::none, {}},
};

bool is_option(std::string_view arg) { return arg.size() > 1 && arg.front() == '-'; }

bool is_help(std::string_view arg) { return arg == "--help" || arg == "-h"; }

/// Splits getopt_long's `--name=value` form; no value when there was no '='.
std::pair<std::string_view, std::optional<std::string_view>> split_option(std::string_view arg) {
  if (!arg.starts_with("--")) return {arg, std::nullopt};
  auto eq = arg.find('=');
  if (eq == std::string_view::npos) return {arg, std::nullopt};
  return {arg.substr(0, eq), arg.substr(eq + 1)};
}

/// Reads the value of `name` (inline after '=' or the next argument) and advances `i` past it.
/// Empty values are refused: every option value names something, and an empty one is a
/// mistake (an unset shell variable) rather than a request for the default.
ovz::result<std::string_view> option_value(std::string_view context, std::string_view name,
                                           std::optional<std::string_view> inline_value,
                                           const std::vector<std::string_view>& args,
                                           std::size_t& i) {
  std::string_view value;
  if (inline_value) {
    value = *inline_value;
  } else if (i + 1 < args.size()) {
    value = args[++i];
  }
  if (value.empty()) return bad_usage("{}option {} needs a value", context, name);
  return value;
}

ovz::result<bool> setting_option(command& c, std::string_view name,
                                 std::optional<std::string_view> inline_value,
                                 const std::vector<std::string_view>& args, std::size_t& i) {
  if (c.what != verb::set || !name.starts_with("--")) return false;
  if (!ovz::setting_kind_of(name.substr(2))) return false;
  auto text = option_value("set: ", name, inline_value, args, i);
  if (!text) return text.error();
  // The library's message starts with the setting's name: "--ipadd: Invalid IP address …".
  if (auto ok = ovz::parse_setting(name.substr(2), text.value(), c.set); !ok)
    return bad_usage("set: --{}", ok.error().message());
  return true;
}

/// The verb's operands and options from args[i] on.
ovz::result<void> parse_verb(const verb_spec& spec, const std::vector<std::string_view>& args,
                             std::size_t i, command& cmd) {
  const std::string context = fmt::format("{}: ", spec.name);
  const bool ctid_optional = spec.takes == operands::optional_ctid;
  if (ctid_optional && (i == args.size() || args[i].starts_with("--"))) {
    // No CTID: every VE.
  } else if (spec.takes == operands::ctid || spec.takes == operands::ctid_and_command ||
             spec.takes == operands::ctid_and_destination || ctid_optional) {
    if (i == args.size()) return bad_usage("{}missing CTID", context);
    if (is_help(args[i])) {
      cmd.what = verb::help;
      return ovz::success();
    }
    auto id = ovz::ctid::parse(args[i]);
    if (!id) {
      return bad_usage("{}invalid CTID '{}' (expected a number from 1 to {})", context, args[i],
                       ovz::ctid::max);
    }
    cmd.id = id.value();
    ++i;
  }
  if (spec.takes == operands::ctid_and_command) {
    // Everything after the CTID belongs to the command, options included, as in vzctl exec.
    if (i == args.size()) return bad_usage("{}missing command", context);
    cmd.exec_words.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
    return ovz::success();
  }

  bool have_file = false;
  for (; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (is_help(arg)) {
      cmd.what = verb::help;
      return ovz::success();
    }
    if (!is_option(arg)) {
      const bool takes_one = spec.takes == operands::file || spec.takes == operands::name ||
                             spec.takes == operands::ctid_and_destination;
      if (!takes_one || have_file) {
        return bad_usage("{}unexpected argument '{}'", context, arg);
      }
      if (spec.takes == operands::file)
        cmd.tarball = arg;
      else if (spec.takes == operands::name)
        cmd.template_name = arg;
      else
        cmd.destination = arg;
      have_file = true;
      continue;
    }
    auto [name, inline_value] = split_option(arg);
    auto opt = std::ranges::find(spec.options, name, &option_spec::name);
    if (opt == spec.options.end()) {
      auto setting = setting_option(cmd, name, inline_value, args, i);
      if (!setting) return setting.error();
      if (setting.value()) continue;
      return bad_usage("{}unknown option '{}'", context, name);
    }
    std::string_view value;
    if (opt->takes_value) {
      auto v = option_value(context, name, inline_value, args, i);
      if (!v) return v.error();
      value = v.value();
    } else if (inline_value) {
      return bad_usage("{}option {} takes no value", context, name);
    }
    if (auto ok = opt->apply(cmd, value); !ok) return ok.error();
  }

  if (spec.takes == operands::file && !have_file) return bad_usage("{}missing FILE", context);
  if (spec.takes == operands::name && !have_file) return bad_usage("{}missing NAME", context);
  if (spec.takes == operands::ctid_and_destination && !have_file)
    return bad_usage("{}missing DEST (local:PATH or ssh://[USER@]HOST[:PORT][/ROOT])", context);
  if (cmd.what == verb::template_create && cmd.debootstrap.suite.empty()) {
    return bad_usage("{}missing --debootstrap SUITE (the only source so far)", context);
  }
  if (cmd.what == verb::start || cmd.what == verb::stop) {
    const int chosen = int(cmd.id.has_value()) + int(cmd.all) + int(cmd.onboot);
    if (chosen == 0)
      return bad_usage("{}missing CTID (or {})", context,
                       cmd.what == verb::start ? "--onboot or --all" : "--all");
    if (chosen > 1)
      return bad_usage("{}a CTID{} and --all exclude each other", context,
                       cmd.what == verb::start ? ", --onboot" : "");
  }
  if (cmd.what == verb::set && cmd.set.empty()) {
    return bad_usage("{}nothing to set (see ovzctl --help)", context);
  }
  if (cmd.what == verb::quota && !cmd.ugid_owner && (cmd.ugid_blocks || cmd.ugid_inodes))
    return bad_usage("{}--blocks and --inodes limit a --user or a --group", context);
  if (cmd.what == verb::quota && cmd.ugid_owner && !cmd.ugid_blocks && !cmd.ugid_inodes)
    return bad_usage("{}--user and --group need --blocks or --inodes", context);
  return ovz::success();
}

}  // namespace

ovz::result<command> parse(const std::vector<std::string_view>& args) {
  command cmd;
  std::size_t i = 0;
  for (; i < args.size() && is_option(args[i]); ++i) {
    auto [name, inline_value] = split_option(args[i]);
    if (is_help(name) || name == "--version") {
      if (inline_value) return bad_usage("option {} takes no value", name);
      cmd.what = is_help(name) ? verb::help : verb::version;
      return cmd;
    }
    if (name != "--root") return bad_usage("unknown option '{}'", name);
    auto root = option_value("", name, inline_value, args, i);
    if (!root) return root.error();
    cmd.root = root.value();
  }
  if (i == args.size()) return bad_usage("missing command");

  std::string name(args[i++]);
  if (name == "help") {
    cmd.what = verb::help;
    return cmd;
  }
  if (name == "template") {
    if (i == args.size()) return bad_usage("template: missing subcommand (list, import or create)");
    name += ' ';
    name += args[i++];
  }
  auto spec = std::ranges::find(verbs, name, &verb_spec::name);
  if (spec == std::end(verbs)) return bad_usage("unknown command '{}'", name);
  cmd.what = spec->what;
  auto parsed = parse_verb(*spec, args, i, cmd);
  if (!parsed) return parsed.error();
  return cmd;
}

std::string_view usage() noexcept {
  return R"(Usage: ovzctl [--root DIR] COMMAND [ARGS]
       ovzctl --help | --version

Commands:
  create CTID [--ostemplate NAME] [--hostname NAME] [--userns] [--config NAME]
      [--diskspace SOFT[:HARD]] [--diskinodes SOFT[:HARD]] [--quotatime S]
      [--quotaugidlimit N]
                              --config: the limits sample (basic by default, light,
                              unlimited, or conf/ve-NAME.conf-sample of the state root);
                              --diskspace: the CT keeps its files in an ext4 image of
                              HARD 1 KiB blocks (K, M, G, T suffixes), --diskinodes HARD
                              inodes in it; without it, no disk limit
  start CTID | --onboot | --all
                              --onboot: every CT with ONBOOT="yes" (at the host's boot),
                              --all: every CT; each is tried, the exit status is 1 when
                              one failed
  stop CTID | --all [--fast] [--timeout S]
                              asks the CT's init to shut down (systemd, sysvinit, busybox:
                              each its own way), kills what is left after S seconds
                              (default: STOP_TIMEOUT of CTID.conf, else 10); --fast: at once;
                              --all: every running CT
  restart CTID [--timeout S]
  suspend CTID                freezes every process of the running CT where it stands
  resume CTID                 lets a suspended CT run on
  chkpnt CTID [--dumpfile DIR] [--leave-running]
                              writes the running CT (processes, memory, files, sockets)
                              with CRIU into DIR (default: dump/CTID of the state root),
                              then stops it; --leave-running: it runs on
  restore CTID [--dumpfile DIR]
                              starts the stopped CT from its checkpoint in DIR
  migrate CTID DEST [--online] [--timeout S]
                              moves the CT to DEST: local:PATH (another state root on this
                              host) or ssh://[USER@]HOST[:PORT][/ROOT] (ovzctl
                              migrate-receive run there over ssh; $OVZCTL_SSH names
                              another ssh); a running CT is stopped here and started there,
                              or with --online checkpointed here and restored there;
                              --timeout: seconds DEST may stay silent (default: no limit)
  migrate-receive             the receiving side of migrate, on stdin and stdout
  destroy CTID
  status CTID
  plan CTID                   what start would do: namespaces, mounts, limits, devices,
                              capabilities, seccomp, network, init (nothing is done)
  exec CTID COMMAND...        run COMMAND through /bin/sh -c in the running CT
  enter CTID                  an interactive shell in the running CT
  console CTID                attach to the running CT's console (/dev/console);
                              Esc then . at the start of a line detaches
  set CTID [--hostname NAME] [--RESOURCE B[:L]]... [--cpuunits N] [--cpulimit PCT]
      [--cpus N] [--cpumask LIST] [--capability NAME:on|off]... [--devnodes NAME:r|w|rw|none]...
      [--seccomp_profile PATH|default|unconfined] [--no_new_privs yes|no]
      [--ipadd ADDR]... [--ipdel ADDR|all]...
      [--netif_add IFNAME[,MAC,HOST_IFNAME,HOST_MAC,BRIDGE]]... [--netif_del IFNAME]...
      [--stop_timeout S] [--onboot yes|no] [--nameserver ADDR|inherit]...
      [--searchdomain NAME|inherit]... [--userpasswd USER[:PASSWORD]]
      [--diskspace SOFT[:HARD]] [--diskinodes SOFT[:HARD]] [--quotatime S]
      [--quotaugidlimit N] [--save]
                              RESOURCE: a beancounter (numproc, physpages, swappages,
                              kmemsize, ...); values take K, M, G, T suffixes, P for pages,
                              or "unlimited"
                              --diskspace, --diskinodes, --quotatime, --quotaugidlimit:
                              a CT created with --diskspace only; its image grows live
                              (with CAP_SYS_RESOURCE), shrinks only while it is stopped
                              --ipadd: a routed IPv4/IPv6 address on the CT's venet0;
                              --netif_add: a veth device, its host end in BRIDGE if given;
                              --stop_timeout: seconds stop waits for init (with --save);
                              --onboot: started by start --onboot (with --save);
                              --nameserver, --searchdomain: the CT's /etc/resolv.conf;
                              --userpasswd: sets (and adds) a user inside; without
                              :PASSWORD, the password is read from stdin
  ubc [CTID]                  beancounters as /proc/user_beancounters shows them
  quota CTID [--ugid]         disk usage against DISKSPACE and DISKINODES, as vzquota stat;
                              --ugid: each user's and group's too
  quota CTID --user ID|--group ID [--blocks SOFT[:HARD]] [--inodes SOFT[:HARD]]
                              a user's or group's limits inside (vzquota setlimit2; 0:0
                              removes them), with QUOTAUGIDLIMIT above 0
  list [-a]                   running CTs; -a: all
  features                    what serves each view a CT has of itself here (uptime,
                              /proc's memory, CPU and load, beancounters), and the ovz module
  tune-host                   tunes the kernel for CTs coming and going, once per boot
                              (cgroup2 favordynmods: starts skip an RCU grace period)
  template list
  template import FILE [--name NAME]
                              keeps the tarball's xattrs, ACLs and file capabilities
  template create NAME --debootstrap SUITE [--mirror URL] [--include PKG[,PKG...]]...
      [--cache-dir DIR]
                              a Debian (minbase, plus systemd-sysv unless another init is
                              included) made fit for VEs; the mirror defaults to the host's
                              apt sources; --cache-dir keeps the .debs for the next create

Options:
  --root DIR    state root (default: $OVZ_ROOT, else /var/lib/ovz)

Exit status: 0 success, 1 failure, 2 bad command line; exec and enter exit with
the status of their command.
)";
}

std::vector<std::string> literal_command(const std::vector<std::string>& words) {
  // Characters sh gives no meaning outside quotes; '=' only after the first word, where it
  // would make an assignment.
  constexpr std::string_view plain = "/._-+,:@%";
  if (words.empty() || words.front().find('/') == std::string::npos) return {};
  for (std::size_t i = 0; i < words.size(); ++i) {
    if (words[i].empty()) return {};
    for (char c : words[i]) {
      const bool literal = std::isalnum(static_cast<unsigned char>(c)) ||
                           plain.find(c) != std::string_view::npos || (i > 0 && c == '=');
      if (!literal) return {};
    }
  }
  return words;
}

}  // namespace ovzctl
