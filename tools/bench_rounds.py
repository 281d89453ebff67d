#!/usr/bin/env python3
"""tools/bench_rounds.py -- polis against Erlang/OTP and raw ZeroMQ, in rounds.

Runs ROUNDS interleaved rounds of
  1. the Erlang peer benchmark (../shared/anchors/erlang/run.sh, one JSON line),
  2. `polis bench local --json`,
  3. `polis bench remote --json` (its raw ZeroMQ baseline runs inside, interleaved),
then prints, for every figure of issue 18, the median over the rounds, the spread
((max - min) / median) and the ratio against its peer (the median of the
rounds' ratios: each round's polis and peer figures come from the same minutes),
with the target. Figures on these machines swing up to 2x between runs, so only
ratios from the same rounds mean anything (BENCHMARKS.md). With 3 rounds or
more it flags each round in which one of Erlang's own figures is over 20% off
its median over the rounds: that round ran in a disturbed stretch.

Usage: tools/bench_rounds.py [--rounds=3] [--polis=build/bin/polis]
                             [--erlang=../shared/anchors/erlang/run.sh] [--json]
Exit: 0 when every round ran (whatever the figures), 1 when a benchmark failed,
2 on bad arguments. The raw lines of every round go to stderr.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys


def run_json_lines(argv):
    """Runs argv; returns its stdout's JSON objects, keyed by their "bench"."""
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()}")
    out = {}
    for line in proc.stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        obj = json.loads(line)
        key = obj.get("bench", "?")
        if key in ("remote_call", "remote_call_traced"):
            key += "_" + obj.get("transport", "")
        out[key] = obj
        print(line, file=sys.stderr)
    return out


# (name, polis getter, peer getter or None, "lower"/"higher" is better, target ratio or None,
#  what the peer is)
FIGURES = [
    ("local call p50 (us)", lambda p: p["local_call"]["p50_us"],
     lambda e, p: e["local_call_p50_us"], "lower", 0.5, "Erlang"),
    ("local casts (msg/s)", lambda p: p["local_cast"]["msgs_per_s"],
     lambda e, p: e["local_cast_per_s"], "higher", 1.5, "Erlang"),
    ("plain thread local call p50 (us)", lambda p: p["external_call"]["p50_us"],
     None, "lower", None, ""),
    ("plain thread local call p99 (us)", lambda p: p["external_call"]["p99_us"],
     None, "lower", None, "target: <= 20 us"),
    ("remote call p50, tcp (us)", lambda p: p["remote_call_tcp"]["polis_p50_us"],
     lambda e, p: p["remote_call_tcp"]["zmq_p50_us"], "lower", 1.10, "raw ZeroMQ"),
    ("remote call p50, tcp (us) vs Erlang", lambda p: p["remote_call_tcp"]["polis_p50_us"],
     lambda e, p: e["remote_call_p50_us"], "lower", 1.0, "Erlang"),
    ("remote call p99, tcp (us)", lambda p: p["remote_call_tcp"]["polis_p99_us"],
     lambda e, p: p["remote_call_tcp"]["zmq_p99_us"], "lower", None, "raw ZeroMQ"),
    ("remote casts (msg/s)", lambda p: p["remote_cast"]["polis_msgs_per_s"],
     lambda e, p: p["remote_cast"]["zmq_msgs_per_s"], "higher", 1.0, "raw ZeroMQ one-way"),
    ("remote casts (msg/s) vs Erlang", lambda p: p["remote_cast"]["polis_msgs_per_s"],
     lambda e, p: e["remote_cast_per_s"], "higher", 8.0, "Erlang"),
    ("pipelined calls, 100 in flight (calls/s)",
     lambda p: p["remote_call_pipelined"]["polis_calls_per_s"],
     lambda e, p: p["remote_call_pipelined"]["zmq_req_per_s"], "higher", 0.8,
     "raw ZeroMQ windowed"),
    ("pipelined calls, 100 in flight (calls/s) vs Erlang",
     lambda p: p["remote_call_pipelined"]["polis_calls_per_s"],
     lambda e, p: e["remote_pipelined100_call_per_s"], "higher", 10.0, "Erlang"),
]


def spread(values):
    m = statistics.median(values)
    return (max(values) - min(values)) / m if m else 0.0


