#!/usr/bin/env bash
# Installs everything libovz builds, tests and benchmarks with, from Debian's packages only.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: run as root (apt-get installs packages)" >&2
  exit 1
fi
packages=(
  build-essential cmake pkg-config git ccache
  libboost-dev libboost-filesystem-dev
  libcap-dev libnl-3-dev libnl-route-3-dev libseccomp-dev libfmt-dev libsystemd-dev libcrypt-dev
  # checkpoints: the criu program, and its RPC's rpc.proto compiled with protoc-c
  criu protobuf-c-compiler libprotobuf-c-dev
  # tests/integration/test_systemd_cgroups.cpp: a user systemd is the VEs' cgroup manager
  systemd
  catch2 pybind11-dev python3-dev python3-pytest
  # bindings/python/tests/test_stubs.py: mypy's stubtest checks ovz/__init__.pyi
  python3-mypy
  busybox-static tar xz-utils gzip iproute2 util-linux procps
  # a VE's disk image (DISKSPACE): mkfs.ext4, e2fsck, resize2fs
  e2fsprogs
  # tests/integration/test_disk_quota.cpp: the stock quota tools, run in a VE
  quota
  # template create --debootstrap, and the Debian templates of tests/distro
  debootstrap
  # tests/integration: kills a command at a named system call
  strace
  crun runc
  # tests/integration/test_podman.cpp, test_containerd.cpp: Podman with conmon, and
  # containerd's runc shim, drive ovz-oci as their runtime
  podman conmon containerd
  # tests/conformance: crun's test suite, fetched from Debian's archive (its init built static)
  curl
  qemu-system-x86 kmod cpio
  # /proc views through LXCFS (tests/integration/test_proc_views.cpp runs one of its own)
  lxcfs
  # kmod/ (ctest kmod:symbols): the headers of Debian's current kernel, the one the lab boots
  linux-headers-amd64
  # tests/packages: Debian's policy checks of the .deb files
  lintian
  # examples/panel: ovz-panel's web server; tests/panel drives it in headless Chromium
  python3-aiohttp chromium chromium-driver python3-selenium
  # tests/fuzz: libFuzzer and the sanitizers' runtimes are only recommended by clang, which
  # --no-install-recommends skips
  clang libclang-rt-14-dev
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
