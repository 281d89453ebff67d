"""Errors a polis call can end in: a canonical code, a message, details.

The codes are absl::StatusCode / gRPC's canonical codes (the numbers travel in
Envelope.status_code). A PolisError is raised both for an error the node
replied with and for one the client found itself (its own deadline, a lost
connection, a refused CURVE handshake); `.local` tells them apart.

Example:
    try:
        client.call("counter", req, CounterReply)
    except PolisError as e:
        if e.code == Code.NOT_FOUND: ...
"""

import enum


class Code(enum.IntEnum):
    """Canonical status codes (absl::StatusCode, gRPC numbering)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


def to_code(number):
    """The Code for a wire number; UNKNOWN for a number outside the table."""
    try:
        return Code(number)
    except ValueError:
        return Code.UNKNOWN


class PolisError(Exception):
    """A failed polis operation.

    code:    a Code.
    message: text for people (never parse it).
    details: list of google.protobuf.any_pb2.Any (Envelope.status_details).
    local:   True when this client decided it (no reply came from a node).
    """

    def __init__(self, code, message, details=(), local=False):
        self.code = to_code(int(code))
        self.message = message
        self.details = list(details)
        self.local = local
        super().__init__(f"{self.code.name}: {message}")
