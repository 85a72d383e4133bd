//! `scripts/fuzz.sh`, which CI runs, fails when fuzzing fails. The script runs in a copy of the
//! files it reads, with a fake `cargo` first on PATH that prints what the real one prints in each
//! case and exits with its status: a build that fails, a crash, a timeout, running out of memory,
//! a run that reports nothing, and a clean run, which alone exits 0.

use crate::support::{root, run_command, TempDir};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

/// Copies the script and the files it seeds corpora from into `dir`, which it then treats as the
/// repository (it changes to the directory above its own), and returns the script's path.
fn repository(dir: &Path) -> std::path::PathBuf {
    let script = dir.join("scripts/fuzz.sh");
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    std::fs::copy(root().join("scripts/fuzz.sh"), &script).unwrap();
    for (path, contents) in [
        ("tests/data/corpus/bad/a.json", "[{]"),
        ("tests/data/corpus/good/a.json", "[]"),
        ("tests/data/golden/config.json", "[]"),
        ("example_config.json", "[]"),
        ("fuzz/seeds/expr/a", "i*i"),
        ("fuzz/seeds/headers/a", "text/plain"),
        ("fuzz/config.dict", "\"name\"\n"),
    ] {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }
    script
}

/// A fake `cargo` in `dir/bin`: for `cargo +nightly fuzz run -a TARGET …` it prints `output` and
/// exits with `status` when TARGET is `failing`, and prints a clean run's statistics otherwise.
fn fake_cargo(dir: &Path, failing: &str, output: &str, status: i32) -> std::path::PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = format!(
        r##"#!/usr/bin/env bash
[ "$1 $2 $3 $4" = "+nightly fuzz run -a" ] || {{ echo "fake cargo: unexpected arguments: $*" >&2; exit 99; }}
if [ "$5" = "{failing}" ]; then
    cat <<'OUTPUT'
{output}
OUTPUT
    exit {status}
fi
echo "#4096	pulse  cov: 100 ft: 120 corp: 10/1Kb exec/s: 2048 rss: 40Mb"
echo "#8192	DONE   cov: 100 ft: 120 corp: 10/1Kb exec/s: 4096 rss: 40Mb"
echo "stat::number_of_executed_units: 8192"
"##
    );
    let cargo = bin.join("cargo");
    std::fs::write(&cargo, script).unwrap();
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

/// Runs the script for one second per target with the fake `cargo` first on PATH.
fn fuzz(failing: &str, output: &str, status: i32) -> Output {
    let dir = TempDir::new();
    let script = repository(dir.path());
    let bin = fake_cargo(dir.path(), failing, output, status);
    let path = std::env::join_paths(
        std::iter::once(bin).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    run_command(Command::new("bash").arg(script).arg("1").env("PATH", path))
}

#[test]
fn a_clean_run_of_every_target_exits_0_with_a_summary() {
    let out = fuzz("none", "", 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "stdout:\n{stdout}\nstderr:\n{stderr}");
    for target in ["config", "expr", "headers"] {
        let line = format!("{target}: 8192 executions in 1 s, corpus of ");
        assert!(stdout.contains(&line), "no {line:?} in\n{stdout}");
    }
}

#[test]
fn a_failure_in_any_target_fails_the_script_and_says_why() {
    // What cargo-fuzz prints in each case (cut down), the status it exits with, and what the
    // script must say. libFuzzer's own lines start with `==PID==`.
    let cases: &[(&str, &str, i32, &str)] = &[
        (
            "config",
            "   Compiling metrics-generator v0.1.0\nerror[E0425]: cannot find value `x` in this scope\n\
             error: could not compile `metrics-generator` (lib) due to 1 previous error",
            101,
            "config FAILED: the build failed (cargo fuzz exited with status 101)",
        ),
        (
            "expr",
            "thread '<unnamed>' panicked at src/expr/mod.rs:10:5:\nattempt to add with overflow\n\
             ==4242== ERROR: libFuzzer: deadly signal\nSUMMARY: libFuzzer: deadly signal\n\
             Test unit written to fuzz/artifacts/expr/crash-0123",
            1,
            "expr FAILED: an input crashed it (cargo fuzz exited with status 1)",
        ),
        (
            "headers",
            "ALARM: working on the last Unit for 11 seconds\n\
             ==4242== ERROR: libFuzzer: timeout after 11 seconds\nSUMMARY: libFuzzer: timeout",
            1,
            "headers FAILED: an input took longer than the timeout (cargo fuzz exited with status 1)",
        ),
        (
            "config",
            "==4242== ERROR: libFuzzer: out-of-memory (used: 2100Mb; exceeds: 2048Mb)\n\
             SUMMARY: libFuzzer: out-of-memory",
            1,
            "config FAILED: an input ran out of memory (cargo fuzz exited with status 1)",
        ),
        // A status alone is enough, whatever the log says.
        ("expr", "something went wrong", 2, "expr FAILED: cargo fuzz failed (cargo fuzz exited with status 2)"),
        // A log alone is enough too, whatever the status says.
        (
            "headers",
            "thread '<unnamed>' panicked at src/http/negotiate.rs:1:1",
            0,
            "headers FAILED: an input crashed it (cargo fuzz exited with status 0)",
        ),
        // And a run that reports no executions did not fuzz anything.
        ("expr", "INFO: Running with entropic power schedule", 0, "expr FAILED: it reported no executions"),
    ];
    for (failing, output, status, message) in cases {
        let out = fuzz(failing, output, *status);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let context = format!("{failing} exiting {status}\nstdout:\n{stdout}\nstderr:\n{stderr}");
        assert_eq!(out.status.code(), Some(1), "{context}");
        assert!(stderr.contains(message), "no {message:?}: {context}");
        assert!(stderr.trim_end().ends_with("fuzzing failed"), "{context}");
        // The end of the log is shown, so CI's output says what went wrong.
        assert!(stderr.contains(output.lines().last().unwrap()), "the log's end is not shown: {context}");
        // The other targets still ran, and the summary names the failed one.
        assert!(stdout.contains(&format!("{failing}: FAILED: ")), "{context}");
        let others = ["config", "expr", "headers"].into_iter().filter(|t| t != failing);
        for other in others {
            assert!(stdout.contains(&format!("{other}: 8192 executions")), "{other} did not run: {context}");
        }
    }
}
