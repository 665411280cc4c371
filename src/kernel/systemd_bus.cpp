#include "kernel/systemd_bus.hpp"

#include "fail.hpp"

#include "kernel/sd_bus_lib.hpp"

#include <map>
#include <thread>

namespace ovz::detail {
namespace {

// Every call below runs on a bus that connect() made, so after the library was loaded.
const sd_bus_lib& sd() { return sd_bus_loaded(); }

constexpr const char* service = "org.freedesktop.systemd1";
constexpr const char* manager_path = "/org/freedesktop/systemd1";
constexpr const char* manager_iface = "org.freedesktop.systemd1.Manager";

struct bus_error {
  sd_bus_error e = SD_BUS_ERROR_NULL;
  bus_error() = default;
  bus_error(const bus_error&) = delete;
  ~bus_error() { sd().sd_bus_error_free(&e); }
  bool is(const char* name) const { return sd().sd_bus_error_has_name(&e, name); }
  // systemd's own words when it sent an error, else the errno's (strerror, added by sys_fail).
  std::string text() const { return e.message ? e.message : ""; }
};

struct message {
  sd_bus_message* m = nullptr;
  message() = default;
  message(const message&) = delete;
  ~message() { sd().sd_bus_message_unref(m); }
};

struct slot {
  sd_bus_slot* s = nullptr;
  slot() = default;
  slot(const slot&) = delete;
  ~slot() { sd().sd_bus_slot_unref(s); }
};

std::uint64_t usec(std::chrono::milliseconds t) {
  return static_cast<std::uint64_t>(t.count()) * 1000;
}

// The results of the jobs that ended, as systemd's JobRemoved signals say: job object path →
// "done", "failed", "canceled", "timeout", "dependency" or "skipped".
struct job_ends {
  std::map<std::string, std::string> results;
};

int on_job_removed(sd_bus_message* m, void* userdata, sd_bus_error*) {
  std::uint32_t id = 0;
  const char *job = nullptr, *unit = nullptr, *result = nullptr;
  if (sd().sd_bus_message_read(m, "uoss", &id, &job, &unit, &result) >= 0)
    static_cast<job_ends*>(userdata)->results[job] = result;
  return 0;
}

// Listens for job ends from before the call that queues the job: a quick job ends before the
// call's reply is read. A direct connection's messages have no sender, so none is matched.
result<void> watch_jobs(sd_bus* bus, slot& s, job_ends& ends, const std::string& where) {
  int r = sd().sd_bus_match_signal(bus, &s.s, nullptr, manager_path, manager_iface, "JobRemoved",
                              on_job_removed, &ends);
  if (r < 0) return sys_fail(-r, "systemd at {}: watch JobRemoved", where);
  return success();
}

result<void> wait_job(sd_bus* bus, job_ends& ends, const std::string& job,
                      std::chrono::steady_clock::time_point deadline, const std::string& what) {
  for (;;) {
    if (auto end = ends.results.find(job); end != ends.results.end()) {
      if (end->second == "done") return success();
      return fail(errc::child_failed, "{}: the job ended with \"{}\"", what, end->second);
    }
    int r = sd().sd_bus_process(bus, nullptr);
    if (r < 0) return sys_fail(-r, "{}: read from the bus", what);
    if (r > 0) continue;
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return fail(errc::timed_out, "{}: the job {} did not end", what, job);
    r = sd().sd_bus_wait(bus, usec(std::chrono::ceil<std::chrono::milliseconds>(deadline - now)));
    if (r < 0) return sys_fail(-r, "{}: wait on the bus", what);
  }
}

}  // namespace

result<systemd_bus> systemd_bus::connect(const std::string& address) {
  BOOST_OUTCOME_TRY(load_sd_bus());
  sd_bus* bus = nullptr;
  int r = sd().sd_bus_new(&bus);
  if (r < 0) return sys_fail(-r, "sd_bus_new");
  systemd_bus b(bus, address);
  if ((r = sd().sd_bus_set_address(bus, address.c_str())) < 0 || (r = sd().sd_bus_start(bus)) < 0)
    return sys_fail(-r, "connect to systemd at {}", address);
  return b;
}

systemd_bus::systemd_bus(systemd_bus&& other) noexcept
    : bus_(std::exchange(other.bus_, nullptr)), address_(std::move(other.address_)) {}

systemd_bus::~systemd_bus() { sd().sd_bus_flush_close_unref(bus_); }

result<std::string> systemd_bus::control_group() {
  bus_error err;
  char* cg = nullptr;
  int r = sd().sd_bus_get_property_string(bus_, service, manager_path, manager_iface, "ControlGroup",
                                     &err.e, &cg);
  if (r < 0) return sys_fail(-r, "systemd at {}: read its ControlGroup {}", address_, err.text());
  std::string out = cg;
  std::free(cg);
  while (out.starts_with('/')) out.erase(0, 1);
  return out;
}

result<void> systemd_bus::start_scope(const scope_spec& s, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto what = fmt::format("systemd at {}: start {}", address_, s.unit);
  message m;
  int r = sd().sd_bus_message_new_method_call(bus_, &m.m, service, manager_path, manager_iface,
                                         "StartTransientUnit");
  if (r >= 0) r = sd().sd_bus_message_append(m.m, "ss", s.unit.c_str(), "fail");
  if (r >= 0) r = sd().sd_bus_message_open_container(m.m, 'a', "(sv)");
  // Delegate=yes: systemd writes nothing below the scope's cgroup, where the VE's cgroup is.
  // CollectMode: a scope that failed (its processes killed) is forgotten too, so that the
  // VE's next start can take its name.
  if (r >= 0)
    r = sd().sd_bus_message_append(m.m, "(sv)(sv)(sv)(sv)(sv)", "Description", "s",
                              s.description.c_str(), "Slice", "s", s.slice.c_str(), "Delegate",
                              "b", 1, "CollectMode", "s", "inactive-or-failed", "PIDs", "au", 1,
                              static_cast<std::uint32_t>(s.pid));
  if (r >= 0) r = sd().sd_bus_message_close_container(m.m);
  if (r >= 0) r = sd().sd_bus_message_append(m.m, "a(sa(sv))", 0);
  if (r < 0) return sys_fail(-r, "{}: build StartTransientUnit", what);

  slot watch;
  job_ends ends;
  BOOST_OUTCOME_TRY(watch_jobs(bus_, watch, ends, address_));
  bus_error err;
  message reply;
  r = sd().sd_bus_call(bus_, m.m, usec(timeout), &err.e, &reply.m);
  if (r < 0) {
    if (err.is("org.freedesktop.systemd1.UnitExists"))
      return fail(errc::already_exists, "{}: systemd still has a unit of that name: {}", what,
                  err.text());
    return sys_fail(-r, "{}: {}", what, err.text());
  }
  const char* job = nullptr;
  r = sd().sd_bus_message_read(reply.m, "o", &job);
  if (r < 0) return sys_fail(-r, "{}: read the job", what);
  return wait_job(bus_, ends, job, deadline, what);
}

result<std::string> systemd_bus::scope_control_group(const std::string& unit) {
  bus_error err;
  message reply;
  int r = sd().sd_bus_call_method(bus_, service, manager_path, manager_iface, "GetUnit", &err.e,
                             &reply.m, "s", unit.c_str());
  if (r < 0) return sys_fail(-r, "systemd at {}: find {}: {}", address_, unit, err.text());
  const char* path = nullptr;
  if ((r = sd().sd_bus_message_read(reply.m, "o", &path)) < 0)
    return sys_fail(-r, "systemd at {}: find {}", address_, unit);
  char* cg = nullptr;
  bus_error perr;
  r = sd().sd_bus_get_property_string(bus_, service, path, "org.freedesktop.systemd1.Scope",
                                 "ControlGroup", &perr.e, &cg);
  if (r < 0)
    return sys_fail(-r, "systemd at {}: read the ControlGroup of {}: {}", address_, unit,
                    perr.text());
  std::string out = cg;
  std::free(cg);
  while (out.starts_with('/')) out.erase(0, 1);
  return out;
}

result<bool> systemd_bus::knows(const std::string& unit) {
  bus_error err;
  message reply;
  int r = sd().sd_bus_call_method(bus_, service, manager_path, manager_iface, "GetUnit", &err.e,
                             &reply.m, "s", unit.c_str());
  if (r >= 0) return true;
  if (err.is("org.freedesktop.systemd1.NoSuchUnit")) return false;
  return sys_fail(-r, "systemd at {}: find {}: {}", address_, unit, err.text());
}

result<void> systemd_bus::stop_and_forget(const std::string& unit,
                                          std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const auto what = fmt::format("systemd at {}: stop {}", address_, unit);
  slot watch;
  job_ends ends;
  BOOST_OUTCOME_TRY(watch_jobs(bus_, watch, ends, address_));
  bus_error err;
  message reply;
  int r = sd().sd_bus_call_method(bus_, service, manager_path, manager_iface, "StopUnit", &err.e,
                             &reply.m, "ss", unit.c_str(), "replace");
  if (r < 0) {
    if (err.is("org.freedesktop.systemd1.NoSuchUnit")) return success();
    return sys_fail(-r, "{}: {}", what, err.text());
  }
  const char* job = nullptr;
  if ((r = sd().sd_bus_message_read(reply.m, "o", &job)) < 0)
    return sys_fail(-r, "{}: read the job", what);
  BOOST_OUTCOME_TRY(wait_job(bus_, ends, job, deadline, what));
  // A stopped transient unit is forgotten at systemd's next garbage collection, which runs
  // when its event loop is idle: a moment after the job.
  for (;;) {
    BOOST_OUTCOME_TRY(known, knows(unit));
    if (!known) return success();
    if (std::chrono::steady_clock::now() >= deadline)
      return fail(errc::timed_out, "{}: systemd still has the unit after it stopped", what);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

}  // namespace ovz::detail
