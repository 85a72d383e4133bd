//! The seeded functions written again from their documentation (`docs/functions.md`, and
//! `docs/configuration.md`, "Many series from one entry"), sharing no code with the crate: the
//! expected values of tests that must not take them from the code under test. Literal values
//! pinned in `behaviour::formulas` tie this to the documented algorithm too.

/// SplitMix64 as published (Steele, Lea and Flood, 2014): add the golden gamma, then mix.
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// The generator of series `k` of an entry seeded with `seed`: the seed itself for series 0,
    /// else the first output of SplitMix64 started at `seed + k`.
    pub fn series(seed: u64, k: u64) -> SplitMix64 {
        if k == 0 {
            SplitMix64(seed)
        } else {
            SplitMix64(SplitMix64(seed.wrapping_add(k)).next())
        }
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1): the top 53 bits over 2⁵³.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in (0, 1]: the top 53 bits plus one, over 2⁵³.
    fn open_unit(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
}

/// The first `count` values of series `k` of `normal` (Box–Muller, clamped at 0).
pub fn normal(seed: u64, k: u64, mean: f64, sd: f64, count: usize) -> Vec<f64> {
    let mut rng = SplitMix64::series(seed, k);
    (0..count)
        .map(|_| {
            let (u1, u2) = (rng.open_unit(), rng.open_unit());
            let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
            (mean + sd * z).max(0.0)
        })
        .collect()
}

/// The first `count` values of series `k` of `uniform`.
pub fn uniform(seed: u64, k: u64, min: f64, max: f64, count: usize) -> Vec<f64> {
    let mut rng = SplitMix64::series(seed, k);
    (0..count).map(|_| (min + (max - min) * rng.unit()).clamp(min, max)).collect()
}

/// The first `count` values of series `k` of `random_walk`: `start`, then each moves by
/// `step·(2u − 1)`, a move past a bound reflected back by its excess.
pub fn random_walk(seed: u64, k: u64, start: f64, step: f64, min: f64, max: f64, count: usize) -> Vec<f64> {
    let mut rng = SplitMix64::series(seed, k);
    let mut value = start;
    let mut values = Vec::with_capacity(count);
    for index in 0..count {
        if index > 0 {
            let moved = value + step * (2.0 * rng.unit() - 1.0);
            let reflected = if moved > max {
                2.0 * max - moved
            } else if moved < min {
                2.0 * min - moved
            } else {
                moved
            };
            value = reflected.clamp(min, max);
        }
        values.push(value);
    }
    values
}
