//! How a histogram's or summary's observations spread around a tick's location: the five
//! [`Distribution`]s, their quantile functions and CDFs, and what the exposition needs of a tick's
//! N observations (the count at most some bound, the sum, a nearest-rank quantile) computed without
//! materialising them. There is no randomness: observation j of N is the quantile function at
//! (j − ½)/N, so a tick's bucket counts follow the CDF exactly. Pure math on `f64`, no I/O; the one
//! piece of state is a small cache of lognormal sums, which have no closed form.

use std::collections::HashMap;
use std::f64::consts::{FRAC_1_SQRT_2, FRAC_2_SQRT_PI, LN_2};
use std::sync::{Mutex, OnceLock};

/// How a tick's observations spread around its location `loc` (the entry's function value at that tick).
///
/// A spread (`sd`, `width`, `sigma`) that is not a positive finite number, and for the scale
/// families (`Exponential`, `Lognormal`) a location that is not a positive finite number, make the
/// distribution degenerate: it behaves as `Constant`, every observation being `loc`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distribution {
    /// Every observation is `loc`.
    Constant,
    /// Exponential with mean `loc`.
    Exponential,
    /// Normal with mean `loc` and standard deviation `sd`.
    Normal {
        /// The standard deviation.
        sd: f64,
    },
    /// Uniform on `[loc − width/2, loc + width/2]`.
    Uniform {
        /// The length of the interval.
        width: f64,
    },
    /// Lognormal with median `loc`: `loc·exp(σZ)` for a standard normal `Z`.
    Lognormal {
        /// The standard deviation of the logarithm.
        sigma: f64,
    },
}

impl Distribution {
    /// The quantile function at `p` (meant for 0 < p < 1): the value below which a fraction `p` of
    /// the distribution lies. `p` ≤ 0 and `p` ≥ 1 give the ends of the support (possibly
    /// infinite); a NaN `p` gives NaN, except for a degenerate distribution, which is `loc` everywhere.
    pub fn quantile(&self, loc: f64, p: f64) -> f64 {
        if self.is_point(loc) {
            return loc;
        }
        if p.is_nan() {
            return f64::NAN;
        }
        match *self {
            Distribution::Constant => loc,
            Distribution::Exponential => {
                if p >= 1.0 {
                    f64::INFINITY
                } else {
                    -loc * (-p.max(0.0)).ln_1p()
                }
            }
            Distribution::Normal { sd } => loc + sd * normal_quantile(p),
            Distribution::Uniform { width } => loc + width * (p.clamp(0.0, 1.0) - 0.5),
            Distribution::Lognormal { sigma } => loc * (sigma * normal_quantile(p)).exp(),
        }
    }

    /// P(X ≤ x), in [0, 1]. A NaN location gives 0 (its observations are NaN, and no NaN is ≤ x);
    /// otherwise, whatever the distribution, `x` = +∞ gives 1 and `x` = −∞ or NaN gives 0.
    pub fn cdf(&self, loc: f64, x: f64) -> f64 {
        if loc.is_nan() || x.is_nan() || x == f64::NEG_INFINITY {
            return 0.0;
        }
        if x == f64::INFINITY {
            return 1.0;
        }
        if self.is_point(loc) {
            return if x >= loc { 1.0 } else { 0.0 };
        }
        let c = match *self {
            Distribution::Constant => return if x >= loc { 1.0 } else { 0.0 },
            Distribution::Exponential => {
                if x > 0.0 {
                    -(-x / loc).exp_m1()
                } else {
                    0.0
                }
            }
            Distribution::Normal { sd } => normal_cdf((x - loc) / sd),
            Distribution::Uniform { width } => (x - loc) / width + 0.5,
            Distribution::Lognormal { sigma } => {
                if x > 0.0 {
                    // x/loc may overflow or underflow where the difference of logarithms does not.
                    let ratio = x / loc;
                    let log_ratio = if ratio > 0.0 && ratio.is_finite() { ratio.ln() } else { x.ln() - loc.ln() };
                    normal_cdf(log_ratio / sigma)
                } else {
                    0.0
                }
            }
        };
        // An infinite location makes x − loc infinite and the CDF 0 or 1; NaN cannot remain, but
        // clamping it away as well keeps the promise of [0, 1].
        if c >= 0.0 {
            c.min(1.0)
        } else {
            0.0
        }
    }

    /// Observation j (1 ≤ j ≤ n) of a tick of n: quantile(loc, (j − ½)/n). A `j` outside 1…n is
    /// taken as the nearer end; with n = 0 there is no observation, and the answer is NaN.
    pub fn observation(&self, loc: f64, n: u64, j: u64) -> f64 {
        if n == 0 {
            return f64::NAN;
        }
        let j = j.clamp(1, n);
        self.quantile(loc, (j as f64 - 0.5) / n as f64)
    }

