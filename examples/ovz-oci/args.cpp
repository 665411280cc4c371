#include "args.hpp"

#include <fmt/format.h>

#include <signal.h>
#include <string.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <functional>

namespace ovz_oci {
namespace {

ovz::error bad(const std::string& what) {
  return ovz::error(make_error_code(ovz::errc::invalid_argument), what);
}

bool same_ci(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::toupper(static_cast<unsigned char>(x)) ==
                  std::toupper(static_cast<unsigned char>(y));
         });
}

// One option: its names, whether it takes a value, what it sets.
struct option {
  std::string_view name;
  std::string_view short_name;
  bool takes_value;
  std::function<ovz::result<void>(arguments&, std::string_view)> set;
};

ovz::result<unsigned> count(std::string_view opt, std::string_view text) {
  unsigned n = 0;
  auto [at, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || at != text.data() + text.size())
    return bad(fmt::format("{}: \"{}\" is not a count", opt, text));
  return n;
}

const std::vector<option>& global_options() {
  static const std::vector<option> opts = {
      {"root", "", true, [](arguments& a, std::string_view v) { a.root = v; return ovz::success(); }},
      {"log", "", true, [](arguments& a, std::string_view v) { a.log = v; return ovz::success(); }},
      {"log-format", "", true,
       [](arguments& a, std::string_view v) -> ovz::result<void> {
         if (v != "json" && v != "text")
           return bad(fmt::format("--log-format: \"{}\" is neither text nor json", v));
         a.log_json = v == "json";
         return ovz::success();
       }},
      {"systemd-cgroup", "", false,
       [](arguments& a, std::string_view) { a.systemd_cgroup = true; return ovz::success(); }},
      // Accepted as runc and crun take them; they change nothing here.
      {"debug", "", false, [](arguments&, std::string_view) { return ovz::success(); }},
      {"rootless", "", true, [](arguments&, std::string_view) { return ovz::success(); }},
      {"criu", "", true, [](arguments&, std::string_view) { return ovz::success(); }},
      {"cgroup-manager", "", true,
       [](arguments& a, std::string_view v) -> ovz::result<void> {
         if (v != "cgroupfs" && v != "systemd")
           return bad(fmt::format("--cgroup-manager: \"{}\" is not supported", v));
         a.systemd_cgroup = v == "systemd";
         return ovz::success();
       }},
  };
  return opts;
}

std::vector<option> command_options(command c) {
  auto flag = [](std::string_view name, std::string_view short_name, bool arguments::*field) {
    return option{name, short_name, false, [field](arguments& a, std::string_view) {
                    a.*field = true;
                    return ovz::success();
                  }};
  };
  auto path = [](std::string_view name, std::string_view short_name,
                 std::filesystem::path arguments::*field) {
    return option{name, short_name, true, [field](arguments& a, std::string_view v) {
                    a.*field = v;
                    return ovz::success();
                  }};
  };
  const option preserve_fds{"preserve-fds", "", true,
                            [](arguments& a, std::string_view v) -> ovz::result<void> {
                              auto n = count("--preserve-fds", v);
                              if (!n) return n.error();
                              a.preserve_fds = *n;
                              return ovz::success();
                            }};
  auto ignored = [](std::string_view name) {
    return option{name, "", false, [](arguments&, std::string_view) { return ovz::success(); }};
  };
  switch (c) {
    case command::create:
    case command::run: {
      std::vector<option> opts{path("bundle", "b", &arguments::bundle),
                               path("config", "f", &arguments::config),
                               path("pid-file", "", &arguments::pid_file),
                               path("console-socket", "", &arguments::console_socket),
                               preserve_fds,
                               // The root is always pivoted into; the session keyring is the
                               // host's to keep.
                               ignored("no-pivot"), ignored("no-new-keyring")};
      if (c == command::run) {
        opts.push_back(flag("detach", "d", &arguments::detach));
        opts.push_back(flag("keep", "", &arguments::keep));
      }
      return opts;
    }
    case command::kill: return {flag("all", "a", &arguments::all)};
    case command::exec:
      return {path("process", "p", &arguments::process),
              path("pid-file", "", &arguments::pid_file),
              path("console-socket", "", &arguments::console_socket),
              flag("detach", "d", &arguments::detach),
              flag("tty", "t", &arguments::tty),
              {"cwd", "", true, [](arguments& a, std::string_view v) { a.cwd = v; return ovz::success(); }},
              {"env", "e", true,
               [](arguments& a, std::string_view v) { a.env.emplace_back(v); return ovz::success(); }},
              {"user", "u", true,
               [](arguments& a, std::string_view v) -> ovz::result<void> {
                 const auto colon = v.find(':');
                 auto uid = count("--user", v.substr(0, colon));
                 if (!uid) return uid.error();
                 auto gid = colon == std::string_view::npos ? uid : count("--user", v.substr(colon + 1));
                 if (!gid) return gid.error();
                 a.user = std::pair{*uid, *gid};
                 return ovz::success();
               }},
              {"cap", "c", true,
               [](arguments& a, std::string_view v) { a.caps.emplace_back(v); return ovz::success(); }},
              flag("no-new-privs", "", &arguments::no_new_privs),
              preserve_fds,
              // A paused container is refused either way.
              ignored("ignore-paused")};
    case command::remove: return {flag("force", "f", &arguments::force)};
    case command::update: return {path("resources", "r", &arguments::resources)};
    case command::ps:
    case command::list: {
      std::vector<option> opts{
          {"format", "f", true, [](arguments& a, std::string_view v) -> ovz::result<void> {
             if (v != "json" && v != "table")
               return bad(fmt::format("--format: \"{}\" is neither table nor json", v));
             a.json = v == "json";
             return ovz::success();
           }}};
      if (c == command::list) opts.push_back(flag("quiet", "q", &arguments::quiet));
      return opts;
    }
    default: return {};
  }
}

