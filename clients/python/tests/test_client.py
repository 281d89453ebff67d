"""polis_client against real `polis node` processes over tcp on 127.0.0.1.

Two nodes, a (counter, kv, and `tiny`: a counter with max_mailbox 2) and b
(echo, counter2) joined through a, reached from a Client that knows only
a's endpoint; a node s with max_message_bytes 1000; then the same
cluster with CURVE keys (`polis keygen`), a full client key, a client key
limited to names=counter*, and a stranger's key. Every error code a client
can provoke with the stock servers and flags is provoked. No sleeps: every
wait is for a condition, with a deadline.

Run by ctest (clients/python/CMakeLists.txt) with PYTHONPATH holding
build/python (the generated *_pb2 modules) and clients/python, and POLIS_BIN
the `polis` binary. Without python3-zmq / python3-protobuf this file FAILS
with a message saying which Debian packages to install.

Classes:
  FramingTest         frames and batches, no processes.
  ClusterTest         NULL security: call, cast, send, describe, JSON, the
                      other node, traces, and NOT_FOUND, INVALID_ARGUMENT,
                      ALREADY_EXISTS, INTERNAL, ABORTED (a stopping node),
                      DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE.
  CurveTest           CURVE: the same calls over keys, PERMISSION_DENIED
                      (limited key, supervisor, ZAP refusal),
                      UNAUTHENTICATED (wrong server key).
  FakeNodeTest        a ROUTER in the test plays the node: batches, a stray
                      reply, an error with details.
  SmallLimitTest      a node with max_message_bytes: 1000 (told in its
                      Hello; what a client that ignores it meets).
  WireFixTest         what issue 16 changed in the node: refusals with a
                      ref answered (INVALID_ARGUMENT, FAILED_PRECONDITION,
                      DATA_LOSS among them), a Hello of another
                      version answered, NOT_FOUND saying where a name is,
                      trace context whole or none, reply types in describe.
"""

import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

MISSING = None
try:
    import zmq  # noqa: F401
    import google.protobuf  # noqa: F401
except ImportError as e:  # A failure, not a skip: CI must install them.
    MISSING = (f"{e}: the Python client test needs Debian's python3-zmq and python3-protobuf "
               f"(run tools/dev.sh test, or apt-get install python3-zmq python3-protobuf) "
               f"under {sys.executable}")

if MISSING is None:
    from examples import examples_pb2 as ex
    from polis import envelope_pb2 as wire
    from polis_client import Client, Code, PolisError
    from polis_client import connection as connection_module
    from polis_client.dynamic import Types
    from polis_client.framing import (FramingError, decode_message, encode_batch,
                                      encode_frame)

POLIS = os.environ.get("POLIS_BIN", "")
START_TIMEOUT = 20.0


class MissingPackagesTest(unittest.TestCase):
    def test_python_packages_are_installed(self):
        self.assertIsNone(MISSING, MISSING)
        self.assertTrue(os.access(POLIS, os.X_OK), f"POLIS_BIN={POLIS!r} is not the polis binary")


class Node:
    """A `polis node` process; `endpoint` is read from its ready line."""

    def __init__(self, name, args, workdir):
        self.name = name
        self.log_path = os.path.join(workdir, f"{name}.log")
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [POLIS, "node", f"--name={name}", "--listen=tcp://127.0.0.1:*", "--threads=2"] + args,
            stdout=subprocess.PIPE, stderr=self._log, text=True)
        self.endpoint = None
        deadline = time.monotonic() + START_TIMEOUT
        line = ""
        while self.endpoint is None:
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                self.stop()
                raise AssertionError(f"node {name} did not start: {line!r}; "
                                     f"{open(self.log_path).read()[-2000:]}")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                line = self.proc.stdout.readline()
                prefix = f"node {name} listening on "
                if line.startswith(prefix):
                    self.endpoint = line[len(prefix):].strip()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self._log.close()


def keygen(workdir, name):
    subprocess.run([POLIS, "keygen", f"--out={os.path.join(workdir, name)}"], check=True,
                   capture_output=True, timeout=20)
    with open(os.path.join(workdir, name + ".pub")) as f:
        return f.read().strip()


def counter(**op):
    return ex.CounterRequest(**op)


GET = {"get": {}}


