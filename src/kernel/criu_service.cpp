#include "kernel/criu_service.hpp"

#include <ovz/fd.hpp>

#include "fail.hpp"
#include "kernel/files.hpp"
#include "kernel/host_tool.hpp"

#include "rpc.pb-c.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <vector>

namespace ovz::detail {
namespace {

struct free_resp {
  void operator()(CriuResp* r) const { criu_resp__free_unpacked(r, nullptr); }
};
using criu_resp = std::unique_ptr<CriuResp, free_resp>;

// The last lines CRIU wrote (its errors), for a failure's message.
std::string tail_of(int fd) {
  std::string text;
  char buf[4096];
  for (off_t at = 0;;) {
    const ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n <= 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    at += n;
  }
  return last_lines(std::move(text), 5);
}

// One request, to a service process of its own, and its answer. `what` names the request in
// errors, which carry what CRIU wrote.
result<criu_resp> ask(CriuReq& req, const char* what) {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0)
    return sys_fail(errno, "socketpair for criu swrk");
  unique_fd ours(ends[0]), theirs(ends[1]);
  unique_fd said(::memfd_create("criu-output", MFD_CLOEXEC));
  if (!said) return sys_fail(errno, "memfd_create for criu's output");
  const std::string program = criu_program();
  auto pid = spawn_tool({program, "swrk", "3"}, said.get(), said.get(), theirs.get());
  if (!pid) {
    if (pid.error().sys_errno() == ENOENT)
      return fail(errc::unsupported, "{} is not installed (apt-get install criu)", program);
    return pid.error();
  }
  theirs.reset();
  std::vector<std::uint8_t> out(criu_req__get_packed_size(&req));
  criu_req__pack(&req, out.data());
  std::vector<std::uint8_t> in;
  int err = 0;
  if (::send(ours.get(), out.data(), out.size(), MSG_NOSIGNAL) < 0) {
    err = errno;
  } else {
    // One message per answer: its size first, then the message.
    ssize_t size;
    do {
      size = ::recv(ours.get(), nullptr, 0, MSG_PEEK | MSG_TRUNC);
    } while (size < 0 && errno == EINTR);
    if (size > 0) {
      in.resize(static_cast<std::size_t>(size));
      size = ::recv(ours.get(), in.data(), in.size(), 0);
    }
    if (size < 0) err = errno;
    if (size <= 0) in.clear();
  }
  ours.reset();
  int status = 0;
  while (::waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (in.empty()) {
    const auto said_text = tail_of(said.get());
    if (err) return sys_fail(err, "criu swrk {}: {}", what, said_text);
    return fail(errc::child_failed, "criu swrk ended without answering {}: {}", what,
                said_text.empty() ? std::string("it said nothing") : said_text);
  }
  criu_resp resp(criu_resp__unpack(nullptr, in.size(), in.data()));
  if (!resp) return fail(errc::child_failed, "criu swrk answered {} with no message it knows", what);
  return resp;
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
  const std::string log_path = std::string(dir) + "/check.log";
  auto log = read_file(log_path);
  ::unlink(log_path.c_str());
  ::rmdir(dir);
  if (!resp) return resp.error();
  if ((*resp)->success) return success();
  std::string why = log ? errors_in(*log) : std::string();
  if (why.empty() && (*resp)->cr_errmsg) why = (*resp)->cr_errmsg;
  return fail(errc::unsupported, "CRIU cannot checkpoint on this kernel: {}",
              why.empty() ? std::string("criu check failed, saying nothing") : why);
}

}  // namespace

const result<void>& criu_kernel_check() {
  static std::once_flag once;
  static result<void> answer = success();
  std::call_once(once, [] { answer = check_kernel(); });
  return answer;
}

}  // namespace ovz::detail
