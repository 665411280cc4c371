#!/usr/bin/env bash
# Every test, on a fresh Debian 12 machine as root: installs what is needed, builds with
# warnings as errors, and runs the unit, integration (real VEs on this kernel), install and
# reference-kernel lab suites through ctest.
set -euo pipefail
cd "$(dirname "$0")"
./install-deps.sh
cmake -S . -B build -DOVZ_WERROR=ON
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure -j"$(nproc)" "$@"
