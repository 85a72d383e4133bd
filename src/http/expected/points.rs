//! The points of one series: its values at given times, its true increase over a window, and
//! the quantile Prometheus's `histogram_quantile` gives from its buckets' increases. Each is
//! replayed from the series' own sequence and accumulated observations ([`Replay`]).

use crate::config::{Entry, NativeCounts, NativeSchema};
use crate::engine::{Budget, Exhausted, Replay};
use crate::exposition::Line;
use crate::time::Grid;
use std::collections::VecDeque;

/// The most ticks a replay advances one at a time to reach a later point; beyond that it is
/// brought there afresh (a fast-forward and the current cycle).
const STEP_LIMIT: u64 = 1_000;

/// A series replayed forward in time.
pub(super) struct Stream<'a> {
    entry: &'a Entry,
    k: u64,
    first: u64,
    replay: Replay<'a>,
}

impl<'a> Stream<'a> {
    /// Series `k` of `entry`, whose first value is at tick `first`, before that tick.
    pub(super) fn new(entry: &'a Entry, k: u64, first: u64) -> Self {
        Stream { entry, k, first, replay: Replay::new(entry, k, first) }
    }

    /// The current tick.
    fn tick(&self) -> u64 {
        self.replay.tick()
    }

    /// Moves to tick `n` (not before the current one).
    fn skip_to(&mut self, n: u64, budget: &mut Budget) -> Result<(), Exhausted> {
        if self.entry.observe.is_none() {
            return self.replay.skip_to(n, budget);
        }
        if n.saturating_sub(self.tick()) > STEP_LIMIT || self.tick() < self.first {
            self.replay = Replay::at(self.entry, self.k, self.first, n, budget)?;
            return Ok(());
        }
        while self.tick() < n {
            budget.spend(1)?;
            self.replay.advance();
        }
        Ok(())
    }

    /// Moves to the next tick.
    fn advance(&mut self) {
        self.replay.advance();
    }

    /// The native buckets of the current tick's observations alone.
    fn native_of_tick(&self) -> NativeCounts {
        self.replay.native_of_tick()
    }

    /// The value of `line` at the current tick.
    fn value(&self, line: &Line) -> f64 {
        line.value_of(self.entry, self.replay.value(), self.replay.observed())
    }
}

/// The value of `line` at each time: that of the last tick at or before it. Times before the
/// series' first tick have no value and no point.
pub(super) fn values(
    mut stream: Stream,
    line: &Line,
    grid: Grid,
    times: &[i64],
    budget: &mut Budget,
) -> Result<Vec<(i64, f64)>, Exhausted> {
    let first = stream.tick() + 1;
    let mut points = Vec::new();
    for &t in times {
        let Some(tick) = grid.tick_at(t).filter(|&k| k >= first) else { continue };
        stream.skip_to(tick, budget)?;
        points.push((t, stream.value(line)));
    }
    Ok(points)
}

