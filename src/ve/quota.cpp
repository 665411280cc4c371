// A VE's disk quota: usage against DISKSPACE and DISKINODES.

#include <ovz/ve.hpp>

#include "fail.hpp"

namespace ovz::inline v0 {

result<disk_quota> ve::quota() const {
  return detail::fail(errc::unsupported, "VE {}: disk quota is not built yet", id_.value());
}

}  // namespace ovz::inline v0
