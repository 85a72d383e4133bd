//! A real Prometheus server (Debian's `prometheus`, 2.42) scrapes the exporter every second, and
//! its HTTP API shows what it ingested: the target is up, every series arrived, the square gauge
//! reads 1, 4, 9, … in order, a counter with `reset_interval` resets and still has a positive rate,
//! label values that need escaping select their series exactly, and each family's TYPE and HELP
//! arrived as metadata.
//!
//! Prometheus runs on loopback with its own storage in a temporary directory and is killed when
//! the test ends, also on a panic. Run this alone with `cargo test --test it prometheus_server`.

use crate::support::prometheus::{number, promql_string, unix_now, url_encode, Prometheus};
use crate::support::{free_port, poll, require_tool, Exporter, TempDir};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

/// Label values that each need an escape, or more than ASCII, in the exposition text. The last
/// one holds backslashes written before `n`, `"` and `\`, which a missing escape turns into a
/// newline, a quote or a single backslash; a backslash before anything else reads back as itself.
pub const TRICKY: [&str; 6] = [
    "say \"hi\"",
    "back\\slash",
    "new\nline",
    "ünïcødé ✓ 温度",
    "all \" \\ \n ✓ together",
    "written out: \\n \\\" \\\\",
];

/// HELP escapes only `\` and newline; this text has both, and a backslash written before `n`.
pub const SQUARE_HELP: &str = "The square gauge: 1, 4, 9, …\nIts HELP holds a backslash \\ and the two characters \\n.";
pub const COUNTER_HELP: &str = "Jobs done, a square counter that restarts every 3 ticks";
pub const TRICKY_HELP: &str = "Series whose label values need escaping";

/// The exporter's config: one square gauge, one counter that resets, and one series per tricky
/// label value, so `1 + 1 + TRICKY.len()` series in all.
pub fn exporter_config() -> String {
    let mut entries = vec![
        json!({"name": "square", "metric_type": "gauge", "custom_function": "square", "help": SQUARE_HELP}),
        json!({"name": "jobs_done", "metric_type": "counter", "custom_function": "square", "reset_interval": 3,
               "labels": {"queue": "default"}, "help": COUNTER_HELP}),
    ];
    for value in TRICKY {
        entries.push(json!({"name": "tricky", "metric_type": "gauge", "custom_function": "square",
                            "labels": {"value": value}, "help": TRICKY_HELP}));
    }
    Value::from(entries).to_string()
}

pub const SERIES: usize = 2 + TRICKY.len();

/// The exporter and the Prometheus server that scrapes it. Fields drop in order: the exporter,
/// then Prometheus, then the directory holding Prometheus's storage.
struct Stack {
    exporter: Exporter,
    prometheus: Prometheus,
    /// When the exporter started, in Unix seconds.
    started: f64,
    _dir: TempDir,
}

/// Starts Prometheus, then the exporter, on ports chosen free; retries once if one was taken.
fn start_stack(binary: &Path) -> Stack {
    try_start_stack(binary).unwrap_or_else(|why| {
        eprintln!("retrying once: {why}");
        try_start_stack(binary).unwrap_or_else(|why| panic!("{why}"))
    })
}

fn try_start_stack(binary: &Path) -> Result<Stack, String> {
    let dir = TempDir::new();
    let config = dir.write("config.json", exporter_config());
    let exporter_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    dir.write(
        "prometheus.yml",
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n\
             scrape_configs:\n  - job_name: exporter\n    static_configs:\n      - targets: ['{exporter_addr}']\n"
        ),
    );
    let prometheus = Prometheus::try_start(binary, dir.path(), &[])?;

    // Prometheus scrapes at a fixed phase of each second, and the exporter serves its first value
    // for exactly one second from start-up. To see that first value, the exporter starts half a
    // second after a scrape, so the next scrape comes half a second later, with half a second of
    // margin on each side for a late timer or a loaded machine. Prometheus applies new targets
    // every 5 s, so its first (failing, nothing listens yet) scrape can take that long.
    let first = prometheus.last_scrape();
    let scraped =
        poll(Duration::from_secs(15), || prometheus.last_scrape().filter(|last| Some(last) != first.as_ref()));
    assert!(scraped.is_some(), "prometheus did not try the target in 15 s: {:?}", prometheus.target());
    std::thread::sleep(Duration::from_millis(500));

    let started = unix_now();
    let config = config.to_str().unwrap();
    let listen = exporter_addr.to_string();
    // -v logs the format and encoding of each /metrics answer, which the test reads back.
    let args = ["--config", config, "--interval", "1s", "--listen-address", &listen, "-v"];
    let exporter = match Exporter::try_start(&args) {
        Ok(exporter) => exporter,
        Err(why) if why.contains("cannot listen on") => return Err(why),
        Err(why) => panic!("{why}"),
    };
    Ok(Stack { exporter, prometheus, started, _dir: dir })
}

