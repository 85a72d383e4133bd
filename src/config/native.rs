//! Native histograms: the sparse exponential buckets of a schema, a tick's observations counted
//! into them (from the distribution's CDF, as the classic buckets are), and the counts a series
//! accumulates. Bucket `i` of schema `s` holds the observations `v` with `b(i − 1) < |v| ≤ b(i)`,
//! where `b(i) = 2^(i·2^−s)`; the zero bucket those with `|v| ≤ zero_threshold`, positive and
//! negative buckets the others by sign, as Prometheus's native histograms define them.

use crate::distribution::Distribution;

/// The zero bucket's default width, as the Prometheus Go client's: 2⁻¹²⁸.
pub const DEFAULT_ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39;

/// The most native buckets a tick's observations may spread over on each side; beyond that the
/// schema is too fine for the spread, and the extra buckets are folded into the last one.
pub const MAX_NATIVE_BUCKETS: i64 = 4096;

/// A native histogram's resolution.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NativeSchema {
    /// −4 to 8: each power of two is split into 2^schema buckets.
    pub schema: i32,
    /// Observations within ±this count in the zero bucket.
    pub zero_threshold: f64,
}

impl NativeSchema {
    /// The upper bound of bucket `i`: 2^(i·2^−schema).
    pub fn bound(&self, i: i32) -> f64 {
        if self.schema <= 0 {
            exp2i(i64::from(i) << (-self.schema) as u32)
        } else {
            let per_octave = 1i64 << self.schema;
            let (octave, step) = (i64::from(i).div_euclid(per_octave), i64::from(i).rem_euclid(per_octave));
            exp2i(octave) * (step as f64 / per_octave as f64).exp2()
        }
    }

    /// The bucket holding magnitude `v` (> 0): the `i` with `bound(i − 1) < v ≤ bound(i)`.
    pub fn index(&self, v: f64) -> i32 {
        let scale = f64::from(1u32 << self.schema.max(0)) / f64::from(1u32 << (-self.schema).max(0));
        let guess = (v.log2() * scale).ceil();
        let mut i = guess.clamp(-1_000_000.0, 1_000_000.0) as i32;
        // The logarithm may be off by an ulp near a bound: settle on the exact bucket.
        while i > -1_000_000 && self.bound(i - 1) >= v {
            i -= 1;
        }
        while i < 1_000_000 && self.bound(i) < v {
            i += 1;
        }
        i
    }
}

/// 2^e for a whole e, saturating to 0 and infinity.
fn exp2i(e: i64) -> f64 {
    (e.clamp(-1100, 1100) as f64).exp2()
}

/// Counts of observations in native buckets: the zero bucket, and the non-empty positive and
/// negative buckets by index, in increasing index order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NativeCounts {
    pub zero: f64,
    pub positive: Vec<(i32, f64)>,
    pub negative: Vec<(i32, f64)>,
}

impl NativeCounts {
    /// Whether no observation was counted.
    pub fn is_empty(&self) -> bool {
        self.zero == 0.0 && self.positive.is_empty() && self.negative.is_empty()
    }

    /// Adds `other`'s counts to these.
    pub fn add(&mut self, other: &NativeCounts) {
        self.zero += other.zero;
        merge(&mut self.positive, &other.positive);
        merge(&mut self.negative, &other.negative);
    }

    /// The `count` observations of one tick around `loc`, by `distribution`, in the buckets of
    /// `schema`.
    pub fn of_tick(schema: &NativeSchema, distribution: &Distribution, loc: f64, count: u64) -> NativeCounts {
        let mut out = NativeCounts::default();
        if count == 0 || loc.is_nan() {
            return out;
        }
        let at_most = |x: f64| distribution.count_at_most(loc, count, x) as f64;
        let z = schema.zero_threshold;
        out.zero = at_most(z) - at_most(next_down(-z));
        let (lowest, highest) = (distribution.observation(loc, count, 1), distribution.observation(loc, count, count));
        // Positive buckets: the observations in (max(bound(i − 1), z), bound(i)].
        if highest > z {
            let first = schema.index(lowest.max(z).max(f64::MIN_POSITIVE));
            let last = last_index(schema, first, highest);
            let mut below = at_most(z);
            for i in first..=last {
                let upper = if i == last { f64::INFINITY } else { schema.bound(i) };
                let here = at_most(upper);
                if here > below {
                    out.positive.push((i, here - below));
                }
                below = here;
            }
        }
        // Negative buckets: the observations in [−bound(i), −max(bound(i − 1), z)).
        if lowest < -z {
            let first = schema.index((-highest).max(z).max(f64::MIN_POSITIVE));
            let last = last_index(schema, first, -lowest);
            let mut above = at_most(next_down(-z));
            for i in first..=last {
                let lower = if i == last { f64::NEG_INFINITY } else { -schema.bound(i) };
                let here = at_most(next_down(lower));
                if above > here {
                    out.negative.push((i, above - here));
                }
                above = here;
            }
        }
        out
    }
}

