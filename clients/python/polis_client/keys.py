"""polis CurveZMQ key files (bus/curve_keys.h).

NAME.pub holds the 40-character Z85 public key and a newline. NAME.key holds
`public-key <Z85>` and `secret-key <Z85>` lines ('#' comments and blank lines
allowed) and must not be readable by group or others (like ssh, polis
refuses such a file; so does this client).

Pure functions; thread-safe.

Example:
    public, secret = load_secret_key_file("dir/me.key")
    server = load_public_key("dir/node.pub")
"""

import os
import stat

from .errors import Code, PolisError

Z85_CHARS = 40
_Z85_ALPHABET = set("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#")


def is_z85_key(text):
    return len(text) == Z85_CHARS and set(text) <= _Z85_ALPHABET


def load_secret_key_file(path):
    """(public_z85, secret_z85) from a NAME.key file, as bytes.

    PolisError NOT_FOUND if missing, FAILED_PRECONDITION if group/others
    may read it, INVALID_ARGUMENT "FILE:LINE: why" if malformed.
    """
    try:
        mode = os.stat(path).st_mode
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise PolisError(Code.NOT_FOUND, f"{path}: no such key file", local=True) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise PolisError(Code.FAILED_PRECONDITION,
                         f"{path} is readable by group or others (mode {mode & 0o777:o}); "
                         f"run chmod 600 {path}", local=True)
    found = {}
    for n, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        parts = text.split()
        if len(parts) != 2 or parts[0] not in ("public-key", "secret-key"):
            raise PolisError(Code.INVALID_ARGUMENT,
                             f"{path}:{n}: expected 'public-key Z85' or 'secret-key Z85'", local=True)
        if not is_z85_key(parts[1]):
            raise PolisError(Code.INVALID_ARGUMENT, f"{path}:{n}: not a 40-character Z85 key", local=True)
        found[parts[0]] = parts[1]
    if set(found) != {"public-key", "secret-key"}:
        raise PolisError(Code.INVALID_ARGUMENT, f"{path}: needs a public-key and a secret-key line",
                         local=True)
    try:
        import zmq
        if zmq.curve_public(found["secret-key"].encode()) != found["public-key"].encode():
            raise PolisError(Code.INVALID_ARGUMENT,
                             f"{path}: the public key does not belong to the secret key", local=True)
    except (ImportError, AttributeError):
        pass
    return found["public-key"].encode(), found["secret-key"].encode()


def load_public_key(file_or_z85):
    """A Z85 public key (bytes) from a NAME.pub file, a NAME.key file, or the Z85 text itself."""
    if isinstance(file_or_z85, bytes):
        file_or_z85 = file_or_z85.decode()
    if is_z85_key(file_or_z85) and not os.path.exists(file_or_z85):
        return file_or_z85.encode()
    try:
        with open(file_or_z85, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise PolisError(Code.NOT_FOUND, f"{file_or_z85}: no such key file", local=True) from None
    if "public-key" in text:
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "public-key" and is_z85_key(parts[1]):
                return parts[1].encode()
    key = text.strip()
    if not is_z85_key(key):
        raise PolisError(Code.INVALID_ARGUMENT, f"{file_or_z85}: not a 40-character Z85 key",
                         local=True)
    return key.encode()
