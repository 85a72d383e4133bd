//! Time: where ticks fall (the [`Grid`] of tick times for each [`Align`]ment), and the time and
//! duration notations that flags, the HTTP API and the exports read and write.
//!
//! Pure code. Times are whole Unix milliseconds (`i64`), the resolution of Prometheus's
//! timestamps and of `--interval`, so that tick times are exact: the arithmetic is on integers
//! and never drifts, however large the tick number.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How ticks are placed in time (`--align`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Tick 1 at start-up, tick k one `(k − 1)·interval` later: each process has its own grid.
    Start,
    /// Tick 1 at the Unix epoch, tick k at `(k − 1)·interval` after it: every process on a
    /// synchronised clock serves the same tick, and so the same values, at the same time.
    WallClock,
}

impl Align {
    /// The flag's spelling: `start` or `wall-clock`.
    pub fn as_str(self) -> &'static str {
        match self {
            Align::Start => "start",
            Align::WallClock => "wall-clock",
        }
    }

    /// Reads the value of `--align`.
    pub fn parse(s: &str) -> Option<Align> {
        match s {
            "start" => Some(Align::Start),
            "wall-clock" => Some(Align::WallClock),
            _ => None,
        }
    }
}

/// The tick grid: tick `k` (k ≥ 1) happens at `origin_ms + (k − 1)·interval_ms`, Unix milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grid {
    /// Unix time of tick 1, in milliseconds: start-up, or 0 (the epoch) with `--align wall-clock`.
    pub origin_ms: i64,
    /// Milliseconds between ticks, at least 1.
    pub interval_ms: u64,
}

impl Grid {
    /// The grid of `align` for a process starting at `now_ms`.
    pub fn new(align: Align, interval: Duration, now_ms: i64) -> Grid {
        let interval_ms = u64::try_from(interval.as_millis()).unwrap_or(u64::MAX).max(1);
        let origin_ms = match align {
            Align::Start => now_ms,
            Align::WallClock => 0,
        };
        Grid { origin_ms, interval_ms }
    }

    /// Unix milliseconds of tick `k` (k ≥ 1), saturating far beyond any real date.
    pub fn time_ms(&self, k: u64) -> i64 {
        let t = i128::from(self.origin_ms) + i128::from(k.saturating_sub(1)) * i128::from(self.interval_ms);
        i64::try_from(t).unwrap_or(i64::MAX)
    }

    /// Unix seconds of tick `k`, for OpenMetrics `_created` samples: the nearest f64, so that
    /// it prints as its exact decimal (`1700000000.1`).
    pub fn seconds(&self, k: u64) -> f64 {
        self.time_ms(k) as f64 / 1000.0
    }

    /// The tick in effect at Unix millisecond `t`: the last one at or before it (a tick counts
    /// from its own time on); `None` before tick 1.
    pub fn tick_at(&self, t_ms: i64) -> Option<u64> {
        let since = i128::from(t_ms) - i128::from(self.origin_ms);
        let k = u64::try_from(since).ok()? / self.interval_ms;
        k.checked_add(1)
    }

    /// The first tick at or after Unix millisecond `t` (tick 1 when `t` is before it).
    pub fn tick_from(&self, t_ms: i64) -> u64 {
        match self.tick_at(t_ms) {
            None => 1,
            Some(k) if self.time_ms(k) == t_ms => k,
            Some(k) => k.saturating_add(1),
        }
    }
}

/// The current Unix time in milliseconds (0 for a clock set before 1970).
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Reads a time as Prometheus's HTTP API does: Unix seconds (`1700000000`, `1700000000.25`,
/// `-3.5`, `1.7e9`) or RFC 3339 (`2023-11-14T22:13:20Z`, `2023-11-14T23:13:20.5+01:00`). The
/// result is in milliseconds; finer digits are rounded to the nearest millisecond.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let bad =
        || format!("{s:?} is not a time (Unix seconds such as 1700000000.5, or RFC 3339 such as 2023-11-14T22:13:20Z)");
    if s.contains(['T', 't']) {
        return parse_rfc3339(s).ok_or_else(bad);
    }
    parse_seconds_ms(s).ok_or_else(bad)
}

