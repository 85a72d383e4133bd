//! `/metrics` read by the reference Python parser, `prometheus_client`'s
//! `text_string_to_metric_families` (through `tests/data/python/parse_text.py`): it must accept the body
//! and find exactly the families, types, HELP texts, label sets and values the config describes.
//!
//! Where promtool checks the format's rules, this checks the meaning: an escape gone wrong parses
//! fine but yields a different label value or HELP text, and a badly printed number a different value.

use super::prometheus_server::{exporter_config, COUNTER_HELP, SQUARE_HELP, TRICKY, TRICKY_HELP};
use crate::support::{require_python_module, root, Exporter};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// One family as the parser reports it.
#[derive(Debug, PartialEq)]
struct Family {
    name: String,
    kind: String,
    help: String,
    samples: Vec<Sample>,
}

/// A sample as the parser reports it: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// A sample as a test writes it: name, `[(label, value)]`, value.
type Expected<'a> = (&'a str, &'a [(&'a str, &'a str)], f64);

/// Runs the reference parser on `body` and returns the families it found, in order.
fn parse(python: &Path, body: &str) -> Vec<Family> {
    let mut child = Command::new(python)
        .arg(root().join("tests/data/python/parse_text.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    // The body is a few hundred bytes, far below a pipe's buffer, so writing it all before
    // reading the answer cannot deadlock.
    child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the reference parser rejected the body:\n{stderr}\nbody:\n{body}");
    let json: Value = serde_json::from_slice(&out.stdout).expect("JSON from parse_text.py");
    let text = |v: &Value| v.as_str().expect("a string").to_string();
    // The exporter's own metrics (`metrics_generator_*`) are left out: they are checked in
    // formats.rs, and these tests compare the configured families exactly.
    json.as_array()
        .expect("a list of families")
        .iter()
        .filter(|f| !f["name"].as_str().is_some_and(|n| n.starts_with("metrics_generator_")))
        .map(|f| Family {
            name: text(&f["name"]),
            kind: text(&f["type"]),
            help: text(&f["help"]),
            samples: f["samples"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    let labels = s["labels"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), text(v))).collect();
                    (text(&s["name"]), labels, text(&s["value"]).parse().expect("a float repr"))
                })
                .collect(),
        })
        .collect()
}

/// Builds the expected family.
fn family(name: &str, kind: &str, help: &str, samples: &[Expected]) -> Family {
    Family {
        name: name.to_string(),
        kind: kind.to_string(),
        help: help.to_string(),
        samples: samples
            .iter()
            .map(|(sample, labels, value)| {
                let labels = labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
                (sample.to_string(), labels, *value)
            })
            .collect(),
    }
}

#[test]
fn reference_parser_reads_the_golden_config_exactly() {
    let Some(python) = require_python_module("prometheus_client") else { return };
    let config = std::fs::read_to_string(root().join("tests/data/golden/config.json")).unwrap();
    // A long interval keeps the exporter at tick 1, whose values are known.
    let exporter = Exporter::with_config(&config, &["--interval", "1h"]);
    let families = parse(&python, &exporter.get("/metrics").text());
    // The parser names a counter family without `_total` and keeps the suffix on its samples.
    let expected = [
        family(
            "test_metrics_square",
            "gauge",
            "A gauge whose HELP has a backslash \\ and a\nnewline",
            &[("test_metrics_square", &[], 1.0)],
        ),
        family(
            "test_metrics_power",
            "gauge",
            "Synthetic gauge following the power function.",
            &[("test_metrics_power", &[], 1.0)],
        ),
        family(
            "test_metrics_jobs_done",
            "counter",
            "Jobs done",
            &[
                ("test_metrics_jobs_done_total", &[("queue", "default")], 1.0),
                ("test_metrics_jobs_done_total", &[("queue", "say \"hi\" \\ back\nslash ünïcødé ✓")], 2.0),
            ],
        ),
        family(
            "test_metrics_requests",
            "counter",
            "Synthetic counter following the square function.",
            &[("test_metrics_requests_total", &[("code", "200"), ("method", "GET")], 1.0)],
        ),
        family(
            "test_metrics_noise",
            "gauge",
            "Synthetic gauge following the normal function.",
            &[("test_metrics_noise", &[], 63.64992297457228)],
        ),
    ];
    assert_eq!(families, expected);
}

#[test]
fn reference_parser_reads_escaped_label_values_and_help_exactly() {
    let Some(python) = require_python_module("prometheus_client") else { return };
    // The config the Prometheus server test scrapes, whose label values and HELP are built so
    // that any missing or extra escape changes what a parser reads.
    let exporter = Exporter::with_config(&exporter_config(), &["--interval", "1h"]);
    let families = parse(&python, &exporter.get("/metrics").text());
    let labels: Vec<[(&str, &str); 1]> = TRICKY.iter().map(|value| [("value", *value)]).collect();
    let tricky: Vec<Expected> = labels.iter().map(|l| ("test_metrics_tricky", &l[..], 1.0)).collect();
    let expected = [
        family("test_metrics_square", "gauge", SQUARE_HELP, &[("test_metrics_square", &[], 1.0)]),
        family(
            "test_metrics_jobs_done",
            "counter",
            COUNTER_HELP,
            &[("test_metrics_jobs_done_total", &[("queue", "default")], 1.0)],
        ),
        family("test_metrics_tricky", "gauge", TRICKY_HELP, &tricky),
    ];
    assert_eq!(families, expected);
}

#[test]
fn reference_parser_reads_every_value_back_to_the_same_f64() {
    let Some(python) = require_python_module("prometheus_client") else { return };
    // At tick 1 `exponential` yields its base, so each base is a value to print: integers up to
    // 2^53, shortest round-trip decimals, and magnitudes that must not become 300-digit strings.
    let bases =
        [3.0, 0.1, 9_007_199_254_740_992.0, 9_007_199_254_740_994.0, 1e20, 1.5e-7, 1e300, 1.7976931348623157e308];
    let entries: Vec<Value> = bases
        .iter()
        .enumerate()
        .map(|(n, base)| {
            serde_json::json!({"name": "value", "metric_type": "gauge", "custom_function": "exponential",
                               "labels": {"n": n.to_string()}, "params": {"base": base}})
        })
        .collect();
    let exporter = Exporter::with_config(&Value::from(entries).to_string(), &["--namespace", "", "--interval", "1h"]);
    let families = parse(&python, &exporter.get("/metrics").text());
    assert_eq!(families.len(), 1, "{families:?}");
    let values: Vec<f64> = families[0].samples.iter().map(|(_, _, v)| *v).collect();
    // A family's samples come in config order.
    assert_eq!(values, bases);
}