/// The true increase of each of `lines` over `(t − window, t]` at each time `t`: the sum, over
/// the ticks in that span, of each value's rise from the value before it, a drop counting as a
/// restart from zero (the new value itself). Before its first tick a series counts as 0, so a
/// window that holds its first tick counts its first value in full. Times before the first tick
/// have no point.
pub(super) fn increases(
    mut stream: Stream,
    lines: &[Line],
    grid: Grid,
    times: &[i64],
    window: u64,
    budget: &mut Budget,
) -> Result<Vec<(i64, Vec<f64>)>, Exhausted> {
    let before = stream.tick();
    // The values at `stream.tick()`, and the rises of each tick still inside the window.
    let mut previous = vec![0.0; lines.len()];
    let mut rises: VecDeque<(u64, Vec<f64>)> = VecDeque::new();
    let mut points = Vec::new();
    for &t in times {
        let Some(end) = grid.tick_at(t).filter(|&k| k > before) else { continue };
        let begin = grid.tick_at(t.saturating_sub(window as i64)).map_or(before, |k| k.max(before));
        if begin > stream.tick() {
            // Nothing of the last window is in this one: jump to where this one begins.
            stream.skip_to(begin, budget)?;
            for (previous, line) in previous.iter_mut().zip(lines) {
                *previous = stream.value(line);
            }
            rises.clear();
        }
        while stream.tick() < end {
            budget.spend(lines.len() as u64)?;
            stream.advance();
            let tick_rises = previous
                .iter_mut()
                .zip(lines)
                .map(|(previous, line)| {
                    let value = stream.value(line);
                    let rise = if value >= *previous { value - *previous } else { value };
                    *previous = value;
                    rise
                })
                .collect();
            rises.push_back((stream.tick(), tick_rises));
        }
        while rises.front().is_some_and(|(n, _)| *n <= begin) {
            rises.pop_front();
        }
        budget.spend((rises.len() * lines.len()) as u64)?;
        let mut sums = vec![0.0; lines.len()];
        for (_, tick_rises) in &rises {
            for (sum, rise) in sums.iter_mut().zip(tick_rises) {
                *sum += rise;
            }
        }
        points.push((t, sums));
    }
    Ok(points)
}

/// The true increase of a native histogram over `(t − window, t]` at each time `t`: the native
/// buckets of the observations of every tick in that span, which is what Prometheus's `increase`
/// and `rate` scale (all buckets alike) when every tick was scraped. Times before the first tick
/// have no point.
pub(super) fn native_increases(
    mut stream: Stream,
    grid: Grid,
    times: &[i64],
    window: u64,
    budget: &mut Budget,
) -> Result<Vec<(i64, NativeCounts)>, Exhausted> {
    let before = stream.tick();
    let mut ticks: VecDeque<(u64, NativeCounts)> = VecDeque::new();
    let mut points = Vec::new();
    for &t in times {
        let Some(end) = grid.tick_at(t).filter(|&k| k > before) else { continue };
        let begin = grid.tick_at(t.saturating_sub(window as i64)).map_or(before, |k| k.max(before));
        if begin > stream.tick() {
            stream.skip_to(begin, budget)?;
            ticks.clear();
        }
        while stream.tick() < end {
            budget.spend(1)?;
            stream.advance();
            ticks.push_back((stream.tick(), stream.native_of_tick()));
        }
        while ticks.front().is_some_and(|(n, _)| *n <= begin) {
            ticks.pop_front();
        }
        budget.spend(ticks.len() as u64)?;
        let mut sum = NativeCounts::default();
        for (_, counts) in &ticks {
            sum.add(counts);
        }
        points.push((t, sum));
    }
    Ok(points)
}

/// What Prometheus's `histogram_quantile` gives for a `phi` that is no quantile, whatever the
/// counts: NaN for NaN, -Inf below 0, +Inf above 1.
fn beyond_quantiles(phi: f64) -> Option<f64> {
    match phi {
        _ if phi.is_nan() => Some(f64::NAN),
        _ if phi < 0.0 => Some(f64::NEG_INFINITY),
        _ if phi > 1.0 => Some(f64::INFINITY),
        _ => None,
    }
}

