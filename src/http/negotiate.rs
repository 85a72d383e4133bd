//! Content negotiation for `/metrics`: which exposition format an `Accept` header prefers, and
//! whether an `Accept-Encoding` header takes gzip.
//!
//! Pure functions over header text. Anything unparseable is ignored rather than rejected: a
//! scraper with a garbled header still gets the text format, uncompressed, as the Prometheus
//! client libraries do.

use crate::exposition::Format;

/// One media range of an `Accept` header.
struct Range<'a> {
    kind: &'a str,
    subtype: &'a str,
    version: Option<&'a str>,
    /// The `proto` and `encoding` parameters of a protobuf range.
    proto: Option<&'a str>,
    encoding: Option<&'a str>,
    q: f32,
}

/// Splits a header on commas that are not inside a quoted string.
fn split_list(header: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    for (i, c) in header.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                parts.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&header[start..]);
    parts
}

/// A q-value: a number from 0 to 1; anything else makes the element invalid.
fn parse_q(s: &str) -> Option<f32> {
    let q: f32 = s.trim().parse().ok()?;
    (0.0..=1.0).contains(&q).then_some(q)
}

fn parse_ranges(header: &str) -> Vec<Range<'_>> {
    split_list(header)
        .into_iter()
        .filter_map(|element| {
            let mut parts = element.split(';');
            let (kind, subtype) = parts.next()?.trim().split_once('/')?;
            let (kind, subtype) = (kind.trim(), subtype.trim());
            if kind.is_empty() || subtype.is_empty() {
                return None;
            }
            let mut range = Range { kind, subtype, version: None, proto: None, encoding: None, q: 1.0 };
            for param in parts {
                let (key, value) = param.split_once('=')?;
                let value = value.trim().trim_matches('"');
                match key.trim().to_ascii_lowercase().as_str() {
                    "q" => range.q = parse_q(value)?,
                    "version" => range.version = Some(value),
                    "proto" => range.proto = Some(value),
                    "encoding" => range.encoding = Some(value),
                    _ => {}
                }
            }
            Some(range)
        })
        .collect()
}

/// How well `range` matches an offered type (higher is more specific), or `None`.
fn specificity(range: &Range, kind: &str, subtype: &str, versions: &[&str]) -> Option<u8> {
    if range.kind == "*" && range.subtype == "*" {
        return Some(0);
    }
    if !range.kind.eq_ignore_ascii_case(kind) {
        return None;
    }
    if range.subtype == "*" {
        return Some(1);
    }
    if !range.subtype.eq_ignore_ascii_case(subtype) {
        return None;
    }
    match range.version {
        None => Some(2),
        Some(v) if versions.contains(&v) => Some(3),
        Some(_) => None,
    }
}

/// The q-value `header` gives an offered type: that of its most specific matching range (the
/// highest among equally specific ones), or 0 when none matches.
fn quality(ranges: &[Range], kind: &str, subtype: &str, versions: &[&str]) -> f32 {
    let mut best: Option<(u8, f32)> = None;
    for range in ranges {
        if let Some(s) = specificity(range, kind, subtype, versions) {
            best = match best {
                Some((bs, bq)) if bs > s || (bs == s && bq >= range.q) => Some((bs, bq)),
                _ => Some((s, range.q)),
            };
        }
    }
    best.map_or(0.0, |(_, q)| q)
}

/// The protobuf media type's parameters that name the one protobuf format served.
const PROTOBUF_PROTO: &str = "io.prometheus.client.MetricFamily";
const PROTOBUF_ENCODING: &str = "delimited";

/// The q-value `ranges` give Prometheus's protobuf format: only a range that names it, with
/// `proto=io.prometheus.client.MetricFamily` and `encoding=delimited`, asks for it (a wildcard
/// does not, nor does a range with other `proto` or `encoding` values).
fn protobuf_quality(ranges: &[Range]) -> f32 {
    ranges
        .iter()
        .filter(|r| r.kind.eq_ignore_ascii_case("application") && r.subtype.eq_ignore_ascii_case("vnd.google.protobuf"))
        .filter(|r| r.proto == Some(PROTOBUF_PROTO) && r.encoding == Some(PROTOBUF_ENCODING))
        .map(|r| r.q)
        .fold(0.0, f32::max)
}

