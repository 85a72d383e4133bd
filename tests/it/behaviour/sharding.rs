//! `--shard K/N`: N shards of one config, aligned to the wall clock, serve together exactly the
//! samples one unsharded process serves, each sample in one shard; `hostname/N` takes K from the
//! host name; bad values are one clear error; `/api/v1/expected` answers for the shard, or with
//! `shard=all` for the whole config.

use crate::support::{assert_fails, run, Exporter, TempDir};
use std::collections::BTreeSet;

/// Every type, fan-outs of every kind (seeded, shared, label lists), and a churning entry, so
/// that the global numbering crosses entries and families.
const CONFIG: &str = r#"[
  {"name": "load", "metric_type": "gauge", "custom_function": "uniform", "series": 40, "labels": {"job": "bench"}},
  {"name": "requests", "metric_type": "counter", "custom_function": "square", "labels": {"route": ["/a", "/b", "/c"]}},
  {"name": "latency_seconds", "metric_type": "histogram", "custom_function": "normal", "series": 5,
   "params": {"mean": 0.3, "sd": 0.05}, "buckets": [0.1, 0.3, 1], "reset_interval": 60},
  {"name": "size_bytes", "metric_type": "summary", "custom_function": "constant", "params": {"value": 2}},
  {"name": "load", "metric_type": "gauge", "custom_function": "sine", "labels": {"job": "other"}},
  {"name": "phase", "metric_type": "stateset", "custom_function": "linear", "states": ["a", "b"]},
  {"name": "pods", "metric_type": "gauge", "custom_function": "linear", "series": 7, "churn": {"every": 5}},
  {"name": "build", "metric_type": "info", "labels": {"version": "1"}}
]"#;

/// The configured samples of a body (the exporter's own left out), as whole lines.
fn samples(body: &str) -> Vec<String> {
    body.lines().filter(|l| !l.starts_with('#') && !l.starts_with("metrics_generator_")).map(str::to_string).collect()
}

/// The tick an exporter serves, from `/health`.
fn tick(exporter: &Exporter) -> u64 {
    exporter.get("/health").json()["ticks"].as_u64().unwrap()
}

#[test]
fn shards_together_serve_what_one_process_serves() {
    let dir = TempDir::new();
    let config = dir.write("c.json", CONFIG);
    let config = config.to_str().unwrap();
    // An hour a tick on the wall clock: every process serves the same tick (the test retries
    // when an hour begins in the middle of it).
    let base = ["--config", config, "--align", "wall-clock", "--interval", "1h"];
    for attempt in 0..2 {
        let whole = Exporter::start(&base);
        let expected: BTreeSet<String> = samples(&whole.get("/metrics").text()).into_iter().collect();
        let mut same_tick = true;
        for n in [1u64, 3, 7] {
            let mut union = BTreeSet::new();
            let mut total = 0;
            for k in 0..n {
                let shard = format!("{k}/{n}");
                let mut args = base.to_vec();
                args.extend(["--shard", &shard]);
                let exporter = Exporter::start(&args);
                same_tick &= tick(&exporter) == tick(&whole);
                let body = exporter.get("/metrics").text();
                let lines = samples(&body);
                total += lines.len();
                // Its own count of the series it serves.
                let served = crate::support::sample(&body, "metrics_generator_series").unwrap();
                assert!(served > 0.0 || lines.is_empty(), "{shard}: {served}");
                union.extend(lines);
            }
            if !same_tick {
                break;
            }
            assert_eq!(total, union.len(), "{n} shards: a sample served by two shards");
            assert_eq!(union, expected, "{n} shards together serve what one process serves");
        }
        if same_tick {
            return;
        }
        assert_eq!(attempt, 0, "the processes never served the same tick");
    }
}

