#!/usr/bin/env bash
# tools/demo.sh — a local polis cluster of 3 node processes on loopback.
#
# Starts nodes a, b and c (tcp, free ports, each seeded by the previous one),
# then uses `polis call`, `polis cast` and `polis send` to show: calls and
# casts by name to whichever node hosts the server, a remote send_after
# (a counter on node a schedules an add to a counter on node b), typed
# errors, a crashing server restarted with fresh state by its node's root
# supervisor (root@NODE), the cluster's members and names (polis nodes,
# polis ps), a frozen node declared down within a second that rejoins by
# itself after SIGCONT, and last a call through relays on all three nodes
# whose trace (the spans each node recorded) `polis trace` prints as a tree,
# with `polis trace --last` and `--errors`. Every process it starts is
# stopped on exit.
#
# Usage: tools/demo.sh [path/to/polis]    (default: build/bin/polis)
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
real_polis="${1:-${POLIS:-$here/../build/bin/polis}}"
[[ -x "$real_polis" ]] || { echo "demo: no polis binary at $real_polis (build first)" >&2; exit 2; }

workdir="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Security: every node and client has a CurveZMQ keypair (polis keygen);
# each node admits only the keys in authorized_keys, with their roles. The
# demo's client is an admin (it asks supervisors too); `counters` may only
# reach names matching counter*; `stranger` is in no file.
for k in a b c admin counters stranger; do "$real_polis" keygen --out="$workdir/$k" >/dev/null; done
{
  for n in a b c; do echo "node $(cat "$workdir/$n.pub") node $n"; done
  echo "admin $(cat "$workdir/admin.pub") the demo's client"
  echo "client $(cat "$workdir/counters.pub") names=counter* may only reach counters"
} >"$workdir/authorized_keys"
# `polis` below is this wrapper: client commands carry the admin key; each
# seed carries its node's public key (--seed=ENDPOINT@a.pub).
polis="$workdir/polis"
cat >"$polis" <<WRAPPER
#!/bin/sh
verb="\$1"; shift
case "\$verb" in
  call|cast|send|nodes|ps|describe|trace) exec "$real_polis" "\$verb" --key="$workdir/admin.key" "\$@" ;;
esac
exec "$real_polis" "\$verb" "\$@"
WRAPPER
chmod +x "$polis"

# start_node NAME SEED SERVE -> sets $endpoint to the node's endpoint,
# followed by @ and the node's public key file (what clients and nodes
# seeding from it need).
start_node() {
  local name="$1" seed="$2" serve="$3" out="$workdir/$1.out"
  local args=(node "--name=$name" "--listen=tcp://127.0.0.1:*" "--serve=$serve"
              "--key=$workdir/$name.key" "--authorized-keys=$workdir/authorized_keys")
  [[ -n "$seed" ]] && args+=("--seed=$seed")
  "$polis" "${args[@]}" >"$out" 2>"$workdir/$name.err" &
  pids+=($!)
  for _ in $(seq 100); do
    if grep -q "listening on" "$out"; then
      endpoint="$(awk '/listening on/ {print $NF}' "$out")@$workdir/$name.pub"
      echo "started $(head -1 "$out")   [serves $serve]"
      return 0
    fi
    kill -0 "${pids[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "demo: node $name did not start:" >&2
  cat "$workdir/$name.err" >&2
  exit 1
}

# wait_until CMD...: reruns CMD (quietly) every 0.1 s until it succeeds,
# for at most 5 s. The demo goes on either way; the next `run` shows.
wait_until() {
  for _ in $(seq 50); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 0
}

# other_counter_is VALUE: node a sees other_counter holding VALUE.
other_counter_is() {
  [[ "$("$polis" call --seed="$ep_a" other_counter '{"get": {}}')" == "{\"value\":\"$1\"}" ]]
}

