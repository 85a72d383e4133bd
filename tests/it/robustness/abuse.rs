//! Abusive clients cannot take the exporter down or stall it: malformed request lines, 1 MB
//! headers, unknown methods, pipelined requests, half-closed and idle connections, clients that
//! request a large `/metrics` and never read it, 100 slow clients, and more connections than the
//! process has file descriptors for. Each scenario is bounded in count and time, uses loopback
//! only, and runs while a second client (a [`Scraper`]) scrapes `/metrics` every 100 ms: every
//! one of its scrapes must answer 200 with the full body within one second. Each scenario prints
//! the worst scrape latency it saw (`cargo test --test it abuse -- --nocapture`).

use crate::support::{heavy, parse_response, Exporter, HttpResponse};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The bound every scrape must meet while abuse goes on.
const SCRAPE_LIMIT: Duration = Duration::from_secs(1);

/// A client scraping `/metrics` every 100 ms on a new connection each time, recording how long
/// each scrape took or why it failed.
pub struct Scraper {
    stop: Arc<AtomicBool>,
    /// Each scrape's start, since the scraper's, and its latency or why it failed.
    thread: JoinHandle<Vec<(Duration, Result<Duration, String>)>>,
}

impl Scraper {
    pub fn start(addr: SocketAddr) -> Scraper {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut results = Vec::new();
            let begun = Instant::now();
            let mut next = begun;
            while !stopped.load(Ordering::Relaxed) {
                let started = Instant::now();
                results.push((started - begun, scrape(addr).map(|()| started.elapsed())));
                next += Duration::from_millis(100);
                if let Some(wait) = next.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
            }
            results
        });
        Scraper { stop, thread }
    }

    /// Stops scraping and asserts that every scrape answered in time; returns the worst latency.
    #[track_caller]
    pub fn finish(self, scenario: &str) -> Duration {
        self.finish_after(scenario, Duration::ZERO)
    }

    /// [`Scraper::finish`] for the scrapes begun `settle` or more after the scraper started; the
    /// earlier ones are reported, not judged.
    #[track_caller]
    pub fn finish_after(self, scenario: &str, settle: Duration) -> Duration {
        self.stop.store(true, Ordering::Relaxed);
        let all = self.thread.join().expect("scraper thread");
        let early: Vec<String> =
            all.iter().filter(|(at, _)| *at < settle).map(|(at, r)| format!("at {at:?}: {r:?}")).collect();
        if !early.is_empty() {
            eprintln!("{scenario}: scrapes in the first {settle:?}, not judged: {}", early.join("; "));
        }
        let judged: Vec<(Duration, Result<Duration, String>)> =
            all.into_iter().filter(|(at, _)| *at >= settle).collect();
        let failed: Vec<String> = judged
            .iter()
            .enumerate()
            .filter_map(|(k, (at, r))| match r {
                Err(why) => Some(format!("scrape {k}, begun at {at:?}: {why}")),
                Ok(took) if *took > SCRAPE_LIMIT => Some(format!("scrape {k}, begun at {at:?}: took {took:?}")),
                Ok(_) => None,
            })
            .collect();
        let results: Vec<Result<Duration, String>> = judged.into_iter().map(|(_, r)| r).collect();
        assert!(
            failed.is_empty(),
            "{scenario}: {} of {} scrapes failed:\n{}",
            failed.len(),
            results.len(),
            failed.join("\n")
        );
        assert!(results.len() >= 5, "{scenario}: only {} scrapes: {results:?}", results.len());
        let worst = results.iter().filter_map(|r| r.as_ref().ok()).max().copied().unwrap_or_default();
        eprintln!("{scenario}: {} scrapes, every one answered, worst latency {worst:?}", results.len());
        worst
    }
}