class ClusterBase(unittest.TestCase):
    """Starts a and b (b seeded with a), and waits until a's view lists both."""

    curve = False
    nodes = []

    @classmethod
    def setUpClass(cls):
        if MISSING is not None:
            raise unittest.SkipTest("covered by MissingPackagesTest")  # that test fails
        cls.dir = tempfile.mkdtemp(prefix="polis-pyclient-")
        cls.nodes = []
        a_conf = os.path.join(cls.dir, "a.conf")
        with open(a_conf, "w") as f:
            f.write('serve { kind: "counter" name: "counter" }\n'
                    'serve { kind: "kv" name: "kv" }\n'
                    'serve { kind: "counter" name: "tiny" max_mailbox: 2 }\n')
        extra_a, extra_b = [f"--config={a_conf}"], ["--serve=echo,counter:counter2"]
        if cls.curve:
            cls.keys = {n: keygen(cls.dir, n) for n in
                        ("node_a", "node_b", "client", "limited", "stranger")}
            with open(os.path.join(cls.dir, "authorized_keys"), "w") as f:
                f.write(f"node {cls.keys['node_a']} a\n"
                        f"node {cls.keys['node_b']} b\n"
                        f"client {cls.keys['client']} any name\n"
                        f"client {cls.keys['limited']} names=counter* counters only\n")
            auth = f"--authorized-keys={cls.dir}/authorized_keys"
            extra_a += [f"--key={cls.dir}/node_a.key", auth]
            extra_b += [f"--key={cls.dir}/node_b.key", auth]
        try:
            cls.a = Node("a", extra_a, cls.dir)
            cls.nodes.append(cls.a)
            seed = cls.a.endpoint + (f"@{cls.dir}/node_a.pub" if cls.curve else "")
            cls.b = Node("b", extra_b + [f"--seed={seed}"], cls.dir)
            cls.nodes.append(cls.b)
            cls.client = cls.make_client()
            cls.client.wait_view(lambda nodes: any(
                n.node == "b" and {"echo", "counter2"} <= {x.name for x in n.names}
                for n in nodes), timeout=START_TIMEOUT)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def make_client(cls, who="client", **kw):
        if not cls.curve:
            return Client(cls.a.endpoint, **kw)
        return Client(cls.a.endpoint, key=f"{cls.dir}/{who}.key",
                      server_key=f"{cls.dir}/node_a.pub", **kw)

    @classmethod
    def tearDownClass(cls):
        c = getattr(cls, "client", None)
        if c is not None:
            c.close()
        for n in cls.nodes:
            n.stop()
        shutil.rmtree(getattr(cls, "dir", ""), ignore_errors=True)

    def assertCode(self, code, fn, local=None, message=None):
        with self.assertRaises(PolisError) as cm:
            fn()
        e = cm.exception
        self.assertEqual(e.code, code, f"{e!r}")
        if local is not None:
            self.assertEqual(e.local, local, f"{e!r}")
        if message is not None:
            self.assertIn(message, e.message)
        return e


class FramingTest(unittest.TestCase):
    def setUp(self):
        if MISSING is not None:
            self.fail(MISSING)

    def test_a_frame_is_the_8_byte_header_then_the_body(self):
        self.assertEqual(encode_frame(b"xyz"), b"PL\x01\x00\x03\x00\x00\x00xyz")
        self.assertEqual(encode_frame(b""), b"PL\x01\x00\x00\x00\x00\x00")

    def test_a_batch_sets_followed_on_every_frame_but_the_last(self):
        msg = encode_batch([b"a", b"", b"bc"])
        self.assertEqual(msg, b"PL\x01\x01\x01\x00\x00\x00a" b"PL\x01\x01\x00\x00\x00\x00"
                              b"PL\x01\x00\x02\x00\x00\x00bc")
        self.assertEqual(decode_message(msg), [b"a", b"", b"bc"])

    def test_bad_framing_is_refused(self):
        for bad in (b"PL\x01\x00", b"XL\x01\x00\x00\x00\x00\x00", b"PL\x02\x00\x00\x00\x00\x00",
                    b"PL\x01\x02\x00\x00\x00\x00", b"PL\x01\x00\x05\x00\x00\x00ab",
                    b"PL\x01\x00\x00\x00\x00\x00extra", b"PL\x01\x01\x00\x00\x00\x00"):
            with self.assertRaises(FramingError, msg=bad):
                decode_message(bad)


