//! The landing page, `/`: links to the endpoints and a table of the configured entries, each
//! with a chart of its first series around the current tick (`crate::chart`).
//!
//! The page is drawn once per snapshot ([`Snapshot::page`]), so once per tick however many
//! people look, and draws at most [`DRAWN`] entries. It is plain HTML with inline SVG: no script,
//! font, image or request to anything but the exporter, so it works in an air-gapped cluster and
//! under the strict [`CONTENT_SECURITY_POLICY`] it is sent with.

use crate::chart::{self, escape, Window, AFTER, BEFORE};
use crate::engine::{Budget, Snapshot, FAST_FORWARD_BUDGET};
use crate::exposition::{format_value, lines, Format};
use std::fmt::Write as _;

/// The most entries the page lists and draws: a config of thousands of entries would make a page
/// of megabytes that takes seconds to draw; the page says how many more there are.
pub const DRAWN: usize = 50;

/// The landing page's `Content-Security-Policy`: nothing may be loaded, not even from the
/// exporter, and no script runs; only the page's own inline style applies (the charts are inline
/// SVG, which needs no source).
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The page's own style: layout only (the charts carry their own presentation attributes).
const STYLE: &str = "body{font-family:sans-serif;margin:1em 2em;color:#222}\
                     table{border-collapse:collapse}\
                     th,td{padding:4px 8px;border-bottom:1px solid #ccc;text-align:left;vertical-align:middle}\
                     td.chart{padding:2px}";

/// The landing page of `snapshot`, as [`Snapshot::page`] keeps it.
pub fn page(snapshot: &Snapshot) -> Vec<u8> {
    let entries = &snapshot.config.entries;
    let now = snapshot.ticks;
    let mut rows = String::new();
    let (mut floats, mut ints) = (ryu::Buffer::new(), itoa::Buffer::new());
    // Replaying every chart's series to its window shares one fast-forward budget: a page costs
    // at most what one fast-forward may (a quarter of a second or so), whatever the config.
    let mut budget = Budget::new(FAST_FORWARD_BUDGET);
    let mut index = 0;
    for (n, entry) in entries.iter().enumerate().take(DRAWN) {
        // Series of an entry with values of their own show the first one's (the first this shard
        // serves); an entry with none in this shard has no value (and its chart says so).
        let value = match entry.served.count {
            0 => "–",
            _ => format_value(snapshot.values[index], &mut floats, &mut ints),
        };
        let chart = chart::chart(entry, snapshot.starts[n], Window::around(now), &format!("c{n}"), &mut budget);
        index += entry.value_count() as usize;
        // Writing into a String cannot fail.
        let _ = writeln!(
            rows,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"chart\">{chart}</td></tr>",
            escape(&entry.describe_series()),
            entry.served.count,
            entry.kind.as_str(),
            escape(&entry.function),
            value,
        );
    }
    let more = match entries.len().saturating_sub(DRAWN) {
        0 => String::new(),
        more => format!(
            "<p>{more} more entries are not shown: the page draws the first {DRAWN} of {}. /metrics serves them all, \
             and /api/v1/expected gives any series' values.</p>\n",
            entries.len()
        ),
    };
    let page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>metrics-generator</title>\
         <style>{STYLE}</style></head>\n<body>\n\
         <h1>metrics-generator</h1>\n<p><a href=\"/metrics\">/metrics</a> · <a href=\"/health\">/health</a> · \
         <a href=\"/-/healthy\">/-/healthy</a> · <a href=\"/-/ready\">/-/ready</a> · \
         <a href=\"/api/v1/expected?metric={expected}\">/api/v1/expected</a></p>\n\
         <p>{} series from {}, tick {now}.</p>\n\
         <p>Each chart shows an entry's first series over the last {BEFORE} ticks, now and the next {AFTER}: \
         what was served up to the line marked now, and, shaded, what will be. Histograms and summaries show \
         the p50 (solid line), p90 (dashed) and p99 (dotted) of each tick's observations; a stateset its current \
         state; a gap, ticks at which the series is not served; a dotted vertical line, a new generation of a \
         churning entry.</p>\n\
         <table>\n<tr><th>metric</th><th>series</th><th>type</th><th>function</th><th>value</th>\
         <th>now−{BEFORE} to now+{AFTER}</th></tr>\n{rows}</table>\n{more}</body></html>\n",
        snapshot.config.served(),
        escape(&snapshot.config.source),
        // The first series' first sample line: a link that answers, rather than a 400 for the
        // missing `metric`. Sample names are `[a-zA-Z0-9_:]`, which need no escaping in a URL.
        expected = entries.first().map_or(String::new(), |e| lines(e, Format::Text)[0].name.clone()),
    );
    page.into_bytes()
}
