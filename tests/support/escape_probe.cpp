#include "support/escape_probe.hpp"

#include "model/layout.hpp"

#include <fstream>

namespace ovz::test {

std::filesystem::path escape_probe() { return OVZ_ESCAPE_PROBE; }

namespace {

void install(const temp_root& root, const ve& v, const std::filesystem::path& program,
             const char* name) {
  auto l = detail::layout_of(root.path(), v.id());
  std::filesystem::copy_file(program, l.upper / name,
                             std::filesystem::copy_options::overwrite_existing);
}

}  // namespace

void install_escape_probe(const temp_root& root, const ve& v) {
  install(root, v, escape_probe(), "escape_probe");
}

void install_holder(const temp_root& root, const ve& v) { install(root, v, OVZ_HOLDER, "holder"); }

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
