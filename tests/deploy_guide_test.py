#!/usr/bin/python3
"""DEPLOY.md as a test: runs the guide's commands on network namespaces.

Every ```sh block preceded by `<!-- run: WHERE [retry] [exit=N] -->` runs,
in the order of the file, with the `setup` block first and the `cleanup`
block last (also after a failure). WHERE is where it runs:
  setup, cleanup, host   the test's own namespace (setup: the "machines")
  a, b, c                that node machine (ip netns exec polis-h1/h2/h3)
  nodes                  each of a, b, c: a first line `NODE=a IP=10.77.0.1`
                         is rewritten for the machine, and so is
                         /etc/polis/a.conf
  ops                    the operator's machine (polis-ops)
Blocks run with `sh -e` in one scratch directory (the shared `keys/`), with
the polis under test first on PATH. A line `runuser -u polis -- polis node
...` starts a node in the background; the block goes on once the node has
printed its ready line ("node NAME listening on ..."); the nodes are
stopped with SIGTERM before the cleanup. `exit=N`: the block must exit N
(default 0). A following `<!-- output -->` block lists lines that must
appear in what the block printed (its commands' stdout and stderr, and what
the nodes printed meanwhile), compared with numbers that change from run to
run masked (incarnations, trace ids, durations). `retry`: the block (a
read-only one) runs again until its output matches, at most 20 s: a name or
a member may take a moment to reach every view.

Needs root, iproute2, nftables, curl, promtool; exits 77 (skipped) without
root or ip, or when a user `polis` or /etc/polis already exists (this
machine is not a scratch machine then). The namespaces left by a run that
was killed are found (polis-lan) and cleaned up first. Runs on one machine
take turns (a lock in /run/lock).

usage: deploy_guide_test.py --polis=PATH/TO/polis --guide=PATH/TO/DEPLOY.md
"""
import argparse
import fcntl
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

SKIP = 77
MACHINES = {"a": ("polis-h1", "10.77.0.1"), "b": ("polis-h2", "10.77.0.2"),
            "c": ("polis-h3", "10.77.0.3")}
NAMESPACES = {"a": "polis-h1", "b": "polis-h2", "c": "polis-h3", "ops": "polis-ops"}
WAIT_S = 30
RETRY_S = 20
NODE_LINE = "runuser -u polis -- polis node "


class Block:
    def __init__(self, where, flags, text, line):
        self.where, self.flags, self.text, self.line = where, flags, text, line
        self.expected = None
        self.exit = 0
        for f in flags:
            if f.startswith("exit="):
                self.exit = int(f[5:])


def parse_guide(path):
    """The runnable blocks of the guide, in order, with their outputs."""
    lines = open(path, encoding="utf-8").read().split("\n")
    blocks, i = [], 0
    marker = re.compile(r"^\s*<!-- (run: (\S+)(.*?)|output) -->\s*$")
    while i < len(lines):
        m = marker.match(lines[i])
        if not m:
            i += 1
            continue
        start = i + 1
        fence = lines[start].strip()
        if not fence.startswith("```"):
            raise ValueError(f"{path}:{i + 1}: a marker must be followed by a code block")
        indent = len(lines[start]) - len(lines[start].lstrip())
        end = start + 1
        while lines[end].strip() != "```":
            end += 1
        body = "\n".join(l[indent:] for l in lines[start + 1:end]) + "\n"
        if m.group(1) == "output":
            if not blocks or blocks[-1].expected is not None:
                raise ValueError(f"{path}:{i + 1}: an output block must follow a run block")
            blocks[-1].expected = body
        else:
            blocks.append(Block(m.group(2), m.group(3).split(), body, i + 1))
        i = end + 1
    return blocks


# --- Comparing outputs ---

_HEX = re.compile(r"\b[0-9a-f]{32}\b")
_BIG = re.compile(r"\b\d{8,}\b")
_DURATION = re.compile(r"\b(\d+h)?(\d+m)?\d+(\.\d+)?(ns|µs|us|ms|s)\b")
_PORT = re.compile(r":(3[2-9]|[4-5]\d|60)\d{3}\b")  # a port from the kernel's range
_PID_FD = re.compile(r"\b(pid|fd)=\d+")


