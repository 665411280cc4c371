#pragma once
// The Debian 12 templates of tests/support/debian-templates, built once per machine.

#include <filesystem>
#include <string>

namespace ovz::test {

/// The cached tarball of the Debian 12 template of `flavour` ("sysv" or "systemd"), built first
/// when missing (minutes). Ends the test with 77 (skipped), after the script said why, when it
/// cannot be built because the mirror cannot be reached.
std::filesystem::path debian_template(const std::string& flavour);

}  // namespace ovz::test
