//! What the README and the repository promise about themselves.

use crate::support::{root, run, TempDir};

#[test]
fn example_config_is_the_embedded_default() {
    let file = std::fs::read_to_string(root().join("example_config.json")).unwrap();
    assert_eq!(file, metrics_generator::config::EMBEDDED);
}

#[test]
fn readme_names_the_two_commands() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    assert!(readme.contains("cargo run --release"), "README lacks the run command");
    assert!(readme.contains("make test"), "README lacks the test command");
}

/// The README's example config of functions, and its `--preview` output shown under "Preview", are
/// what the binary really accepts and prints.
#[test]
fn readme_preview_example_is_true() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let block = |after: &str, fence: &str| -> String {
        let start = readme.find(after).unwrap_or_else(|| panic!("README lacks {after:?}"));
        let rest = &readme[start..];
        let open = rest.find(fence).unwrap() + fence.len();
        let close = rest[open..].find("```").unwrap();
        rest[open..open + close].to_string()
    };
    let config = block("Example entries", "```json\n");
    let command = "$ metrics-generator --preview 5 --namespace \"\" --config my.json\n";
    let shown = block(command, command);
    let dir = TempDir::new();
    let path = dir.write("my.json", config);
    let out = run(&["--preview", "5", "--namespace", "", "--config", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), shown);
}

/// Every built-in function has a row in the README's functions reference.
#[test]
fn readme_documents_every_function() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    for def in metrics_generator::functions::Registry::builtin().functions() {
        assert!(readme.contains(&format!("\n| `{}` |", def.name())), "README lacks a row for {}", def.name());
    }
}
