#!/bin/sh
# Checks that a shared library exports only ovz_* symbols (and at least ovz_version), so the
# libovz and C++ runtime code linked into it cannot clash with a program's own copies.
# Usage: check_exports.sh LIBRARY
set -eu
lib=${1:?usage: check_exports.sh LIBRARY}
symbols=$(nm -D --defined-only "$lib" | awk '{ print $NF }')
[ -n "$symbols" ] || { echo "FAIL: $lib exports nothing" >&2; exit 1; }
echo "$symbols" | grep -qx ovz_version || { echo "FAIL: ovz_version not exported" >&2; exit 1; }
others=$(echo "$symbols" | grep -v '^ovz_' || true)
if [ -n "$others" ]; then
  echo "FAIL: $lib exports symbols outside the C ABI:" >&2
  echo "$others" >&2
  exit 1
fi
echo "c-exports: $(echo "$symbols" | wc -l) symbols, all ovz_*"
