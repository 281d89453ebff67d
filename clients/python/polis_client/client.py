"""A polis client: calls, casts, infos and describe over ZeroMQ, from Python.

Speaks the wire contract of bus/WIRE.md and proto/polis/envelope.proto. The
Client greets one node (the seed) with a client Hello, keeps the view the
node answers with (every member and its names), and sends each message to
the node that hosts the name, on a DEALER of its own to that node's endpoint
(a node answers NOT_FOUND for a name that lives on another node: it does not
forward). The view is refreshed once when a call fails NOT_FOUND or
UNAVAILABLE, and the call sent again if it never reached a node or the name
moved.

Thread-safety: a Client is used by ONE thread (its ZeroMQ sockets are not
thread-safe); give each thread its own Client. There is no server side.

Example:
    from polis_client import Client
    from examples import examples_pb2 as ex
    with Client("tcp://127.0.0.1:7101") as c:
        print(c.call("counter", ex.CounterRequest(add=2), ex.CounterReply).value)
"""

import os
import random
import time

import zmq
from google.protobuf import any_pb2, symbol_database

from . import proto  # noqa: F401  (clear error if the generated modules are missing)
from .connection import Connection
from .dynamic import Types
from .errors import Code, PolisError
from .framing import WIRE_VERSION, encode_frame
from .keys import load_public_key, load_secret_key_file
from .view import View
from polis import envelope_pb2 as wire

DEFAULT_MAX_MESSAGE_BYTES = 64 << 20
_TYPE_URL_PREFIX = "type.googleapis.com/"


class Reply:
    """A successful reply: the decoded message and what the envelope carried.

    message:  the reply (an instance of reply_type, of the registered class
              of `type`, or a google.protobuf.Any when the type is unknown here).
    type, payload: the envelope's type name and payload bytes.
    trace_id (16 bytes or b""), span_id, parent_span_id, trace_flags: the
              reply's W3C trace context (traceparent() formats it).
    """

    def __init__(self, message, envelope):
        self.message = message
        self.type = envelope.type
        self.payload = envelope.payload
        self.trace_id = envelope.trace_id
        self.span_id = envelope.span_id
        self.parent_span_id = envelope.parent_span_id
        self.trace_flags = envelope.trace_flags

    def traceparent(self):
        """'00-TRACE-SPAN-FLAGS', or None when the reply carries no valid trace context."""
        if len(self.trace_id) != 16 or self.span_id == 0:
            return None
        return f"00-{self.trace_id.hex()}-{self.span_id:016x}-{self.trace_flags & 0xff:02x}"


def _random_u64():
    while True:
        v = random.SystemRandom().getrandbits(64)
        if v:
            return v


