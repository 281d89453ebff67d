#!/usr/bin/env python3
"""tools/fuzz/make_corpus.py — writes the seed corpora of the fuzz targets.

Small, valid (and a few nearly valid) inputs for each target, encoded by
hand (protobuf wire format, frame headers as in bus/WIRE.md), so the script
needs nothing but Python 3. Run it from anywhere; it (re)writes
  bus/fuzz/corpus/envelope, bus/fuzz/corpus/frame,
  node/fuzz/corpus/membership,
  tools/fuzz/corpus/dynamic_json, tools/fuzz/corpus/node_config.
Files are named after a hash of their content, as libFuzzer names its own;
inputs a fuzzer found (crashes, regressions) are added beside them by hand
and are kept, since the script only ever writes its own files.
"""
import hashlib
import os
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def varint(v):
    v &= (1 << 64) - 1
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def tag(field, wt):
    return varint((field << 3) | wt)


def u(field, v):  # varint field (skipped when zero, like proto3)
    return tag(field, 0) + varint(v) if v else b""


def s(field, b):  # length-delimited field
    if isinstance(b, str):
        b = b.encode()
    return tag(field, 2) + varint(len(b)) + b


def f64(field, v):
    return tag(field, 1) + struct.pack("<Q", v)


def address(node=b"", name=b"", pid=0, inc=0):
    return s(1, node) + s(2, name) + u(3, pid) + u(4, inc)


def envelope(kind=1, type_=b"", sender=None, recipient=None, payload=b"", trace=b"",
             span=0, parent=0, ref=0, reply_to=None, timeout=0, code=0, msg=b"",
             details=(), deadline=0, flags=0, version=1):
    out = u(1, version) + u(2, kind) + (s(3, type_) if type_ else b"")
    if sender is not None:
        out += s(4, sender)
    if recipient is not None:
        out += s(5, recipient)
    if payload:
        out += s(6, payload)
    if trace:
        out += s(7, trace)
    if span:
        out += f64(8, span)
    if parent:
        out += f64(9, parent)
    out += u(10, ref)
    if reply_to is not None:
        out += s(11, reply_to)
    out += u(12, timeout) + u(13, code)
    if msg:
        out += s(14, msg)
    for url, value in details:
        out += s(15, s(1, url) + s(2, value))
    out += u(16, deadline) + u(17, flags)
    return out


def frame(body, flags=0, version=1):
    return b"PL" + bytes([version, flags]) + struct.pack("<I", len(body)) + body


# --- Membership payloads (proto/polis/envelope.proto) ---

def name_entry(name, pid, registered=0):
    return s(1, name) + u(2, pid) + u(3, registered)


def node_entry(node, endpoint=b"", inc=0, names=(), version=0, started=0):
    out = s(1, node) + s(2, endpoint) + u(3, inc)
    for n in names:
        out += s(5, name_entry(*n))
    return out + u(6, version) + u(7, started)


def hello(node, inc, endpoint=b"", client=False, self_entry=None, members=(),
          reply=False, subscribe=False, view=(), heartbeat=b"", via=b"", answering=b"",
          wire_version=1):
    out = s(1, node) + u(2, inc) + u(3, wire_version) + s(4, endpoint) + u(5, int(client))
    if self_entry is not None:
        out += s(7, self_entry)
    for m in members:
        out += s(8, m)
    out += u(9, int(reply)) + u(10, int(subscribe))
    for m in view:
        out += s(11, m)
    return out + s(12, heartbeat) + s(13, via) + s(14, answering)


def names_changed(node, inc, removed=(), added=(), version=0):
    out = s(1, node) + u(2, inc)
    for r in removed:
        out += s(4, r)
    for a in added:
        out += s(5, name_entry(*a))
    return out + u(6, version)


def members(node, inc, entries=()):
    return s(1, node) + u(2, inc) + b"".join(s(3, e) for e in entries)


def goodbye(node, inc):
    return s(1, node) + u(2, inc)


HELLO, NAMES, MEMBERS, BYE = 0, 1, 2, 3


def msgs(*items):
    """membership_fuzz input: [selector][len: 2 bytes BE][payload] each."""
    return b"".join(bytes([sel]) + struct.pack(">H", len(p)) + p for sel, p in items)


def write(folder, inputs):
    path = os.path.join(ROOT, folder)
    os.makedirs(path, exist_ok=True)
    for data in inputs:
        if isinstance(data, str):
            data = data.encode()
        name = hashlib.sha1(data).hexdigest()
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)
    print(f"{folder}: {len(inputs)} seeds")


