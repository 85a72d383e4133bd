//! The whole `/metrics` body for a config that exercises every exposition rule, compared with a
//! golden file and checked by `promtool check metrics`.
//!
//! Regenerate the golden file with `UPDATE_GOLDEN=1 cargo test golden`, then review the diff.

use crate::support::{require_tool, root, Exporter};
use std::io::Write;
use std::process::{Command, Stdio};

fn golden_body() -> String {
    let config = std::fs::read_to_string(root().join("tests/data/golden/config.json")).unwrap();
    // A long interval keeps the exporter at tick 1 for the whole test.
    let exporter = Exporter::with_config(&config, &["--interval", "1h"]);
    let response = exporter.get("/metrics");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("Content-Type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    response.text()
}

/// The body with the one value that depends on the wall clock (when the config was loaded)
/// replaced by `TIMESTAMP`, so that bodies from different processes can be compared.
fn masked(body: &str) -> String {
    let name = "metrics_generator_config_last_reload_success_timestamp_seconds ";
    body.lines().map(|l| if l.starts_with(name) { format!("{name}TIMESTAMP\n") } else { format!("{l}\n") }).collect()
}

#[test]
fn metrics_body_matches_the_golden_file() {
    let body = masked(&golden_body());
    let path = root().join("tests/data/golden/metrics.prom");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &body).unwrap();
    }
    let expected = std::fs::read_to_string(&path).expect("golden file; run with UPDATE_GOLDEN=1 to create it");
    assert_eq!(body, expected, "/metrics differs from {}", path.display());
    assert!(body.ends_with('\n'));
    // Same config and tick: byte-identical output from a second process.
    assert_eq!(masked(&golden_body()), body);
}

#[test]
fn promtool_accepts_the_body_without_warnings() {
    let Some(promtool) = require_tool("promtool") else { return };
    for body in [golden_body(), Exporter::start(&[]).get("/metrics").text()] {
        let mut child = Command::new(&promtool)
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(body.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert!(out.status.success() && said.trim().is_empty(), "promtool check metrics said:\n{said}\nfor:\n{body}");
    }
}