/// One scrape with a full body: status 200, the whole Content-Length, the self-metrics at the end.
fn scrape(addr: SocketAddr) -> Result<(), String> {
    // Generous socket timeouts, so that a stall shows as a slow scrape rather than a hung test.
    let limit = Duration::from_secs(5);
    let mut stream = TcpStream::connect_timeout(&addr, limit).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(limit)).unwrap();
    stream.set_write_timeout(Some(limit)).unwrap();
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: scraper\r\nConnection: close\r\n\r\n")
        .map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| format!("read: {e}"))?;
    // parse_response fails on a body shorter than its Content-Length, or a chunked body (tiny_http
    // sends bodies of 32 kB and more in chunks) without its last chunk.
    let response = parse_response(&raw, false)?;
    if response.status != 200 {
        return Err(format!("status {}", response.status));
    }
    if !response.body.ends_with(b"\n") {
        return Err(format!("a body of {} bytes without its final newline", response.body.len()));
    }
    let tail = &response.body[response.body.len().saturating_sub(4096)..];
    if !String::from_utf8_lossy(tail).contains("metrics_generator_config_last_reload_success_timestamp_seconds") {
        return Err("the body lacks the self-metrics at its end".into());
    }
    Ok(())
}

/// Connects with short timeouts, so that no abusive client can hang the test.
fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    stream.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
    stream
}

/// Sends `bytes` on a new connection and reads until the server closes it or 5 s pass; returns
/// the status of the answer, if one came. A server that resets the connection is fine too.
fn send_raw(addr: SocketAddr, bytes: &[u8]) -> Option<u16> {
    send_raw_waiting(addr, bytes, Duration::from_secs(5))
}

/// [`send_raw`], waiting at most `wait` for the server to answer and close.
fn send_raw_waiting(addr: SocketAddr, bytes: &[u8], wait: Duration) -> Option<u16> {
    let started = Instant::now();
    let mut stream = connect(addr);
    stream.set_read_timeout(Some(wait)).unwrap();
    let request = String::from_utf8_lossy(&bytes[..bytes.len().min(40)]).into_owned();
    if let Err(e) = stream.write_all(bytes) {
        eprintln!("no answer to {request:?}: write: {e}");
        return None;
    }
    let mut raw = Vec::new();
    let mut buffer = [0u8; 64 * 1024];
    let deadline = started + wait;
    let end = loop {
        if Instant::now() >= deadline {
            break "the wait ended".to_string();
        }
        match stream.read(&mut buffer) {
            Ok(0) => break "closed".to_string(),
            Ok(n) => raw.extend_from_slice(&buffer[..n]),
            // A signal to the test process (another test's child exiting) is not the server's doing.
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => break format!("read: {e}"),
        }
    };
    let status = parse_response(&raw, true).ok().map(|r| r.status);
    if status.is_none() {
        // Said for the tests that expect an answer; the others expect none.
        eprintln!("no answer to {request:?} in {:?}: {end} after {} bytes", started.elapsed(), raw.len());
    }
    status
}