def envelopes():
    a = address(b"node-a", b"caller", 7, 0xFEDCBA9876543210)
    b = address(b"node-b", b"counter", 1 << 40, 3)
    counter_add = s(1, b"")[:0] + tag(1, 0) + varint(5)  # CounterRequest{add: 5}
    return [
        b"",
        envelope(kind=1, type_=b"polis.examples.CounterRequest", sender=a, recipient=b,
                 payload=counter_add, ref=1, timeout=5_000_000, deadline=1_700_000_000_000_000),
        envelope(kind=2, type_=b"polis.examples.CounterRequest", sender=a, recipient=b,
                 payload=counter_add),
        envelope(kind=3, type_=b"polis.wire.Down", sender=a, recipient=b, payload=b"\x0a\x01x"),
        envelope(kind=4, type_=b"polis.examples.CounterReply", recipient=a, payload=b"\x08\x05",
                 ref=1),
        envelope(kind=4, recipient=a, ref=2, code=9, msg="héllo 🌍".encode(),
                 details=[(b"type.googleapis.com/bank.InsufficientFunds", b"\x7f" * 200),
                          (b"", b"\x00\xff")]),
        envelope(kind=5, type_=b"polis.wire.Hello", sender=a,
                 payload=hello(b"node-a", 1, b"inproc://a")),
        envelope(kind=5, type_=b"polis.wire.NodeInfoRequest", sender=a, ref=3),
        envelope(kind=1, type_=b"x", sender=a, recipient=b, trace=bytes(range(16)),
                 span=0x1122334455667788, parent=0xFFFFFFFFFFFFFFFF, flags=1),
        envelope(kind=1, sender=a, recipient=b, reply_to=address("nöde-ä".encode(), "日本語".encode(), 9, 3),
                 timeout=-5_000_000 & ((1 << 64) - 1), code=-3 & ((1 << 64) - 1)),
        envelope(kind=1, version=2),
        envelope(kind=0, version=0),
        envelope(kind=99, type_=b"t"),
        # Unknown fields of every wire type, a group, packed-looking bytes.
        envelope(kind=1) + u(20, 1) + s(21, b"xyz") + tag(22, 5) + b"\x01\x02\x03\x04" +
        tag(23, 1) + b"\x00" * 8 + tag(24, 3) + u(1, 1) + tag(24, 4),
        # Fields out of order, repeated (last one wins; messages merge).
        u(2, 1) + u(1, 1) + s(4, address(b"x")) + s(4, address(name=b"y")) + u(2, 3),
        # Nearly valid: truncated, a non-UTF-8 string, an overlong varint.
        envelope(kind=1, type_=b"polis.examples.CounterRequest")[:-3],
        u(1, 1) + s(3, b"\xff\xfe"),
        u(1, 1) + tag(2, 0) + b"\x81\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00",
        s(15, s(1, b"\xc3\x28") + s(2, b"v")),
        s(6, b"\x00" * 300),
    ]


def frames():
    bodies = envelopes()
    out = []
    limit0 = b"\x00"  # first byte: the receiver's limit (0 = 1 MiB)
    for body in bodies[:10]:
        out.append(limit0 + frame(body))
    out.append(limit0 + frame(bodies[1], flags=1) + frame(bodies[4], flags=1) + frame(bodies[6]))
    out.append(limit0 + frame(bodies[1], flags=1))               # says one follows; none does
    out.append(limit0 + frame(bodies[1]) + frame(bodies[2]))     # none follows, yet one does
    out.append(limit0 + frame(bodies[1], version=2))
    out.append(limit0 + frame(bodies[1], flags=0x80))
    out.append(limit0 + b"XL" + frame(bodies[1])[2:])
    out.append(limit0 + frame(bodies[1])[:-1])
    out.append(limit0 + frame(bodies[1])[:5])
    out.append(b"\x02" + frame(bodies[5]))                       # limit 8 bytes: too big
    out.append(limit0 + b"PL\x01\x00\xff\xff\xff\xff")
    return out


