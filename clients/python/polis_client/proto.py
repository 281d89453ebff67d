"""The generated polis protobuf modules, with a clear error if they are missing (internal)."""

try:
    from polis import envelope_pb2  # noqa: F401  (generated: see clients/python/README.md)
except ImportError as e:  # pragma: no cover - depends on the environment
    raise ImportError(
        "polis_client needs polis/envelope_pb2.py, generated from proto/polis/envelope.proto: "
        "build polis (it writes build/python/) or run "
        "`protoc -I proto --python_out=OUT proto/polis/envelope.proto` and put OUT on "
        f"PYTHONPATH ({e})") from e
