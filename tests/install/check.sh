#!/usr/bin/env bash
# Installs a libovz build tree into a temporary prefix and builds a consumer against it three
# ways: find_package(ovz) with ovz::ovz, the same with ovz::ovz_static, and plain g++ with
# pkg-config. Each consumer must run, and link libovz the way it asked for; libovz.so must
# export only names of the versioned C++ namespace.
# Usage: check.sh BUILD_DIR
set -euo pipefail

build=$(realpath "${1:?usage: check.sh BUILD_DIR}")
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d /tmp/ovz-install-check-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

step "install $build into $prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" \
  || { cat "$tmp/install.log"; fail "cmake --install"; }
pc=$(find "$prefix" -name ovz.pc)
[ -n "$pc" ] || fail "no ovz.pc installed"
libdir=$(dirname "$(dirname "$pc")")
for f in "$libdir/libovz.so" "$libdir/libovz.a" "$prefix/include/ovz/ve.hpp" \
         "$prefix/include/ovz/version.hpp"; do
  [ -e "$f" ] || fail "$f not installed"
done
# The library's programs: the per-VE monitor and spawn's helper.
for name in ovz-monitor ovz-spawn; do
  [ -x "$(find "$prefix" -path "*/ovz/$name" -type f | head -n1)" ] || fail "$name not installed"
done

# The C++ ABI is versioned by its namespace (include/ovz/export.hpp): a name declared in a plain
# `namespace ovz` would be exported without it and survive a v0 -> v1 change unnoticed.
step "libovz.so exports C++ names of ovz::v0 only"
outside=$(nm -DC --defined-only "$libdir/libovz.so" | awk '$2 != "A"' | cut -d' ' -f3- |
          grep -Ev '^((typeinfo|typeinfo name|vtable|VTT) for )?ovz::v0::' || true)
[ -z "$outside" ] || fail "libovz.so exports names outside ovz::v0:
$outside"

# Links libovz.so or not, as asked: $1 the program, $2 "shared" or "static".
check_linkage() {
  # Not `ldd | grep -q`: grep quitting early kills ldd with SIGPIPE, and pipefail then reads
  # a match as a failure.
  if [[ $(ldd "$1") == *libovz.so* ]]; then linked=shared; else linked=static; fi
  [ "$linked" = "$2" ] || fail "$1 links libovz $linked, expected $2"
}

for kind in shared static; do
  step "find_package(ovz), $kind"
  static=OFF; [ "$kind" = static ] && static=ON
  cmake -S "$here" -B "$tmp/build-$kind" -DCMAKE_PREFIX_PATH="$prefix" \
        -DOVZ_CONSUMER_STATIC=$static >"$tmp/configure-$kind.log" \
    || { cat "$tmp/configure-$kind.log"; fail "configuring the $kind consumer"; }
  cmake --build "$tmp/build-$kind" || fail "building the $kind consumer"
  "$tmp/build-$kind/consumer" || fail "the $kind consumer"
  check_linkage "$tmp/build-$kind/consumer" "$kind"
done

step "g++ with pkg-config"
flags=$(PKG_CONFIG_PATH="$(dirname "$pc")" pkg-config --cflags --libs ovz) \
  || fail "pkg-config --cflags --libs ovz"
# shellcheck disable=SC2086  # the flags are a list of words
g++ -std=c++20 -o "$tmp/consumer-pc" "$here/consumer.cpp" $flags || fail "g++ $flags"
LD_LIBRARY_PATH="$libdir" "$tmp/consumer-pc" || fail "the pkg-config consumer"
LD_LIBRARY_PATH="$libdir" check_linkage "$tmp/consumer-pc" shared

echo "install-consumer: all consumers built and ran"
