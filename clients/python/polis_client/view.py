"""The cluster as a node's client Hello answer shows it (internal).

A node answers a client Hello with `view`: every member it knows (its own
entry first) with their names (NameEntry: name, pid, registered_unix_ns),
endpoints and, with CURVE, public keys. A name is hosted where the conflict
rule of envelope.proto's NameEntry puts it: the earliest registered_unix_ns,
then the smaller node name, then the smaller incarnation.

Thread-safety: none; owned by one Client.

Example:
    view = View(hello)
    entry = view.host_of("counter")   # a NodeEntry, or None
"""


class View:
    def __init__(self, hello):
        self.node = hello.node          # the node that answered (the seed)
        self.entries = list(hello.view)  # in the node's order: itself first
        # The seed's envelope size limit (WIRE.md "Size limit"); 0 = not told.
        self.max_message_bytes = hello.max_message_bytes

    def host_of(self, name):
        """The NodeEntry hosting `name`, or None if no member lists it."""
        best = None
        for entry in self.entries:
            for n in entry.names:
                if n.name == name:
                    key = (n.registered_unix_ns, entry.node, entry.incarnation)
                    if best is None or key < best[0]:
                        best = (key, entry)
        return best[1] if best else None
