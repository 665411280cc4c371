// A program outside the libovz tree, built against an installed libovz: it must compile with
// the installed headers alone and link with what find_package(ovz) or pkg-config hand out.
#include <ovz/ctid.hpp>
#include <ovz/state_root.hpp>
#include <ovz/version.hpp>

#include <cstdio>

int main() {
  auto id = ovz::ctid::parse("101");
  if (!id || id->value() != 101) {
    std::puts("ctid::parse(\"101\") failed");
    return 1;
  }
  if (ovz::ctid::parse("0")) {
    std::puts("ctid::parse(\"0\") was accepted");
    return 1;
  }
  const auto root = ovz::resolve_state_root("/srv/ovz");
  std::printf("libovz %s: CTID %s under %s\n", OVZ_VERSION_STRING, id->str().c_str(),
              root.c_str());
  return root == "/srv/ovz" ? 0 : 1;
}