/// Checks the values of the square gauge as Prometheus stored them, in time order. Prometheus
/// scrapes once a second and the exporter ticks once a second, each on its own fixed grid, half
/// a second apart; so each scrape normally sees the next square. Jitter in either can put two
/// scrapes within one tick (a value stored twice) or two ticks within one scrape interval (a
/// value never stored), and nothing else. The exact rule: every value is k² for a whole k ≥ 1,
/// the first is 1, and each consecutive pair (k², j²) has j ≥ k: the same tick, or one or more
/// whole ticks later; never back, never a value between squares. A range query's point is the
/// latest sample at or before its step, so the same rule holds for it.
fn check_square_sequence(values: &[f64]) -> Result<(), String> {
    let mut previous = 0;
    for &value in values {
        let k = value.sqrt().round() as u64;
        if k == 0 || (k * k) as f64 != value {
            return Err(format!("{value} is not the square of a whole k ≥ 1 in {values:?}"));
        }
        if previous == 0 && k != 1 {
            return Err(format!("the values begin at {value}, not 1: {values:?}"));
        }
        if k < previous {
            return Err(format!("{value} comes after {} in {values:?}", previous * previous));
        }
        previous = k;
    }
    if previous == 0 {
        return Err("no values".to_string());
    }
    Ok(())
}

