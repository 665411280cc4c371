#include "ve/migration_hello.hpp"

#include "fail.hpp"

#include <sys/utsname.h>

namespace ovz::detail {
namespace {

constexpr const char protocol_version[] = "1";

constexpr std::pair<run_there, std::string_view> run_names[] = {
    {run_there::no, "no"}, {run_there::start, "start"}, {run_there::restore, "restore"}};

}  // namespace

std::string host_machine() {
  struct utsname u {};
  ::uname(&u);
  return u.machine;
}

result<ve_config> hello_of(const ve_op& op, run_there how) {
  ve_config h;
  BOOST_OUTCOME_TRY(h.set("PROTOCOL", protocol_version));
  BOOST_OUTCOME_TRY(h.set("CTID", std::to_string(op.id().value())));
  BOOST_OUTCOME_TRY(h.set("RUN", std::find_if(std::begin(run_names), std::end(run_names),
                                              [&](const auto& n) { return n.first == how; })
                                     ->second));
  BOOST_OUTCOME_TRY(h.set("OSTEMPLATE", op.conf.get("OSTEMPLATE").value_or("")));
  BOOST_OUTCOME_TRY(h.set("ARCH", host_machine()));
  return h;
}

result<hello> parse_hello(std::string_view text) {
  auto conf = ve_config::parse(text, "the migration's hello");
  if (!conf) return fail(errc::peer_failed, "{}", conf.error().message());
  const auto get = [&](std::string_view key) { return conf->get(key).value_or(""); };
  if (get("PROTOCOL") != protocol_version)
    return fail(errc::peer_failed, "migration protocol {} offered, {} spoken here",
                get("PROTOCOL").empty() ? "unknown" : get("PROTOCOL"), protocol_version);
  auto id = ctid::parse(get("CTID"));
  if (!id) return fail(errc::peer_failed, "a bad CTID in the migration's hello: {}", get("CTID"));
  hello h{.id = *id, .run = run_there::no, .ostemplate = {}, .arch = {}};
  const auto run = get("RUN");
  const auto* named = std::find_if(std::begin(run_names), std::end(run_names),
                                   [&](const auto& n) { return n.second == run; });
  if (named == std::end(run_names))
    return fail(errc::peer_failed, "a bad RUN in the migration's hello: {}", run);
  h.run = named->first;
  h.ostemplate = get("OSTEMPLATE");
  h.arch = get("ARCH");
  return h;
}

}  // namespace ovz::detail