struct named_command {
  std::string_view name;
  command cmd;
};

constexpr std::array<named_command, 16> commands{{
    {"list", command::list},
    {"exec", command::exec},     {"pause", command::pause},   {"resume", command::resume},
    {"update", command::update}, {"run", command::run},
    {"create", command::create}, {"start", command::start}, {"state", command::state},
    {"kill", command::kill},     {"delete", command::remove}, {"ps", command::ps},
    {"features", command::features}, {"version", command::version}, {"help", command::help},
    {"--version", command::version},
}};

// Reads the option at argv[i] ("--name", "--name=value", "-n"), advancing i past its value.
ovz::result<bool> take_option(const std::vector<option>& opts, const std::vector<std::string_view>& argv,
                              std::size_t& i, arguments& a, std::string_view where) {
  std::string_view word = argv[i];
  if (word.size() < 2 || word[0] != '-' || word == "--") return false;
  std::string_view name = word.substr(word[1] == '-' ? 2 : 1);
  std::optional<std::string_view> value;
  if (auto eq = name.find('='); eq != std::string_view::npos) {
    value = name.substr(eq + 1);
    name = name.substr(0, eq);
  }
  const bool long_form = word[1] == '-';
  auto found = std::find_if(opts.begin(), opts.end(), [&](const option& o) {
    return long_form ? o.name == name : (!o.short_name.empty() && o.short_name == name);
  });
  // runc's globals take one dash too ("-root").
  if (found == opts.end() && !long_form)
    found = std::find_if(opts.begin(), opts.end(), [&](const option& o) { return o.name == name; });
  if (found == opts.end()) return bad(fmt::format("unknown option {} {}", word, where));
  if (found->takes_value && !value) {
    if (i + 1 >= argv.size()) return bad(fmt::format("{} needs a value", word));
    value = argv[++i];
  }
  if (!found->takes_value && value) return bad(fmt::format("{} takes no value", word));
  auto set = found->set(a, value.value_or(""));
  if (!set) return set.error();
  return true;
}

}  // namespace

ovz::result<int> parse_signal(std::string_view text) {
  int n = 0;
  auto [at, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc() && at == text.data() + text.size()) {
    if (n <= 0 || n > SIGRTMAX) return bad(fmt::format("no signal {}", text));
    return n;
  }
  std::string_view name = text;
  if (name.size() > 3 && same_ci(name.substr(0, 3), "SIG")) name = name.substr(3);
  for (int s = 1; s < SIGRTMIN; ++s) {
    const char* abbrev = ::sigabbrev_np(s);
    if (abbrev && same_ci(name, abbrev)) return s;
  }
  return bad(fmt::format("unknown signal \"{}\"", text));
}

