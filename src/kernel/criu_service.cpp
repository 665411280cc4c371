#include "kernel/criu_service.hpp"

#include <ovz/fd.hpp>

#include "fail.hpp"
#include "kernel/criu_yard.hpp"
#include "kernel/fd_passing.hpp"
#include "kernel/files.hpp"
#include "kernel/host_tool.hpp"

#include "rpc.pb-c.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <utility>
#include <memory>
#include <mutex>
#include <vector>

namespace ovz::detail {
namespace {

struct free_resp {
  void operator()(CriuResp* r) const { criu_resp__free_unpacked(r, nullptr); }
};
using criu_resp = std::unique_ptr<CriuResp, free_resp>;

std::string all_of(int fd) {
  std::string text;
  char buf[4096];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    at += n;
  }
  return text;
}

// The last lines CRIU wrote (its errors), for a failure's message.
std::string tail_of(int fd) { return last_lines(all_of(fd), 5); }

// One service process, for one request: our end of its socket, what it writes, and its PID
// where it is our child to reap.
struct service {
  unique_fd ours;
  unique_fd said;
  pid_t child = 0;

  service() = default;
  service(service&& o) noexcept
      : ours(std::move(o.ours)), said(std::move(o.said)), child(std::exchange(o.child, 0)) {}
  service& operator=(service&&) = delete;
  ~service() { finish(); }

  // Closing our end ends the service; our child is reaped.
  void finish() {
    ours.reset();
    if (child <= 0) return;
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    child = 0;
  }

  error ended(const char* what, int err) const {
    const auto text = tail_of(said.get());
    if (err) return sys_fail(err, "criu swrk {}: {}", what, text);
    return fail(errc::child_failed, "criu swrk ended without answering {}: {}", what,
                text.empty() ? std::string("it said nothing") : text);
  }
};

// Where a page server's socket is in the service process: after swrk's own (3).
constexpr int page_server_fd = 4;

// `page_server`, where given, goes with the service as its page_server_fd.
result<service> start_service(const criu_launcher* launch, int page_server = -1) {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0)
    return sys_fail(errno, "socketpair for criu swrk");
  service s;
  s.ours.reset(ends[0]);
  unique_fd theirs(ends[1]);
  s.said.reset(::memfd_create("criu-output", MFD_CLOEXEC));
  if (!s.said) return sys_fail(errno, "memfd_create for criu's output");
  if (launch) {
    BOOST_OUTCOME_TRY((*launch)(theirs.get(), s.said.get()));
    return s;
  }
  const std::string program = criu_program();
  std::vector<int> extra{theirs.get()};
  if (page_server >= 0) extra.push_back(page_server);
  auto pid = spawn_tool({program, "swrk", "3"}, s.said.get(), s.said.get(), extra);
  if (!pid) {
    if (pid.error().sys_errno() == ENOENT)
      return fail(errc::unsupported, "{} is not installed (apt-get install criu)", program);
    return pid.error();
  }
  s.child = *pid;
  return s;
}

result<void> send_req(const service& s, CriuReq& req, const char* what) {
  std::vector<std::uint8_t> out(criu_req__get_packed_size(&req));
  criu_req__pack(&req, out.data());
  if (::send(s.ours.get(), out.data(), out.size(), MSG_NOSIGNAL) < 0) return s.ended(what, errno);
  return success();
}

// One message of the service, and the descriptor that came with it (orphan-pts-master's).
struct message {
  criu_resp resp;
  unique_fd fd;
};

result<message> receive(const service& s, const char* what) {
  ssize_t size;
  do {
    size = ::recv(s.ours.get(), nullptr, 0, MSG_PEEK | MSG_TRUNC);
  } while (size < 0 && errno == EINTR);
  if (size <= 0) return s.ended(what, size < 0 ? errno : 0);
  auto got = receive_with_fds(s.ours.get(), static_cast<std::size_t>(size), 1, what);
  if (!got || !*got) return s.ended(what, got ? 0 : got.error().sys_errno());
  message m;
  if (!(*got)->fds.empty()) m.fd = std::move((*got)->fds.front());
  const auto& in = (*got)->bytes;
  m.resp.reset(criu_resp__unpack(nullptr, in.size(), reinterpret_cast<const std::uint8_t*>(in.data())));
  if (!m.resp) return fail(errc::child_failed, "criu swrk answered {} with no message it knows", what);
  return m;
}

