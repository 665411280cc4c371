#include "support/enter_script.hpp"

#include "support/temp_root.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <thread>

namespace ovz::test {

entered enter_script(const ve& v, const std::string& script) {
  int in[2], out[2];
  REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
  REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
  REQUIRE(::write(in[1], script.data(), script.size()) == static_cast<ssize_t>(script.size()));
  ::close(in[1]);
  // Read while the shell runs: a pipe holds less than its 64 KiB when the relay's writes
  // come in odd sizes, and a full one would stall the relay and so the shell.
  entered e;
  std::thread reader([&] {
    char buf[4096];
    for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) e.seen.append(buf, n);
  });
  auto code = v.enter({.argv = {"/bin/sh"}, .in_fd = in[0], .out_fd = out[1]});
  ::close(in[0]);
  ::close(out[1]);
  reader.join();
  ::close(out[0]);
  INFO(e.seen);
  e.exit_code = MUST(std::move(code));
  return e;
}

}  // namespace ovz::test
