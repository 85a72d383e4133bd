//! What the README, the manual in `docs/` and the repository promise about themselves: the README
//! names the two commands, the examples shown are what the binary prints, every built-in function
//! is documented, and every relative link leads to a file and heading that exist.

use crate::support::code_block as block;
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

/// The docs' pictures are what `make pictures` draws now: `--preview 60 --svg` of each config in
/// `docs/pictures/`, byte for byte, with no picture left over; and the functions reference shows
/// one for every built-in function.
#[test]
fn docs_pictures_are_current() {
    let pictures = root().join("docs/pictures");
    let drawn = crate::support::TempDir::new();
    let mut configs = Vec::new();
    for entry in std::fs::read_dir(&pictures).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            configs.push(path);
        }
    }
    assert!(configs.len() >= 2, "docs/pictures/ holds {} configs", configs.len());
    for config in &configs {
        let config = config.to_str().unwrap();
        let dir = drawn.path().to_str().unwrap();
        let out = crate::support::run(&["--namespace", "", "--config", config, "--preview", "60", "--svg", dir]);
        assert!(out.status.success(), "{config}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let svgs = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".svg"))
            .collect();
        names.sort();
        names
    };
    let expected = svgs(drawn.path());
    assert_eq!(svgs(&pictures), expected, "docs/pictures/ holds other pictures than it draws: run make pictures");
    for name in &expected {
        let (now, kept) =
            (std::fs::read(drawn.path().join(name)).unwrap(), std::fs::read(pictures.join(name)).unwrap());
        assert!(now == kept, "docs/pictures/{name} is stale: run make pictures and review the difference");
    }
    let page = read("docs/functions.md");
    for def in metrics_generator::Registry::builtin().functions() {
        let name = def.name();
        assert!(
            page.contains(&format!("![{name}](pictures/{name}.svg) |")),
            "docs/functions.md lacks a picture of {name}"
        );
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

/// The pages whose examples are run: the README and every page of `docs/`.
fn pages() -> Vec<PathBuf> {
    let mut pages = vec![root().join("README.md")];
    let mut docs: Vec<PathBuf> =
        std::fs::read_dir(root().join("docs")).unwrap().map(|e| e.unwrap().path()).filter(|p| is_markdown(p)).collect();
    docs.sort();
    pages.extend(docs);
    pages
}

/// The bodies of the code blocks of `markdown` fenced as ```` ```lang ````.
fn blocks<'a>(markdown: &'a str, lang: &str) -> Vec<&'a str> {
    let fence = format!("```{lang}\n");
    let mut found = Vec::new();
    let mut rest = markdown;
    while let Some(at) = rest.find(&fence) {
        let body = &rest[at + fence.len()..];
        let end = body.find("```").expect("a closed code block");
        found.push(&body[..end]);
        rest = &body[end..];
    }
    found
}

/// The files a page says to save: a code block whose preceding text line ends with "`NAME`:", as in
/// "Save this as `my.json`:", with the block's contents.
fn saved_files(markdown: &str) -> Vec<(String, String)> {
    let mut saved = Vec::new();
    let mut previous = "";
    let mut lines = markdown.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("```") && line.len() > 3 {
            let body: Vec<&str> = lines.by_ref().take_while(|l| !l.starts_with("```")).collect();
            let name = previous.strip_suffix("`:").and_then(|p| p.rsplit_once('`')).map(|(_, name)| name);
            if let Some(name) = name.filter(|n| n.contains('.') && !n.contains('/')) {
                saved.push((name.to_string(), body.join("\n") + "\n"));
            }
        }
        if !line.trim().is_empty() {
            previous = line;
        }
    }
    saved
}

/// The commands of a ```sh block: continued lines joined, comments dropped.
fn commands(block: &str) -> Vec<String> {
    block
        .replace("\\\n", " ")
        .lines()
        .map(|line| line.split(" # ").next().unwrap().split("  #").next().unwrap().trim().to_string())
        .filter(|c| !c.is_empty())
        .collect()
}

/// Commands of the docs' ```sh blocks that start the exporter or ask it something but that the
/// docs test does not run, each with the reason. (None so far: keep it that way.)
const NOT_RUN: &[(&str, &str)] = &[];