// The request and its answer, CRIU's notifications on the way answered by `notify`. The
// first error of `notify` is the request's: CRIU gives up when told a step failed.
result<criu_resp> converse(const service& s, CriuReq& req, const char* what,
                           const criu_notify* notify = nullptr) {
  BOOST_OUTCOME_TRY(send_req(s, req, what));
  std::optional<error> refused;
  for (;;) {
    BOOST_OUTCOME_TRY(m, receive(s, what));
    if (m.resp->type != CRIU_REQ_TYPE__NOTIFY) {
      if (refused) return *refused;
      return std::move(m.resp);
    }
    criu_notice n;
    if (m.resp->notify && m.resp->notify->script) n.script = m.resp->notify->script;
    if (m.resp->notify && m.resp->notify->has_pid) n.pid = m.resp->notify->pid;
    n.fd = std::move(m.fd);
    auto ok = notify && *notify ? (*notify)(n) : result<void>(success());
    if (!ok && !refused) refused = with_context(ok.error(), fmt::format("CRIU's {}", n.script));
    CriuReq ack = CRIU_REQ__INIT;
    ack.type = CRIU_REQ_TYPE__NOTIFY;
    ack.has_notify_success = true;
    ack.notify_success = static_cast<bool>(ok);
    BOOST_OUTCOME_TRY(send_req(s, ack, what));
  }
}

// One request, to a service process of its own, and its answer.
result<criu_resp> ask(CriuReq& req, const char* what) {
  BOOST_OUTCOME_TRY(s, start_service(nullptr));
  return converse(s, req, what);
}

}  // namespace

std::string criu_version::text() const {
  return sublevel ? fmt::format("{}.{}.{}", major, minor, sublevel)
                  : fmt::format("{}.{}", major, minor);
}

std::string criu_program() {
  const char* given = std::getenv("OVZ_CRIU");
  return given && *given ? given : "criu";
}

result<criu_version> criu_version_of() {
  CriuReq req = CRIU_REQ__INIT;
  req.type = CRIU_REQ_TYPE__VERSION;
  BOOST_OUTCOME_TRY(resp, ask(req, "VERSION"));
  if (!resp->success || !resp->version)
    return fail(errc::unsupported, "criu answered no version (older than 3.0?)");
  criu_version v;
  v.major = resp->version->major_number;
  v.minor = resp->version->minor_number;
  if (resp->version->has_sublevel) v.sublevel = resp->version->sublevel;
  if (resp->version->gitid) v.gitid = resp->version->gitid;
  return v;
}

result<criu_features> criu_features_of() {
  CriuFeatures asked = CRIU_FEATURES__INIT;
  asked.has_mem_track = asked.mem_track = true;
  asked.has_lazy_pages = asked.lazy_pages = true;
  asked.has_pidfd_store = asked.pidfd_store = true;
  CriuReq req = CRIU_REQ__INIT;
  req.type = CRIU_REQ_TYPE__FEATURE_CHECK;
  req.features = &asked;
  BOOST_OUTCOME_TRY(resp, ask(req, "FEATURE_CHECK"));
  // None where CRIU cannot look at this kernel at all (criu_kernel_check says why).
  if (!resp->features) return criu_features{};
  const auto& f = *resp->features;
  return criu_features{.mem_track = f.has_mem_track && f.mem_track,
                       .lazy_pages = f.has_lazy_pages && f.lazy_pages,
                       .pidfd_store = f.has_pidfd_store && f.pidfd_store};
}

