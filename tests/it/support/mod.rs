//! Test support: start the real binary, talk HTTP to it over real sockets, run external tools.
//!
//! Every exporter is started on `127.0.0.1:0`, and its address is read from the
//! `listening on http://…` line it logs. A failing test prints the command and what the process
//! wrote to stderr.

#![allow(dead_code)]

pub mod prometheus;
pub mod receiver;
pub mod reference;
pub mod tls;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The binary under test.
pub fn bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_metrics-generator"))
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Whether a missing external tool must fail the test (CI sets `REQUIRE_TOOLS=1`) rather than skip it.
pub fn tools_required() -> bool {
    std::env::var("REQUIRE_TOOLS").is_ok_and(|v| v == "1") || std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Looks for `program` on PATH. When it is missing, fails the test under [`tools_required`],
/// else prints why the test is skipped and returns `None`.
pub fn require_tool(program: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|dir| dir.join(program))
        .find(|p| p.is_file());
    if found.is_none() {
        missing(&format!("{program} (on PATH)"));
    }
    found
}

/// Looks for `python3` on PATH that can import `module`, with the same rule as [`require_tool`]:
/// a missing module fails the test under [`tools_required`], else the test is skipped.
pub fn require_python_module(module: &str) -> Option<PathBuf> {
    let python = require_tool("python3")?;
    let imported = Command::new(&python)
        .args(["-c", &format!("import {module}")])
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|out| out.status.success());
    if !imported {
        missing(&format!("the Python module {module} (for {})", python.display()));
        return None;
    }
    Some(python)
}

/// For what the machine may lack rather than a program (`/dev/full`, IPv6 on loopback): whether
/// `available`, with the same rule as [`require_tool`] when it is not: a failure under
/// [`tools_required`], else a skip with a message. `what` says what is missing.
pub fn require(available: bool, what: &str) -> bool {
    if !available {
        missing(what);
    }
    available
}

/// Where each skip is recorded, one line per skipped test, so that `make test` can list them at the
/// end: a skip must never pass for a pass. `make test` names the file in `SKIPPED_TESTS_FILE`.
pub const SKIPPED_FILE: &str = "target/skipped-tests.txt";

/// Fails the test when tools are required, else says why it is skipped and records the skip in
/// [`SKIPPED_FILE`] (the test's name and what is missing).
pub fn missing(what: &str) {
    assert!(!tools_required(), "{what} is required (REQUIRE_TOOLS=1 or CI=true) but missing; .ci/run installs it");
    eprintln!("SKIPPED: {what} is not installed (set REQUIRE_TOOLS=1 to make this a failure)");
    let test = std::thread::current().name().unwrap_or("a test").to_string();
    let line = format!("{test}: {what} is not installed\n");
    // One write of one short line in append mode: lines of tests running in parallel do not mix.
    let file = std::env::var_os("SKIPPED_TESTS_FILE").map_or_else(|| root().join(SKIPPED_FILE), PathBuf::from);
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(file)
        .and_then(|mut file| file.write_all(line.as_bytes()));
    if let Err(e) = appended {
        eprintln!("cannot record the skip in {SKIPPED_FILE}: {e}");
    }
}

/// Tests that load the machine (the abuse, load and soak tests and the biggest configs) run one
/// at a time, so that each one's figures are its own and they do not starve the timing of the
/// tests running beside them. A test holds the returned guard for its whole run.
pub fn heavy() -> std::sync::MutexGuard<'static, ()> {
    static HEAVY: Mutex<()> = Mutex::new(());
    // A heavy test that failed poisoned the lock; the next one may still run.
    HEAVY.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A port on 127.0.0.1 that was free a moment ago, for a program that cannot report the port it
/// bound. Another process may take it meanwhile, so a caller retries once when it turns out taken.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// A directory of its own for one test, removed when dropped.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("metrics-generator-it-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    /// Writes `contents` to `name` inside the directory and returns its path.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("write temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the binary to completion (at most 20 s) and returns its output.
pub fn run(args: &[&str]) -> Output {
    run_command(Command::new(bin()).args(args))
}

/// Runs any command to completion with a 20 s bound and no stdin.
pub fn run_command(cmd: &mut Command) -> Output {
    run_command_within(cmd, Duration::from_secs(20))
}

