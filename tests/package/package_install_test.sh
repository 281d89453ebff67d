#!/usr/bin/env bash
# package_install_test.sh CMAKE SOURCE_DIR BUILD_DIR — the installed package
# is complete and stands alone (ctest: package_install, label "package").
#   1. cmake --install BUILD_DIR into a fresh prefix;
#   2. the installed CMake files and polis.pc name no path of the source or
#      build tree;
#   3. tests/package/consumer/ (copied out of the tree) is configured with
#      find_package(polis) against that prefix only, built, and run: exit 0
#      iff its GenServer answered right; no compile or link command of it
#      names the source or build tree;
#   4. the same consumer compiled and linked with `pkg-config --cflags --libs
#      polis` (protoc run by hand), and run.
set -euo pipefail
cmake="$1" src="$(cd "$2" && pwd)" bld="$(cd "$3" && pwd)"
fail() { echo "package_install: FAIL: $*" >&2; exit 1; }
for tool in "$cmake" ninja pkg-config protoc c++; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

tmp="$(mktemp -d /tmp/polis-package-install.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"
case "$tmp/" in "$src/"* | "$bld/"*) fail "temp dir $tmp is inside the tree" ;; esac

echo "== install into $prefix"
"$cmake" --install "$bld" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }
for f in lib/cmake/polis/polisConfig.cmake lib/cmake/polis/polisConfigVersion.cmake \
         lib/cmake/polis/polisTargets.cmake lib/cmake/polis/polisProto.cmake \
         lib/pkgconfig/polis.pc lib/libpolis_genserver.a bin/polis \
         include/polis/genserver/genserver.h include/polis/polis/envelope.pb.h \
         include/polis/polis/envelope.proto; do
  [[ -e "$prefix/$f" ]] || fail "$f is not installed"
done
if grep -rlF -e "$src" -e "$bld" "$prefix/lib/cmake" "$prefix/lib/pkgconfig"; then
  fail "an installed CMake or pkg-config file names the source or build tree"
fi

echo "== consumer with find_package(polis)"
cp -r "$src/tests/package/consumer" "$tmp/consumer"
"$cmake" -S "$tmp/consumer" -B "$tmp/cbuild" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$tmp/configure.log" \
  || { cat "$tmp/configure.log"; fail "consumer: configure"; }
grep -qxF "polis_DIR:PATH=$prefix/lib/cmake/polis" "$tmp/cbuild/CMakeCache.txt" \
  || fail "find_package(polis) did not take $prefix: $(grep polis_DIR "$tmp/cbuild/CMakeCache.txt")"
ninja -C "$tmp/cbuild" -t commands consumer >"$tmp/commands.txt"
if grep -F -e "$src" -e "$bld" "$tmp/commands.txt"; then
  fail "a consumer build command names polis's source or build tree"
fi
grep -qF -- "-I$prefix/include/polis" "$tmp/commands.txt" \
  || grep -qF -- "-isystem $prefix/include/polis" "$tmp/commands.txt" \
  || fail "the consumer does not compile with $prefix/include/polis"
ninja -C "$tmp/cbuild" -j2 >"$tmp/build.log" || { cat "$tmp/build.log"; fail "consumer: build"; }
"$tmp/cbuild/consumer" || fail "consumer (CMake) exited $?"

echo "== consumer with pkg-config"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cflags="$(pkg-config --cflags polis)" || fail "pkg-config --cflags polis"
libs="$(pkg-config --libs polis)" || fail "pkg-config --libs polis"
[[ "$cflags" == *-std=c++20* ]] || fail "Cflags lacks -std=c++20: $cflags"
mkdir "$tmp/pc"
protoc -I "$tmp/consumer" -I "$prefix/include/polis" --cpp_out="$tmp/pc" "$tmp/consumer/accounts.proto"
# shellcheck disable=SC2086
c++ $cflags -I "$tmp/pc" "$tmp/consumer/main.cc" "$tmp/pc/accounts.pb.cc" -o "$tmp/pc/consumer" \
  $libs || fail "consumer: compile and link with pkg-config"
"$tmp/pc/consumer" || fail "consumer (pkg-config) exited $?"
echo "package_install: ok"
