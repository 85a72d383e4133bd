//! What the README, the manual in `docs/` and the repository promise about themselves: the README
//! names the two commands, the examples shown are what the binary prints, every built-in function
//! is documented, and every relative link leads to a file and heading that exist.

use crate::support::{root, run, TempDir};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[test]
fn example_config_is_the_embedded_default() {
    let file = std::fs::read_to_string(root().join("example_config.json")).unwrap();
    assert_eq!(file, metrics_generator::config::EMBEDDED);
}

#[test]
fn readme_names_the_two_commands() {
    let readme = read("README.md");
    assert!(readme.contains("cargo run --release"), "README lacks the run command");
    assert!(readme.contains("make test"), "README lacks the test command");
}

/// The README's quick-start config and the `--preview` table shown for it are what the binary
/// really accepts and prints.
#[test]
fn readme_quick_start_preview_is_true() {
    let readme = read("README.md");
    let config = block(&readme, "## Quick start", "```json\n");
    let shown = block(&readme, "--config my.json --preview 12\n```", "```text\n");
    check_preview(&config, &["--preview", "12"], &shown);
}

/// The example config of functions in `docs/functions.md`, and its `--preview` output shown under
/// "Preview", are what the binary really accepts and prints.
#[test]
fn docs_preview_example_is_true() {
    let page = read("docs/functions.md");
    let config = block(&page, "Example entries", "```json\n");
    let command = "$ metrics-generator --preview 5 --namespace \"\" --config my.json\n";
    let shown = block(&page, command, command);
    check_preview(&config, &["--preview", "5", "--namespace", ""], &shown);
}

/// Every built-in function has a row in the functions reference, `docs/functions.md`.
#[test]
fn docs_document_every_function() {
    let page = read("docs/functions.md");
    for def in metrics_generator::Registry::builtin().functions() {
        assert!(page.contains(&format!("\n| `{}` |", def.name())), "docs/functions.md lacks a row for {}", def.name());
    }
}