namespace {

// CRIU's errors in its log ("Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area
// bounds"), one line, without the source locations and without the lines that only say a
// helper of its own ended ("exited, status=1").
std::string errors_in(const std::string& log) {
  std::string errors;
  std::size_t at = 0;
  while ((at = log.find("Error (", at)) != std::string::npos) {
    const auto end = log.find('\n', at);
    std::string line = log.substr(at, end == std::string::npos ? std::string::npos : end - at);
    at = end;
    if (auto located = line.find("): "); located != std::string::npos) line.erase(0, located + 3);
    if (line.rfind("exited, status=", 0) == 0) continue;
    if (!errors.empty()) errors += "; ";
    errors += line;
  }
  return errors;
}

// Why a request failed: CRIU's error lines in its log, else its own message.
std::string reason_of(const CriuResp& resp, int images_dir, const char* log_file) {
  std::string why;
  if (unique_fd log{::openat(images_dir, log_file, O_RDONLY | O_CLOEXEC)}) why = errors_in(all_of(log.get()));
  if (why.empty() && resp.cr_errmsg) why = resp.cr_errmsg;
  return why.empty() ? std::string("CRIU failed, saying nothing") : why;
}

result<void> check_kernel() {
  // CRIU logs to a file in a directory it is given (as our descriptor, which it opens
  // through /proc): a temporary one.
  char dir[] = "/tmp/ovz-criu-check.XXXXXX";
  if (!::mkdtemp(dir)) return sys_fail(errno, "mkdtemp {}", dir);
  unique_fd images(::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  CriuOpts opts = CRIU_OPTS__INIT;
  opts.images_dir_fd = images.get();
  opts.log_file = const_cast<char*>("check.log");
  opts.has_log_level = true;
  opts.log_level = 1;  // errors only
  CriuReq req = CRIU_REQ__INIT;
  req.type = CRIU_REQ_TYPE__CHECK;
  req.opts = &opts;
  auto resp = images ? ask(req, "CHECK") : result<criu_resp>(sys_fail(errno, "open {}", dir));
  std::string why = resp && !(*resp)->success ? reason_of(**resp, images.get(), "check.log") : "";
  ::unlinkat(images.get(), "check.log", 0);
  ::rmdir(dir);
  if (!resp) return resp.error();
  if ((*resp)->success) return success();
  return fail(errc::unsupported, "CRIU cannot checkpoint on this kernel: {}", why);
}

// The options a dump and a restore share, and the storage their pointers point into.
struct common_opts {
  CriuOpts opts = CRIU_OPTS__INIT;
  std::vector<char*> externals;

  explicit common_opts(const criu_common& c) {
    opts.images_dir_fd = c.images_dir;
    opts.log_file = const_cast<char*>(c.log_file.c_str());
    opts.has_log_level = true;
    opts.log_level = 4;  // everything: the log is the only account of what went wrong
    for (const auto& e : c.externals) externals.push_back(const_cast<char*>(e.c_str()));
    opts.n_external = externals.size();
    opts.external = externals.data();
    opts.has_notify_scripts = opts.notify_scripts = true;
    // What a VE's processes commonly hold: connections, locks, and a console whose master
    // its monitor keeps (a new one comes back at restore, as orphan-pts-master).
    opts.has_tcp_established = opts.tcp_established = true;
    opts.has_file_locks = opts.file_locks = true;
    opts.has_orphan_pts_master = opts.orphan_pts_master = true;
    opts.has_shell_job = opts.shell_job = false;
    // Bind mounts of the host's files (/dev/null over /proc's) are found and named by CRIU.
    opts.has_auto_ext_mnt = opts.auto_ext_mnt = true;
    opts.has_ext_sharing = opts.ext_sharing = true;
    opts.has_ext_masters = opts.ext_masters = true;
    // The VE's cgroup tree as the dump found it, for the restore to make again below the
    // cgroup the plan made (criu_restore); through a yard of the host's own mounts
    // (kernel/criu_yard), which the dump and the restore each make.
    opts.has_manage_cgroups_mode = true;
    opts.manage_cgroups_mode = CRIU_CG_MODE__SOFT;
    // nftables: iptables is not needed, nor installed on a host that has nft.
    opts.has_network_lock = true;
    opts.network_lock = CRIU_NETWORK_LOCK_METHOD__NFTABLES;
  }
};

}  // namespace

namespace {

// `ruleset` (nft's listing) without the tables named "inet CRIU-…", each a block from its
// "table" line to the "}" that closes it at the start of a line.
std::string without_lock_tables(std::string_view ruleset) {
  std::string out;
  bool skipping = false;
  while (!ruleset.empty()) {
    const auto end = std::min(ruleset.find('\n'), ruleset.size() - 1) + 1;
    const auto line = ruleset.substr(0, end);
    ruleset.remove_prefix(end);
    if (!skipping && line.starts_with("table inet CRIU-")) {
      skipping = true;
    } else if (skipping) {
      skipping = !line.starts_with("}");
    } else {
      out += line;
    }
  }
  return out;
}

// CRIU 3.17 locks a network namespace with an nftables table named after the dumped init's
// PID and lists the namespace's ruleset while it is there; a restore brings the table back
// and unlocks the table of the new PID instead, which leaves every packet of the VE dropped
// (later CRIU keeps the name in its inventory). The lock is taken out of the images.
result<void> drop_lock_tables(int images_dir) {
  const auto dir = fmt::format("/proc/self/fd/{}", images_dir);
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = e.path().filename().string();
    if (!name.starts_with("nftables-") || !name.ends_with(".img")) continue;
    BOOST_OUTCOME_TRY(text, read_file(e.path().string()));
    const auto kept = without_lock_tables(text);
    if (kept.size() != text.size()) {
      BOOST_OUTCOME_TRY(replace_file(e.path(), kept));
    }
  }
  if (ec) return sys_fail(ec.value(), "list CRIU's images");
  return success();
}

}  // namespace