/// Runs `rounds` rounds of abuse, starting one every `every` (or as soon as the last one is done),
/// so that the scraper sees the abuse for about `rounds × every`.
fn repeat(rounds: usize, every: Duration, mut round: impl FnMut(usize)) {
    let started = Instant::now();
    for k in 0..rounds {
        round(k);
        if let Some(wait) = (started + every * (k as u32 + 1)).checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
}

/// An exporter with the default config and a tick every 250 ms, so that bodies are rendered
/// again and again while the abuse goes on, and its lifecycle API on, so that a reload request
/// goes all the way to a reload.
fn exporter() -> Exporter {
    Exporter::start(&["--interval", "250ms", "--web.enable-lifecycle"])
}

#[test]
fn malformed_request_lines_get_an_error_or_are_dropped() {
    let _heavy = heavy();
    let exporter = exporter();
    let scraper = Scraper::start(exporter.addr);
    // A request line of 1 MB is over the 64 kB limit of a request's head; one of 60 kB is not.
    let long_path = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(1 << 20));
    let near_limit = format!("GET /{} HTTP/1.1\r\nConnection: close\r\n\r\n", "a".repeat(60_000));
    // (request, the status it must get: None when the server may answer nothing and close, or
    // wait for the rest of a line that never ends)
    let cases: Vec<(&[u8], Option<u16>)> = vec![
        (b"NOT HTTP AT ALL\r\n\r\n", Some(400)),
        (b"GET\r\n\r\n", Some(400)),
        (b"GET /metrics\r\n\r\n", Some(400)),
        (b"\r\n\r\n", Some(400)),
        (b"GET /metrics HTTP/9.9\r\n\r\n", Some(400)),
        (b"GET  /metrics  HTTP/1.1\r\n\r\n", Some(400)),
        (b"GET /metrics HTTP/1.1\r\nNo colon here\r\n\r\n", Some(400)),
        (b"GET /metrics HTTP/1.1\r\nBad Name: x\r\n\r\n", Some(400)),
        (b"GET /metrics HTTP/2.0\r\nConnection: close\r\n\r\n", None),
        (b"GET http://example.com/metrics HTTP/1.1\r\nConnection: close\r\n\r\n", Some(404)),
        (b"GET metrics HTTP/1.1\r\nConnection: close\r\n\r\n", Some(404)),
        (b"GET /metr\x01ics HTTP/1.1\r\nConnection: close\r\n\r\n", Some(404)),
        (long_path.as_bytes(), Some(431)),
        (near_limit.as_bytes(), Some(404)),
        (b"GET /metrics HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n", None),
        (b"GET /\xff\xfe HTTP/1.1\r\n\r\n", None),
        (b"GET /metrics HTTP/1.1\nHost: x\n\n", None),
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", None),
        (b"\x00\x00\x00\x00\x00\x00\x00\x00", None),
        // A body declared but never sent, and one that is not chunked as it says: not read.
        (b"GET /metrics HTTP/1.1\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\nxx", Some(200)),
        (b"GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n", Some(200)),
        (b"POST /-/reload HTTP/1.1\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\nxx", Some(200)),
        (b"GET /metrics HTTP/1.1\r\nExpect: teapot\r\n\r\n", Some(417)),
    ];
    // Ten rounds of every case, with random bytes between them, one every 300 ms. Requests that
    // get no answer are given 100 ms (the server is waiting for the rest of a line), then closed.
    let mut seed = 7u64;
    repeat(10, Duration::from_millis(300), |round| {
        for (request, expected) in &cases {
            let wait = if expected.is_some() { Duration::from_secs(5) } else { Duration::from_millis(100) };
            let got = send_raw_waiting(exporter.addr, request, wait);
            if let Some(status) = expected {
                assert_eq!(
                    got,
                    Some(*status),
                    "round {round}: {:?}",
                    String::from_utf8_lossy(&request[..request.len().min(80)])
                );
            }
        }
        for _ in 0..5 {
            let junk: Vec<u8> = (0..256)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (seed >> 56) as u8
                })
                .collect();
            send_raw_waiting(exporter.addr, &junk, Duration::from_millis(100));
        }
    });
    scraper.finish("malformed request lines");
    assert_eq!(exporter.get("/metrics").status, 200);
}

