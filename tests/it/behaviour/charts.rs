//! The charts: the landing page loaded by a real browser (headless Chromium) under its
//! Content-Security-Policy, the cap on entries drawn, and `--preview N --svg PATH`.

use crate::support::{require_tool, root, run, run_command_within, Exporter, TempDir};
use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// One entry of each kind of chart: a gauge, a fan-out with an `active` window, a histogram and a
/// summary (three quantile lines each), a stateset (a step line), a churning gauge and an info.
const CONFIG: &str = r#"[
 {"name": "wave", "metric_type": "gauge", "custom_function": "sine", "params": {"period": 30}},
 {"name": "jobs", "metric_type": "counter", "custom_function": "linear", "series": 3,
  "active": {"every": 20, "for": 12}},
 {"name": "latency", "metric_type": "histogram", "custom_function": "sine",
  "params": {"amplitude": 0.1, "period": 40, "offset": 0.3}, "distribution": {"type": "lognormal", "sigma": 0.5}},
 {"name": "payload", "metric_type": "summary", "custom_function": "constant", "params": {"value": 2048},
  "distribution": {"type": "normal", "sd": 300}},
 {"name": "phase", "metric_type": "stateset", "custom_function": "step",
  "params": {"values": [0, 1, 2], "hold": [5, 10, 5]}, "states": ["starting", "ready", "draining"]},
 {"name": "pods", "metric_type": "gauge", "custom_function": "random_walk", "churn": {"every": 25, "label": "pod"}},
 {"name": "build", "metric_type": "info", "labels": {"version": "1.2.3"}}
]"#;

/// What one `<svg class="chart">` draws: its entry, its polylines (trace and number of points),
/// its dots (lone ticks between gaps), its generation marks, and its title.
#[derive(Debug, PartialEq)]
struct Chart {
    entry: String,
    polylines: Vec<(String, usize)>,
    dots: usize,
    generations: usize,
    title: String,
}

/// A chart of `entry` with `polylines`, `dots` and `generations`, whatever its title.
fn chart(entry: &str, polylines: &[(&str, usize)], dots: usize, generations: usize) -> Chart {
    let polylines = polylines.iter().map(|(trace, n)| (trace.to_string(), *n)).collect();
    Chart { entry: entry.to_string(), polylines, dots, generations, title: String::new() }
}

/// What each chart of [`CONFIG`] draws at tick 1 (the window is tick 1 to 61).
fn expected() -> Vec<Chart> {
    let quantiles = [("p50", 61), ("p90", 61), ("p99", 61)];
    vec![
        chart("test_metrics_wave", &[("value", 61)], 0, 0),
        // Served at ticks 1–12, 21–32, 41–52 and 61 (a dot).
        chart("test_metrics_jobs_total", &[("value", 12), ("value", 12), ("value", 12)], 1, 0),
        chart("test_metrics_latency", &quantiles, 0, 0),
        chart("test_metrics_payload", &quantiles, 0, 0),
        // A step line: two points a tick.
        chart("test_metrics_phase", &[("state", 122)], 0, 0),
        // New generations at ticks 26 and 51.
        chart("test_metrics_pods", &[("value", 61)], 0, 2),
        chart("test_metrics_build_info", &[("value", 61)], 0, 0),
    ]
}

/// The `<svg class="chart">` elements of a page or DOM.
fn charts(html: &str) -> Vec<Chart> {
    html.split("<svg ")
        .skip(1)
        .filter(|svg| svg.contains("class=\"chart\""))
        .map(|svg| {
            let svg = svg.split("</svg>").next().unwrap();
            let attr = |element: &str, name: &str| -> String {
                element.split(&format!(" {name}=\"")).nth(1).unwrap().split('"').next().unwrap().to_string()
            };
            let polylines = svg
                .split("<polyline ")
                .skip(1)
                .map(|p| (attr(p, "data-trace"), attr(p, "points").split_whitespace().count()))
                .collect();
            let title = svg.split("<title").nth(1).unwrap().split_once('>').unwrap().1;
            Chart {
                entry: attr(svg, "data-entry"),
                polylines,
                dots: svg.matches("<circle ").count(),
                generations: svg.matches("class=\"generation\"").count(),
                title: title.split("</title>").next().unwrap().to_string(),
            }
        })
        .collect()
}

