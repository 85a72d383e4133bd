//! SIGTERM and SIGINT end the process with status 0 within one second, also when it runs as PID 1
//! of its own PID namespace, as in a container.

use crate::support::{only_child, signal, Exporter};
use std::time::{Duration, Instant};

#[track_caller]
fn assert_exits_promptly(exporter: &mut Exporter, pid: u32, name: &str) {
    assert_eq!(exporter.get("/health").status, 200);
    let sent = Instant::now();
    signal(pid, name);
    let status = exporter.wait_exit(Duration::from_secs(1)).unwrap_or_else(|| panic!("still running 1 s after {name}"));
    assert_eq!(status.code(), Some(0), "exit status after {name}; stderr:\n{}", exporter.stderr());
    eprintln!("{name}: exited {:?} after the signal", sent.elapsed());
}

#[test]
fn sigterm_and_sigint_exit_0() {
    for name in ["TERM", "INT"] {
        let mut exporter = Exporter::start(&[]);
        let pid = exporter.pid();
        assert_exits_promptly(&mut exporter, pid, name);
    }
}

#[test]
fn sigterm_to_pid_1_exits_0() {
    for name in ["TERM", "INT"] {
        let mut exporter = Exporter::start_wrapped(&["unshare", "--pid", "--fork", "--kill-child"], &[]);
        let pid1 = only_child(exporter.pid());
        let status = std::fs::read_to_string(format!("/proc/{pid1}/status")).unwrap();
        let nspid = status.lines().find(|l| l.starts_with("NSpid:")).unwrap().to_string();
        assert!(nspid.split_whitespace().last() == Some("1"), "not PID 1 in its namespace: {nspid}");
        // unshare exits with its child's status, so the wrapper's exit tells how the exporter ended.
        assert_exits_promptly(&mut exporter, pid1, name);
    }
}
