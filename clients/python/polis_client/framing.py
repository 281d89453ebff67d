"""polis frames on a ZeroMQ message (bus/WIRE.md, "Frame layout").

A frame is an 8-byte header -- 'P' 'L', version 1, flags, body length as
unsigned 32-bit little-endian -- then the body (a serialized
polis.wire.Envelope). One ZeroMQ message holds one frame or a batch: every
frame but the last has flag bit 0 ("followed") set.

Pure functions; thread-safe.

Example:
    msg = encode_batch([body1, body2])
    for body in decode_message(msg): ...
"""

import struct

MAGIC = b"PL"
WIRE_VERSION = 1
FLAG_FOLLOWED = 0x01
HEADER = struct.Struct("<2sBBI")


class FramingError(ValueError):
    """A message that is not a well-formed polis frame or batch."""


def encode_frame(body, followed=False):
    """One frame holding `body` (bytes)."""
    return HEADER.pack(MAGIC, WIRE_VERSION, FLAG_FOLLOWED if followed else 0, len(body)) + body


def encode_batch(bodies):
    """One message holding every body of `bodies`, in order (a batch)."""
    bodies = list(bodies)
    return b"".join(encode_frame(b, followed=i + 1 < len(bodies)) for i, b in enumerate(bodies))


def decode_message(data):
    """The bodies of the frames of one ZeroMQ message, in order.

    Raises FramingError for bad magic, an unknown version or reserved flag, a
    truncated frame, trailing bytes or a `followed` flag on the last frame
    (the bodies read before the error are lost with it: a client gets only
    what nodes send, so any of these means a bug or a stranger).
    """
    data = memoryview(bytes(data))
    bodies = []
    at = 0
    while True:
        if len(data) - at < HEADER.size:
            raise FramingError(f"frame header cut short at byte {at}")
        magic, version, flags, length = HEADER.unpack_from(data, at)
        if magic != MAGIC:
            raise FramingError("magic is not 'PL'")
        if version != WIRE_VERSION:
            raise FramingError(f"wire version {version}, this client speaks {WIRE_VERSION}")
        if flags & ~FLAG_FOLLOWED:
            raise FramingError(f"reserved flag bits set ({flags:#x})")
        at += HEADER.size
        if at + length > len(data):
            raise FramingError("frame body runs past the end of the message")
        bodies.append(bytes(data[at:at + length]))
        at += length
        if not flags & FLAG_FOLLOWED:
            if at != len(data):
                raise FramingError("trailing bytes after the last frame")
            return bodies
        if at == len(data):
            raise FramingError("'followed' set on the last frame")
