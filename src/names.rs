//! Names: the program's own name and version, Prometheus's rules for metric and label names, the
//! default namespace, the prefix of the exporter's own metrics, and how a counter's sample and
//! family names relate (`x_total` and `x`).

/// The version reported by `--version`, `/health`, the landing page, the exports and the
/// `metrics_generator_build_info` metric.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The default of `--namespace`, which prefixes every configured metric name.
pub const DEFAULT_NAMESPACE: &str = "test_metrics";

/// The prefix of the exporter's own metrics; configured metrics may not use it.
pub const SELF_PREFIX: &str = "metrics_generator_";

/// The suffix every counter sample carries.
const TOTAL: &str = "_total";

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub fn is_metric_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`
pub fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The name a counter's samples carry: the family name with `_total`, unless it already ends so.
pub fn counter_sample_name(full_name: &str) -> String {
    if full_name.ends_with(TOTAL) {
        full_name.to_string()
    } else {
        format!("{full_name}{TOTAL}")
    }
}

/// The family name of a counter whose samples are called `sample`, as OpenMetrics writes it in
/// `# TYPE` and before `_created`: the sample name without `_total`.
pub fn counter_family_name(sample: &str) -> &str {
    sample.strip_suffix(TOTAL).unwrap_or(sample)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_and_label_names() {
        for ok in ["a", "_a", ":a", "a:b_9", "A"] {
            assert!(is_metric_name(ok), "{ok}");
        }
        for bad in ["", "9a", "a-b", "a b", "é"] {
            assert!(!is_metric_name(bad), "{bad}");
        }
        assert!(is_label_name("_a9") && !is_label_name("a:b") && !is_label_name(""));
    }

    #[test]
    fn counters_are_served_with_total_and_described_without() {
        assert_eq!(counter_sample_name("ns_jobs"), "ns_jobs_total");
        assert_eq!(counter_sample_name("ns_jobs_total"), "ns_jobs_total");
        assert_eq!(counter_family_name("ns_jobs_total"), "ns_jobs");
        assert_eq!(counter_family_name("ns_jobs"), "ns_jobs");
    }
}
