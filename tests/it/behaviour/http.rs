//! Routing and HTTP behaviour (`docs/http-api.md`, "Endpoints"): endpoints, status codes, `Allow`, HEAD, query strings.

use crate::support::prometheus::unix_now;
use crate::support::{http_raw, Exporter};
use std::time::Instant;

#[test]
fn health_reports_its_fields_with_their_values() {
    // The test's own clocks bound what the exporter can report: it started after `before` and
    // answered before `after`.
    let before = (unix_now(), Instant::now());
    let exporter = Exporter::start(&["--interval", "2s"]);
    let response = exporter.get("/health");
    let after = (unix_now(), before.1.elapsed().as_secs_f64());
    assert_eq!(response.status, 200);
    assert_eq!(response.header("Content-Type"), Some("application/json"));
    let health = response.json();
    let number = |field: &str| health[field].as_f64().unwrap_or_else(|| panic!("{field} is not a number: {health}"));
    assert_eq!(health["status"], "healthy");
    assert_eq!(health["metrics_count"], 4);
    assert_eq!(health["interval_seconds"].as_f64(), Some(2.0));
    assert_eq!(health["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(health["align"], "start");
    // Up no longer than the test has run, and the last tick no older than that.
    let uptime = number("uptime_seconds");
    assert!(uptime > 0.0 && uptime <= after.1, "uptime {uptime} s, the test ran {} s: {health}", after.1);
    let since = number("last_tick_seconds_ago");
    assert!((0.0..=uptime).contains(&since), "{health}");
    // Ticks on a 2 s grid from start-up: tick 1 at once, tick k at 2·(k − 1) s.
    let ticks = health["ticks"].as_u64().unwrap();
    assert!(ticks >= 1 && (ticks - 1) as f64 * 2.0 <= uptime, "{ticks} ticks after {uptime} s: {health}");
    // The tick being served is on that grid, between the test's start and its answer.
    let tick_time = number("tick_time_seconds");
    assert!(before.0 <= tick_time && tick_time <= after.0, "tick time {tick_time} not in [{}, {}]", before.0, after.0);
}

#[test]
fn routes_methods_and_query_strings() {
    let exporter = Exporter::start(&["--interval", "1h"]);
    let metrics = exporter.get("/metrics");
    assert_eq!(metrics.status, 200);
    assert_eq!(exporter.get("/metrics?x=1&y").text(), metrics.text());
    assert_eq!(exporter.get("/health?verbose=1").status, 200);

    let landing = exporter.get("/");
    assert_eq!(landing.status, 200);
    assert_eq!(landing.header("Content-Type"), Some("text/html; charset=utf-8"));
    let html = landing.text();
    for needle in
        ["href=\"/metrics\"", "href=\"/health\"", "test_metrics_custom_square", "test_metrics_jobs_done_total"]
    {
        assert!(html.contains(needle), "landing page lacks {needle}:\n{html}");
    }

    for path in ["/nope", "/metrics/", "/metricsx", "/favicon.ico"] {
        assert_eq!(exporter.get(path).status, 404, "{path}");
    }
    assert_eq!(exporter.request("POST", "/nope", &[]).status, 404);

    for path in ["/metrics", "/health", "/", "/api/v1/expected"] {
        for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            let response = exporter.request(method, path, &[("Content-Length", "0")]);
            assert_eq!(response.status, 405, "{method} {path}");
            assert_eq!(response.header("Allow"), Some("GET, HEAD"), "{method} {path}");
        }
    }
}

#[test]
fn head_answers_like_get_without_a_body() {
    let exporter = Exporter::start(&["--interval", "1h"]);
    for path in ["/metrics", "/health", "/"] {
        let get = exporter.get(path);
        let head = exporter.request("HEAD", path, &[]);
        assert_eq!(head.status, 200, "{path}");
        assert_eq!(head.header("Content-Type"), get.header("Content-Type"), "{path}");
        if path != "/health" {
            // /health's body holds times, so only its type is compared.
            assert_eq!(head.header("Content-Length"), Some(get.body.len().to_string().as_str()), "{path}");
        }
        assert!(head.body.is_empty(), "HEAD {path} sent a body");
    }
}

#[test]
fn a_garbage_request_line_gets_an_error_not_a_crash() {
    let exporter = Exporter::start(&["--interval", "1h"]);
    let response = http_raw(exporter.addr, b"NOT HTTP AT ALL\r\n\r\n", false)
        .unwrap_or_else(|e| panic!("no answer to a garbage request line: {e}\n{}", exporter.stderr()));
    assert_eq!(response.status, 400, "{response:?}");
    assert_eq!(exporter.get("/metrics").status, 200);
}

/// Every endpoint of the table in `docs/http-api.md` answers (none is a 404), `--help` names it,
/// and the landing page links every one a browser can follow; the `/api/v1/expected` link answers
/// 200 with a series, since it names one.
#[test]
fn help_and_landing_page_name_every_endpoint() {
    let page = std::fs::read_to_string(crate::support::root().join("docs/http-api.md")).unwrap();
    let endpoints: Vec<(&str, &str)> = page
        .lines()
        .skip_while(|l| !l.starts_with("## Endpoints"))
        .take_while(|l| !l.starts_with("Query strings"))
        .flat_map(|l| l.split('`'))
        .filter_map(|cell| cell.split_once(' '))
        .filter(|(method, path)| ["GET", "POST"].contains(method) && path.starts_with('/'))
        .map(|(method, path)| (method, path.split('?').next().unwrap()))
        .collect();
    assert!(endpoints.len() >= 7, "{endpoints:?}");
    let help = String::from_utf8(crate::support::run(&["--help"]).stdout).unwrap();
    let exporter = Exporter::start(&["--interval", "1h"]);
    let html = exporter.get("/").text();
    for (method, path) in endpoints {
        let named = help.split(|c: char| c.is_whitespace() || c == ',').any(|word| word == path);
        assert!(named, "--help lacks {path}:\n{help}");
        let answer = exporter.request(method, path, &[("Content-Length", "0")]);
        assert_ne!(answer.status, 404, "{method} {path}");
        if method == "GET" && path != "/" {
            let link = html
                .split("href=\"")
                .skip(1)
                .filter_map(|rest| rest.split('"').next())
                .find(|href| href.split('?').next() == Some(path))
                .unwrap_or_else(|| panic!("the landing page lacks a link to {path}:\n{html}"));
            assert_eq!(exporter.get(&link.replace("&amp;", "&")).status, 200, "{link}");
        }
    }
}
