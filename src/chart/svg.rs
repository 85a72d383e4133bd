//! Drawing a [`Plot`] as SVG: a frame, the value range and the window's ticks as text, one
//! polyline per run of ticks with values (a gap where there are none), generation changes and
//! the current tick as vertical lines. Everything is drawn with presentation attributes and a
//! generic font family, so one chart is a document of its own (a picture in the docs) and needs
//! no style sheet, font or script (the landing page's Content-Security-Policy allows none).
//! Lines differ by dash pattern as well as colour, and each chart has a text alternative.

use super::{plot, Plot, Window, AFTER, BEFORE, QUANTILES};
use crate::config::{Config, Entry, Kind};
use crate::engine::Budget;
use crate::exposition::format_value;
use std::borrow::Cow;
use std::fmt::Write as _;

/// A chart's size, in pixels.
pub const WIDTH: f64 = 360.0;
pub const HEIGHT: f64 = 120.0;
/// The plot area's margins: room for the value range on the left, the legend above and the
/// ticks below.
const LEFT: f64 = 60.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 18.0;
const BOTTOM: f64 = 16.0;
/// The most state names a stateset's chart writes beside its axis; beyond, the first and last.
const STATE_NAMES: usize = 8;

/// Each trace's stroke: (name, colour, dash pattern). Dashes tell the quantiles apart without
/// colour.
pub const TRACE_STYLES: [(&str, &str, &str); 5] = [
    ("value", "#1f5fa8", ""),
    ("state", "#1f5fa8", ""),
    ("p50", "#1f5fa8", ""),
    ("p90", "#b3401a", "6 3"),
    ("p99", "#2a7a2a", "1.5 2.5"),
];

/// `s` with `&`, `<`, `>` and `"` escaped, for HTML and SVG text and attributes.
pub fn escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['&', '<', '>', '"']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// The chart of `entry` (first tick `start`) over `window`, as an `<svg>` element whose ids begin
/// with `id`; a chart that would take more than `budget` to replay says so instead.
pub fn chart(entry: &Entry, start: u64, window: Window, id: &str, budget: &mut Budget) -> String {
    if entry.served.count == 0 {
        // With `--shard`, an entry whose series all belong to other shards: nothing to draw.
        let title = format!("{}: no series in this shard", entry.describe_series());
        return placeholder(entry, id, &title, "no series in this shard");
    }
    match plot(entry, start, window, budget) {
        Ok(plot) => draw(entry, &plot, id),
        Err(_) => {
            let title = format!(
                "{}: not drawn, as replaying it to tick {} would take too long (see /api/v1/expected)",
                entry.series_name(entry.served.k(0)),
                window.first
            );
            placeholder(entry, id, &title, "not drawn: too long to replay")
        }
    }
}

/// A chart's frame with `text` in its middle instead of a plot.
fn placeholder(entry: &Entry, id: &str, title: &str, text: &str) -> String {
    let mut out = open(entry, id, title);
    let _ =
        write!(out, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{text}</text></svg>", WIDTH / 2.0, HEIGHT / 2.0);
    out
}

/// The `<svg>` start tag and title of a chart.
fn open(entry: &Entry, id: &str, title: &str) -> String {
    let mut out = String::with_capacity(4096);
    // Writing into a String cannot fail (here and below).
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-entry=\"{}\" width=\"{WIDTH}\" \
         height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-labelledby=\"{id}-title\" \
         font-family=\"sans-serif\" font-size=\"10\" fill=\"#222\">\
         <title id=\"{id}-title\">{}</title>",
        escape(&entry.sample_name()),
        escape(title),
    );
    out
}

/// The text alternative: the entry's first series and what it shows at the current tick (the
/// last one for a window without one).
fn title(entry: &Entry, plot: &Plot) -> String {
    let window = plot.window;
    let t = window.now.unwrap_or(window.last);
    let slot = (t - window.first) as usize;
    // The first series this process serves: series 0, or with `--shard` the shard's first.
    let mut title = entry.series_name(entry.served.k(0));
    if entry.served.count > 1 {
        let _ = write!(title, " (the first of {} series)", entry.served.count);
    }
    let (mut floats, mut ints) = (ryu::Buffer::new(), itoa::Buffer::new());
    let shown: Vec<String> = plot
        .traces
        .iter()
        .filter_map(|trace| {
            let v = trace.points[slot]?;
            Some(match trace.name {
                "value" => format_value(v, &mut floats, &mut ints).to_string(),
                "state" => format!("state {}", entry.states[v as usize]),
                quantile => format!("{quantile} {}", short(v)),
            })
        })
        .collect();
    if shown.is_empty() {
        let _ = write!(title, ": not served at tick {t}");
    } else {
        let _ = write!(title, ": {} at tick {t}", shown.join(", "));
    }
    let _ = write!(title, " ({}, {})", entry.kind.as_str(), entry.function);
    title
}

