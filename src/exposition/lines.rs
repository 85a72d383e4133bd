//! The sample lines of a series: one for a gauge, a counter or an info metric; a histogram's
//! buckets, sum and count; a summary's quantiles, sum and count; a stateset's one line per state.
//! The catalog, the exports, the preview and `/api/v1/expected` all take a series' lines, and
//! their values, from here.

use super::escape::{go_float, openmetrics_float};
use super::Format;
use crate::config::{state_index, Entry, Kind};

/// Where a line's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineValue {
    /// The function's value at this tick (gauges, counters).
    Value,
    /// Value number `offset` of the series' accumulated observations (histograms, summaries).
    Observed(usize),
    /// Always 1 (info).
    One,
    /// 1 when the function's value picks state number `state`, else 0 (statesets).
    State(usize),
}

/// One sample line of each series of an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The sample name: `x`, `x_total`, `x_info`, `x_bucket`, `x_sum`, `x_count`.
    pub name: String,
    /// The label the type adds after the series' own: `le`, `quantile`, or the stateset's name,
    /// with its value as `format` writes it (unescaped).
    pub label: Option<(String, String)>,
    pub value: LineValue,
}

impl Line {
    /// The line's value for a series whose function gives `value` and whose accumulated
    /// observations are `observed` (empty for types without).
    pub fn value_of(&self, entry: &Entry, value: f64, observed: &[f64]) -> f64 {
        match self.value {
            LineValue::Value => value,
            LineValue::Observed(offset) => observed[offset],
            LineValue::One => 1.0,
            LineValue::State(state) => f64::from(u8::from(state_index(value, entry.states.len()) == state)),
        }
    }
}

/// The sample lines of each series of `entry`, in the order they are served in `format`
/// (`le` and `quantile` are written differently in the two formats).
pub fn lines(entry: &Entry, format: Format) -> Vec<Line> {
    let sample = entry.sample_name();
    let point = |v: f64| match format {
        Format::Text | Format::Protobuf => go_float(v),
        Format::OpenMetrics => openmetrics_float(v),
    };
    let line = |suffix: &str, label: Option<(&str, String)>, value| Line {
        name: format!("{sample}{suffix}"),
        label: label.map(|(name, text)| (name.to_string(), text)),
        value,
    };
    match (entry.kind, &entry.observe) {
        (Kind::Histogram, Some(observe)) => {
            let mut out: Vec<Line> = observe
                .points
                .iter()
                .enumerate()
                .map(|(b, &le)| line("_bucket", Some(("le", point(le))), LineValue::Observed(b)))
                .collect();
            let lines = observe.line_count();
            out.push(line("_bucket", Some(("le", "+Inf".into())), LineValue::Observed(observe.line_offset(lines - 3))));
            out.push(line("_sum", None, LineValue::Observed(observe.line_offset(lines - 2))));
            out.push(line("_count", None, LineValue::Observed(observe.line_offset(lines - 1))));
            out
        }
        (Kind::Summary, Some(observe)) => {
            let mut out: Vec<Line> = observe
                .points
                .iter()
                .enumerate()
                .map(|(q, &phi)| line("", Some(("quantile", point(phi))), LineValue::Observed(q)))
                .collect();
            let lines = observe.line_count();
            out.push(line("_sum", None, LineValue::Observed(observe.line_offset(lines - 2))));
            out.push(line("_count", None, LineValue::Observed(observe.line_offset(lines - 1))));
            out
        }
        (Kind::Info, _) => vec![line("", None, LineValue::One)],
        (Kind::Stateset, _) => entry
            .states
            .iter()
            .enumerate()
            .map(|(s, state)| line("", Some((entry.full_name.as_str(), state.clone())), LineValue::State(s)))
            .collect(),
        _ => vec![line("", None, LineValue::Value)],
    }
}
