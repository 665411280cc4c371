#include <ovz/ubc_watch.hpp>

#include "fail.hpp"
#include "kernel/cgroup_manager.hpp"
#include "kernel/ovz_module.hpp"
#include "model/layout.hpp"
#include "model/ubc_table.hpp"
#include "ve/disk_watch.hpp"
#include "ve/ubc_measure.hpp"
#include "ve/ve_op.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <atomic>

namespace ovz::inline v0 {

const char* to_string(disk_resource r) noexcept {
  return r == disk_resource::diskspace ? "diskspace" : "diskinodes";
}

const char* resource_name(const ubc_event& e) noexcept {
  return e.disk ? to_string(*e.disk) : to_string(e.resource);
}

// Lives as long as an asynchronous operation holds it, so that a watcher destroyed while the
// io_context still has its handlers queued leaves them nothing dangling.
struct ubc_watcher::state : std::enable_shared_from_this<ubc_watcher::state> {
  state(boost::asio::io_context& io, ovz::host on, std::string cgroup, const ve& v, handler h,
        std::chrono::milliseconds interval)
      : on(std::move(on)), cg(&this->on.services().cg()), cgroup(std::move(cgroup)), id(v.id()),
        disk(v), on_failure(std::move(h)),
        interval(interval), strand(boost::asio::make_strand(io)), timer(strand),
        notify(strand), module(strand) {}

  // The resources whose refusals the kernel signals, in the table's order.
  static constexpr auto watched = [] {
    std::array<ubc_resource, detail::watchable_count()> w{};
    std::size_t i = 0;
    for (const auto& row : detail::ubc_rows)
      if (row.watchable) w[i++] = row.resource;
    return w;
  }();

  ovz::host on;  // keeps the backend alive
  detail::cgroup_manager* cg;
  std::string cgroup;
  ctid id;
  detail::disk_soft_watch disk;  // used on the strand only
  handler on_failure;
  std::chrono::milliseconds interval;
  // The io_context may be run by several threads. The timer's and inotify's handlers share
  // `last` and both Asio objects, which are not thread-safe: they, the first arming and the
  // cancellation at the end all run on this strand, one at a time.
  boost::asio::strand<boost::asio::io_context::executor_type> strand;
  boost::asio::steady_timer timer;
  boost::asio::posix::stream_descriptor notify;
  boost::asio::posix::stream_descriptor module;  // /dev/ovz, where its poll() wakes on failcnts
  std::array<std::uint64_t, watched.size()> last{};
  std::array<char, 4096> buffer{};
  std::atomic<bool> stopped{false};

  std::array<std::uint64_t, watched.size()> counts() const {
    auto u = cg->stats(cgroup);
    if (!u) return last;  // a cgroup going away meanwhile: nothing new to say
    detail::ubc_readings in;
    in.cgroup = *u;
    in.running = true;
    std::array<std::uint64_t, watched.size()> now{};
    for (std::size_t i = 0; i < watched.size(); ++i) now[i] = detail::measure(watched[i], in).failcnt;
    return now;
  }

  void check() {
    auto now = counts();
    for (std::size_t i = 0; i < now.size(); ++i) {
      // A restarted VE counts from zero in its new cgroup: only growth is news.
      if (now[i] > last[i] && !stopped) on_failure(ubc_event{id, watched[i], now[i], last[i]});
      last[i] = now[i];
    }
  }

  // The event files belong to the VE's current cgroup; a restart makes new ones, so the
  // watches are renewed on every tick (inotify_add_watch is idempotent for a watched file).
  void rewatch() {
    if (!notify.is_open()) return;
    auto open = cg->open(cgroup);
    if (!open) return;  // not running: the next tick looks again
    for (const char* name : cg->resources().event_files())
      for (const auto& h : open->dirs)
        if (h.dir.has(name))
          ::inotify_add_watch(notify.native_handle(), h.dir.file(name).c_str(), IN_MODIFY);
  }

  void arm_timer() {
    timer.expires_after(interval);
    timer.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
      if (ec || self->stopped) return;
      self->rewatch();
      self->check();
      // Disk usage has no notification to wait for: it is looked at on the timer only.
      for (const auto& e : self->disk.look())
        if (!self->stopped) self->on_failure(e);
      self->arm_timer();
    });
  }

  // The module wakes every file's poll() when any VE's memory or swap failcnt moved (its
  // sampler looks every 250 ms); reading the generation makes this file wait for the next
  // change, so it is read before the counts: a change from then on wakes it again.
  void arm_module() {
    if (!module.is_open()) return;
    module.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                      [self = shared_from_this()](const boost::system::error_code& ec) {
                        if (ec || self->stopped) return;
                        // A file that cannot be read would wake at once for ever: the timer
                        // goes on alone.
                        if (!detail::read_generation(self->module.native_handle())) return;
                        self->check();
                        self->arm_module();
                      });
  }

  void arm_notify() {
    if (!notify.is_open()) return;
    notify.async_read_some(boost::asio::buffer(buffer),
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       std::size_t) {
                             if (ec || self->stopped) return;
                             self->check();
                             self->arm_notify();
                           });
  }
};

result<std::unique_ptr<ubc_watcher>> ubc_watcher::start(boost::asio::io_context& io, const ve& v,
                                                        handler on_failure,
                                                        std::chrono::milliseconds poll_interval) {
  if (!on_failure) return detail::fail(errc::invalid_argument, "ubc_watcher: no handler");
  // A zero interval would re-arm the timer at once, for ever: a busy loop, not a watcher.
  if (poll_interval <= std::chrono::milliseconds::zero())
    return detail::fail(errc::invalid_argument, "ubc_watcher: poll interval {} ms is not positive",
                        poll_interval.count());
  BOOST_OUTCOME_TRY(op, detail::ve_op::begin(v, {}));
  BOOST_OUTCOME_TRY(on, detail::ve_op::host_of(v));
  const auto& l = op.layout;
  auto s = std::make_shared<state>(io, std::move(on), l.cgroup, v, std::move(on_failure),
                                   poll_interval);
  if (!s->cg->resources().event_files().empty()) {
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return detail::sys_fail(errno, "VE {}: inotify_init1", v.id().value());
    s->notify.assign(fd);
    s->rewatch();
  }
  // A file that never read the generation is readable at once: read before the first wait.
  if (auto fd = detail::open_ovz_module_with(&detail::ovz_module_info::poll);
      fd && detail::read_generation(fd->get()))
    s->module.assign(fd->release());
  s->last = s->counts();
  boost::asio::post(s->strand, [s] {
    s->arm_timer();
    s->arm_notify();
    s->arm_module();
  });
  return std::unique_ptr<ubc_watcher>(new ubc_watcher(std::move(s)));
}

ubc_watcher::~ubc_watcher() {
  state_->stopped = true;
  boost::asio::post(state_->strand, [s = state_] {
    s->timer.cancel();
    boost::system::error_code ignored;
    s->notify.close(ignored);
    s->module.close(ignored);
  });
}

}  // namespace ovz::inline v0
