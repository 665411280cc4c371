#pragma once
// Reading (and writing) a whole file as a test looks at it: a template's files, a VE's console log, /proc.

#include <filesystem>
#include <string>

namespace ovz::test {

/// The file's bytes; empty when it cannot be read.
std::string read_text(const std::filesystem::path& p);

/// Replaces the file's bytes with `text` (made if missing).
void write_text(const std::filesystem::path& p, const std::string& text);

}  // namespace ovz::test