/// What Prometheus's `histogram_quantile(phi, …)` gives for a native histogram of `counts` in
/// the buckets of `schema`: the buckets in order (negative ones from the most negative, the zero
/// bucket, the positive ones), the one where the cumulative count reaches the rank, and linear
/// interpolation within it; the zero bucket starts at 0 when there are only positive buckets.
pub(super) fn native_quantile(phi: f64, schema: &NativeSchema, counts: &NativeCounts) -> f64 {
    if let Some(answer) = beyond_quantiles(phi) {
        return answer;
    }
    let total = counts.zero + counts.positive.iter().chain(&counts.negative).map(|(_, c)| c).sum::<f64>();
    if total == 0.0 {
        return f64::NAN;
    }
    let z = schema.zero_threshold;
    let mut buckets: Vec<(f64, f64, f64)> = Vec::new();
    for &(i, count) in counts.negative.iter().rev() {
        buckets.push((-schema.bound(i), -schema.bound(i - 1), count));
    }
    if counts.zero > 0.0 {
        let lower = if counts.negative.is_empty() && !counts.positive.is_empty() { 0.0 } else { -z };
        let upper = if counts.positive.is_empty() && !counts.negative.is_empty() { 0.0 } else { z };
        buckets.push((lower, upper, counts.zero));
    }
    for &(i, count) in &counts.positive {
        buckets.push((schema.bound(i - 1), schema.bound(i), count));
    }
    let rank = phi * total;
    let mut cumulative = 0.0;
    for &(lower, upper, count) in &buckets {
        cumulative += count;
        if cumulative >= rank {
            let within = rank - (cumulative - count);
            return lower + (upper - lower) * (within / count);
        }
    }
    buckets.last().map_or(f64::NAN, |&(_, upper, _)| upper)
}

/// What Prometheus's `histogram_quantile(phi, …)` gives for cumulative bucket counts `counts`
/// with upper bounds `bounds` (increasing, the last `+Inf`), by its interpolation rules: linear
/// within the bucket that holds the rank, the lowest bucket starting at 0 (unless its bound is
/// not positive), and the highest finite bound when the rank falls in the `+Inf` bucket.
pub(super) fn bucket_quantile(phi: f64, bounds: &[f64], counts: &[f64]) -> f64 {
    if let Some(answer) = beyond_quantiles(phi) {
        return answer;
    }
    if bounds.len() < 2 || bounds.last() != Some(&f64::INFINITY) {
        return f64::NAN;
    }
    // Prometheus makes the counts monotonic before it looks at them.
    let mut counts = counts.to_vec();
    for i in 1..counts.len() {
        counts[i] = counts[i].max(counts[i - 1]);
    }
    let observations = counts[counts.len() - 1];
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = phi * observations;
    let last = counts.len() - 1;
    let b = counts[..last].iter().position(|&c| c >= rank).unwrap_or(last);
    if b == last {
        return bounds[last - 1];
    }
    if b == 0 && bounds[0] <= 0.0 {
        return bounds[0];
    }
    let (mut start, end, mut count) = (0.0, bounds[b], counts[b]);
    if b > 0 {
        start = bounds[b - 1];
        count -= counts[b - 1];
        rank -= counts[b - 1];
    }
    start + (end - start) * (rank / count)
}

#[cfg(test)]
mod tests {
    use super::bucket_quantile;

    #[test]
    fn bucket_quantiles_follow_prometheus_rules() {
        let bounds = [0.1, 0.5, 1.0, f64::INFINITY];
        // 10 at or below 0.1, 10 more up to 0.5, none more up to 1, 5 above.
        let counts = [10.0, 20.0, 20.0, 25.0];
        assert_eq!(bucket_quantile(0.2, &bounds, &counts), 0.1 * (5.0 / 10.0));
        assert_eq!(bucket_quantile(0.6, &bounds, &counts), 0.1 + 0.4 * (5.0 / 10.0));
        assert_eq!(bucket_quantile(0.9, &bounds, &counts), 1.0, "the +Inf bucket gives the highest finite bound");
        assert!(bucket_quantile(0.5, &bounds, &[0.0; 4]).is_nan());
        assert_eq!(bucket_quantile(-0.1, &bounds, &counts), f64::NEG_INFINITY);
        assert_eq!(bucket_quantile(1.1, &bounds, &counts), f64::INFINITY);
        assert!(bucket_quantile(0.5, &[0.1, 0.5], &[1.0, 2.0]).is_nan(), "no +Inf bucket");
        assert_eq!(bucket_quantile(0.5, &[-1.0, f64::INFINITY], &[4.0, 4.0]), -1.0);
    }
}