    /// How many of the n observations are ≤ x, in O(1): #{j : (j − ½)/n ≤ cdf(loc, x)} = clamp(floor(n·cdf + ½), 0, n).
    ///
    /// A NaN location counts none, even at +∞; otherwise `x` = +∞ counts all n, and `x` = −∞ or
    /// NaN none.
    pub fn count_at_most(&self, loc: f64, n: u64, x: f64) -> u64 {
        let at_most = (n as f64 * self.cdf(loc, x) + 0.5).floor();
        // The float-to-integer cast saturates, and a NaN (which cdf never gives) would become 0.
        (at_most as u64).min(n)
    }

    /// The sum of the n observations, without materialising them where a closed form exists.
    ///
    /// Constant, Normal and Uniform: loc·n, as their points are symmetric about `loc`. Exponential:
    /// the closed form below for n > 64, a direct sum up to there. Lognormal: O(n) once per
    /// (σ, n), then memoised. The sum of no observations is 0.
    pub fn sum(&self, loc: f64, n: u64) -> f64 {
        if n == 0 {
            return 0.0;
        }
        let count = n as f64;
        if self.is_point(loc) {
            return loc * count;
        }
        match *self {
            Distribution::Constant | Distribution::Normal { .. } | Distribution::Uniform { .. } => loc * count,
            Distribution::Exponential if n <= 64 => {
                let mut sum = Sum::default();
                for j in 1..=n {
                    sum.add(self.observation(loc, n, j));
                }
                sum.total()
            }
            // Σ_j −ln(1 − (j − ½)/n) = n·ln n − Σ_{k=1..n} ln(k − ½) = n·ln n − lnΓ(n + ½) + lnΓ(½).
            // Subtracting the two logarithms would cancel most of their digits (n·ln n is ~14n at
            // n = 10⁶); Stirling's series for lnΓ(n + ½) gives their difference directly, and its
            // terms beyond n^−7 are below 10⁻²⁰ relative from n = 65 on.
            Distribution::Exponential => {
                let inv = 1.0 / count;
                let inv2 = inv * inv;
                let series =
                    inv * (1.0 / 24.0 - inv2 * (7.0 / 2880.0 - inv2 * (31.0 / 40320.0 - inv2 * (127.0 / 215040.0))));
                loc * ((count - 0.5 * LN_2) + series)
            }
            Distribution::Lognormal { sigma } => loc * lognormal_unit_sum(sigma, n),
        }
    }

    /// The φ-quantile of the n observations by nearest rank: observation(max(1, ceil(φ·n))); NaN when n = 0.
    ///
    /// A product φ·n within rounding of an integer counts as that integer: 0.07 × 100 is
    /// 7.000000000000001 in floating point, and the rank wanted is 7, not 8. φ below 0 or above 1
    /// gives the first or the last observation; a NaN φ gives NaN.
    pub fn rank_quantile(&self, loc: f64, n: u64, phi: f64) -> f64 {
        if n == 0 || phi.is_nan() {
            return f64::NAN;
        }
        let product = phi * n as f64;
        let nearest = product.round();
        let rank = if (product - nearest).abs() <= 4.0 * f64::EPSILON * nearest { nearest } else { product.ceil() };
        // The cast saturates: a rank ≤ 0 becomes 0 and one past u64 becomes u64::MAX; clamp does the rest.
        self.observation(loc, n, (rank as u64).clamp(1, n))
    }

    /// Whether every observation is `loc`: `Constant`, or a degenerate spread or location.
    fn is_point(&self, loc: f64) -> bool {
        let positive = |v: f64| v > 0.0 && v.is_finite();
        match *self {
            Distribution::Constant => true,
            Distribution::Exponential => !positive(loc),
            Distribution::Normal { sd } => !positive(sd),
            Distribution::Uniform { width } => !positive(width),
            Distribution::Lognormal { sigma } => !positive(sigma) || !positive(loc),
        }
    }
}

/// Neumaier's compensated sum: the error stays near one rounding however many terms are added.
#[derive(Default)]
struct Sum {
    sum: f64,
    compensation: f64,
}

