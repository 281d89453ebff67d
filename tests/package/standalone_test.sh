#!/usr/bin/env bash
# standalone_test.sh CMAKE SOURCE_DIR BUILD_DIR — issue 17's acceptance, as a
# user does it (ctest: standalone_package, label "package"):
#   1. cmake --install BUILD_DIR into a fresh staging prefix;
#   2. examples/standalone/ (copied out of the tree) is configured with
#      find_package(polis) against that prefix only and built: its own node
#      binary (polis::NodeMain) and its plugin (polis::plugin);
#   3. node a = accounts_node (a config file gives alice typed_args with
#      2^53+1 cents), node b = the installed `polis node` whose config file
#      loads the plugin and gives bob typed_args of the plugin's type, seeded
#      with a; `polis call` (installed) reaches alice and bob by name
#      through node b, and the replies are exact;
#   4. accounts_node refuses a kind it was not given (exit 2);
#   5. SIGTERM stops both nodes with exit 0.
set -euo pipefail
cmake="$1" src="$(cd "$2" && pwd)" bld="$(cd "$3" && pwd)"
fail() { echo "standalone: FAIL: $*" >&2; exit 1; }
command -v ninja >/dev/null || fail "ninja is not installed"

tmp="$(mktemp -d /tmp/polis-standalone.XXXXXX)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
prefix="$tmp/prefix"

echo "== install into $prefix"
"$cmake" --install "$bld" --prefix "$prefix" >"$tmp/install.log" || { cat "$tmp/install.log"; fail "cmake --install"; }

echo "== build examples/standalone against it"
cp -r "$src/examples/standalone" "$tmp/standalone"
"$cmake" -S "$tmp/standalone" -B "$tmp/sbuild" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF >"$tmp/configure.log" \
  || { cat "$tmp/configure.log"; fail "configure"; }
ninja -C "$tmp/sbuild" -t commands >"$tmp/commands.txt"
if grep -F -e "$src" -e "$bld" "$tmp/commands.txt"; then
  fail "a build command names polis's source or build tree"
fi
ninja -C "$tmp/sbuild" -j2 >"$tmp/build.log" || { cat "$tmp/build.log"; fail "build"; }

polis="$prefix/bin/polis"
cd "$tmp"

# start NAME LOG CMD...: runs CMD in the background (its pid appended to
# pids), blocks until its ready line (30 s at most) and leaves the endpoint
# in $ep.
start() {
  local name="$1" log="$2"; shift 2
  "$@" >"$log" 2>"$log.err" &
  pids+=($!)
  local line
  line="$(timeout 30 tail -n +1 -f "$log" | grep -m1 "^node $name listening on " || true)"
  [[ -n "$line" ]] || { cat "$log.err" >&2; fail "node $name printed no ready line"; }
  ep="${line##* }"
}

cat >a.conf <<'CONF'
serve {
  kind: "accounts"
  name: "alice"
  typed_args {
    [type.googleapis.com/accounts.AccountsArgs] { opening_cents: 9007199254740993 }
  }
}
CONF
echo "== node a: accounts_node (NodeMain)"
start a a.log "$tmp/sbuild/accounts_node" --name=a --listen='tcp://127.0.0.1:*' --config=a.conf
ep_a="$ep"
pid_a="${pids[-1]}"
echo "== node b: polis node --load=libaccounts_kinds.so"
# The file loads the plugin and gives bob typed_args of a type only the
# plugin defines (the runner loads plugins before it parses the file).
cat >b.conf <<CONF
load: "$tmp/sbuild/libaccounts_kinds.so"
serve {
  kind: "accounts"
  name: "bob"
  typed_args { [type.googleapis.com/accounts.AccountsArgs] { opening_cents: 7 } }
}
CONF
start b b.log "$polis" node --name=b --listen='tcp://127.0.0.1:*' --seed="$ep_a" --config=b.conf
ep_b="$ep"
pid_b="${pids[-1]}"

got="$("$polis" call --seed="$ep_b" alice '{"account": "x", "cents": 0}' 2>/dev/null)" \
  || fail "polis call alice: $got"
[[ "$got" == *'"cents":"9007199254740993"'* ]] || fail "alice answered $got"
got="$("$polis" call --seed="$ep_b" bob '{"account": "y", "cents": 250}' 2>/dev/null)" \
  || fail "polis call bob: $got"
[[ "$got" == *'"cents":"257"'* ]] || fail "bob answered $got"
got="$("$polis" call --seed="$ep_b" bob '{"account": "y", "cents": -100}' 2>/dev/null)" \
  || fail "polis call bob: $got"
[[ "$got" == *'"cents":"157"'* ]] || fail "bob answered $got"
# Two request types (Deposit, Lookup): `polis call` takes the one the JSON
# fits (the calls above: only a Deposit has `cents`), refuses a JSON both
# fit, naming them, and --type decides.
set +e
got="$("$polis" call --seed="$ep_b" bob '{"account": "y"}' 2>&1)"
rc=$?
set -e
[[ $rc != 0 ]] || fail "a JSON that fits Deposit and Lookup was sent: $got"
[[ "$got" == *'fits several request types of bob: accounts.Deposit, accounts.Lookup'* ]] \
  || fail "ambiguous JSON: $got"
got="$("$polis" call --seed="$ep_b" --type=accounts.Lookup bob '{"account": "y"}' 2>/dev/null)" \
  || fail "polis call --type=accounts.Lookup bob: $got"
[[ "$got" == *'"cents":"157"'* ]] || fail "bob's lookup answered $got"
echo "alice and bob answered by name; the request type chosen by the JSON"

set +e
"$tmp/sbuild/accounts_node" --name=c --listen='tcp://127.0.0.1:*' --serve=counter 2>c.err
rc=$?
set -e
[[ $rc == 2 ]] || fail "accounts_node --serve=counter exited $rc, not 2"
grep -q 'unknown server kind "counter" (known: accounts)' c.err || fail "message: $(cat c.err)"

kill -TERM "$pid_b" "$pid_a"
wait "$pid_b" || fail "node b exited $? on SIGTERM"
wait "$pid_a" || fail "node a exited $? on SIGTERM"
pids=()
echo "standalone: ok"
