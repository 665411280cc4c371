#include "ovzctl/commands.hpp"
#include "ovzctl/migrate.hpp"

#include <ovz/error.hpp>
#include <ovz/state_root.hpp>
#include <ovz/template.hpp>
#include <ovz/beancounter.hpp>
#include <ovz/disk_quota.hpp>
#include <ovz/version.hpp>
#include <ovz/host.hpp>
#include <ovz/ve.hpp>

#include <fmt/format.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

namespace ovzctl {
namespace {

/// Prints one line to stdout at once: progress lines must come out before the slow step they
/// announce, and before a child given our stdout writes to it.
template <class... Args>
void say(fmt::format_string<Args...> f, Args&&... args) {
  fmt::print(stdout, "{}\n", fmt::format(f, std::forward<Args>(args)...));
  std::fflush(stdout);
}

ovz::result<ovz::ve> open_ve(const command& cmd) { return ovz::ve::open(*cmd.id, cmd.root); }

ovz::error not_running(const ovz::ve& v) {
  return ovz::error(ovz::make_error_code(ovz::errc::not_running),
                    fmt::format("VE {} is not running", v.id().str()));
}

ovz::error suspended(const ovz::ve& v) {
  return ovz::error(ovz::make_error_code(ovz::errc::suspended),
                    fmt::format("VE {} is suspended: resume it first (ovzctl resume {})",
                                v.id().str(), v.id().str()));
}

// vzctl status's and vzlist's word for a running VE's state.
std::string_view state_word(const ovz::ve_status& st) {
  if (st.state == ovz::ve_state::running) return st.suspended ? "suspended" : "running";
  return ovz::to_string(st.state);
}

ovz::result<int> do_create(ovz::ve& v, const command& cmd) {
  say("Creating container private area ({})",
      cmd.create.ostemplate.empty() ? ovz::builtin_template : cmd.create.ostemplate);
  if (auto r = v.create(cmd.create); !r) return r.error();
  say("Container private area was created");
  if (cmd.create.userns) {
    auto conf = v.config();
    if (!conf) return conf.error();
    say("Container root is mapped to host ids {} (USERNS_MAP)", conf->get("USERNS_MAP").value_or("?"));
  }
  return 0;
}

ovz::result<int> do_start(ovz::ve& v) {
  say("Starting container...");
  if (auto r = v.start(); !r) return r.error();
  say("Container start in progress...");
  return 0;
}

ovz::result<int> do_stop(ovz::ve& v, const command& cmd) {
  say("Stopping container ...");
  if (auto r = v.stop({.fast = cmd.fast, .timeout = cmd.stop_timeout}); !r) return r.error();
  say("Container was stopped");
  return 0;
}

// vzctl's init script at the host's boot and shutdown: every VE is tried, each reported.
ovz::result<int> do_batch(const command& cmd) {
  const bool start = cmd.what == verb::start;
  auto entries = start ? ovz::start_all(cmd.root, cmd.onboot)
                       : ovz::stop_all(cmd.root, {.fast = cmd.fast, .timeout = cmd.stop_timeout});
  if (!entries) return entries.error();
  int status = 0;
  for (const auto& e : entries.value()) {
    if (e.failure) {
      std::fflush(stdout);
      fmt::print(stderr, "CT {}: {}\n", e.id.str(), e.failure->message());
      status = exit_failure;
    } else if (e.done) {
      say("CT {} {}", e.id.str(), start ? "started" : "stopped");
    } else {
      say("CT {} is already {}", e.id.str(), start ? "running" : "stopped");
    }
  }
  return status;
}

// Stop and start one by one rather than ve::restart(), so that each step is announced as it
// begins, as vzctl does.
ovz::result<int> do_restart(ovz::ve& v, const command& cmd) {
  say("Restarting container");
  auto st = v.status();
  if (!st) return st.error();
  if (st.value().state == ovz::ve_state::running) {
    if (auto r = do_stop(v, cmd); !r) return r;
  }
  return do_start(v);
}

ovz::result<int> do_suspend(ovz::ve& v) {
  say("Suspending container ...");
  if (auto r = v.suspend(); !r) return r.error();
  say("Container was suspended");
  return 0;
}

ovz::result<int> do_resume(ovz::ve& v) {
  say("Resuming container ...");
  if (auto r = v.resume(); !r) return r.error();
  say("Container was resumed");
  return 0;
}

ovz::result<int> do_chkpnt(ovz::ve& v, const command& cmd) {
  say("Setting up checkpoint...");
  if (auto r = v.checkpoint(cmd.dumpfile, cmd.checkpoint); !r) return r.error();
  say("Checkpointing completed successfully");
  return 0;
}

ovz::result<int> do_restore(ovz::ve& v, const command& cmd) {
  say("Restoring container ...");
  if (auto r = v.restore(cmd.dumpfile); !r) return r.error();
  say("Container start in progress...");
  say("Restoring completed successfully");
  return 0;
}

ovz::result<int> do_destroy(ovz::ve& v) {
  say("Destroying container private area: {}", v.private_path().string());
  if (auto r = v.destroy(); !r) return r.error();
  say("Container private area was destroyed");
  return 0;
}

// A VE whose CTID.conf cannot be read still exists and is listed; what is wrong is said on
// stderr.
void warn_unreadable(const ovz::ve& v, ovz::ve_state state) {
  if (state == ovz::ve_state::absent) return;
  if (auto conf = v.config(); !conf) fmt::print(stderr, "Warning: {}\n", conf.error().message());
}

ovz::result<int> do_status(const ovz::ve& v) {
  auto st = v.status();
  if (!st) return st.error();
  warn_unreadable(v, st.value().state);
  say("CTID {} {} {} {}", v.id().str(), st.value().state == ovz::ve_state::absent ? "deleted" : "exist",
      st.value().mounted ? "mounted" : "unmounted",
      st.value().state == ovz::ve_state::running ? state_word(st.value()) : "down");
  return 0;
}

ovz::result<int> do_plan(const ovz::ve& v) {
  auto text = v.plan();
  if (!text) return text.error();
  std::fputs(text->c_str(), stdout);
  return 0;
}

namespace {

// The command exec runs leads its own session in the CT, out of reach of the terminal: what
// Ctrl-C, a hang-up or a kill sends ovzctl goes on to its process group, as a terminal's
// would (a pipeline's every command). Before it runs the signal waits.
std::atomic<pid_t> exec_command{0};
std::atomic<int> exec_pending{0};
constexpr int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

void forward_to_command(int sig) {
  if (const pid_t pid = exec_command.load(); pid > 0)
    ::kill(-pid, sig);
  else
    exec_pending.store(sig);
}

// Forwarding for as long as it lives; the previous handlers back after.
class signals_forwarded {
 public:
  signals_forwarded() {
    struct sigaction forward {};
    forward.sa_handler = forward_to_command;
    sigemptyset(&forward.sa_mask);
    forward.sa_flags = SA_RESTART;
    for (std::size_t i = 0; i < std::size(forwarded); ++i)
      ::sigaction(forwarded[i], &forward, &saved_[i]);
  }
  ~signals_forwarded() {
    for (std::size_t i = 0; i < std::size(forwarded); ++i)
      ::sigaction(forwarded[i], &saved_[i], nullptr);
    exec_command.store(0);
    exec_pending.store(0);
  }
  signals_forwarded(const signals_forwarded&) = delete;
  signals_forwarded& operator=(const signals_forwarded&) = delete;

