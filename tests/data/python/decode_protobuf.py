"""Decodes Prometheus's protobuf exposition (length-delimited MetricFamily messages) from the file
named as the argument (stdin without one)
with Python's protobuf package, from classes generated out of metrics.proto (beside this script's
folder, in tests/data/proto) by grpcio-tools' protoc, and prints the families as JSON.

Used by the integration test tests/it/conformance/protobuf.rs. The decoder is not the exporter's
code: a field written with the wrong number, wire type or length makes it fail, or read nonsense
that the test then rejects. Exits non-zero with a traceback on anything it cannot read.
"""

import json
import os
import sys
import tempfile

from google.protobuf.internal.decoder import _DecodeVarint32
from google.protobuf.json_format import MessageToDict
from grpc_tools import protoc
import grpc_tools


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    proto_dir = os.path.join(here, "..", "proto")
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    out = tempfile.mkdtemp()
    status = protoc.main(["protoc", "-I", proto_dir, "-I", well_known, "--python_out", out, "metrics.proto"])
    if status != 0:
        raise SystemExit(f"protoc failed with status {status}")
    sys.path.insert(0, out)
    import metrics_pb2  # noqa: E402 (generated just above)

    if len(sys.argv) > 1:
        with open(sys.argv[1], "rb") as body:
            data = body.read()
    else:
        data = sys.stdin.buffer.read()
    families = []
    position = 0
    while position < len(data):
        length, position = _DecodeVarint32(data, position)
        family = metrics_pb2.MetricFamily()
        family.ParseFromString(data[position:position + length])
        position += length
        families.append(MessageToDict(family, preserving_proto_field_name=True))
    json.dump(families, sys.stdout)


if __name__ == "__main__":
    main()
