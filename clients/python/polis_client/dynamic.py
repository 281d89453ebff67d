"""Request and reply types built from a ServerDescription (internal).

A ServerDescription carries the FileDescriptorSet of the server's .proto
files, so a client that was never compiled against them can turn JSON into a
request and a reply into JSON, as `polis call` does.

Thread-safety: a Types object is immutable once built; share it freely.

Example:
    types = Types(description)
    request_bytes = types.from_json("polis.examples.CounterRequest", '{"add": 2}')
"""

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory


def _message_class(pool, full_name):
    desc = pool.FindMessageTypeByName(full_name)
    get = getattr(message_factory, "GetMessageClass", None)
    if get is not None:  # protobuf >= 4.22
        return get(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


class Types:
    """The message types of one server, from its ServerDescription."""

    def __init__(self, description):
        self.description = description
        self.pool = descriptor_pool.DescriptorPool()
        files = descriptor_pb2.FileDescriptorSet.FromString(description.file_descriptor_set)
        for f in files.file:
            self.pool.Add(f)

    def message_class(self, full_name):
        """The class of `full_name`; KeyError if the description does not define it."""
        return _message_class(self.pool, full_name)

    def from_json(self, full_name, json_text):
        """The serialized bytes of `json_text` read as `full_name` (json_format.ParseError if bad)."""
        msg = self.message_class(full_name)()
        json_format.Parse(json_text, msg)
        return msg.SerializeToString()

    def to_json(self, full_name, payload):
        """`payload` of type `full_name` as JSON text (compact)."""
        msg = self.message_class(full_name)()
        msg.ParseFromString(payload)
        return json_format.MessageToJson(msg, indent=None, preserving_proto_field_name=True)
