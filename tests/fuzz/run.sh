#!/usr/bin/env bash
# Builds the fuzz targets with clang (libFuzzer, ASan, UBSan) and runs each for SECONDS over
# the seed corpus of tests/fuzz/corpus/<target>. Fails on the first finding and names the
# input that reproduces it.
#
#   tests/fuzz/run.sh [SECONDS] [BUILD_DIR]
#
# SECONDS: per target (default 10). BUILD_DIR: the project's build directory (default
# ./build); the fuzz build, the grown corpus and any crash go to BUILD_DIR/fuzz. Exits 77
# (skipped) without clang or libFuzzer, unless CI is set, where that is a failure.
set -euo pipefail

seconds=${1:-10}
build=${2:-build}
[[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || {
  echo "usage: $0 [SECONDS] [BUILD_DIR]" >&2
  exit 2
}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mkdir -p "$build/fuzz"
out=$(cd "$build/fuzz" && pwd)

say() { printf 'fuzz: %s\n' "$*" >&2; }
in_ci() { [[ -n ${CI:-} && ${CI:-} != false && ${CI:-} != 0 ]]; }
cannot_run() {
  if in_ci; then
    say "cannot run: $*"
    exit 1
  fi
  echo "SKIPPED: $*"
  exit 77
}

cxx=
for candidate in clang++ clang++-14; do
  if command -v "$candidate" >/dev/null; then
    cxx=$(command -v "$candidate")
    break
  fi
done
[[ -n $cxx ]] || cannot_run "no clang++ (install-deps.sh installs clang)"
# clang without its runtime libraries compiles but cannot link a fuzzer.
probe=$out/probe
printf 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }\n' \
  >"$probe.cpp"
"$cxx" -fsanitize=fuzzer,address,undefined "$probe.cpp" -o "$probe" 2>"$probe.log" ||
  cannot_run "$cxx cannot link with -fsanitize=fuzzer (install-deps.sh installs" \
    "libclang-rt-14-dev): $(head -c 300 "$probe.log")"

cmake -S "$here" -B "$out/build" -DCMAKE_CXX_COMPILER="$cxx" >"$out/configure.log" 2>&1 || {
  cat "$out/configure.log" >&2
  exit 1
}
cmake --build "$out/build" -j"$(nproc)" >"$out/build.log" 2>&1 || {
  cat "$out/build.log" >&2
  exit 1
}

failed=()
for seeds in "$here"/corpus/*/; do
  target=$(basename "$seeds")
  binary=$out/build/fuzz_$target
  [[ -x $binary ]] || { say "no fuzz target for corpus/$target"; exit 1; }
  # New inputs go to the build's corpus, never into the checked-in seeds.
  mkdir -p "$out/corpus/$target" "$out/crashes/$target"
  log=$out/$target.log
  say "$target: ${seconds}s"
  if "$binary" "$out/corpus/$target" "$seeds" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$out/crashes/$target/" -print_final_stats=1 \
      >"$log" 2>&1; then
    grep -h '^stat::number_of_executed_units' "$log" | sed "s/^/fuzz: $target: /" >&2 || true
  else
    failed+=("$target")
    tail -n 60 "$log" >&2
    reproducer=$(sed -n 's/.*Test unit written to //p' "$log" | tail -n 1)
    if [[ -n $reproducer ]]; then
      say "$target FAILED; reproduce with: $binary $reproducer"
    else
      say "$target FAILED without a reproducer; the whole log is $log"
    fi
  fi
done
((${#failed[@]} == 0)) || { say "failed: ${failed[*]}"; exit 1; }
say "all targets ran ${seconds}s without a finding"