/// The format `/metrics` answers with: Prometheus's protobuf format when the `Accept` header
/// names it (`application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
/// encoding=delimited`) with a higher q-value than both text formats; else OpenMetrics 1.0 when
/// the header gives it a higher q-value than the text format (a request for OpenMetrics version
/// 1.0.0 or 0.0.1 both get 1.0.0); otherwise the text format 0.0.4, which is also the answer to
/// no header and to garbage.
pub fn choose_format(accept: Option<&str>) -> Format {
    let Some(header) = accept else { return Format::Text };
    let ranges = parse_ranges(header);
    let om = quality(&ranges, "application", "openmetrics-text", &["1.0.0", "0.0.1"]);
    let text = quality(&ranges, "text", "plain", &["0.0.4"]);
    let protobuf = protobuf_quality(&ranges);
    if protobuf > 0.0 && protobuf > om && protobuf > text {
        Format::Protobuf
    } else if om > 0.0 && om > text {
        Format::OpenMetrics
    } else {
        Format::Text
    }
}

/// Whether an `Accept-Encoding` header accepts gzip (`gzip`, `x-gzip` or `*` with q > 0, unless
/// gzip itself is refused with q=0).
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    let Some(header) = accept_encoding else { return false };
    let mut gzip: Option<f32> = None;
    let mut any: Option<f32> = None;
    for element in split_list(header) {
        let mut parts = element.split(';');
        let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let mut q = Some(1.0);
        for param in parts {
            if let Some((key, value)) = param.split_once('=') {
                if key.trim().eq_ignore_ascii_case("q") {
                    q = parse_q(value);
                }
            }
        }
        let Some(q) = q else { continue };
        match coding.as_str() {
            "gzip" | "x-gzip" => gzip = Some(gzip.map_or(q, |g: f32| g.max(q))),
            "*" => any = Some(q),
            _ => {}
        }
    }
    gzip.or(any).is_some_and(|q| q > 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What Prometheus 2.42 sends on every scrape.
    const PROMETHEUS: &str = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

    #[test]
    fn accept_headers() {
        const PROMETHEUS_NATIVE: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;\
            encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8,application/openmetrics-text;\
            version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        use Format::{OpenMetrics as OM, Protobuf as PB, Text};
        let cases: &[(Option<&str>, Format)] = &[
            (None, Text),
            (Some(""), Text),
            (Some(PROMETHEUS), OM),
            (Some("application/openmetrics-text"), OM),
            (Some("application/openmetrics-text; version=1.0.0"), OM),
            (Some("application/openmetrics-text; version=0.0.1"), OM),
            (Some("application/openmetrics-text; version=\"1.0.0\"; charset=utf-8"), OM),
            (Some("Application/OpenMetrics-Text"), OM),
            (Some("application/openmetrics-text; version=2.0.0"), Text),
            (Some("text/plain"), Text),
            (Some("text/plain;version=0.0.4"), Text),
            (Some("*/*"), Text),
            (Some("application/*"), OM),
            (Some("text/plain;q=0.9, application/openmetrics-text;q=0.8"), Text),
            (Some("text/plain;q=0.5, application/openmetrics-text;q=0.8"), OM),
            (Some("application/openmetrics-text;q=0, */*"), Text),
            (Some("application/openmetrics-text;q=0.5, text/plain;q=0.5"), Text),
            (Some("application/openmetrics-text;q=abc"), Text),
            (Some("application/openmetrics-text;q=2"), Text),
            (Some("garbage, ,;;,/,=,\"unterminated"), Text),
            (Some("application/json"), Text),
            (Some("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"), Text),
            // Prometheus with native histograms enabled asks for protobuf first.
            (Some(PROMETHEUS_NATIVE), PB),
            (Some("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited"), PB),
            (Some("application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=\"delimited\""), PB),
            // Other protobuf messages or encodings are not served: the text format answers.
            (Some("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text"), Text),
            (Some("application/vnd.google.protobuf;proto=other.Message;encoding=delimited"), Text),
            (Some("application/vnd.google.protobuf"), Text),
            (Some("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.4,application/openmetrics-text;q=0.5"), OM),
            (Some("application/*"), OM),
        ];
        for (header, expected) in cases {
            assert_eq!(choose_format(*header), *expected, "Accept: {header:?}");
        }
    }

    #[test]
    fn accept_encoding_headers() {
        let cases: &[(Option<&str>, bool)] = &[
            (None, false),
            (Some(""), false),
            (Some("gzip"), true),
            (Some("GZIP"), true),
            (Some("x-gzip"), true),
            (Some("deflate, gzip;q=1.0, *;q=0.5"), true),
            (Some("gzip;q=0"), false),
            (Some("gzip;q=0, *"), false),
            (Some("*"), true),
            (Some("identity"), false),
            (Some("br, deflate"), false),
            (Some("gzip;q=nonsense"), false),
        ];
        for (header, expected) in cases {
            assert_eq!(accepts_gzip(*header), *expected, "Accept-Encoding: {header:?}");
        }
    }
}