/// The bucket of magnitude `highest`, or the one [`MAX_NATIVE_BUCKETS`] above `first` if that
/// is lower (the last bucket then takes every larger observation).
fn last_index(schema: &NativeSchema, first: i32, highest: f64) -> i32 {
    let last = schema.index(highest);
    (i64::from(last).min(i64::from(first) + MAX_NATIVE_BUCKETS - 1)) as i32
}

/// The largest f64 below `x`.
fn next_down(x: f64) -> f64 {
    if x.is_nan() || x == f64::NEG_INFINITY {
        return x;
    }
    if x == 0.0 {
        return -f64::from_bits(1);
    }
    let bits = x.to_bits();
    f64::from_bits(if x > 0.0 { bits - 1 } else { bits + 1 })
}

/// Adds the sorted sparse counts `from` into the sorted sparse counts `into`.
fn merge(into: &mut Vec<(i32, f64)>, from: &[(i32, f64)]) {
    if from.is_empty() {
        return;
    }
    // The common case: the same buckets as before, or new ones at either end.
    let mut merged = Vec::with_capacity(into.len().max(from.len()) + 2);
    let (mut a, mut b) = (into.iter().peekable(), from.iter().peekable());
    loop {
        match (a.peek(), b.peek()) {
            (Some(&&(i, x)), Some(&&(j, y))) if i == j => {
                merged.push((i, x + y));
                a.next();
                b.next();
            }
            (Some(&&(i, x)), Some(&&(j, _))) if i < j => {
                merged.push((i, x));
                a.next();
            }
            (_, Some(&&(j, y))) => {
                merged.push((j, y));
                b.next();
            }
            (Some(&&(i, x)), None) => {
                merged.push((i, x));
                a.next();
            }
            (None, None) => break,
        }
    }
    *into = merged;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_and_indexes_follow_the_schema() {
        let s0 = NativeSchema { schema: 0, zero_threshold: 0.0 };
        assert_eq!([s0.bound(-1), s0.bound(0), s0.bound(1), s0.bound(3)], [0.5, 1.0, 2.0, 8.0]);
        assert_eq!([s0.index(1.0), s0.index(1.5), s0.index(2.0), s0.index(2.1), s0.index(0.3)], [0, 1, 1, 2, -1]);
        let s3 = NativeSchema { schema: 3, zero_threshold: 0.0 };
        assert_eq!(s3.bound(8), 2.0);
        assert!((s3.bound(1) - 2f64.powf(0.125)).abs() < 1e-15);
        for v in [0.001, 0.1, 0.7, 1.0, 1.09, 3.3, 1e6] {
            let i = s3.index(v);
            assert!(s3.bound(i - 1) < v && v <= s3.bound(i), "{v} in bucket {i}");
        }
        let negative = NativeSchema { schema: -2, zero_threshold: 0.0 };
        assert_eq!([negative.bound(0), negative.bound(1), negative.bound(-1)], [1.0, 16.0, 1.0 / 16.0]);
        assert_eq!(negative.index(17.0), 2);
    }

    /// A tick's counts are those of its observations counted one by one (where none lies exactly
    /// on a bound, where the rounding of the CDF decides).
    #[test]
    fn a_tick_counts_its_observations_into_their_buckets() {
        let schema = NativeSchema { schema: 2, zero_threshold: 0.05 };
        for (distribution, loc) in [
            (Distribution::Exponential, 0.3),
            (Distribution::Normal { sd: 0.4 }, 0.1),
            (Distribution::Uniform { width: 1.0 }, 0.013),
            (Distribution::Constant, 0.0),
            (Distribution::Lognormal { sigma: 1.0 }, 2.0),
        ] {
            let n = 200;
            let counts = NativeCounts::of_tick(&schema, &distribution, loc, n);
            let mut expected = NativeCounts::default();
            for j in 1..=n {
                let v = distribution.observation(loc, n, j);
                let one = if v.abs() <= schema.zero_threshold {
                    NativeCounts { zero: 1.0, ..Default::default() }
                } else if v > 0.0 {
                    NativeCounts { positive: vec![(schema.index(v), 1.0)], ..Default::default() }
                } else {
                    NativeCounts { negative: vec![(schema.index(-v), 1.0)], ..Default::default() }
                };
                expected.add(&one);
            }
            assert_eq!(counts, expected, "{distribution:?} at {loc}");
        }
    }
}
