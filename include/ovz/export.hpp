#pragma once
/// @file
/// Symbol visibility: the library is built with hidden visibility and exports only what is
/// marked OVZ_API.
///
/// The C++ API is not a stable ABI (Boost.Outcome and std::filesystem are in its
/// signatures): it lives in `ovz::inline v0`, so its symbols are mangled as `ovz::v0::…` and
/// an incompatible change moves them to `v1`, where a program built against the old headers
/// fails to link instead of calling what no longer fits. Code names it `ovz::` all the same.
/// The stable ABI is C's (bindings/c/include/ovz.h).

#if defined(OVZ_BUILDING_LIBRARY)
#define OVZ_API __attribute__((visibility("default")))
#else
#define OVZ_API
#endif
