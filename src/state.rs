//! The running series, the tick that advances them together, config reloads, and the immutable
//! [`Snapshot`] that scrapes read.
//!
//! Two locks, always taken in this order: `engine` (the sequences; only the ticker and a reload
//! take it) and `published` (the current snapshot; everyone takes it, briefly). A scrape clones the
//! snapshot's `Arc` and lets go before it renders or writes anything, so neither a slow client nor
//! a slow function can block the others. Each body of a snapshot (format × compression) is
//! rendered at most once, by the first scrape that wants it, and then served as the same bytes
//! until the next tick.

use crate::config::Config;
use crate::exposition::{Catalog, Clock, Format, Own, Sample};
use crate::sequence::{Restart, Sequence};
use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// What one tick produced: the values of every series, with what is needed to render them.
pub struct Snapshot {
    /// The tick these values belong to (1 is the first, at start-up).
    pub ticks: u64,
    /// One value per config entry, in config order.
    pub values: Vec<f64>,
    /// The tick at which each series' current cycle began.
    pub cycle_starts: Vec<u64>,
    /// The config these values come from.
    pub config: Arc<Config>,
    catalog: Arc<Catalog>,
    clock: Clock,
    own: Own,
    /// Text, text gzipped, OpenMetrics, OpenMetrics gzipped.
    bodies: [OnceLock<Vec<u8>>; 4],
}

impl Snapshot {
    /// The exposition in `format`, gzip-compressed when `gzip`; rendered on first use.
    pub fn body(&self, format: Format, gzip: bool) -> &[u8] {
        let slot = match format {
            Format::Text => 0,
            Format::OpenMetrics => 2,
        } + usize::from(gzip);
        self.bodies[slot].get_or_init(|| {
            let sample =
                Sample { values: &self.values, cycle_starts: &self.cycle_starts, clock: self.clock, own: &self.own };
            if gzip {
                // The plain text goes to the compressor in 64 KiB pieces: a gzip-only scraper
                // (Prometheus) never makes the process hold the whole uncompressed body.
                let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                let mut buffer = Vec::with_capacity(80 * 1024);
                self.catalog.render_with(format, &sample, &mut buffer, &mut |piece| {
                    // Writing into a Vec cannot fail.
                    encoder.write_all(piece).expect("gzip into memory");
                    piece.clear();
                });
                let mut body = encoder.finish().expect("gzip into memory");
                body.shrink_to_fit();
                body
            } else {
                let mut out = Vec::with_capacity(self.catalog.series_count().min(1 << 24) as usize * 48 + 2048);
                self.catalog.render(format, &sample, &mut out);
                out.shrink_to_fit();
                out
            }
        })
    }
}

/// The shared state of the exporter.
pub struct State {
    engine: Mutex<Engine>,
    published: Mutex<Published>,
    interval: Duration,
    started: Instant,
    clock: Clock,
}

/// What only the ticker and reloads touch.
struct Engine {
    sequences: Vec<Sequence>,
    config: Arc<Config>,
    catalog: Arc<Catalog>,
    ticks: u64,
    reload_ok: bool,
    reload_success_time: f64,
}

/// What every reader needs.
struct Published {
    snapshot: Arc<Snapshot>,
    last_tick: Instant,
}

/// Health as `/health` reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Health {
    pub healthy: bool,
    pub series: u64,
    pub ticks: u64,
    pub uptime: Duration,
    pub since_last_tick: Duration,
    pub interval: Duration,
}

/// What a successful reload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReloadStats {
    /// Series whose definition did not change: they keep their place in their sequence.
    pub kept: usize,
    /// New or changed series: they start at their first value.
    pub started: usize,
    /// Series no longer in the config.
    pub removed: usize,
}

fn unix_now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Whole seconds, as Prometheus reports its own reload timestamps.
fn unix_seconds() -> f64 {
    unix_now().floor()
}