impl Sum {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.compensation += if self.sum.abs() >= x.abs() { (self.sum - t) + x } else { (x - t) + self.sum };
        self.sum = t;
    }

    fn total(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// Lognormal sums computed so far, by (σ's bits, n): Σ_j exp(σ·z_j) for the standard normal
/// points z_j = Φ⁻¹((j − ½)/n). A histogram's n is usually the same tick after tick, so this
/// keeps the O(n) sum to once per entry; it is cleared when full rather than managed.
static LOGNORMAL_SUMS: OnceLock<Mutex<HashMap<(u64, u64), f64>>> = OnceLock::new();

/// How many lognormal sums the cache holds before it starts again.
const LOGNORMAL_SUMS_CAPACITY: usize = 256;

/// Below this many observations the lognormal sum is cheaper than a lock.
const LOGNORMAL_UNCACHED: u64 = 32;

/// Σ_j exp(σ·z_j) over the n standard normal points, memoised for n above [`LOGNORMAL_UNCACHED`].
fn lognormal_unit_sum(sigma: f64, n: u64) -> f64 {
    if n <= LOGNORMAL_UNCACHED {
        return lognormal_unit_sum_direct(sigma, n);
    }
    let key = (sigma.to_bits(), n);
    let cache = LOGNORMAL_SUMS.get_or_init(|| Mutex::new(HashMap::new()));
    // A poisoned lock only means another thread panicked between two statements here; the map
    // holds finished sums only, so it is still sound.
    if let Some(&sum) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return sum;
    }
    // Computed without the lock, so a long sum does not stall other entries; two threads racing
    // on the same key compute the same value.
    let sum = lognormal_unit_sum_direct(sigma, n);
    let mut map = cache.lock().unwrap_or_else(|e| e.into_inner());
    if map.len() >= LOGNORMAL_SUMS_CAPACITY {
        map.clear();
    }
    map.insert(key, sum);
    sum
}

/// Σ_j exp(σ·z_j), pairing z_j with z_{n+1−j} = −z_j as 2·cosh(σ·z_j): half the quantile
/// evaluations, each from the lower tail where Φ⁻¹ is most accurate, and a symmetric sum.
fn lognormal_unit_sum_direct(sigma: f64, n: u64) -> f64 {
    let count = n as f64;
    let mut sum = Sum::default();
    for j in 1..=n / 2 {
        sum.add(2.0 * (sigma * normal_quantile((j as f64 - 0.5) / count)).cosh());
    }
    if n % 2 == 1 {
        // The middle point is the median: z = 0.
        sum.add(1.0);
    }
    sum.total()
}

/// 1/√π.
const FRAC_1_SQRT_PI: f64 = 0.5 * FRAC_2_SQRT_PI;

/// 1/√(2π), the standard normal density at 0.
const FRAC_1_SQRT_2PI: f64 = FRAC_1_SQRT_2 * FRAC_1_SQRT_PI;

/// Beyond this |z|, Φ(−|z|) is below the smallest subnormal.
const NORMAL_TAIL_END: f64 = 40.0;

/// Φ(z), the standard normal CDF, through W. J. Cody's rational Chebyshev approximations of erf
/// and erfc ("Rational Chebyshev approximations for the error function", Math. Comp. 23, 1969;
/// the coefficients of his CALERF). Whichever tail is smaller is computed directly, never as
/// 1 minus something, so Φ(−8) ≈ 6.2e-16 keeps full relative precision; exp(−z²/2) is taken from
/// z itself, split so that the squaring is exact, rather than from the rounded z/√2.
fn normal_cdf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    let y = z.abs() * FRAC_1_SQRT_2;
    if y <= 0.46875 {
        return 0.5 + 0.5 * erf_small(z * FRAC_1_SQRT_2);
    }
    let tail = if z.abs() > NORMAL_TAIL_END { 0.0 } else { 0.5 * erfc_scaled(y) * exp_minus_half_square(z) };
    if z < 0.0 {
        tail
    } else {
        1.0 - tail
    }
}

/// exp(−z²/2) for |z| ≤ [`NORMAL_TAIL_END`], accurate to a few roundings: z is split into z₀,
/// a multiple of 1/16 whose square is exact, and the rest, as in Cody's CALERF.
fn exp_minus_half_square(z: f64) -> f64 {
    let z0 = (z * 16.0).trunc() / 16.0;
    let rest = (z - z0) * (z + z0);
    (-0.5 * z0 * z0).exp() * (-0.5 * rest).exp()
}

/// erf(y) for |y| ≤ 0.46875: Cody's first interval.
// The coefficients keep the digits they were published with, to be checked against the source.
#[allow(clippy::excessive_precision)]
fn erf_small(y: f64) -> f64 {
    const A: [f64; 5] = [
        3.16112374387056560e00,
        1.13864154151050156e02,
        3.77485237685302021e02,
        3.20937758913846947e03,
        1.85777706184603153e-1,
    ];
    const B: [f64; 4] =
        [2.36012909523441209e01, 2.44024637934444173e02, 1.28261652607737228e03, 2.84423683343917062e03];
    let ysq = y * y;
    let (mut num, mut den) = (A[4] * ysq, ysq);
    for (a, b) in A[..3].iter().zip(&B[..3]) {
        num = (num + a) * ysq;
        den = (den + b) * ysq;
    }
    y * (num + A[3]) / (den + B[3])
}