def membership():
    me = node_entry(b"peer", b"inproc://peer", 7, [(b"counter", 3, 1_700_000_000), (b"kv", 4)], 2)
    other = node_entry(b"third", b"inproc://third", 9)
    return [
        msgs((HELLO, hello(b"peer", 7, b"inproc://peer", self_entry=me, reply=True))),
        msgs((HELLO, hello(b"peer", 7, b"inproc://peer", self_entry=me, members=[other],
                           reply=True, heartbeat=b"udp://127.0.0.1:9"))),
        msgs((HELLO, hello(b"cli", 1, client=True, subscribe=True))),
        msgs((HELLO, hello(b"peer", 7, b"inproc://peer", self_entry=me)),
             (NAMES, names_changed(b"peer", 7, removed=[b"kv"], added=[(b"echo", 5)], version=3))),
        msgs((HELLO, hello(b"peer", 7, b"inproc://peer", self_entry=me)),
             (NAMES, names_changed(b"peer", 7, added=[(b"x", 6)], version=9))),
        msgs((HELLO, hello(b"peer", 7, b"inproc://peer", self_entry=me)),
             (MEMBERS, members(b"peer", 7, [other, node_entry(b"target", b"inproc://membership-fuzz", 1)]))),
        msgs((HELLO, hello(b"peer", 7, b"inproc://peer", self_entry=me)),
             (BYE, goodbye(b"peer", 7))),
        msgs((HELLO, hello(b"peer", 7, b"inproc://peer", self_entry=me)),
             (HELLO, hello(b"peer", 8, b"inproc://peer", self_entry=node_entry(b"peer", b"inproc://peer", 8)))),
        msgs((HELLO, hello(b"peer", 7, b"inproc://peer", self_entry=me)),
             (HELLO, hello(b"peer", 6, b"inproc://peer"))),
        msgs((HELLO, hello(b"target", 1, b"inproc://membership-fuzz"))),   # claims our own name
        msgs((HELLO, hello(b"peer", 7, b"inproc://peer", wire_version=2))),
        msgs((HELLO, hello(b"", 0))),
        msgs((HELLO, hello(b"peer", 7, b"inproc://peer", via=b"inproc://relay",
                           answering=b"inproc://peer"))),
        msgs((NAMES, names_changed(b"stranger", 1, added=[(b"counter", 1)]))),
        msgs((MEMBERS, members(b"stranger", 1, [other]))),
        msgs((BYE, goodbye(b"stranger", 1))),
        msgs((HELLO, b"\xff\xff\xff")),
        msgs((HELLO, hello(b"a", 1, b"inproc://a", self_entry=node_entry(b"a", b"inproc://a", 1, [(b"n", 1)]))),
             (HELLO, hello(b"b", 2, b"inproc://b", self_entry=node_entry(b"b", b"inproc://b", 2, [(b"n", 2)])))),
    ]


