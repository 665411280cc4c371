#pragma once
// ovz_ve_t, which ovz.h leaves opaque: the entry points on one VE are spread over a file per
// concept, and each reaches the same ovz::ve inside.

#include <ovz/ve.hpp>

struct ovz_ve {
  ovz::ve v;
};
