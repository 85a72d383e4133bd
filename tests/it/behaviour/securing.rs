//! `--web.config.file` (SPEC §13): HTTPS and basic auth in the exporter-toolkit format, checked
//! with real clients on loopback (curl, Python's `ssl`, and a real Prometheus in
//! `conformance::prometheus_https`), certificates made by `openssl` in each test.

use crate::support::tls::Pki;
use crate::support::{assert_fails, poll, require_python_module, require_tool, run, run_command, Exporter, TempDir};
use std::process::{Command, Output};
use std::time::Duration;

/// `curl` over HTTPS to the exporter at `path`, with extra arguments; `None` without curl.
fn curl(exporter: &Exporter, path: &str, args: &[&str]) -> Option<Output> {
    let curl = require_tool("curl")?;
    let url = format!("https://127.0.0.1:{}{path}", exporter.addr.port());
    Some(run_command(
        Command::new(curl).args(["-sS", "--max-time", "10", "-o", "-", "-w", "\n%{http_code}"]).args(args).arg(url),
    ))
}

/// The HTTP status curl got, or `None` when the connection failed (curl's exit status is kept in
/// the message).
fn status(out: &Output) -> Result<u16, String> {
    let stdout = String::from_utf8_lossy(&out.stdout);
    match (out.status.success(), stdout.lines().last().and_then(|l| l.parse().ok())) {
        (true, Some(code)) => Ok(code),
        _ => Err(format!("curl {}: {}", out.status, String::from_utf8_lossy(&out.stderr).trim())),
    }
}

/// A web config file in `dir`.
fn web_config(dir: &TempDir, text: &str) -> String {
    dir.write("web.yml", text).to_str().unwrap().to_string()
}

