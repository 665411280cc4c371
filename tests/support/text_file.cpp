#include "support/text_file.hpp"

#include <fstream>
#include <iterator>

namespace ovz::test {

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace ovz::test