#[test]
fn the_square_sequence_rule_accepts_only_whole_ticks_in_order_from_1() {
    for ok in [&[1.0][..], &[1.0, 4.0, 9.0, 16.0], &[1.0, 1.0, 4.0, 16.0, 25.0, 25.0]] {
        assert_eq!(check_square_sequence(ok), Ok(()), "{ok:?}");
    }
    for bad in [&[][..], &[4.0, 9.0], &[1.0, 9.0, 4.0], &[1.0, 4.0, 8.0], &[0.0, 1.0], &[1.0, 2.0]] {
        assert!(check_square_sequence(bad).is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn prometheus_scrapes_ingests_and_queries_the_exporter() {
    let Some(binary) = require_tool("prometheus") else { return };
    let clock = Instant::now();
    let stack = start_stack(&binary);
    let prometheus = &stack.prometheus;

    // Ten samples span nine ticks: three cycles of the counter that restarts every 3 ticks.
    let square = "test_metrics_square";
    let stored = poll(Duration::from_secs(25), || {
        let result = prometheus.query(&format!("count_over_time({square}[5m])"));
        result.first().map(|r| number(&r["value"][1])).filter(|&n| n >= 10.0)
    });
    // The target shows why, when a scrape failed; the exporter prints its stderr when dropped.
    assert!(stored.is_some(), "fewer than 10 samples in 25 s; target: {:?}", prometheus.target());

    target_is_up_with_every_series(prometheus);
    square_reads_1_4_9_in_order(prometheus, stack.started);
    counter_resets_and_has_a_positive_rate(prometheus);
    label_values_select_their_series_exactly(prometheus);
    metadata_has_each_family_type_and_help(prometheus);
    // Prometheus 2.42 has no `scrape_protocols`, but it asks for OpenMetrics first and for gzip on
    // every scrape, so that is what it got: the exporter's debug log says so for each answer.
    let log = stack.exporter.stderr();
    assert!(log.contains("GET /metrics: OpenMetrics 1.0.0, gzip"), "{log}");
    assert!(!log.contains("GET /metrics: text 0.0.4"), "{log}");
    eprintln!("prometheus end-to-end test: {:.1} s", clock.elapsed().as_secs_f64());
}

fn target_is_up_with_every_series(prometheus: &Prometheus) {
    let target = prometheus.target().expect("the target");
    assert_eq!(target["health"], "up", "{target}");
    assert_eq!(target["lastError"], "", "{target}");
    assert_eq!(target["labels"]["job"], "exporter", "{target}");
    assert_eq!(prometheus.value("up{job=\"exporter\"}"), 1.0);
    // Prometheus 2.42 asks for OpenMetrics first, so it scrapes that format: every series, the
    // exporter's nine self-metrics (five, and four of connections), and a `_created` sample for
    // each counter series (ours and metrics_generator_ticks_total).
    assert_eq!(prometheus.value("scrape_samples_scraped{job=\"exporter\"}"), (SERIES + 9 + 2) as f64);
}

fn square_reads_1_4_9_in_order(prometheus: &Prometheus, started: f64) {
    // Every stored sample, in time order.
    let raw = prometheus.query("test_metrics_square[5m]");
    assert_eq!(raw.len(), 1, "{raw:?}");
    let samples: Vec<f64> = raw[0]["values"].as_array().unwrap().iter().map(|p| number(&p[1])).collect();
    assert_eq!(check_square_sequence(&samples), Ok(()));
    // Ten samples are about nine seconds of ticks; a few may be lost to jitter, not most.
    let last = *samples.last().unwrap();
    assert!(last >= 64.0, "only up to {last} after {} samples: {samples:?}", samples.len());

    // The same through a range query, from before the exporter started until now.
    let path = format!(
        "/api/v1/query_range?query=test_metrics_square&start={:.3}&end={:.3}&step=1",
        started - 1.0,
        unix_now()
    );
    let data = prometheus.api(&path);
    let result = data["result"].as_array().unwrap();
    assert_eq!(result.len(), 1, "{data}");
    let points: Vec<f64> = result[0]["values"].as_array().unwrap().iter().map(|p| number(&p[1])).collect();
    assert_eq!(check_square_sequence(&points), Ok(()));
    // About one point per second since the first sample, so about as many as samples.
    assert!(points.len() >= 7 && *points.last().unwrap() >= 49.0, "{points:?}");
}

fn counter_resets_and_has_a_positive_rate(prometheus: &Prometheus) {
    let counter = "test_metrics_jobs_done_total{queue=\"default\"}";
    let raw = prometheus.query(&format!("{counter}[5m]"));
    assert_eq!(raw.len(), 1, "{raw:?}");
    let samples: Vec<f64> = raw[0]["values"].as_array().unwrap().iter().map(|p| number(&p[1])).collect();
    assert!(samples.iter().all(|v| [1.0, 4.0, 9.0].contains(v)), "not 1, 4, 9 repeated: {samples:?}");
    let resets = prometheus.value(&format!("resets({counter}[5m])"));
    assert!(resets >= 1.0, "resets = {resets} for {samples:?}");
    let rate = prometheus.value(&format!("rate({counter}[5m])"));
    assert!(rate > 0.0, "rate = {rate} for {samples:?}");
}

fn label_values_select_their_series_exactly(prometheus: &Prometheus) {
    // Every series arrived, with exactly the label values of the config.
    let series = prometheus.api(&format!("/api/v1/series?match[]={}", url_encode("test_metrics_tricky")));
    let series = series.as_array().unwrap();
    let found: BTreeSet<&str> = series.iter().map(|s| s["value"].as_str().unwrap()).collect();
    assert_eq!(found, TRICKY.into_iter().collect(), "{series:?}");
    for s in series {
        let names: BTreeSet<&str> = s.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(names, BTreeSet::from(["__name__", "instance", "job", "value"]), "{s}");
    }
    // Each value, written as a PromQL string literal, selects its own series and no other.
    for value in TRICKY {
        let selector = format!("test_metrics_tricky{{value={}}}", promql_string(value));
        let result = prometheus.query(&selector);
        assert_eq!(result.len(), 1, "{selector} returned {result:?}");
        assert_eq!(result[0]["metric"]["value"], value, "{selector}");
    }
}

fn metadata_has_each_family_type_and_help(prometheus: &Prometheus) {
    let metadata = prometheus.api("/api/v1/metadata");
    let ours: BTreeSet<&str> =
        metadata.as_object().unwrap().keys().map(String::as_str).filter(|k| k.starts_with("test_metrics_")).collect();
    // Prometheus scraped OpenMetrics, where a counter family is named without `_total` (in the
    // 0.0.4 text format its TYPE and HELP would carry the `_total` name): this proves the
    // negotiation as much as the metadata.
    let expected = [
        ("test_metrics_square", "gauge", SQUARE_HELP),
        ("test_metrics_jobs_done", "counter", COUNTER_HELP),
        ("test_metrics_tricky", "gauge", TRICKY_HELP),
    ];
    assert_eq!(ours, expected.iter().map(|(name, _, _)| *name).collect(), "{metadata}");
    for (name, kind, help) in expected {
        assert_eq!(metadata[name], json!([{"type": kind, "help": help, "unit": ""}]), "metadata of {name}");
    }
}
