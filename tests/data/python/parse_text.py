"""Parses Prometheus text exposition (format 0.0.4) from stdin with the reference parser,
prometheus_client's text_string_to_metric_families, and prints what it understood as JSON.

Used by the integration test tests/it/conformance/prometheus_client_parser.rs. The parser raises
on any line it rejects, which ends this script with a non-zero status and the traceback on stderr.
Values are printed with repr() so that NaN and infinities survive JSON; Rust parses them back
exactly.
"""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    families = [
        {
            "name": family.name,
            "type": family.type,
            "help": family.documentation,
            "samples": [
                {"name": s.name, "labels": s.labels, "value": repr(float(s.value))}
                for s in family.samples
            ],
        }
        for family in text_string_to_metric_families(sys.stdin.read())
    ]
    json.dump(families, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
