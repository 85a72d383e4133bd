//! [`Params`]: typed access to a config entry's `params`, with errors that name the param.

use crate::text::brief;
use serde_json::{Map, Value};

/// The seed random functions use when the config gives none, so a config always gives one series.
pub const DEFAULT_SEED: u64 = 42;

/// Formats an error about one param the way [`super::Registry::build`] reports them.
pub fn param_error(name: &str, problem: &str) -> String {
    format!("param {name:?}: {problem}")
}

/// Typed, validating access to an entry's `params` object.
pub struct Params<'a> {
    pub(super) map: Option<&'a Map<String, Value>>,
}

impl<'a> Params<'a> {
    /// The raw value of a param, if given.
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.map.and_then(|m| m.get(name))
    }

    /// A number param (any JSON number), or `default` when absent.
    pub fn f64(&self, name: &str, default: f64) -> Result<f64, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| param_error(name, &format!("expected a number, got {}", brief(v)))),
        }
    }

    /// A non-negative integer param, or `default` when absent.
    pub fn u64(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => {
                v.as_u64().ok_or_else(|| param_error(name, &format!("expected an integer ≥ 0, got {}", brief(v))))
            }
        }
    }

    /// An integer param ≥ 1 (a period, a count of ticks), or `default` when absent.
    pub fn positive(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => positive(name, v),
        }
    }

    /// A required string param.
    pub fn string(&self, name: &str) -> Result<&'a str, String> {
        match self.get(name) {
            None => Err(param_error(name, "missing (required)")),
            Some(Value::String(s)) => Ok(s),
            Some(v) => Err(param_error(name, &format!("expected a string, got {}", brief(v)))),
        }
    }

    /// A required, non-empty array of finite numbers.
    pub fn numbers(&self, name: &str) -> Result<Vec<f64>, String> {
        let items = match self.get(name) {
            None => return Err(param_error(name, "missing (required)")),
            Some(Value::Array(items)) if !items.is_empty() => items,
            Some(v) => {
                return Err(param_error(name, &format!("expected a non-empty array of numbers, got {}", brief(v))))
            }
        };
        let number = |(index, v): (usize, &Value)| {
            v.as_f64()
                .filter(|x| x.is_finite())
                .ok_or_else(|| param_error(name, &format!("item {index}: expected a number, got {}", brief(v))))
        };
        items.iter().enumerate().map(number).collect()
    }

    /// How long each of `count` values is held: one integer ≥ 1 for all of them, or an array of
    /// `count` such integers; `default` for all when absent.
    pub fn holds(&self, name: &str, count: usize, default: u64) -> Result<Vec<u64>, String> {
        match self.get(name) {
            None => Ok(vec![default; count]),
            Some(Value::Array(items)) if items.len() == count => items
                .iter()
                .enumerate()
                .map(|(index, v)| {
                    positive(name, v).map_err(|_| {
                        param_error(name, &format!("item {index}: expected an integer ≥ 1, got {}", brief(v)))
                    })
                })
                .collect(),
            Some(Value::Array(items)) => Err(param_error(
                name,
                &format!(
                    "has {} items but there are {count} values; give one per value, or one integer for all",
                    items.len()
                ),
            )),
            Some(v) => Ok(vec![positive(name, v)?; count]),
        }
    }

    /// The `min` and `max` params of a bounded function, checked to form a range whose width is a
    /// finite number.
    pub fn range(&self, default_min: f64, default_max: f64) -> Result<(f64, f64), String> {
        let min = self.f64("min", default_min)?;
        let max = self.f64("max", default_max)?;
        if min > max {
            return Err(param_error("max", &format!("must be ≥ min ({}), got {}", show(min), show(max))));
        }
        if !(max - min).is_finite() {
            return Err(param_error(
                "max",
                &format!("max − min must be a finite number; {} − {} is not", show(max), show(min)),
            ));
        }
        Ok((min, max))
    }
}

/// A number as a message shows it: `5`, `0.25`, and `1e308` rather than its 309 digits.
pub(super) fn show(x: f64) -> String {
    let plain = x.to_string();
    if plain.len() > 20 {
        format!("{x:e}")
    } else {
        plain
    }
}

/// Checks that `v`, the value of param `name`, is an integer ≥ 1.
pub(super) fn positive(name: &str, v: &Value) -> Result<u64, String> {
    v.as_u64()
        .filter(|&x| x >= 1)
        .ok_or_else(|| param_error(name, &format!("expected an integer ≥ 1, got {}", brief(v))))
}
