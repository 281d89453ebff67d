#!/usr/bin/env bash
# subproject_test.sh CMAKE SOURCE_DIR — polis used as a subproject
# (ctest: subproject_configure, label "package"): a parent project that
# does add_subdirectory(polis) and nothing else of polis's set-up (no
# find_package(Protobuf), no GTest: finding it is disabled) configures;
# polis's tests and tool are not in its build; its own .proto is generated
# through polis_add_proto; its node binary links polis::runner.
# (Configure and generate only: building polis again costs minutes.)
set -euo pipefail
cmake="$1" src="$(cd "$2" && pwd)"
fail() { echo "subproject: FAIL: $*" >&2; exit 1; }
command -v ninja >/dev/null || fail "ninja is not installed"
tmp="$(mktemp -d /tmp/polis-subproject.XXXXXX)"
trap '[[ -n "${KEEP:-}" ]] || rm -rf "$tmp"' EXIT
cp "$src"/examples/standalone/{accounts.proto,accounts.h,accounts.cc,main.cc} "$tmp/"
cat >"$tmp/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.25)
project(parent LANGUAGES CXX)
add_subdirectory("$src" polis)
add_executable(accounts_node main.cc accounts.cc)
polis_add_proto(TARGET accounts_node PROTOS accounts.proto)
target_link_libraries(accounts_node PRIVATE polis::runner)
CMAKE
"$cmake" -S "$tmp" -B "$tmp/build" -G Ninja -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON \
  >"$tmp/configure.log" 2>&1 || { cat "$tmp/configure.log"; fail "configure"; }
ninja -C "$tmp/build" -t targets all >"$tmp/targets.txt"
grep -q '^accounts_node:' "$tmp/targets.txt" || fail "no accounts_node target"
if grep -E '^(polis|polis_tools|cli_test|genserver_test)(:| )' "$tmp/targets.txt"; then
  fail "the subproject builds polis's tool or tests"
fi
# Into a file first: `grep -q` stops reading at the first match, and under
# pipefail ninja's SIGPIPE would fail the pipeline.
ninja -C "$tmp/build" -t commands accounts_node >"$tmp/commands.txt"
grep -q 'libpolis_runner.a' "$tmp/commands.txt" || fail "accounts_node does not link polis_runner"
# The protoc step polis_add_proto wrote, run by itself: `ninja gen/accounts.pb.h`
# would first build every library accounts_node links (Ninja's order-only
# dependencies of a target's custom commands).
protoc_cmd="$(ninja -C "$tmp/build" -t commands gen/accounts.pb.h | grep 'protoc' | grep 'accounts.proto' | tail -1)" \
  || fail "no protoc command for gen/accounts.pb.h"
(cd "$tmp/build" && mkdir -p gen && bash -c "$protoc_cmd") >"$tmp/gen.log" 2>&1 \
  || { cat "$tmp/gen.log"; fail "protoc: $protoc_cmd"; }
[[ -f "$tmp/build/gen/accounts.pb.h" ]] || fail "accounts.pb.h not generated in gen/"
echo "subproject: ok"
