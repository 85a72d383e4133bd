//! The modes that print and exit: a reader that goes away early (`| head`) ends every one of them
//! quietly with status 0, and the OpenMetrics export takes time linear in the number of entries.

use crate::support::{bin, run, TempDir};
use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts `args`, reads the first kilobyte of its output, closes the pipe and waits for the exit.
#[track_caller]
fn closed_early(args: &[&str]) {
    let mut child = Command::new(bin())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the binary");
    let mut first = [0u8; 1024];
    child.stdout.take().unwrap().read_exact(&mut first).expect("the first kilobyte");
    // The pipe's read end is closed here; the next write fails with EPIPE.
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            child.kill().ok();
            panic!("{args:?} still running 20 s after its reader went away");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(status.success(), "{args:?} exited with {status} when its reader went away: {stderr}");
    assert_eq!(stderr, "", "{args:?}");
}

#[test]
fn a_reader_that_goes_away_ends_every_printing_mode_quietly() {
    closed_early(&["--preview", "1000000"]);
    closed_early(&["--export-promtool-tests", "-", "--ticks", "1000000"]);
    closed_early(&["--export-openmetrics", "-", "--ticks", "1000000", "--start", "1700000000"]);
}

/// The OpenMetrics export groups entries into families through a map: 20,000 single-series
/// families take about ten times as long as 2,000, where grouping by scanning (as it once did)
/// took a hundred times as long. The bound leaves room for a noisy machine.
#[test]
fn the_openmetrics_export_is_linear_in_the_number_of_entries() {
    let _heavy = crate::support::heavy();
    let dir = TempDir::new();
    let timed = |entries: usize| {
        let config: Vec<String> = (0..entries)
            .map(|i| format!(r#"{{"name":"m{i}","metric_type":"counter","custom_function":"square"}}"#))
            .collect();
        let path = dir.write(&format!("c{entries}.json"), format!("[{}]", config.join(",\n")));
        let export = dir.path().join(format!("c{entries}.om"));
        let started = Instant::now();
        let out = run(&[
            "--export-openmetrics",
            export.to_str().unwrap(),
            "--ticks",
            "1",
            "--start",
            "1700000000",
            "--config",
            path.to_str().unwrap(),
        ]);
        let took = started.elapsed();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let text = std::fs::read_to_string(&export).unwrap();
        assert_eq!(text.matches("# TYPE ").count(), entries, "one family per entry");
        took
    };
    // The smaller run first warms the page cache and the binary.
    timed(2_000);
    let (small, large) = (timed(2_000), timed(20_000));
    let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-3);
    assert!(ratio < 40.0, "2,000 entries took {small:?}, 20,000 took {large:?}: {ratio:.1}× for 10× the entries");
}

/// `--preview` shows every series of a fan-out (its first 20 of each entry), each sample line a
/// column named exactly as `/metrics` names that sample, with the value `/metrics` serves at tick 1;
/// the series beyond 20 are counted under the table.
#[test]
fn preview_columns_are_the_samples_served() {
    let config = r#"[
        {"name": "load", "metric_type": "gauge", "custom_function": "normal", "series": 3,
         "labels": {"region": ["eu", "us"]}},
        {"name": "lat", "metric_type": "histogram", "custom_function": "constant", "params": {"value": 0.2},
         "buckets": [0.1, 0.5], "observations": 10, "labels": {"path": ["/a", "/b"]}},
        {"name": "many", "metric_type": "counter", "custom_function": "linear", "series": 23}
    ]"#;
    let dir = TempDir::new();
    let path = dir.write("fan.json", config);
    let out = run(&["--preview", "1", "--config", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let names: Vec<&str> = lines.next().unwrap().split_whitespace().skip(1).collect();
    let values: Vec<f64> = lines.next().unwrap().split_whitespace().skip(1).map(|v| v.parse().unwrap()).collect();
    assert_eq!(names.len(), 6 + 2 * 5 + 20, "{text}");
    assert_eq!(
        lines.next(),
        Some("3 more series of test_metrics_many_total{series=0..22} not shown (the preview shows the first 20 series of each entry)")
    );
    let exporter = crate::support::Exporter::start(&["--config", path.to_str().unwrap(), "--interval", "1h"]);
    let body = exporter.get("/metrics").text();
    for (name, value) in names.iter().zip(&values) {
        assert_eq!(crate::support::sample(&body, name), Some(*value), "{name} in\n{body}");
    }
    // Seeded series differ: the preview shows each one's own values, not series 0's.
    assert_ne!(values[0], values[1], "{text}");
}
