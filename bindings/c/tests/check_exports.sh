#!/bin/sh
# Checks that a shared library exports only ovz_* symbols (and at least ovz_version), each in
# the version node OVZ_0 or a later OVZ_* one, so the libovz and C++ runtime code linked into
# it cannot clash with a program's own copies and a program needing a newer call is refused
# at load time.
# Usage: check_exports.sh LIBRARY
set -eu
lib=${1:?usage: check_exports.sh LIBRARY}
# "ovz_version@@OVZ_0"; the nodes themselves are absolute symbols ("A OVZ_0").
all=$(nm -D --defined-only "$lib" | awk '$2 != "A" { print $NF }')
[ -n "$all" ] || { echo "FAIL: $lib exports nothing" >&2; exit 1; }
unversioned=$(echo "$all" | grep -v '@@*OVZ_[0-9][0-9.]*$' || true)
if [ -n "$unversioned" ]; then
  echo "FAIL: $lib exports symbols outside an OVZ_* version node:" >&2
  echo "$unversioned" >&2
  exit 1
fi
symbols=$(echo "$all" | sed 's/@.*//')
echo "$symbols" | grep -qx ovz_version || { echo "FAIL: ovz_version not exported" >&2; exit 1; }
others=$(echo "$symbols" | grep -v '^ovz_' || true)
if [ -n "$others" ]; then
  echo "FAIL: $lib exports symbols outside the C ABI:" >&2
  echo "$others" >&2
  exit 1
fi
echo "c-exports: $(echo "$symbols" | wc -l) symbols, all ovz_* in OVZ_* nodes"
