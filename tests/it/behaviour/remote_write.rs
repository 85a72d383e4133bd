//! Remote write (SPEC §11) against a receiver of our own (`support::receiver`): what arrives (headers,
//! auth, timestamps on the grid), retries that lose nothing, a refused batch that costs only itself,
//! a full queue that drops the oldest and counts exactly that, TLS with a CA file, a receiver that
//! vanishes, and flags that are wrong. Prometheus itself as the receiver is in
//! `conformance/remote_write.rs`.

use crate::support::receiver::{Receiver, Sample, Script};
use crate::support::{assert_fails, poll, require_tool, run, Exporter, TempDir};
use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

const CONFIG: &str = r#"[{"name": "rw", "metric_type": "gauge", "custom_function": "square"}]"#;
const INTERVAL_MS: i64 = 100;

fn start(receiver_url: &str, extra: &[&str]) -> Exporter {
    let mut args = vec!["--interval", "100ms", "--remote-write", receiver_url];
    args.extend_from_slice(extra);
    Exporter::with_config(CONFIG, &args)
}

/// A self-metric's value (counters by their `_total` name).
fn own(exporter: &Exporter, name: &str) -> f64 {
    exporter.sample(&format!("metrics_generator_remote_write_{name}")).unwrap_or_else(|| panic!("no {name}"))
}

/// The ticks (by time) of the accepted samples of the gauge, which has one sample per tick.
fn ticks(samples: &[Sample]) -> Vec<i64> {
    samples.iter().filter(|s| s.series == "test_metrics_rw").map(|s| s.time).collect()
}

/// Waits until the receiver has accepted at least `n` samples.
#[track_caller]
fn wait_accepted(receiver: &Receiver, exporter: &Exporter, n: usize) {
    poll(Duration::from_secs(20), || (receiver.accepted().len() >= n).then_some(()))
        .unwrap_or_else(|| panic!("{} samples accepted, not {n}\n{}", receiver.accepted().len(), exporter.stderr()));
}

#[test]
fn headers_and_auth_arrive_as_given_and_samples_lie_on_the_grid() {
    let receiver = Receiver::start(Script::default());
    let dir = TempDir::new();
    let token = dir.write("token", "s3cret\n");
    let exporter = start(
        &receiver.url(),
        &[
            "--remote-write-header",
            "X-Scope-OrgID: tenant-1",
            "--remote-write-bearer-token-file",
            token.to_str().unwrap(),
        ],
    );
    wait_accepted(&receiver, &exporter, 3);
    let first = &receiver.requests()[0];
    for (name, value) in [
        ("Content-Encoding", "snappy"),
        ("Content-Type", "application/x-protobuf"),
        ("X-Prometheus-Remote-Write-Version", "0.1.0"),
        ("X-Scope-OrgID", "tenant-1"),
        ("Authorization", "Bearer s3cret"),
    ] {
        assert_eq!(first.header(name), Some(value), "{name} in {:?}", first.headers);
    }
    assert!(first.header("User-Agent").unwrap().starts_with("metrics-generator/"));
    // Values 1, 4, 9… at ticks exactly one interval apart: the grid's times, not the send times.
    let samples = receiver.accepted();
    let values: Vec<f64> = samples.iter().take(3).map(|s| f64::from_bits(s.bits)).collect();
    assert_eq!(values, [1.0, 4.0, 9.0]);
    let times = ticks(&samples);
    assert!(times.windows(2).all(|w| w[1] - w[0] == INTERVAL_MS), "{times:?}");
    drop(exporter);

    let password = dir.write("password", "pa:ss\n");
    let exporter = start(&receiver.url(), &["--remote-write-basic-auth", &format!("alice:{}", password.display())]);
    let before = receiver.requests().len();
    poll(Duration::from_secs(20), || (receiver.requests().len() > before).then_some(())).expect("a request");
    // base64("alice:pa:ss")
    assert_eq!(receiver.requests()[before].header("Authorization"), Some("Basic YWxpY2U6cGE6c3M="));
    drop(exporter);
}

