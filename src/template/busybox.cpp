#include "template/internal.hpp"

#include "fail.hpp"
#include "kernel/host_tool.hpp"

#include <ovz/fd.hpp>

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>

namespace ovz::detail {
namespace {

namespace fs = std::filesystem;

// Debian's busybox-static installs here; the dynamic busybox package would need a libc the
// template does not have.
constexpr const char* host_busybox = "/bin/busybox";

struct dir_entry {
  const char* path;
  mode_t mode;
};

constexpr dir_entry dirs[] = {
    {"bin", 0755},      {"sbin", 0755}, {"usr", 0755},        {"usr/bin", 0755},
    {"usr/sbin", 0755}, {"dev", 0755},  {"proc", 0755},       {"sys", 0755},
    {"tmp", 01777},     {"run", 0755},  {"root", 0700},       {"var", 0755},
    {"var/log", 0755},  {"etc", 0755},  {"etc/init.d", 0755}, {"home", 0755},
};

struct file_entry {
  const char* path;
  std::string_view content;
  mode_t mode;
};

constexpr file_entry files[] = {
    {"etc/passwd",
     "root:x:0:0:root:/root:/bin/sh\n"
     "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
     0644},
    {"etc/group", "root:x:0:\nnogroup:x:65534:\n", 0644},
    {"etc/shadow", "root:*::0:99999:7:::\nnobody:*::0:99999:7:::\n", 0600},
    {"etc/hostname", "localhost\n", 0644},
    {"etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n", 0644},
    {"etc/inittab",
     "# busybox init is the VE's PID 1 and the VE has no consoles or ttys, so nothing is\n"
     "# respawned: init runs rcS once and then idles until the VE is stopped.\n"
     "::sysinit:/etc/init.d/rcS\n"
     "::shutdown:/bin/true\n",
     0644},
    {"etc/init.d/rcS",
     "#!/bin/sh\n"
     "# /proc, /sys and /dev are mounted before init starts.\n"
     "exit 0\n",
     0755},
    {"etc/profile",
     "export PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"
     "export PS1='\\u@\\h:\\w\\$ '\n",
     0644},
};

// PT_INTERP names the dynamic loader the binary needs; nullopt when it is not a readable ELF.
template <class Ehdr, class Phdr>
std::optional<bool> has_interpreter(int fd) {
  Ehdr eh;
  if (::pread(fd, &eh, sizeof eh, 0) != static_cast<ssize_t>(sizeof eh)) return std::nullopt;
  if (eh.e_phentsize != sizeof(Phdr)) return std::nullopt;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Phdr ph;
    off_t at = static_cast<off_t>(eh.e_phoff + i * sizeof ph);
    if (::pread(fd, &ph, sizeof ph, at) != static_cast<ssize_t>(sizeof ph)) return std::nullopt;
    if (ph.p_type == PT_INTERP) return true;
  }
  return false;
}

result<void> check_static_busybox() {
  unique_fd fd(::open(host_busybox, O_RDONLY | O_CLOEXEC));
  if (!fd) {
    if (errno == ENOENT) {
      return fail(errc::unsupported,
                  "{} is missing: the built-in template needs the static busybox "
                  "(apt-get install busybox-static)",
                  host_busybox);
    }
    return sys_fail(errno, "{}: open", host_busybox);
  }
  unsigned char ident[EI_NIDENT];
  std::optional<bool> dynamic;
  if (::pread(fd.get(), ident, sizeof ident, 0) == static_cast<ssize_t>(sizeof ident) &&
      std::memcmp(ident, ELFMAG, SELFMAG) == 0) {
    if (ident[EI_CLASS] == ELFCLASS64) dynamic = has_interpreter<Elf64_Ehdr, Elf64_Phdr>(fd.get());
    if (ident[EI_CLASS] == ELFCLASS32) dynamic = has_interpreter<Elf32_Ehdr, Elf32_Phdr>(fd.get());
  }
  if (!dynamic) {
    return fail(errc::unsupported,
                "{} is not an ELF executable: the built-in template needs the static busybox "
                "(apt-get install busybox-static)",
                host_busybox);
  }
  if (*dynamic) {
    return fail(errc::unsupported,
                "{} is dynamically linked: the built-in template needs the static busybox "
                "(apt-get install busybox-static)",
                host_busybox);
  }
  return success();
}

// Applet paths come from the host's busybox; one that would leave the root is refused.
bool inside_root(const fs::path& rel) {
  if (rel.empty() || rel.is_absolute()) return false;
  for (const auto& part : rel) {
    if (part.empty() || part == "." || part == "..") return false;
  }
  return true;
}

result<void> link_applets(const fs::path& root) {
  auto list = run_tool({host_busybox, "--list-full"}, capture::out);
  if (!list) return list.error();
  std::string_view rest = list.value();
  while (!rest.empty()) {
    auto eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol == std::string_view::npos ? rest.size() : eol + 1);
    if (line.empty()) continue;
    fs::path rel(line);
    if (!inside_root(rel)) {
      return fail(errc::child_failed, "{} --list-full: unexpected applet path '{}'", host_busybox,
                  line);
    }
    // The binary itself is copied there, not linked.
    if (rel == "bin/busybox") continue;
    fs::path at = root;
    for (const auto& part : rel.parent_path()) {
      at /= part;
      BOOST_OUTCOME_TRY(make_dir(at, 0755));
    }
    fs::path link = root / rel;
    if (::symlink(host_busybox, link.c_str()) != 0) {
      return sys_fail(errno, "{}: symlink to {}", link.string(), host_busybox);
    }
  }
  return success();
}

result<void> copy_busybox(const fs::path& root) {
  fs::path to = root / "bin/busybox";
  std::error_code ec;
  fs::copy_file(host_busybox, to, ec);
  if (ec) return sys_fail(ec.value(), "copy {} to {}", host_busybox, to.string());
  if (::chmod(to.c_str(), 0755) != 0) return sys_fail(errno, "{}: chmod", to.string());
  return success();
}

}  // namespace

result<std::optional<std::string>> busybox_problem(const fs::path& root) {
  BOOST_OUTCOME_TRY(problem, sh_problem(root));
  if (problem) return problem;
  // Only emptiness, the mark of a crash before writeback: an admin may have edited or removed
  // them.
  for (const auto& f : files) {
    struct stat st;
    if (::lstat((root / f.path).c_str(), &st) != 0) {
      if (errno == ENOENT) continue;
      return sys_fail(errno, "{}: lstat", (root / f.path).string());
    }
    if (S_ISREG(st.st_mode) && st.st_size == 0)
      return std::optional<std::string>(fmt::format("has an empty /{} (0 bytes)", f.path));
  }
  return std::optional<std::string>();
}

result<void> build_busybox(const fs::path& root) {
  BOOST_OUTCOME_TRY(check_static_busybox());
  for (const auto& d : dirs) {
    BOOST_OUTCOME_TRY(make_dir(root / d.path, d.mode));
  }
  BOOST_OUTCOME_TRY(copy_busybox(root));
  BOOST_OUTCOME_TRY(link_applets(root));
  for (const auto& f : files) {
    BOOST_OUTCOME_TRY(write_new_file(root / f.path, f.content, f.mode));
  }
  return success();
}

}  // namespace ovz::detail