# Erlang's own figures as a sentinel for host noise: a round in which one of
# them is more than DISTURBED off the rounds' median ran in a disturbed
# stretch (this machine's neighbours or its slow vCPU, BENCHMARKS.md), and so
# probably did polis's half of it.
SENTINELS = [("local call p50", "local_call_p50_us", "us"),
             ("local casts", "local_cast_per_s", "/s"),
             ("remote call p50", "remote_call_p50_us", "us"),
             ("pipelined calls", "remote_pipelined100_call_per_s", "/s")]
DISTURBED = 0.20


def disturbed_rounds(rounds):
    """Returns {round index: [why, ...]} for the rounds the sentinels flag."""
    flagged = {}
    if len(rounds) < 3:  # no median to stand against
        return flagged
    for label, key, unit in SENTINELS:
        values = [e[key] for e, _ in rounds]
        m = statistics.median(values)
        for i, v in enumerate(values):
            if m and abs(v - m) / m > DISTURBED:
                flagged.setdefault(i, []).append(
                    f"Erlang's {label} {v:.4g} {unit} is {(v - m) / m:+.0%} off the median {m:.4g}")
    return flagged


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--polis", default="build/bin/polis")
    parser.add_argument("--erlang", default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared", "anchors", "erlang",
        "run.sh"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    for path in (args.polis, args.erlang):
        if not os.access(path, os.X_OK):
            parser.error(f"{path} is not an executable (see BENCHMARKS.md for the set-up)")

    rounds = []
    try:
        for r in range(args.rounds):
            print(f"# round {r + 1} of {args.rounds}", file=sys.stderr)
            try:
                erlang = run_json_lines([args.erlang]).get("erlang")
            except RuntimeError as e:  # e.g. its epmd not listening yet: once more
                print(f"# Erlang run failed, once more: {e}", file=sys.stderr)
                erlang = run_json_lines([args.erlang]).get("erlang")
            if erlang is None:
                raise RuntimeError("the Erlang benchmark printed no {\"bench\":\"erlang\"} line")
            polis = run_json_lines([args.polis, "bench", "local", "--json"])
            polis.update(run_json_lines([args.polis, "bench", "remote", "--json"]))
            rounds.append((erlang, polis))
    except (RuntimeError, json.JSONDecodeError) as e:
        print(f"bench_rounds: {e}", file=sys.stderr)
        return 1

    results = []
    for name, mine, theirs, better, target, peer in FIGURES:
        values = [mine(p) for _, p in rounds]
        row = {"figure": name, "polis_median": statistics.median(values),
               "polis_spread": round(spread(values), 3), "rounds": len(values)}
        if theirs is not None:
            peers = [theirs(e, p) for e, p in rounds]
            ratios = [m / t for m, t in zip(values, peers)]
            row.update({"peer": peer, "peer_median": statistics.median(peers),
                        "ratio": round(statistics.median(ratios), 3)})
            if target is not None:
                met = row["ratio"] <= target if better == "lower" else row["ratio"] >= target
                row.update({"target": ("<= " if better == "lower" else ">= ") + str(target),
                            "met": met})
        elif peer:
            row["note"] = peer
        results.append(row)

    flagged = disturbed_rounds(rounds)
    if args.json:
        for row in results:
            print(json.dumps(row))
        print(json.dumps({"disturbed_rounds": {str(i + 1): why for i, why in flagged.items()}}))
        return 0
    print(f"{'figure':52} {'polis':>12} {'spread':>7} {'peer':>12} {'ratio':>7}  target")
    for row in results:
        peer = f"{row['peer_median']:.4g}" if "peer_median" in row else "-"
        ratio = f"{row['ratio']:.3g}" if "ratio" in row else "-"
        target = row.get("target", row.get("note", ""))
        if "met" in row:
            target += "  met" if row["met"] else "  NOT met"
        print(f"{row['figure']:52} {row['polis_median']:12.4g} {row['polis_spread']:7.0%} "
              f"{peer:>12} {ratio:>7}  {target} {row.get('peer', '')}")
    for i in sorted(flagged):
        print(f"round {i + 1} looks disturbed: " + "; ".join(flagged[i]))
    if len(rounds) >= 3 and not flagged:
        print(f"no round looks disturbed (Erlang's figures all within {DISTURBED:.0%} "
              "of their medians)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
