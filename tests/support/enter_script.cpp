#include "support/enter_script.hpp"

#include "support/temp_root.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace ovz::test {

entered enter_script(const ve& v, const std::string& script) {
  int in[2], out[2];
  REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(::write(in[1], script.data(), script.size()) == static_cast<ssize_t>(script.size()));
  ::close(in[1]);
  auto code = v.enter({.argv = {"/bin/sh"}, .in_fd = in[0], .out_fd = out[1]});
  ::close(in[0]);
  ::close(out[1]);
  entered e;
  char buf[4096];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) e.seen.append(buf, n);
  ::close(out[0]);
  INFO(e.seen);
  e.exit_code = MUST(std::move(code));
  return e;
}

}  // namespace ovz::test
