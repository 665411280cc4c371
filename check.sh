#!/usr/bin/env bash
# Every test, on a fresh Debian 12 machine as root: installs what is needed, builds with
# warnings as errors, and runs the unit, integration (real VEs on this kernel), install and
# reference-kernel lab suites through ctest; then builds once more under AddressSanitizer with
# UndefinedBehaviorSanitizer (build-asan) and under ThreadSanitizer (build-tsan) and runs the
# suites those can check (tests/sanitize/run.sh). Prints the time of each stage.
#
#   ./check.sh [CTEST_ARGS...]       e.g. ./check.sh -R '^unit: '
#
# CTEST_ARGS go to the main ctest run. SANITIZERS="address thread" (the default) names the
# sanitizer stages to run after it; SANITIZERS= runs none. A failing stage does not stop the
# ones after it; the command fails if any failed.
set -euo pipefail
cd "$(dirname "$0")"
read -r -a sanitizers <<<"${SANITIZERS-address thread}"

./install-deps.sh
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

failed=()
times=()
stage() {
  local name=$1 start=$SECONDS
  shift
  echo "check: $name" >&2
  "$@" || failed+=("$name")
  times+=("$name: $((SECONDS - start)) s")
}
main() {
  cmake -S . -B build -DOVZ_WERROR=ON "${launcher[@]}" &&
    cmake --build build -j"$(nproc)" &&
    (cd build && ctest --output-on-failure -j"$(nproc)" "$@")
}

stage main main "$@"
for kind in "${sanitizers[@]}"; do
  stage "$kind" tests/sanitize/run.sh "$kind"
done

printf 'check: %s\n' "${times[@]}" >&2
if ((${#failed[@]})); then
  echo "check: FAILED: ${failed[*]}" >&2
  exit 1
fi
