//! A real Prometheus server (Debian's 2.42) scrapes the exporter over HTTPS with basic auth, as
//! its `scheme: https`, `tls_config` and `basic_auth` say (the ServiceMonitor of
//! `docs/securing.md` renders to the same): the right password makes the target up and its series
//! queryable, a wrong one makes it down with a 401. On loopback, certificates made by `openssl`.

use crate::support::prometheus::Prometheus;
use crate::support::tls::Pki;
use crate::support::{poll, require_tool, Exporter, TempDir};
use serde_json::Value;
use std::time::Duration;

#[test]
fn prometheus_scrapes_over_https_with_basic_auth() {
    let Some(binary) = require_tool("prometheus") else { return };
    let dir = TempDir::new();
    let Some(pki) = Pki::make(&dir) else { return };
    let hash = bcrypt::hash("scrape-s3cret", 4).unwrap();
    let web = dir.write("web.yml", format!("{}basic_auth_users:\n  prometheus: {hash}\n", pki.tls_server_config("")));
    let exporter = Exporter::start(&["--web.config.file", web.to_str().unwrap(), "--interval", "1s"]);
    let job = |name: &str, password: &str| {
        format!(
            "  - job_name: {name}\n    scheme: https\n    tls_config:\n      ca_file: {ca}\n    \
             basic_auth:\n      username: prometheus\n      password: {password}\n    \
             static_configs:\n      - targets: ['{addr}']\n",
            ca = pki.ca.display(),
            addr = exporter.addr
        )
    };
    dir.write(
        "prometheus.yml",
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n{}{}",
            job("right", "scrape-s3cret"),
            job("wrong", "guess")
        ),
    );
    let prometheus = Prometheus::try_start(&binary, dir.path(), &[]).unwrap_or_else(|why| {
        eprintln!("retrying once: {why}");
        Prometheus::try_start(&binary, dir.path(), &[]).unwrap_or_else(|why| panic!("{why}"))
    });
    // Prometheus applies new targets within 5 s; each is then scraped every second.
    let health = |targets: &[Value], job: &str| -> Option<(String, String)> {
        let target = targets.iter().find(|t| t["labels"]["job"] == job)?;
        Some((target["health"].as_str()?.to_string(), target["lastError"].as_str().unwrap_or("").to_string()))
    };
    let settled = poll(Duration::from_secs(20), || {
        let targets = prometheus.targets();
        let (right, wrong) = (health(&targets, "right")?, health(&targets, "wrong")?);
        (right.0 == "up" && wrong.0 == "down").then_some((right, wrong))
    });
    let (right, wrong) =
        settled.unwrap_or_else(|| panic!("targets: {:?}\n{}", prometheus.targets(), exporter.stderr()));
    assert_eq!(right.1, "", "the right password scraped cleanly");
    assert!(wrong.1.contains("401"), "the wrong password's error: {}", wrong.1);
    let squares = poll(Duration::from_secs(10), || {
        let result = prometheus.query("metrics_generator_build_info{job=\"right\"}");
        (!result.is_empty()).then_some(result)
    });
    assert!(squares.is_some(), "no series arrived over HTTPS");
}