class Client:
    """A connection to a polis cluster through one seed node.

    endpoint:    the seed node ("tcp://HOST:PORT" or "ipc://PATH").
    key:         this client's secret key file (NAME.key from `polis keygen`)
                 for a cluster with CURVE on; None for NULL security.
    server_key:  the seed node's public key (NAME.pub file or Z85 text); other
                 nodes' keys come from the seed's view (NodeEntry.public_key).
    timeout:     default time a call waits for its reply, in seconds.
    name:        the node name this client gives in its Hello and in its
                 envelopes' sender/reply_to (default "py-<random>"): it must
                 not be a node's name.
    connect_timeout: a connection whose handshake has not completed by then
                 fails UNAVAILABLE (as polis's own client: 2 s).
    max_message_bytes: the largest envelope this client sends or accepts
                 (nodes default to 64 MiB); a larger request fails
                 RESOURCE_EXHAUSTED before anything is sent.
    """

    def __init__(self, endpoint, key=None, server_key=None, timeout=5.0, name=None,
                 connect_timeout=2.0, max_message_bytes=DEFAULT_MAX_MESSAGE_BYTES):
        if (key is None) != (server_key is None):
            raise PolisError(Code.INVALID_ARGUMENT, "key and server_key go together", local=True)
        self.seed = endpoint
        self.timeout = timeout
        self.name = name or f"py-{os.getpid()}-{_random_u64() & 0xffffff:06x}"
        self.incarnation = _random_u64()
        self.connect_timeout = connect_timeout
        self.max_message_bytes = max_message_bytes
        self._keys = load_secret_key_file(key) if key is not None else None
        self._seed_key = load_public_key(server_key) if server_key is not None else None
        self._ctx = zmq.Context()
        self._conns = {}   # endpoint -> Connection
        self._view = None  # View, from the seed's last Hello answer
        self._types = {}   # server name -> Types (call_json)

    # --- lifetime ---
    def close(self):
        """Closes every connection (pending replies are dropped)."""
        for c in self._conns.values():
            c.close()
        self._conns.clear()
        self._ctx.term()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # --- the API ---
    def call(self, name, request, reply_type=None, timeout=None, trace=False):
        """Calls the server registered as `name`; returns its reply message.

        reply_type: the reply's class (checked against the reply's type);
        None: the class registered for the reply's type name, or a
        google.protobuf.Any if none is. Raises PolisError: the node's status
        (NOT_FOUND, INVALID_ARGUMENT, PERMISSION_DENIED, RESOURCE_EXHAUSTED,
        whatever the handler returned, ...) or a local one: DEADLINE_EXCEEDED
        when no reply came in time (a node sends none for an expired call),
        UNAVAILABLE when the connection was lost, PERMISSION_DENIED /
        UNAUTHENTICATED when the CURVE handshake was refused.
        """
        return self.call_reply(name, request, reply_type, timeout, trace).message

    def call_reply(self, name, request, reply_type=None, timeout=None, trace=False):
        """As call(), but returns a Reply (message plus the reply's trace context)."""
        reply = self.call_raw(name, request.DESCRIPTOR.full_name, request.SerializeToString(),
                              timeout, trace)
        reply.message = self._decode(reply, reply_type)
        return reply

    def call_raw(self, name, type_name, payload, timeout=None, trace=False):
        """A call whose request is given as its type name and bytes; returns a
        Reply whose .message is None (decode .payload as .type yourself)."""
        env = self._envelope(wire.KIND_CALL, name, type_name, payload, trace)
        return self._request(name, env, timeout)

    def cast(self, name, message, trace=False):
        """Casts `message` to `name` (KIND_CAST, handled by the server's cast
        handler). Fire and forget: no reply, and no error from the node (a
        cast to an unknown name or a type the server does not take is dropped
        there). Raises only a local PolisError (view, connection, size)."""
        self._one_way(wire.KIND_CAST, name, message, trace)

    def send(self, name, message, trace=False):
        """Sends `message` to `name` as KIND_INFO (the server's info handler),
        like polis's Send. Fire and forget, as cast()."""
        self._one_way(wire.KIND_INFO, name, message, trace)

    def describe(self, name, timeout=None):
        """The ServerDescription of `name`: its call/cast/info types and the
        FileDescriptorSet of their .proto files. NOT_FOUND if no such name."""
        env = self._envelope(wire.KIND_SYSTEM, name, wire.DescribeRequest.DESCRIPTOR.full_name,
                             b"", False)
        reply = self._request(name, env, timeout)
        return wire.ServerDescription.FromString(reply.payload)

    def call_json(self, name, json_text, type=None, timeout=None):
        """Calls `name` with a request given as JSON, like `polis call`.

        The request type is `type` (full name), or the server's only call
        type; its definition comes from describe(). Returns the reply as JSON
        text. INVALID_ARGUMENT (local) for JSON that does not fit the type or
        an ambiguous type.
        """
        from google.protobuf import json_format
        types = self._types.get(name)
        if types is None:
            types = self._types[name] = Types(self.describe(name, timeout))
        d = types.description
        if type is None:
            if len(d.call_types) != 1:
                raise PolisError(Code.INVALID_ARGUMENT,
                                 f"\"{name}\" takes {len(d.call_types)} call types "
                                 f"({', '.join(d.call_types)}): say which", local=True)
            type = d.call_types[0]
        try:
            payload = types.from_json(type, json_text)
        except KeyError:
            raise PolisError(Code.INVALID_ARGUMENT, f"\"{name}\" does not describe type {type}",
                             local=True) from None
        except json_format.ParseError as e:
            raise PolisError(Code.INVALID_ARGUMENT, f"{type}: {e}", local=True) from None
        reply = self.call_raw(name, type, payload, timeout)
        try:
            return types.to_json(reply.type, reply.payload)
        except KeyError:
            return self._decode(reply, None)

    def nodes(self, timeout=None):
        """The seed's current view: a list of polis.wire.NodeEntry (name,
        endpoint, incarnation, names, public_key), the seed's own first."""
        self._refresh_view(self._deadline(timeout))
        return list(self._view.entries)

    def wait_view(self, predicate, timeout=None):
        """Waits until predicate(nodes) is true for the seed's view (a list of
        NodeEntry), subscribing to its changes (Hello.subscribe: the node
        sends the view again when it changes, at most every 100 ms); returns
        that view. DEADLINE_EXCEEDED (local) if it never holds in time."""
        deadline = self._deadline(timeout)
        self._refresh_view(deadline, subscribe=True)
        conn = self._conns[self.seed]
        while not predicate(list(self._view.entries)):
            for h in self._next_hellos(conn, deadline):
                self._take_view(h)
            if time.monotonic() >= deadline and not predicate(list(self._view.entries)):
                raise PolisError(Code.DEADLINE_EXCEEDED, "the view did not change as expected",
                                 local=True)
        return list(self._view.entries)

    def where(self, name):
        """The node hosting `name` in the last view (None if not in it)."""
        if self._view is None:
            self._refresh_view(self._deadline(None))
        entry = self._view.host_of(name)
        return entry.node if entry is not None else None

    # --- envelopes ---
    def _envelope(self, kind, name, type_name, payload, trace):
        env = wire.Envelope(version=WIRE_VERSION, kind=kind, type=type_name, payload=payload)
        env.sender.node = self.name
        env.recipient.name = name
        if trace:
            env.trace_id = os.urandom(16)
            env.span_id = _random_u64()
            env.trace_flags = 1
        return env

    def _one_way(self, kind, name, message, trace):
        env = self._envelope(kind, name, message.DESCRIPTOR.full_name,
                             message.SerializeToString(), trace)
        deadline = self._deadline(None)
        conn = self._connection_for(name, deadline)
        conn.send(self._frame(env))

    def _frame(self, env):
        body = env.SerializeToString()
        limit, whose = self.max_message_bytes, "this client's"
        # The node told its limit in its Hello: a larger request would be
        # dropped unanswered or close the connection (nodes of one cluster
        # share one limit, so the seed's stands for all).
        told = self._view.max_message_bytes if self._view is not None else 0
        if 0 < told < limit:
            limit, whose = told, f"node {self._view.node}'s"
        if len(body) > limit:
            raise PolisError(Code.RESOURCE_EXHAUSTED,
                             f"envelope of {len(body)} bytes is over {whose} limit of "
                             f"{limit} bytes", local=True)
        return encode_frame(body)

    def _deadline(self, timeout):
        return time.monotonic() + (self.timeout if timeout is None else timeout)

    def _request(self, name, env, timeout):
        """Sends a request that expects a REPLY (CALL, or SYSTEM with a ref) to
        the node hosting `name`; returns the Reply or raises PolisError."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        env.reply_to.node = self.name
        retried = False
        while True:
            conn = self._connection_for(name, deadline)
            env.ref = _random_u64()
            left = max(0.0, deadline - time.monotonic())
            env.timeout_us = max(1, int(left * 1e6))
            env.deadline_unix_us = int((time.time() + left) * 1e6)
            conn.send(self._frame(env))
            try:
                return self._await(conn, env.ref, deadline)
            except PolisError as e:
                if retried or e.code not in (Code.NOT_FOUND, Code.UNAVAILABLE):
                    raise
                retried = True
                delivered = not (e.local and not conn.up)
                if delivered and e.code == Code.UNAVAILABLE:
                    # It may have run: not sent again. The next call asks for
                    # a fresh view first (not now: the seed may be the lost node).
                    self._view = None
                    raise
                before = self._endpoint_of(name)
                try:
                    self._refresh_view(deadline)
                except PolisError:
                    raise e from None
                # Sent again only where it cannot run twice: it never reached a
                # node, or that node said the name is not there.
                if delivered and (e.code != Code.NOT_FOUND or self._endpoint_of(name) == before):
                    raise

    def _await(self, conn, ref, deadline):
        while True:
            try:
                bodies = conn.wait(deadline)
            except PolisError:
                self._drop(conn)
                raise
            for body in bodies:
                env = wire.Envelope.FromString(body)
                if env.kind == wire.KIND_REPLY and env.ref == ref:
                    if env.status_code != 0:
                        raise PolisError(env.status_code, env.status_message, env.status_details)
                    return Reply(None, env)
                if env.kind == wire.KIND_SYSTEM and env.type == wire.Hello.DESCRIPTOR.full_name:
                    self._take_view(wire.Hello.FromString(env.payload))
                # Anything else (a late reply to a call given up on) is dropped.
            if time.monotonic() >= deadline:
                raise PolisError(Code.DEADLINE_EXCEEDED,
                                 f"no reply from {conn.endpoint} in time", local=True)

    def _decode(self, reply, reply_type):
        if reply_type is not None:
            if reply.type != reply_type.DESCRIPTOR.full_name:
                raise PolisError(Code.INVALID_ARGUMENT,
                                 f"reply is a {reply.type or '(no type)'}, not a "
                                 f"{reply_type.DESCRIPTOR.full_name}", local=True)
            return reply_type.FromString(reply.payload)
        try:
            cls = symbol_database.Default().GetSymbol(reply.type)
            return cls.FromString(reply.payload)
        except KeyError:
            return any_pb2.Any(type_url=_TYPE_URL_PREFIX + reply.type, value=reply.payload)

    # --- connections and the view ---
    def _drop(self, conn):
        conn.close()
        for ep, c in list(self._conns.items()):
            if c is conn:
                del self._conns[ep]

    def _connection(self, endpoint, server_key):
        conn = self._conns.get(endpoint)
        if conn is not None and conn.read_events() is not None:
            self._drop(conn)  # Failed since its last use: open a new one.
            conn = None
        if conn is None:
            curve = None
            if self._keys is not None:
                if not server_key:
                    raise PolisError(Code.UNAUTHENTICATED,
                                     f"no CURVE key known for {endpoint} (not in the view)",
                                     local=True)
                curve = (self._keys[0], self._keys[1], server_key)
            conn = Connection(self._ctx, endpoint, curve, self.connect_timeout,
                              self.max_message_bytes)
            self._conns[endpoint] = conn
        return conn

    def _refresh_view(self, deadline, subscribe=False):
        # WIRE.md, "A client's part": client and wire_version are all a node
        # needs; the name and incarnation only show up in its logs.
        hello = wire.Hello(node=self.name, incarnation=self.incarnation, wire_version=WIRE_VERSION,
                           client=True, subscribe=subscribe)
        env = wire.Envelope(version=WIRE_VERSION, kind=wire.KIND_SYSTEM,
                            type=wire.Hello.DESCRIPTOR.full_name,
                            payload=hello.SerializeToString())
        env.sender.node = self.name
        conn = self._connection(self.seed, self._seed_key)
        conn.send(encode_frame(env.SerializeToString()))
        while True:
            for h in self._next_hellos(conn, deadline):
                if h.view:
                    self._take_view(h)
                    return
            if time.monotonic() >= deadline:
                raise PolisError(Code.DEADLINE_EXCEEDED,
                                 f"no Hello answer from {self.seed} in time", local=True)

    def _next_hellos(self, conn, deadline):
        """The Hellos among what `conn` reads next; on a failed connection it
        is dropped and the error raised."""
        try:
            bodies = conn.wait(deadline)
        except PolisError:
            self._drop(conn)
            raise
        hellos = []
        for body in bodies:
            e = wire.Envelope.FromString(body)
            if e.kind == wire.KIND_SYSTEM and e.type == wire.Hello.DESCRIPTOR.full_name:
                hellos.append(wire.Hello.FromString(e.payload))
        return hellos

    def _take_view(self, hello):
        if hello.view:
            self._view = View(hello)

    def _endpoint_of(self, name):
        """(endpoint, server key) to send to for `name`: its host's, or the
        seed's when the view does not list it (the seed then answers)."""
        entry = self._view.host_of(name) if self._view is not None else None
        if entry is None or entry.node == self._view.node:
            return self.seed, self._seed_key
        return entry.endpoint, (entry.public_key.encode() or None)

    def _connection_for(self, name, deadline):
        if self._view is None or self._view.host_of(name) is None:
            self._refresh_view(deadline)
        return self._connection(*self._endpoint_of(name))