#[test]
fn the_global_numbering_spreads_a_fan_out_evenly() {
    // 3 entries of 10 series: series g = 0 … 29 over the config; shard 1/4 serves g = 1, 5, 9, …
    let config = r#"[{"name": "a", "metric_type": "gauge", "custom_function": "square", "series": 10},
        {"name": "b", "metric_type": "gauge", "custom_function": "square", "series": 10},
        {"name": "c", "metric_type": "gauge", "custom_function": "square", "series": 10}]"#;
    let exporter = Exporter::with_config(config, &["--interval", "1h", "--shard", "1/4", "--namespace", ""]);
    let body = exporter.get("/metrics").text();
    let served: Vec<String> = samples(&body).iter().map(|l| l.split(' ').next().unwrap().to_string()).collect();
    let expected: Vec<String> = (0..30u64)
        .filter(|g| g % 4 == 1)
        .map(|g| format!("{}{{series=\"{}\"}}", ["a", "b", "c"][(g / 10) as usize], g % 10))
        .collect();
    assert_eq!(served, expected);
    assert_eq!(crate::support::sample(&body, "metrics_generator_series"), Some(8.0));
    // The self-metrics say the shard (SPEC §10), so that a query can check every shard is scraped.
    assert_eq!(crate::support::sample(&body, "metrics_generator_shard_index"), Some(1.0));
    assert_eq!(crate::support::sample(&body, "metrics_generator_shard_count"), Some(4.0));
    let health = exporter.get("/health").json();
    assert_eq!((health["metrics_count"].as_u64(), health["shard"].as_str()), (Some(8), Some("1/4")));
    // The expected values: this shard's series, or with shard=all every one.
    let mine = exporter.get("/api/v1/expected?metric=a").json();
    assert_eq!(mine["data"]["result"].as_array().unwrap().len(), 3, "{mine}");
    let all = exporter.get("/api/v1/expected?metric=a&shard=all").json();
    assert_eq!(all["data"]["result"].as_array().unwrap().len(), 10, "{all}");
    // --check-config says how many of the config's series the shard serves.
    let dir = TempDir::new();
    let path = dir.write("c.json", config);
    let out = run(&["--check-config", "--config", path.to_str().unwrap(), "--shard", "1/4"]);
    let said = String::from_utf8(out.stdout).unwrap();
    assert!(
        said.starts_with(&format!("config {} is valid: 30 series; shard 1/4 serves 8 of them\n", path.display())),
        "{said}"
    );
}

#[test]
fn the_shard_can_come_from_the_host_name() {
    let config = r#"[{"name": "a", "metric_type": "gauge", "custom_function": "square", "series": 10}]"#;
    let dir = TempDir::new();
    let path = dir.write("c.json", config);
    let mut command = std::process::Command::new(crate::support::bin());
    command
        .args(["--config", path.to_str().unwrap(), "--interval", "1h", "--shard", "hostname/5"])
        .args(["--listen-address", "127.0.0.1:0"])
        .env("HOSTNAME", "metrics-generator-3");
    let exporter = Exporter::start_command(command);
    assert_eq!(exporter.get("/health").json()["shard"], "3/5");
    let out = std::process::Command::new(crate::support::bin())
        .args(["--check-config", "--config", path.to_str().unwrap(), "--shard", "hostname/5"])
        .env("HOSTNAME", "workstation")
        .output()
        .unwrap();
    assert_fails(&out, 2, "--shard hostname/N: the host name \"workstation\" does not end in -NUMBER");
}

#[test]
fn bad_shards_are_one_clear_error() {
    for (shard, message) in [
        ("3/3", "--shard: \"3/3\": K must be less than N (shards are numbered 0 to 2)"),
        ("0/0", "--shard: \"0/0\": N must be at least 1"),
        ("1", "--shard: \"1\" is not K/N (e.g. 0/3) or hostname/N"),
        ("a/2", "--shard: \"a/2\" is not K/N (e.g. 0/3) or hostname/N"),
    ] {
        let out = run(&["--check-config", "--shard", shard]);
        assert_fails(&out, 2, message);
    }
}