/// Every relative link in the README and in `docs/*.md` points at a file that exists, and every
/// `#anchor` into a Markdown page at one of its headings.
#[test]
fn docs_links_lead_somewhere() {
    let mut pages = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if is_markdown(&path) {
            pages.push(path);
        }
    }
    assert!(pages.len() > 5, "docs/ holds only {} pages", pages.len() - 1);
    let mut broken = Vec::new();
    for page in &pages {
        let text = std::fs::read_to_string(page).unwrap();
        for link in links(&text) {
            if link.contains("://") || link.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = link.split_once('#').unwrap_or((&link, ""));
            let target: PathBuf = if path.is_empty() { page.clone() } else { page.parent().unwrap().join(path) };
            let name = page.strip_prefix(root()).unwrap().display();
            if !target.exists() {
                broken.push(format!("{name}: {link}: no such file"));
            } else if !anchor.is_empty() && is_markdown(&target) {
                let headings = anchors(&std::fs::read_to_string(&target).unwrap());
                if !headings.contains(anchor) {
                    broken.push(format!("{name}: {link}: no such heading"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

#[test]
fn link_checker_reads_links_and_headings_as_github_does() {
    let text = "# Aligned ticks (`--align wall-clock`)\n## Expected values (`/api/v1/expected`)\n\
                ## Walk-through: testing an alert rule\n## Config\n## Config\n\
                See [a](x.md#y), [b](#c) and ![img](d.png).\n```sh\n[not](a-link.md)\n```\n";
    assert_eq!(links(text), ["x.md#y", "#c", "d.png"]);
    let expected = [
        "aligned-ticks---align-wall-clock",
        "expected-values-apiv1expected",
        "walk-through-testing-an-alert-rule",
        "config",
        "config-1",
    ];
    assert_eq!(anchors(text), expected.into_iter().map(String::from).collect::<HashSet<_>>());
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The text of the first code block that opens with `fence` after the first `after` in `text`.
#[track_caller]
fn block(text: &str, after: &str, fence: &str) -> String {
    let start = text.find(after).unwrap_or_else(|| panic!("no {after:?}"));
    let rest = &text[start..];
    let open = rest.find(fence).unwrap_or_else(|| panic!("no {fence:?} after {after:?}")) + fence.len();
    let close = rest[open..].find("```").unwrap();
    rest[open..open + close].to_string()
}

/// Runs `--preview` on `config` with `args` and compares its output with `shown`.
#[track_caller]
fn check_preview(config: &str, args: &[&str], shown: &str) {
    let dir = TempDir::new();
    let path = dir.write("my.json", config);
    let mut all = args.to_vec();
    all.extend(["--config", path.to_str().unwrap()]);
    let out = run(&all);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap(), shown);
}

/// The targets of the inline links `[text](target)` in Markdown, outside fenced code blocks.
fn links(markdown: &str) -> Vec<String> {
    let mut found = Vec::new();
    for line in prose_lines(markdown) {
        let mut rest = line;
        while let Some(at) = rest.find("](") {
            let tail = &rest[at + 2..];
            let Some(end) = tail.find(')') else { break };
            found.push(tail[..end].to_string());
            rest = &tail[end..];
        }
    }
    found
}

/// The anchors GitHub gives the headings of a Markdown page: lowercased, punctuation other than
/// `-` and `_` dropped, spaces turned into `-`, and `-1`, `-2`, … added to repeats.
fn anchors(markdown: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    for line in prose_lines(markdown) {
        let Some(title) = line.trim_start_matches('#').strip_prefix(' ').filter(|_| line.starts_with('#')) else {
            continue;
        };
        let slug: String = title
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let mut unique = slug.clone();
        let mut n = 0;
        while seen.contains(&unique) {
            n += 1;
            unique = format!("{slug}-{n}");
        }
        seen.insert(unique);
    }
    seen
}

/// The lines of a Markdown page outside fenced code blocks.
fn prose_lines(markdown: &str) -> impl Iterator<Item = &str> {
    let mut in_code = false;
    markdown.lines().filter(move |line| {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            return false;
        }
        !in_code
    })
}

fn is_markdown(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "md")
}

/// The licence files match `Cargo.toml`'s `MIT OR Apache-2.0`: both texts are in the repository,
/// and the image's OCI label says the same.
#[test]
fn licence_files_match_cargo_toml() {
    let manifest = read("Cargo.toml");
    assert!(manifest.contains("\nlicense = \"MIT OR Apache-2.0\"\n"), "Cargo.toml's license changed");
    assert!(read("LICENSE-MIT").contains("Permission is hereby granted, free of charge"));
    let apache = read("LICENSE-APACHE");
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    assert!(read("Dockerfile").contains("org.opencontainers.image.licenses=\"MIT OR Apache-2.0\""));
}

/// `make test` counts the tests skipped for a missing tool and lists them after the run, and its
/// status is still that of the tests. A stand-in cargo records a skip the way
/// `support::missing` does (a line in the file `SKIPPED_TESTS_FILE` names).
#[test]
fn make_test_lists_the_skipped_tests() {
    let dir = TempDir::new();
    let skipped = dir.path().join("skipped.txt");
    let make_test = |script: &str| {
        let cargo = dir.write("cargo", format!("#!/bin/sh\n{script}\n"));
        std::fs::set_permissions(&cargo, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        crate::support::run_command(
            std::process::Command::new("make")
                .current_dir(root())
                .args(["-s", "test"])
                .arg(format!("CARGO={}", cargo.display()))
                .arg(format!("SKIPPED={}", skipped.display()))
                .env_remove("MAKEFLAGS")
                .env_remove("MAKELEVEL"),
        )
    };
    let record = r#"case "$*" in *tiny_http*) ;; *) echo "it::k8s::x: kubectl (on PATH) is not installed" >> "$SKIPPED_TESTS_FILE";; esac"#;
    let out = make_test(record);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.ends_with(
            "SKIPPED: 1 test(s) did not run for a missing tool (not a pass):\n  it::k8s::x: kubectl (on PATH) is not installed\n"
        ),
        "{stdout}"
    );
    // The list starts empty at each run; a failing run fails, with its summary.
    let out = make_test("exit 101");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).ends_with("no test was skipped\n"), "{:?}", out);
}