/// Takes a lock even if a panic elsewhere poisoned it: the data behind both locks is only ever
/// replaced whole, so it is still consistent, and one panic must not take scrapes down.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl State {
    /// The state of `config` before its first tick; call [`State::tick`] once to serve tick 1.
    pub fn new(config: Config, interval: Duration) -> Self {
        let now = unix_now();
        let config = Arc::new(config);
        let catalog = Arc::new(Catalog::new(&config));
        let sequences = config.entries.iter().map(|e| e.sequence(0)).collect();
        let clock = Clock { first_tick: now, interval: interval.as_secs_f64() };
        let engine =
            Engine { sequences, config, catalog, ticks: 0, reload_ok: true, reload_success_time: unix_seconds() };
        let snapshot = Arc::new(snapshot_of(&engine, clock, now));
        State {
            engine: Mutex::new(engine),
            published: Mutex::new(Published { snapshot, last_tick: Instant::now() }),
            interval,
            started: Instant::now(),
            clock,
        }
    }

    /// The time between ticks.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// When the state was created: tick k is due at `started + (k-1)·interval`.
    pub fn started(&self) -> Instant {
        self.started
    }

    fn publish(&self, engine: &Engine, ticked: bool) {
        let snapshot = Arc::new(snapshot_of(engine, self.clock, self.clock.first_tick));
        let mut published = lock(&self.published);
        published.snapshot = snapshot;
        if ticked {
            published.last_tick = Instant::now();
        }
    }

    /// Advances every series by one value and publishes the new snapshot. Restarts are logged at
    /// warn, in one line per tick so that many series restarting together do not flood the log.
    pub fn tick(&self) -> u64 {
        let mut restarts: Vec<(usize, Restart)> = Vec::new();
        let mut engine = lock(&self.engine);
        let n = engine.ticks + 1;
        for (index, seq) in engine.sequences.iter_mut().enumerate() {
            if let Some(why) = seq.advance(n) {
                restarts.push((index, why));
            }
        }
        engine.ticks = n;
        self.publish(&engine, true);
        log::debug!("tick {n}");
        if !restarts.is_empty() {
            log::warn!("tick {n}: {}", describe_restarts(&engine.config, &restarts));
        }
        n
    }

    /// Replaces the config. Series whose definition (name, labels, type, function, params,
    /// reset_interval) did not change keep their sequence and so their place in it; new ones
    /// start at their first value at once; removed ones disappear.
    pub fn reload(&self, config: Config) -> ReloadStats {
        let mut engine = lock(&self.engine);
        let mut old: Vec<Option<Sequence>> = engine.sequences.drain(..).map(Some).collect();
        let mut stats = ReloadStats { kept: 0, started: 0, removed: 0 };
        let n = engine.ticks;
        // Old series by definition: a lookup each, so that reloading 100,000 entries is not
        // 100,000² comparisons.
        let mut by_definition: HashMap<&str, usize> = HashMap::with_capacity(engine.config.entries.len());
        for (index, e) in engine.config.entries.iter().enumerate() {
            by_definition.entry(e.definition.as_str()).or_insert(index);
        }
        let sequences: Vec<Sequence> = config
            .entries
            .iter()
            .map(|entry| {
                let same = by_definition.get(entry.definition.as_str()).copied();
                match same.and_then(|index| old[index].take()) {
                    Some(seq) => {
                        stats.kept += 1;
                        seq
                    }
                    None => {
                        stats.started += 1;
                        let mut seq = entry.sequence(0);
                        if n > 0 {
                            seq.advance(n);
                        }
                        seq
                    }
                }
            })
            .collect();
        stats.removed = old.iter().filter(|s| s.is_some()).count();
        let config = Arc::new(config);
        engine.catalog = Arc::new(Catalog::new(&config));
        engine.config = config;
        engine.sequences = sequences;
        engine.reload_ok = true;
        engine.reload_success_time = unix_seconds();
        self.publish(&engine, false);
        stats
    }

    /// Records a failed reload: the running config keeps serving.
    pub fn reload_failed(&self) {
        let mut engine = lock(&self.engine);
        engine.reload_ok = false;
        self.publish(&engine, false);
    }

    /// The current snapshot; the lock is held only to clone an `Arc`.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        lock(&self.published).snapshot.clone()
    }

    /// How many ticks have happened.
    pub fn ticks(&self) -> u64 {
        self.snapshot().ticks
    }

    /// Health: unhealthy when the ticker has missed two intervals.
    pub fn health(&self) -> Health {
        let (snapshot, last_tick) = {
            let published = lock(&self.published);
            (published.snapshot.clone(), published.last_tick)
        };
        let since_last_tick = last_tick.elapsed();
        Health {
            healthy: since_last_tick <= self.interval * 2,
            series: snapshot.config.series(),
            ticks: snapshot.ticks,
            uptime: self.started.elapsed(),
            since_last_tick,
            interval: self.interval,
        }
    }
}

fn snapshot_of(engine: &Engine, clock: Clock, started: f64) -> Snapshot {
    let own = Own {
        ticks: engine.ticks,
        series: engine.config.series(),
        reload_ok: engine.reload_ok,
        reload_success_time: engine.reload_success_time,
        started,
    };
    Snapshot {
        ticks: engine.ticks,
        values: engine.sequences.iter().map(Sequence::value).collect(),
        cycle_starts: engine.sequences.iter().map(Sequence::cycle_start).collect(),
        config: engine.config.clone(),
        catalog: engine.catalog.clone(),
        clock,
        own,
        bodies: Default::default(),
    }
}