class FakeNodeTest(unittest.TestCase):
    """A ROUTER in this process plays the node: what the client must accept."""

    def setUp(self):
        if MISSING is not None:
            self.fail(MISSING)
        self.ctx = zmq.Context()
        self.router = self.ctx.socket(zmq.ROUTER)
        self.router.setsockopt(zmq.LINGER, 0)
        self.router.bind("tcp://127.0.0.1:*")
        self.endpoint = self.router.getsockopt(zmq.LAST_ENDPOINT).decode()

    def tearDown(self):
        self.router.close(linger=0)
        self.ctx.term()

    def _read(self):
        self.assertTrue(self.router.poll(10_000), "the client sent nothing")
        routing_id, data = self.router.recv_multipart()
        (body,) = decode_message(data)
        return routing_id, wire.Envelope.FromString(body)

    def test_a_batch_holding_the_view_a_stray_reply_and_an_error_with_details(self):
        with Client(self.endpoint, name="py") as c:
            result = {}

            def call():
                try:
                    result["reply"] = c.call("svc", counter(**GET), timeout=10)
                except PolisError as e:
                    result["error"] = e

            th = threading.Thread(target=call)
            th.start()
            rid, hello_env = self._read()
            hello = wire.Hello.FromString(hello_env.payload)
            self.assertEqual((hello.client, hello.wire_version, hello.node), (True, 1, "py"))
            answer = wire.Hello(node="fake", incarnation=1, wire_version=1, endpoint=self.endpoint)
            entry = answer.view.add(node="fake", endpoint=self.endpoint, incarnation=1)
            entry.names.add(name="svc", pid=7)
            self.router.send_multipart([rid, encode_frame(wire.Envelope(
                version=1, kind=wire.KIND_SYSTEM, type="polis.wire.Hello",
                payload=answer.SerializeToString()).SerializeToString())])
            rid, call = self._read()
            self.assertEqual(call.kind, wire.KIND_CALL)
            self.assertEqual(call.recipient.name, "svc")
            self.assertEqual(call.reply_to.node, "py")
            self.assertNotEqual(call.ref, 0)
            self.assertGreater(call.timeout_us, 9_000_000)
            self.assertAlmostEqual(call.deadline_unix_us / 1e6, time.time() + 10, delta=2)
            stray = wire.Envelope(version=1, kind=wire.KIND_REPLY, ref=call.ref + 1, status_code=5)
            error = wire.Envelope(version=1, kind=wire.KIND_REPLY, ref=call.ref, status_code=9,
                                  status_message="insufficient funds")
            error.status_details.add(type_url="type.googleapis.com/polis.examples.KvKey",
                                     value=ex.KvKey(key="acct").SerializeToString())
            self.router.send_multipart([rid, encode_batch(
                [stray.SerializeToString(), error.SerializeToString()])])
            th.join(10)
            e = result["error"]
            self.assertEqual(e.code, Code.FAILED_PRECONDITION)
            self.assertEqual(e.message, "insufficient funds")
            self.assertFalse(e.local)
            self.assertEqual(len(e.details), 1)
            detail = ex.KvKey()
            self.assertTrue(e.details[0].Unpack(detail))
            self.assertEqual(detail.key, "acct")


