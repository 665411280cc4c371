#pragma once
// The environment of the VE processes the library starts.

#include <string>
#include <vector>

namespace ovz::detail {

/// The environment of VE processes started by the library.
inline std::vector<std::string> ve_environment(const std::string& term = "linux") {
  return {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
          "TERM=" + term, "container=ovz"};
}

}  // namespace ovz::detail