# run CMD...: shows the command and its output (errors included).
run() {
  local shown=() arg
  for arg in "$@"; do
    if [[ "$arg" == *[[:space:]\{\"]* ]]; then shown+=("'$arg'"); else shown+=("$arg"); fi
  done
  echo
  echo "\$ polis ${shown[*]}"
  if "$polis" "$@" 2>&1; then :; else echo "(exit code $?)"; fi
}

echo "== starting a 3-node cluster on loopback, every connection authenticated and encrypted (CurveZMQ)"
start_node a "" "counter,echo,relay:relay_a"; ep_a="$endpoint"
start_node b "$ep_a" "kv,counter:other_counter,relay:relay_b"; ep_b="$endpoint"
start_node c "$ep_b" "counter:counter_c,relay:relay_c"; ep_c="$endpoint"

echo
echo "== calls by name: the client joins through one node; the server lives anywhere"
run call --seed="$ep_c" counter '{"add": 5}'
run call --seed="$ep_a" kv '{"put": {"key": "greeting", "value": "hello"}}'
run call --seed="$ep_c" kv '{"get": {"key": "greeting"}}'
run call --seed="$ep_b" echo '{"any": ["json", 1, true]}'

echo
echo "== casts and info messages (no reply), then a call sees them, in order"
run cast --seed="$ep_b" counter '{"add": 10}'
run send --seed="$ep_c" counter '{"add": 1}'
run call --seed="$ep_b" counter '{"get": {}}'

echo
echo "== remote send_after: counter (node a) schedules an add of 7 to other_counter (node b)"
run call --seed="$ep_a" other_counter '{"get": {}}'
run call --seed="$ep_c" counter '{"add_later": {"n": 7, "delay_ms": 300, "target": "other_counter"}}'
run call --seed="$ep_a" other_counter '{"get": {}}'
echo "(waiting for the timer on node a to fire...)"
wait_until other_counter_is 7
run call --seed="$ep_a" other_counter '{"get": {}}'

echo
echo "== errors are typed: unknown key, unknown server, bad JSON"
run call --seed="$ep_a" kv '{"get": {"key": "nope"}}'
run call --seed="$ep_a" nobody '{}'
run call --seed="$ep_a" counter '{"bogus": 1}'

echo
echo "== a crash, and the restart: every server runs under its node's root supervisor"
run call --seed="$ep_b" counter_c '{"add": 3}'
run call --seed="$ep_b" counter_c '{"crash": {}}'
# Until the restarted instance has registered, the name is NOT_FOUND.
wait_until "$polis" call --seed="$ep_b" counter_c '{"get": {}}'
run call --seed="$ep_b" counter_c '{"get": {}}'
run call --seed="$ep_b" root@c '{"which_children": {}}'
echo "(a fresh counter_c, restart_count 1; node c and everything else kept running)"
run call --seed="$ep_c" counter '{"get": {}}'

echo
echo "== security: a client limited to counter* is refused kv; an unknown key gets nothing in"
run_as() {
  local key="$1"; shift
  echo
  echo "\$ polis $1 --key=$key.key ${*:2}"
  if "$real_polis" "$1" --key="$workdir/$key.key" "${@:2}" 2>&1; then :; else echo "(exit code $?)"; fi
}
run_as counters call --seed="$ep_a" --timeout=2s counter '{"get": {}}'
run_as counters call --seed="$ep_a" --timeout=2s kv '{"get": {"key": "greeting"}}'
run_as stranger call --seed="$ep_a" --timeout=2s counter '{"add": 100}'
run call --seed="$ep_a" counter '{"get": {}}'
echo "(the stranger's add never arrived)"

echo
echo "== the cluster as node a sees it: members, then every name"
run nodes --seed="$ep_a"
run ps --seed="$ep_a"

echo
echo "== a frozen node (SIGSTOP: its sockets stay open) is declared down within a second"
kill -STOP "${pids[2]}"
sleep 1.5   # the failure timeout is 800 ms
run call --seed="$ep_a" counter_c '{"get": {}}'
run nodes --seed="$ep_a"
echo "(SIGCONT: node c rejoins by itself; its server kept its state)"
kill -CONT "${pids[2]}"
wait_until "$polis" call --seed="$ep_a" counter_c '{"get": {}}'
run call --seed="$ep_a" counter_c '{"get": {}}'

echo
echo "== tracing: one call through relay_a (node a) and relay_b (node b) to counter_c (node c)"
relay_request='{"via": ["relay_b", "counter_c"], "request": {"add": 1}}'
wait_until "$polis" call --seed="$ep_b" counter_c '{"get": {}}'   # b sees c again
echo
echo "\$ polis call --seed=$ep_a relay_a '$relay_request'"
"$polis" call --seed="$ep_a" relay_a "$relay_request" 2>"$workdir/call.err" || true
cat "$workdir/call.err"
trace_id="$(sed -n 's/^trace_id=//p' "$workdir/call.err")"
echo "(every node records the spans of the messages it handled; polis trace asks them all)"

echo
echo "== a call that fails two hops down, then the recent traces, and those with an error"
run call --seed="$ep_c" relay_c '{"via": ["relay_a", "nobody"], "request": {"add": 1}}'
run trace --seed="$ep_c" --last=3
run trace --seed="$ep_c" --last=3 --errors

echo
echo "== the first call's trace: each hop, on its node, as a tree"
# trace_complete: all 5 spans are in (a server's span ends just after its reply left).
trace_complete() { "$polis" trace --seed="$ep_b" "$trace_id" 2>/dev/null | grep -q "^trace .*: 5 spans"; }
wait_until trace_complete
run trace --seed="$ep_b" "$trace_id"

echo
echo "== stopping the cluster"