def normalize(line):
    line = _HEX.sub("<ID>", line)
    line = _BIG.sub("<N>", line)
    line = _DURATION.sub("<T>", line)
    line = _PORT.sub(":<PORT>", line)
    line = _PID_FD.sub(r"\1=<N>", line)
    return " ".join(line.split())


def missing_lines(expected, actual):
    """Expected lines (normalized) not found in `actual`, each used once."""
    have = [normalize(l) for l in actual.split("\n")]
    missing = []
    for want in expected.strip("\n").split("\n"):
        w = normalize(want)
        if w in have:
            have.remove(w)
        else:
            missing.append(want)
    return missing


# --- Background nodes ---

class Output:
    """Everything the background nodes printed, in arrival order."""

    def __init__(self):
        self.cond = threading.Condition()
        self.lines = []

    def add(self, line):
        with self.cond:
            self.lines.append(line)
            self.cond.notify_all()

    def wait_for(self, pred, timeout):
        with self.cond:
            return self.cond.wait_for(lambda: pred(self.lines), timeout)


class Node:
    def __init__(self, ns, command, env, output):
        self.command = command
        self.proc = subprocess.Popen(["ip", "netns", "exec", ns, "sh", "-c", "exec " + command],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                     cwd="/", text=True, start_new_session=True)
        for stream in (self.proc.stdout, self.proc.stderr):
            threading.Thread(target=self._read, args=(stream, output), daemon=True).start()

    @staticmethod
    def _read(stream, output):
        for line in stream:
            output.add(line.rstrip("\n"))

    def stop(self):
        """SIGTERM to the node (runuser passes it on), then wait."""
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, 9)
            self.proc.wait()


class Guide:
    def __init__(self, polis_dir, scratch):
        self.env = dict(os.environ, PATH=polis_dir + ":" + os.environ.get("PATH", ""))
        self.scratch = scratch
        self.output = Output()
        self.nodes = []

    def sh(self, ns, text):
        argv = ["sh", "-e", "-c", text]
        if ns is not None:
            argv = ["ip", "netns", "exec", ns] + argv
        r = subprocess.run(argv, env=self.env, cwd=self.scratch, capture_output=True, text=True,
                           timeout=120)
        return r.returncode, r.stdout + r.stderr

    def start_node(self, ns, command):
        node = Node(ns, command, self.env, self.output)
        self.nodes.append(node)
        return node

    def run_once(self, block):
        """Runs the block once: (exit code, what its commands printed, where the
        nodes' output stood when it began)."""
        mark = len(self.output.lines)
        if block.where in ("setup", "cleanup", "host"):
            targets = [(None, block.text)]
        elif block.where == "nodes":
            targets = [(MACHINES[m][0], for_machine(block.text, m)) for m in "abc"]
        else:
            targets = [(NAMESPACES[block.where], block.text)]
        rc, printed, started = 0, "", []
        for ns, text in targets:
            chunk = []
            for line in text.split("\n") + [None]:
                if line is None or line.startswith(NODE_LINE):
                    if chunk and "".join(chunk).strip():
                        code, out = self.sh(ns, "\n".join(chunk) + "\n")
                        printed += out
                        rc = rc or code
                        if code != 0:
                            break
                    chunk = []
                    if line is not None:
                        started.append(self.start_node(ns, line))
                else:
                    chunk.append(line)
        for node in started:
            name = re.search(r"/etc/polis/(\w+)\.conf", node.command).group(1)
            ready = f"node {name} listening on "
            if not self.output.wait_for(lambda ls: any(l.startswith(ready) for l in ls[mark:]),
                                        WAIT_S):
                raise AssertionError(f"no ready line from `{node.command}` within {WAIT_S}s; "
                                     f"printed:\n" + "\n".join(self.output.lines[mark:]))
        return rc, printed, mark

    def run(self, block):
        deadline = time.monotonic() + RETRY_S
        while True:
            rc, printed, mark = self.run_once(block)
            ok = rc == block.exit
            missing = []
            if ok and block.expected is not None:
                # Lines the nodes print may trail the command: wait for them.
                def complete(lines):
                    return not missing_lines(block.expected, printed + "\n" + "\n".join(lines[mark:]))
                self.output.wait_for(complete, 5 if "retry" not in block.flags else 0)
                with self.output.cond:
                    missing = missing_lines(block.expected,
                                            printed + "\n" + "\n".join(self.output.lines[mark:]))
                ok = not missing
            if ok:
                return
            if "retry" not in block.flags or time.monotonic() > deadline:
                raise AssertionError(
                    f"DEPLOY.md:{block.line} ({block.where}): exit {rc} (want {block.exit})"
                    + (f"; missing lines: {missing}" if missing else "")
                    + f"\n--- block:\n{block.text}--- printed:\n{printed}"
                    + "--- nodes printed:\n" + "\n".join(self.output.lines[mark:]))
            time.sleep(0.05)  # A polling interval between attempts, not the wait itself.

    def stop_nodes(self):
        for node in self.nodes:
            node.stop()


