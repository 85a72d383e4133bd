//! Load: 200 clients, all connecting at once, each scraping `/metrics` every 100 ms on one
//! keep-alive connection for 20 seconds (2,000 requests a second in all, about half of what a
//! debug build answers on two cores, so that the tests running beside it keep their timing);
//! every request must be answered 200 with its full body. The latencies are printed (p50, p99,
//! max) with the request rate, as figures for `docs/robustness.md`; speed is never asserted beyond a
//! generous sanity bound.

use crate::support::Exporter;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

const CLIENTS: usize = 200;
const DURATION: Duration = Duration::from_secs(20);
const PERIOD: Duration = Duration::from_millis(100);

/// Reads one response from a keep-alive connection: its status and its body (by Content-Length).
fn read_response(reader: &mut BufReader<TcpStream>) -> Result<(u16, Vec<u8>), String> {
    let mut line = String::new();
    reader.read_line(&mut line).map_err(|e| format!("status line: {e}"))?;
    let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| format!("status line {line:?}"))?;
    let mut length = None;
    loop {
        line.clear();
        reader.read_line(&mut line).map_err(|e| format!("header: {e}"))?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("Content-Length") {
                length = value.trim().parse::<usize>().ok();
            }
        }
    }
    let length = length.ok_or("no Content-Length")?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|e| format!("body: {e}"))?;
    Ok((status, body))
}

/// One client: connects, then scrapes every [`PERIOD`] on the same connection until `until`;
/// returns each scrape's latency, or why one failed.
fn client(addr: SocketAddr, until: Instant) -> Result<Vec<Duration>, String> {
    let stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut latencies = Vec::new();
    let mut next = Instant::now();
    while next < until {
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        next += PERIOD;
        let started = Instant::now();
        writer.write_all(b"GET /metrics HTTP/1.1\r\nHost: load\r\n\r\n").map_err(|e| format!("write: {e}"))?;
        let (status, body) = read_response(&mut reader)?;
        if status != 200
            || !body.ends_with(b"\n")
            || !String::from_utf8_lossy(&body).contains("metrics_generator_series")
        {
            return Err(format!("status {status}, a body of {} bytes", body.len()));
        }
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

#[test]
fn two_hundred_keep_alive_clients_for_twenty_seconds() {
    let _heavy = crate::support::heavy();
    let exporter = Exporter::start(&["--interval", "1s"]);
    let addr = exporter.addr;
    let until = Instant::now() + DURATION;
    let clients: Vec<_> = (0..CLIENTS).map(|_| std::thread::spawn(move || client(addr, until))).collect();
    let mut latencies = Vec::new();
    let mut errors = Vec::new();
    for (k, handle) in clients.into_iter().enumerate() {
        match handle.join().expect("client thread") {
            Ok(mine) => {
                assert!(!mine.is_empty(), "client {k} made no request");
                latencies.extend(mine);
            }
            Err(why) => errors.push(format!("client {k}: {why}")),
        }
    }
    assert!(errors.is_empty(), "{} of {CLIENTS} clients failed:\n{}", errors.len(), errors.join("\n"));
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() - 1) as f64 * q) as usize];
    let (p50, p99, max) = (at(0.5), at(0.99), latencies[latencies.len() - 1]);
    eprintln!(
        "load: {CLIENTS} keep-alive clients for {DURATION:?}: {} requests ({:.0}/s), every one answered; \
         latency p50 {p50:?}, p99 {p99:?}, max {max:?}",
        latencies.len(),
        latencies.len() as f64 / DURATION.as_secs_f64()
    );
    // Only a sanity bound: a request that waited this long would mean a stall, not a slow machine.
    assert!(max < Duration::from_secs(5), "a request took {max:?}");
    assert_eq!(exporter.get("/health").status, 200);
}
