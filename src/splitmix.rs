//! SplitMix64, the seeded generator behind every random function: its state is a counter, so a
//! series' draw at any position is computed directly, which is what lanes and jumps rely on.

/// SplitMix64: a tiny, well-mixed generator; enough for test noise and fully reproducible.
#[derive(Debug, Clone)]
pub struct SplitMix64(pub u64);

/// SplitMix64's increment: its state after k draws is the seed plus k times this.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

impl SplitMix64 {
    /// Moves past `draws` draws at once: the state is a counter.
    pub fn jump(&mut self, draws: u64) {
        self.0 = self.0.wrapping_add(GOLDEN_GAMMA.wrapping_mul(draws));
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(GOLDEN_GAMMA);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform float in [0, 1), from the top 53 bits.
    pub fn next_01(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform float in (0, 1]: never 0, so its logarithm is finite.
    pub fn next_open01(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }

    /// The generator of series `k` of a fanned-out entry whose seed gave this one: seeded with
    /// the first output of SplitMix64 started at `seed + k`, so neighbouring series are
    /// uncorrelated, and series 0 keeps the entry's own seed.
    pub fn for_series(&self, k: u64) -> SplitMix64 {
        if k == 0 {
            return self.clone();
        }
        SplitMix64(SplitMix64(self.0.wrapping_add(k)).next_u64())
    }
}
