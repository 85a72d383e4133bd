//! The sender: a queue of ticks that the ticker fills (bounded by `--remote-write-queue`; when it
//! is full the oldest tick is dropped and its samples counted), and a thread that encodes each
//! tick and POSTs it, retrying a 5xx, a 429 or a connection error with capped exponential backoff
//! and dropping (and counting) a request another status refuses. Requests go one at a time, in
//! tick order, so a receiver gets every series' samples oldest first, as it requires.

use super::client::Client;
use super::encode::{samples_at, Encoder, Request};
use super::options::Options;
use crate::config::Config;
use crate::engine::{Snapshot, State};
use crate::error::Error;
use crate::exposition::{count_remote_write_with, RemoteWriteCounts};
use crate::time::Grid;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The first wait before a retry; each retry of the same request waits twice as long, up to
/// [`MAX_BACKOFF`] (Prometheus's own remote write waits 30 ms to 5 s).
pub const MIN_BACKOFF: Duration = Duration::from_millis(50);
/// The longest wait between retries.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// A tick to send: its number and the config (with each entry's first tick) it was served with.
struct Tick {
    n: u64,
    config: Arc<Config>,
    starts: Arc<[u64]>,
}

/// What the self-metrics serve, counted as it happens.
#[derive(Default)]
struct Counts {
    sent: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
    dropped: AtomicU64,
    /// Unix time of the last request the receiver accepted, as f64 bits (0 before).
    last_success: AtomicU64,
    /// The queue has dropped a tick since the last success (so it is logged once).
    dropping: AtomicBool,
}

struct Queue {
    inner: Mutex<Waiting>,
    ready: Condvar,
    capacity: usize,
}

struct Waiting {
    ticks: VecDeque<Tick>,
    /// The last tick the ticker handed over.
    last: Option<u64>,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends the ticks up to `snapshot`'s (all those since the last one, when the ticker caught
    /// up several at once), dropping the oldest waiting when full.
    fn offer(&self, snapshot: &Snapshot, counts: &Counts, url: &str) {
        let mut waiting = self.lock();
        let from = waiting.last.map_or(snapshot.ticks, |last| last + 1);
        for n in from..=snapshot.ticks {
            if waiting.ticks.len() == self.capacity {
                let old = waiting.ticks.pop_front().expect("a full queue");
                counts.dropped.fetch_add(samples_at(&old.config, &old.starts, old.n), Relaxed);
                if !counts.dropping.swap(true, Relaxed) {
                    log::warn!(
                        "remote write to {url}: the queue is full ({} ticks, --remote-write-queue), dropping the \
                         oldest ticks (counted in metrics_generator_remote_write_samples_dropped_total)",
                        self.capacity
                    );
                }
            }
            waiting.ticks.push_back(Tick { n, config: snapshot.config.clone(), starts: snapshot.starts.clone() });
        }
        waiting.last = Some(snapshot.ticks);
        self.ready.notify_one();
    }

