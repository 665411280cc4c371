#include "model/shutdown.hpp"

#include "support/temp_root.hpp"

#include <cstdint>
#include <cstring>

using ovz::detail::classify_init;
using ovz::detail::init_kind;
using ovz::detail::shutdown_request;

TEST_CASE("the init is told by its executable and task name", "[shutdown]") {
  CHECK(classify_init("/usr/lib/systemd/systemd", "systemd") == init_kind::systemd);
  CHECK(classify_init("/lib/systemd/systemd (deleted)", "systemd") == init_kind::systemd);
  CHECK(classify_init("/usr/sbin/init", "init") == init_kind::sysvinit);
  CHECK(classify_init("/sbin/init", "init\n") == init_kind::sysvinit);
  CHECK(classify_init("/bin/busybox", "init") == init_kind::busybox);
  CHECK(classify_init("/bin/busybox", "sh") == init_kind::other);
  // A shell, a sleeper, a renamed binary: asked with SIGTERM.
  CHECK(classify_init("/bin/bash", "bash") == init_kind::other);
  CHECK(classify_init("/usr/sbin/init", "runit") == init_kind::other);
  CHECK(classify_init("/opt/init", "init") == init_kind::other);
  CHECK(classify_init("", "") == init_kind::other);
}

TEST_CASE("each init is asked its own way", "[shutdown]") {
  CHECK(ovz::detail::shutdown_request_for(init_kind::systemd) == shutdown_request::sigrtmin_plus_3);
  CHECK(ovz::detail::shutdown_request_for(init_kind::sysvinit) ==
        shutdown_request::initctl_runlevel_0);
  CHECK(ovz::detail::shutdown_request_for(init_kind::busybox) == shutdown_request::sigusr2);
  CHECK(ovz::detail::shutdown_request_for(init_kind::other) == shutdown_request::sigterm);
}

TEST_CASE("the runlevel request is sysvinit's struct init_request", "[shutdown]") {
  auto req = ovz::detail::initreq_runlevel('0');
  REQUIRE(req.size() == 384);
  std::int32_t header[4];
  std::memcpy(header, req.data(), sizeof header);
  CHECK(header[0] == 0x03091969);
  CHECK(header[1] == 1);  // INIT_CMD_RUNLVL
  CHECK(header[2] == '0');
  CHECK(header[3] == 5);
  CHECK(req.find_first_not_of('\0', sizeof header) == std::string::npos);
}

TEST_CASE("STOP_TIMEOUT: whole seconds, unset meaning 10", "[shutdown]") {
  using std::chrono::milliseconds;
  CHECK(MUST(ovz::detail::parse_stop_timeout(std::nullopt)) == milliseconds(10000));
  CHECK(MUST(ovz::detail::parse_stop_timeout("0")) == milliseconds(0));
  CHECK(MUST(ovz::detail::parse_stop_timeout("120")) == milliseconds(120000));
  CHECK(MUST(ovz::detail::parse_stop_timeout("86400")) == milliseconds(86400000));
  for (const char* bad : {"", "-1", "1.5", "10s", " 10", "86401", "99999999999"}) {
    INFO(bad);
    auto r = ovz::detail::parse_stop_timeout(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(ovz::errc::bad_config));
    CHECK_THAT(r.error().message(), Catch::Contains("STOP_TIMEOUT"));
  }
}