#[test]
fn a_rotated_token_or_password_is_sent_from_the_next_request_and_a_missing_one_is_said_once() {
    let receiver = Receiver::start(Script::default());
    let dir = TempDir::new();
    let token = dir.write("token", "first\n");
    let exporter = start(&receiver.url(), &["--remote-write-bearer-token-file", token.to_str().unwrap()]);
    let sent = |exporter: &Exporter, value: &str| {
        poll(Duration::from_secs(20), || {
            receiver.requests().iter().any(|r| r.header("Authorization") == Some(value)).then_some(())
        })
        .unwrap_or_else(|| panic!("no request with Authorization: {value}\n{}", exporter.stderr()))
    };
    sent(&exporter, "Bearer first");
    // Rotated as Kubernetes rotates a projected token: a new file renamed over the old one.
    let next = dir.write("token.new", "second\n");
    std::fs::rename(&next, &token).unwrap();
    sent(&exporter, "Bearer second");
    // A file that cannot be read: the last token read goes on being sent, and that is said once.
    std::fs::remove_file(&token).unwrap();
    let before = receiver.requests().len();
    poll(Duration::from_secs(20), || (receiver.requests().len() >= before + 3).then_some(())).expect("requests");
    assert!(receiver.requests()[before..].iter().all(|r| r.header("Authorization") == Some("Bearer second")));
    let stderr = exporter.stderr();
    assert_eq!(stderr.matches("--remote-write-bearer-token-file: cannot read").count(), 1, "{stderr}");
    drop(exporter);

    let password = dir.write("password", "one\n");
    let exporter = start(&receiver.url(), &["--remote-write-basic-auth", &format!("bob:{}", password.display())]);
    // base64("bob:one"), then base64("bob:two")
    sent(&exporter, "Basic Ym9iOm9uZQ==");
    std::fs::write(&password, "two\n").unwrap();
    sent(&exporter, "Basic Ym9iOnR3bw==");
    drop(exporter);
}

#[test]
fn server_errors_are_retried_and_nothing_is_lost() {
    let receiver = Receiver::start(Script { statuses: [500, 503, 429].into(), ..Script::default() });
    let exporter = start(&receiver.url(), &[]);
    wait_accepted(&receiver, &exporter, 8);
    let times = ticks(&receiver.accepted());
    // The first tick was refused three times, then taken; every tick since arrived, in order.
    assert!(times.windows(2).all(|w| w[1] - w[0] == INTERVAL_MS), "{times:?}");
    let refused: Vec<i64> = receiver.requests().iter().take(3).flat_map(|r| ticks(&r.samples)).collect();
    assert_eq!(refused, [times[0]; 3]);
    poll(Duration::from_secs(5), || (own(&exporter, "samples_retried_total") == 3.0).then_some(()))
        .expect("three retried samples counted");
    assert_eq!(own(&exporter, "samples_failed_total"), 0.0);
    assert_eq!(own(&exporter, "samples_dropped_total"), 0.0);
    assert!(exporter.stderr().contains("the receiver answered 500"), "{}", exporter.stderr());
}

#[test]
fn a_refused_batch_costs_only_itself_and_is_counted() {
    let receiver = Receiver::start(Script { statuses: [200, 400].into(), ..Script::default() });
    let exporter = start(&receiver.url(), &[]);
    wait_accepted(&receiver, &exporter, 6);
    let times = ticks(&receiver.accepted());
    let refused = ticks(&receiver.requests()[1].samples);
    assert_eq!(refused, [times[0] + INTERVAL_MS], "the second tick was refused");
    // Only that tick is missing.
    let mut expected: Vec<i64> = (0..times.len() as i64 + 1).map(|j| times[0] + j * INTERVAL_MS).collect();
    expected.retain(|t| *t != refused[0]);
    assert_eq!(times, expected);
    poll(Duration::from_secs(5), || (own(&exporter, "samples_failed_total") == 1.0).then_some(()))
        .expect("one failed sample counted");
    assert_eq!(own(&exporter, "samples_retried_total"), 0.0);
    assert!(exporter.stderr().contains("refused the 1 samples of tick"), "{}", exporter.stderr());
}

#[test]
fn a_stalled_receiver_fills_the_queue_which_drops_the_oldest_and_counts_exactly_those() {
    let receiver = Receiver::start(Script { stall: Duration::from_millis(2000), stalls: 1, ..Script::default() });
    let exporter = start(&receiver.url(), &["--remote-write-queue", "3"]);
    // The stalled first request, then three queued ticks, then live ones.
    wait_accepted(&receiver, &exporter, 12);
    let times = ticks(&receiver.accepted());
    let (first, last) = (times[0], *times.last().unwrap());
    let arrived: BTreeSet<i64> = times.iter().copied().collect();
    let missing = (first..=last).step_by(INTERVAL_MS as usize).filter(|t| !arrived.contains(t)).count();
    assert!(missing >= 10, "2 s of stall at 10 ticks a second drops more than the 3 queued: {times:?}");
    // The ticks after the stall came in order, with one gap: those the queue dropped.
    let gaps: Vec<&[i64]> = times.windows(2).filter(|w| w[1] - w[0] != INTERVAL_MS).collect();
    assert_eq!(gaps.len(), 1, "{times:?}");
    poll(Duration::from_secs(5), || (own(&exporter, "samples_dropped_total") == missing as f64).then_some(()))
        .unwrap_or_else(|| panic!("dropped {} samples, {missing} missing", own(&exporter, "samples_dropped_total")));
    assert!(exporter.stderr().contains("the queue is full (3 ticks"), "{}", exporter.stderr());
}