/// The resident memory of process `pid`, in kB.
fn rss_kb(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/PID/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Sends a request head that never ends, as fast as the server takes it, until the server closes
/// the connection or `most` bytes are sent; returns the status it answered, if any, and how many
/// bytes it took before that.
fn endless_header(addr: SocketAddr, most: usize) -> (Option<u16>, usize) {
    let mut stream = connect(addr);
    let mut sent = 0;
    let chunk = vec![b'x'; 64 * 1024];
    if stream.write_all(b"GET /metrics HTTP/1.1\r\nX-Endless: ").is_ok() {
        while sent < most {
            match stream.write(&chunk) {
                Ok(n) => sent += n,
                Err(_) => break,
            }
        }
    }
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    (parse_response(&raw, true).ok().map(|r| r.status), sent)
}

#[test]
fn oversized_headers_get_431_and_memory_stays_bounded() {
    let _heavy = heavy();
    let exporter = exporter();
    let scraper = Scraper::start(exporter.addr);
    let before = rss_kb(exporter.pid());
    let one_header =
        format!("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n", "v".repeat(1 << 20));
    let mut many_headers = String::from("GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for k in 0..1024 {
        many_headers.push_str(&format!("X-Header-{k}: {}\r\n", "w".repeat(1000)));
    }
    many_headers.push_str("\r\n");
    // Four clients at a time, each sending a 1 MB header, 1024 headers of 1 kB and a header that
    // never ends (stopped at 64 MB if the server never says no), ten times, 300 ms apart: up to
    // 2.6 GB without the limit.
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (addr, one_header, many_headers) = (exporter.addr, one_header.clone(), many_headers.clone());
            std::thread::spawn(move || {
                repeat(10, Duration::from_millis(300), |_| {
                    // The server stops reading at 64 kB, answers 431 and closes the connection;
                    // a client still sending may see the connection reset before the answer.
                    for head in [&one_header, &many_headers] {
                        let status = send_raw(addr, head.as_bytes());
                        assert!(matches!(status, Some(431) | None), "{status:?}");
                    }
                    let (status, sent) = endless_header(addr, 64 << 20);
                    assert!(matches!(status, Some(431) | None), "{status:?}");
                    assert!(sent < 64 << 20, "the server took 64 MB of one header line");
                });
            })
        })
        .collect();
    for client in clients {
        client.join().expect("client");
    }
    let after = rss_kb(exporter.pid());
    scraper.finish("1 MB and endless headers");
    eprintln!("exporter RSS {before} kB before, {after} kB after");
    assert!(after < before + 32 * 1024, "the exporter grew from {before} kB to {after} kB");
    // A head within the limit is still answered.
    let fine =
        format!("GET /metrics HTTP/1.1\r\nHost: x\r\nX-Fine: {}\r\nConnection: close\r\n\r\n", "f".repeat(60_000));
    assert_eq!(send_raw(exporter.addr, fine.as_bytes()), Some(200));
}

#[test]
fn unknown_methods_get_405_or_404() {
    let _heavy = heavy();
    let exporter = exporter();
    let scraper = Scraper::start(exporter.addr);
    let long_method = "M".repeat(10_000);
    let methods = ["BREW", "PROPFIND", "TRACE", "CONNECT", "get", "G\x01T", "MKCOL", long_method.as_str()];
    repeat(30, Duration::from_millis(100), |_| {
        for method in methods {
            for (path, status) in [("/metrics", 405), ("/health", 405), ("/-/reload", 405), ("/nope", 404)] {
                let request = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
                assert_eq!(
                    send_raw(exporter.addr, request.as_bytes()),
                    Some(status),
                    "{} {path}",
                    &method[..method.len().min(20)]
                );
            }
        }
        // CONNECT's authority form names no path this server has.
        assert_eq!(
            send_raw(exporter.addr, b"CONNECT example.com:443 HTTP/1.1\r\nConnection: close\r\n\r\n"),
            Some(404)
        );
    });
    scraper.finish("unknown methods");
}

/// Parses the responses, one after the other, to requests sent on one connection; `heads` says
/// which requests were HEAD (their answers have a Content-Length but no body).
fn parse_pipelined(mut raw: &[u8], heads: &[bool]) -> Result<Vec<HttpResponse>, String> {
    let mut responses = Vec::new();
    for &head in heads {
        let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no end of headers")? + 4;
        let response = parse_response(raw, true)?;
        let length: usize = if head {
            0
        } else {
            response.header("Content-Length").ok_or("no Content-Length")?.parse().map_err(|_| "bad Content-Length")?
        };
        let body = raw.get(end..end + length).ok_or("short body")?.to_vec();
        responses.push(HttpResponse { body, ..response });
        raw = &raw[end + length..];
    }
    if !raw.is_empty() {
        return Err(format!("{} bytes after the last response", raw.len()));
    }
    Ok(responses)
}