/// Every example in the docs works when pasted. Each `metrics-generator …`, `cargo run --release
/// -- …` and `curl …` command of every ```sh block of the README and `docs/` is run by `sh`, as
/// written, with the binary under test on PATH (as the documented install puts it) in a directory
/// holding the configs the pages save (`my.json`, `slo.json`, `types.json`) and `k8s/`, unless NOT_RUN says
/// why not. A command that serves is started (on loopback, port 0) and becomes the exporter the
/// page's next `curl`s ask, with `localhost:8000` pointed at it; a page that asks before it starts
/// one asks the quick start's (`--config my.json --interval 1s`), as its text says to run first.
/// Every command must succeed, and an answer of `/api/v1/expected` must hold a result.
#[test]
fn every_shell_example_runs() {
    let dir = TempDir::new();
    let bin_dir = dir.path().join("bin");
    std::fs::create_dir(&bin_dir).unwrap();
    std::os::unix::fs::symlink(crate::support::bin(), bin_dir.join("metrics-generator")).unwrap();
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let first_config = |page: &str| blocks(&read(page), "json")[0].to_string();
    // Every file a page says to save ("Save as `heartbeat.json`:" just before a code block), and
    // the metric types page's config, which it refers to as `types.json` further down.
    for page in pages() {
        for (name, contents) in saved_files(&std::fs::read_to_string(&page).unwrap()) {
            std::fs::write(work.join(name), contents).unwrap();
        }
    }
    std::fs::write(work.join("types.json"), first_config("docs/metric-types.md")).unwrap();
    for saved in ["my.json", "slo.json", "heartbeat.json"] {
        assert!(work.join(saved).exists(), "no page says to save {saved}");
    }
    // The sharding guide runs from the repository root, on the config in k8s/sharded/.
    std::os::unix::fs::symlink(root().join("k8s"), work.join("k8s")).unwrap();
    let sh = |command: &str| {
        let mut c = std::process::Command::new("sh");
        c.args(["-c", command]).current_dir(&work).env("PATH", &path).env_remove("RUST_LOG");
        c
    };
    let one_shot = ["--check-config", "--preview", "--list-functions", "--export-", "--help", "--version"];
    let mut ran = 0;
    for page in pages() {
        let name = page.strip_prefix(root()).unwrap().display().to_string();
        let mut exporter: Option<crate::support::Exporter> = None;
        for block in blocks(&std::fs::read_to_string(&page).unwrap(), "sh") {
            for command in commands(block) {
                let command = match command.strip_prefix("cargo run --release") {
                    Some(rest) => format!("metrics-generator{}", rest.strip_prefix(" --").unwrap_or(rest)),
                    None => command,
                };
                if !command.starts_with("metrics-generator") && !command.starts_with("curl ") {
                    continue;
                }
                if NOT_RUN.iter().any(|(c, _)| *c == command) {
                    continue;
                }
                ran += 1;
                let id = format!("{name}: {command}");
                if command.starts_with("curl ") {
                    let exporter = exporter.get_or_insert_with(|| {
                        let c =
                            sh("exec metrics-generator --config my.json --interval 1s --listen-address 127.0.0.1:0");
                        crate::support::Exporter::start_command(c)
                    });
                    // A moment after start-up, as when the user switches terminals: tick 2.
                    crate::support::poll(std::time::Duration::from_secs(10), || {
                        (exporter.get("/health").json()["ticks"].as_u64()? >= 2).then_some(())
                    })
                    .expect("tick 2");
                    let out = crate::support::run_command(&mut sh(&command
                        .replace("localhost:8000", &exporter.addr.to_string())
                        .replacen("curl ", "curl -fsS ", 1)));
                    let body = String::from_utf8_lossy(&out.stdout);
                    assert!(out.status.success(), "{id}:\n{body}{}", String::from_utf8_lossy(&out.stderr));
                    assert!(!body.contains("\"result\":[]"), "{id}: an empty result\n{body}");
                    assert!(body.contains("\"result\":[{") || body.contains("# TYPE "), "{id}:\n{body}");
                } else if one_shot.iter().any(|flag| command.contains(flag)) {
                    let out = crate::support::run_command(&mut sh(&command));
                    assert!(out.status.success(), "{id}:\n{}", String::from_utf8_lossy(&out.stderr));
                } else {
                    let listen = match command.split_once(" --port 0") {
                        Some((before, after)) => format!("{before} --listen-address 127.0.0.1:0{after}"),
                        None => format!("{command} --listen-address 127.0.0.1:0"),
                    };
                    drop(exporter.take());
                    exporter = Some(crate::support::Exporter::start_command(sh(&format!("exec {listen}"))));
                }
            }
        }
    }
    assert!(ran >= 20, "only {ran} commands found in the docs' sh blocks");
}

/// Every config in the docs loads: each ```json block that is a config (an array of entries) or
/// one entry (an object with a `metric_type`) passes `--check-config`; the others are answers of
/// the HTTP API.
#[test]
fn every_json_config_in_the_docs_loads() {
    let dir = TempDir::new();
    let mut checked = 0;
    for page in pages() {
        let name = page.strip_prefix(root()).unwrap().display().to_string();
        for block in blocks(&std::fs::read_to_string(&page).unwrap(), "json") {
            let text = block.trim();
            let config = if text.starts_with('[') {
                text.to_string()
            } else if text.contains("\"metric_type\"") {
                format!("[{text}]")
            } else {
                continue;
            };
            let path = dir.write("docs.json", &config);
            let out = run(&["--check-config", "--config", path.to_str().unwrap()]);
            assert!(out.status.success(), "{name}:\n{config}\n{}", String::from_utf8_lossy(&out.stderr));
            checked += 1;
        }
    }
    assert!(checked >= 7, "only {checked} configs found");
}
