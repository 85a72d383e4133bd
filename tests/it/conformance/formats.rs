//! Content negotiation on `/metrics` (OpenMetrics 1.0 or text 0.0.4) and gzip, through the real
//! server, with the OpenMetrics body checked by the reference parser.

use crate::support::{require_python_module, run_command, Exporter};
use std::io::Read;
use std::process::Command;

const PROMETHEUS_ACCEPT: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
const OM: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

const CONFIG: &str = r#"[
  {"name": "sq", "metric_type": "gauge", "custom_function": "square", "help": "Quote \" and backslash \\"},
  {"name": "jobs", "metric_type": "counter", "custom_function": "fibonacci", "reset_interval": 3,
   "labels": {"queue": "a \"b\" \\ c\nd ✓"}},
  {"name": "requests_total", "metric_type": "counter", "custom_function": "square"}
]"#;

#[test]
fn accept_headers_choose_the_format() {
    let exporter = Exporter::with_config(CONFIG, &["--interval", "1h"]);
    let cases: &[(Option<&str>, &str)] = &[
        (None, TEXT),
        (Some(PROMETHEUS_ACCEPT), OM),
        (Some("application/openmetrics-text"), OM),
        (Some("application/openmetrics-text; version=0.0.1"), OM),
        (Some("application/openmetrics-text; version=9.9.9"), TEXT),
        (Some("text/plain;version=0.0.4"), TEXT),
        (Some("*/*"), TEXT),
        (Some("text/plain;q=0.9, application/openmetrics-text;q=0.8"), TEXT),
        (Some("text/plain;q=0.2, application/openmetrics-text;q=0.8"), OM),
        (Some(";;;,,garbage/\"=="), TEXT),
    ];
    for (accept, content_type) in cases {
        let headers: Vec<(&str, &str)> = accept.iter().map(|a| ("Accept", *a)).collect();
        let response = exporter.request("GET", "/metrics", &headers);
        assert_eq!(response.status, 200);
        assert_eq!(response.header("Content-Type"), Some(*content_type), "Accept: {accept:?}");
        let body = response.text();
        assert_eq!(body.ends_with("# EOF\n"), *content_type == OM, "Accept: {accept:?}\n{body}");
        assert!(response.header("Content-Encoding").is_none());
    }
}

#[test]
fn openmetrics_counters_have_created_and_eof() {
    let exporter = Exporter::with_config(CONFIG, &["--interval", "1h", "--namespace", "ns"]);
    let body = exporter.request("GET", "/metrics", &[("Accept", "application/openmetrics-text")]).text();
    assert!(body.contains("# TYPE ns_jobs counter\n"), "{body}");
    assert!(body.contains("\nns_jobs_total{queue=\"a \\\"b\\\" \\\\ c\\nd ✓\"} 1\n"), "{body}");
    assert!(body.contains("\nns_jobs_created{queue="), "{body}");
    assert!(body.contains("# TYPE ns_requests counter\n"), "{body}");
    assert!(body.contains("# HELP ns_sq Quote \\\" and backslash \\\\\n"), "{body}");
    assert_eq!(body.matches("# EOF").count(), 1);
}

/// Parses an OpenMetrics body with prometheus_client's strict parser and prints a JSON summary.
const PARSE_OPENMETRICS: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(open(sys.argv[1], encoding="utf-8").read()):
    out.append({"name": f.name, "type": f.type, "help": f.documentation,
                "samples": [[s.name, s.labels, s.value] for s in f.samples]})
print(json.dumps(out))
"#;

#[test]
fn the_reference_openmetrics_parser_accepts_the_body() {
    let Some(python) = require_python_module("prometheus_client") else { return };
    let exporter = Exporter::with_config(CONFIG, &["--interval", "1h", "--namespace", "ns"]);
    let body = exporter.request("GET", "/metrics", &[("Accept", PROMETHEUS_ACCEPT)]).text();
    let dir = crate::support::TempDir::new();
    let input = dir.write("body.txt", &body);
    let out = run_command(Command::new(python).args(["-c", PARSE_OPENMETRICS]).arg(input));
    assert!(out.status.success(), "parser rejected:\n{}\n{body}", String::from_utf8_lossy(&out.stderr));
    let families: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let family = |name: &str| families.as_array().unwrap().iter().find(|f| f["name"] == name).cloned();
    let jobs = family("ns_jobs").expect("ns_jobs family");
    assert_eq!(jobs["type"], "counter");
    let samples = jobs["samples"].as_array().unwrap();
    assert_eq!(samples[0][0], "ns_jobs_total");
    assert_eq!(samples[0][1]["queue"], "a \"b\" \\ c\nd ✓");
    assert_eq!(samples[0][2], 1.0);
    assert_eq!(samples[1][0], "ns_jobs_created");
    assert_eq!(family("ns_sq").unwrap()["help"], "Quote \" and backslash \\");
    assert_eq!(family("ns_requests").unwrap()["type"], "counter");
    assert_eq!(family("metrics_generator_ticks").unwrap()["type"], "counter");
    assert_eq!(family("metrics_generator_series").unwrap()["samples"][0][2], 3.0);
}

#[test]
fn gzip_bodies_decode_to_the_plain_ones() {
    let exporter = Exporter::with_config(CONFIG, &["--interval", "1h"]);
    for accept in ["text/plain", PROMETHEUS_ACCEPT] {
        let plain = exporter.request("GET", "/metrics", &[("Accept", accept)]);
        for encoding in ["gzip", "deflate, gzip;q=0.9", "*"] {
            let zipped = exporter.request("GET", "/metrics", &[("Accept", accept), ("Accept-Encoding", encoding)]);
            assert_eq!(zipped.header("Content-Encoding"), Some("gzip"), "{encoding}");
            assert_eq!(zipped.header("Content-Type"), plain.header("Content-Type"));
            assert_eq!(zipped.header("Vary"), Some("Accept, Accept-Encoding"));
            assert!(zipped.body.len() < plain.body.len());
            let mut decoded = Vec::new();
            flate2::read::GzDecoder::new(&zipped.body[..]).read_to_end(&mut decoded).unwrap();
            assert_eq!(decoded, plain.body, "Accept-Encoding: {encoding}");
        }
        for encoding in ["identity", "gzip;q=0", "br"] {
            let response = exporter.request("GET", "/metrics", &[("Accept", accept), ("Accept-Encoding", encoding)]);
            assert!(response.header("Content-Encoding").is_none(), "{encoding}");
            assert_eq!(response.body, plain.body);
        }
    }
}
