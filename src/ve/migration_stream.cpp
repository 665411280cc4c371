#include "ve/migration_stream.hpp"

#include "fail.hpp"
#include "kernel/host_tool.hpp"
#include "kernel/proc_stat.hpp"

#include <ovz/fd.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace ovz::detail {
namespace {

constexpr std::size_t chunk = 1 << 20;
// Hello, CTID.conf, error messages: text a person could read.
constexpr std::size_t text_max = 1 << 20;

const char* name_of(mig t) {
  switch (t) {
    case mig::hello: return "hello";
    case mig::ready: return "ready";
    case mig::error: return "error";
    case mig::file: return "file";
    case mig::tree: return "tree";
    case mig::data: return "tree data";
    case mig::done: return "done";
    case mig::ok: return "ok";
    case mig::pages: return "pages";
    case mig::page_data: return "page data";
  }
  return "unknown";
}

const std::vector<std::string> tar_common = {"--numeric-owner", "--xattrs", "--xattrs-include=*",
                                             "--acls"};

// Waits for tar and says how it ended, with the end of what it wrote to `said` (a memfd).
// `changing`: the tree was in use while archived, where tar's 1 (a file changed or went
// while it was read) is what is expected; what it missed goes in a later archive.
result<void> wait_tar(pid_t pid, int said, const char* doing, bool changing = false) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return sys_fail(errno, "waitpid tar");
  if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || (changing && WEXITSTATUS(status) == 1)))
    return success();
  std::string text(4096, '\0');
  const ssize_t n = ::pread(said, text.data(), text.size(), 0);
  text.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return fail(errc::child_failed, "tar {}: {}{}{}", doing, describe_exit(status),
              text.empty() ? "" : ": ", last_lines(text, 5));
}

result<unique_fd> memfd(const char* name) {
  unique_fd fd(::memfd_create(name, MFD_CLOEXEC));
  if (!fd) return sys_fail(errno, "memfd_create");
  return fd;
}

}  // namespace

namespace {

result<frame> read_one(const stream_end& s, std::size_t max, std::string_view what) {
  BOOST_OUTCOME_TRY(f, read_frame(s, max, what));
  if (static_cast<mig>(f.type) == mig::error)
    return fail(errc::peer_failed, "the other side: {}", f.payload);
  return f;
}

}  // namespace

result<void> send(const stream_end& s, mig type, std::string_view payload) {
  BOOST_OUTCOME_TRY(whole, write_frame_unless_heard(s, static_cast<std::uint32_t>(type), payload));
  if (whole) return success();
  const std::string what =
      fmt::format("the other side's reason to stop taking {}", name_of(type));
  BOOST_OUTCOME_TRY(f, read_one(s, text_max, what));
  return fail(errc::peer_failed, "the other side sent {} while it was sent {}",
              name_of(static_cast<mig>(f.type)), name_of(type));
}

result<void> answer(const stream_end& s, mig type, std::string_view payload) {
  return write_frame(s, static_cast<std::uint32_t>(type), payload);
}

result<frame> next_frame(const stream_end& s, std::string_view what) {
  return read_one(s, text_max, what);
}

result<std::string> expect(const stream_end& s, mig type, std::string_view what) {
  BOOST_OUTCOME_TRY(f, read_one(s, type == mig::data ? chunk : text_max, what));
  const auto got = static_cast<mig>(f.type);
  if (got == type) return std::move(f.payload);
  return fail(errc::peer_failed, "{} expected from the other side, it sent {}", what,
              name_of(got));
}

result<void> send_tree(const stream_end& s, std::string_view name, const std::filesystem::path& dir,
                       const std::filesystem::path& snapshot, tree_state state) {
  BOOST_OUTCOME_TRY(send(s, mig::tree, name));
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return sys_fail(errno, "pipe2");
  unique_fd from_tar(ends[0]), to_us(ends[1]);
  BOOST_OUTCOME_TRY(said, memfd("tar-create"));
  std::vector<std::string> argv = {"tar", "--create", "--file=-", "--sparse",
                                   "--directory=" + dir.string()};
  argv.insert(argv.end(), tar_common.begin(), tar_common.end());
  if (!snapshot.empty()) argv.push_back("--listed-incremental=" + snapshot.string());
  const bool changing = state == tree_state::in_use;
  if (changing)
    argv.insert(argv.end(), {"--warning=no-file-changed", "--warning=no-file-removed",
                             "--warning=no-file-shrank"});
  argv.push_back(".");
  BOOST_OUTCOME_TRY(pid, spawn_tool(argv, to_us.get(), said.get()));
  to_us.reset();
  std::string buf(chunk, '\0');
  result<void> sent = success();
  for (;;) {
    const ssize_t n = ::read(from_tar.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      sent = sys_fail(errno, "read tar's archive of {}", dir.string());
      break;
    }
    if (n == 0) break;
    sent = send(s, mig::data, std::string_view(buf.data(), static_cast<std::size_t>(n)));
    if (!sent) break;
  }
  // Closed first: a tar still writing gets EPIPE rather than blocking.
  from_tar.reset();
  auto archived = wait_tar(pid, said.get(), ("archiving " + dir.string()).c_str(), changing);
  if (!sent) return sent.error();
  if (!archived) return archived.error();
  return send(s, mig::data);
}

result<void> receive_tree(const stream_end& s, const std::filesystem::path& dir, tree_into how) {
  const bool made = how == tree_into::new_dir || how == tree_into::new_dir_incremental;
  if (made && ::mkdir(dir.c_str(), 0700) != 0)
    return sys_fail(errno, "mkdir {}", dir.string());
  // A socket rather than a pipe: a tar that died is EPIPE here, never SIGPIPE.
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0)
    return sys_fail(errno, "socketpair");
  unique_fd for_tar(ends[0]), to_tar(ends[1]);
  BOOST_OUTCOME_TRY(said, memfd("tar-extract"));
  std::vector<std::string> argv = {"tar", "--extract", "--file=-",
                                   "--preserve-permissions", "--same-owner",
                                   "--directory=" + dir.string()};
  argv.insert(argv.end(), tar_common.begin(), tar_common.end());
  // An incremental archive's directories list what they hold: the rest is removed.
  if (how == tree_into::new_dir_incremental || how == tree_into::over_dir)
    argv.push_back("--listed-incremental=/dev/null");
  BOOST_OUTCOME_TRY(pid, spawn_tool(argv, -1, said.get(), {}, for_tar.get()));
  for_tar.reset();
  result<void> fed = success();
  for (;;) {
    auto data = expect(s, mig::data, "the archive of " + dir.filename().string());
    if (!data) {
      fed = data.error();
      break;
    }
    if (data->empty()) break;
    const char* p = data->data();
    std::size_t left = data->size();
    while (left > 0) {
      const ssize_t n = ::send(to_tar.get(), p, left, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) break;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    if (left > 0) {
      fed = sys_fail(errno, "write to tar extracting into {}", dir.string());
      break;
    }
  }
  to_tar.reset();
  auto extracted = wait_tar(pid, said.get(), ("extracting into " + dir.string()).c_str());
  if (!fed) return fed.error();
  return extracted;
}

}  // namespace ovz::detail
