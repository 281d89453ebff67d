"""One DEALER to one node's ROUTER, with a socket monitor (internal).

The monitor turns what libzmq sees of the connection into a PolisError, the
way polis's own client does (bus/internal/connection_monitor.cc):
  * disconnected after the handshake          -> UNAVAILABLE ("connection lost")
  * ZAP refusal (ZMQ_EVENT_HANDSHAKE_FAILED_AUTH, status 400)
                                              -> PERMISSION_DENIED
  * closed by the server during a CURVE handshake (wrong server key), or a
    ZMTP protocol failure (a NULL client at a CURVE node) -> UNAUTHENTICATED;
    a closed CURVE handshake is judged on libzmq's reconnection ~100 ms
    later: closed again -> UNAUTHENTICATED, refused (the peer died in the
    handshake) -> UNAVAILABLE ("lost during the handshake")
  * a NULL handshake that fails with an errno (EPIPE, ECONNRESET: the peer
    closed; a NULL client at a CURVE node sees this too) -> UNAVAILABLE
  * no completed handshake within connect_timeout -> UNAVAILABLE
A connection that failed is closed; the Client opens a new one on next use.

Thread-safety: none; owned by one Client (one thread).
"""

import time

import zmq
from zmq.utils.monitor import recv_monitor_message

from .errors import Code, PolisError
from .framing import FramingError, decode_message

_EVENTS = (zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED | zmq.EVENT_HANDSHAKE_FAILED_AUTH
           | zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL | zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL
           | zmq.EVENT_CONNECTED | zmq.EVENT_CONNECT_RETRIED)


class Connection:
    def __init__(self, ctx, endpoint, curve=None, connect_timeout=2.0, max_message_bytes=None):
        """`curve` is None or (public_z85, secret_z85, server_z85), all bytes."""
        self.endpoint = endpoint
        self.curve = curve is not None
        self.up = False
        self.down = None  # PolisError once the connection failed
        # After a closed CURVE handshake: its verdict if the peer is up, whether
        # a TCP connection was made again since, the reconnection timers since.
        self._dropped = None
        self._reconnected = False
        self._retries_after_drop = 0
        self._opened = time.monotonic()
        self._connect_timeout = connect_timeout
        self.sock = ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.HEARTBEAT_IVL, 500)
        self.sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, 3000)
        self.sock.setsockopt(zmq.HEARTBEAT_TTL, 3000)
        if max_message_bytes:
            self.sock.setsockopt(zmq.MAXMSGSIZE, max(max_message_bytes + 8, 32 * 1024))
        if curve is not None:
            public, secret, server = curve
            self.sock.curve_publickey = public
            self.sock.curve_secretkey = secret
            self.sock.curve_serverkey = server
        self.mon = self.sock.get_monitor_socket(_EVENTS)
        self.sock.connect(endpoint)

    def close(self):
        if self.sock is None:
            return
        try:
            self.sock.disable_monitor()
        except zmq.ZMQError:
            pass
        self.mon.close(linger=0)
        self.sock.close(linger=0)
        self.sock = None

    def send(self, data):
        """Queues one ZeroMQ message (a frame or a batch); never blocks."""
        try:
            self.sock.send(data, zmq.NOBLOCK, copy=len(data) < 65536)
        except zmq.Again:
            raise PolisError(Code.RESOURCE_EXHAUSTED,
                             f"send queue to {self.endpoint} is full", local=True) from None

    def read_events(self):
        """Reads monitor events; returns self.down (None while healthy)."""
        while self.down is None and self.mon.poll(0):
            ev = recv_monitor_message(self.mon)
            self._on_event(ev["event"], ev["value"])
        if self.down is None and not self.up and \
                time.monotonic() - self._opened > self._connect_timeout:
            self.down = PolisError(Code.UNAVAILABLE,
                                   f"no connection to {self.endpoint} within the connect timeout "
                                   f"({self._connect_timeout:g} s)", local=True)
        return self.down

    def _on_event(self, event, value):
        ep = self.endpoint
        if event == zmq.EVENT_HANDSHAKE_SUCCEEDED:
            self.up = True
            self._dropped = None
        elif event == zmq.EVENT_CONNECTED:
            self._reconnected = self._dropped is not None
        elif event == zmq.EVENT_CONNECT_RETRIED:
            # After a closed handshake, a second retry with no connection in
            # between: the peer refused the first, it is gone.
            if self._dropped is not None and not self._reconnected:
                self._retries_after_drop += 1
                if self._retries_after_drop >= 2:
                    self.down = PolisError(
                        Code.UNAVAILABLE, f"connection to {ep} lost during the handshake, and it "
                        f"refuses connections now", local=True)
        elif event == zmq.EVENT_DISCONNECTED:
            if self.curve and not self.up:
                self._handshake_dropped(PolisError(
                    Code.UNAUTHENTICATED,
                    f"handshake with {ep} failed: the server closed the connection before the "
                    f"CURVE handshake ended (wrong server key?)", local=True))
            else:
                self.down = PolisError(Code.UNAVAILABLE, f"connection to {ep} lost", local=True)
        elif event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            self.down = PolisError(
                Code.PERMISSION_DENIED,
                f"handshake with {ep} refused: this key is not authorized there (ZAP {value})",
                local=True)
        elif event in (zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL):
            # WIRE.md: a NULL/CURVE mismatch is UNAUTHENTICATED. NO_DETAIL carries
            # an errno (EPIPE, ECONNRESET), which a node dying mid-handshake gives
            # too: without CURVE it is UNAVAILABLE, with CURVE the reconnection
            # decides (_handshake_dropped).
            failed = PolisError(Code.UNAUTHENTICATED, f"handshake with {ep} failed: security "
                                f"mismatch or wrong server key (zmq event {event}, value {value})",
                                local=True)
            if event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
                self.down = failed
            elif self.curve:
                self._handshake_dropped(failed)
            else:
                self.down = PolisError(Code.UNAVAILABLE, f"handshake with {ep} failed "
                                       f"(zmq event {event}, value {value})", local=True)

    def _handshake_dropped(self, verdict):
        """A CURVE handshake ended with the connection closed; `verdict` is what
        that means if the peer is up, decided on the next connection."""
        if self._dropped is None:  # the first report (NO_DETAIL, then DISCONNECTED)
            self._dropped = verdict
            self._reconnected = False
            self._retries_after_drop = 0
        elif self._reconnected:  # the peer is up and closed the handshake again
            self.down = self._dropped

    def wait(self, deadline):
        """Waits until `deadline` (time.monotonic()) for messages.

        Returns the envelope bodies of what arrived (possibly []: deadline or
        an event). Raises the connection's PolisError once it failed.
        """
        poller = zmq.Poller()
        poller.register(self.sock, zmq.POLLIN)
        poller.register(self.mon, zmq.POLLIN)
        while True:
            bodies = self._drain()
            if bodies:
                return bodies
            if self.read_events() is not None:
                raise self.down
            now = time.monotonic()
            if now >= deadline:
                return []
            wait = deadline - now
            if not self.up:
                wait = min(wait, max(0.0, self._opened + self._connect_timeout - now) + 0.001)
            poller.poll(max(1, int(wait * 1000)))

    def _drain(self):
        bodies = []
        while True:
            try:
                data = self.sock.recv(zmq.NOBLOCK, copy=True)
            except zmq.Again:
                return bodies
            try:
                bodies.extend(decode_message(data))
            except FramingError:
                continue  # Not from a polis node; nothing in it can be trusted.