class ClusterTest(ClusterBase):
    """NULL security (no keys): nodes listen on loopback only."""

    def test_call_returns_the_typed_reply(self):
        r = self.client.call("counter", counter(add=0), ex.CounterReply)
        self.assertIsInstance(r, ex.CounterReply)
        # Without reply_type the registered class of the reply's type is used.
        self.assertIsInstance(self.client.call("counter", counter(**GET)), ex.CounterReply)

    def test_cast_then_a_call_shows_its_effect(self):
        before = self.client.call("counter2", counter(**GET), ex.CounterReply).value
        self.client.cast("counter2", counter(add=5))
        # One connection, in order: the call is handled after the cast.
        after = self.client.call("counter2", counter(**GET), ex.CounterReply).value
        self.assertEqual(after, before + 5)

    def test_send_is_handled_as_an_info(self):
        before = self.client.call("counter", counter(**GET), ex.CounterReply).value
        self.client.send("counter", counter(add=3))  # Counter::OnInfo applies it
        after = self.client.call("counter", counter(**GET), ex.CounterReply).value
        self.assertEqual(after, before + 3)

    def test_describe_gives_types_and_a_descriptor_set_that_builds_requests(self):
        d = self.client.describe("counter")
        self.assertEqual(d.name, "counter")
        self.assertEqual(d.kind, "counter")
        self.assertEqual(list(d.call_types), ["polis.examples.CounterRequest"])
        self.assertEqual(list(d.cast_types), ["polis.examples.CounterRequest"])
        self.assertEqual(list(d.info_types), ["polis.examples.CounterRequest"])
        types = Types(d)  # a pool built from the set alone, not from examples_pb2
        req = types.message_class("polis.examples.CounterRequest")(add=7)
        reply = self.client.call_raw("counter", "polis.examples.CounterRequest",
                                     req.SerializeToString())
        self.assertEqual(reply.type, "polis.examples.CounterReply")
        self.assertIn('"value"', types.to_json(reply.type, reply.payload))
        echo = self.client.describe("echo")  # on b
        self.assertTrue(echo.accepts_any_call)

    def test_a_name_on_the_other_node_is_reached_through_the_view(self):
        self.assertEqual(self.client.where("echo"), "b")
        self.assertEqual(self.client.where("counter"), "a")
        e = ex.KvEntry(key="k", value="from python")
        self.assertEqual(self.client.call("echo", e, ex.KvEntry), e)
        names = {n.node: {x.name for x in n.names} for n in self.client.nodes()}
        self.assertIn("echo", names["b"])
        self.assertIn("counter", names["a"])
        self.assertEqual(self.client.nodes()[0].node, "a")  # the seed's own entry first

    def test_dynamic_json_call(self):
        self.client.call_json("kv", '{"put": {"key": "j", "value": "son"}}')
        self.assertEqual(json.loads(self.client.call_json("kv", '{"get": {"key": "j"}}'))["value"],
                         "son")
        self.assertIn('"value"', self.client.call_json("counter2", '{"add": 1}'))
        self.assertCode(Code.INVALID_ARGUMENT, lambda: self.client.call_json("kv", '{"nope": 1}'),
                        local=True)

    def test_a_traced_call_gets_a_reply_in_its_trace(self):
        r = self.client.call_reply("counter", counter(**GET), trace=True)
        self.assertEqual(len(r.trace_id), 16)
        self.assertNotEqual(r.span_id, 0)
        self.assertNotEqual(r.parent_span_id, 0)  # the handler's span
        self.assertEqual(r.trace_flags & 1, 1)
        self.assertRegex(r.traceparent(), r"^00-[0-9a-f]{32}-[0-9a-f]{16}-01$")
        # The node recorded the handler's span under our trace id, with the
        # span id we sent (the reply's parent): `polis trace` shows it.
        deadline = time.monotonic() + 10
        while True:
            out = subprocess.run([POLIS, "trace", f"--seed={self.a.endpoint}", "--json",
                                  r.trace_id.hex()], capture_output=True, text=True, timeout=20)
            spans = json.loads(out.stdout).get("spans", []) if out.returncode == 0 else []
            if spans or time.monotonic() > deadline:
                break
        self.assertIn((f"{r.parent_span_id:016x}", "a", "counter", "call"),
                      [(x["span_id"], x["node"], x["server"], x["kind"]) for x in spans], out)
        # A second traced call starts another trace.
        self.assertNotEqual(self.client.call_reply("counter", counter(**GET), trace=True).trace_id,
                            r.trace_id)

    def test_not_found_for_an_unknown_name(self):
        self.assertCode(Code.NOT_FOUND, lambda: self.client.call("no-such", counter(**GET)),
                        local=False, message="no-such")
        self.assertCode(Code.NOT_FOUND, lambda: self.client.describe("no-such"), local=False)

    def test_invalid_argument_for_a_type_the_server_does_not_take(self):
        self.assertCode(Code.INVALID_ARGUMENT, lambda: self.client.call("counter", ex.KvRequest()),
                        local=False, message="does not accept")

    def test_invalid_argument_for_payload_bytes_that_do_not_parse(self):
        self.assertCode(Code.INVALID_ARGUMENT, lambda: self.client.call_raw(
            "counter", "polis.examples.CounterRequest", b"\xff\xff\xff"), local=False)

    def test_invalid_argument_from_the_handler(self):
        self.assertCode(Code.INVALID_ARGUMENT, lambda: self.client.call("counter", counter()),
                        local=False, message="no op set")
        self.assertCode(Code.INVALID_ARGUMENT, lambda: self.client.call(
            "counter", counter(slow_add=ex.SlowAdd(n=1, sleep_us=-1))), local=False)

    def test_not_found_from_a_handler_is_not_the_runtime_s(self):
        self.assertCode(Code.NOT_FOUND, lambda: self.client.call(
            "kv", ex.KvRequest(get=ex.KvKey(key="never-put"))), local=False,
            message='no key "never-put"')

    def test_internal_when_the_handler_throws_and_the_supervisor_restarts_it(self):
        self.assertCode(Code.INTERNAL, lambda: self.client.call("counter2", counter(crash={})),
                        local=False, message="threw")
        # Restarted with fresh state by b's root supervisor; until the new
        # process has registered the name, a call may be NOT_FOUND.
        deadline = time.monotonic() + 10
        while True:
            try:
                self.assertEqual(self.client.call("counter2", counter(**GET), ex.CounterReply),
                                 ex.CounterReply(value=0))
                break
            except PolisError as e:
                if e.code != Code.NOT_FOUND or time.monotonic() > deadline:
                    raise

    def test_a_dynamic_call_to_a_supervisor_without_keys(self):
        # NULL security has no roles: a client may ask a node's root.
        d = self.client.describe("root@a")
        self.assertEqual(d.kind, "supervisor")
        children = json.loads(self.client.call_json("root@a", '{"which_children": {}}'))
        ids = {c["id"] for c in children["children"]["children"]}
        self.assertTrue({"counter", "kv", "tiny"} <= ids, ids)

    def test_already_exists_when_a_supervisor_is_asked_for_a_child_id_it_has(self):
        self.assertCode(Code.ALREADY_EXISTS, lambda: self.client.call_json(
            "root@a", '{"start_child": {"id": "counter", "kind": "counter"}}'),
            local=False, message="counter")

    def test_deadline_exceeded_is_raised_by_the_client_and_the_server_goes_on(self):
        before = self.client.call("counter2", counter(**GET), ex.CounterReply).value
        t = time.monotonic()
        self.assertCode(Code.DEADLINE_EXCEEDED, lambda: self.client.call(
            "counter2", counter(slow_add=ex.SlowAdd(n=1, sleep_us=1_500_000)), timeout=0.4),
            local=True)
        self.assertLess(time.monotonic() - t, 1.2)  # its deadline, not the 1.5 s handler
        # The handler started before the deadline, so it ran to the end; its
        # late reply is dropped by the client, the next call is answered.
        self.assertEqual(self.client.call("counter2", counter(**GET), ex.CounterReply).value,
                         before + 1)

    def test_resource_exhausted_when_the_mailbox_is_full(self):
        # One batch: a slow cast that holds `tiny` (max_mailbox 2) 300 ms,
        # three casts that fill its mailbox, then a call: refused at once.
        c = self.client
        conn = c._connection_for("tiny", time.monotonic() + 5)

        def env(kind, req, ref=0):
            e = wire.Envelope(version=1, kind=kind, type=req.DESCRIPTOR.full_name,
                              payload=req.SerializeToString(), ref=ref)
            e.sender.node = c.name
            e.recipient.name = "tiny"
            if ref:
                e.reply_to.node = c.name
                e.timeout_us = 5_000_000
            return e.SerializeToString()

        slow = counter(slow_add=ex.SlowAdd(n=1, sleep_us=300_000))
        conn.send(encode_batch([env(wire.KIND_CAST, slow)] + [env(wire.KIND_CAST, counter(add=1))] * 3
                               + [env(wire.KIND_CALL, counter(**GET), ref=4242)]))
        e = self.assertCode(Code.RESOURCE_EXHAUSTED,
                            lambda: c._await(conn, 4242, time.monotonic() + 5), local=False)
        self.assertIn("mailbox full", e.message)
        # Then the server works again: slow_add and what fitted were applied.
        v = c.call("tiny", counter(**GET), ex.CounterReply, timeout=5).value
        self.assertGreaterEqual(v, 2)

    def test_resource_exhausted_locally_for_an_envelope_over_the_client_limit(self):
        with self.make_client(max_message_bytes=1000) as small:
            self.assertCode(Code.RESOURCE_EXHAUSTED, lambda: small.call(
                "echo", ex.KvEntry(key="x" * 2000)), local=True)

    def test_unavailable_when_the_called_node_is_killed(self):
        self._pending_call_on_a_node_that(signal.SIGKILL, Code.UNAVAILABLE)

    def test_a_node_stopped_with_sigterm_answers_or_fails_the_pending_call_at_once(self):
        # A handler already running is finished and answered; a call read
        # after the node stopped its servers is answered NOT_FOUND (ABORTED
        # if it was queued when the server stopped); one not
        # read yet is lost with the connection (UNAVAILABLE). Which one this
        # call is depends on when the node read it: any is right, waiting
        # for the deadline is not.
        self._pending_call_on_a_node_that(signal.SIGTERM, None)

    def _pending_call_on_a_node_that(self, sig, code):
        n = Node(f"k{int(sig)}", ["--serve=counter:victim"], self.dir)
        try:
            with Client(n.endpoint, connect_timeout=0.5) as c:
                c.call("victim", counter(**GET))
                waiting = threading.Event()
                original = connection_module.Connection.wait

                def wait(conn, deadline):  # marks the call as sent and pending
                    waiting.set()
                    return original(conn, deadline)

                out = {}

                def run():
                    t = time.monotonic()
                    try:
                        out["reply"] = c.call("victim",
                                              counter(slow_add=ex.SlowAdd(n=1, sleep_us=300_000)),
                                              ex.CounterReply, timeout=10)
                    except PolisError as e:
                        out["error"] = e
                    out["seconds"] = time.monotonic() - t

                connection_module.Connection.wait = wait
                try:
                    th = threading.Thread(target=run)
                    th.start()
                    self.assertTrue(waiting.wait(10))
                finally:
                    connection_module.Connection.wait = original
                n.proc.send_signal(sig)
                th.join(15)
                self.assertFalse(th.is_alive())
                print(f"\n  figure: {sig.name} during a pending call: "
                      f"{out.get('error') or 'reply'} after {out['seconds']:.3f} s", file=sys.stderr)
                self.assertLess(out["seconds"], 8)  # not the 10 s deadline
                if code is None:
                    if "error" in out:
                        # Lost with the connection, or refused by the node
                        # once its servers had stopped (NOT_FOUND), or
                        # queued when the server stopped (ABORTED).
                        self.assertIn(out["error"].code,
                                      (Code.UNAVAILABLE, Code.NOT_FOUND, Code.ABORTED), out)
                    else:
                        self.assertEqual(out["reply"], ex.CounterReply(value=1), out)
                else:
                    self.assertEqual(out["error"].code, code, out)
                    self.assertTrue(out["error"].local)
                    # The next call finds the node gone: a fresh connection
                    # that never completes a handshake.
                    self.assertCode(Code.UNAVAILABLE, lambda: c.call("victim", counter(**GET)),
                                    local=True)
        finally:
            n.stop()