/// `2 series restarted: ns_a (value not finite), ns_b_total{k="v"} (reset_interval reached)`,
/// naming at most five.
fn describe_restarts(config: &Config, restarts: &[(usize, Restart)]) -> String {
    const SHOWN: usize = 5;
    let mut names: Vec<String> = restarts
        .iter()
        .take(SHOWN)
        .map(|&(index, why)| format!("{} ({})", config.entries[index].describe_series(), why.describe()))
        .collect();
    if restarts.len() > SHOWN {
        names.push(format!("and {} more", restarts.len() - SHOWN));
    }
    format!("{} series restarted: {}", restarts.len(), names.join(", "))
}

/// Runs ticks 2, 3, … on the fixed grid `started + (k-1)·interval`, forever. When the thread wakes
/// late (a suspended machine, a loaded core) it runs the missed ticks at once, so the tick count
/// always matches the time since start-up.
pub fn run_ticker(state: &State) -> ! {
    loop {
        let next = state.ticks() + 1;
        let due = state.started() + grid_offset(state.interval(), next - 1);
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        state.tick();
    }
}

/// `interval · k`, saturating instead of overflowing.
fn grid_offset(interval: Duration, k: u64) -> Duration {
    let nanos = interval.as_nanos().saturating_mul(u128::from(k));
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    Duration::new(secs, (nanos % 1_000_000_000) as u32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{parse, Options};
    use crate::functions::Registry;

    fn config(text: &str) -> Config {
        parse(text, "t", &Options { namespace: String::new(), ..Options::default() }, &Registry::builtin()).unwrap()
    }

    #[test]
    fn ticks_advance_every_series_together() {
        let state = State::new(
            config(
                r#"[{"name":"s","metric_type":"gauge","custom_function":"square"},
                    {"name":"f","metric_type":"gauge","custom_function":"fibonacci","reset_interval":2}]"#,
            ),
            Duration::from_secs(1),
        );
        let seen: Vec<Vec<f64>> = (0..4)
            .map(|_| {
                state.tick();
                state.snapshot().values.clone()
            })
            .collect();
        assert_eq!(seen, [vec![1.0, 1.0], vec![4.0, 1.0], vec![9.0, 1.0], vec![16.0, 1.0]]);
        assert_eq!(state.snapshot().ticks, 4);
        let text = String::from_utf8_lossy(state.snapshot().body(Format::Text, false)).into_owned();
        assert!(text.contains("\ns 16\n"), "{text}");
        assert!(text.contains("\nmetrics_generator_ticks_total 4\n"), "{text}");
    }

    #[test]
    fn gzip_bodies_decode_to_the_plain_ones() {
        use std::io::Read as _;
        let state = State::new(
            config(r#"[{"name":"s","metric_type":"counter","custom_function":"square"}]"#),
            Duration::from_secs(1),
        );
        state.tick();
        let snapshot = state.snapshot();
        for format in [Format::Text, Format::OpenMetrics] {
            let mut decoded = Vec::new();
            flate2::read::GzDecoder::new(snapshot.body(format, true)).read_to_end(&mut decoded).unwrap();
            assert_eq!(decoded, snapshot.body(format, false));
        }
    }

    #[test]
    fn reload_keeps_unchanged_series_in_place() {
        let state = State::new(
            config(
                r#"[{"name":"a","metric_type":"gauge","custom_function":"square"},
                    {"name":"b","metric_type":"gauge","custom_function":"square"}]"#,
            ),
            Duration::from_secs(1),
        );
        for _ in 0..3 {
            state.tick();
        }
        let stats = state.reload(config(
            r#"[{"name":"c","metric_type":"gauge","custom_function":"square"},
                {"name":"a","metric_type":"gauge","custom_function":"square","help":"new help"},
                {"name":"b","metric_type":"gauge","custom_function":"square","reset_interval":2}]"#,
        ));
        assert_eq!(stats, ReloadStats { kept: 1, started: 2, removed: 1 });
        assert_eq!(state.snapshot().values, [1.0, 9.0, 1.0]);
        state.tick();
        assert_eq!(state.snapshot().values, [4.0, 16.0, 4.0]);
        assert_eq!(state.snapshot().ticks, 4);
    }

    #[test]
    fn a_stalled_ticker_makes_health_unhealthy() {
        let state = State::new(
            config(r#"[{"name":"s","metric_type":"gauge","custom_function":"square"}]"#),
            Duration::from_millis(10),
        );
        state.tick();
        assert!(state.health().healthy);
        std::thread::sleep(Duration::from_millis(40));
        let health = state.health();
        assert!(!health.healthy, "{health:?}");
        state.tick();
        assert!(state.health().healthy);
    }

    #[test]
    fn grid_offsets_are_exact() {
        assert_eq!(grid_offset(Duration::from_millis(250), 7), Duration::from_millis(1750));
        assert_eq!(grid_offset(Duration::from_secs(60), 1_000_000), Duration::from_secs(60_000_000));
        assert_eq!(grid_offset(Duration::MAX, u64::MAX).as_secs(), u64::MAX);
    }
}
