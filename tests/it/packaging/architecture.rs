//! The source tree keeps the shape ARCHITECTURE.md draws: dependencies point one way, from the
//! leaves up, and the codemap names every source file.

use crate::support::root;
use std::path::{Path, PathBuf};

/// The top-level modules of `src/`, leaves first. A module may use its own items and those of
/// lower layers; never those of its own layer or above. `lib` and `main` sit on top.
const LAYERS: &[&[&str]] = &[
    &["distribution", "error", "names", "splitmix", "text", "time", "watch", "wire"],
    &["expr"],
    &["functions"],
    &["config"],
    &["exposition"],
    &["engine"],
    &["chart"],
    &["http", "remote"],
    &["cli"],
    &["serve"],
    &["lib", "main"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

/// Every `.rs` file below `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files.sort();
    files
}

/// The top-level module a file of `src/` belongs to: `src/engine/state.rs` → `engine`.
fn module_of(relative: &Path) -> String {
    let first = relative.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    first.strip_suffix(".rs").map(str::to_string).unwrap_or(first)
}

/// The top-level modules a source names through `crate::`: `crate::engine::State`,
/// `use crate::{config, engine}` and `use crate::{config::Entry, time::Grid}` alike.
fn crate_references(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (at, _) in source.match_indices("crate::") {
        let rest = &source[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // A group: each item's first segment, at brace depth 0.
            let (mut depth, mut start) = (0, 0);
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        found.push(first_segment(&group[start..i]));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.push(first_segment(&group[start..i]));
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            found.push(first_segment(rest));
        }
    }
    found.retain(|m| !m.is_empty());
    found
}

fn first_segment(path: &str) -> String {
    path.trim().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

#[test]
fn no_module_uses_one_above_it() {
    let src = root().join("src");
    let mut upward = Vec::new();
    for file in sources(&src) {
        let relative = file.strip_prefix(&src).unwrap().to_path_buf();
        let own = module_of(&relative);
        let own_layer = layer(&own).unwrap_or_else(|| panic!("src/{} is in no layer of LAYERS", relative.display()));
        let text = std::fs::read_to_string(&file).unwrap();
        for used in crate_references(&text) {
            let used_layer =
                layer(&used).unwrap_or_else(|| panic!("src/{}: crate::{used} is in no layer", relative.display()));
            if used != own && used_layer >= own_layer {
                upward.push(format!(
                    "src/{} ({own}, layer {own_layer}) uses crate::{used} (layer {used_layer})",
                    relative.display()
                ));
            }
        }
    }
    assert!(upward.is_empty(), "uses that point sideways or upward:\n{}", upward.join("\n"));
}

#[test]
fn the_layer_check_sees_every_form_of_use() {
    let refs = crate_references(
        "use crate::engine::State;\nuse crate::{config::{Entry, Kind}, time};\nlet x = crate::http::STALLED;",
    );
    assert_eq!(refs, ["engine", "config", "time", "http"]);
}

#[test]
fn the_codemap_names_every_source_file() {
    let architecture = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap();
    let src = root().join("src");
    let missing: Vec<String> = sources(&src)
        .iter()
        .map(|file| format!("src/{}", file.strip_prefix(&src).unwrap().display()))
        .filter(|name| !architecture.contains(&format!("`{name}`")))
        .collect();
    assert!(missing.is_empty(), "ARCHITECTURE.md's codemap lacks {missing:?}");
    // And names no file that is gone.
    for (at, _) in architecture.match_indices("`src/") {
        let name: String = architecture[at + 1..].chars().take_while(|&c| c != '`').collect();
        assert!(root().join(&name).exists(), "ARCHITECTURE.md names {name}, which does not exist");
    }
}
