#!/usr/bin/env bash
# The Debian packages on a fresh Debian 12: builds them (packaging/build-debs), installs them
# with apt into a just-debootstrapped bookworm (minbase: what a new machine has) in a chroot on
# this kernel, and uses them there as a host administrator would:
#   - ovzctl: create, set, start, exec, ubc, stop, destroy a VE of the built-in template; a VE
#     with ONBOOT="yes" started by the ovz service's own command; the unit enabled, the manual
#     pages and the state root where Debian puts them;
#   - python3 -c 'import ovz' and a VE's life through it;
#   - ovz-panel: its login page, and a session once given its first start's password;
#   - libovz-dev: a C++ program built with pkg-config and one with find_package(ovz), run.
# Then removes and purges the packages: the unit goes, the state root stays.
#
#   tests/packages/smoke.sh BUILD_DIR       (the packages are built in BUILD_DIR/deb)
#
# The minbase tarball is cached in /var/cache/ovz-packages (OVZ_PACKAGES_CACHE), keyed by the
# mirror, as the lab caches its kernel; so are the .debs apt fetches. Without a cached tarball
# and without the mirror it exits 77 (skipped), saying why.
set -euo pipefail
build=$(realpath "${1:?usage: smoke.sh BUILD_DIR}")
src=$(cd "$(dirname "$0")/../.." && pwd)
cache=${OVZ_PACKAGES_CACHE:-/var/cache/ovz-packages}
step() { echo "== $*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }
[ "$(id -u)" -eq 0 ] || skip "needs root (debootstrap, chroot, VEs)"
# In a mount namespace of its own: whatever it mounts ends with it, however it ends.
if [ -z "${OVZ_PACKAGES_SMOKE_NS-}" ]; then
  OVZ_PACKAGES_SMOKE_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi

# The host's Debian mirror for bookworm, from its apt sources (deb822 or one-line).
host_mirror() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    awk 'BEGIN { RS = ""; FS = "\n" }
         /Suites:[^\n]*bookworm( |\n|$)/ && !/Enabled: *no/ {
           for (i = 1; i <= NF; i++) if ($i ~ /^URIs:/) { split($i, u, " "); print u[2]; exit } }' "$f"
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    awk '$1 == "deb" && $0 ~ / bookworm / { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' "$f"
  done
}
mirror=$(host_mirror | head -n1)
[ -n "$mirror" ] || mirror=http://deb.debian.org/debian

step "packages from $src into $build/deb"
mapfile -t debs < <("$src/packaging/build-debs" "$build/deb")
[ ${#debs[@]} -eq 5 ] || fail "expected 5 packages, got: ${debs[*]}"
# Debian's policy checks. Two wait for the project's decisions: a licence (the copyright
# file) and a maintainer's address.
if command -v lintian >/dev/null; then
  step "lintian"
  lintian --fail-on error \
    --suppress-tags no-copyright-file,bogus-mail-host,bogus-mail-host-in-debian-changelog \
    "${debs[@]}" ||
    fail "lintian found errors in the packages"
fi

# A fresh bookworm, cached: debootstrap takes minutes and the network.
mkdir -p "$cache/archives/partial"
key=$(printf '%s\n' 1 "$mirror" | sha256sum | cut -c1-12)
tarball=$cache/bookworm-minbase-$key.tar
if [ ! -s "$tarball" ]; then
  command -v debootstrap >/dev/null || skip "debootstrap is not installed"
  step "debootstrap bookworm (minbase) from $mirror, once per machine"
  staging=$(mktemp -d "$cache/.build.XXXXXX")
  if ! debootstrap --variant=minbase --cache-dir="$cache/archives" bookworm "$staging/root" \
      "$mirror" >"$staging/log" 2>&1; then
    tail -n 20 "$staging/log" >&2
    rm -rf "$staging"
    skip "debootstrap from $mirror failed (no mirror here?)"
  fi
  tar -C "$staging/root" -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$staging"
fi

tmp=$(mktemp -d /tmp/ovz-packages-XXXXXX)
root=$tmp/root
py_root=/var/lib/ovz-smoke-py  # inside the chroot
cleanup() {
  local rc=$?
  # Whatever a failed step left running goes first: the panel, the VEs.
  if [ -s "$root/tmp/panel.pid" ]; then kill "$(cat "$root/tmp/panel.pid")" 2>/dev/null || true; fi
  if [ -x "$root/usr/bin/ovzctl" ]; then
    for state in /var/lib/ovz "$py_root"; do
      chroot "$root" ovzctl --root "$state" stop --all --fast >/dev/null 2>&1 || true
      for ct in 9731 9732 9733 9734; do
        chroot "$root" ovzctl --root "$state" destroy "$ct" >/dev/null 2>&1 || true
      done
    done
  fi
  umount -R -l "$root" 2>/dev/null || true
  rm -rf "$tmp"
  exit "$rc"
}
trap cleanup EXIT
mkdir -p "$root"
# A machine's root is a mount (the VEs' mount namespaces are made private from it, and
# pivot_root leaves it): the chroot's is too.
mount --bind "$root" "$root"
tar -C "$root" -xf "$tarball"

# The chroot is the fresh machine on this kernel: its own /proc, the host's /sys (the cgroup
# hierarchies) and /dev, an empty /run and /tmp; apt's downloads kept in the cache.
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev"
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
mount --bind "$cache/archives" "$root/var/cache/apt/archives"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
# The host's sources, as the packages were built against what they serve (bookworm-updates:
# the same fmt, protobuf-c, ...).
rm -f "$root/etc/apt/sources.list"
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] && cp "$f" "$root/etc/apt/${f#/etc/apt/}"
done
mkdir -p "$root/debs"
cp "${debs[@]}" "$root/debs/"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "$@"; }

