//! Many connections (SPEC §12): at most `--max-connections` are open, a full server makes room by
//! closing the connection waiting longest (or blocking its answer longest), request heads and idle
//! connections have deadlines, and an idle exporter logs nothing. The floods run the static (musl)
//! binary that the image ships, on loopback, bounded in count and time, while a scraper checks
//! that every honest scrape is answered within a second; they print what they measured
//! (`cargo test --test it robustness::connections -- --nocapture`).

use super::abuse::Scraper;
use crate::support::{heavy, poll, proc_status, root, run_command_within, sample, tools_required, Exporter};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Whether the server has closed `stream`, waiting at most `wait` for it.
fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return false,
            Err(_) => return true,
        }
    }
}

fn connect(addr: SocketAddr) -> TcpStream {
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect")
}

/// Lines the exporter logged at warn or error.
fn warnings(stderr: &str) -> Vec<&str> {
    stderr.lines().filter(|l| l.contains(" WARN ") || l.contains(" ERROR ")).collect()
}

#[test]
fn an_idle_exporter_logs_no_warning_or_error() {
    // The listening socket had the keep-alive timeout as its receive timeout, which is a timeout of
    // accept(): with no new connection for that long, a healthy exporter logged an accept error.
    let exporter = Exporter::start(&["--keep-alive-timeout", "1s"]);
    let mut keep_alive = connect(exporter.addr);
    keep_alive.write_all(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    let started = Instant::now();
    // The idle keep-alive connection is closed after its timeout; nothing else happens meanwhile.
    assert!(closed_within(&mut keep_alive, Duration::from_secs(4)), "the idle connection was not closed");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(900), "closed after {took:?}, before the keep-alive timeout");
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(exporter.get("/-/healthy").status, 200);
    let stderr = exporter.stderr();
    assert!(warnings(&stderr).is_empty(), "an idle exporter logged:\n{stderr}");
}