/// `--max-series` counts the whole config, not the shard (SPEC §10): every process given the
/// same config and flags accepts or refuses it alike.
#[test]
fn max_series_counts_the_whole_config() {
    let dir = TempDir::new();
    let config =
        dir.write("c.json", r#"[{"name": "a", "metric_type": "gauge", "custom_function": "square", "series": 30}]"#);
    let config = config.to_str().unwrap();
    // Shard 1 of 4 serves 8 series, under the limit; the config has 30, over it.
    let out = run(&["--check-config", "--config", config, "--max-series", "20", "--shard", "1/4"]);
    assert_fails(&out, 2, "the config expands to more than 20 series (--max-series); it has 30 series up to here");
    let out = run(&["--check-config", "--config", config, "--max-series", "30", "--shard", "1/4"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_shard_without_series_warns_and_serves_only_its_own_metrics() {
    let config = r#"[{"name": "a", "metric_type": "gauge", "custom_function": "square", "series": 2}]"#;
    let exporter = Exporter::with_config(config, &["--interval", "1h", "--shard", "5/7"]);
    let body = exporter.get("/metrics").text();
    assert!(samples(&body).is_empty(), "{body}");
    assert_eq!(crate::support::sample(&body, "metrics_generator_series"), Some(0.0));
    assert!(exporter.stderr().contains("shard 5/7 has no series"), "{}", exporter.stderr());
    let page = exporter.get("/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("no series in this shard"), "{}", page.text());
}

/// The exports and `--preview` follow `--shard`: N exports of the N shards hold together the
/// unsharded export's series, each once, with the same values; a shard's preview shows its series.
#[test]
fn exports_and_preview_follow_the_shard() {
    let dir = TempDir::new();
    let config = dir.write("c.json", CONFIG);
    let config = config.to_str().unwrap();
    let export = |flags: &[&str], shard: Option<&str>| -> String {
        let mut args = vec!["--config", config];
        args.extend_from_slice(flags);
        if let Some(shard) = shard {
            args.extend(["--shard", shard]);
        }
        let out = run(&args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    // promtool's input_series: `series` lines with their `values` lines, as pairs.
    let promtool = |text: &str| -> Vec<(String, String)> {
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        lines
            .windows(2)
            .filter(|w| w[0].starts_with("- series: "))
            .map(|w| (w[0].to_string(), w[1].to_string()))
            .collect()
    };
    let openmetrics = |text: &str| -> Vec<String> {
        text.lines().filter(|l| !l.starts_with('#')).map(str::to_string).collect::<Vec<_>>()
    };
    let promtool_flags = ["--export-promtool-tests", "-", "--ticks", "12"];
    let om_flags = ["--export-openmetrics", "-", "--ticks", "3", "--start", "1700000000"];
    let whole_p = promtool(&export(&promtool_flags, None));
    let whole_o = openmetrics(&export(&om_flags, None));
    assert!(whole_p.len() > 60 && whole_o.len() > 180, "{} {}", whole_p.len(), whole_o.len());
    let (mut union_p, mut union_o) = (Vec::new(), Vec::new());
    for k in 0..3 {
        let shard = format!("{k}/3");
        let text = export(&promtool_flags, Some(&shard));
        assert!(text.contains(&format!(" of shard {shard} (of ")), "{text}");
        let part = promtool(&text);
        assert!(!part.is_empty() && part.len() < whole_p.len(), "shard {shard}");
        union_p.extend(part);
        union_o.extend(openmetrics(&export(&om_flags, Some(&shard))));
    }
    assert_eq!(union_p.len(), whole_p.len(), "each series in one shard's export");
    assert_eq!(BTreeSet::from_iter(union_p), BTreeSet::from_iter(whole_p));
    // `# EOF` aside, every sample line is in exactly one shard's export.
    assert_eq!(union_o.len(), whole_o.len());
    assert_eq!(BTreeSet::from_iter(union_o), BTreeSet::from_iter(whole_o));

    let preview = export(&["--preview", "2"], Some("1/3"));
    let header = preview.lines().next().unwrap();
    assert!(header.contains(r#"test_metrics_load{job="bench",series="1"}"#), "{header}");
    assert!(header.contains(r#"test_metrics_load{job="bench",series="4"}"#), "{header}");
    assert!(!header.contains(r#"test_metrics_load{job="bench",series="0"}"#), "{header}");
    assert!(preview.contains("shard 1/3: the "), "{preview}");
}

/// A reload under `--shard` that moves an entry's share (an earlier fan-out grew, so the global
/// numbers after it shifted) serves what a process started with the new config serves: the
/// moved entry starts afresh with its new series, and every count in the summary is this
/// shard's.
#[test]
fn a_reload_that_moves_the_shard_lines_serves_the_new_share() {
    let before = r#"[{"name": "a", "metric_type": "gauge", "custom_function": "square", "series": 2},
                     {"name": "b", "metric_type": "gauge", "custom_function": "uniform", "series": 6}]"#;
    let after = before.replace(r#""series": 2"#, r#""series": 3"#);
    let dir = TempDir::new();
    let config = dir.write("c.json", before);
    let base = ["--config", config.to_str().unwrap(), "--align", "wall-clock", "--interval", "1h", "--shard", "0/4"];
    let reloaded = Exporter::start(&[&base[..], &["--web.enable-lifecycle"]].concat());
    assert_eq!(samples(&reloaded.get("/metrics").text()).len(), 2, "a0 and b2 (global 0 and 4)");
    std::fs::write(&config, &after).unwrap();
    let answer = reloaded.request("POST", "/-/reload", &[]);
    assert_eq!(answer.status, 200, "{}", answer.text());
    // Shard 0 of 4 held a0 and b2 (global 0 and 4); now a0 and b1, b5 (global 0, 4 and 8). `a`
    // has another fan-out (a new series, its old one removed); `b` changed its share.
    let summary = "reloaded: 3 series (0 kept their place, 2 changed, 1 started, 1 removed)";
    assert!(answer.text().contains(summary), "{}", answer.text());
    let fresh_dir = TempDir::new();
    let fresh_config = fresh_dir.write("c.json", &after);
    let fresh_args =
        ["--config", fresh_config.to_str().unwrap(), "--align", "wall-clock", "--interval", "1h", "--shard", "0/4"];
    let fresh = Exporter::start(&fresh_args);
    let body = reloaded.get("/metrics");
    assert_eq!(body.status, 200, "{}", body.text());
    assert_eq!(tick(&reloaded), tick(&fresh), "an hour began during the test; run it again");
    assert_eq!(samples(&body.text()), samples(&fresh.get("/metrics").text()));
}