#[test]
fn https_with_curl_and_python_with_and_without_the_ca() {
    let dir = TempDir::new();
    let Some(pki) = Pki::make(&dir) else { return };
    let Some(python) = require_python_module("ssl") else { return };
    let web = web_config(&dir, &pki.tls_server_config(""));
    let exporter = Exporter::start(&["--web.config.file", &web, "--interval", "1h"]);
    assert!(exporter.stderr().contains("listening on https://"), "{}", exporter.stderr());
    let ca = pki.ca.to_str().unwrap();

    let Some(with_ca) = curl(&exporter, "/metrics", &["--cacert", ca]) else { return };
    assert_eq!(status(&with_ca), Ok(200));
    assert!(String::from_utf8_lossy(&with_ca.stdout).contains("metrics_generator_build_info"), "{with_ca:?}");
    // Also by name, which the certificate holds too.
    let by_name = curl(
        &exporter,
        "/-/healthy",
        &["--cacert", ca, "--resolve", &format!("localhost:{}:127.0.0.1", exporter.addr.port())],
    );
    let by_name = by_name.unwrap();
    assert!(by_name.status.success() || status(&by_name).is_ok(), "{by_name:?}");
    let without_ca = curl(&exporter, "/metrics", &[]).unwrap();
    assert_eq!(without_ca.status.code(), Some(60), "curl must refuse an unknown issuer: {without_ca:?}");
    // TLS 1.3 is served with the default min_version (TLS12); a client limited to TLS 1.2 is
    // refused in the handshake (curl's exit status 35), as the exporter speaks TLS 1.3 only.
    let tls13 = curl(&exporter, "/-/healthy", &["--cacert", ca, "--tlsv1.3"]).unwrap();
    assert_eq!(status(&tls13), Ok(200), "{tls13:?}");
    let tls12 = curl(&exporter, "/-/healthy", &["--cacert", ca, "--tlsv1.2", "--tls-max", "1.2"]).unwrap();
    assert_eq!(tls12.status.code(), Some(35), "a TLS 1.2-only client: {tls12:?}");

    // Python's ssl: verified with the CA, refused without it.
    let script = r#"
import http.client, ssl, sys
port, cafile = int(sys.argv[1]), sys.argv[2]
context = ssl.create_default_context(cafile=cafile or None)
connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
try:
    connection.request("GET", "/health")
    response = connection.getresponse()
    print(response.status, connection.sock.version(), response.read().decode()[:20])
except ssl.SSLCertVerificationError as e:
    print("unverified", e.verify_message)
"#;
    let port = exporter.addr.port().to_string();
    let py = |cafile: &str| {
        let out = run_command(Command::new(&python).args(["-c", script, &port, cafile]));
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let verified = py(ca);
    assert!(verified.starts_with("200 TLSv1.3 {\""), "{verified}");
    let unverified = py("");
    assert!(unverified.starts_with("unverified"), "{unverified}");

    // Plain HTTP to the HTTPS port gets no answer in clear text.
    let plain = crate::support::http_raw(exporter.addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", false);
    assert!(plain.is_err() || plain.as_ref().is_ok_and(|r| r.status != 200), "{plain:?}");
}

#[test]
fn client_certificates_as_the_client_auth_type_asks() {
    let dir = TempDir::new();
    let Some(pki) = Pki::make(&dir) else { return };
    let ca = pki.ca.to_str().unwrap();
    let client = ["--cert", pki.client_cert.to_str().unwrap(), "--key", pki.client_key.to_str().unwrap()];
    let stranger = ["--cert", pki.stranger_cert.to_str().unwrap(), "--key", pki.stranger_key.to_str().unwrap()];
    // Whether a client with no certificate, one the CA signed, and a stranger's, gets in.
    let cases = [
        ("NoClientCert", [true, true, true]),
        ("RequestClientCert", [true, true, true]),
        ("RequireAnyClientCert", [false, true, true]),
        ("VerifyClientCertIfGiven", [true, true, false]),
        ("RequireAndVerifyClientCert", [false, true, false]),
    ];
    for (auth_type, expected) in cases {
        let ca_line = if auth_type == "NoClientCert" { String::new() } else { format!("  client_ca_file: {ca}\n") };
        let web = web_config(&dir, &pki.tls_server_config(&format!("  client_auth_type: {auth_type}\n{ca_line}")));
        let exporter = Exporter::start(&["--web.config.file", &web, "--interval", "1h"]);
        let clients = [("no certificate", &[][..]), ("the CA's client", &client[..]), ("a stranger", &stranger[..])];
        for ((who, args), admitted) in clients.into_iter().zip(expected) {
            let mut all = vec!["--cacert", ca];
            all.extend_from_slice(args);
            let Some(out) = curl(&exporter, "/-/healthy", &all) else { return };
            let got = status(&out);
            assert_eq!(got.is_ok(), admitted, "{auth_type}, {who}: {got:?}");
            if admitted {
                assert_eq!(got, Ok(200), "{auth_type}, {who}");
            }
        }
    }
    // Python with a client certificate, where one is required and verified.
    let Some(python) = require_python_module("ssl") else { return };
    let web = web_config(
        &dir,
        &pki.tls_server_config(&format!("  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: {ca}\n")),
    );
    let exporter = Exporter::start(&["--web.config.file", &web, "--interval", "1h"]);
    let script = r#"
import http.client, ssl, sys
port, cafile, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
context = ssl.create_default_context(cafile=cafile)
context.load_cert_chain(cert, key)
connection = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
connection.request("GET", "/-/ready")
print(connection.getresponse().status)
"#;
    let out = run_command(Command::new(&python).args([
        "-c",
        script,
        &exporter.addr.port().to_string(),
        ca,
        pki.client_cert.to_str().unwrap(),
        pki.client_key.to_str().unwrap(),
    ]));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "200", "{}", String::from_utf8_lossy(&out.stderr));
}

/// A `basic_auth_users` entry for `user` with `password`, at bcrypt's lowest cost (fast tests).
fn user(user: &str, password: &str) -> String {
    format!("  {user}: {}\n", bcrypt::hash(password, 4).unwrap())
}

fn basic(user_password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_password))
}

