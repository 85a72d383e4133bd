//! Live reload through SIGHUP and `POST /-/reload`: a good config changes what is served and keeps
//! the place of unchanged series; a bad one changes nothing, says why, and both are recorded in
//! the self-metrics. `POST /-/reload` reloads only with `--web.enable-lifecycle` (off by default, as
//! in Prometheus); SIGHUP and `--watch-config` reload either way.

use crate::support::{poll, sample, signal, Exporter, TempDir};
use std::time::Duration;

const BEFORE: &str = r#"[
  {"name": "kept", "metric_type": "gauge", "custom_function": "square"},
  {"name": "removed", "metric_type": "gauge", "custom_function": "square"}
]"#;

const AFTER: &str = r#"[
  {"name": "added", "metric_type": "gauge", "custom_function": "square"},
  {"name": "kept", "metric_type": "gauge", "custom_function": "square", "help": "Only the help changed"}
]"#;

fn reload_ok(body: &str) -> Option<f64> {
    sample(body, "metrics_generator_config_last_reload_successful")
}

/// Runs the reload scenario, triggering each reload with `trigger`; returns the stderr of the run.
fn scenario(trigger: &dyn Fn(&Exporter) -> Option<(u16, String)>) {
    let dir = TempDir::new();
    let path = dir.write("config.json", BEFORE);
    // A tick every 300 ms: a few ticks pass before the reload, so positions are visible.
    let exporter = Exporter::start(&[
        "--config",
        path.to_str().unwrap(),
        "--namespace",
        "",
        "--interval",
        "300ms",
        "--web.enable-lifecycle",
    ]);
    poll(Duration::from_secs(10), || (exporter.sample("kept")? >= 16.0).then_some(())).expect("four ticks");

    std::fs::write(&path, AFTER).unwrap();
    if let Some((status, body)) = trigger(&exporter) {
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("reloaded: 2 series (1 kept their place, 0 changed, 1 started, 1 removed)"), "{body}");
    }
    let body = poll(Duration::from_secs(5), || {
        let body = exporter.get("/metrics").text();
        sample(&body, "added").map(|_| body)
    })
    .expect("the new config is served");
    // Both series advance together, so the kept one (at position 4 or more when the reload
    // happened) stays ahead of the new one (at position 1 then) by 3 or more.
    let (added, kept) = (sample(&body, "added").unwrap().sqrt(), sample(&body, "kept").unwrap().sqrt());
    assert!(kept >= added + 3.0, "kept restarted: kept={kept}² added={added}²\n{body}");
    assert!(sample(&body, "removed").is_none(), "{body}");
    assert!(body.contains("# HELP kept Only the help changed\n"), "{body}");
    assert_eq!(reload_ok(&body), Some(1.0));

    std::fs::write(&path, "[{\"name\": \"broken\",").unwrap();
    if let Some((status, body)) = trigger(&exporter) {
        assert_eq!(status, 500);
        assert!(body.starts_with("failed to reload config: config "), "{body}");
        assert!(body.contains("invalid JSON: EOF while parsing"), "{body}");
    }
    let body = poll(Duration::from_secs(5), || {
        let body = exporter.get("/metrics").text();
        (reload_ok(&body) == Some(0.0)).then_some(body)
    })
    .expect("the failed reload is recorded");
    assert!(sample(&body, "added").is_some() && sample(&body, "kept").is_some(), "{body}");
    assert!(poll(Duration::from_secs(5), || exporter
        .stderr()
        .contains("reload rejected, the running config keeps serving: config")
        .then_some(()))
    .is_some());
}

#[test]
fn reload_through_http() {
    scenario(&|exporter| {
        let response = exporter.request("POST", "/-/reload", &[("Content-Length", "0")]);
        Some((response.status, response.text()))
    });
}

#[test]
fn reload_through_sighup() {
    scenario(&|exporter| {
        signal(exporter.pid(), "HUP");
        None
    });
}

#[test]
fn reloading_over_http_needs_the_lifecycle_flag_and_sighup_does_not() {
    let exporter = Exporter::start(&["--interval", "1h"]);
    for method in ["POST", "PUT"] {
        let refused = exporter.request(method, "/-/reload", &[("Content-Length", "0")]);
        assert_eq!(refused.status, 403, "{method}: {}", refused.text());
        assert!(refused.text().contains("start metrics-generator with --web.enable-lifecycle"), "{}", refused.text());
    }
    assert!(!exporter.stderr().contains("reloaded"), "a refused request reloaded:\n{}", exporter.stderr());
    signal(exporter.pid(), "HUP");
    poll(Duration::from_secs(5), || exporter.stderr().contains("reloaded: ").then_some(()))
        .unwrap_or_else(|| panic!("SIGHUP did not reload:\n{}", exporter.stderr()));
}