/// Draws `plot` of `entry`.
fn draw(entry: &Entry, plot: &Plot, id: &str) -> String {
    let mut out = open(entry, id, &title(entry, plot));
    let (width, height) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
    let window = plot.window;
    let x = |t: u64| LEFT + window.position(t) * width;
    let _ = write!(
        out,
        "<rect x=\"{LEFT}\" y=\"{TOP}\" width=\"{width}\" height=\"{height}\" fill=\"#fff\" stroke=\"#999\"/>"
    );
    if let Some(now) = window.now {
        // What is to come, shaded: it is known, but has not been served yet.
        let from = x(now);
        let _ = write!(
            out,
            "<rect class=\"future\" x=\"{from:.1}\" y=\"{TOP}\" width=\"{:.1}\" height=\"{height}\" fill=\"#eee\"/>",
            LEFT + width - from
        );
    }

    // The value range: the states of a stateset, else the values in the window.
    let states = entry.kind == Kind::Stateset;
    let (lo, hi) = if states {
        (0.0, entry.states.len().saturating_sub(1) as f64)
    } else {
        let values = plot.traces.iter().flat_map(|t| t.points.iter().flatten().copied());
        values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
    };
    let (lo, hi) = match (lo.is_finite(), lo < hi) {
        (false, _) => (0.0, 1.0),
        (true, true) => (lo, hi),
        // A flat line sits in the middle.
        (true, false) => (lo - 1.0, hi + 1.0),
    };
    let y = |v: f64| TOP + height - (v - lo) / (hi - lo) * height;

    // The axes' text.
    let label = |out: &mut String, at: f64, text: &str| {
        let _ =
            write!(out, "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>", LEFT - 4.0, at + 3.5, escape(text));
    };
    if states {
        let count = entry.states.len();
        for (k, name) in entry.states.iter().enumerate() {
            if count <= STATE_NAMES || k == 0 || k == count - 1 {
                label(&mut out, y(k as f64), &shorten(name));
            }
        }
    } else if plot.traces.iter().any(|t| t.points.iter().any(Option::is_some)) {
        label(&mut out, y(hi), &short(hi));
        label(&mut out, y(lo), &short(lo));
    }
    let bottom = HEIGHT - 4.0;
    // The window's edges: relative to the current tick when it has one (the left edge may be
    // before tick 1), else the ticks themselves.
    let (left, right) = match window.now {
        Some(_) => (format!("now−{BEFORE}"), format!("now+{AFTER}")),
        None => (format!("tick {}", window.first), format!("tick {}", window.last)),
    };
    let _ = write!(out, "<text x=\"{LEFT}\" y=\"{bottom}\">{left}</text>");
    let _ = write!(out, "<text x=\"{}\" y=\"{bottom}\" text-anchor=\"end\">{right}</text>", WIDTH - RIGHT);

    for &t in &plot.generations {
        let _ = write!(
            out,
            "<line class=\"generation\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{TOP}\" y2=\"{1}\" stroke=\"#777\" \
             stroke-dasharray=\"1 2\"/>",
            x(t),
            TOP + height
        );
    }
    if let Some(now) = window.now {
        let _ = write!(
            out,
            "<line class=\"now\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"{TOP}\" y2=\"{1}\" stroke=\"#000\"/>\
             <text x=\"{0:.1}\" y=\"{bottom}\" text-anchor=\"middle\">now</text>",
            x(now),
            TOP + height
        );
    }

    for trace in &plot.traces {
        let (_, colour, dashes) =
            TRACE_STYLES.iter().find(|(name, ..)| *name == trace.name).copied().unwrap_or(TRACE_STYLES[0]);
        let dash = if dashes.is_empty() { String::new() } else { format!(" stroke-dasharray=\"{dashes}\"") };
        // A stateset's value holds from one tick to the next: a step line.
        let step = if states { width / (window.right - window.left).max(1.0) / 2.0 } else { 0.0 };
        let mut run: Vec<(f64, f64)> = Vec::new();
        let flush = |run: &mut Vec<(f64, f64)>, out: &mut String| {
            match run.len() {
                0 => {}
                // A single tick with a value between gaps: a dot.
                1 if step == 0.0 => {
                    let _ = write!(
                        out,
                        "<circle class=\"trace\" data-trace=\"{}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"1.5\" fill=\"{colour}\"/>",
                        trace.name, run[0].0, run[0].1
                    );
                }
                _ => {
                    let _ = write!(
                        out,
                        "<polyline class=\"trace\" data-trace=\"{}\" fill=\"none\" stroke=\"{colour}\" \
                         stroke-width=\"1.5\"{dash} points=\"",
                        trace.name
                    );
                    for (k, (px, py)) in run.iter().enumerate() {
                        let gap = if k == 0 { "" } else { " " };
                        if step > 0.0 {
                            let _ = write!(out, "{gap}{:.1},{py:.1} {:.1},{py:.1}", px - step, px + step);
                        } else {
                            let _ = write!(out, "{gap}{px:.1},{py:.1}");
                        }
                    }
                    out.push_str("\"/>");
                }
            }
            run.clear();
        };
        for (k, point) in trace.points.iter().enumerate() {
            match point {
                Some(v) => run.push((x(window.first + k as u64), y(*v))),
                None => flush(&mut run, &mut out),
            }
        }
        flush(&mut run, &mut out);
    }

    // The legend, when there is more than one line to tell apart.
    if plot.traces.len() > 1 {
        let mut at = LEFT;
        for (name, colour, dashes) in QUANTILES.iter().filter_map(|(_, q)| TRACE_STYLES.iter().find(|s| s.0 == *q)) {
            let _ = write!(
                out,
                "<line x1=\"{at}\" x2=\"{}\" y1=\"9\" y2=\"9\" stroke=\"{colour}\" stroke-width=\"1.5\" \
                 stroke-dasharray=\"{dashes}\"/><text x=\"{}\" y=\"12.5\">{name}</text>",
                at + 18.0,
                at + 21.0
            );
            at += 48.0;
        }
    }
    if plot.traces.iter().all(|t| t.points.iter().all(Option::is_none)) {
        let _ = write!(
            out,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">not served in this window</text>",
            LEFT + width / 2.0,
            TOP + height / 2.0 + 3.5
        );
    }
    out.push_str("</svg>");
    out
}

