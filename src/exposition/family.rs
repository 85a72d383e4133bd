//! Metric families: the config's entries grouped by sample name, in the order of each family's
//! first entry, with the HELP text the family is served with. The catalog and the OpenMetrics
//! export group entries this one way.

use super::{escape_help, escape_label_value};
use crate::config::{Config, Kind};
use crate::names::counter_family_name;
use std::collections::HashMap;

/// One metric family: every entry whose samples share a name.
pub struct Family {
    /// The name its samples carry (`…_total` for counters).
    pub sample_name: String,
    pub kind: Kind,
    /// The HELP text, unescaped: the first one written in the config, else the default of the
    /// family's first entry (config validation rejects two different written ones).
    pub help: String,
    /// Its entries' indexes in the config, in config order.
    pub members: Vec<usize>,
}

impl Family {
    /// The family's name in OpenMetrics: counters without `_total`, info metrics without `_info`.
    pub fn openmetrics_name(&self) -> &str {
        match self.kind {
            Kind::Counter => counter_family_name(&self.sample_name),
            Kind::Info => self.sample_name.strip_suffix("_info").unwrap_or(&self.sample_name),
            _ => &self.sample_name,
        }
    }

    /// `# HELP …\n# TYPE …\n` in the text format.
    pub fn text_header(&self) -> String {
        let (name, kind) = (&self.sample_name, self.kind.text_type());
        format!("# HELP {name} {}\n# TYPE {name} {kind}\n", escape_help(&self.help))
    }

    /// `# TYPE …\n# HELP …\n` in OpenMetrics, where HELP also escapes `"`.
    pub fn openmetrics_header(&self) -> String {
        let (name, kind) = (self.openmetrics_name(), self.kind.as_str());
        format!("# TYPE {name} {kind}\n# HELP {name} {}\n", escape_label_value(&self.help))
    }
}

/// The config's families, in the order of their first entry. Entries are grouped through a map
/// by sample name, so that a config of 100,000 families takes linear time, not 100,000²
/// comparisons.
pub fn families(config: &Config) -> Vec<Family> {
    let mut families: Vec<Family> = Vec::new();
    // Per family, whether its HELP is one written in the config (which wins over a default).
    let mut written: Vec<bool> = Vec::new();
    let mut family_of: HashMap<String, usize> = HashMap::new();
    for (index, entry) in config.entries.iter().enumerate() {
        let sample_name = entry.sample_name();
        match family_of.get(&sample_name) {
            Some(&f) => {
                families[f].members.push(index);
                if let (Some(help), false) = (&entry.help, written[f]) {
                    families[f].help = help.clone();
                    written[f] = true;
                }
            }
            None => {
                family_of.insert(sample_name.clone(), families.len());
                written.push(entry.help.is_some());
                families.push(Family { sample_name, kind: entry.kind, help: entry.help(), members: vec![index] });
            }
        }
    }
    families
}
