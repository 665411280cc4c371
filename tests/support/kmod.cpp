#include "support/kmod.hpp"

#include "support/temp_root.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace ovz::test {

bool module_here() {
  if (::access("/dev/ovz", F_OK) == 0) return true;
  const char* dir = std::getenv("OVZ_KMOD_DIR");
  if (!dir) {
    WARN("SKIPPED: no /dev/ovz and no OVZ_KMOD_DIR: the ovz module is not loaded here "
         "(tests/lab/run builds and offers it)");
    return false;
  }
  const std::string ko = std::string(dir) + "/ovz.ko";
  const int fd = ::open(ko.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  const long loaded = ::syscall(SYS_finit_module, fd, "", 0);
  const int err = errno;
  ::close(fd);
  INFO("finit_module " << ko << ": " << std::strerror(err));
  REQUIRE((loaded == 0 || err == EEXIST));
  return true;
}

long unload_module() { return ::syscall(SYS_delete_module, "ovz", O_NONBLOCK); }

void stop_then_unload(ve& v) {
  CHECK(unload_module() != 0);
  MUST(v.stop({.fast = true}));
  long unloaded = -1;
  for (int i = 0; i < 50 && (unloaded = unload_module()) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  INFO("delete_module: " << std::strerror(errno));
  CHECK(unloaded == 0);
}

}  // namespace ovz::test