def for_machine(text, machine):
    name, ip = machine, MACHINES[machine][1]
    text = re.sub(r"^NODE=a IP=10\.77\.0\.1\b.*$", f"NODE={name} IP={ip}", text, flags=re.M)
    return text.replace("/etc/polis/a.conf", f"/etc/polis/{name}.conf")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--polis", required=True)
    ap.add_argument("--guide", required=True)
    args = ap.parse_args()
    blocks = parse_guide(args.guide)
    if os.geteuid() != 0 or shutil.which("ip") is None:
        print("skipped: needs root and iproute2 (ip) to make network namespaces")
        return SKIP
    # One run at a time on this machine (the names are fixed; another tree's
    # suite may be running): wait for the others, and only then judge
    # leftovers.
    lock = open("/run/lock/polis-deploy-guide.lock", "w")
    fcntl.flock(lock, fcntl.LOCK_EX)
    cleanup = [b for b in blocks if b.where == "cleanup"]
    if os.path.exists("/run/netns/polis-lan") and len(cleanup) == 1:
        # A run that was killed (a ctest timeout) left its machines: clean
        # up line by line, as far as it goes, before the checks below.
        print("leftovers of an interrupted run: running the guide's cleanup")
        for line in cleanup[0].text.split("\n"):
            if line.strip():
                subprocess.run(["sh", "-c", line], capture_output=True, timeout=60)
    try:
        pwd.getpwnam("polis")
        print("skipped: a user 'polis' exists already (the guide creates and deletes it)")
        return SKIP
    except KeyError:
        pass
    if os.path.exists("/etc/polis"):
        print("skipped: /etc/polis exists already (the guide creates and deletes it)")
        return SKIP
    for tool in ("nft", "curl", "promtool", "runuser"):
        if shutil.which(tool) is None:
            print(f"FAIL: {tool} is missing (tools/dev.sh installs it)")
            return 1
    setup = [b for b in blocks if b.where == "setup"]
    steps = [b for b in blocks if b.where not in ("setup", "cleanup")]
    if len(setup) != 1 or len(cleanup) != 1 or not steps:
        print("FAIL: the guide needs one setup block, one cleanup block and steps")
        return 1
    polis = os.path.abspath(args.polis)
    scratch = tempfile.mkdtemp(prefix="polis-deploy-")
    guide = Guide(os.path.dirname(polis), scratch)
    failed = None
    try:
        guide.run(setup[0])
        for block in steps:
            began = time.monotonic()
            guide.run(block)
            print(f"ok: DEPLOY.md:{block.line} ({block.where}) "
                  f"{time.monotonic() - began:.2f}s", flush=True)
    except (AssertionError, subprocess.TimeoutExpired) as e:
        failed = e
    finally:
        guide.stop_nodes()
        rc, printed = guide.sh(None, cleanup[0].text)
        shutil.rmtree(scratch, ignore_errors=True)
        if rc != 0:
            print(f"cleanup failed (exit {rc}):\n{printed}")
            failed = failed or AssertionError("cleanup failed")
    if failed:
        print(f"FAIL: {failed}")
        return 1
    print(f"PASS: {len(steps)} blocks of DEPLOY.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
