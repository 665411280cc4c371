#pragma once
/// @file
/// Symbol visibility: the library is built with hidden visibility and exports only what is
/// marked OVZ_API.

#if defined(OVZ_BUILDING_LIBRARY)
#define OVZ_API __attribute__((visibility("default")))
#else
#define OVZ_API
#endif