/// `v` in at most four significant digits, for the axes and the quantiles in titles.
pub(super) fn short(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 || !v.is_finite() {
        let (mut floats, mut ints) = (ryu::Buffer::new(), itoa::Buffer::new());
        return format_value(v, &mut floats, &mut ints).to_string();
    }
    if (1e-3..1e6).contains(&a) {
        let decimals = (3 - a.log10().floor() as i32).clamp(0, 6) as usize;
        let text = format!("{v:.decimals$}");
        if text.contains('.') {
            return text.trim_end_matches('0').trim_end_matches('.').to_string();
        }
        text
    } else {
        format!("{v:.3e}")
    }
}

/// A state name cut to 9 characters, so that it fits beside the plot.
fn shorten(name: &str) -> Cow<'_, str> {
    if name.chars().count() <= 9 {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(name.chars().take(8).chain(['…']).collect())
    }
}

/// Ticks 1 to `ticks` of every entry of `config`, as one SVG document: the charts one under the
/// other, each under its entry's name.
pub fn document(config: &Config, ticks: u64) -> String {
    const ROW: f64 = HEIGHT + 16.0;
    let mut out = String::new();
    let height = ROW * config.entries.len() as f64;
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{height}\" \
         viewBox=\"0 0 {WIDTH} {height}\" font-family=\"sans-serif\" font-size=\"11\" fill=\"#222\">\n\
         <title>{}: ticks 1 to {ticks}</title>\n",
        escape(&config.source)
    );
    for (index, entry) in config.entries.iter().enumerate() {
        let top = ROW * index as f64;
        let _ = writeln!(out, "<text x=\"0\" y=\"{}\">{}</text>", top + 12.0, escape(&entry.describe_series()));
        let chart = chart(entry, 1, Window::ticks(1, ticks), &format!("c{index}"), &mut Budget::new(u64::MAX));
        // The chart, moved down to its row.
        let _ = writeln!(out, "<g transform=\"translate(0 {})\">{chart}</g>", top + 16.0);
    }
    out.push_str("</svg>\n");
    out
}

/// Ticks 1 to `ticks` of every entry of `config`, one SVG document each, with a file name for
/// each: the entry's name, and its index in the config where an earlier entry has that name.
pub fn pictures(config: &Config, ticks: u64) -> Vec<(String, String)> {
    let mut seen = std::collections::HashSet::new();
    config
        .entries
        .iter()
        .enumerate()
        .map(|(index, entry)| {
            let name = if seen.insert(entry.name.as_str()) {
                format!("{}.svg", entry.name)
            } else {
                format!("{}-{index}.svg", entry.name)
            };
            let chart = chart(entry, 1, Window::ticks(1, ticks), "c", &mut Budget::new(u64::MAX));
            (name, format!("{chart}\n"))
        })
        .collect()
}
