#pragma once
// The escape probe (tests/integration/probe) from the tests' side: putting it into a VE,
// running it on the host, and reading its verdicts.

#include "support/temp_root.hpp"

#include <filesystem>
#include <initializer_list>
#include <string>

namespace ovz::test {

/// Host path of the built probe.
std::filesystem::path escape_probe();

/// Copies the probe into the VE's root as /escape_probe; the VE must be created.
void install_escape_probe(const temp_root& root, const ve& v);

/// Copies the holder (tests/integration/holder) into the VE's root as /holder.
void install_holder(const temp_root& root, const ve& v);

/// Writes a file into the VE's own root (its upper layer), as the VE would see it at `path`.
void write_in_root(const temp_root& root, const ve& v, const std::string& path,
                   const std::string& text);

/// Checks that the probe printed "<name> ok" for every attempt named, and no ESCAPED at all.
void check_refused(const std::string& out, std::initializer_list<const char*> names);

}  // namespace ovz::test
