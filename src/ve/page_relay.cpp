#include "ve/page_relay.hpp"

#include "fail.hpp"
#include "kernel/criu_service.hpp"
#include "ve/migration_stream.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <thread>

namespace ovz::detail {
namespace {

// What one read of CRIU's socket takes: a frame's worth, well under the frame limit.
constexpr std::size_t chunk = 256 * 1024;

// Writes all of `data` to the local end; false when its process is gone (it said what it
// wanted; the rest of the other side's words have no one to go to).
bool put_local(int local, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(local, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// Relays between `local` (CRIU's dump or page server) and the stream until each side has
// sent its end: ours once the local end is over or the other side's came. The bytes the
// local end sent, in `sent`.
result<void> relay(const stream_end& s, int local, std::uint64_t& sent) {
  const auto end = static_cast<std::uint32_t>(mig::page_data);
  bool ended_here = false, ended_there = false, local_gone = false;
  std::string buf(chunk, '\0');
  const int silence = s.silence.count() > 0 ? static_cast<int>(s.silence.count()) : -1;
  while (!ended_here || !ended_there) {
    pollfd fds[2] = {{.fd = ended_here ? -1 : local, .events = POLLIN, .revents = 0},
                     {.fd = ended_there ? -1 : s.fd, .events = POLLIN, .revents = 0}};
    const int ready = ::poll(fds, 2, silence);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return sys_fail(errno, "poll the page session");
    // Nothing from CRIU either, which a hung other side leaves waiting for its answer.
    if (ready == 0)
      return fail(errc::timed_out, "the other side said nothing in a page session for {} ms",
                  silence);
    if (fds[1].revents) {
      BOOST_OUTCOME_TRY(f, next_frame(s, "the other side's page session"));
      if (static_cast<mig>(f.type) != mig::page_data)
        return fail(errc::peer_failed, "the other side sent a frame of type {} in a page session",
                    f.type);
      if (f.payload.empty()) {
        ended_there = true;
        ::shutdown(local, SHUT_WR);
        if (!ended_here) {
          BOOST_OUTCOME_TRY(write_frame(s, end, {}));
          ended_here = true;
        }
      } else if (!local_gone) {
        local_gone = !put_local(local, f.payload);
      }
    }
    // Not after our end, which the other side's may have just brought.
    if (fds[0].revents && !ended_here) {
      const ssize_t n = ::read(local, buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n > 0) {
        sent += static_cast<std::uint64_t>(n);
        BOOST_OUTCOME_TRY(write_frame(s, end, std::string_view(buf.data(), static_cast<std::size_t>(n))));
      } else {
        // Over here (or broken, which the local process reports): the end.
        BOOST_OUTCOME_TRY(write_frame(s, end, {}));
        ended_here = true;
      }
    }
  }
  return success();
}

result<std::pair<unique_fd, unique_fd>> socket_pair() {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) != 0)
    return sys_fail(errno, "socketpair for a page session");
  return std::pair{unique_fd(ends[0]), unique_fd(ends[1])};
}

}  // namespace

struct page_relay::session {
  explicit session(const stream_end& s) : stream(s) {}
  stream_end stream;
  unique_fd ours, theirs;
  std::thread thread;
  std::optional<result<std::uint64_t>> outcome;  // the thread's, once it ends
};

result<page_relay> page_relay::open(const stream_end& s, std::string_view name) {
  BOOST_OUTCOME_TRY(send(s, mig::pages, name));
  BOOST_OUTCOME_TRY(ends, socket_pair());
  auto state = std::make_unique<session>(s);
  session* p = state.get();
  p->ours = std::move(ends.first);
  p->theirs = std::move(ends.second);
  try {
    p->thread = std::thread([p] {
      std::uint64_t sent = 0;
      auto relayed = relay(p->stream, p->ours.get(), sent);
      p->outcome = relayed ? result<std::uint64_t>(sent) : result<std::uint64_t>(relayed.error());
      // A dump still waiting on the session hears it is over.
      ::shutdown(p->ours.get(), SHUT_RDWR);
    });
  } catch (const std::system_error& e) {
    return sys_fail(e.code().value(), "start the page relay's thread");
  }
  return page_relay(std::move(state));
}

page_relay::page_relay(std::unique_ptr<session> s) : s_(std::move(s)) {}
page_relay::page_relay(page_relay&&) noexcept = default;

page_relay::~page_relay() {
  if (s_) (void)finish();
}

int page_relay::socket() const { return s_->theirs.get(); }

result<std::uint64_t> page_relay::finish() {
  if (s_->thread.joinable()) {
    // CRIU's copy is its own: once it is done with it, ours is all that keeps the session.
    s_->theirs.reset();
    s_->thread.join();
  }
  return *s_->outcome;
}

result<void> serve_pages(const stream_end& s, const std::filesystem::path& dir,
                         const std::string& parent) {
  if (::mkdir(dir.c_str(), 0700) != 0) return sys_fail(errno, "mkdir {}", dir.string());
  unique_fd images(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!images) return sys_fail(errno, "open {}", dir.string());
  BOOST_OUTCOME_TRY(ends, socket_pair());
  criu_page_server_request r;
  r.images_dir = images.get();
  r.log_file = "page-server.log";
  r.socket = ends.second.get();
  r.parent_img = parent;
  BOOST_OUTCOME_TRY(criu_page_server(r));
  ends.second.reset();
  std::uint64_t sent = 0;
  return relay(s, ends.first.get(), sent);
}

}  // namespace ovz::detail