#[test]
fn a_request_head_must_arrive_within_its_deadline() {
    let exporter = Exporter::start(&["--request-head-timeout", "2s"]);
    // One byte every 300 ms: the head is not complete when its deadline passes.
    let mut slow = connect(exporter.addr);
    let mut idle = connect(exporter.addr);
    let started = Instant::now();
    let request = b"GET /metrics HTTP/1.1\r\nHost: a-slow-client\r\n\r\n";
    let mut closed_after = None;
    for byte in request.iter() {
        if slow.write_all(&[*byte]).is_err() || closed_within(&mut slow, Duration::from_millis(300)) {
            closed_after = Some(started.elapsed());
            break;
        }
    }
    let closed_after = closed_after.expect("a head sent over 14 s was read whole");
    assert!(
        (Duration::from_millis(1900)..Duration::from_millis(3500)).contains(&closed_after),
        "closed after {closed_after:?}, not about 2 s after its first byte"
    );
    // An idle connection has the keep-alive timeout (120 s), not the head's deadline.
    assert!(!closed_within(&mut idle, Duration::from_millis(100)), "the idle connection was closed");
    idle.write_all(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    idle.read_to_end(&mut raw).unwrap();
    assert!(raw.starts_with(b"HTTP/1.1 200"), "{}", String::from_utf8_lossy(&raw));
}

/// The connection metrics in `/metrics`, as of the last tick: limit, open, evicted, refused.
fn connection_metrics(exporter: &Exporter) -> [f64; 4] {
    let body = exporter.get("/metrics").text();
    ["", "", "_evicted_total", "_refused_total"]
        .iter()
        .enumerate()
        .map(|(k, suffix)| {
            let name = match k {
                0 => "metrics_generator_http_connections_max".to_string(),
                _ => format!("metrics_generator_http_connections{suffix}"),
            };
            sample(&body, &name).unwrap_or_else(|| panic!("{name} missing:\n{body}"))
        })
        .collect::<Vec<_>>()
        .try_into()
        .unwrap()
}

#[test]
fn a_full_server_closes_the_connection_waiting_longest() {
    let exporter = Exporter::start(&["--max-connections", "4", "--interval", "100ms"]);
    // Four idle connections fill it; the first to come has waited longest.
    let mut idle: Vec<TcpStream> = (0..4)
        .map(|_| {
            let stream = connect(exporter.addr);
            std::thread::sleep(Duration::from_millis(150));
            stream
        })
        .collect();
    // A fifth connection is answered; the oldest idle one is closed to make room.
    assert_eq!(exporter.get("/-/healthy").status, 200);
    assert!(closed_within(&mut idle[0], Duration::from_secs(2)), "the longest-waiting connection is open");
    for (k, stream) in idle.iter_mut().enumerate().skip(2) {
        assert!(!closed_within(stream, Duration::from_millis(50)), "idle connection {k} was closed too");
    }
    // One line at warn when the limit is first reached, however many connections it closes: five
    // more rounds of one more idle connection (full again) and a scrape (which closes the oldest).
    for _ in 0..5 {
        idle.push(connect(exporter.addr));
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(exporter.get("/-/healthy").status, 200);
    }
    let counts = poll(Duration::from_secs(5), || {
        let counts = connection_metrics(&exporter);
        (counts[2] >= 6.0).then_some(counts)
    })
    .unwrap_or_else(|| panic!("evictions not counted: {:?}", connection_metrics(&exporter)));
    assert_eq!((counts[0], counts[3]), (4.0, 0.0), "limit and refusals: {counts:?}");
    let stderr = exporter.stderr();
    let warned = stderr.matches("connections are open, the most allowed").count();
    assert_eq!(warned, 1, "one warning expected:\n{stderr}");
    assert!(stderr.contains("WARN  tiny_http::util::connections] 4 connections are open"), "{stderr}");
}

#[test]
fn a_full_server_of_clients_taking_their_answers_refuses_a_new_one() {
    let _heavy = heavy();
    // Two clients download a 10 MB body steadily: their answers make progress, so a third
    // connection is closed at once instead of either of them.
    let exporter = Exporter::with_config(BIG, &["--max-connections", "2", "--interval", "1h"]);
    let body = exporter.get("/metrics").body.len();
    let stop = Arc::new(AtomicBool::new(false));
    let downloads: Vec<_> = (0..2)
        .map(|_| {
            let (addr, stop) = (exporter.addr, stop.clone());
            std::thread::spawn(move || {
                // A client that takes its answer at about 2 MB/s, 4 kB every 2 ms, for longer
                // than the test: its writes never block for long.
                let mut stream = connect(addr);
                stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
                let (mut buffer, mut read) = ([0u8; 4096], 0);
                while !stop.load(Ordering::Relaxed) {
                    match stream.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => read += n,
                    }
                    std::thread::sleep(Duration::from_millis(2));
                }
                read
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let mut refused = 0;
    for _ in 0..10 {
        let mut stream = connect(exporter.addr);
        if closed_within(&mut stream, Duration::from_millis(300)) {
            refused += 1;
        }
    }
    stop.store(true, Ordering::Relaxed);
    let read: usize = downloads.into_iter().map(|d| d.join().unwrap()).sum();
    assert!(refused >= 8, "only {refused} of 10 new connections were closed at once");
    assert!(read > 1 << 20 && read < 2 * body, "the downloads read {read} bytes");
    let stderr = exporter.stderr();
    assert!(!stderr.contains("answering GET /metrics"), "a download was cut short:\n{stderr}");
}

/// The exporter's TCP sockets on loopback, from `/proc/net/tcp`: each one's state (as the kernel
/// numbers them: 1 established, 4 FIN-WAIT-1, 9 LAST-ACK, 11 closing) and the bytes queued to
/// send (unsent and unacknowledged).
fn kernel_sockets(port: u16) -> Vec<(u8, u64)> {
    let table = std::fs::read_to_string("/proc/net/tcp").expect("/proc/net/tcp");
    let local = format!("0100007F:{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            (fields.get(1) == Some(&local.as_str())).then(|| {
                let state = u8::from_str_radix(fields[3], 16).unwrap();
                let queued = u64::from_str_radix(fields[4].split(':').next().unwrap(), 16).unwrap();
                (state, queued)
            })
        })
        .collect()
}

#[test]
fn a_client_that_does_not_read_holds_little_of_the_kernel_and_nothing_once_closed() {
    let _heavy = heavy();
    // Two clients ask for a 10 MB body and read nothing, with receive buffers of 4 kB.
    let exporter = Exporter::with_config(BIG, &["--max-connections", "2", "--interval", "1h"]);
    let port = exporter.addr.port();
    let stuck: Vec<TcpStream> = (0..2)
        .map(|_| {
            let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
            socket.set_recv_buffer_size(4096).unwrap();
            socket.connect_timeout(&exporter.addr.into(), Duration::from_secs(2)).unwrap();
            let mut stream = TcpStream::from(socket);
            stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    // Each answer's thread is blocked with at most NOT_SENT (64 kB, serve.rs) unsent, plus what
    // the send being made and the client's buffer took: not a send buffer grown to MBs.
    let queued: Vec<(u8, u64)> = kernel_sockets(port).into_iter().filter(|(state, _)| *state == 1).collect();
    assert_eq!(queued.len(), 2, "{queued:?}");
    assert!(queued.iter().all(|(_, bytes)| *bytes > 0 && *bytes <= 256 * 1024), "queued to send: {queued:?}");
    // A new connection closes one of them to make room (its client has read nothing for 20 ms
    // and more); what was queued for it is dropped with a reset, not left to the kernel to
    // deliver to a client that never takes it.
    assert_eq!(exporter.get("/-/healthy").status, 200);
    let sockets = poll(Duration::from_secs(2), || {
        let sockets = kernel_sockets(port);
        (sockets.iter().filter(|(state, bytes)| *state == 1 && *bytes > 0).count() == 1).then_some(sockets)
    })
    .unwrap_or_else(|| panic!("no blocked answer was closed to make room: {:?}", kernel_sockets(port)));
    let closing: Vec<&(u8, u64)> = sockets.iter().filter(|(state, _)| matches!(state, 4 | 9 | 11)).collect();
    assert!(closing.is_empty(), "closed connections still hold bytes to send: {sockets:?}");
    drop(stuck);
}

#[test]
fn a_body_over_32_kb_is_sent_with_its_content_length() {
    let exporter = Exporter::with_config(BIG, &["--interval", "1h"]);
    let response = exporter.request("GET", "/metrics", &[]);
    assert!(response.body.len() > 1 << 20);
    assert_eq!(response.header("Content-Length"), Some(response.body.len().to_string().as_str()));
    assert_eq!(response.header("Transfer-Encoding"), None);
}

/// A config whose `/metrics` is 10.7 MB.
const BIG: &str = r#"[{"name": "big", "metric_type": "gauge", "custom_function": "square", "series": 300000}]"#;

// ---- Floods, against the static binary ---------------------------------------------------------

const STATIC_BIN: &str = "target/x86_64-unknown-linux-musl/release/metrics-generator";
/// The memory the Kubernetes deployment gives the pod.
const MEMORY_LIMIT: u64 = 32 << 20;
/// The default `--max-connections`.
const CAP: u64 = 256;
/// Threads besides the connections' own: main, accept, reaper, ticker, signals, and spare.
const OTHER_THREADS: u64 = 8;

/// `make static` (a no-op when the binary is fresh), or `None` when the musl target is missing
/// on a developer's machine.
fn static_binary() -> Option<PathBuf> {
    let out = run_command_within(
        Command::new("rustc").args(["--print", "target-libdir", "--target", "x86_64-unknown-linux-musl"]),
        Duration::from_secs(20),
    );
    if !(out.status.success() && PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).is_dir()) {
        assert!(!tools_required(), "the x86_64-unknown-linux-musl target is required but not installed");
        eprintln!("SKIPPED: rustup target add x86_64-unknown-linux-musl (set REQUIRE_TOOLS=1 to make this a failure)");
        return None;
    }
    let out = run_command_within(
        Command::new("make").current_dir(root()).args(["-s", "static"]).env_remove("MAKEFLAGS").env_remove("MAKELEVEL"),
        Duration::from_secs(900),
    );
    assert!(out.status.success(), "make static:\n{}", String::from_utf8_lossy(&out.stderr));
    Some(root().join(STATIC_BIN))
}

/// Raises this process's soft limit of open files to its hard limit, for the clients of a flood
/// (`prlimit` needs no libc binding); where it is missing, the default must do.
fn allow_open_files() {
    let pid = std::process::id().to_string();
    let hard = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .map(|l| l.split_whitespace().nth(4).unwrap_or("").to_string())
        })
        .unwrap_or_default();
    if !hard.is_empty() {
        let _ = Command::new("prlimit").args(["--pid", &pid, &format!("--nofile={hard}:")]).output();
    }
}

