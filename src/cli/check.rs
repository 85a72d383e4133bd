//! `--check-config`: the summary printed for a valid config.

use crate::config::Config;

/// What `--check-config` prints: a verdict line, then one line per entry with its fan-out.
pub fn summary(config: &Config) -> String {
    let mut out = match config.shard {
        None => format!("config {} is valid: {} series\n", config.source, config.series()),
        Some(shard) => format!(
            "config {} is valid: {} series; shard {}/{} serves {} of them\n",
            config.source,
            config.series(),
            shard.index,
            shard.count,
            config.served()
        ),
    };
    for e in &config.entries {
        let reset = e.reset_interval.map(|r| format!(", reset every {r} values")).unwrap_or_default();
        let count = if e.series > 1 { format!(" ({} series)", e.series) } else { String::new() };
        out.push_str(&format!("  {}{count} {} {}{reset}\n", e.describe_series(), e.kind.as_str(), e.function));
    }
    out
}