  static void started(pid_t pid) {
    exec_command.store(pid);
    if (const int sig = exec_pending.exchange(0)) ::kill(-pid, sig);
  }

 private:
  struct sigaction saved_[std::size(forwarded)] {};
};

}  // namespace

ovz::result<int> do_exec(const ovz::ve& v, const command& cmd) {
  ovz::exec_options own_streams;
  own_streams.stdin_fd = 0;
  own_streams.stdout_fd = 1;
  own_streams.stderr_fd = 2;
  own_streams.started = signals_forwarded::started;
  signals_forwarded forwarding;
  // Without a shell where sh would only have executed the program (one program start less).
  // One that cannot be executed goes to sh after all, which says why in its words and exit
  // codes (127, 126) and runs a script without a #! line.
  if (const auto argv = literal_command(cmd.exec_words); !argv.empty()) {
    auto r = v.exec(argv, own_streams);
    if (r) return r.value().exit_code;
    const int e = r.error().sys_errno();
    if (e != ENOENT && e != EACCES && e != ENOEXEC && e != ENOTDIR) return r.error();
  }
  std::string line;
  for (const auto& word : cmd.exec_words) {
    if (!line.empty()) line += ' ';
    line += word;
  }
  auto r = v.exec({"/bin/sh", "-c", line}, own_streams);
  if (!r) return r.error();
  return r.value().exit_code;
}

ovz::result<int> do_enter(const ovz::ve& v) {
  // Checked first so that a refusal does not follow an "entered into" line.
  auto st = v.status();
  if (!st) return st.error();
  if (st.value().state != ovz::ve_state::running) return not_running(v);
  if (st.value().suspended) return suspended(v);
  say("entered into CT {}", v.id().str());
  auto r = v.enter();
  if (!r) return r.error();
  say("exited from CT {}", v.id().str());
  return r.value();
}

ovz::result<int> do_console(const ovz::ve& v) {
  // Connected first so that a refusal does not follow the "attached" line.
  auto sock = v.open_console();
  if (!sock) return sock.error();
  sock.value().reset();
  say("Attached to CT {} console (press Esc . to detach)", v.id().str());
  auto r = v.console();
  if (!r) return r.error();
  if (r.value())
    say("\nDetached from CT {} console", v.id().str());
  else
    say("\nCT {} console closed: the CT stopped", v.id().str());
  return 0;
}

// vzctl keeps settings the kernel cannot enforce; say so rather than let them look active.
// Only a running VE's counters tell what the kernel enforces.
void warn_unenforced(const ovz::ve& v, const ovz::ve_params& params) {
  auto snap = v.beancounters();
  if (!snap) return;
  for (const auto& [resource, value] : params.ubc) {
    for (const auto& s : snap.value().stats) {
      if (s.resource == resource && !s.enforced)
        fmt::print(stderr, "Warning: {} is kept in the configuration, but this host does not "
                           "enforce it\n", ovz::to_string(resource));
    }
  }
}

// Soft limits below the hard ones are kept, but without the kernel's quota nothing holds the
// VE to them; say so, as for beancounters the host does not enforce.
void warn_soft_unenforced(const ovz::disk_quota& q) {
  if (q.soft_enforced) return;
  if (q.blocks.soft < q.blocks.hard || q.inodes.soft < q.inodes.hard)
    fmt::print(stderr, "Warning: the soft disk limits are kept in the configuration, but this "
                       "host has no quota to enforce them (the hard limits hold)\n");
}

// vzctl's lines for the network changes made.
void say_network(const ovz::network_changes& n) {
  for (const auto& a : n.del_ips) say("Deleted IP address {}", a.str());
  for (const auto& a : n.add_ips) say("Adding IP address(es): {}", a.str());
  for (const auto& name : n.del_netifs) say("Deleted network device {}", name);
  for (const auto& spec : n.add_netifs) say("Configured network device {}", spec.ifname);
}

// The password line of --userpasswd USER, without its newline.
ovz::result<std::string> password_from_stdin() {
  std::string line;
  for (int c; (c = std::getchar()) != EOF && c != '\n';) line += static_cast<char>(c);
  if (line.empty())
    return ovz::error(ovz::make_error_code(ovz::errc::invalid_argument),
                      "set: --userpasswd: no password on stdin");
  return line;
}

ovz::result<int> do_set(ovz::ve& v, const set_request& req) {
  auto st = v.status();
  if (!st) return st.error();
  std::string password = req.password.value_or("");
  if (req.user && !req.password) {
    auto line = password_from_stdin();
    if (!line) return line.error();
    password = std::move(line.value());
  }
  // The password first: the library refuses a bad one before it changes anything, and the
  // settings were checked when the command line was read, so a refusal changes nothing.
  if (req.user) {
    if (auto r = v.set_user_password(*req.user, password); !r) return r.error();
    say("Changed password for user {}", *req.user);
    set_request rest = req;
    rest.user.reset();
    if (rest.empty()) return 0;
  }
  // One change with one save: a crash or a refusal never leaves half of the command applied.
  if (auto r = v.apply(req, req.save); !r) return r.error();
  say_network(req.network);
  if (req.has_params() && st.value().state == ovz::ve_state::running)
    warn_unenforced(v, req.params);
  if (req.params.disk.diskspace || req.params.disk.diskinodes) {
    if (auto q = v.quota()) warn_soft_unenforced(q.value());
  }
  // The library also saves a stopped VE's settings, as nothing else would keep them.
  if (req.save || st.value().state != ovz::ve_state::running) {
    say("CT configuration saved to {}", v.conf_path().string());
  }
  return 0;
}

ovz::result<int> do_ubc(const command& cmd) {
  std::vector<ovz::ubc_snapshot> snaps;
  if (cmd.id) {
    auto v = open_ve(cmd);
    if (!v) return v.error();
    auto st = v.value().status();
    if (!st) return st.error();
    if (st.value().state != ovz::ve_state::running) return not_running(v.value());
    auto snap = v.value().beancounters();
    if (!snap) return snap.error();
    snaps.push_back(std::move(snap.value()));
  } else {
    auto all = ovz::all_beancounters(ovz::resolve_state_root(cmd.root));
    if (!all) return all.error();
    snaps = std::move(all.value());
  }
  fmt::print(stdout, "{}", ovz::format_user_beancounters(snaps));
  return 0;
}

ovz::result<int> do_features() {
  const auto b = ovz::view_backends_here();
  fmt::print(stdout, "uptime        {}\nproc          {}\nbeancounters  {}\nmodule        {}\n",
             b.uptime, b.proc_files, b.beancounters, b.module);
  return 0;
}

ovz::result<int> do_tune_host() {
  auto changed = ovz::tune_host();
  if (!changed) return changed.error();
  fmt::print(stdout, "{}: favordynmods on, inotify instances >= {}, watches >= {}\n",
             *changed ? "host tuned" : "host tuned already", ovz::inotify_instances_floor,
             ovz::inotify_watches_floor);
  return 0;
}

ovz::result<int> do_quota(ovz::ve& v, const command& cmd) {
  if (cmd.ugid_owner) {
    auto set = v.set_ugid_quota(*cmd.ugid_owner, cmd.ugid_blocks, cmd.ugid_inodes);
    if (!set) return set.error();
    return 0;
  }
  auto q = v.quota();
  if (!q) return q.error();
  fmt::print(stdout, "{}", ovz::format_disk_quota(q.value()));
  if (cmd.ugid_table) {
    auto all = v.ugid_quotas();
    if (!all) return all.error();
    fmt::print(stdout, "\n{}", ovz::format_ugid_quotas(all.value()));
  }
  std::fflush(stdout);
  warn_soft_unenforced(q.value());
  return 0;
}

// vzlist's IP_ADDR: the first routed address of CTID.conf, "-" when none.
std::string first_ip(const command& cmd, ovz::ctid id) {
  auto v = ovz::ve::open(id, cmd.root);
  if (!v) return "-";
  auto net = v.value().network();
  if (!net || net.value().ip_addresses.empty()) return "-";
  return net.value().ip_addresses.front().address();
}

ovz::result<int> do_list(const command& cmd) {
  auto all = ovz::list_ves(ovz::resolve_state_root(cmd.root));
  if (!all) return all.error();
  constexpr auto row = "{:>10} {:>10} {:<9} {:<15} {}";
  say(row, "CTID", "NPROC", "STATUS", "IP_ADDR", "HOSTNAME");
  for (const auto& st : all.value()) {
    const bool running = st.state == ovz::ve_state::running;
    if (!running && !cmd.all) continue;
    if (auto v = ovz::ve::open(st.id, cmd.root)) warn_unreadable(v.value(), st.state);
    say(row, st.id.str(), running ? std::to_string(st.nproc) : "-", state_word(st),
        first_ip(cmd, st.id), st.hostname.empty() ? "-" : st.hostname);
  }
  return 0;
}

ovz::result<int> do_template_list(const command& cmd) {
  auto templates = ovz::template_store(ovz::resolve_state_root(cmd.root)).list();
  if (!templates) return templates.error();
  std::size_t width = 0;
  for (const auto& t : templates.value()) width = std::max(width, t.name.size());
  for (const auto& t : templates.value()) say("{:<{}} {}", t.name, width, t.path.string());
  return 0;
}

ovz::result<int> do_template_import(const command& cmd) {
  auto info = ovz::template_store(ovz::resolve_state_root(cmd.root))
                  .import(cmd.tarball, cmd.template_name);
  if (!info) return info.error();
  say("Template {} was imported to {}", info.value().name, info.value().path.string());
  return 0;
}

ovz::result<int> do_template_create(const command& cmd) {
  say("Creating template {} from {} (debootstrap: this takes minutes)", cmd.template_name,
      cmd.debootstrap.suite);
  auto info = ovz::template_store(ovz::resolve_state_root(cmd.root))
                  .create(cmd.template_name, cmd.debootstrap);
  if (!info) return info.error();
  say("Template {} was created in {}", info.value().name, info.value().path.string());
  return 0;
}

ovz::result<int> dispatch(const command& cmd) {
  auto with_ve = [&cmd](auto verb_body) -> ovz::result<int> {
    auto v = open_ve(cmd);
    if (!v) return v.error();
    return verb_body(v.value());
  };
  switch (cmd.what) {
    case verb::help:
      fmt::print(stdout, "{}", usage());
      return 0;
    case verb::version:
      say("ovzctl {}", OVZ_VERSION_STRING);
      return 0;
    case verb::create: return with_ve([&](ovz::ve& v) { return do_create(v, cmd); });
    case verb::start:
      if (!cmd.id) return do_batch(cmd);
      return with_ve([](ovz::ve& v) { return do_start(v); });
    case verb::stop:
      if (!cmd.id) return do_batch(cmd);
      return with_ve([&](ovz::ve& v) { return do_stop(v, cmd); });
    case verb::restart: return with_ve([&](ovz::ve& v) { return do_restart(v, cmd); });
    case verb::suspend: return with_ve([](ovz::ve& v) { return do_suspend(v); });
    case verb::resume: return with_ve([](ovz::ve& v) { return do_resume(v); });
    case verb::chkpnt: return with_ve([&](ovz::ve& v) { return do_chkpnt(v, cmd); });
    case verb::restore: return with_ve([&](ovz::ve& v) { return do_restore(v, cmd); });
    case verb::migrate: return with_ve([&](ovz::ve& v) { return do_migrate(v, cmd); });
    case verb::migrate_receive: return do_migrate_receive(cmd);
    case verb::destroy: return with_ve([](ovz::ve& v) { return do_destroy(v); });
    case verb::status: return with_ve([](ovz::ve& v) { return do_status(v); });
    case verb::plan: return with_ve([](ovz::ve& v) { return do_plan(v); });
    case verb::exec: return with_ve([&](ovz::ve& v) { return do_exec(v, cmd); });
    case verb::enter: return with_ve([](ovz::ve& v) { return do_enter(v); });
    case verb::console: return with_ve([](ovz::ve& v) { return do_console(v); });
    case verb::set: return with_ve([&](ovz::ve& v) { return do_set(v, cmd.set); });
    case verb::ubc: return do_ubc(cmd);
    case verb::quota: return with_ve([&](ovz::ve& v) { return do_quota(v, cmd); });
    case verb::list: return do_list(cmd);
    case verb::template_list: return do_template_list(cmd);
    case verb::template_import: return do_template_import(cmd);
    case verb::template_create: return do_template_create(cmd);
    case verb::features: return do_features();
    case verb::tune_host: return do_tune_host();
  }
  // Only reachable with a value outside the enum; the switch has no default so that the
  // compiler points out a verb added without its case.
  return ovz::error(ovz::make_error_code(ovz::errc::invalid_argument), "unknown command");
}

}  // namespace

int run(const command& cmd) {
  auto r = dispatch(cmd);
  if (!r) {
    std::fflush(stdout);
    fmt::print(stderr, "ovzctl: {}\n", r.error().message());
    return exit_failure;
  }
  return r.value();
}

}  // namespace ovzctl
