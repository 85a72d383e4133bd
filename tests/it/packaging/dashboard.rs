//! The Grafana dashboard under `dashboards/` is valid JSON and graphs only metrics that the
//! example config (with the default namespace) actually serves, so it cannot drift from them.

use crate::support::{root, Exporter};

/// Every `expr` (queries) and `query`/`definition` (template variables) string in the dashboard.
fn queries(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("expr" | "definition", serde_json::Value::String(s)) => out.push(s.clone()),
                    _ => queries(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| queries(v, out)),
        _ => {}
    }
}

/// The metric names a PromQL query mentions: identifiers with our two prefixes.
fn metric_names(query: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut current = String::new();
    for c in query.chars().chain([' ']) {
        if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
            current.push(c);
        } else {
            if current.starts_with("test_metrics_") || current.starts_with("metrics_generator_") {
                names.push(current.clone());
            }
            current.clear();
        }
    }
    names
}

#[test]
fn dashboard_queries_use_only_served_metrics() {
    let text = std::fs::read_to_string(root().join("dashboards/metrics-generator.json")).unwrap();
    let dashboard: serde_json::Value = serde_json::from_str(&text).expect("dashboard is valid JSON");
    assert!(dashboard["panels"].as_array().is_some_and(|p| !p.is_empty()));

    let body = Exporter::start(&["--interval", "1h"]).get("/metrics").text();
    let served: Vec<&str> =
        body.lines().filter(|l| !l.starts_with('#')).map(|l| l.split(['{', ' ']).next().unwrap()).collect();

    let mut all = Vec::new();
    queries(&dashboard, &mut all);
    assert!(all.len() >= 8, "{all:?}");
    for query in &all {
        let names = metric_names(query);
        assert!(!names.is_empty(), "query names no metric of the exporter: {query}");
        for name in names {
            assert!(served.contains(&name.as_str()), "{query}: {name} is not served; served: {served:?}");
        }
    }
    for name in [
        "test_metrics_custom_square",
        "test_metrics_custom_power",
        "test_metrics_jobs_done_total",
        "test_metrics_temperature_celsius",
    ] {
        assert!(all.iter().any(|q| q.contains(name)), "no panel graphs {name}");
    }
}
