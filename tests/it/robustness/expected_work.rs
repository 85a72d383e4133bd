//! `--expected.max-concurrency` (SPEC §13): costly `/api/v1/expected` queries from many clients at
//! once compute at most so many at a time; the others wait briefly and get a 503, so scrapes and
//! the ticker keep their pace.

use crate::support::{heavy, http_raw, Exporter, HttpResponse};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// A random walk cannot be fast-forwarded: asking for a time millions of ticks ahead replays every
/// step, within the request's budget (a second or more of one core in a debug build per ten
/// million).
const CONFIG: &str = r#"[{"name": "walk", "metric_type": "gauge", "custom_function": "random_walk",
  "params": {"seed": 7}}]"#;

fn costly(addr: SocketAddr, ahead: u64) -> HttpResponse {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let path = format!("/api/v1/expected?metric=walk&time={}", now + ahead);
    let request = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    http_raw(addr, request.as_bytes(), false).expect("an answer")
}

#[test]
fn queries_beyond_the_limit_wait_then_get_503() {
    let _heavy = heavy();
    let exporter =
        Exporter::with_config(CONFIG, &["--interval", "1s", "--namespace", "", "--expected.max-concurrency", "1"]);
    let started = Instant::now();
    let answers: Vec<HttpResponse> = std::thread::scope(|s| {
        let threads: Vec<_> = (0..6).map(|_| s.spawn(|| costly(exporter.addr, 40_000_000))).collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    let took = started.elapsed();
    let statuses: Vec<u16> = answers.iter().map(|a| a.status).collect();
    assert!(statuses.contains(&200), "none computed: {statuses:?}");
    let refused: Vec<&HttpResponse> = answers.iter().filter(|a| a.status == 503).collect();
    assert!(!refused.is_empty(), "six costly queries at once with a limit of 1 all computed: {statuses:?} in {took:?}");
    for answer in refused {
        assert_eq!(answer.header("Retry-After"), Some("1"));
        let body = answer.json();
        assert_eq!(body["errorType"], "unavailable", "{body}");
        assert!(body["error"].as_str().unwrap().contains("--expected.max-concurrency 1"), "{body}");
    }
}

#[test]
fn costly_queries_from_many_clients_starve_neither_scrapes_nor_the_ticker() {
    let _heavy = heavy();
    let exporter = Exporter::with_config(CONFIG, &["--interval", "250ms", "--namespace", ""]);
    let stop = std::sync::atomic::AtomicBool::new(false);
    let (mut worst_scrape, mut worst_tick_age, mut scrapes, mut refused) = (Duration::ZERO, 0.0_f64, 0, 0);
    std::thread::scope(|s| {
        // Sixteen clients ask for costly answers over and over for eight seconds.
        let clients: Vec<_> = (0..16)
            .map(|_| {
                s.spawn(|| {
                    let mut refused = 0;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        refused += usize::from(costly(exporter.addr, 3_000_000).status == 503);
                    }
                    refused
                })
            })
            .collect();
        let end = Instant::now() + Duration::from_secs(8);
        while Instant::now() < end {
            let started = Instant::now();
            let metrics = exporter.get("/metrics");
            worst_scrape = worst_scrape.max(started.elapsed());
            assert_eq!(metrics.status, 200);
            let health = exporter.get("/health").json();
            worst_tick_age = worst_tick_age.max(health["last_tick_seconds_ago"].as_f64().unwrap());
            scrapes += 1;
            std::thread::sleep(Duration::from_millis(100));
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        refused = clients.into_iter().map(|c| c.join().unwrap()).sum::<usize>();
    });
    println!("{scrapes} scrapes, worst {worst_scrape:?}; the last tick at most {worst_tick_age:.3} s old; {refused} queries refused");
    assert!(worst_scrape < Duration::from_secs(1), "a scrape took {worst_scrape:?}");
    // Ticks every 250 ms: one is never more than two intervals old if the ticker keeps its grid.
    assert!(worst_tick_age < 0.5, "the ticker fell behind: the last tick was {worst_tick_age} s old");
    assert!(refused > 0, "sixteen clients never found the gate full");
}
