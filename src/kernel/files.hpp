#pragma once
// Small whole-file reads and writes of kernel interface files (cgroupfs, procfs) and of the
// files users and VEs control (CTID.conf, profiles), with errors that name the file; and
// opening below a directory whose owner may have planted symlinks.

#include <ovz/fd.hpp>
#include <ovz/result.hpp>

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace ovz::detail {

/// The whole content of a (small) regular file, opened with `flags` added (O_NOFOLLOW).
/// Anything else there (a FIFO, a device, a directory) is errc::invalid_argument at once.
result<std::string> read_file(const std::string& path, int flags = 0);
/// read_file of `name` relative to the directory `dir_fd`; `shown` names the file in errors.
result<std::string> read_file_at(int dir_fd, const char* name, const std::string& shown,
                                 int flags = 0);
/// The whole content of a kernel file held open (`fd`), read again from its start: a cgroup
/// or /proc file renders itself anew at offset 0. `shown` names the file in errors.
result<std::string> reread_file(int fd, const std::string& shown);
/// The root directory that process `pid` sees (/proc/PID/root), as an O_PATH descriptor.
result<unique_fd> open_root_of(pid_t pid);
/// `path` opened relative to the directory `dir_fd` by openat2(2), whose `resolve` flags
/// (RESOLVE_IN_ROOT, RESOLVE_BENEATH, ...) keep the walk inside that directory whatever
/// symlinks and ".." the tree's owner planted there.
result<unique_fd> open_below(int dir_fd, const std::string& path, int flags, std::uint64_t resolve);
/// Writes all of `data` to a pipe or FIFO whose reader may be gone (a child killed, a hook
/// that exited without reading): that is false with errno EPIPE, never a SIGPIPE, which would
/// kill an embedding program that does not ignore it. The signal is blocked for the write and
/// the one it raised taken back. False with errno EAGAIN where a non-blocking one is full.
bool write_all_quietly(int fd, std::string_view data);
/// One write(2) of `value`, as the kernel interface files expect.
result<void> write_file(const std::string& path, std::string_view value);
/// write_file of `name` relative to the directory `dir_fd`; `shown` names the file in errors.
result<void> write_file_at(int dir_fd, const char* name, const std::string& shown,
                           std::string_view value);
/// fsync of a directory: what was created, renamed or removed in it is on disk.
result<void> sync_dir(const std::string& path);
/// Replaces `file` with `text` atomically: a temporary file, unnamed (O_TMPFILE) until it is
/// complete and flushed, renamed over it, and the directory flushed. The file keeps its mode
/// (a new one gets 0644 less the umask). Errors read "Cannot save FILE: STEP".
result<void> replace_file(const std::filesystem::path& file, std::string_view text);
/// unlink(2) of a file that may not be there (also on a read-only filesystem, where unlink
/// says EROFS even of a missing file).
result<void> remove_file_if_any(const std::filesystem::path& file);

}  // namespace ovz::detail