result<void> criu_dump(const criu_dump_request& r, const criu_notify& notify) {
  common_opts c(r);
  c.opts.has_pid = true;
  c.opts.pid = r.pid;
  c.opts.has_leave_running = true;
  c.opts.leave_running = r.leave_running;
  if (!r.freeze_cgroup.empty()) c.opts.freeze_cgroup = const_cast<char*>(r.freeze_cgroup.c_str());
  std::vector<char*> scan;
  for (const auto& p : r.irmap_scan_paths) scan.push_back(const_cast<char*>(p.c_str()));
  c.opts.n_irmap_scan_paths = scan.size();
  c.opts.irmap_scan_paths = scan.data();
  c.opts.has_track_mem = c.opts.track_mem = r.track_mem;
  if (!r.parent_img.empty()) c.opts.parent_img = const_cast<char*>(r.parent_img.c_str());
  // Pages to a page server: by a descriptor of the service's own (only swrk may).
  CriuPageServerInfo ps = CRIU_PAGE_SERVER_INFO__INIT;
  if (r.page_server >= 0) {
    ps.has_fd = true;
    ps.fd = page_server_fd;
    c.opts.ps = &ps;
  }
  BOOST_OUTCOME_TRY(yard, criu_yard::make());
  c.opts.cgroup_yard = const_cast<char*>(yard.path().c_str());
  CriuReq req = CRIU_REQ__INIT;
  req.type = r.pre_dump ? CRIU_REQ_TYPE__PRE_DUMP : CRIU_REQ_TYPE__DUMP;
  req.opts = &c.opts;
  const char* what = r.pre_dump ? "PRE_DUMP" : "DUMP";
  // At post-dump every image is written and the tree still frozen: the images are complete
  // for whoever reads them from there on (a migration sends them then). A pre-dump writes
  // memory only: no network images.
  const criu_notify at_notice = [&](criu_notice& n) -> result<void> {
    if (n.script == "post-dump" && !r.pre_dump) {
      BOOST_OUTCOME_TRY(drop_lock_tables(r.images_dir));
    }
    return notify ? notify(n) : result<void>(success());
  };
  BOOST_OUTCOME_TRY(s, start_service(nullptr, r.page_server));
  BOOST_OUTCOME_TRY(resp, converse(s, req, what, &at_notice));
  if (!resp->success)
    return fail(errc::child_failed, "criu {}: {}", r.pre_dump ? "pre-dump" : "dump",
                reason_of(*resp, r.images_dir, r.log_file.c_str()));
  return success();
}

