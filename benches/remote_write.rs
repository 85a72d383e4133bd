//! Remote write's throughput: samples per second that one sender thread encodes (replaying every
//! series, as the exporter's sender does) and POSTs to a receiver on loopback that discards them.
//! 100,000 series at a 1 s interval need 100,000 samples a second; run with
//! `cargo bench --bench remote_write` (or `-- SERIES TICKS`). Prints figures, asserts none.

use metrics_generator::config::{parse, Options};
use metrics_generator::remote::{Client, Encoder, Target};
use metrics_generator::time::{Align, Grid};
use metrics_generator::Registry;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (series, ticks) = (args.first().copied().unwrap_or(100_000), args.get(1).copied().unwrap_or(10));
    let config = parse(
        &format!(
            r#"[{{"name": "load", "metric_type": "gauge", "custom_function": "normal", "series": {series},
                 "labels": {{"service": "checkout", "region": "eu-west-1"}}}}]"#
        ),
        "bench",
        &Options { namespace: "bench".into(), max_series: 10_000_000, shard: None },
        &Registry::builtin(),
    )
    .expect("the bench config loads");

    // The receiver: reads each request and answers 204, on its own thread (the second core).
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let mut reader = BufReader::new(stream.unwrap());
            'requests: loop {
                let (mut line, mut length) = (String::new(), 0usize);
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break 'requests;
                    }
                    if line == "\r\n" {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                }
                std::io::copy(&mut (&mut reader).take(length as u64), &mut std::io::sink()).unwrap();
                reader.get_mut().write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
            }
        }
    });

    let target = Target::parse(&format!("http://{addr}/api/v1/write")).unwrap();
    let mut client = Client::new(target, &[], None, None);
    let grid = Grid::new(Align::Start, Duration::from_secs(1), 1_700_000_000_000);
    let starts = [1];
    let mut encoder = Encoder::new(&config, &starts, grid, None);
    let (mut samples, mut bytes, mut encoding) = (0u64, 0u64, Duration::ZERO);
    let clock = Instant::now();
    for n in 1..=ticks {
        let encoded = Instant::now();
        let requests = encoder.encode(n);
        encoding += encoded.elapsed();
        for request in requests {
            let answer = client.post(&request.body).expect("the receiver answers");
            assert_eq!(answer.status, 204);
            samples += request.samples;
            bytes += request.body.len() as u64;
        }
    }
    let elapsed = clock.elapsed().as_secs_f64();
    println!(
        "remote write: {series} series × {ticks} ticks = {samples} samples in {elapsed:.2} s on one sender thread: \
         {:.0} samples/s ({:.0}% of it encoding), {:.1} bytes/sample compressed; a 1 s interval needs {series}/s",
        samples as f64 / elapsed,
        100.0 * encoding.as_secs_f64() / elapsed,
        bytes as f64 / samples as f64
    );
}
