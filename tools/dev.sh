#!/usr/bin/env bash
# tools/dev.sh — one-command set-up for polis on a fresh Debian 12 machine.
#
#   tools/dev.sh demo   install what is missing, build, run the 3-node demo
#   tools/dev.sh test   install what is missing, build, run every test, then
#                       build again with AddressSanitizer + UBSan and run
#                       every test again (set POLIS_SKIP_SANITIZERS=1 to skip),
#                       then build the libFuzzer targets with clang and run
#                       each for POLIS_FUZZ_SECONDS (20) on its corpus
#                       (tools/fuzz.sh; set POLIS_SKIP_FUZZ=1 to skip)
#   tools/dev.sh build  install and build only
#
# Builds go to build/ (and build-asan/, build-fuzz/); binaries land in build/bin/.
# Uses ccache when present. Safe to run again: every step is incremental.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
jobs="${POLIS_JOBS:-$(nproc)}"

packages=(build-essential cmake ninja-build pkg-config ccache
          libzmq3-dev cppzmq-dev libprotobuf-dev protobuf-compiler
          libabsl-dev libgtest-dev libgmock-dev libcpp-httplib-dev libsodium-dev
          prometheus clang-14 libclang-rt-14-dev tcpdump
          python3-zmq python3-protobuf
          nftables curl systemd)  # tests/deploy_guide_test.py, systemd_unit_test.sh

install_deps() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  echo "== installing: ${missing[*]}"
  local sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# configure_build DIR [cmake args...]
configure_build() {
  local dir="$1"; shift
  local launcher=()
  command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  cmake -S . -B "$dir" -G Ninja "${launcher[@]}" "$@" >/dev/null
  echo "== building $dir"
  ninja -C "$dir" -j "$jobs"
}

run_tests() {
  local dir="$1"
  echo "== testing $dir"
  ctest --test-dir "$dir" -j "$jobs" --output-on-failure --timeout 300
}

cmd="${1:-}"
case "$cmd" in
  demo)
    install_deps
    configure_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    exec tools/demo.sh build/bin/polis
    ;;
  test)
    install_deps
    configure_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    run_tests build
    if [[ "${POLIS_SKIP_SANITIZERS:-0}" != 1 ]]; then
      configure_build build-asan -DCMAKE_BUILD_TYPE=Debug -DPOLIS_SANITIZE=ON
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
      UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_tests build-asan
    fi
    if [[ "${POLIS_SKIP_FUZZ:-0}" != 1 ]]; then
      # A fixed seed: the same tree fuzzes the same inputs first, so a test
      # run does not pass or fail by luck. Explore with tools/fuzz.sh alone.
      POLIS_FUZZ_SEED="${POLIS_FUZZ_SEED:-1}" tools/fuzz.sh
    fi
    ;;
  build)
    install_deps
    configure_build build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    ;;
  *)
    echo "usage: tools/dev.sh demo|test|build" >&2
    exit 2
    ;;
esac