result<void> criu_page_server(const criu_page_server_request& r) {
  common_opts c(r);
  c.opts.external = nullptr;
  c.opts.n_external = 0;
  // The server outlives this conversation: nothing may notify over it once it has ended
  // (its "status-ready" would fail it).
  c.opts.notify_scripts = false;
  if (!r.parent_img.empty()) c.opts.parent_img = const_cast<char*>(r.parent_img.c_str());
  CriuPageServerInfo ps = CRIU_PAGE_SERVER_INFO__INIT;
  ps.has_fd = true;
  ps.fd = page_server_fd;
  c.opts.ps = &ps;
  CriuReq req = CRIU_REQ__INIT;
  req.type = CRIU_REQ_TYPE__PAGE_SERVER_CHLD;
  req.opts = &c.opts;
  BOOST_OUTCOME_TRY(s, start_service(nullptr, r.socket));
  BOOST_OUTCOME_TRY(resp, converse(s, req, "PAGE_SERVER_CHLD"));
  if (!resp->success)
    return fail(errc::child_failed, "criu page-server: {}",
                reason_of(*resp, r.images_dir, r.log_file.c_str()));
  return success();
}

result<pid_t> criu_restore(const criu_restore_request& r, const criu_launcher& launch,
                           const criu_notify& notify, unique_fd* conversation) {
  common_opts c(r);
  c.opts.root = const_cast<char*>(r.root.c_str());
  c.opts.has_rst_sibling = c.opts.rst_sibling = true;
  std::vector<InheritFd> inherit(r.inherit.size());
  std::vector<InheritFd*> inherit_ptrs;
  for (std::size_t i = 0; i < r.inherit.size(); ++i) {
    inherit_fd__init(&inherit[i]);
    inherit[i].key = const_cast<char*>(r.inherit[i].first.c_str());
    inherit[i].fd = r.inherit[i].second;
    inherit_ptrs.push_back(&inherit[i]);
  }
  c.opts.n_inherit_fd = inherit_ptrs.size();
  c.opts.inherit_fd = inherit_ptrs.data();
  // Each task back in its cgroup below the VE's (systemd's init.scope, its services'), those
  // missing made with their properties (SOFT: the VE's own, made and limited by the plan,
  // keeps what the plan gave it), and the cgroup namespace rooted at the VE's cgroup:
  // without it the VE would see, and its root could mount, the host's whole tree.
  CgroupRoot cg_root = CGROUP_ROOT__INIT;
  CgroupRoot* cg_roots[] = {&cg_root};
  cg_root.path = const_cast<char*>(r.cgroup_root.c_str());
  c.opts.n_cg_root = 1;
  c.opts.cg_root = cg_roots;
  BOOST_OUTCOME_TRY(yard, criu_yard::make());
  c.opts.cgroup_yard = const_cast<char*>(yard.path().c_str());
  CriuReq req = CRIU_REQ__INIT;
  req.type = CRIU_REQ_TYPE__RESTORE;
  req.opts = &c.opts;
  BOOST_OUTCOME_TRY(s, start_service(&launch));
  BOOST_OUTCOME_TRY(resp, converse(s, req, "RESTORE", &notify));
  if (!resp->success)
    return fail(errc::child_failed, "criu restore: {}", reason_of(*resp, r.images_dir, r.log_file.c_str()));
  if (!resp->restore || resp->restore->pid <= 0)
    return fail(errc::child_failed, "criu restore answered no PID");
  if (conversation) *conversation = std::move(s.ours);
  return resp->restore->pid;
}

const result<void>& criu_kernel_check() {
  static std::once_flag once;
  static result<void> answer = success();
  std::call_once(once, [] { answer = check_kernel(); });
  return answer;
}

}  // namespace ovz::detail
