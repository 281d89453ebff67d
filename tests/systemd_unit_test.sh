#!/bin/sh
# tools/deploy/polis-node@.service is a unit systemd accepts, and stays
# confined: `systemd-analyze verify` (with ExecStart pointed at the polis
# under test, as the package's /usr/bin/polis may not exist here) and
# `systemd-analyze security --offline` with an exposure of at most 2.0
# (1.6 when written). No systemd PID 1 is needed.
#
# usage: systemd_unit_test.sh UNIT_FILE POLIS_BINARY
# Exits 77 (skipped) without systemd-analyze (Debian's systemd package).
set -eu
unit="$1" polis="$2"
if ! command -v systemd-analyze >/dev/null; then
  echo "skipped: no systemd-analyze (apt-get install systemd)"
  exit 77
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
grep -q '^ExecStart=/usr/bin/polis node --config=/etc/polis/%i.conf$' "$unit"
sed "s|^ExecStart=/usr/bin/polis |ExecStart=$polis |" "$unit" > "$dir/polis-node@.service"
cd "$dir"
out=$(systemd-analyze verify "$dir/polis-node@a.service" 2>&1)
if [ -n "$out" ]; then
  echo "systemd-analyze verify complained:"
  echo "$out"
  exit 1
fi
# --threshold is on systemd's internal scale: 20 = an exposure of 2.0.
if ! systemd-analyze security --offline=yes --threshold=20 "$dir/polis-node@a.service" \
    > "$dir/security.txt" 2>&1; then
  cat "$dir/security.txt"
  echo "exposure over 2.0"
  exit 1
fi
tail -n 1 "$dir/security.txt"
echo "PASS"
