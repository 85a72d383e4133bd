//! A real Prometheus server for the tests that need one: started on a free port of 127.0.0.1
//! with its config, storage and log in a test's temporary directory, asked through its HTTP API,
//! and killed when dropped (also when the test panics, after printing the end of its log).
//! `prometheus_server` and `ground_truth` use it.

use crate::support::{free_port, http_raw};
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