class SmallLimitTest(ClusterBase):
    """A node with max_message_bytes: 1000 (node s, alone)."""

    @classmethod
    def setUpClass(cls):
        if MISSING is not None:
            raise unittest.SkipTest("covered by MissingPackagesTest")
        cls.dir = tempfile.mkdtemp(prefix="polis-pyclient-")
        conf = os.path.join(cls.dir, "s.conf")
        with open(conf, "w") as f:
            f.write('max_message_bytes: 1000\nserve { kind: "kv" name: "kv" }\n'
                    'serve { kind: "echo" name: "echo" }\n')
        cls.nodes = []
        try:
            cls.s = Node("s", [f"--config={conf}"], cls.dir)
            cls.nodes.append(cls.s)
            cls.client = Client(cls.s.endpoint)
        except BaseException:
            cls.tearDownClass()
            raise

    def test_a_reply_over_the_node_limit_is_resource_exhausted(self):
        self.client.call("kv", ex.KvRequest(put=ex.KvEntry(key="a" * 600)))
        self.client.call("kv", ex.KvRequest(put=ex.KvEntry(key="b" * 600)))
        self.assertCode(Code.RESOURCE_EXHAUSTED, lambda: self.client.call(
            "kv", ex.KvRequest(list={})), local=False, message="over the limit")

    def test_the_node_tells_its_limit_and_the_client_refuses_larger_requests(self):
        self.assertEqual([n.node for n in self.client.nodes()], ["s"])
        self.assertEqual(self.client._view.max_message_bytes, 1000)
        self.assertCode(Code.RESOURCE_EXHAUSTED, lambda: self.client.call(
            "echo", ex.KvEntry(key="x" * 2000), timeout=0.5), local=True,
            message="over node s's limit of 1000 bytes")
        self.assertEqual(self.client.call("echo", ex.KvEntry(key="y"), ex.KvEntry).key, "y")

    def raw_call(self, sock, ref, key):
        env = wire.Envelope(kind=wire.KIND_CALL, type="polis.examples.KvEntry",
                            payload=ex.KvEntry(key=key).SerializeToString(), ref=ref,
                            timeout_us=2_000_000)
        env.recipient.name = "echo"
        env.reply_to.node = "raw"
        sock.send(encode_frame(env.SerializeToString()))

    def test_a_request_over_the_node_limit_gets_no_reply(self):
        # What a client that ignores the told limit meets. Between the limit
        # and 32 KiB: the node drops the frame (bad input, no reply: the
        # envelope is never parsed, so there is no ref to answer); the next
        # call on the same connection is answered.
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        try:
            sock.connect(self.s.endpoint)
            self.raw_call(sock, 11, "x" * 2000)
            self.raw_call(sock, 12, "y")
            self.assertTrue(sock.poll(5000), "the small call was not answered")
            refs = [wire.Envelope.FromString(b).ref for b in decode_message(sock.recv())]
            self.assertEqual(refs, [12])
            self.assertFalse(sock.poll(300), "the oversized call was answered")
        finally:
            sock.close()

    def test_a_message_over_32_kib_closes_the_connection(self):
        # libzmq's ZMQ_MAXMSGSIZE: the node drops the connection. A raw
        # DEALER sends it (the client itself refuses it: the node told its
        # limit); the client's own connection is not affected.
        ctx = zmq.Context.instance()
        sock = ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        events = sock.get_monitor_socket(zmq.EVENT_DISCONNECTED | zmq.EVENT_HANDSHAKE_SUCCEEDED)
        try:
            sock.connect(self.s.endpoint)
            self.raw_call(sock, 21, "x" * 40000)
            seen = []
            deadline = time.monotonic() + 5
            while zmq.EVENT_DISCONNECTED not in seen and time.monotonic() < deadline:
                if events.poll(int((deadline - time.monotonic()) * 1000) + 1):
                    seen.append(zmq.utils.monitor.recv_monitor_message(events)["event"])
            self.assertIn(zmq.EVENT_DISCONNECTED, seen, "the node kept the connection")
        finally:
            sock.disable_monitor()
            events.close()
            sock.close()
        self.assertEqual(self.client.call("echo", ex.KvEntry(key="y"), ex.KvEntry).key, "y")