/// Decimal seconds into milliseconds: exact for plain decimals, through f64 for exponents.
fn parse_seconds_ms(s: &str) -> Option<i64> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if !(whole.is_empty() && fraction.is_empty()) && plain(whole) && plain(fraction) {
        let whole: i128 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
        let padded = format!("{fraction:0<4}");
        let millis: i128 = padded[..3].parse().ok()?;
        let round_up = padded.as_bytes()[3] >= b'5';
        let ms = whole * 1000 + millis + i128::from(round_up);
        return i64::try_from(if negative { -ms } else { ms }).ok();
    }
    let x: f64 = s.parse().ok()?;
    let ms = (x * 1000.0).round();
    (ms.is_finite() && ms.abs() < 9.0e18).then_some(ms as i64)
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
fn parse_rfc3339(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = s.get(range)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 {
        return None;
    }
    // Leap seconds (60) are refused, as Prometheus (Go's time package) refuses them.
    if second > 59 {
        return None;
    }
    let mut rest = &s[19..];
    let mut ms = 0;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return None;
        }
        let padded = format!("{:0<4}", &fraction[..len]);
        ms = padded[..3].parse::<i64>().ok()? + i64::from(padded.as_bytes()[3] >= b'5');
        rest = &fraction[len..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && matches!(&rest[..1], "+" | "-") && &rest[3..4] == ":" => {
            let (h, m) = (rest[1..3].parse::<i64>().ok()?, rest[4..6].parse::<i64>().ok()?);
            if h > 23 || m > 59 {
                return None;
            }
            if rest.starts_with('-') {
                -(h * 60 + m)
            } else {
                h * 60 + m
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Some(seconds * 1000 + ms)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Reads a duration as Prometheus's HTTP API does for `step`: `15s`, `1m30s`, `250ms` (units ms,
/// s, m, h, d) or plain seconds (`15`, `0.5`). Milliseconds, which must be at least 1.
pub fn parse_api_duration(s: &str) -> Result<u64, String> {
    if let Some(ms) = parse_seconds_ms(s) {
        return u64::try_from(ms)
            .ok()
            .filter(|&ms| ms > 0)
            .ok_or_else(|| format!("{s:?}: zero or negative durations are not accepted; try a positive one"));
    }
    let d = parse_duration(s)?;
    Ok(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Writes milliseconds in Prometheus's duration notation: `1m`, `1m30s`, `250ms`, `1d2h`.
pub fn format_duration(ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let mut rest = ms;
    for (unit, size) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)] {
        if rest >= size {
            out.push_str(&format!("{}{unit}", rest / size));
            rest %= size;
        }
    }
    out
}

/// Writes Unix milliseconds as Prometheus's API writes timestamps: seconds, with a three-digit
/// fraction when it is not zero (`1700000000`, `1700000000.250`).
pub fn format_api_time(ms: i64) -> String {
    let sign = if ms < 0 { "-" } else { "" };
    let abs = ms.unsigned_abs();
    match abs % 1000 {
        0 => format!("{sign}{}", abs / 1000),
        fraction => format!("{sign}{}.{fraction:03}", abs / 1000),
    }
}

/// Prometheus-style durations: one or more `<integer><unit>` with units ms, s, m, h, d (`1m30s`).
/// Zero is rejected: an interval must be > 0.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("{s:?} is not a duration (e.g. 250ms, 10s, 1m, 1h30m)");
    let mut total = Duration::ZERO;
    let mut rest = s;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            return Err(bad());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit_ms: u64 = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            "" => return Err(format!("{s:?} has a number without a unit (ms, s, m, h, d)")),
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        let ms = number.checked_mul(unit_ms).ok_or_else(bad)?;
        total = total.checked_add(Duration::from_millis(ms)).ok_or_else(bad)?;
    }
    if total.is_zero() {
        return Err(format!("{s:?}: the interval must be greater than zero"));
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wall_clock_ticks_count_intervals_from_the_epoch() {
        let grid = Grid::new(Align::WallClock, Duration::from_secs(60), 123_456);
        assert_eq!(grid.tick_at(0), Some(1));
        assert_eq!(grid.tick_at(59_999), Some(1));
        assert_eq!(grid.tick_at(60_000), Some(2));
        assert_eq!(grid.tick_at(-1), None);
        // 2023-11-14T22:13:20Z is 1700000000 s: 28333333 whole minutes and 20 s since the epoch.
        assert_eq!(grid.tick_at(1_700_000_000_000), Some(28_333_334));
        assert_eq!(grid.time_ms(28_333_334), 1_699_999_980_000);
        assert_eq!(grid.tick_from(1_699_999_980_000), 28_333_334);
        assert_eq!(grid.tick_from(1_699_999_980_001), 28_333_335);
        assert_eq!(grid.tick_from(-5), 1);
    }

    #[test]
    fn start_ticks_count_from_start_up() {
        let grid = Grid::new(Align::Start, Duration::from_millis(250), 1_000_000);
        assert_eq!(grid.time_ms(1), 1_000_000);
        assert_eq!(grid.time_ms(5), 1_001_000);
        assert_eq!(grid.tick_at(999_999), None);
        assert_eq!(grid.tick_at(1_000_249), Some(1));
        assert_eq!(grid.tick_at(1_000_250), Some(2));
        assert_eq!(grid.time_ms(u64::MAX), i64::MAX);
    }

    #[test]
    fn times() {
        let ok: &[(&str, i64)] = &[
            ("1700000000", 1_700_000_000_000),
            ("1700000000.25", 1_700_000_000_250),
            ("1700000000.0004", 1_700_000_000_000),
            ("1700000000.0005", 1_700_000_000_001),
            (".5", 500),
            ("-3.5", -3_500),
            ("1.7e9", 1_700_000_000_000),
            ("2023-11-14T22:13:20Z", 1_700_000_000_000),
            ("2023-11-14T22:13:20.123Z", 1_700_000_000_123),
            ("2023-11-14T23:13:20.5+01:00", 1_700_000_000_500),
            ("2023-11-14T21:43:20-00:30", 1_700_000_000_000),
            ("1970-01-01T00:00:00Z", 0),
            ("2024-02-29T00:00:00Z", 1_709_164_800_000),
            ("1969-12-31T23:59:59Z", -1_000),
        ];
        for (text, ms) in ok {
            assert_eq!(parse_time(text), Ok(*ms), "{text}");
        }
        for bad in ["", "now", "1.2.3", "2023-02-29T00:00:00Z", "2023-11-14T22:13:20", "2023-11-14T25:00:00Z", "NaN"] {
            assert!(parse_time(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_api_duration("15"), Ok(15_000));
        assert_eq!(parse_api_duration("0.25"), Ok(250));
        assert_eq!(parse_api_duration("1m30s"), Ok(90_000));
        assert!(parse_api_duration("0").is_err());
        assert!(parse_api_duration("-1").is_err());
        assert!(parse_api_duration("5x").is_err());
        for (ms, text) in [(60_000, "1m"), (90_000, "1m30s"), (250, "250ms"), (93_600_000, "1d2h"), (1_500, "1s500ms")]
        {
            assert_eq!(format_duration(ms), text);
            assert_eq!(u64::try_from(parse_duration(text).unwrap().as_millis()).unwrap(), ms);
        }
    }

    #[test]
    fn api_times_are_written_as_prometheus_writes_them() {
        assert_eq!(format_api_time(1_700_000_000_000), "1700000000");
        assert_eq!(format_api_time(1_700_000_000_250), "1700000000.250");
        assert_eq!(format_api_time(1_700_000_000_005), "1700000000.005");
        assert_eq!(format_api_time(-1_500), "-1.500");
    }

    #[test]
    fn flag_durations() {
        let ok: &[(&str, u64)] =
            &[("250ms", 250), ("10s", 10_000), ("1m", 60_000), ("1h30m", 5_400_000), ("1d", 86_400_000)];
        for (s, ms) in ok {
            assert_eq!(parse_duration(s), Ok(Duration::from_millis(*ms)), "{s}");
        }
        for s in ["", "s", "1x", "-1s", "1.5s", "99999999999999999999s", "18446744073709551615d"] {
            assert!(parse_duration(s).is_err(), "{s}");
        }
    }
}
