#!/usr/bin/env bash
# package_deb_test.sh CPACK BUILD_DIR — `cpack -G DEB` makes the two Debian
# packages (ctest: package_deb, label "package"):
#   polis_<v>_amd64.deb: Depends names libzmq5, libprotobuf32 and Abseil;
#     extracted into a temporary root, ROOT/usr/bin/polis --help exits 0.
#   libpolis-dev_<v>_amd64.deb: Depends names the -dev packages; holds the
#     headers, static libraries, CMake package and polis.pc under /usr.
set -euo pipefail
cpack="$1" bld="$(cd "$2" && pwd)"
fail() { echo "package_deb: FAIL: $*" >&2; exit 1; }
for tool in "$cpack" dpkg-deb; do
  command -v "$tool" >/dev/null || fail "$tool is not installed"
done

tmp="$(mktemp -d /tmp/polis-package-deb.XXXXXX)"
trap 'rm -rf "$tmp"' EXIT
"$cpack" -G DEB --config "$bld/CPackConfig.cmake" -B "$tmp/out" >"$tmp/cpack.log" 2>&1 \
  || { cat "$tmp/cpack.log"; fail "cpack -G DEB"; }
runtime=("$tmp"/out/polis_*_amd64.deb)
dev=("$tmp"/out/libpolis-dev_*_amd64.deb)
[[ -f "${runtime[0]}" ]] || { ls "$tmp/out"; fail "no polis_*.deb"; }
[[ -f "${dev[0]}" ]] || { ls "$tmp/out"; fail "no libpolis-dev_*.deb"; }

info="$(dpkg-deb -I "${runtime[0]}")"
echo "$info"
depends="$(dpkg-deb -f "${runtime[0]}" Depends)"
for p in libzmq5 libprotobuf32 libabsl20220623 libcpp-httplib0.11 libsodium23; do
  [[ "$depends" == *"$p"* ]] || fail "polis Depends lacks $p: $depends"
done
dev_depends="$(dpkg-deb -f "${dev[0]}" Depends)"
for p in libzmq3-dev cppzmq-dev libprotobuf-dev protobuf-compiler libabsl-dev libcpp-httplib-dev libsodium-dev; do
  [[ "$dev_depends" == *"$p"* ]] || fail "libpolis-dev Depends lacks $p: $dev_depends"
done
contents="$(dpkg-deb -c "${dev[0]}")"
for f in ./usr/include/polis/genserver/genserver.h ./usr/include/polis/polis/envelope.proto \
         ./usr/lib/libpolis_genserver.a ./usr/lib/cmake/polis/polisConfig.cmake \
         ./usr/lib/pkgconfig/polis.pc; do
  grep -qF " $f" <<<"$contents" || fail "libpolis-dev lacks $f"
done

root="$tmp/root"
dpkg-deb -x "${runtime[0]}" "$root"
"$root/usr/bin/polis" --help >"$tmp/help.txt" || fail "polis --help exited $?"
grep -q "polis" "$tmp/help.txt" || fail "polis --help printed no usage"
echo "package_deb: ok"
