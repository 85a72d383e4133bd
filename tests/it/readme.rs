//! What the README and the repository promise about themselves.

use crate::harness::root;

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