/// erfc(y)·exp(y²) for y ≥ 0.46875: Cody's second interval up to 4, his third beyond.
// The coefficients keep the digits they were published with, to be checked against the source.
#[allow(clippy::excessive_precision)]
fn erfc_scaled(y: f64) -> f64 {
    const C: [f64; 9] = [
        5.64188496988670089e-1,
        8.88314979438837594e00,
        6.61191906371416295e01,
        2.98635138197400131e02,
        8.81952221241769090e02,
        1.71204761263407058e03,
        2.05107837782607147e03,
        1.23033935479799725e03,
        2.15311535474403846e-8,
    ];
    const D: [f64; 8] = [
        1.57449261107098347e01,
        1.17693950891312499e02,
        5.37181101862009858e02,
        1.62138957456669019e03,
        3.29079923573345963e03,
        4.36261909014324716e03,
        3.43936767414372164e03,
        1.23033935480374942e03,
    ];
    const P: [f64; 6] = [
        3.05326634961232344e-1,
        3.60344899949804439e-1,
        1.25781726111229246e-1,
        1.60837851487422766e-2,
        6.58749161529837803e-4,
        1.63153871373020978e-2,
    ];
    const Q: [f64; 5] = [
        2.56852019228982242e00,
        1.87295284992346047e00,
        5.27905102951428412e-1,
        6.05183413124413191e-2,
        2.33520497626869185e-3,
    ];
    if y <= 4.0 {
        let (mut num, mut den) = (C[8] * y, y);
        for (c, d) in C[..7].iter().zip(&D[..7]) {
            num = (num + c) * y;
            den = (den + d) * y;
        }
        (num + C[7]) / (den + D[7])
    } else {
        let ysq = 1.0 / (y * y);
        let (mut num, mut den) = (P[5] * ysq, ysq);
        for (p, q) in P[..4].iter().zip(&Q[..4]) {
            num = (num + p) * ysq;
            den = (den + q) * ysq;
        }
        (FRAC_1_SQRT_PI - ysq * (num + P[4]) / (den + Q[4])) / y
    }
}

/// Φ⁻¹(p), the standard normal quantile function: ±∞ at 1 and 0, NaN for NaN. Computed from the
/// lower tail only (1 − p is exact for p ≥ ½), so Φ⁻¹(1 − p) = −Φ⁻¹(p) exactly where 1 − p is
/// representable.
fn normal_quantile(p: f64) -> f64 {
    if p.is_nan() {
        f64::NAN
    } else if p <= 0.0 {
        f64::NEG_INFINITY
    } else if p >= 1.0 {
        f64::INFINITY
    } else if p > 0.5 {
        -normal_quantile_lower(1.0 - p)
    } else {
        normal_quantile_lower(p)
    }
}

