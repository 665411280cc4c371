#include "template/internal.hpp"

#include "fail.hpp"

#include <elf.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ovz::detail {

namespace fs = std::filesystem;

result<std::optional<std::string>> sh_problem(const fs::path& root) {
  unique_fd dir(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return sys_fail(errno, "{}: open", root.string());
  // Resolved inside `root`: a root filesystem's own symlinks (usrmerge's /bin, or absolute
  // ones such as bin/sh -> /bin/busybox) point into it, never into the host.
  open_how how{};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  unique_fd sh;
  // RESOLVE_IN_ROOT answers EAGAIN when a rename anywhere on the host raced a ".." it resolved.
  for (int tries = 0; !sh && tries < 8; ++tries) {
    sh.reset(static_cast<int>(::syscall(SYS_openat2, dir.get(), "bin/sh", &how, sizeof how)));
    if (!sh && errno != EAGAIN) break;
  }
  if (!sh) {
    if (errno == ENOENT || errno == ENOTDIR || errno == ELOOP)
      return std::optional<std::string>("has no /bin/sh");
    return sys_fail(errno, "{}/bin/sh: openat2", root.string());
  }
  struct stat st;
  if (::fstat(sh.get(), &st) != 0) return sys_fail(errno, "{}/bin/sh: fstat", root.string());
  if (!S_ISREG(st.st_mode))
    return std::optional<std::string>("has a /bin/sh that is not a regular file");
  if ((st.st_mode & 0111) == 0)
    return std::optional<std::string>("has a /bin/sh that is not executable");
  if (st.st_size == 0) return std::optional<std::string>("has an empty /bin/sh (0 bytes)");
  // Read through the O_PATH descriptor, now known to be a regular file (no FIFO to hang on,
  // no device to act on).
  unique_fd data(::open(fmt::format("/proc/self/fd/{}", sh.get()).c_str(), O_RDONLY | O_CLOEXEC));
  if (!data) return sys_fail(errno, "{}/bin/sh: open", root.string());
  char head[SELFMAG] = {};
  if (::pread(data.get(), head, sizeof head, 0) < 0)
    return sys_fail(errno, "{}/bin/sh: read", root.string());
  if (std::memcmp(head, ELFMAG, SELFMAG) != 0 && std::memcmp(head, "#!", 2) != 0)
    return std::optional<std::string>(
        "has a /bin/sh that is neither an ELF binary nor a script (its first bytes are "
        "garbage)");
  return std::optional<std::string>();
}

}  // namespace ovz::detail