#[test]
fn basic_auth_is_asked_on_every_path() {
    let dir = TempDir::new();
    let web = web_config(&dir, &format!("basic_auth_users:\n{}{}", user("prometheus", "s3cret"), user("alice", "x")));
    let exporter = Exporter::start(&["--web.config.file", &web, "--interval", "1h", "--web.enable-lifecycle"]);
    let right = basic("prometheus:s3cret");
    for path in ["/metrics", "/health", "/-/healthy", "/", "/api/v1/expected?metric=nope", "/nowhere"] {
        for (header, what) in [
            (None, "no password"),
            (Some(basic("prometheus:wrong")), "a wrong password"),
            (Some(basic("mallory:s3cret")), "an unknown user"),
        ] {
            let headers: Vec<(&str, &str)> = header.iter().map(|h| ("Authorization", h.as_str())).collect();
            let refused = exporter.request("GET", path, &headers);
            assert_eq!(refused.status, 401, "{path} with {what}");
            assert_eq!(
                refused.header("WWW-Authenticate"),
                Some("Basic realm=\"metrics-generator\", charset=\"UTF-8\""),
                "{path} with {what}"
            );
        }
        let allowed = exporter.request("GET", path, &[("Authorization", &right)]);
        assert_ne!(allowed.status, 401, "{path} with the right password");
    }
    assert_eq!(exporter.request("POST", "/-/reload", &[("Content-Length", "0")]).status, 401);
    let reload =
        exporter.request("POST", "/-/reload", &[("Content-Length", "0"), ("Authorization", &basic("alice:x"))]);
    assert_eq!(reload.status, 200, "{}", reload.text());
}

#[test]
fn wrong_passwords_cost_at_most_one_core_and_a_remembered_one_is_answered_meanwhile() {
    let _heavy = crate::support::heavy();
    let dir = TempDir::new();
    // bcrypt at cost 10 (about 50 ms a check), as `htpasswd -B` makes them.
    let web = web_config(&dir, &format!("basic_auth_users:\n  prometheus: {}\n", bcrypt::hash("s3cret", 10).unwrap()));
    let exporter = Exporter::start(&["--web.config.file", &web, "--interval", "1h"]);
    let right = basic("prometheus:s3cret");
    assert_eq!(exporter.request("GET", "/metrics", &[("Authorization", &right)]).status, 200);
    let pid = exporter.pid();
    let cpu = || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let fields: Vec<&str> = stat.rsplit(')').next().unwrap().split_whitespace().collect();
        // utime and stime, fields 14 and 15 of the whole line: 12 and 13 after the name.
        (fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()) as f64 / 100.0
    };
    // Eight clients send wrong passwords as fast as they are answered, for 3 s.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let addr = exporter.addr;
    let crowd: Vec<_> = (0..8)
        .map(|k| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let wrong = basic(&format!("prometheus:wrong{k}"));
                let request =
                    format!("GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: {wrong}\r\nConnection: close\r\n\r\n");
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let _ = crate::support::http_raw(addr, request.as_bytes(), false);
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let (started, before) = (std::time::Instant::now(), cpu());
    let mut worst = Duration::ZERO;
    while started.elapsed() < Duration::from_secs(3) {
        let asked = std::time::Instant::now();
        assert_eq!(exporter.request("GET", "/metrics", &[("Authorization", &right)]).status, 200);
        worst = worst.max(asked.elapsed());
        std::thread::sleep(Duration::from_millis(100));
    }
    let cores = (cpu() - before) / started.elapsed().as_secs_f64();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    crowd.into_iter().for_each(|t| t.join().unwrap());
    eprintln!("wrong passwords from 8 clients: the exporter used {cores:.2} cores; worst remembered scrape {worst:?}");
    // One check at a time: about one core, not every core the machine has.
    assert!(cores < 1.4, "the wrong passwords took {cores:.2} cores");
    assert!(worst < Duration::from_secs(1), "a remembered password waited {worst:?}");
}

