#pragma once
// Small whole-file reads and writes of kernel interface files (cgroupfs, procfs), with errors
// that name the file and the value.

#include <ovz/result.hpp>

#include <string>
#include <string_view>

namespace ovz::detail {

/// The whole content of a (small) file.
result<std::string> read_file(const std::string& path);
/// One write(2) of `value`, as the kernel interface files expect.
result<void> write_file(const std::string& path, std::string_view value);
/// fsync of a directory: what was created, renamed or removed in it is on disk.
result<void> sync_dir(const std::string& path);

}  // namespace ovz::detail
