#include "oci/record.hpp"

#include <ovz/config.hpp>

#include "fail.hpp"

#include <charconv>
#include <ctime>

namespace ovz::detail {
namespace {

template <class T>
bool number(const std::string& s, T& out) {
  auto [at, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && at == s.data() + s.size();
}

}  // namespace

oci_paths oci_paths_of(const std::filesystem::path& root, std::string_view id) {
  oci_paths p;
  p.dir = root / "oci" / std::string(id);
  p.record = p.dir / "container";
  p.config = p.dir / "config.json";
  p.gate = p.dir / "exec.fifo";
  return p;
}

result<oci_record> load_record(const oci_paths& p, std::string_view id) {
  auto conf = ve_config::load(p.record);
  if (!conf) {
    if (conf.error().sys_errno() == ENOENT || conf.error().code() == errc::not_found)
      return fail(errc::not_found, "container does not exist: {}", id);
    return conf.error();
  }
  oci_record r;
  std::uint32_t n = 0;
  if (!number(conf->get("CTID").value_or(""), n))
    return fail(errc::bad_config, "{}: no CTID", p.record.string());
  BOOST_OUTCOME_TRY(ve, ctid::from_number(n));
  r.ve = ve;
  r.bundle = conf->get("BUNDLE").value_or("");
  r.created = conf->get("CREATED").value_or("");
  number(conf->get("INIT_PID").value_or("0"), r.init_pid);
  number(conf->get("INIT_START").value_or("0"), r.init_start);
  return r;
}

result<void> save_record(const oci_paths& p, const oci_record& r) {
  ve_config conf;
  BOOST_OUTCOME_TRY(conf.set("CTID", r.ve ? r.ve->str() : ""));
  BOOST_OUTCOME_TRY(conf.set("BUNDLE", r.bundle.string()));
  BOOST_OUTCOME_TRY(conf.set("CREATED", r.created));
  BOOST_OUTCOME_TRY(conf.set("INIT_PID", std::to_string(r.init_pid)));
  BOOST_OUTCOME_TRY(conf.set("INIT_START", std::to_string(r.init_start)));
  return conf.save(p.record);
}

std::string rfc3339_now() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  std::tm tm{};
  ::gmtime_r(&now.tv_sec, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return fmt::format("{}.{:09}Z", std::string_view(buf, n), now.tv_nsec);
}

}  // namespace ovz::detail