class CurveTest(ClusterBase):
    """CURVE: nodes with --key/--authorized-keys; clients with key files."""

    curve = True

    def test_calls_casts_and_describe_over_curve_on_both_nodes(self):
        before = self.client.call("counter", counter(**GET), ex.CounterReply).value
        self.client.cast("counter", counter(add=2))
        self.assertEqual(self.client.call("counter", counter(**GET), ex.CounterReply).value,
                         before + 2)
        # b's key came from a's view (NodeEntry.public_key).
        self.assertEqual(self.client.where("echo"), "b")
        self.assertEqual(self.client.call("echo", ex.KvEntry(key="c"), ex.KvEntry).key, "c")
        self.assertEqual(self.client.describe("counter2").kind, "counter")
        keys = {n.node: n.public_key for n in self.client.nodes()}
        self.assertEqual(keys, {"a": self.keys["node_a"], "b": self.keys["node_b"]})

    def test_a_limited_key_reaches_counters_only(self):
        with self.make_client("limited") as c:
            self.assertIsInstance(c.call("counter2", counter(**GET)), ex.CounterReply)
            self.assertCode(Code.PERMISSION_DENIED, lambda: c.call("kv", ex.KvRequest(list={})),
                            local=False, message="may not reach")
            self.assertCode(Code.PERMISSION_DENIED, lambda: c.describe("kv"), local=False)

    def test_a_client_key_may_not_call_a_supervisor(self):
        self.assertCode(Code.PERMISSION_DENIED, lambda: self.client.call("root@a", counter()),
                        local=False, message="supervisor")

    def test_a_client_key_may_not_ask_for_node_info(self):
        env = wire.Envelope(version=1, kind=wire.KIND_SYSTEM,
                            type=wire.NodeInfoRequest.DESCRIPTOR.full_name)
        env.sender.node = self.client.name
        self.assertCode(Code.PERMISSION_DENIED, lambda: self.client._request("", env, 5),
                        local=False, message="admin or node only")

    def test_an_unknown_key_is_refused_at_the_handshake(self):
        with self.make_client("stranger", connect_timeout=5) as c:
            t = time.monotonic()
            self.assertCode(Code.PERMISSION_DENIED, lambda: c.call("counter", counter(**GET)),
                            local=True, message="not authorized")
            print(f"\n  figure: ZAP refusal seen after {time.monotonic() - t:.3f} s",
                  file=sys.stderr)

    def test_a_wrong_server_key_is_unauthenticated(self):
        with Client(self.a.endpoint, key=f"{self.dir}/client.key",
                    server_key=f"{self.dir}/node_b.pub", connect_timeout=5) as c:
            self.assertCode(Code.UNAUTHENTICATED, lambda: c.nodes(), local=True)

    def test_a_node_that_dies_mid_handshake_is_unavailable_not_a_key_error(self):
        # A raw listener takes the connection, reads the client's first bytes
        # and closes both sockets, as a node killed in the handshake would; a
        # wrong server key also closes it, but the reconnection tells them apart.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        port = listener.getsockname()[1]

        def die_mid_handshake():
            conn, _ = listener.accept()
            conn.recv(64)
            conn.close()
            listener.close()

        dying = threading.Thread(target=die_mid_handshake)
        dying.start()
        try:
            with Client(f"tcp://127.0.0.1:{port}", key=f"{self.dir}/client.key",
                        server_key=f"{self.dir}/node_b.pub", connect_timeout=5) as c:
                self.assertCode(Code.UNAVAILABLE, lambda: c.nodes(), local=True,
                                message="during the handshake")
        finally:
            dying.join(timeout=10)

    def test_a_null_client_cannot_reach_a_curve_node(self):
        # libzmq reports a ZMTP mechanism mismatch (UNAUTHENTICATED) or, when
        # the node closed first, an EPIPE (UNAVAILABLE): either, at once.
        with Client(self.a.endpoint, connect_timeout=5) as c:
            t = time.monotonic()
            with self.assertRaises(PolisError) as cm:
                c.nodes()
            e = cm.exception
            self.assertIn(e.code, (Code.UNAUTHENTICATED, Code.UNAVAILABLE), repr(e))
            self.assertTrue(e.local)
            self.assertIn("handshake", e.message)
            self.assertLess(time.monotonic() - t, 2.5)  # not the 5 s connect timeout
            print(f"\n  figure: NULL client to a CURVE node: {e}", file=sys.stderr)


