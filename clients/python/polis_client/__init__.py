"""polis_client: a Python client for polis clusters (bus/WIRE.md).

See clients/python/README.md. One Client per thread.
"""

from .errors import Code, PolisError
from .client import Client, Reply

__all__ = ["Client", "Code", "PolisError", "Reply"]