#[test]
fn reload_endpoint_methods_and_readiness() {
    let exporter = Exporter::start(&["--interval", "1h", "--web.enable-lifecycle"]);
    let get = exporter.get("/-/reload");
    assert_eq!(get.status, 405);
    assert_eq!(get.header("Allow"), Some("POST, PUT"));
    // The embedded default reloads to itself.
    let put = exporter.request("PUT", "/-/reload", &[("Content-Length", "0")]);
    assert_eq!(put.status, 200, "{}", put.text());
    assert!(put.text().contains("4 kept their place, 0 changed, 0 started, 0 removed"));
    for path in ["/-/healthy", "/-/ready"] {
        assert_eq!(exporter.get(path).status, 200, "{path}");
        assert_eq!(exporter.request("HEAD", path, &[]).status, 200, "{path}");
        assert_eq!(exporter.request("POST", path, &[("Content-Length", "0")]).status, 405, "{path}");
    }
}

/// A series whose definition changed is counted once, as changed, not as started and removed.
#[test]
fn a_changed_series_counts_once() {
    let dir = TempDir::new();
    let path = dir
        .write("config.json", r#"[{"name": "a", "metric_type": "gauge", "custom_function": "square", "series": 3}]"#);
    let exporter = Exporter::start(&["--config", path.to_str().unwrap(), "--interval", "1h", "--web.enable-lifecycle"]);
    std::fs::write(
        &path,
        r#"[{"name": "a", "metric_type": "gauge", "custom_function": "square", "series": 3,
                              "reset_interval": 2}]"#,
    )
    .unwrap();
    let reloaded = exporter.request("POST", "/-/reload", &[("Content-Length", "0")]);
    assert_eq!(reloaded.status, 200, "{}", reloaded.text());
    assert!(
        reloaded.text().contains("reloaded: 3 series (0 kept their place, 3 changed, 0 started, 0 removed)"),
        "{}",
        reloaded.text()
    );
}

/// `--watch-config` reloads when the config file changes the way a mounted ConfigMap changes: the
/// file is a symlink through `..data`, which the kubelet swaps to a new directory; and when it is
/// rewritten in place. A broken version is rejected as a SIGHUP's would be, and the next good one
/// is picked up.
#[test]
fn watch_config_follows_a_config_map_swap() {
    use std::os::unix::fs::symlink;
    let dir = TempDir::new();
    let version = |name: &str, metric: &str| {
        std::fs::create_dir_all(dir.path().join(name)).unwrap();
        let config = format!(r#"[{{"name": "{metric}", "metric_type": "gauge", "custom_function": "square"}}]"#);
        std::fs::write(dir.path().join(name).join("config.json"), config).unwrap();
    };
    // The layout of a ConfigMap volume: config.json -> ..data/config.json, ..data -> ..v1.
    version("..v1", "first");
    symlink("..v1", dir.path().join("..data")).unwrap();
    symlink("..data/config.json", dir.path().join("config.json")).unwrap();
    let path = dir.path().join("config.json");
    let exporter =
        Exporter::start(&["--config", path.to_str().unwrap(), "--namespace", "", "--interval", "1h", "--watch-config"]);
    assert_eq!(exporter.sample("first"), Some(1.0));
    let served = |metric: &str| {
        poll(Duration::from_secs(15), || exporter.sample(metric))
            .unwrap_or_else(|| panic!("{metric} not served after the change\nstderr:\n{}", exporter.stderr()))
    };

    // The kubelet's update: a new directory, a new link renamed over ..data.
    version("..v2", "second");
    symlink("..v2", dir.path().join("..data_tmp")).unwrap();
    std::fs::rename(dir.path().join("..data_tmp"), dir.path().join("..data")).unwrap();
    served("second");

    // A broken file is rejected and the running config keeps serving; then a good one is taken.
    std::fs::write(dir.path().join("..v2/config.json"), "[").unwrap();
    poll(Duration::from_secs(15), || exporter.stderr().contains("reload rejected").then_some(()))
        .expect("the broken config is rejected");
    assert_eq!(exporter.sample("second"), Some(1.0));
    std::fs::write(
        dir.path().join("..v2/config.json"),
        r#"[{"name": "third", "metric_type": "gauge", "custom_function": "square"}]"#,
    )
    .unwrap();
    served("third");
    assert!(exporter.stderr().contains("config file "), "{}", exporter.stderr());
}