/// Φ⁻¹(q) for 0 < q ≤ ½: Peter J. Acklam's rational approximation (relative error below 1.2e-9),
/// refined by one step of Halley's method on [`normal_cdf`], which leaves the error at that of Φ.
// The coefficients keep the digits they were published with, to be checked against the source.
#[allow(clippy::excessive_precision)]
fn normal_quantile_lower(q: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969683028665376e+01,
        2.209460984245205e+02,
        -2.759285104469687e+02,
        1.383577518672690e+02,
        -3.066479806614716e+01,
        2.506628277459239e+00,
    ];
    const B: [f64; 5] = [
        -5.447609879822406e+01,
        1.615858368580409e+02,
        -1.556989798598866e+02,
        6.680131188771972e+01,
        -1.328068155288572e+01,
    ];
    const C: [f64; 6] = [
        -7.784894002430293e-03,
        -3.223964580411365e-01,
        -2.400758277161838e+00,
        -2.549732539343734e+00,
        4.374664141464968e+00,
        2.938163982698783e+00,
    ];
    const D: [f64; 4] = [7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00];
    let x = if q < 0.02425 {
        let t = (-2.0 * q.ln()).sqrt();
        (((((C[0] * t + C[1]) * t + C[2]) * t + C[3]) * t + C[4]) * t + C[5])
            / ((((D[0] * t + D[1]) * t + D[2]) * t + D[3]) * t + 1.0)
    } else {
        let r = q - 0.5;
        let t = r * r;
        r * (((((A[0] * t + A[1]) * t + A[2]) * t + A[3]) * t + A[4]) * t + A[5])
            / (((((B[0] * t + B[1]) * t + B[2]) * t + B[3]) * t + B[4]) * t + 1.0)
    };
    let density = FRAC_1_SQRT_2PI * exp_minus_half_square(x);
    // Below q ≈ 1e-306 the density is subnormal and the step would add error, not remove it.
    if density < f64::MIN_POSITIVE {
        return x;
    }
    let u = (normal_cdf(x) - q) / density;
    x - u / (1.0 + 0.5 * x * u)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check_close(actual: f64, expected: f64, tolerance: f64) {
        let error = if expected == 0.0 { actual.abs() } else { ((actual - expected) / expected).abs() };
        assert!(error <= tolerance, "got {actual:e}, expected {expected:e}: relative error {error:e} > {tolerance:e}");
    }

    #[test]
    fn phi_matches_reference_values() {
        // References from mpmath at 40 digits.
        for (z, phi) in [
            (-38.0, 2.885_428_35e-316),
            (-37.5, 4.605_353_009_581_955e-308),
            (-30.0, 4.906_713_927_148_187e-198),
            (-20.0, 2.753_624_118_606_233_7e-89),
            (-10.0, 7.619_853_024_160_525e-24),
            (-8.0, 6.22096057427178e-16),
            (-5.0, 2.866_515_718_791_939e-7),
            (-3.0, 0.001_349_898_031_630_094_6),
            (-1.0, 0.15865525393145707),
            (-0.5, 0.308_537_538_725_986_9),
            (-1e-10, 0.499_999_999_960_105_75),
            (0.0, 0.5),
            (0.3, 0.617_911_422_188_952_7),
            (1.0, 0.841_344_746_068_542_9),
            (1.959963984540054, 0.975),
            (3.0, 0.998_650_101_968_369_9),
            (8.0, 0.999_999_999_999_999_3),
        ] {
            // Subnormal results carry fewer digits.
            let tolerance = if phi < f64::MIN_POSITIVE { 1e-6 } else { 1e-15 };
            check_close(normal_cdf(z), phi, tolerance);
        }
        assert_eq!(normal_cdf(-41.0), 0.0);
        assert_eq!(normal_cdf(f64::NEG_INFINITY), 0.0);
        assert_eq!(normal_cdf(f64::INFINITY), 1.0);
        assert!(normal_cdf(f64::NAN).is_nan());
    }

    #[test]
    fn phi_inverse_matches_reference_values() {
        for (p, z) in [
            (1e-300, -37.047_096_299_361_2),
            (1e-200, -30.205_594_179_579_64),
            (1e-100, -21.273_453_560_965_326),
            (1e-50, -14.933_337_534_788_489),
            (1e-20, -9.262_340_089_798_407),
            (1e-10, -6.361340902404056),
            (1e-5, -4.264_890_793_922_825),
            (0.001, -3.090_232_306_167_813_6),
            (0.02425, -1.972_961_051_311_885),
            (0.1, -1.281_551_565_544_600_4),
            (0.3, -0.524_400_512_708_040_8),
            (0.5, 0.0),
            (0.6, 0.253_347_103_135_799_7),
            (0.975, 1.959963984540054),
            (0.99, 2.326_347_874_040_840_8),
            (0.999999, 4.753_424_308_817_087),
            (1.0 - 1e-16, 8.209_536_151_601_387),
        ] {
            let error = (normal_quantile(p) - z).abs();
            assert!(error <= 1e-14, "Φ⁻¹({p:e}) = {}, expected {z}: error {error:e}", normal_quantile(p));
        }
        assert_eq!(normal_quantile(0.0), f64::NEG_INFINITY);
        assert_eq!(normal_quantile(1.0), f64::INFINITY);
        assert!(normal_quantile(f64::NAN).is_nan());
        // Tiny and subnormal probabilities still give finite, ordered answers.
        let (a, b) = (normal_quantile(1e-310), normal_quantile(f64::from_bits(1)));
        assert!(a.is_finite() && b.is_finite() && b < a && a < normal_quantile(1e-300), "{a} {b}");
    }

    /// A few lines of SplitMix64 for random inputs: a leaf may not use its sibling `splitmix`.
    struct Draws(u64);

    impl Draws {
        fn u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }

        /// Uniform in [lo, hi).
        fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * ((self.u64() >> 11) as f64 / (1u64 << 53) as f64)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.u64() % n
        }
    }

    /// A distribution of each family with random parameters, and its scale (for tolerances).
    fn random_distribution(draws: &mut Draws, family: u64) -> (Distribution, f64) {
        match family {
            0 => (Distribution::Constant, 0.0),
            1 => (Distribution::Exponential, 0.0),
            2 => {
                let sd = draws.uniform(0.001, 50.0);
                (Distribution::Normal { sd }, sd)
            }
            3 => {
                let width = draws.uniform(0.001, 50.0);
                (Distribution::Uniform { width }, width)
            }
            _ => (Distribution::Lognormal { sigma: draws.uniform(0.01, 3.0) }, 0.0),
        }
    }

    fn brute_count(d: &Distribution, loc: f64, n: u64, x: f64) -> u64 {
        (1..=n).filter(|&j| d.observation(loc, n, j) <= x).count() as u64
    }

    fn brute_sum(d: &Distribution, loc: f64, n: u64) -> (f64, f64) {
        let (mut sum, mut magnitude) = (Sum::default(), 0.0);
        for j in 1..=n {
            let v = d.observation(loc, n, j);
            sum.add(v);
            magnitude += v.abs();
        }
        (sum.total(), magnitude)
    }

    #[test]
    fn count_at_most_counts_the_observations() {
        let mut draws = Draws(14);
        let (mut checked, mut ties) = (0, 0);
        for family in 0..5 {
            for _ in 0..300 {
                let (d, spread) = random_distribution(&mut draws, family);
                let loc = if draws.below(10) == 0 { -draws.uniform(0.0, 10.0) } else { draws.uniform(0.0, 100.0) };
                let n = draws.below(2001);
                let observations: Vec<f64> = (1..=n).map(|j| d.observation(loc, n, j)).collect();
                for _ in 0..8 {
                    // Around the observations, on them, and just beside them.
                    let x = match (draws.below(3), observations.is_empty()) {
                        (0, _) | (_, true) => loc + draws.uniform(-3.0, 3.0) * (spread + loc.abs() + 1.0),
                        (1, false) => observations[draws.below(n) as usize],
                        _ => observations[draws.below(n) as usize] * (1.0 + draws.uniform(-1e-9, 1e-9)),
                    };
                    let tolerance = 1e-12 * (x.abs() + loc.abs() + spread);
                    if observations.iter().any(|&v| (v - x).abs() <= tolerance) {
                        ties += 1;
                        continue;
                    }
                    checked += 1;
                    assert_eq!(
                        d.count_at_most(loc, n, x),
                        brute_count(&d, loc, n, x),
                        "{d:?} loc {loc} n {n} x {x} cdf {}",
                        d.cdf(loc, x)
                    );
                }
            }
        }
        // A third of the bounds are observations themselves, so ties; the rest must be compared.
        assert!(checked > ties, "{checked} checked, {ties} ties");
    }

    #[test]
    fn sum_adds_the_observations() {
        let mut draws = Draws(15);
        for family in 0..5 {
            for _ in 0..100 {
                let (d, _) = random_distribution(&mut draws, family);
                let loc = if draws.below(10) == 0 { -draws.uniform(0.0, 10.0) } else { draws.uniform(0.0, 100.0) };
                let n = draws.below(2001);
                let (expected, magnitude) = brute_sum(&d, loc, n);
                let error = (d.sum(loc, n) - expected).abs();
                assert!(error <= 1e-9 * magnitude, "{d:?} loc {loc} n {n}: {} vs {expected}", d.sum(loc, n));
            }
        }
    }

    #[test]
    fn exponential_sum_matches_direct_summation_to_1e_12() {
        for n in [1, 2, 63, 64, 65, 66, 100, 999, 4096, 12_345, 1_000_000] {
            let (expected, _) = brute_sum(&Distribution::Exponential, 2.5, n);
            check_close(Distribution::Exponential.sum(2.5, n), expected, 1e-12);
        }
        // n·ln n − lnΓ(n + ½) + lnΓ(½), from mpmath at 40 digits.
        for (n, sum) in [(65, 64.654_067_426_511_26), (1000, 999.653_468_076_384_2), (1_000_000, 999_999.653_426_451_4)]
        {
            check_close(Distribution::Exponential.sum(1.0, n), sum, 1e-15);
        }
    }

    #[test]
    fn lognormal_sum_is_memoised_and_exact() {
        let d = Distribution::Lognormal { sigma: 1.25 };
        let n = 100_001;
        let (expected, _) = brute_sum(&d, 3.0, n);
        let first = d.sum(3.0, n);
        check_close(first, expected, 1e-12);
        assert_eq!(d.sum(3.0, n).to_bits(), first.to_bits());
        // Filling the cache past its capacity starts it again; answers do not change.
        for k in 0..(LOGNORMAL_SUMS_CAPACITY as u64 + 10) {
            let _ = Distribution::Lognormal { sigma: 0.5 }.sum(1.0, 40 + k);
        }
        assert_eq!(d.sum(3.0, n).to_bits(), first.to_bits());
        assert!(LOGNORMAL_SUMS.get().unwrap().lock().unwrap().len() <= LOGNORMAL_SUMS_CAPACITY);
    }

    #[test]
    fn observations_are_the_quantiles_at_the_midpoints() {
        let d = Distribution::Normal { sd: 2.0 };
        assert_eq!(d.observation(10.0, 4, 1), d.quantile(10.0, 0.125));
        assert_eq!(d.observation(10.0, 4, 4), d.quantile(10.0, 0.875));
        check_close(d.observation(10.0, 4, 1) + d.observation(10.0, 4, 4), 20.0, 1e-15);
        // Out-of-range j is clamped; no observations, no value.
        assert_eq!(d.observation(10.0, 4, 0), d.observation(10.0, 4, 1));
        assert_eq!(d.observation(10.0, 4, 9), d.observation(10.0, 4, 4));
        assert!(d.observation(10.0, 0, 1).is_nan());
        assert_eq!(Distribution::Exponential.observation(2.0, 1, 1), 2.0 * 2f64.ln());
        assert_eq!(Distribution::Uniform { width: 4.0 }.observation(1.0, 2, 1), 0.0);
        assert_eq!(Distribution::Lognormal { sigma: 0.7 }.observation(5.0, 3, 2), 5.0);
        assert_eq!(Distribution::Exponential.quantile(1.0, 1.0), f64::INFINITY);
        assert_eq!(Distribution::Exponential.quantile(1.0, 0.0), 0.0);
        assert_eq!(Distribution::Uniform { width: 2.0 }.quantile(1.0, 7.0), 2.0);
        assert_eq!(Distribution::Lognormal { sigma: 1.0 }.quantile(1.0, 0.0), 0.0);
        assert!(d.quantile(1.0, f64::NAN).is_nan());
    }

    #[test]
    fn rank_quantile_is_the_nearest_rank() {
        let d = Distribution::Exponential;
        let mut draws = Draws(16);
        for _ in 0..500 {
            let n = 1 + draws.below(3000);
            let phi = draws.uniform(0.0, 1.0);
            let rank = ((phi * n as f64).ceil() as u64).max(1);
            assert_eq!(d.rank_quantile(1.5, n, phi), d.observation(1.5, n, rank), "n {n} φ {phi}");
        }
        assert_eq!(d.rank_quantile(1.0, 100, 0.07), d.observation(1.0, 100, 7));
        assert_eq!(d.rank_quantile(1.0, 100, 0.5), d.observation(1.0, 100, 50));
        assert_eq!(d.rank_quantile(1.0, 100, 0.505), d.observation(1.0, 100, 51));
        assert_eq!(d.rank_quantile(1.0, 100, 0.0), d.observation(1.0, 100, 1));
        assert_eq!(d.rank_quantile(1.0, 100, 1.0), d.observation(1.0, 100, 100));
        assert_eq!(d.rank_quantile(1.0, 100, -3.0), d.observation(1.0, 100, 1));
        assert_eq!(d.rank_quantile(1.0, 100, 3.0), d.observation(1.0, 100, 100));
        assert!(d.rank_quantile(1.0, 0, 0.5).is_nan());
        assert!(d.rank_quantile(1.0, 10, f64::NAN).is_nan());
        assert_eq!(d.rank_quantile(1.0, 1_000_000_000, 0.5), d.quantile(1.0, (5e8 - 0.5) / 1e9));
    }

    #[test]
    fn degenerate_distributions_are_constant() {
        for (d, loc) in [
            (Distribution::Constant, 3.0),
            (Distribution::Normal { sd: 0.0 }, 3.0),
            (Distribution::Normal { sd: -1.0 }, 3.0),
            (Distribution::Normal { sd: f64::NAN }, 3.0),
            (Distribution::Normal { sd: f64::INFINITY }, 3.0),
            (Distribution::Uniform { width: 0.0 }, -2.0),
            (Distribution::Lognormal { sigma: 0.0 }, 3.0),
            (Distribution::Lognormal { sigma: 1.0 }, 0.0),
            (Distribution::Lognormal { sigma: 1.0 }, -4.0),
            (Distribution::Lognormal { sigma: 1.0 }, f64::INFINITY),
            (Distribution::Exponential, 0.0),
            (Distribution::Exponential, -1.5),
            (Distribution::Exponential, f64::INFINITY),
            (Distribution::Exponential, f64::NEG_INFINITY),
        ] {
            for j in 1..=5 {
                assert_eq!(d.observation(loc, 5, j), loc, "{d:?} at {loc}");
            }
            assert_eq!(d.quantile(loc, 0.3), loc, "{d:?} at {loc}");
            // A bound of −∞ counts nothing, even observations of −∞.
            let all = if loc == f64::NEG_INFINITY { 0 } else { 5 };
            assert_eq!(d.cdf(loc, loc), all as f64 / 5.0, "{d:?} at {loc}");
            assert_eq!(d.count_at_most(loc, 5, loc), all, "{d:?} at {loc}");
            if loc.is_finite() {
                assert_eq!(d.cdf(loc, loc - 1e-9), 0.0, "{d:?} at {loc}");
                assert_eq!(d.count_at_most(loc, 5, loc - 1e-9), 0, "{d:?} at {loc}");
            }
            assert_eq!(d.sum(loc, 5), loc * 5.0, "{d:?} at {loc}");
            assert_eq!(d.rank_quantile(loc, 5, 0.9), loc, "{d:?} at {loc}");
        }
    }

    #[test]
    fn nan_and_infinite_inputs() {
        let all = [
            Distribution::Constant,
            Distribution::Exponential,
            Distribution::Normal { sd: 1.0 },
            Distribution::Uniform { width: 1.0 },
            Distribution::Lognormal { sigma: 1.0 },
        ];
        for d in all {
            // A NaN location: NaN observations, counted nowhere, a NaN sum (but 0 for none).
            assert!(d.observation(f64::NAN, 3, 2).is_nan(), "{d:?}");
            for x in [f64::NEG_INFINITY, -1.0, 0.0, 1.0, f64::INFINITY, f64::NAN] {
                assert_eq!(d.count_at_most(f64::NAN, 3, x), 0, "{d:?} x {x}");
                assert_eq!(d.cdf(f64::NAN, x), 0.0, "{d:?} x {x}");
            }
            assert!(d.sum(f64::NAN, 3).is_nan(), "{d:?}");
            assert_eq!(d.sum(f64::NAN, 0), 0.0, "{d:?}");
            // Non-finite bounds.
            assert_eq!(d.count_at_most(1.0, 7, f64::INFINITY), 7, "{d:?}");
            assert_eq!(d.count_at_most(1.0, 7, f64::NEG_INFINITY), 0, "{d:?}");
            assert_eq!(d.count_at_most(1.0, 7, f64::NAN), 0, "{d:?}");
            assert_eq!(d.count_at_most(1.0, 0, 5.0), 0, "{d:?}");
            // Huge n costs O(1) (Lognormal's sum aside).
            let huge = u64::MAX;
            assert_eq!(d.count_at_most(1.0, huge, 1e300), huge, "{d:?}");
            assert!(d.rank_quantile(1.0, huge, 0.5).is_finite(), "{d:?}");
            if d != all[4] {
                assert!(d.sum(1.0, 1_000_000_000) > 0.0, "{d:?}");
            }
        }
        // Infinite locations: the observations are infinite, and bounds count them consistently.
        let normal = Distribution::Normal { sd: 1.0 };
        assert_eq!(normal.observation(f64::INFINITY, 3, 1), f64::INFINITY);
        assert_eq!(normal.count_at_most(f64::INFINITY, 3, 1e308), 0);
        assert_eq!(normal.count_at_most(f64::NEG_INFINITY, 3, -1e308), 3);
        assert_eq!(Distribution::Uniform { width: 1.0 }.count_at_most(f64::INFINITY, 3, 1.0), 0);
    }

    #[test]
    fn every_method_is_total_on_extreme_inputs() {
        let values = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            f64::from_bits(1),
            f64::MIN_POSITIVE,
            1e-300,
            0.5,
            1.0,
            -1.0,
            1e300,
            f64::MAX,
            f64::MIN,
        ];
        for &a in &values {
            let all = [
                Distribution::Constant,
                Distribution::Exponential,
                Distribution::Normal { sd: a },
                Distribution::Uniform { width: a },
                Distribution::Lognormal { sigma: a },
            ];
            for d in all {
                for &loc in &values {
                    for &x in &values {
                        let c = d.cdf(loc, x);
                        assert!((0.0..=1.0).contains(&c), "{d:?} loc {loc} x {x}: cdf {c}");
                        assert!(d.count_at_most(loc, 10, x) <= 10);
                        let _ = (d.quantile(loc, x), d.rank_quantile(loc, 10, x));
                    }
                    let _ = (d.observation(loc, 10, 3), d.sum(loc, 10));
                }
            }
        }
    }
}