/// Where the test's artifacts go: `target/test-artifacts/`, kept after the run.
fn artifacts() -> std::path::PathBuf {
    let dir = root().join("target/test-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs headless Chromium on `url` with `args`; its stdout and its log (stderr, with console
/// messages such as Content-Security-Policy violations).
fn chromium(chromium: &Path, profile: &Path, url: &str, args: &[&str]) -> (String, String) {
    let out = run_command_within(
        Command::new(chromium)
            .args(["--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--enable-logging=stderr", "--v=0"])
            .arg(format!("--user-data-dir={}", profile.display()))
            .args(args)
            .arg(url),
        Duration::from_secs(120),
    );
    let (stdout, stderr) =
        (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned());
    assert!(out.status.success(), "chromium {args:?} {url} failed:\n{stderr}");
    (stdout, stderr)
}

/// A real browser renders the landing page under its Content-Security-Policy: one chart per
/// entry with the points expected, each with its text alternative, nothing refused by the policy,
/// and a screenshot that is not blank (kept in `target/test-artifacts/landing-page.png`).
#[test]
fn a_browser_renders_a_chart_per_entry() {
    let Some(browser) = require_tool("chromium") else { return };
    // At one tick an hour, the page shows tick 1 throughout the test.
    let exporter = Exporter::with_config(CONFIG, &["--interval", "1h"]);
    let url = format!("http://{}/", exporter.addr);
    let profile = TempDir::new();

    let (dom, log) = chromium(&browser, profile.path(), &url, &["--dump-dom"]);
    let drawn = charts(&dom);
    let expected = expected();
    assert_eq!(drawn.len(), expected.len(), "one chart per entry:\n{dom}");
    for (drawn, expected) in drawn.iter().zip(expected) {
        let title = &drawn.title;
        assert_eq!(drawn, &Chart { title: title.clone(), ..expected }, "{dom}");
        assert!(title.starts_with(&drawn.entry) && title.contains(" at tick 1 ("), "{title}");
    }
    assert!(drawn[0].title.starts_with("test_metrics_wave: 50 at tick 1 (gauge, sine)"), "{}", drawn[0].title);
    // Chromium logs a console message for anything the policy refuses (an inline style without
    // 'unsafe-inline', a script, a request).
    assert!(!log.contains("Content Security Policy"), "the policy refused something:\n{log}");

    let shot = artifacts().join("landing-page.png");
    let _ = std::fs::remove_file(&shot);
    let started = Instant::now();
    chromium(&browser, profile.path(), &url, &[&format!("--screenshot={}", shot.display()), "--window-size=1200,1400"]);
    eprintln!("screenshot in {:?}: {}", started.elapsed(), shot.display());
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((frame.width, frame.height), (1200, 1400));
    let channels = frame.color_type.samples();
    let colours: HashSet<&[u8]> = pixels[..frame.buffer_size()].chunks(channels).collect();
    // Text, lines in three colours, the shaded future, on white: far more than a blank page's one.
    assert!(colours.len() > 16, "{} colours in {}", colours.len(), shot.display());
    let white = pixels[..frame.buffer_size()].chunks(channels).filter(|p| p[..3] == [255, 255, 255]).count();
    let total = (frame.width * frame.height) as usize;
    assert!(white < total * 95 / 100, "{white} of {total} pixels are white: {}", shot.display());
}

/// The page is sent with a strict Content-Security-Policy, and draws at most 50 entries, saying
/// how many more there are.
#[test]
fn the_landing_page_draws_the_first_entries_and_sends_its_policy() {
    let entries: Vec<String> = (0..60)
        .map(|k| format!(r#"{{"name": "g{k}", "metric_type": "gauge", "custom_function": "square"}}"#))
        .collect();
    let exporter = Exporter::with_config(&format!("[{}]", entries.join(",")), &["--interval", "1h"]);
    let page = exporter.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("Content-Security-Policy"),
        Some("default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    );
    let html = page.text();
    let drawn = charts(&html);
    assert_eq!(drawn.len(), 50);
    assert_eq!(drawn[49].entry, "test_metrics_g49");
    assert!(!html.contains("test_metrics_g50"), "{html}");
    assert!(html.contains("<p>10 more entries are not shown: the page draws the first 50 of 60."), "{html}");
    // Nothing the page refers to would be loaded from anywhere: no script, no source.
    for needle in ["<script", " src=", "<link", "url("] {
        assert!(!html.contains(needle), "the page has {needle}");
    }
    // The same tick gives the same page (drawn once, then kept).
    assert_eq!(exporter.get("/").text(), html);
    assert_eq!(exporter.request("HEAD", "/", &[]).header("Content-Length"), Some(html.len().to_string().as_str()));
}

/// `--preview N --svg FILE` writes the landing page's charts for ticks 1 to N in one SVG
/// document; `--svg DIR` writes one document per entry.
#[test]
fn preview_svg_draws_ticks_1_to_n() {
    let dir = TempDir::new();
    let config = dir.write("config.json", CONFIG);
    let file = dir.path().join("charts.svg");
    let out = run(&["--config", config.to_str().unwrap(), "--preview", "30", "--svg", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stdout.is_empty());
    let svg = std::fs::read_to_string(&file).unwrap();
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""), "{svg}");
    let drawn = charts(&svg);
    assert_eq!(drawn.len(), 7);
    assert_eq!(drawn[0].polylines, [("value".to_string(), 30)]);
    assert!(drawn[0].title.ends_with(" at tick 30 (gauge, sine)"), "{}", drawn[0].title);

    let pictures = dir.path().join("pictures");
    std::fs::create_dir(&pictures).unwrap();
    let out = run(&["--config", config.to_str().unwrap(), "--preview", "30", "--svg", pictures.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut names: Vec<String> =
        std::fs::read_dir(&pictures).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["build.svg", "jobs.svg", "latency.svg", "payload.svg", "phase.svg", "pods.svg", "wave.svg"]);
    let wave = std::fs::read_to_string(pictures.join("wave.svg")).unwrap();
    assert_eq!(charts(&wave)[0].polylines, drawn[0].polylines);
}
