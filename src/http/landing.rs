//! The landing page, `/`: links to the endpoints and a table of the configured entries.

use crate::engine::Snapshot;
use crate::exposition::{format_value, lines, Format};

/// The landing page: links to the endpoints and a table of the configured entries, each with its
/// series count, type, function and current value (that of its first series).
pub(super) fn page(snapshot: &Snapshot) -> String {
    let mut rows = String::new();
    let (mut floats, mut ints) = (ryu::Buffer::new(), itoa::Buffer::new());
    let mut index = 0;
    for entry in &snapshot.config.entries {
        // Series of an entry with values of their own show the first one's.
        let value = format_value(snapshot.values[index], &mut floats, &mut ints);
        index += entry.value_count() as usize;
        rows.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            html(&entry.describe_series()),
            entry.served.count,
            entry.kind.as_str(),
            html(&entry.function),
            value,
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>metrics-generator</title></head>\n<body>\n\
         <h1>metrics-generator</h1>\n<p><a href=\"/metrics\">/metrics</a> · <a href=\"/health\">/health</a> · \
         <a href=\"/-/healthy\">/-/healthy</a> · <a href=\"/-/ready\">/-/ready</a> · \
         <a href=\"/api/v1/expected?metric={expected}\">/api/v1/expected</a></p>\n\
         <p>{} series from {}, tick {}.</p>\n\
         <table>\n<tr><th>metric</th><th>series</th><th>type</th><th>function</th><th>value</th></tr>\n{rows}</table>\n\
         </body></html>\n",
        snapshot.config.series(),
        html(&snapshot.config.source),
        snapshot.ticks,
        // The first series' first sample line: a link that answers, rather than a 400 for the
        // missing `metric`. Sample names are `[a-zA-Z0-9_:]`, which need no escaping in a URL.
        expected = snapshot.config.entries.first().map_or(String::new(), |e| lines(e, Format::Text)[0].name.clone()),
    )
}

fn html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