#[test]
fn https_and_basic_auth_together_with_curl() {
    let dir = TempDir::new();
    let Some(pki) = Pki::make(&dir) else { return };
    let web =
        web_config(&dir, &format!("{}basic_auth_users:\n{}", pki.tls_server_config(""), user("prometheus", "s3cret")));
    let exporter = Exporter::start(&["--web.config.file", &web, "--interval", "1h"]);
    let ca = pki.ca.to_str().unwrap();
    let Some(no_password) = curl(&exporter, "/metrics", &["--cacert", ca, "-D", "-"]) else { return };
    assert_eq!(status(&no_password), Ok(401));
    assert!(String::from_utf8_lossy(&no_password.stdout).contains("WWW-Authenticate: Basic realm="), "{no_password:?}");
    assert_eq!(status(&curl(&exporter, "/metrics", &["--cacert", ca, "-u", "prometheus:nope"]).unwrap()), Ok(401));
    assert_eq!(status(&curl(&exporter, "/metrics", &["--cacert", ca, "-u", "prometheus:s3cret"]).unwrap()), Ok(200));
}

#[test]
fn certificates_rotate_without_a_restart() {
    let (first, second) = (TempDir::new(), TempDir::new());
    let (Some(old), Some(new)) = (Pki::make(&first), Pki::make(&second)) else { return };
    // The web config names files in a directory of its own, whose contents are replaced.
    let live = TempDir::new();
    let install = |pki: &Pki| {
        std::fs::copy(&pki.server_cert, live.path().join("tls.crt")).unwrap();
        std::fs::copy(&pki.server_key, live.path().join("tls.key")).unwrap();
    };
    install(&old);
    let web = live.write("web.yml", "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n");
    let exporter = Exporter::start(&["--web.config.file", web.to_str().unwrap(), "--interval", "1h"]);
    let trusted_by =
        |pki: &Pki| curl(&exporter, "/-/healthy", &["--cacert", pki.ca.to_str().unwrap()]).map(|o| status(&o).is_ok());
    if trusted_by(&old).is_none() {
        return;
    }
    assert_eq!((trusted_by(&old), trusted_by(&new)), (Some(true), Some(false)));
    install(&new);
    // Each new connection reads the files again when they changed.
    assert_eq!((trusted_by(&new), trusted_by(&old)), (Some(true), Some(false)), "{}", exporter.stderr());
    // A broken file leaves the last valid certificate serving, and says so.
    std::fs::write(live.path().join("tls.key"), "not a key").unwrap();
    assert_eq!(trusted_by(&new), Some(true));
    poll(Duration::from_secs(5), || exporter.stderr().contains("the last valid one stays in force").then_some(()))
        .unwrap_or_else(|| panic!("{}", exporter.stderr()));
}

#[test]
fn an_invalid_web_config_is_an_error_at_start_up() {
    let dir = TempDir::new();
    let missing = dir.path().join("missing.yml");
    let cases: Vec<(String, String)> = vec![
        (
            "tls_server_config:\n  cert_file: nope.crt\n  key_file: nope.key\n".into(),
            "tls_server_config.cert_file".into(),
        ),
        ("basic_auth_users:\n  alice: plain-text\n".into(), "basic_auth_users.alice: not a bcrypt hash".into()),
        ("tls_server_config: [\n".into(), "line 2, column 1: while parsing a node".into()),
        ("tls_servre_config: {}\n".into(), "unknown key \"tls_servre_config\"".into()),
    ];
    for (text, needle) in &cases {
        let web = web_config(&dir, text);
        for mode in [&[][..], &["--check-config"][..]] {
            let mut args = vec!["--web.config.file", web.as_str(), "--listen-address", "127.0.0.1:0"];
            args.extend_from_slice(mode);
            let out = run(&args);
            assert_fails(&out, 2, &format!("error: web config {web}: "));
            assert_fails(&out, 2, needle);
        }
    }
    let out = run(&["--web.config.file", missing.to_str().unwrap(), "--check-config"]);
    assert_fails(&out, 2, "cannot read it");
    // A key that is not the certificate's.
    let Some(pki) = Pki::make(&dir) else { return };
    let web = web_config(
        &dir,
        &format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\n",
            pki.server_cert.display(),
            pki.client_key.display()
        ),
    );
    assert_fails(&run(&["--web.config.file", &web, "--check-config"]), 2, "do not go together");
}