    /// The oldest waiting tick, waiting for one if need be.
    fn take(&self) -> Tick {
        let mut waiting = self.lock();
        loop {
            if let Some(tick) = waiting.ticks.pop_front() {
                return tick;
            }
            waiting = self.ready.wait(waiting).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// Remote write, counting from before the first tick so that every snapshot serves its counts;
/// [`Counting::start`] starts sending.
pub struct Counting {
    counts: Arc<Counts>,
}

/// Makes every later snapshot serve remote write's counts (all zero until it starts).
pub fn count() -> Counting {
    let counts = Arc::new(Counts::default());
    let shown = counts.clone();
    count_remote_write_with(move || RemoteWriteCounts {
        sent: shown.sent.load(Relaxed),
        retried: shown.retried.load(Relaxed),
        failed: shown.failed.load(Relaxed),
        dropped: shown.dropped.load(Relaxed),
        last_success: f64::from_bits(shown.last_success.load(Relaxed)),
    });
    Counting { counts }
}

impl Counting {
    /// Starts pushing `state`'s ticks as `options` say: from the tick being served (after the
    /// ticks of `--remote-write-history` before it), then every tick the ticker publishes.
    pub fn start(self, state: &Arc<State>, options: &Options) -> Result<(), Error> {
        let counts = self.counts;
        let queue = Arc::new(Queue {
            inner: Mutex::new(Waiting { ticks: VecDeque::new(), last: None }),
            ready: Condvar::new(),
            capacity: options.queue,
        });
        let grid = state.grid();
        let history = options.history.map_or(0, |h| (h.as_millis() / u128::from(grid.interval_ms.max(1))) as u64);
        let client =
            Client::new(options.target.clone(), &options.headers, options.authorization.clone(), options.ca.as_deref());
        let sender = Sender { client, counts: counts.clone(), url: options.target.url.clone(), grid };
        let feed = queue.clone();
        std::thread::Builder::new()
            .name("remote-write".into())
            .spawn(move || sender.run(&feed, history))
            .map_err(|e| Error::Startup(format!("cannot start the remote-write thread: {e}")))?;
        let url = options.target.url.clone();
        state.on_tick(move |snapshot| queue.offer(snapshot, &counts, &url));
        log::info!(
            "remote write to {} from tick {}{}, at most {} ticks queued",
            options.target.url,
            state.ticks(),
            if history > 0 { format!(" after {history} ticks of history") } else { String::new() },
            options.queue
        );
        Ok(())
    }
}

struct Sender {
    client: Client,
    counts: Arc<Counts>,
    url: String,
    grid: Grid,
}

impl Sender {
    /// Sends the `history` ticks before the first one queued, then every queued tick, forever.
    fn run(mut self, queue: &Queue, history: u64) {
        let mut tick = queue.take();
        let mut past = tick.n.saturating_sub(history).max(1)..tick.n;
        let mut carried = None;
        loop {
            let (config, starts) = (tick.config.clone(), tick.starts.clone());
            let mut encoder = Encoder::new(&config, &starts, self.grid, carried.take());
            for n in past.by_ref() {
                self.send(encoder.encode(n));
            }
            loop {
                self.send(encoder.encode(tick.n));
                tick = queue.take();
                if !Arc::ptr_eq(&tick.config, &config) {
                    break;
                }
            }
            // A reload: the next config's first tick marks stale what it no longer serves.
            carried = Some(encoder.served());
        }
    }

    /// Sends each request until the receiver takes it or refuses it for good.
    fn send(&mut self, requests: Vec<Request>) {
        for request in requests {
            let mut backoff = MIN_BACKOFF;
            let mut retries = 0u64;
            loop {
                let why = match self.client.post(&request.body) {
                    Ok(answer) if (200..300).contains(&answer.status) => {
                        self.counts.sent.fetch_add(request.samples, Relaxed);
                        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
                        self.counts.last_success.store(now.to_bits(), Relaxed);
                        self.counts.dropping.store(false, Relaxed);
                        if retries > 0 {
                            log::info!("remote write to {}: sent again after {retries} retries", self.url);
                        }
                        break;
                    }
                    Ok(answer) if answer.status == 429 || answer.status >= 500 => {
                        format!("the receiver answered {}: {}", answer.status, answer.body)
                    }
                    Ok(answer) => {
                        self.counts.failed.fetch_add(request.samples, Relaxed);
                        log::warn!(
                            "remote write to {}: the receiver refused the {} samples of tick {} with {}: {}; they are \
                             not sent again (counted in metrics_generator_remote_write_samples_failed_total)",
                            self.url,
                            request.samples,
                            request.tick,
                            answer.status,
                            answer.body
                        );
                        break;
                    }
                    Err(e) => format!("{}{}", e, advice(&e)),
                };
                self.counts.retried.fetch_add(request.samples, Relaxed);
                if retries == 0 {
                    log::warn!(
                        "remote write to {}: {why}; retrying with backoff up to {:?}, ticks wait in the queue",
                        self.url,
                        MAX_BACKOFF
                    );
                } else {
                    log::debug!("remote write to {}: retry {retries}: {why}", self.url);
                }
                retries += 1;
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// What to do about a connection error, when there is something to say.
fn advice(e: &std::io::Error) -> &'static str {
    let text = e.to_string();
    if text.contains("invalid peer certificate") {
        " (give the receiver's CA certificate with --remote-write-ca-file)"
    } else {
        ""
    }
}
