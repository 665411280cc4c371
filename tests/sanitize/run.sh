#!/usr/bin/env bash
# Builds libovz and its suites once more with sanitizers, in a build directory of their own,
# and runs through ctest the tests that can find something there. Any finding fails the run.
#
#   tests/sanitize/run.sh address|thread [BUILD_DIR]
#
# address: AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer over the unit,
#   integration, network and C suites (BUILD_DIR default build-asan).
# thread: ThreadSanitizer over the beancounter watcher on several threads, the tests that
#   run VEs on several threads at once and the Python suite's tests marked tsan (BUILD_DIR
#   default build-tsan).
set -euo pipefail

kind=${1:-}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
jobs=$(nproc)
say() { printf 'sanitize: %s\n' "$*" >&2; }

# halt_on_error: the first finding ends the test with an error, as -fno-sanitize-recover makes
# UBSan do; nothing is only printed.
case $kind in
  address)
    build=${2:-$source_dir/build-asan}
    export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    targets=(ovz_unit_tests ovz_integration_tests ovz_net_tests test_c_api test_c_net test_c_quota
             test_c_oci)
    tests='^(unit|integration|net):|^c-api'
    # Podman starts ovz-oci through conmon with an environment of its own, containerd through
    # its shim: the sanitizer's options do not reach it, or a report would go to conmon or
    # the shim's log, not to the test.
    integration_spec=('~[podman]~[containerd]')
    python=OFF
    ;;
  thread)
    build=${2:-$source_dir/build-tsan}
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
    targets=(ovz_integration_tests _ovz)
    tests='^integration:'
    # The tests that run the library on several threads of one process; the rest run it on
    # one thread, where TSan has nothing to compare. The children of clone3, which TSan
    # cannot see, make raw system calls only (kernel/raw.hpp): through its interceptors they
    # waited forever on runtime locks another thread held at the clone.
    integration_spec=('[watch],[threads]')
    python=ON
    ;;
  *)
    echo "usage: $0 address|thread [BUILD_DIR]" >&2
    exit 2
    ;;
esac

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# -O1 -g as the sanitizers' documentation advises: readable reports, and a build that takes
# much less time than -O2 on CI's two cores. No -Werror here: the main build has it, and
# instrumentation changes what gcc's flow analysis warns about.
mkdir -p "$build"
cmake -S "$source_dir" -B "$build" "${launcher[@]}" -DOVZ_SANITIZE="$kind" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" \
  -DOVZ_BUILD_BENCHMARKS=OFF -DOVZ_BUILD_PYTHON="$python" \
  -DOVZ_INTEGRATION_TESTS="${integration_spec[*]}" >"$build/configure.log" 2>&1 || {
  cat "$build/configure.log" >&2
  exit 1
}
start=$SECONDS
# The build's progress and the instrumentation's warnings go to a log: CI keeps only the end
# of what a run prints, which must be the tests' verdicts.
cmake --build "$build" -j"$jobs" --target "${targets[@]}" >"$build/build.log" 2>&1 || {
  grep -E -A5 'error|Error' "$build/build.log" | head -n 80 >&2
  say "$kind: build failed; all of it in $build/build.log"
  exit 1
}
say "$kind: built in $((SECONDS - start)) s"

start=$SECONDS
status=0
(cd "$build" && ctest --output-on-failure --no-tests=error -j"$jobs" -R "$tests") || status=1

if [[ $kind == thread ]]; then
  # CPython is not instrumented: the runtime must be loaded before it, for the module's
  # instrumented code to find it.
  cxx=$(cmake -N -LA "$build" | sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p')
  runtime=$("$cxx" -print-file-name=libtsan.so)
  say "python: threaded tests under $runtime"
  PYTHONPATH=$build/bindings/python OVZ_SOURCE_DIR=$source_dir PYTHONDONTWRITEBYTECODE=1 \
    LD_PRELOAD=$runtime /usr/bin/python3 -m pytest -q -p no:cacheprovider -m tsan \
    "$source_dir/bindings/python/tests" || status=1
fi
say "$kind: tests ran in $((SECONDS - start)) s"
exit $status
