//! Series that come and go, and noise on any shape: an entry's `active` windows (when its
//! series are served), its `churn` (series replaced by a new generation every N ticks), and its
//! `jitter` (seeded noise added to a gauge's value or a histogram's location). All three are
//! functions of the tick number alone, so what is served at any tick is known in advance.

use super::entry::Kind;
use super::json::type_name;
use crate::names::is_label_name;
use crate::splitmix::SplitMix64;
use crate::text::quoted;
use serde_json::{Map, Value};

/// `active`: the entry's series are served at tick t only when (t − 1 − offset) mod every < for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Active {
    pub every: u64,
    pub duration: u64,
    pub offset: u64,
}

impl Active {
    /// Whether the series are served at tick `t` (t ≥ 1).
    pub fn at(&self, t: u64) -> bool {
        let phase = (i128::from(t) - 1 - i128::from(self.offset)).rem_euclid(i128::from(self.every));
        phase < i128::from(self.duration)
    }
}

/// `churn`: every `every` ticks the entry's series are replaced by new ones, which carry the
/// label `label` = the generation number ⌊(t − 1)/every⌋ and start their sequences afresh.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Churn {
    pub every: u64,
    pub label: String,
}

impl Churn {
    /// The generation at tick `t` (t ≥ 1).
    pub fn generation(&self, t: u64) -> u64 {
        t.saturating_sub(1) / self.every
    }

    /// The first tick of the generation in effect at tick `t`.
    pub fn start(&self, t: u64) -> u64 {
        self.generation(t).saturating_mul(self.every).saturating_add(1)
    }
}

/// `jitter`: a seeded uniform value in [−amount, amount], different for each series and tick,
/// added to a gauge's value or to a histogram's or summary's location.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jitter {
    pub amount: f64,
    pub seed: u64,
}

impl Jitter {
    /// The jitter of series `k` at tick `t`: the first output of SplitMix64 started from the seed
    /// mixed with k and t, as a uniform value in [−amount, amount].
    pub fn at(&self, k: u64, t: u64) -> f64 {
        let mut state = SplitMix64(self.seed);
        state.jump(k.wrapping_mul(0x1_0000_0001) ^ t);
        let mut rng = SplitMix64(state.next_u64());
        self.amount * (2.0 * rng.next_01() - 1.0)
    }
}

/// The default seed of `jitter`.
const DEFAULT_JITTER_SEED: u64 = 42;

/// The lifecycle fields of one entry, read from its JSON object.
pub(super) struct Lifecycle {
    pub active: Option<Active>,
    pub churn: Option<Churn>,
    pub jitter: Option<Jitter>,
}

/// Reads `active`, `churn` and `jitter`; `labels` are the entry's own label names, which the
/// churn label may not repeat.
pub(super) fn parse_lifecycle(kind: Kind, map: &Map<String, Value>, labels: &[&str]) -> Result<Lifecycle, String> {
    let field = |name: &str, problem: String| format!("field {name:?}: {problem}");
    let optional = |name: &str| map.get(name).filter(|v| !v.is_null());
    let active = optional("active").map(|v| parse_active(v).map_err(|p| field("active", p))).transpose()?;
    let churn = optional("churn").map(|v| parse_churn(v, labels).map_err(|p| field("churn", p))).transpose()?;
    let jitter = match optional("jitter") {
        None => None,
        Some(_) if !matches!(kind, Kind::Gauge | Kind::Histogram | Kind::Summary) => {
            return Err(field(
                "jitter",
                format!(
                    "is for gauges and the location of histograms and summaries, and this entry is a {}{}",
                    kind.as_str(),
                    if kind == Kind::Counter { " (noise would make it go down)" } else { "" }
                ),
            ))
        }
        Some(v) => Some(parse_jitter(v).map_err(|p| field("jitter", p))?),
    };
    Ok(Lifecycle { active, churn, jitter })
}

/// An object with only `keys`, or why not.
fn object<'a>(v: &'a Value, example: &str, keys: &[&str]) -> Result<&'a Map<String, Value>, String> {
    let Value::Object(map) = v else {
        return Err(format!("expected an object such as {example}, got {}", type_name(v)));
    };
    if let Some(key) = map.keys().find(|k| !keys.contains(&k.as_str())) {
        let names: Vec<String> = keys.iter().map(|k| format!("{k:?}")).collect();
        return Err(format!("unknown key {} (it takes {})", quoted(key), names.join(", ")));
    }
    Ok(map)
}

