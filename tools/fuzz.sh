#!/usr/bin/env bash
# tools/fuzz.sh — builds the libFuzzer targets with clang and runs each one
# for a while on its seed corpus (the fuzz stage of `tools/dev.sh test`).
#
#   tools/fuzz.sh                      every target, POLIS_FUZZ_SECONDS (20) each
#   tools/fuzz.sh 300 envelope_fuzz    one target for 5 minutes
#
# Targets and corpora (see WORKSPACE.md "Fuzzing"):
#   envelope_fuzz      bus/fuzz/corpus/envelope       (+ bus/fuzz/envelope.dict)
#   frame_fuzz         bus/fuzz/corpus/frame          (+ bus/fuzz/frame.dict)
#   membership_fuzz    node/fuzz/corpus/membership    (+ node/fuzz/membership.dict)
#   dynamic_json_fuzz  tools/fuzz/corpus/dynamic_json (+ tools/fuzz/dynamic_json.dict)
#   node_config_fuzz   tools/fuzz/corpus/node_config  (+ tools/fuzz/node_config.dict)
# POLIS_FUZZ_SEED fixes libFuzzer's seed (tools/dev.sh test uses 1; unset,
# every run explores from a new random seed). The build goes to build-fuzz/
# (or POLIS_FUZZ_DIR; compiler clang++-14 or POLIS_FUZZ_CXX; -DPOLIS_FUZZ=ON, no tests). Each run reads the seeds from
# the repository and writes what it learns to build-fuzz/corpus/<target>/
# (kept between runs; the repository's corpus is never written). A crash, leak, sanitizer report or timeout fails the
# script and prints the reproducer: build-fuzz/artifacts/<target>-crash-<sha1>
# (rerun it with `build-fuzz/fuzz/<target> <file>`).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
seconds="${1:-${POLIS_FUZZ_SECONDS:-20}}"
shift || true
jobs="${POLIS_JOBS:-$(nproc)}"
cxx="${POLIS_FUZZ_CXX:-clang++-14}"
dir="${POLIS_FUZZ_DIR:-build-fuzz}"
seed=()
[[ -n "${POLIS_FUZZ_SEED:-}" ]] && seed=(-seed="$POLIS_FUZZ_SEED")

all=(envelope_fuzz:bus frame_fuzz:bus membership_fuzz:node dynamic_json_fuzz:tools
     node_config_fuzz:tools)
selected=()
if [[ $# -eq 0 ]]; then
  selected=("${all[@]}")
else
  for want in "$@"; do
    found=""
    for t in "${all[@]}"; do [[ "${t%%:*}" == "$want" ]] && found="$t"; done
    [[ -n "$found" ]] || { echo "tools/fuzz.sh: unknown target $want" >&2; exit 2; }
    selected+=("$found")
  done
fi

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$dir" -G Ninja "${launcher[@]}" -DCMAKE_CXX_COMPILER="$cxx" \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOLIS_FUZZ=ON -DPOLIS_BUILD_TESTS=OFF >/dev/null
echo "== building $dir (fuzz targets)"
names=()
for t in "${selected[@]}"; do names+=("${t%%:*}"); done
ninja -C "$dir" -j "$jobs" "${names[@]}"

mkdir -p "$dir/artifacts"
failed=0
for t in "${selected[@]}"; do
  name="${t%%:*}"
  folder="${t##*:}/fuzz"
  short="${name%_fuzz}"
  seeds="$folder/corpus/$short"
  work="$dir/corpus/$short"
  mkdir -p "$work"
  dict=()
  [[ -f "$folder/$short.dict" ]] && dict=(-dict="$folder/$short.dict")
  echo "== fuzzing $name for ${seconds}s ($seeds)"
  log="$dir/artifacts/$name.log"
  if ! ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "$dir/fuzz/$name" "${dict[@]}" "${seed[@]}" -max_total_time="$seconds" -timeout=25 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$dir/artifacts/$name-" "$work" "$seeds" \
      >"$log" 2>&1; then
    failed=1
    grep -a -E "ERROR|SUMMARY|_fuzz:" "$log" | head -20 >&2 || true
    repro="$(grep -a -o "Test unit written to .*" "$log" | tail -1 | sed 's/Test unit written to //')"
    echo "!! $name FAILED; reproducer: ${repro:-see $log} (log: $log)" >&2
    echo "   rerun: $dir/fuzz/$name ${repro:-<file>}" >&2
  else
    grep -a -E "stat::number_of_executed_units|stat::average_exec_per_sec" "$log" |
      tr '\n' ' ' | sed "s/^/   $name: /"; echo
  fi
done
exit "$failed"