class WireFixTest(ClusterBase):
    """Issue 16's changes to the node: what a bare client meets."""

    def _raw(self, envelope, timeout=2.0):
        """Sends `envelope` to a on a fresh DEALER; returns the envelopes that
        come back until the first one, or [] after `timeout`."""
        conn = connection_module.Connection(self.client._ctx, self.a.endpoint)
        try:
            conn.send(encode_frame(envelope.SerializeToString()))
            return [wire.Envelope.FromString(b) for b in conn.wait(time.monotonic() + timeout)]
        finally:
            conn.close()

    def _request(self, kind, type_name="polis.examples.CounterRequest", name="counter"):
        e = wire.Envelope(version=1, kind=kind, type=type_name, ref=99, timeout_us=2_000_000,
                          payload=counter(**GET).SerializeToString())
        e.sender.node = "raw"
        e.reply_to.node = "raw"
        e.recipient.name = name
        return e

    def assertRefusedWithReply(self, envelope, code):
        got = self._raw(envelope)
        self.assertEqual(len(got), 1, "no reply: the refusal was silent")
        self.assertEqual(got[0].kind, wire.KIND_REPLY)
        self.assertEqual(got[0].ref, 99)
        self.assertEqual(got[0].status_code, code, got[0].status_message)

    def test_kind_unspecified_with_a_ref_is_answered_invalid_argument(self):
        self.assertRefusedWithReply(self._request(wire.KIND_UNSPECIFIED), Code.INVALID_ARGUMENT)

    def test_an_unknown_kind_with_a_ref_is_answered(self):
        self.assertRefusedWithReply(self._request(9), Code.INVALID_ARGUMENT)

    def test_an_unknown_system_type_with_a_ref_is_answered(self):
        self.assertRefusedWithReply(self._request(wire.KIND_SYSTEM, "polis.wire.NoSuchThing"),
                                    Code.INVALID_ARGUMENT)

    def test_a_monitor_request_for_a_watcher_on_no_member_is_failed_precondition(self):
        req = wire.MonitorRequest(ref=5)
        req.watcher.node, req.watcher.pid = "ghost", 1
        req.target.name = "counter"
        e = self._request(wire.KIND_SYSTEM, "polis.wire.MonitorRequest")
        e.payload = req.SerializeToString()
        e.recipient.Clear()
        self.assertRefusedWithReply(e, Code.FAILED_PRECONDITION)

    def test_a_membership_message_that_does_not_parse_is_data_loss(self):
        e = self._request(wire.KIND_SYSTEM, "polis.wire.NamesChanged")
        e.payload = b"\xff\xff\xff"
        e.recipient.Clear()
        self.assertRefusedWithReply(e, Code.DATA_LOSS)

    def test_a_hello_of_another_wire_version_gets_a_version_1_hello(self):
        hello = wire.Hello(node="future", incarnation=5, wire_version=2, client=True,
                           reply_requested=True)
        e = wire.Envelope(version=1, kind=wire.KIND_SYSTEM, type="polis.wire.Hello",
                          payload=hello.SerializeToString())
        got = self._raw(e)
        self.assertEqual(len(got), 1, "no answer to a Hello of wire version 2")
        answer = wire.Hello.FromString(got[0].payload)
        self.assertEqual(answer.node, "a")
        self.assertNotEqual(answer.incarnation, 0)
        self.assertEqual(answer.wire_version, 1)
        only = wire.Hello(node=answer.node, incarnation=answer.incarnation, wire_version=1)
        self.assertEqual(answer, only, "the answer holds more than node, incarnation, version")

    def test_not_found_for_a_name_on_another_node_says_where_it_is(self):
        got = self._raw(self._request(wire.KIND_CALL, "polis.examples.KvEntry", "echo"))
        self.assertEqual(len(got), 1)
        self.assertEqual(got[0].status_code, Code.NOT_FOUND)
        self.assertIn(f"it is on node b ({self.b.endpoint})", got[0].status_message)

    def test_a_reply_carries_a_whole_trace_context_or_none(self):
        # An untraced call that reaches a server gets a trace from the node
        # (its sampler): the reply carries all of it, a valid W3C context.
        r = self.client.call_reply("counter", counter(**GET))
        self.assertEqual(len(r.trace_id), 16)
        self.assertNotEqual(r.span_id, 0)
        self.assertNotEqual(r.parent_span_id, 0)
        self.assertIsNotNone(r.traceparent())
        # A reply the runtime gives without a process (describe, a refusal)
        # to an untraced request carries no trace context at all.
        env = wire.Envelope(version=1, kind=wire.KIND_SYSTEM,
                            type=wire.DescribeRequest.DESCRIPTOR.full_name)
        env.sender.node = self.client.name
        env.recipient.name = "counter"
        d = self.client._request("counter", env, 5)
        self.assertEqual((d.trace_id, d.span_id, d.parent_span_id, d.trace_flags), (b"", 0, 0, 0))
        self.assertIsNone(d.traceparent())
        (refused,) = self._raw(self._request(wire.KIND_UNSPECIFIED))
        self.assertEqual((refused.trace_id, refused.span_id, refused.parent_span_id),
                         (b"", 0, 0))

    def test_describe_lists_reply_types(self):
        self.assertIn("calls", wire.ServerDescription.DESCRIPTOR.fields_by_name,
                      "ServerDescription has no `calls` (field 10) yet")
        d = self.client.describe("counter")
        calls = {c.request_type: list(c.reply_types) for c in d.calls}
        self.assertEqual(calls, {"polis.examples.CounterRequest": ["polis.examples.CounterReply"]})


if __name__ == "__main__":
    unittest.main()
