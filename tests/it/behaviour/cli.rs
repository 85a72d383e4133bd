//! Flags (`docs/configuration.md`): bad flags are one-line errors; the informational flags print
//! and exit 0; a port in use is an error, not a panic.

use crate::support::{assert_fails, run, Exporter};
use std::net::TcpListener;

#[test]
fn bad_flags_are_one_line_errors() {
    let cases: &[(&[&str], &str)] = &[
        (&["--bogus"], "error: unknown or repeated flag --bogus (see --help)"),
        (&["serve"], "error: unexpected argument \"serve\""),
        (&["--interval", "soon"], "error: --interval: \"soon\" is not a duration"),
        (&["--interval", "0s"], "error: --interval: \"0s\": the interval must be greater than zero"),
        (&["--interval", "5"], "has a number without a unit"),
        (
            &["--port", "8000", "--listen-address", "127.0.0.1:0"],
            "error: --port and --listen-address cannot be given together",
        ),
        (&["--port", "70000"], "error: --port: \"70000\" is not a port"),
        (&["--listen-address", "127.0.0.1"], "error: --listen-address: \"127.0.0.1\" is not HOST:PORT"),
        (&["--config"], "error: --config needs a value"),
        (&["--namespace", "bad-ns"], "error: --namespace: \"bad-ns\" is not a valid metric name prefix"),
        (&["--intervall", "1s"], "error: unknown or repeated flag --intervall; did you mean --interval? (see --help)"),
        // `.invalid` never resolves (RFC 6761): the message says so rather than "not HOST:PORT".
        (
            &["--listen-address", "nowhere.invalid:8000"],
            "error: --listen-address: cannot resolve the host \"nowhere.invalid\" (",
        ),
    ];
    for (args, message) in cases {
        assert_fails(&run(args), 2, message);
    }
}

#[test]
fn a_port_in_use_is_an_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run(&["--listen-address", &addr]);
    assert_fails(&out, 1, &format!("error: cannot listen on {addr}: Address already in use"));
}

#[test]
fn informational_flags_print_and_exit_0() {
    let version = run(&["--version"]);
    assert!(version.status.success());
    assert_eq!(
        String::from_utf8(version.stdout).unwrap(),
        format!("metrics-generator {}\n", env!("CARGO_PKG_VERSION"))
    );

    for flag in ["--help", "-h"] {
        let help = run(&[flag]);
        assert!(help.status.success());
        let text = String::from_utf8(help.stdout).unwrap();
        for needle in [
            "--config",
            "--port",
            "--listen-address",
            "--interval",
            "--namespace",
            "--check-config",
            "--preview",
            "--list-functions",
            "--watch-config",
        ] {
            assert!(text.contains(needle), "help lacks {needle}");
        }
    }

    let list = run(&["--list-functions"]);
    assert!(list.status.success());
    let text = String::from_utf8(list.stdout).unwrap();
    for name in ["square", "power", "fibonacci", "exponential", "normal"] {
        assert!(text.lines().any(|l| l.starts_with(name)), "--list-functions lacks {name}:\n{text}");
    }
    assert!(text.contains("seed: "), "params are listed:\n{text}");
}

#[test]
fn listen_address_forms_and_namespace() {
    let exporter = Exporter::start(&["--web.listen-address", "127.0.0.1:0", "--namespace", "demo", "--interval", "1h"]);
    assert!(exporter.addr.ip().is_loopback());
    assert!(exporter.get("/metrics").text().contains("\ndemo_custom_power 1\n"));

    let bare = Exporter::start(&["--listen-address", "127.0.0.1:0", "--namespace", "", "--interval", "1h"]);
    assert!(bare.get("/metrics").text().starts_with("# HELP custom_square "));

    // IPv6 on loopback: a skip on a machine without it, a failure in CI.
    if crate::support::require(std::net::TcpListener::bind("[::1]:0").is_ok(), "IPv6 on loopback ([::1])") {
        let v6 = Exporter::start(&["--listen-address", "[::1]:0", "--interval", "1h"]);
        assert!(v6.addr.is_ipv6());
        assert_eq!(v6.get("/health").status, 200);
    }
}

#[test]
fn verbose_logs_debug_lines_unless_rust_log_says_otherwise() {
    // -v alone: each /metrics answer is logged at debug.
    let verbose = Exporter::start(&["-v", "--interval", "1h"]);
    verbose.get("/metrics");
    let seen = crate::support::poll(std::time::Duration::from_secs(5), || {
        verbose.stderr().contains("GET /metrics: text 0.0.4").then_some(())
    });
    assert!(seen.is_some(), "{}", verbose.stderr());

    // RUST_LOG wins over -v: at info, the same answer is not logged, the start-up lines are.
    let mut command = std::process::Command::new(crate::support::bin());
    command
        .args(["-v", "--interval", "1h", "--listen-address", "127.0.0.1:0", "--web.enable-lifecycle"])
        .env("RUST_LOG", "info");
    let quiet = Exporter::start_command(command);
    quiet.get("/metrics");
    // The debug line of a request is written before its answer, and a reload logs at info after
    // it: once the reload's line is in, a debug line of the scrape would be in before it.
    assert_eq!(quiet.request("POST", "/-/reload", &[]).status, 200);
    let log = crate::support::poll(std::time::Duration::from_secs(5), || {
        let log = quiet.stderr();
        log.contains(" reloaded: ").then_some(log)
    })
    .unwrap_or_else(|| panic!("no reload line:\n{}", quiet.stderr()));
    assert!(log.contains("listening on http://") && !log.contains("GET /metrics:"), "{log}");
}