/// An integer field of `map`: `default` when absent, else at least `min`.
fn integer(map: &Map<String, Value>, key: &str, default: Option<u64>, min: u64) -> Result<u64, String> {
    match (map.get(key), default) {
        (None, Some(default)) => Ok(default),
        (None, None) => Err(format!("{key:?} is missing (required)")),
        (Some(v), _) => match v.as_u64() {
            Some(n) if n >= min => Ok(n),
            _ => Err(format!("{key:?}: expected an integer ≥ {min}, got {}", type_name(v))),
        },
    }
}

fn parse_active(v: &Value) -> Result<Active, String> {
    let map = object(v, r#"{"every": 10, "for": 8}"#, &["every", "for", "offset"])?;
    let every = integer(map, "every", None, 1)?;
    let duration = integer(map, "for", None, 1)?;
    let offset = integer(map, "offset", Some(0), 0)?;
    if duration > every {
        return Err(format!(
            "\"for\" ({duration}) is longer than \"every\" ({every}): a window cannot outlast its period"
        ));
    }
    Ok(Active { every, duration, offset })
}

fn parse_churn(v: &Value, labels: &[&str]) -> Result<Churn, String> {
    let map = object(v, r#"{"every": 60}"#, &["every", "label"])?;
    let every = integer(map, "every", None, 1)?;
    let label = match map.get("label") {
        None => "generation".to_string(),
        Some(Value::String(s)) => s.clone(),
        Some(v) => return Err(format!("\"label\": expected a string, got {}", type_name(v))),
    };
    if !is_label_name(&label) || label.starts_with("__") {
        return Err(format!(
            "\"label\": {} is not a label name a config may use ([a-zA-Z_][a-zA-Z0-9_]*, not __…)",
            quoted(&label)
        ));
    }
    if labels.contains(&label.as_str()) {
        return Err(format!(
            "the generation label {} is one of the entry's labels already; name another with \"label\"",
            quoted(&label)
        ));
    }
    Ok(Churn { every, label })
}

fn parse_jitter(v: &Value) -> Result<Jitter, String> {
    let map = object(v, r#"{"amount": 2.5}"#, &["amount", "seed"])?;
    let amount = match map.get("amount") {
        None => return Err("\"amount\" is missing (required)".into()),
        Some(v) => match v.as_f64() {
            Some(a) if a >= 0.0 && a.is_finite() => a,
            _ => return Err(format!("\"amount\": expected a number ≥ 0, got {}", type_name(v))),
        },
    };
    let seed = integer(map, "seed", Some(DEFAULT_JITTER_SEED), 0)?;
    Ok(Jitter { amount, seed })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn active_windows_follow_the_formula() {
        // A gap of 2 ticks in 10.
        let gap = Active { every: 10, duration: 8, offset: 0 };
        let served: Vec<bool> = (1..=12).map(|t| gap.at(t)).collect();
        assert_eq!(served, [true, true, true, true, true, true, true, true, false, false, true, true]);
        // A burst of 3 ticks in 30, at its end: ticks 28 to 30, 58 to 60, …
        let burst = Active { every: 30, duration: 3, offset: 27 };
        let on: Vec<u64> = (1..=61).filter(|&t| burst.at(t)).collect();
        assert_eq!(on, [28, 29, 30, 58, 59, 60]);
        // An offset larger than the period wraps around (mathematical modulo).
        assert!(Active { every: 4, duration: 1, offset: 9 }.at(2));
    }

    #[test]
    fn generations_change_every_n_ticks() {
        let churn = Churn { every: 5, label: "generation".into() };
        assert_eq!([1, 5, 6, 10, 11].map(|t| churn.generation(t)), [0, 0, 1, 1, 2]);
        assert_eq!([1, 5, 6, 10, 11].map(|t| churn.start(t)), [1, 1, 6, 6, 11]);
    }

    #[test]
    fn jitter_is_bounded_reproducible_and_differs_by_series_and_tick() {
        let jitter = Jitter { amount: 2.5, seed: 7 };
        let values: Vec<f64> = (0..1000).map(|t| jitter.at(3, t)).collect();
        assert!(values.iter().all(|v| v.abs() <= 2.5));
        assert!(values.iter().any(|&v| v > 2.0) && values.iter().any(|&v| v < -2.0), "it spreads over its range");
        assert_eq!(jitter.at(3, 17), Jitter { amount: 2.5, seed: 7 }.at(3, 17));
        assert_ne!(jitter.at(3, 17), jitter.at(4, 17));
        assert_ne!(jitter.at(3, 17), jitter.at(3, 18));
        assert_ne!(jitter.at(3, 17), Jitter { amount: 2.5, seed: 8 }.at(3, 17));
    }
}
