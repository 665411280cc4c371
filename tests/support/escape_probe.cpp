#include "support/escape_probe.hpp"

#include "model/layout.hpp"

#include <fstream>

namespace ovz::test {

std::filesystem::path escape_probe() { return OVZ_ESCAPE_PROBE; }

void install_escape_probe(const temp_root& root, const ve& v) {
  auto l = detail::layout_of(root.path(), v.id());
  std::filesystem::copy_file(escape_probe(), l.upper / "escape_probe",
                             std::filesystem::copy_options::overwrite_existing);
}

void write_in_root(const temp_root& root, const ve& v, const std::string& path,
                   const std::string& text) {
  auto l = detail::layout_of(root.path(), v.id());
  std::ofstream(l.upper / std::filesystem::path(path).relative_path()) << text;
}

void check_refused(const std::string& out, std::initializer_list<const char*> names) {
  INFO(out);
  CHECK(out.find("ESCAPED") == std::string::npos);
  const std::string lines = "\n" + out;
  for (const char* name : names) {
    INFO(name);
    CHECK(lines.find("\n" + std::string(name) + " ok") != std::string::npos);
  }
}

}  // namespace ovz::test