ovz::result<arguments> parse(const std::vector<std::string_view>& argv) {
  arguments a;
  std::size_t i = 0;
  for (; i < argv.size(); ++i) {
    if (argv[i] == "-v" || argv[i] == "--version") {
      a.cmd = command::version;
      return a;
    }
    if (argv[i] == "-h" || argv[i] == "--help") return a;
    auto taken = take_option(global_options(), argv, i, a, "before the command");
    if (!taken) return taken.error();
    if (!*taken) break;
  }
  if (i == argv.size()) return a;
  auto known = std::find_if(commands.begin(), commands.end(),
                            [&](const named_command& c) { return c.name == argv[i]; });
  if (known == commands.end()) return bad(fmt::format("unknown command \"{}\"", argv[i]));
  a.cmd = known->cmd;
  const auto opts = command_options(a.cmd);
  const std::string where = fmt::format("for {}", argv[i]);
  std::vector<std::string_view> words;
  for (++i; i < argv.size(); ++i) {
    if (argv[i] == "--") {
      words.insert(words.end(), argv.begin() + static_cast<long>(i) + 1, argv.end());
      break;
    }
    // Options may come after the ID as well (urfave/cli's order is not enforced by callers),
    // but exec's command after its ID is the command's.
    if (a.cmd == command::exec && !words.empty()) {
      words.push_back(argv[i]);
      continue;
    }
    auto taken = take_option(opts, argv, i, a, where);
    if (!taken) return taken.error();
    if (!*taken) words.push_back(argv[i]);
  }
  switch (a.cmd) {
    case command::help:
    case command::version:
    case command::features:
      if (!words.empty()) return bad(fmt::format("unexpected \"{}\"", words[0]));
      return a;
    case command::list:
      if (!words.empty()) return bad(fmt::format("list takes no container ID (\"{}\")", words[0]));
      return a;
    case command::ps:
      // What follows the ID is ps(1)'s options for runc's table output: not used here.
      if (words.empty()) return bad("ps needs the container's ID");
      a.id = words[0];
      return a;
    case command::exec:
      if (words.empty()) return bad("exec needs the container's ID");
      a.id = words[0];
      a.args.assign(words.begin() + 1, words.end());
      if (a.process.empty() && a.args.empty())
        return bad("exec needs a command, or a process file (--process)");
      return a;
    case command::update:
      if (words.size() != 1) return bad("update needs exactly one container ID");
      if (a.resources.empty())
        return bad("update needs --resources FILE (or - for stdin): its other options are not "
                   "supported");
      a.id = words[0];
      return a;
    case command::kill:
      if (words.empty() || words.size() > 2) return bad("usage: kill [--all] ID [SIGNAL]");
      a.id = words[0];
      if (words.size() == 2) {
        auto sig = parse_signal(words[1]);
        if (!sig) return sig.error();
        a.signal = *sig;
      }
      return a;
    default:
      if (words.size() != 1)
        return bad(fmt::format("{} needs exactly one container ID", where.substr(4)));
      a.id = words[0];
      return a;
  }
}

std::string usage() {
  return "usage: ovz-oci [--root DIR] [--log FILE] [--log-format text|json] COMMAND ...\n"
         "\n"
         "An OCI runtime whose containers are OpenVZ VEs of libovz.\n"
         "\n"
         "  create [--bundle DIR] [--config FILE] [--pid-file FILE] [--console-socket SOCKET] ID\n"
         "  run [--bundle DIR] [--config FILE] [--pid-file FILE] [--console-socket SOCKET]\n"
         "      [--detach] [--keep] ID\n"
         "  start ID\n"
         "  state ID\n"
         "  kill [--all] ID [SIGNAL]\n"
         "  delete [--force] ID\n"
         "  list [--format table|json] [--quiet]\n"
         "  ps [--format table|json] ID\n"
         "  pause ID\n"
         "  resume ID\n"
         "  update --resources FILE|- ID\n"
         "  exec [--process FILE] [--detach] [--pid-file FILE] [--tty] [--console-socket SOCKET]\n"
         "       [--cwd DIR] [--env NAME=VALUE] [--user UID[:GID]] [--cap CAP] [--no-new-privs]\n"
         "       ID [COMMAND...]\n"
         "  features\n"
         "  --version\n"
         "\n"
         "The state root is /run/ovz-oci unless --root names another; each container is a VE\n"
         "there (ovzctl --root DIR list shows them).\n";
}

}  // namespace ovz_oci