#[test]
fn a_request_sent_one_byte_at_a_time_is_read_whole() {
    // The head is scanned a buffer at a time (tiny_http patch 8): a line's CR and LF can arrive in
    // different reads, and must still end it; a lone LF inside a line must not.
    let exporter = exporter();
    let send = |request: &[u8]| {
        let mut stream = connect(exporter.addr);
        stream.set_nodelay(true).unwrap();
        for byte in request {
            // A server that has its answer closes the connection: the rest cannot be sent.
            if stream.write_all(std::slice::from_ref(byte)).is_err() {
                break;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        parse_response(&raw, true).map(|r| (r.status, String::from_utf8_lossy(&r.body).into_owned()))
    };
    let (status, body) =
        send(b"GET /-/healthy HTTP/1.1\r\nHost: x\r\nX-Long: abc def\r\nConnection: close\r\n\r\n").expect("an answer");
    assert_eq!((status, body.as_str()), (200, "metrics-generator is Healthy.\n"));
    // With a lone LF, "GET /-/healthy HTTP/1.1\nConnection: close" is one request line, and not a
    // valid one: 400, where a LF ending the line would have given 200.
    let (status, _) = send(b"GET /-/healthy HTTP/1.1\nConnection: close\r\n").expect("an answer");
    assert_eq!(status, 400);
}

#[test]
fn pipelined_requests_are_answered_in_order() {
    let _heavy = heavy();
    let exporter = exporter();
    let scraper = Scraper::start(exporter.addr);
    let requests: [(&str, bool, u16, &str); 7] = [
        ("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", false, 200, "# TYPE test_metrics_custom_square gauge"),
        ("GET /health HTTP/1.1\r\nHost: x\r\n\r\n", false, 200, "\"status\":\"healthy\""),
        ("HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n", true, 200, ""),
        ("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n", false, 404, "not found"),
        (
            "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello=world",
            false,
            405,
            "method not allowed",
        ),
        ("GET /-/ready HTTP/1.1\r\nHost: x\r\n\r\n", false, 200, "Ready"),
        ("GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false, 200, "Healthy"),
    ];
    let heads: Vec<bool> = requests.iter().map(|r| r.1).collect();
    let all: String = requests.iter().map(|r| r.0).collect();
    // 100 connections with the seven requests in one write each, one every 30 ms, then one with
    // 100 requests.
    repeat(100, Duration::from_millis(30), |_| {
        let mut stream = connect(exporter.addr);
        stream.write_all(all.as_bytes()).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read every answer");
        let responses =
            parse_pipelined(&raw, &heads).unwrap_or_else(|e| panic!("{e}:\n{}", String::from_utf8_lossy(&raw)));
        for (response, (request, _, status, needle)) in responses.iter().zip(&requests) {
            assert_eq!(response.status, *status, "{request}");
            assert!(String::from_utf8_lossy(&response.body).contains(needle), "{request}: {:?}", response.body);
        }
    });
    let mut hundred = "GET /-/healthy HTTP/1.1\r\nHost: x\r\n\r\n".repeat(99);
    hundred.push_str("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    let mut stream = connect(exporter.addr);
    stream.write_all(hundred.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read every answer");
    let responses = parse_pipelined(&raw, &[false; 100]).unwrap();
    assert!(responses[..99].iter().all(|r| r.status == 200 && r.body == b"metrics-generator is Healthy.\n"));
    assert!(String::from_utf8_lossy(&responses[99].body).contains("metrics_generator_ticks_total"));
    scraper.finish("pipelined requests");
}

#[test]
fn half_closed_and_idle_connections() {
    let _heavy = heavy();
    let exporter = exporter();
    let scraper = Scraper::start(exporter.addr);
    // Fifty connections that send nothing, held open the whole time.
    let idle: Vec<TcpStream> = (0..50).map(|_| connect(exporter.addr)).collect();
    repeat(60, Duration::from_millis(50), |_| {
        // A request, then the end of the client's sending side: still answered in full.
        let mut stream = connect(exporter.addr);
        stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("the answer, then the end");
        let response = parse_response(&raw, false).unwrap();
        assert_eq!(response.status, 200);
        assert!(response.text().ends_with("\n"));
        // Half a request, then the end: nothing to answer, and the connection is closed.
        let mut stream = connect(exporter.addr);
        stream.write_all(b"GET /metr").unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        assert!(raw.is_empty() || raw.starts_with(b"HTTP/1.1 4"), "{}", String::from_utf8_lossy(&raw));
        // A connection opened and closed at once, several times.
        for _ in 0..4 {
            drop(connect(exporter.addr));
        }
    });
    drop(idle);
    scraper.finish("half-closed and idle connections");
}

/// A config whose `/metrics` (about 10 MB) is far bigger than what loopback socket buffers hold,
/// so that a client that does not read blocks the server's write.
const BIG: &str = r#"[{"name": "big", "metric_type": "gauge", "custom_function": "square", "series": 300000}]"#;

/// Sends `GET /metrics` on `count` connections and never reads the answers. Each connection has a
/// receive buffer of 4 kB, so that what is in flight (that and the server's send buffer, up to
/// 4 MB by default on Linux) is less than the body: the server's writes block.
fn stalled_clients(addr: SocketAddr, count: usize) -> Vec<TcpStream> {
    (0..count)
        .map(|_| {
            let socket = socket2::Socket::new(socket2::Domain::for_address(addr), socket2::Type::STREAM, None).unwrap();
            socket.set_recv_buffer_size(4096).unwrap();
            socket.connect_timeout(&addr.into(), Duration::from_secs(2)).expect("connect");
            let mut stream = TcpStream::from(socket);
            stream.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
            stream
        })
        .collect()
}

/// What a stalled client can still read: what was in flight, until the server closes the
/// connection (`true`) or nothing more comes for `quiet` (`false`).
fn drain(mut stream: TcpStream, quiet: Duration) -> (usize, bool) {
    stream.set_read_timeout(Some(quiet)).unwrap();
    let mut buffer = vec![0u8; 1 << 20];
    let mut total = 0;
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return (total, true),
            Ok(n) => total += n,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => return (total, false),
            Err(_) => return (total, true),
        }
    }
}

/// Runs `count` clients that request the big `/metrics` and never read it, while the scraper
/// scrapes: every stalled client is given up on (server.rs, `STALLED`) within 30 s, its answer
/// left unfinished and its connection closed, and nobody else waits meanwhile.
fn stalled(count: usize, scenario: &str) {
    let _heavy = heavy();
    let exporter = Exporter::with_config(BIG, &["--interval", "1h"]);
    // The first scrape renders the body; later ones, the scraper's included, get the same bytes.
    let body = exporter.get("/metrics").body.len();
    assert!(body > 8 << 20, "a body of only {body} bytes");
    let scraper = Scraper::start(exporter.addr);
    let started = Instant::now();
    let clients = stalled_clients(exporter.addr, count);
    let given_up = crate::support::poll(Duration::from_secs(30), || {
        (exporter.stderr().matches("answering GET /metrics").count() >= count).then_some(())
    });
    let took = started.elapsed();
    let worst = scraper.finish(scenario);
    assert!(given_up.is_some(), "not every stalled client was given up on in 30 s:\n{}", exporter.stderr());
    // Reading now only empties what the socket buffers held when the server gave up, and then
    // finds the connection closed: a connection given up on does not wait for the read timeout.
    let drains: Vec<_> =
        clients.into_iter().map(|stream| std::thread::spawn(move || drain(stream, Duration::from_secs(3)))).collect();
    for drained in drains {
        let (read, closed) = drained.join().expect("drain");
        assert!(read < body, "a stalled client got its whole answer after all ({read} of {body} bytes)");
        assert!(closed, "the connection of a client given up on is still open ({read} bytes read)");
    }
    eprintln!("{scenario}: all given up on after {took:?}; worst scrape {worst:?}");
}

#[test]
fn clients_that_never_read_a_large_body_block_nobody() {
    // Each such client holds its connection's thread until it is given up on; 40 at once must
    // not hold up the scraper's answers.
    stalled(40, "40 clients that never read a 10 MB body");
}

#[test]
fn a_hundred_slow_clients_sending_a_byte_a_second() {
    let _heavy = heavy();
    let exporter = exporter();
    let scraper = Scraper::start(exporter.addr);
    let request = b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut clients: Vec<TcpStream> = (0..100).map(|_| connect(exporter.addr)).collect();
    // Eight seconds, one byte a second on each connection: "GET /met".
    for k in 0..8 {
        let second = Instant::now();
        for client in &mut clients {
            client.write_all(&request[k..k + 1]).expect("the server still reads");
        }
        std::thread::sleep(Duration::from_secs(1).saturating_sub(second.elapsed()));
    }
    // Then the rest at once: each slow client gets its answer in full.
    for client in &mut clients {
        client.write_all(&request[8..]).unwrap();
    }
    for mut client in clients {
        client.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut raw = Vec::new();
        client.read_to_end(&mut raw).expect("the answer");
        assert_eq!(parse_response(&raw, false).unwrap().status, 200);
    }
    scraper.finish("100 slow clients");
}

#[test]
fn running_out_of_file_descriptors_is_waited_out() {
    let _heavy = heavy();
    // 64 file descriptors: a few dozen connections exhaust them. tiny_http 0.12's accept thread
    // then ended for good, closing the listening socket (vendor/tiny_http/PATCHES.md, patch 4).
    // An accepted connection takes three descriptors, and which of the three runs out depends on
    // how many the process had to begin with: 64, 65 and 66 try each (a descriptor short when
    // the connection was to be tracked was once a silent busy loop; patch 11).
    for limit in [64, 65, 66] {
        let ulimit = format!("ulimit -n {limit} && exec \"$0\" \"$@\"");
        let mut exporter = Exporter::start_wrapped(&["sh", "-c", &ulimit], &["--interval", "250ms"]);
        let addr = exporter.addr;
        let flood: Vec<TcpStream> =
            (0..100).filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()).collect();
        let stopped = crate::support::poll(Duration::from_secs(10), || {
            exporter.stderr().contains("Too many open files").then_some(())
        });
        assert!(
            stopped.is_some(),
            "{} connections did not exhaust {limit} file descriptors, or it was not said:\n{}",
            flood.len(),
            exporter.stderr()
        );
        drop(flood);
        let started = Instant::now();
        let back = crate::support::poll(Duration::from_secs(20), || {
            crate::support::http_raw(addr, b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", false)
                .ok()
                .filter(|r| r.status == 200)
        });
        assert!(back.is_some(), "the exporter did not serve again:\n{}", exporter.stderr());
        assert!(!exporter.stderr().contains("panic"), "{}", exporter.stderr());
        eprintln!("ulimit -n {limit}: serving again {:?} after the flood ended", started.elapsed());
        let scraper = Scraper::start(addr);
        std::thread::sleep(Duration::from_secs(1));
        scraper.finish("after running out of file descriptors");
        assert!(exporter.wait_exit(Duration::ZERO).is_none(), "the exporter exited");
    }
}