def dynamic_json():
    # [selector][rest]: selector % 16 = type index in dynamic_json_fuzz.cc; 0x80 = ToJson mode.
    def j(i, text):
        return bytes([i]) + text.encode()

    def b(i, data):
        return bytes([0x80 | i]) + data

    return [
        j(0, '{"add": 5}'), j(0, '{"get": {}}'), j(0, '{"crash": {}}'),
        j(0, '{"add_later": {"n": 2, "delay_ms": 100, "target": "hits"}}'),
        j(0, '{"addLater": {"n": "9223372036854775807"}}'), j(0, '{"add": -1e3}'),
        j(1, '{"value": "42"}'), j(2, '{"put": {"key": "k", "value": "v"}}'),
        j(2, '{"get": {"key": "k"}}'), j(2, '{"delete": {"key": "\\u00e9"}}'), j(2, '{"list": {}}'),
        j(3, '{"value": "v", "existed": true, "keys": ["a", "b"]}'),
        j(4, '{"via": ["a", "b"], "request": {"add": 1}}'),
        j(6, '{"strategy": "ONE_FOR_ALL", "intensity": 3, "period_ms": 1000,'
             ' "backoff": {"exponential": {"initial_ms": 10, "max_ms": 100, "multiplier": 2.5, "jitter": 0.1}},'
             ' "children": [{"id": "c", "kind": "counter", "args": {"initial": 7}}]}'),
        j(7, '{"id": "w", "supervisor": {"children": [{"id": "e", "kind": "echo", "restart": "TEMPORARY"}]}}'),
        j(8, '{"version": 1, "kind": "KIND_CALL", "type": "t", "payload": "AAEC", "trace_id": "AAAAAAAAAAAAAAAAAAAAAA==",'
             ' "span_id": "1", "status_details": [{"@type": "type.googleapis.com/google.protobuf.Empty"}]}'),
        j(9, '{"node": "a", "incarnation": "1", "self": {"names": [{"name": "x", "pid": "3"}]}}'),
        j(12, '{"a": [1, "x", null, true, {"b": {}}]}'), j(13, '{"@type": "type.googleapis.com/polis.examples.KvKey", "key": "k"}'),
        j(14, '[1, 2.5e300, "s"]'), j(15, '{}'), j(0, '{"add": 1, "get": {}}'), j(0, '{"nope": 1}'),
        j(0, '{"add": '), j(12, '{"a":' * 40 + '1' + '}' * 40),
        b(0, b"\x08\x05"), b(1, b"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
        b(3, b"\x0a\x01v\x10\x01\x1a\x01a"), b(8, envelope(kind=1, type_=b"t", payload=b"\x08\x05")),
        b(13, s(1, b"type.googleapis.com/polis.examples.CounterRequest") + s(2, b"\x08\x05")),
        b(12, b"\x0a\x05\x0a\x01a\x12\x00"), b(3, b"\x0a\x02\xff\xfe"),
    ]


def node_config():
    return [
        'name: "a"\nlisten: "tcp://127.0.0.1:7101"\nseeds: "tcp://127.0.0.1:7102"\n',
        'name: "a" serve { kind: "counter" name: "hits" } serve { kind: "kv" }',
        'serve { kind: "counter" args { fields { key: "initial" value { number_value: 7 } } } }',
        'threads: 2 max_message_bytes: 1048576 failure_timeout_ms: 800 advertise: "tcp://10.0.0.5:7101"',
        'trace_sample: "0.5" trace_buffer_spans: 1000 trace_file: "/tmp/t.jsonl"'
        ' otlp_endpoint: "http://localhost:4318" metrics: "127.0.0.1:9100"',
        'root_name: "root" supervision { strategy: ONE_FOR_ALL intensity: 2 period_ms: 10000 }',
        '''name: "a"
supervision {
  strategy: ONE_FOR_ONE
  intensity: 2
  period_ms: 10000
  backoff { constant { delay_ms: 50 } }
  children { id: "hits" kind: "counter" name: "hits"
             args { fields { key: "initial" value { number_value: 7 } } } }
  children {
    id: "workers" name: "workers" shutdown_timeout_ms: 2000
    supervisor {
      strategy: REST_FOR_ONE
      children { id: "db" kind: "kv" name: "db" restart: TRANSIENT }
      children { id: "echo" kind: "echo" }
    }
  }
  children { id: "sessions" dynamic_supervisor { max_children: 3
                                                 child_template { kind: "counter" } } }
}
''',
        'supervision { backoff { exponential { initial_ms: 10 max_ms: 1000 multiplier: 2 jitter: 0.5 } reset_after_ms: 100 } }',
        'supervision { backoff { none {} } children { id: "r" kind: "relay" restart: TEMPORARY } }',
        'supervision { children { id: "c" kind: "counter" name: "c1" } children { id: "c" kind: "counter" name: "c2" } }',
        'supervision { children { id: "w" supervisor { strategy: 7 } } }',
        'supervision { intensity: -1 }',
        'name: "a"\nsupervision {\n  strategy: ONE_FOR_NONE\n}\n',
        'supervision { children { id: "x" kind: "nope" } }',
        'supervision { children { id: "c" kind: "counter" args { fields { key: "bogus" value { number_value: 1 } } } } }',
        'serve { kind: "counter" typed_args { [type.googleapis.com/polis.examples.CounterArgs] { initial: 9007199254740993 } } }',
        'supervision { children { id: "c" kind: "counter" typed_args { [type.googleapis.com/polis.examples.CounterReply] { value: 1 } } } }',
        'serve { kind: "echo" typed_args { [type.googleapis.com/polis.examples.Nope] { } } }',
        'supervision { children { id: "s" dynamic_supervisor { child_template { kind: "counter" typed_args { [type.googleapis.com/polis.examples.CounterArgs] { initial: 3 } } } } } }',
        'serve { kind: "counter" name: "slow" max_mailbox: 100 } serve { kind: "echo" max_mailbox: 0 }',
        'supervision { children { id: "c" kind: "counter" max_mailbox: 5000 } }',
        'serve { kind: "echo" max_mailbox: -1 }', 'serve { kind: "echo" max_mailbox: 1.5 }',
        'supervision { children { id: "c" kind: "counter" max_mailbox: 99999999999999999999 } }',
        'counter', 'counter:hits', 'kv:', ':x',
        '# comment\nname: "a" # trailing\n', 'name: "\\xff\\u00e9"', 'seeds: ["dns:polis.local:7101", "tcp://[::1]:7101"]',
        'bogus: 1', 'name: "a', 'supervision { children [{ id: "a" kind: "echo" }] }',
        'supervision <' + ' children < id: "n" supervisor <' * 20 + ' >' * 20 + ' >',
    ]


def main():
    write("bus/fuzz/corpus/envelope", envelopes())
    write("bus/fuzz/corpus/frame", frames())
    write("node/fuzz/corpus/membership", membership())
    write("tools/fuzz/corpus/dynamic_json", dynamic_json())
    write("tools/fuzz/corpus/node_config", node_config())


if __name__ == "__main__":
    main()
