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
  rm -f build/ctest-output.log
  cmake -S . -B build -DOVZ_WERROR=ON "${launcher[@]}" &&
    cmake --build build -j"$(nproc)" &&
    (cd build && ctest --output-on-failure --output-log ctest-output.log -j"$(nproc)" "$@")
}

# CI keeps only the end of what a run prints, and a failing test's output lies far above it,
# amid the other tests' progress: the end repeats, for each test that failed, its name and
# what it printed last (for a Catch2 suite, the failed assertions and the totals).
failed_tests() {
  local log=build/ctest-output.log
  [[ -f $log ]] || return 0
  echo "check: tests that failed in main:" >&2
  awk '
    function flush(   i, j, shown, from, last) {
      if (name == "") return
      print "--- " name
      last = -1
      for (i = 0; i < n && shown < 3; i++) {
        if (buf[i] !~ /FAILED:|failed with|Timeout|error:/) continue
        from = i - 10 > last ? i - 10 : last + 1
        for (j = from; j <= i + 8 && j < n; j++) print buf[j]
        last = j - 1; shown++
      }
      from = n > 12 ? n - 12 : 0
      if (from > last + 1) print "..."
      for (i = from; i < n; i++) if (i > last) print buf[i]
      name = ""; n = 0
    }
    /^ *Start +[0-9]+: / || /^[0-9]+\/[0-9]+ Test +#[0-9]+: / { flush() }
    /^[0-9]+\/[0-9]+ Test +#[0-9]+: .*\*\*\*/ { name = $0; next }
    name != "" { buf[n++] = $0 }
    END { flush() }' "$log" >&2
}

stage main main "$@"
for kind in "${sanitizers[@]}"; do
  stage "$kind" tests/sanitize/run.sh "$kind"
done

[[ " ${failed[*]} " == *" main "* ]] && failed_tests
printf 'check: %s\n' "${times[@]}" >&2
if ((${#failed[@]})); then
  echo "check: FAILED: ${failed[*]}" >&2
  exit 1
fi