/// Runs any command to completion with no stdin, killing it and failing after `limit`.
pub fn run_command_within(cmd: &mut Command, limit: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("spawn {cmd:?}: {e}"));
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().expect("wait").is_some() {
            return child.wait_with_output().expect("output");
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            panic!("{cmd:?} did not finish in {limit:?}\nstderr:\n{}", String::from_utf8_lossy(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A running exporter, killed when dropped.
pub struct Exporter {
    child: Child,
    pub addr: SocketAddr,
    args: Vec<String>,
    stderr: Arc<Mutex<String>>,
    _dir: Option<TempDir>,
}

impl Exporter {
    /// Starts the binary with `args`, adding `--listen-address 127.0.0.1:0` unless the args choose
    /// an address, and waits (at most 30 s) for its `listening on` line.
    pub fn start(args: &[&str]) -> Exporter {
        Self::start_in(&[], args, None)
    }

    /// Like [`Exporter::start`], but returns why it did not start (with its stderr) instead of
    /// panicking, for a test that can retry, e.g. when the port it chose was taken meanwhile.
    pub fn try_start(args: &[&str]) -> Result<Exporter, String> {
        Self::try_start_in(&[], args, None)
    }

    /// Starts the binary under a wrapper command, e.g. `["unshare", "--pid", "--fork"]`.
    pub fn start_wrapped(wrapper: &[&str], args: &[&str]) -> Exporter {
        Self::start_in(wrapper, args, None)
    }

    /// Starts the binary with `config` written to a temp file and passed as `--config`.
    pub fn with_config(config: &str, args: &[&str]) -> Exporter {
        let dir = TempDir::new();
        let path = dir.write("config.json", config);
        let mut all = vec!["--config", path.to_str().unwrap()];
        all.extend_from_slice(args);
        Self::start_in(&[], &all, Some(dir))
    }

    /// Starts any command that runs the exporter (another build of it, or one inside an image)
    /// and waits (at most 10 s) for its `listening on` line. The command must choose the address.
    pub fn start_command(mut command: Command) -> Exporter {
        let args = std::iter::once(command.get_program())
            .chain(command.get_args())
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        Self::spawn(&mut command, args, None).unwrap_or_else(|why| panic!("{why}"))
    }

    fn start_in(wrapper: &[&str], args: &[&str], dir: Option<TempDir>) -> Exporter {
        Self::try_start_in(wrapper, args, dir).unwrap_or_else(|why| panic!("{why}"))
    }

    fn try_start_in(wrapper: &[&str], args: &[&str], dir: Option<TempDir>) -> Result<Exporter, String> {
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        if !args.iter().any(|a| a.starts_with("--port") || a.contains("listen-address")) {
            args.extend(["--listen-address".to_string(), "127.0.0.1:0".to_string()]);
        }
        let mut command = match wrapper.split_first() {
            None => Command::new(bin()),
            Some((program, rest)) => {
                let mut c = Command::new(program);
                c.args(rest).arg(bin());
                c
            }
        };
        command.args(&args);
        Self::spawn(&mut command, args, dir)
    }

    fn spawn(command: &mut Command, args: Vec<String>, dir: Option<TempDir>) -> Result<Exporter, String> {
        // The developer's RUST_LOG must not change what a test sees, unless the test sets it.
        if !command.get_envs().any(|(key, _)| key == "RUST_LOG") {
            command.env_remove("RUST_LOG");
        }
        let mut child =
            command.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn exporter");
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines() {
                let Ok(line) = line else { break };
                // The line is kept before its address is handed over, so that a test that has the
                // address also finds the line in `stderr()` (a CI run once read it before it was kept).
                {
                    let mut s = sink.lock().unwrap();
                    s.push_str(&line);
                    s.push('\n');
                }
                let address =
                    line.split("listening on http://").nth(1).or_else(|| line.split("listening on https://").nth(1));
                if let Some(rest) = address {
                    let _ = tx.send(rest.trim().to_string());
                }
            }
        });
        // Generous, since a debug build loading a config of 100,000 entries takes seconds.
        let addr = match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(a) => a.parse::<SocketAddr>().expect("address in the listening line"),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                let stderr = stderr.lock().unwrap();
                return Err(format!(
                    "exporter {args:?} exited or logged no `listening on` line in 30 s\nstderr:\n{stderr}"
                ));
            }
        };
        Ok(Exporter { child, addr, args, stderr, _dir: dir })
    }

    /// What the process has written to stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The process id, for signals.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `GET path`.
    pub fn get(&self, path: &str) -> HttpResponse {
        self.request("GET", path, &[])
    }

    /// A request with a method, a path and extra headers; the connection is closed after it.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
        let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n", self.addr);
        for (k, v) in headers {
            raw.push_str(&format!("{k}: {v}\r\n"));
        }
        raw.push_str("\r\n");
        http_raw(self.addr, raw.as_bytes(), method == "HEAD")
            .unwrap_or_else(|e| panic!("{method} {path}: {e}\nstderr:\n{}", self.stderr()))
    }

    /// The value of the sample `series` (the exact text before the space) in `/metrics`.
    pub fn sample(&self, series: &str) -> Option<f64> {
        sample(&self.get("/metrics").text(), series)
    }

    /// Waits for the process to exit (at most `limit`), returning its status.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("exporter {:?}\nstderr:\n{}", self.args, self.stderr());
        }
    }
}

