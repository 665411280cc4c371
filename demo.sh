#!/usr/bin/env bash
# The main job on a fresh Debian 12 machine, as root: install what libovz needs, build it, and
# take one VE from the built-in busybox template through its life with ovzctl.
set -euo pipefail
cd "$(dirname "$0")"
./install-deps.sh
cmake -S . -B build
cmake --build build -j"$(nproc)"

ovzctl=build/examples/ovzctl
ctid=${DEMO_CTID:-101}
step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

if [ "$($ovzctl status "$ctid" | awk '{print $3}')" = exist ]; then
  echo "demo.sh: CT $ctid exists already in ${OVZ_ROOT:-/var/lib/ovz}; set DEMO_CTID to a free CTID" >&2
  exit 1
fi
trap '$ovzctl stop "$ctid" --fast >/dev/null 2>&1 || true; $ovzctl destroy "$ctid" >/dev/null 2>&1 || true' EXIT

step $ovzctl create "$ctid" --ostemplate busybox --hostname demo.example.com
step $ovzctl start "$ctid"
step $ovzctl status "$ctid"
step $ovzctl exec "$ctid" ps
step $ovzctl exec "$ctid" hostname
step $ovzctl exec "$ctid" 'echo "a file of CT '"$ctid"'" > /root/hello; cat /root/hello; df -h /; free -m'
step $ovzctl ubc "$ctid"
step $ovzctl list
step $ovzctl stop "$ctid"
step $ovzctl destroy "$ctid"
step $ovzctl status "$ctid"
trap - EXIT