step "apt-get install ./*.deb on the fresh bookworm"
export DEBIAN_FRONTEND=noninteractive
in_root apt-get update -q >"$tmp/apt.log" 2>&1 || { tail -n 20 "$tmp/apt.log"; skip "apt-get update in the chroot failed (no mirror?)"; }
in_root sh -c 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q /debs/*.deb' >>"$tmp/apt.log" 2>&1 ||
  { tail -n 40 "$tmp/apt.log"; fail "apt-get install of the packages"; }
in_root dpkg-query -W -f='${Package} ${Version} ${Status}\n' libovz0 libovz-dev python3-ovz ovzctl \
  ovz-panel

step "where Debian puts things"
for f in /usr/bin/ovzctl /usr/bin/ovz-oci /usr/libexec/ovz/ovz-monitor /usr/libexec/ovz/ovz-spawn \
         /usr/share/man/man8/ovzctl.8.gz /usr/share/man/man8/ovz-oci.8.gz \
         /usr/lib/systemd/system/ovz.service /usr/share/ovz/conf/ve-basic.conf-sample \
         /usr/bin/ovz-panel /usr/lib/systemd/system/ovz-panel.service \
         /usr/share/man/man8/ovz-panel.8.gz /usr/share/doc/ovzctl/changelog.Debian.gz; do
  [ -e "$root$f" ] || fail "$f not installed"
done
[ -d "$root/var/lib/ovz" ] || fail "the state root /var/lib/ovz was not made"
[ -L "$root/etc/systemd/system/multi-user.target.wants/ovz.service" ] ||
  fail "ovz.service was not enabled"
grep -qx 'ExecStart=/usr/bin/ovzctl start --onboot' "$root/usr/lib/systemd/system/ovz.service" ||
  fail "ovz.service does not run the installed ovzctl"
zcat "$root/usr/share/man/man8/ovzctl.8.gz" | grep -q '^\.SH COMMANDS' || fail "ovzctl.8 is not the manual"

step "ovzctl: a VE's life in the default state root"
in_root ovzctl create 9731 --hostname smoke1
in_root ovzctl set 9731 --numproc 48:48 --save
in_root ovzctl start 9731
[ "$(in_root ovzctl exec 9731 hostname)" = smoke1 ] || fail "exec in the VE"
# The VE sees its own processes only: its init, the shell and what it runs.
n=$(in_root ovzctl exec 9731 sh -c 'echo /proc/[0-9]*' | wc -w)
[ "$n" -le 3 ] || fail "the VE sees $n processes"
in_root ovzctl ubc 9731 | awk '$1 == "numproc" || $2 == "numproc"' | grep -q ' 48 ' ||
  fail "numproc 48:48 is not in ovzctl ubc: $(in_root ovzctl ubc 9731)"
in_root ovzctl list
in_root ovzctl stop 9731
in_root ovzctl destroy 9731
[ ! -e "$root/var/lib/ovz/conf/9731.conf" ] || fail "destroy left 9731.conf"

step "the ovz service's commands: start --onboot, stop --all"
in_root ovzctl create 9732
in_root ovzctl set 9732 --onboot yes --save
in_root ovzctl create 9733
in_root ovzctl start --onboot
in_root ovzctl status 9732 | grep -q running || fail "ONBOOT VE 9732 not started"
in_root ovzctl status 9733 | grep -q running && fail "VE 9733 started without ONBOOT"
in_root ovzctl stop --all
in_root ovzctl status 9732 | grep -q running && fail "stop --all left 9732 running"
in_root ovzctl destroy 9732
in_root ovzctl destroy 9733

step "python3-ovz: import ovz, a VE's life"
in_root python3 - "$py_root" <<'EOF'
import sys
import ovz

ve = ovz.VE(9734, sys.argv[1])
ve.create(hostname="smoke-py")
assert ve.run(["/bin/sh", "-c", "exit 3"]) == 3
ve.start()
assert ve.status.state == "running", ve.status
code, out, _ = ve.exec(["hostname"])
assert (code, out.strip()) == (0, "smoke-py"), (code, out)
ve.stop(fast=True)
ve.destroy()
print("python3-ovz: a VE's life from", ovz.__file__)
EOF

step "ovz-panel: serves its login page, and a session after the password"
in_root sh -c 'ovz-panel --port 0 --password-file /tmp/panel.pw >/tmp/panel.out 2>/tmp/panel.err &
  echo $! >/tmp/panel.pid'
for _ in $(seq 100); do grep -q http "$root/tmp/panel.out" 2>/dev/null && break; sleep 0.1; done
url=$(awk '{ print $2 }' "$root/tmp/panel.out")
password=$(grep -o 'the password is [^ ]*' "$root/tmp/panel.err" | awk '{ print $4 }')
[ -n "$url" ] && [ -n "$password" ] || fail "ovz-panel did not start: $(cat "$root/tmp/panel.err")"
in_root python3 - "$url" "$password" <<'EOF'
import sys
import urllib.error
import urllib.parse
import urllib.request

url, password = sys.argv[1].rstrip("/"), sys.argv[2]


class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def status(path, form=None):
    data = urllib.parse.urlencode(form).encode() if form is not None else None
    try:
        with urllib.request.build_opener(Stay).open(url + path, data=data, timeout=10) as r:
            return r.status, r.headers.get("Location")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Location")


assert status("/") == (303, "/login"), status("/")
assert status("/login")[0] == 200
assert status("/ve", {"ctid": "9735"})[0] == 403
assert status("/login", {"password": password}) == (303, "/")
print("ovz-panel: login page, refusal without a session, login: ok")
EOF
kill "$(cat "$root/tmp/panel.pid")"

step "libovz-dev: a program built against the installed library"
in_root apt-get install -y -q --no-install-recommends g++ pkg-config cmake make >>"$tmp/apt.log" 2>&1 ||
  { tail -n 20 "$tmp/apt.log"; fail "apt-get install g++ pkg-config cmake"; }
mkdir -p "$root/consumer"
cp "$src/tests/install/consumer.cpp" "$src/tests/install/CMakeLists.txt" "$root/consumer/"
in_root sh -c 'cd /consumer && g++ -std=c++20 -o pc-consumer consumer.cpp $(pkg-config --cflags --libs ovz) && ./pc-consumer'
in_root sh -c 'cd /consumer && cmake -S . -B b >/dev/null && cmake --build b >/dev/null && ./b/consumer'
# The C ABI: libovzc alone.
printf '#include <ovz.h>\n#include <stdio.h>\nint main(void) { puts(ovz_version()); return 0; }\n' \
  >"$root/consumer/c.c"
in_root sh -c 'cd /consumer && gcc -o c-consumer c.c -lovzc && ./c-consumer'

step "apt-get remove, then purge"
in_root apt-get remove -y -q ovz-panel ovzctl python3-ovz libovz-dev libovz0 >>"$tmp/apt.log" 2>&1 ||
  { tail -n 20 "$tmp/apt.log"; fail "apt-get remove"; }
[ ! -e "$root/usr/bin/ovzctl" ] || fail "ovzctl is still there after remove"
in_root apt-get purge -y -q ovzctl >>"$tmp/apt.log" 2>&1 || fail "apt-get purge"
[ ! -e "$root/etc/systemd/system/multi-user.target.wants/ovz.service" ] ||
  fail "the unit's enablement outlived the purge"
[ -d "$root/var/lib/ovz" ] || fail "the purge removed the state root (the VEs' data)"
echo "packages: all checks passed"
