//! The config corpus, `tests/data/corpus`: every file under `bad/` is refused at load with exit status 2
//! and exactly the message its `.expected` file holds (the text after `error: config <path>: `,
//! then the caret lines of a bad expression), never a panic or a hang; every file under `good/` is
//! accepted. The two big bad configs, a 50 MB file and 100,000 entries, are generated here into a
//! temp directory rather than committed, as is a valid config of 100,000 entries that must load,
//! serve and reload in bounded time.

use crate::support::{bin, parse_response, root, Exporter, TempDir};
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `.json` files of one corpus folder, sorted.
fn corpus(folder: &str) -> Vec<PathBuf> {
    let dir = root().join("tests/data/corpus").join(folder);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("read_dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

/// Runs the binary with `args`, killing it if it has not finished within `limit` (a hang is a
/// failure, reported with what it wrote); returns its output and how long it took.
fn run_within(args: &[&str], limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = Command::new(bin())
        .args(args)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // The pipes are drained on their own threads, so a long message cannot block the child.
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = String::from_utf8_lossy(&stderr.join().unwrap()).into_owned();
            panic!("{args:?} did not finish within {limit:?}\nstderr:\n{stderr}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let output = Output { status, stdout: stdout.join().unwrap(), stderr: stderr.join().unwrap() };
    (output, started.elapsed())
}

/// Asserts that loading `path` fails with status 2 and stderr exactly
/// `error: config <path>: <expected>`, printing nothing on stdout and never panicking, both for
/// `--check-config` and when starting to serve. Returns the time `--check-config` took.
#[track_caller]
fn check_refused(path: &Path, expected: &str, limit: Duration) -> Duration {
    let shown = path.to_str().unwrap();
    let want = format!("error: config {shown}: {expected}\n");
    let mut took = Duration::ZERO;
    for mode in [&["--check-config"][..], &["--listen-address", "127.0.0.1:0", "--interval", "1h"][..]] {
        let mut args = vec!["--config", shown];
        args.extend_from_slice(mode);
        let (out, elapsed) = run_within(&args, limit);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panic"), "{args:?} panicked:\n{stderr}");
        assert_eq!(out.status.code(), Some(2), "{args:?}: exit status; stderr:\n{stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
        assert_eq!(stderr, want, "{args:?}");
        if took.is_zero() {
            took = elapsed;
        }
    }
    took
}

#[test]
fn every_bad_config_is_refused_with_its_message() {
    let files = corpus("bad");
    assert!(files.len() >= 30, "the bad corpus has only {} files", files.len());
    let mut slowest = (Duration::ZERO, String::new());
    for path in &files {
        let expected_path = path.with_extension("expected");
        let expected = std::fs::read_to_string(&expected_path)
            .unwrap_or_else(|e| panic!("{}: {e} (each bad config needs one)", expected_path.display()));
        let took = check_refused(path, expected.strip_suffix('\n').unwrap_or(&expected), Duration::from_secs(20));
        if took > slowest.0 {
            slowest = (took, path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    // And no stray `.expected` without its config.
    let dir = root().join("tests/data/corpus/bad");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        assert!(
            path.extension().is_some_and(|e| e == "json") || path.with_extension("json").is_file(),
            "{} has no config",
            path.display()
        );
    }
    eprintln!("{} bad configs refused; slowest --check-config: {} in {:?}", files.len(), slowest.1, slowest.0);
}

#[test]
fn every_good_config_is_accepted() {
    let files = corpus("good");
    assert!(!files.is_empty());
    for path in files {
        let (out, _) = run_within(&["--check-config", "--config", path.to_str().unwrap()], Duration::from_secs(20));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{} refused: {stderr}", path.display());
        assert!(String::from_utf8_lossy(&out.stdout).contains(" is valid: "), "{}", path.display());
    }
}

/// A byte-order mark is skipped, not read as part of the config: the file loads as the same
/// entry without it, and serves that entry's values.
#[test]
fn a_config_with_a_byte_order_mark_serves_its_entry() {
    let path = root().join("tests/data/corpus/good/bom.json");
    assert!(std::fs::read(&path).unwrap().starts_with(b"\xEF\xBB\xBF["), "the fixture starts with a BOM");
    let (out, _) = run_within(&["--check-config", "--config", path.to_str().unwrap()], Duration::from_secs(20));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary = String::from_utf8(out.stdout).unwrap();
    assert!(summary.ends_with(" is valid: 1 series\n  test_metrics_a gauge square\n"), "{summary}");
    let exporter = Exporter::start(&["--config", path.to_str().unwrap(), "--interval", "1h"]);
    assert_eq!(exporter.sample("test_metrics_a"), Some(1.0), "{}", exporter.get("/metrics").text());
}

/// `count` entries, one per line: `entry(k)` gives the JSON of entry k.
fn entries(count: usize, entry: impl Fn(usize) -> String) -> String {
    let mut text = String::with_capacity(count * 80);
    text.push_str("[\n");
    for k in 0..count {
        if k > 0 {
            text.push_str(",\n");
        }
        text.push_str(&entry(k));
    }
    text.push_str("\n]\n");
    text
}

/// Generous bounds for the big configs: they only catch a hang or a return of quadratic time
/// (which took minutes), never measure speed. A debug build takes a few seconds.
const BIG_LIMIT: Duration = Duration::from_secs(90);

#[test]
fn a_50_mb_config_is_refused_in_bounded_time() {
    let _heavy = crate::support::heavy();
    let dir = TempDir::new();
    // 50,000 entries with a 1,000-character HELP each, the last one a duplicate of the first.
    let help = "x".repeat(1000);
    let gauge = |name: String| {
        format!(r#"{{"name": "{name}", "metric_type": "gauge", "custom_function": "square", "help": "{help}"}}"#)
    };
    let text = entries(50_001, |k| gauge(if k == 50_000 { "m0".into() } else { format!("m{k}") }));
    assert!(text.len() > 50_000_000, "{} bytes", text.len());
    let path = dir.write("big.json", &text);
    let took = check_refused(
        &path,
        "entry 50000 (\"m0\"): duplicate series: test_metrics_m0 with the same labels as entry 0 (\"m0\")",
        BIG_LIMIT,
    );
    eprintln!("50 MB config ({} bytes) refused in {took:?}", text.len());
}

#[test]
fn a_family_of_100_000_entries_with_a_duplicate_is_refused_in_bounded_time() {
    let _heavy = crate::support::heavy();
    let dir = TempDir::new();
    // One family, the worst case for the duplicate check: 100,000 label sets, then a repeat.
    let text = entries(100_001, |k| {
        format!(
            r#"{{"name": "m", "metric_type": "gauge", "custom_function": "square", "labels": {{"k": "{}"}}}}"#,
            if k == 100_000 { 50_000 } else { k }
        )
    });
    let path = dir.write("family.json", &text);
    let took = check_refused(
        &path,
        "entry 100000 (\"m\"): duplicate series: test_metrics_m with the same labels as entry 50000 (\"m\")",
        BIG_LIMIT,
    );
    eprintln!("100,000 entries of one family refused in {took:?}");
}

#[test]
fn a_config_of_100_000_entries_loads_serves_and_reloads_in_bounded_time() {
    let _heavy = crate::support::heavy();
    let dir = TempDir::new();
    let text =
        entries(100_000, |k| format!(r#"{{"name": "m{k}", "metric_type": "gauge", "custom_function": "square"}}"#));
    let path = dir.write("many.json", &text);
    let shown = path.to_str().unwrap();

    let (out, took) = run_within(&["--check-config", "--config", shown], BIG_LIMIT);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(&format!("config {shown} is valid: 100000 series\n")));
    eprintln!("100,000 entries: --check-config in {took:?}");

    // The summary is far bigger than a pipe's buffer: a reader that stops early closes the pipe
    // under the writer, which must end quietly.
    let mut child = Command::new(bin())
        .args(["--check-config", "--config", shown])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 16];
    child.stdout.take().unwrap().read_exact(&mut first).expect("the summary starts");
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    let status = child.wait().unwrap();
    assert!(status.success() && stderr.is_empty(), "closed stdout: {status}\n{stderr}");

    let started = Instant::now();
    let exporter = Exporter::start(&["--config", shown, "--interval", "1h", "--web.enable-lifecycle"]);
    let ready = started.elapsed();
    let metrics = exporter.get("/metrics");
    assert_eq!(metrics.status, 200);
    let body = metrics.text();
    assert!(body.contains("\ntest_metrics_m99999 1\n"), "the last entry is served");
    let samples = body.lines().filter(|l| !l.starts_with('#')).count();
    assert_eq!(samples, 100_000 + 9, "every entry and the nine self-metrics");
    let reload_started = Instant::now();
    // A reload of 100,000 entries takes seconds in a debug build: longer than the support module's
    // read timeout, so this request waits up to BIG_LIMIT.
    let mut stream = TcpStream::connect(exporter.addr).unwrap();
    stream.set_read_timeout(Some(BIG_LIMIT)).unwrap();
    stream.write_all(b"POST /-/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let reloaded = parse_response(&raw, false).unwrap();
    assert_eq!(reloaded.status, 200, "{}", reloaded.text());
    assert!(reloaded.text().contains("100000 kept their place"), "{}", reloaded.text());
    eprintln!(
        "100,000 entries: serving after {ready:?}, /metrics of {} bytes, reload in {:?}",
        metrics.body.len(),
        reload_started.elapsed()
    );
}

/// How the binary judged a config: accepted, or refused with its exit status and `error:` line.
type Verdict = Result<(), (Option<i32>, String)>;

/// `--check-config` with `flags`.
fn check_verdict(path: &str, flags: &[&str]) -> Verdict {
    let mut args = vec!["--check-config", "--config", path];
    args.extend_from_slice(flags);
    let (out, _) = run_within(&args, Duration::from_secs(60));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panic"), "{args:?} panicked:\n{stderr}");
    match out.status.success() {
        true => Ok(()),
        false => Err((out.status.code(), error_line(&stderr))),
    }
}

/// Serving with `flags`: accepted once it logs `listening on`, refused when it exits before.
fn serve_verdict(path: &str, flags: &[&str]) -> Verdict {
    let mut child = Command::new(bin())
        .args(["--config", path, "--listen-address", "127.0.0.1:0"])
        .args(flags)
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stderr = String::new();
    // Lines until `listening on` (then the process is killed) or the end of stderr (it exited).
    for line in std::io::BufRead::lines(std::io::BufReader::new(child.stderr.take().unwrap())) {
        let line = line.expect("stderr line");
        if line.contains("listening on http://") {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(());
        }
        stderr.push_str(&line);
        stderr.push('\n');
    }
    let status = child.wait().expect("wait");
    assert!(!stderr.contains("panic"), "serving {path} {flags:?} panicked:\n{stderr}");
    Err((status.code(), error_line(&stderr)))
}

/// The first error line, with the number after each "tick " replaced by `N`: the tick a
/// wall-clock message names is the clock's, which moves on between two runs made a moment apart
/// (with `--interval 15s`, the check and the serving run straddled a tick in one CI run).
fn error_line(stderr: &str) -> String {
    let line = stderr.lines().find(|l| l.starts_with("error: ")).unwrap_or(stderr);
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find("tick ") {
        out.push_str(&rest[..at + 5]);
        rest = &rest[at + 5..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits > 0 {
            out.push('N');
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

/// `--check-config` runs every check that serving runs, with the same flags: for every config of
/// the corpus, with start-up and with wall-clock alignment, both accept it or both refuse it
/// with the same message. (With `--align wall-clock`, a `random_walk` without `reset_interval`
/// cannot be fast-forwarded to the clock's tick: serving refuses it, and so must the check.)
#[test]
fn check_config_agrees_with_serving_on_the_whole_corpus() {
    let _heavy = crate::support::heavy();
    let files: Vec<PathBuf> = corpus("bad").into_iter().chain(corpus("good")).collect();
    let mut refused_only_on_the_clock = Vec::new();
    for path in &files {
        let shown = path.to_str().unwrap();
        let mut verdicts = Vec::new();
        for flags in [&["--interval", "15s"][..], &["--interval", "15s", "--align", "wall-clock"][..]] {
            let check = check_verdict(shown, flags);
            let serve = serve_verdict(shown, flags);
            assert_eq!(check, serve, "{shown} {flags:?}: --check-config and serving disagree");
            verdicts.push(check);
        }
        if verdicts[0].is_ok() && verdicts[1].is_err() {
            refused_only_on_the_clock.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    assert!(
        refused_only_on_the_clock.contains(&"random-walk-without-reset.json".to_string()),
        "the corpus lacks a config that only wall-clock alignment refuses: {refused_only_on_the_clock:?}"
    );
}