/// The value of the sample whose text before the space is exactly `series`.
pub fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines().find_map(|line| {
        let (name, value) = line.rsplit_once(' ')?;
        (name == series).then(|| value.parse().ok()).flatten()
    })
}

/// A parsed HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
    /// The body as UTF-8 text.
    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("UTF-8 body")
    }
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// Sends raw request bytes and reads one response until the server closes the connection
/// (bounded by a 10 s read timeout).
pub fn http_raw(addr: SocketAddr, request: &[u8], head: bool) -> Result<HttpResponse, String> {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).map_err(|e| format!("connect: {e}"))?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    stream.write_all(request).map_err(|e| format!("write: {e}"))?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| format!("read: {e}"))?;
    parse_response(&raw, head)
}

/// Parses one HTTP/1.1 response (Content-Length, chunked, or to the end).
pub fn parse_response(raw: &[u8], head: bool) -> Result<HttpResponse, String> {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no end of headers")?;
    let head_text = std::str::from_utf8(&raw[..split]).map_err(|_| "non-UTF-8 headers")?;
    let mut lines = head_text.split("\r\n");
    let status_line = lines.next().ok_or("no status line")?;
    let status: u16 = status_line.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or("bad status line")?;
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect();
    let rest = &raw[split + 4..];
    let mut response = HttpResponse { status, headers, body: Vec::new() };
    if head {
        response.body = rest.to_vec();
        return Ok(response);
    }
    response.body = if response.header("Transfer-Encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if let Some(len) = response.header("Content-Length") {
        let len: usize = len.parse().map_err(|_| "bad Content-Length")?;
        rest.get(..len).ok_or("body shorter than Content-Length")?.to_vec()
    } else {
        rest.to_vec()
    };
    Ok(response)
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let end = data.windows(2).position(|w| w == b"\r\n").ok_or("bad chunk")?;
        let size_text = std::str::from_utf8(&data[..end]).map_err(|_| "bad chunk size")?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "bad chunk size")?;
        data = &data[end + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(data.get(..size).ok_or("short chunk")?);
        data = data.get(size + 2..).ok_or("short chunk")?;
    }
}

/// Polls `f` every 10 ms until it returns `Some`, for at most `limit`.
pub fn poll<T>(limit: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The PID of the only child of `parent`: the process that `unshare --pid --fork` started as PID 1
/// of its namespace.
pub fn only_child(parent: u32) -> u32 {
    let path = format!("/proc/{parent}/task/{parent}/children");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let children: Vec<u32> = text.split_whitespace().map(|p| p.parse().unwrap()).collect();
    assert_eq!(children.len(), 1, "children of {parent}: {children:?}");
    children[0]
}

/// A field of `/proc/PID/status` (`VmHWM`, `NSpid`, `Uid`, …), without its name.
pub fn proc_status(pid: u32, field: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("read /proc/PID/status");
    let prefix = format!("{field}:");
    let line = status.lines().find(|l| l.starts_with(&prefix)).unwrap_or_else(|| panic!("no {field} in status"));
    line[prefix.len()..].trim().to_string()
}

/// The peak resident set size of a process, in bytes (`VmHWM`).
pub fn peak_rss(pid: u32) -> u64 {
    let kb = proc_status(pid, "VmHWM");
    kb.trim_end_matches("kB").trim().parse::<u64>().expect("VmHWM in kB") * 1024
}

/// Sends a signal with the `kill` command (no libc binding needed in tests).
pub fn signal(pid: u32, name: &str) {
    let status = Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).status().expect("kill");
    assert!(status.success(), "kill -{name} {pid}");
}

/// Asserts that a finished command failed with `code` and one line on stderr containing `needle`,
/// and no panic.
#[track_caller]
pub fn assert_fails(out: &Output, code: i32, needle: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "exit status; stderr:\n{stderr}");
    assert!(stderr.contains(needle), "stderr lacks {needle:?}:\n{stderr}");
    assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "one line expected:\n{stderr}");
}

/// The text of the first code block that opens with `fence` (```` ```json\n ````, say) after the
/// first `after` in `text`: how the docs tests take a page's configs, commands and outputs.
#[track_caller]
pub fn code_block(text: &str, after: &str, fence: &str) -> String {
    let start = text.find(after).unwrap_or_else(|| panic!("no {after:?}"));
    let rest = &text[start..];
    let open = rest.find(fence).unwrap_or_else(|| panic!("no {fence:?} after {after:?}")) + fence.len();
    let close = rest[open..].find("```").unwrap();
    rest[open..open + close].to_string()
}