#[test]
fn a_receiver_that_vanishes_never_stops_scraping() {
    let receiver = Receiver::start(Script::default());
    let exporter = start(&receiver.url(), &["--remote-write-queue", "5"]);
    wait_accepted(&receiver, &exporter, 3);
    receiver.vanish();
    // Ticks keep coming and scrapes keep answering, while every send fails and is retried.
    let start_value = exporter.sample("test_metrics_rw").unwrap();
    poll(Duration::from_secs(10), || (own(&exporter, "samples_retried_total") >= 3.0).then_some(()))
        .expect("retries counted");
    for _ in 0..10 {
        let scraped = exporter.get("/metrics");
        assert_eq!(scraped.status, 200);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(exporter.sample("test_metrics_rw").unwrap() > start_value);
    poll(Duration::from_secs(10), || (own(&exporter, "samples_dropped_total") > 0.0).then_some(()))
        .expect("the full queue drops ticks");
    assert!(exporter.stderr().contains("retrying with backoff"), "{}", exporter.stderr());
}

#[test]
fn tls_works_with_the_ca_file_and_fails_clearly_without_it() {
    let Some(openssl) = require_tool("openssl") else { return };
    let dir = TempDir::new();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let ext = dir.write("ext", "subjectAltName=IP:127.0.0.1\n");
    for args in [
        vec![
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &p("ca.key"),
            "-out",
            &p("ca.pem"),
            "-days",
            "2",
            "-subj",
            "/CN=test CA",
        ],
        vec![
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            &p("server.key"),
            "-out",
            &p("server.csr"),
            "-subj",
            "/CN=127.0.0.1",
        ],
        vec![
            "x509",
            "-req",
            "-in",
            &p("server.csr"),
            "-CA",
            &p("ca.pem"),
            "-CAkey",
            &p("ca.key"),
            "-CAcreateserial",
            "-out",
            &p("server.pem"),
            "-days",
            "2",
            "-extfile",
            ext.to_str().unwrap(),
        ],
    ] {
        let out = Command::new(&openssl).args(&args).output().unwrap();
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer> =
        CertificateDer::pem_file_iter(p("server.pem")).unwrap().collect::<Result<_, _>>().unwrap();
    let key = PrivateKeyDer::from_pem_file(p("server.key")).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = std::sync::Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    );
    let receiver = Receiver::start_with(
        Script::default(),
        Box::new(move |stream| {
            let connection = rustls::ServerConnection::new(config.clone()).ok()?;
            Some(Box::new(rustls::StreamOwned::new(connection, stream)))
        }),
    );
    let url = format!("https://{}/api/v1/write", receiver.addr);
    let exporter = start(&url, &["--remote-write-ca-file", &p("ca.pem")]);
    wait_accepted(&receiver, &exporter, 3);
    drop(exporter);

    // Without the CA, the built-in roots do not vouch for the receiver: said, and retried.
    let accepted = receiver.accepted().len();
    let exporter = start(&url, &[]);
    poll(Duration::from_secs(10), || exporter.stderr().contains("invalid peer certificate").then_some(()))
        .unwrap_or_else(|| panic!("{}", exporter.stderr()));
    assert!(exporter.stderr().contains("--remote-write-ca-file"), "{}", exporter.stderr());
    assert_eq!(own(&exporter, "samples_sent_total"), 0.0);
    assert_eq!(receiver.accepted().len(), accepted);
}

#[test]
fn bad_remote_write_flags_are_one_line_and_status_2() {
    let dir = TempDir::new();
    let missing = dir.path().join("missing").display().to_string();
    let cases: Vec<(Vec<String>, String)> = vec![
        (vec!["--remote-write".into(), "not a url".into()], "--remote-write: \"not a url\" is not a URL".into()),
        (vec!["--remote-write".into(), "ftp://h/x".into()], "unknown scheme \"ftp\" (http or https)".into()),
        (
            vec!["--remote-write".into(), "http://h/".into(), "--remote-write-header".into(), "NoColon".into()],
            "--remote-write-header: \"NoColon\" has no colon (Name: value)".into(),
        ),
        (
            vec![
                "--remote-write".into(),
                "http://h/".into(),
                "--remote-write-bearer-token-file".into(),
                missing.clone(),
            ],
            format!("--remote-write-bearer-token-file: cannot read {missing}"),
        ),
        (
            vec![
                "--remote-write".into(),
                "http://h/".into(),
                "--remote-write-basic-auth".into(),
                format!("u:{missing}"),
            ],
            format!("--remote-write-basic-auth: cannot read {missing}"),
        ),
        (
            vec!["--remote-write".into(), "https://h/".into(), "--remote-write-ca-file".into(), missing.clone()],
            format!("--remote-write-ca-file: cannot read {missing}"),
        ),
        (vec!["--remote-write-queue".into(), "5".into()], "--remote-write-queue needs --remote-write URL".into()),
        (
            vec!["--remote-write".into(), "http://h/".into(), "--remote-write-history".into(), "1h".into()],
            "--remote-write-history needs --align wall-clock".into(),
        ),
    ];
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        assert_fails(&run(&args), 2, &needle);
    }
}