fn rss(pid: u32) -> u64 {
    proc_status(pid, "VmRSS").trim_end_matches("kB").trim().parse::<u64>().expect("VmRSS in kB") * 1024
}

/// Samples the exporter's RSS and thread count every 50 ms until stopped; the highest of each.
struct Watch {
    stop: Arc<AtomicBool>,
    peaks: Arc<Mutex<(u64, u64)>>,
    thread: std::thread::JoinHandle<()>,
}

impl Watch {
    fn start(pid: u32) -> Watch {
        let (stop, peaks) = (Arc::new(AtomicBool::new(false)), Arc::new(Mutex::new((0, 0))));
        let (stopped, seen) = (stop.clone(), peaks.clone());
        let thread = std::thread::spawn(move || {
            // Until stopped, or the process is gone (a test that failed killed it).
            while !stopped.load(Ordering::Relaxed) && std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let threads: u64 = proc_status(pid, "Threads").parse().unwrap();
                let mut peaks = seen.lock().unwrap();
                *peaks = (peaks.0.max(rss(pid)), peaks.1.max(threads));
                drop(peaks);
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        Watch { stop, peaks, thread }
    }

    /// The highest RSS and thread count seen.
    fn finish(self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap();
        let peaks = *self.peaks.lock().unwrap();
        peaks
    }
}

/// Drops the connections of a flood that the server has closed.
fn let_go_of_closed(flood: &mut Vec<(TcpStream, bool)>) {
    let mut byte = [0u8; 1];
    flood.retain_mut(|(stream, _)| matches!(stream.read(&mut byte), Err(e) if e.kind() == ErrorKind::WouldBlock));
}

/// Starts the static binary with `config` (or the default config) on loopback.
fn start_static(binary: &PathBuf, dir: &crate::support::TempDir, config: Option<&str>) -> Exporter {
    let mut command = Command::new(binary);
    command.args(["--listen-address", "127.0.0.1:0", "--interval", "1s"]);
    if let Some(config) = config {
        command.arg("--config").arg(dir.write("config.json", config));
    }
    Exporter::start_command(command)
}

/// RSS after the clients are gone, once it settles: the connection threads beyond four end after
/// 5 s without a connection, and their stacks go with them. The lowest sample in 10 s, or the
/// first within 2× of `idle`.
fn settled_rss(pid: u32, idle: u64) -> u64 {
    let mut lowest = u64::MAX;
    for _ in 0..40 {
        std::thread::sleep(Duration::from_millis(250));
        lowest = lowest.min(rss(pid));
        if lowest <= 2 * idle {
            break;
        }
    }
    lowest
}

#[track_caller]
fn check_flood(scenario: &str, idle: u64, peak: (u64, u64), after: u64, counts: [f64; 4]) {
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    eprintln!(
        "{scenario}: RSS idle {:.1} MiB, peak {:.1} MiB, after {:.1} MiB; peak threads {}; evicted {}, refused {}",
        mib(idle),
        mib(peak.0),
        mib(after),
        peak.1,
        counts[2],
        counts[3]
    );
    assert!(peak.0 < MEMORY_LIMIT, "{scenario}: RSS reached {:.1} MiB", mib(peak.0));
    assert!(peak.1 <= CAP + OTHER_THREADS, "{scenario}: {} threads", peak.1);
    assert!(after <= 2 * idle, "{scenario}: RSS {:.1} MiB after, {:.1} MiB idle", mib(after), mib(idle));
    assert!(counts[2] > 0.0, "{scenario}: no connection was evicted");
}

#[test]
fn twenty_thousand_idle_and_slow_connections_lock_nobody_out() {
    let _heavy = heavy();
    let Some(binary) = static_binary() else { return };
    allow_open_files();
    let dir = crate::support::TempDir::new();
    let exporter = start_static(&binary, &dir, None);
    let pid = exporter.pid();
    std::thread::sleep(Duration::from_millis(500));
    let idle_rss = rss(pid);
    let watch = Watch::start(pid);
    let scraper = Scraper::start(exporter.addr);
    let started = Instant::now();
    // 20,000 connections as fast as they open: the even ones stay idle, the odd ones send a
    // request head one byte a second. The test process may hold fewer (its limit of open files
    // here is 20,000 and cannot be raised): the connections the server has closed are let go.
    let mut flood: Vec<(TcpStream, bool)> = Vec::new();
    for k in 0..20_000 {
        let stream = TcpStream::connect_timeout(&exporter.addr, Duration::from_secs(3))
            .unwrap_or_else(|e| panic!("connection {k}: {e}"));
        stream.set_nonblocking(true).unwrap();
        flood.push((stream, k % 2 == 1));
        if flood.len() >= 4_000 {
            let_go_of_closed(&mut flood);
        }
    }
    let opened = started.elapsed();
    let head = b"GET /metrics HTTP/1.1\r\nHost: a-slow-client\r\n\r\n";
    for second in 0..12 {
        let tick = Instant::now();
        let_go_of_closed(&mut flood);
        for (stream, slow) in &mut flood {
            if *slow {
                let _ = stream.write(&head[second..second + 1]);
            }
        }
        std::thread::sleep(Duration::from_secs(1).saturating_sub(tick.elapsed()));
    }
    let counts = connection_metrics(&exporter);
    scraper.finish("20,000 idle and slow connections");
    let peak = watch.finish();
    drop(flood);
    let after = settled_rss(pid, idle_rss);
    eprintln!("20,000 connections opened in {opened:?}");
    check_flood("20,000 idle and slow connections", idle_rss, peak, after, counts);
}

#[test]
fn two_thousand_clients_that_never_read_a_5_mb_body_lock_nobody_out() {
    let _heavy = heavy();
    let Some(binary) = static_binary() else { return };
    allow_open_files();
    let dir = crate::support::TempDir::new();
    // 140,000 series of about 37 bytes each: a body of 5 MB.
    let config = r#"[{"name": "flood", "metric_type": "gauge", "custom_function": "square", "series": 140000}]"#;
    let exporter = start_static(&binary, &dir, Some(config));
    let pid = exporter.pid();
    let body = exporter.get("/metrics").body.len();
    assert!(body > 5_000_000, "a body of {body} bytes");
    std::thread::sleep(Duration::from_millis(500));
    let idle_rss = rss(pid);
    let watch = Watch::start(pid);
    let began = std::time::Instant::now();
    let scraper = Scraper::start(exporter.addr);
    let clients: Vec<TcpStream> = (0..2_000)
        .map(|k| {
            let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
            socket.set_recv_buffer_size(4096).unwrap();
            socket
                .connect_timeout(&exporter.addr.into(), Duration::from_secs(3))
                .unwrap_or_else(|e| panic!("connection {k}: {e}"));
            let mut stream = TcpStream::from(socket);
            // A connection closed to make room before its request was read may refuse it.
            let _ = stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
            stream
        })
        .collect();
    eprintln!("2,000 clients that never read a 5 MB body: all connected after {:?}", began.elapsed());
    std::thread::sleep(Duration::from_secs(16));
    let counts = connection_metrics(&exporter);
    // Every scrape is judged, from the first: while the 2,000 are worked through, an answer
    // blocked on one of them is closed to make room once its client, having acknowledged less
    // than 128 kB in all, acknowledges nothing for 20 ms (NEVER_READ_GRACE in tiny_http's
    // registry), and what was queued for it is dropped; waiting for a second of blocking
    // (WRITE_GRACE) let an honest scrape wait or be refused for up to 8 s.
    scraper.finish("2,000 clients that never read a 5 MB body");
    let peak = watch.finish();
    drop(clients);
    let after = settled_rss(pid, idle_rss);
    check_flood("2,000 clients that never read a 5 MB body", idle_rss, peak, after, counts);
}

/// The first bytes of a TLS ClientHello: a handshake record header announcing 512 bytes, and the
/// start of the message. A client that sends this and no more has begun a handshake it never ends.
const HALF_A_CLIENT_HELLO: &[u8] = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";

/// An exporter serving HTTPS with a fresh certificate, and the PKI; `None` without `openssl`.
fn https_exporter(dir: &crate::support::TempDir, args: &[&str]) -> Option<(Exporter, crate::support::tls::Pki)> {
    let pki = crate::support::tls::Pki::make(dir)?;
    let web = dir.write("web.yml", pki.tls_server_config(""));
    let mut all = vec!["--web.config.file", web.to_str().unwrap()];
    all.extend_from_slice(args);
    Some((Exporter::start(&all), pki))
}

/// `GET /-/healthy` over HTTPS with curl: whether it got a 200; `None` without curl.
fn https_healthy(exporter: &Exporter, pki: &crate::support::tls::Pki) -> Option<bool> {
    let curl = crate::support::require_tool("curl")?;
    let url = format!("https://127.0.0.1:{}/-/healthy", exporter.addr.port());
    let out = crate::support::run_command(
        Command::new(curl)
            .args(["-sS", "--max-time", "5", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
            .arg(&pki.ca)
            .arg(url),
    );
    Some(out.status.success() && out.stdout == b"200")
}

#[test]
fn a_tls_handshake_that_never_ends_is_a_slow_request_head() {
    let dir = crate::support::TempDir::new();
    let Some((exporter, pki)) = https_exporter(&dir, &["--request-head-timeout", "2s"]) else { return };
    let mut stalled = connect(exporter.addr);
    let mut idle = connect(exporter.addr);
    stalled.write_all(HALF_A_CLIENT_HELLO).unwrap();
    let started = Instant::now();
    assert!(closed_within(&mut stalled, Duration::from_secs(5)), "a stalled handshake was not closed in 5 s");
    let closed_after = started.elapsed();
    assert!(
        (Duration::from_millis(1900)..Duration::from_millis(3500)).contains(&closed_after),
        "closed after {closed_after:?}, not about 2 s after its first byte"
    );
    // A connection that has sent nothing has the keep-alive timeout, over TLS as over HTTP.
    assert!(!closed_within(&mut idle, Duration::from_millis(100)), "the idle connection was closed");
    assert_eq!(https_healthy(&exporter, &pki), Some(true));
}

#[test]
fn a_full_https_server_closes_the_stalled_handshake_waiting_longest() {
    let dir = crate::support::TempDir::new();
    let Some((exporter, pki)) = https_exporter(&dir, &["--max-connections", "4", "--interval", "100ms"]) else {
        return;
    };
    // Four half-done handshakes fill it; the first to come has waited longest.
    let mut stalled: Vec<TcpStream> = (0..4)
        .map(|_| {
            let mut stream = connect(exporter.addr);
            stream.write_all(HALF_A_CLIENT_HELLO).unwrap();
            std::thread::sleep(Duration::from_millis(150));
            stream
        })
        .collect();
    // An honest HTTPS client is answered; the oldest stalled handshake is closed to make room.
    assert_eq!(https_healthy(&exporter, &pki), Some(true), "{}", exporter.stderr());
    assert!(closed_within(&mut stalled[0], Duration::from_secs(2)), "the longest-waiting handshake is open");
    for (k, stream) in stalled.iter_mut().enumerate().skip(2) {
        assert!(!closed_within(stream, Duration::from_millis(50)), "stalled handshake {k} was closed too");
    }
}

/// Stall protection over TLS: clients that finish the handshake, ask for a 5 MB body and never
/// read it (Python's `ssl` on sockets with a 4 kB receive buffer) fill a server of four
/// connections; an honest HTTPS client is still answered, as an answer blocked on a client that
/// does not read is closed to make room, which the self-metrics count.
#[test]
fn a_full_https_server_closes_an_answer_blocked_on_a_client_that_never_reads() {
    let dir = crate::support::TempDir::new();
    let Some(python) = crate::support::require_tool("python3") else { return };
    // 140,000 series of about 37 bytes each: a body of 5 MB.
    let config = dir.write(
        "config.json",
        r#"[{"name": "flood", "metric_type": "gauge", "custom_function": "square", "series": 140000}]"#,
    );
    // One tick a second: the self-metrics in /metrics are those of the tick's body.
    let args = ["--max-connections", "4", "--interval", "1s", "--config", config.to_str().unwrap()];
    let Some((exporter, pki)) = https_exporter(&dir, &args) else { return };
    let script = r#"
import socket, ssl, sys, time
port, cafile = int(sys.argv[1]), sys.argv[2]
context = ssl.create_default_context(cafile=cafile)
held = []
for k in range(4):
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect(("127.0.0.1", port))
    tls = context.wrap_socket(raw, server_hostname="127.0.0.1")
    tls.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    held.append(tls)
    time.sleep(0.3)
print("ready", flush=True)
time.sleep(60)
"#;
    let mut clients = Command::new(python)
        .args(["-c", script, &exporter.addr.port().to_string()])
        .arg(&pki.ca)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let mut line = String::new();
    let mut out = std::io::BufReader::new(clients.stdout.take().unwrap());
    std::io::BufRead::read_line(&mut out, &mut line).unwrap();
    assert_eq!(line.trim(), "ready", "the clients did not connect: {}", exporter.stderr());
    // Past the second during which a blocked answer still counts as progressing.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(https_healthy(&exporter, &pki), Some(true), "{}", exporter.stderr());
    let evicted = poll(Duration::from_secs(10), || {
        let evicted = evicted_over_https(&exporter, &pki, &dir);
        (evicted >= 1.0).then_some(evicted)
    });
    let _ = clients.kill();
    let _ = clients.wait();
    assert!(evicted.is_some(), "no blocked answer was closed to make room");
}

/// `metrics_generator_http_connections_evicted_total`, read over HTTPS with curl (which itself
/// may need a blocked answer closed to get in) into a file, as the body is 5 MB.
fn evicted_over_https(exporter: &Exporter, pki: &crate::support::tls::Pki, dir: &crate::support::TempDir) -> f64 {
    let curl = crate::support::require_tool("curl").expect("curl");
    let url = format!("https://127.0.0.1:{}/metrics", exporter.addr.port());
    let file = dir.path().join("metrics.txt");
    let out = crate::support::run_command(
        Command::new(curl).args(["-sS", "--max-time", "5", "-o"]).arg(&file).arg("--cacert").arg(&pki.ca).arg(url),
    );
    assert!(out.status.success(), "curl /metrics: {}", String::from_utf8_lossy(&out.stderr));
    let body = std::fs::read_to_string(&file).unwrap();
    sample(&body, "metrics_generator_http_connections_evicted_total").expect("the evicted count")
}
