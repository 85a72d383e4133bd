//! Memory per series: the resident memory a fanned-out entry of seeded series costs, measured on
//! the real binary as `scripts/bench-http.sh` measures it (after one text scrape and one gzip
//! OpenMetrics scrape, the two bodies a mixed fleet of scrapers makes the exporter hold), against
//! the target of at most 100 bytes per series above the base (`docs/performance.md`).
//!
//! Seeded series have values of their own, so they are the expensive case: `uniform`'s long
//! decimals make its lines of exposition text the longest of the built-ins.

use crate::support::{heavy, proc_status, Exporter};

/// Series of the big exporter: enough that the per-series cost dwarfs the noise of the base.
const SERIES: u64 = 300_000;

/// The most resident memory a seeded series may cost above the base, its text included.
const MOST_BYTES_PER_SERIES: f64 = 100.0;

/// The resident memory of an exporter of `series` uniform series after one scrape in each of the
/// two forms, in bytes.
fn rss_after_scrapes(series: u64) -> u64 {
    rss_of(series, "gauge", &format!("test_metrics_load{{job=\"bench\",series=\"{}\"}} ", series - 1))
}

/// [`rss_after_scrapes`] for `series` seeded series of type `kind`, whose text body must hold
/// `last`.
fn rss_of(series: u64, kind: &str, last: &str) -> u64 {
    let config = format!(
        r#"[{{"name": "load", "metric_type": "{kind}", "custom_function": "uniform", "series": {series},
              "labels": {{"job": "bench"}}}}]"#
    );
    // A tick an hour: the values measured are those of the first tick, with no second one
    // rendering new bodies meanwhile.
    let exporter = Exporter::with_config(&config, &["--interval", "1h"]);
    let text = exporter.get("/metrics");
    assert_eq!(text.status, 200);
    assert!(text.text().contains(last), "the text body lacks its last series");
    let gzip = exporter.request(
        "GET",
        "/metrics",
        &[("Accept", "application/openmetrics-text; version=1.0.0"), ("Accept-Encoding", "gzip")],
    );
    assert_eq!((gzip.status, gzip.header("Content-Encoding")), (200, Some("gzip")));
    // Both bodies were rendered before they were sent, so what they cost is resident now.
    let kb = proc_status(exporter.pid(), "VmRSS");
    kb.trim_end_matches("kB").trim().parse::<u64>().expect("VmRSS in kB") * 1024
}

#[test]
fn seeded_series_cost_at_most_100_bytes_of_rss_each() {
    let _heavy = heavy();
    let base = rss_after_scrapes(1);
    let big = rss_after_scrapes(SERIES);
    let per_series = big.saturating_sub(base) as f64 / SERIES as f64;
    eprintln!(
        "RSS: base {} kB, {SERIES} uniform series {} kB: {per_series:.1} bytes per series",
        base / 1024,
        big / 1024
    );
    assert!(
        per_series <= MOST_BYTES_PER_SERIES,
        "{per_series:.1} bytes of RSS per series above a base of {} kB (at most {MOST_BYTES_PER_SERIES})",
        base / 1024
    );
}

/// A histogram series serves 14 lines with the default buckets (11 buckets, `+Inf`, sum and
/// count) and keeps 13 numbers between ticks: it may cost at most 100 bytes of RSS per line it
/// serves, its text included.
#[test]
fn histogram_series_cost_at_most_100_bytes_of_rss_per_line() {
    const HISTOGRAMS: u64 = 30_000;
    const LINES: f64 = 14.0;
    let _heavy = heavy();
    let base = rss_of(1, "histogram", "test_metrics_load_count{job=\"bench\",series=\"0\"} ");
    let last = format!("test_metrics_load_count{{job=\"bench\",series=\"{}\"}} ", HISTOGRAMS - 1);
    let big = rss_of(HISTOGRAMS, "histogram", &last);
    let per_line = big.saturating_sub(base) as f64 / HISTOGRAMS as f64 / LINES;
    eprintln!("RSS: base {} kB, {HISTOGRAMS} histograms {} kB: {per_line:.1} bytes per line", base / 1024, big / 1024);
    assert!(
        per_line <= MOST_BYTES_PER_SERIES,
        "{per_line:.1} bytes of RSS per served line (at most {MOST_BYTES_PER_SERIES})"
    );
}

/// A fan-out whose series churn into a new generation every tick costs no more than a stable
/// one: after several generations, at most 100 bytes of RSS per series, its text included. The
/// ticks come every 300 ms; the scrapes follow a few generation changes.
#[test]
fn churning_series_cost_at_most_100_bytes_of_rss_each() {
    const CHURNING: u64 = 200_000;
    let _heavy = heavy();
    let rss = |series: u64| {
        let config = format!(
            r#"[{{"name": "load", "metric_type": "gauge", "custom_function": "uniform", "series": {series},
                  "labels": {{"job": "bench"}}, "churn": {{"every": 1}}}}]"#
        );
        let exporter = Exporter::with_config(&config, &["--interval", "300ms"]);
        // Five generations or more, each scraped in both forms.
        let started = std::time::Instant::now();
        let mut generations = std::collections::HashSet::new();
        while generations.len() < 5 && started.elapsed() < std::time::Duration::from_secs(20) {
            let text = exporter.get("/metrics").text();
            if let Some(at) = text.find("generation=\"") {
                let rest = &text[at + "generation=\"".len()..];
                generations.insert(rest[..rest.find('"').unwrap()].to_string());
            }
            let gzip = exporter.request(
                "GET",
                "/metrics",
                &[("Accept", "application/openmetrics-text; version=1.0.0"), ("Accept-Encoding", "gzip")],
            );
            assert_eq!(gzip.status, 200);
        }
        assert!(generations.len() >= 5, "{} generations in 20 s", generations.len());
        let kb = proc_status(exporter.pid(), "VmRSS");
        kb.trim_end_matches("kB").trim().parse::<u64>().expect("VmRSS in kB") * 1024
    };
    let (base, big) = (rss(1), rss(CHURNING));
    let per_series = big.saturating_sub(base) as f64 / CHURNING as f64;
    eprintln!(
        "RSS: base {} kB, {CHURNING} churning series {} kB: {per_series:.1} bytes per series",
        base / 1024,
        big / 1024
    );
    assert!(per_series <= MOST_BYTES_PER_SERIES, "{per_series:.1} bytes of RSS per churning series");
}
