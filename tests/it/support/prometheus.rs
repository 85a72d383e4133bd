//! A real Prometheus server for the tests that need one: started on a free port of 127.0.0.1
//! with its config, storage and log in a test's temporary directory, asked through its HTTP API,
//! and killed when dropped (also when the test panics, after printing the end of its log).
//! `prometheus_server`, `ground_truth` and `metric_types` use it, the last two through
//! [`wall_clock_stack`], which lines an exporter's ticks up with Prometheus's scrapes.

use crate::support::{free_port, http_raw, poll, Exporter};
use serde_json::Value;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch, the time unit of Prometheus's API.
pub fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs_f64()
}

/// Percent-encodes everything but the unreserved characters, for a URL query parameter.
pub fn url_encode(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A PromQL double-quoted string literal holding exactly `text`: PromQL, like Go, needs `\`, `"`
/// and newline escaped, and takes any other UTF-8 as it is.
pub fn promql_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A running Prometheus server, killed when dropped.
pub struct Prometheus {
    child: Child,
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Prometheus {
    /// Starts `binary` with `dir/prometheus.yml`, storage in `dir/data`, its log in
    /// `dir/prometheus.log` and `extra` flags, on a free port of 127.0.0.1, and waits (at most
    /// 20 s) until it is ready. Returns `Err` only when the port was taken meanwhile, so the caller
    /// can retry.
    pub fn try_start(binary: &Path, dir: &Path, extra: &[&str]) -> Result<Prometheus, String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let log = dir.join("prometheus.log");
        let child = Command::new(binary)
            .arg(format!("--config.file={}", dir.join("prometheus.yml").display()))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .arg(format!("--web.listen-address={addr}"))
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("create prometheus.log"))
            .spawn()
            .expect("spawn prometheus");
        // From here on, Drop stops the process whatever happens.
        let mut prometheus = Prometheus { child, addr, log };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = prometheus.child.try_wait().expect("try_wait") {
                let log = prometheus.log_text();
                if log.contains("address already in use") {
                    return Err(format!("prometheus could not listen on {addr}: taken"));
                }
                panic!("prometheus exited with {status} before it was ready\n{log}");
            }
            if prometheus.request("/-/ready").is_ok_and(|(status, _)| status == 200) {
                return Ok(prometheus);
            }
            assert!(Instant::now() < deadline, "prometheus was not ready in 20 s\n{}", prometheus.log_text());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `GET path` on the server: its status and body.
    pub fn request(&self, path: &str) -> Result<(u16, Vec<u8>), String> {
        let raw = format!("GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", self.addr);
        http_raw(self.addr, raw.as_bytes(), false).map(|r| (r.status, r.body))
    }

    /// `GET path` on the HTTP API, which must succeed; returns its `data`.
    pub fn api(&self, path: &str) -> Value {
        let (status, body) = self.request(path).unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let json: Value = serde_json::from_slice(&body).unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert!(status == 200 && json["status"] == "success", "GET {path}: {status} {json}");
        json["data"].clone()
    }

    /// The result of an instant query at the current time.
    pub fn query(&self, promql: &str) -> Vec<Value> {
        let data = self.api(&format!("/api/v1/query?query={}", url_encode(promql)));
        data["result"].as_array().expect("a result list").clone()
    }

    /// The value of an instant query that must return exactly one series.
    pub fn value(&self, promql: &str) -> f64 {
        let result = self.query(promql);
        assert_eq!(result.len(), 1, "{promql} returned {result:?}");
        number(&result[0]["value"][1])
    }

    /// Every active scrape target.
    pub fn targets(&self) -> Vec<Value> {
        let data = self.api("/api/v1/targets");
        data["activeTargets"].as_array().expect("activeTargets").clone()
    }

    /// The only scrape target.
    pub fn target(&self) -> Option<Value> {
        let targets = self.targets();
        assert!(targets.len() <= 1, "one target expected: {targets:?}");
        targets.into_iter().next()
    }

    /// When the target was last scraped, or `None` before its first scrape (Go's zero time).
    pub fn last_scrape(&self) -> Option<String> {
        let last = self.target()?["lastScrape"].as_str()?.to_string();
        (!last.starts_with("0001-")).then_some(last)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log_text();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            eprintln!("prometheus on {}, last log lines:", self.addr);
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// A sample value, which the API sends as a string.
pub fn number(value: &Value) -> f64 {
    value.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a sample value: {value}"))
}

/// How many candidate ports Prometheus scrapes before the exporter starts on the best one.
const CANDIDATES: usize = 6;

/// Starts Prometheus in `dir` (with whatever blocks are already there) scraping several free
/// ports once a second, then the exporter with `config`, `--align wall-clock` and one-second
/// ticks, on the port that Prometheus scrapes farthest from a whole second, where the ticks fall,
/// so that a scrape never races a tick. Returns both, and that port's scrape phase in
/// milliseconds after the second. `extra` are more flags for Prometheus.
pub fn wall_clock_stack(
    prometheus_binary: &Path,
    dir: &Path,
    config: &str,
    extra: &[&str],
) -> (Prometheus, Exporter, u64) {
    // Prometheus scrapes several free ports once a second; each target gets its own phase within
    // the second. The exporter then starts on the port scraped farthest from a whole second, where
    // its wall-clock ticks fall, so that a scrape never races a tick.
    let ports: Vec<u16> = (0..CANDIDATES).map(|_| free_port()).collect();
    let targets: Vec<String> = ports.iter().map(|p| format!("'127.0.0.1:{p}'")).collect();
    std::fs::write(
        dir.join("prometheus.yml"),
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n\
             scrape_configs:\n  - job_name: exporter\n    static_configs:\n      - targets: [{}]\n",
            targets.join(", ")
        ),
    )
    .expect("write prometheus.yml");
    let prometheus = Prometheus::try_start(prometheus_binary, dir, extra)
        .or_else(|why| {
            eprintln!("retrying once: {why}");
            Prometheus::try_start(prometheus_binary, dir, extra)
        })
        .unwrap_or_else(|why| panic!("{why}"));
    let phases = poll(Duration::from_secs(15), || {
        let targets = prometheus.targets();
        let phases: Vec<(u16, u64)> = targets
            .iter()
            .filter_map(|t| {
                let last = t["lastScrape"].as_str()?;
                let port = t["labels"]["instance"].as_str()?.rsplit_once(':')?.1.parse().ok()?;
                (!last.starts_with("0001-")).then(|| (port, phase_ms(last)))
            })
            .collect();
        (phases.len() == CANDIDATES).then_some(phases)
    })
    .expect("prometheus tried every candidate target in 15 s");
    let distance = |phase: u64| phase.min(1000 - phase);
    let mut by_distance = phases.clone();
    by_distance.sort_by_key(|&(_, phase)| std::cmp::Reverse(distance(phase)));
    let exporter = by_distance
        .iter()
        .find_map(|&(port, _)| {
            let listen = SocketAddr::from(([127, 0, 0, 1], port)).to_string();
            let args = ["--config", config, "--align", "wall-clock", "--interval", "1s", "--listen-address", &listen];
            Exporter::try_start(&args).ok()
        })
        .expect("an exporter on one of the candidate ports");
    let phase = phases.iter().find(|(port, _)| *port == exporter.addr.port()).unwrap().1;
    assert!(distance(phase) >= 50, "every candidate is scraped within 50 ms of a tick: {phases:?}");

    (prometheus, exporter, phase)
}

/// `/api/v1/expected` of `exporter` for `query`, which must succeed: its `result`.
pub fn expected(exporter: &Exporter, query: &str) -> Vec<Value> {
    let reply = exporter.get(&format!("/api/v1/expected?{query}"));
    let json = reply.json();
    assert!(reply.status == 200 && json["status"] == "success", "{query}: {} {json}", reply.status);
    json["data"]["result"].as_array().unwrap().clone()
}

/// The selector of a series Prometheus returned, without the labels of the scrape target, for
/// `/api/v1/expected`.
pub fn selector(metric: &Value) -> String {
    let labels = metric.as_object().unwrap();
    let name = labels["__name__"].as_str().unwrap();
    let matchers: Vec<String> = labels
        .iter()
        .filter(|(k, _)| !["__name__", "job", "instance"].contains(&k.as_str()))
        .map(|(k, v)| format!("{k}={}", promql_string(v.as_str().unwrap())))
        .collect();
    format!("{name}{{{}}}", matchers.join(","))
}

/// Milliseconds since the last whole second of an RFC 3339 time such as Prometheus's
/// `lastScrape` (`2024-05-01T10:00:00.123456789Z`).
pub fn phase_ms(rfc3339: &str) -> u64 {
    let fraction = rfc3339.split_once('.').map_or("", |(_, f)| f);
    let digits: String = fraction.chars().take_while(char::is_ascii_digit).chain("000".chars()).take(3).collect();
    digits.parse().unwrap()
}

/// A sample time as the expected API reads it: Prometheus gives seconds as a JSON number.
pub fn seconds(time: &Value) -> String {
    let ms = (time.as_f64().unwrap() * 1000.0).round() as i64;
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}
