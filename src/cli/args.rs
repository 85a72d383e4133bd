//! Command-line flags: raw arguments are parsed with pico-args, then checked and turned into
//! [`Args`], so the rest of the program only sees valid values.

use super::preview::{MAX_SVG_TICKS, MAX_TICKS};
use crate::config::{Options, Shard, DEFAULT_MAX_SERIES};
use crate::error::Error;
use crate::names::{is_metric_name, DEFAULT_NAMESPACE};
use crate::remote::{self, Target};
use crate::time::{parse_duration, parse_time, Align};
use std::ffi::OsString;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::Duration;

/// What the invocation asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Serve metrics (the default).
    Serve,
    /// `--check-config`: validate, print a summary, exit.
    CheckConfig,
    /// `--preview N`: print the first N values of every series, exit.
    Preview(u64),
    /// `--preview N --svg PATH`: draw ticks 1 to N of every entry as SVG (one document, or one
    /// per entry when PATH is a directory), exit.
    PreviewSvg { path: PathBuf, ticks: u64 },
    /// `--export-promtool-tests FILE --ticks N`: write `input_series` for `promtool test rules`.
    ExportPromtool { path: PathBuf, ticks: u64 },
    /// `--export-openmetrics FILE --start T --ticks N`: write OpenMetrics with timestamps, for
    /// `promtool tsdb create-blocks-from openmetrics`; `start_ms` is Unix milliseconds.
    ExportOpenMetrics { path: PathBuf, start_ms: i64, ticks: u64 },
    /// `--list-functions`
    ListFunctions,
    /// `--version`
    Version,
    /// `-h`, `--help`
    Help,
}

/// Validated flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub mode: Mode,
    /// `--config`; `None` serves the embedded default.
    pub config: Option<PathBuf>,
    pub listen: SocketAddr,
    pub interval: Duration,
    /// `--align`: where ticks fall in time.
    pub align: Align,
    /// Prefix of every metric name; empty for none.
    pub namespace: String,
    /// `--max-series`: the most series a config may expand to.
    pub max_series: u64,
    /// `--shard K/N`: serve only the series whose global number is K mod N.
    pub shard: Option<Shard>,
    /// `--max-connections`: the most client connections open at once.
    pub max_connections: usize,
    /// `--request-head-timeout`: a request head must arrive within this time of its first byte.
    pub head_timeout: Duration,
    /// `--keep-alive-timeout`: a connection that sends nothing for this long is closed.
    pub idle_timeout: Duration,
    pub verbose: bool,
    /// `--watch-config`: reload when the config file changes (see `crate::watch`).
    pub watch_config: bool,
    /// `--remote-write` and its flags: where and how to push every tick.
    pub remote_write: Option<remote::Options>,
    /// `--web.config.file`: TLS and basic auth in the exporter-toolkit format (see `crate::http::web`).
    pub web_config: Option<PathBuf>,
    /// `--web.enable-lifecycle`: whether `POST /-/reload` reloads (else it answers 403).
    pub enable_lifecycle: bool,
    /// `--expected.max-concurrency`: the most `/api/v1/expected` requests computed at once.
    pub expected_max_concurrency: usize,
}

impl Args {
    /// What loading a config depends on besides the file.
    pub fn config_options(&self) -> Options {
        Options { namespace: self.namespace.clone(), max_series: self.max_series, shard: self.shard }
    }
}

/// The default port on the default host.
pub const DEFAULT_PORT: u16 = 8000;
/// The default time between ticks.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);
/// The default of `--max-connections` (SPEC §12).
pub const DEFAULT_MAX_CONNECTIONS: usize = 256;
/// The default of `--request-head-timeout` (SPEC §12).
pub const DEFAULT_HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// The default of `--keep-alive-timeout` (SPEC §12): longer than common scrape intervals, so a
/// scraper's keep-alive connection survives between scrapes.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(120);
/// The default of `--expected.max-concurrency` (SPEC §13): two costly queries can run side by
/// side, and on a machine of two cores or more the ticker and scrapes still find a core.
pub const DEFAULT_EXPECTED_MAX_CONCURRENCY: usize = 2;

/// The text of `--help`.
pub const HELP: &str = "\
metrics-generator: a Prometheus exporter that serves synthetic, predictable metric series

Usage: metrics-generator [FLAGS]

Flags:
  --config PATH               JSON config file (default: the embedded example config)
  --port N                    port on 0.0.0.0 (default: 8000)
  --listen-address HOST:PORT  full listen address, e.g. :8000, 127.0.0.1:9000, [::1]:8000
                              (also --web.listen-address; default: 0.0.0.0:8000)
  --interval DURATION         time between ticks: 250ms, 10s, 1m, 1h30m; > 0 (default: 60s)
  --align start|wall-clock    tick 1 at start-up (start, the default), or at the Unix epoch
                              (wall-clock: every replica serves the same value at the same time)
  --namespace NS              prefix of every metric name (NS_name); \"\" for none
                              (default: test_metrics)
  --max-series N              the most series a config may expand to (default: 1000000)
  --shard K/N                 serve only the series whose number over the whole config is K
                              modulo N (0 <= K < N); K may be `hostname`: the number after
                              the host name's last `-`, a StatefulSet pod's ordinal
  --max-connections N         the most client connections open at once; when full, a new one
                              closes the one waiting longest for a request (default: 256)
  --request-head-timeout DURATION
                              a request head must arrive within this time of its first byte
                              (default: 10s)
  --keep-alive-timeout DURATION
                              a connection that sends nothing for this long is closed
                              (default: 120s)
  --watch-config              reload the config when its file changes (checked every second;
                              follows symlinks, as a mounted ConfigMap changes); needs --config
  --remote-write URL          also push every tick's samples to a Prometheus remote-write
                              receiver (http:// or https://), stamped with their tick's time
  --remote-write-header 'NAME: VALUE'
                              a header sent with each push, e.g. 'X-Scope-OrgID: tenant';
                              repeatable
  --remote-write-bearer-token-file PATH
                              send Authorization: Bearer with the token this file holds
  --remote-write-basic-auth USER:PASSWORD_FILE
                              send basic auth as USER with the password this file holds
  --remote-write-ca-file PATH verify an https receiver with the CA certificates of this PEM
                              file instead of the built-in roots
  --remote-write-queue N      the most ticks waiting to be sent; when full, the oldest is
                              dropped and counted (default: 100)
  --remote-write-history DURATION
                              before going live, push the ticks of that long before start-up,
                              oldest first; needs --align wall-clock
  --web.config.file PATH      TLS and basic auth, in the web configuration format of the
                              Prometheus exporters (tls_server_config, basic_auth_users); read
                              again for each new connection, so certificates rotate in place
  --web.enable-lifecycle      let POST /-/reload reload the config (403 without it); SIGHUP and
                              --watch-config reload either way
  --expected.max-concurrency N
                              the most /api/v1/expected requests computed at once; others wait
                              up to 1s, then get 503 (default: 2)
  -v, --verbose               debug logging (RUST_LOG still wins when set)
  --check-config              validate the config, print a summary, exit 0 (valid) or 2
  --preview N                 print the first N values of every series as a table (a row per
                              tick, a column per series) and exit; 1 ≤ N ≤ 1000000
  --svg PATH                  with --preview N: draw ticks 1 to N of every entry as SVG charts
                              instead, in one file, or one file per entry (NAME.svg) when PATH
                              is a directory; N ≤ 10000
  --export-promtool-tests FILE
                              write the input_series of a `promtool test rules` file for ticks
                              1 to N (--ticks N) of every series, and exit; FILE - is stdout
  --export-openmetrics FILE   write every series as OpenMetrics with timestamps, for
                              `promtool tsdb create-blocks-from openmetrics`: N ticks (--ticks N)
                              from time T (--start T, Unix seconds or RFC 3339), and exit
  --ticks N                   how many ticks an export writes; 1 ≤ N ≤ 1000000
  --start T                   the time an OpenMetrics export starts at
  --list-functions            print every registered function with its params
  --version                   print the version
  -h, --help                  print this help

Endpoints:
  /metrics                    the series (Prometheus text, OpenMetrics; gzip)
  /health                     JSON health: 200 healthy, 503 when the ticker is stuck
  /-/healthy, /-/ready        liveness and readiness probes
  /-/reload                   POST or PUT: reload the config, as SIGHUP does (needs
                              --web.enable-lifecycle)
  /api/v1/expected            the values a series had, has or will have (?metric=NAME&time=T)
  /                           a landing page linking them
";

impl Args {
    /// Parses the process's own arguments.
    pub fn from_env() -> Result<Args, Error> {
        Args::parse(std::env::args_os().skip(1).collect())
    }

    /// Parses arguments (without the program name).
    pub fn parse(raw: Vec<OsString>) -> Result<Args, Error> {
        parse(raw)
    }
}

/// Parses arguments (without the program name) into validated [`Args`].
fn parse(raw: Vec<OsString>) -> Result<Args, Error> {
    let usage = |m: String| Error::Usage(m);
    let mut p = pico_args::Arguments::from_vec(raw);

    let preview = value(&mut p, "--preview")?;
    let svg = value(&mut p, "--svg")?;
    let export_promtool = value(&mut p, "--export-promtool-tests")?;
    let export_openmetrics = value(&mut p, "--export-openmetrics")?;
    let ticks = value(&mut p, "--ticks")?;
    let start = value(&mut p, "--start")?;
    let help = p.contains(["-h", "--help"]);
    let version = p.contains("--version");
    let list_functions = p.contains("--list-functions");
    let check_config = p.contains("--check-config");
    // The modes that print something and exit instead of serving: at most one of them.
    let outputs: Vec<&str> = [
        (check_config, "--check-config"),
        (preview.is_some(), "--preview"),
        (export_promtool.is_some(), "--export-promtool-tests"),
        (export_openmetrics.is_some(), "--export-openmetrics"),
    ]
    .into_iter()
    .filter_map(|(given, flag)| given.then_some(flag))
    .collect();
    let exporting = export_promtool.is_some() || export_openmetrics.is_some();
    let mode = if help {
        Mode::Help
    } else if version {
        Mode::Version
    } else if list_functions {
        Mode::ListFunctions
    } else if let [first, second, ..] = outputs[..] {
        return Err(usage(format!("{first} and {second} cannot be given together")));
    } else if svg.is_some() && preview.is_none() {
        return Err(usage("--svg is for --preview".into()));
    } else if ticks.is_some() && !exporting {
        return Err(usage("--ticks is for --export-promtool-tests and --export-openmetrics".into()));
    } else if start.is_some() && export_openmetrics.is_none() {
        return Err(usage("--start is for --export-openmetrics".into()));
    } else if check_config {
        Mode::CheckConfig
    } else if let Some(ticks) = preview {
        let ticks = parse_ticks("--preview", &ticks).map_err(usage)?;
        match svg {
            None => Mode::Preview(ticks),
            Some(_) if ticks > MAX_SVG_TICKS => {
                return Err(usage(format!("--svg draws at most {MAX_SVG_TICKS} ticks; --preview asks for {ticks}")))
            }
            Some(path) => Mode::PreviewSvg { path: PathBuf::from(path), ticks },
        }
    } else if exporting {
        let Some(ticks) = ticks else {
            return Err(usage(format!("{} needs --ticks N", outputs[0])));
        };
        let ticks = parse_ticks("--ticks", &ticks).map_err(usage)?;
        match (export_promtool, export_openmetrics) {
            (Some(path), _) => Mode::ExportPromtool { path: PathBuf::from(path), ticks },
            (None, Some(path)) => {
                let Some(start) = start else {
                    return Err(usage("--export-openmetrics needs --start T".into()));
                };
                let start_ms = parse_time(&start).map_err(|m| usage(format!("--start: {m}")))?;
                Mode::ExportOpenMetrics { path: PathBuf::from(path), start_ms, ticks }
            }
            (None, None) => unreachable!("exporting means one of the two"),
        }
    } else {
        Mode::Serve
    };
    let verbose = p.contains(["-v", "--verbose"]);
    let watch_config = p.contains("--watch-config");
    let enable_lifecycle = p.contains("--web.enable-lifecycle");

    let config: Option<PathBuf> = value(&mut p, "--config")?.map(PathBuf::from);
    let port = value(&mut p, "--port")?;
    let listen_address = value(&mut p, "--listen-address")?;
    let web_listen_address = value(&mut p, "--web.listen-address")?;
    let interval = value(&mut p, "--interval")?;
    let align = value(&mut p, "--align")?;
    let namespace = value(&mut p, "--namespace")?;
    let max_series = value(&mut p, "--max-series")?;
    let shard = value(&mut p, "--shard")?;
    let max_connections = value(&mut p, "--max-connections")?;
    let head_timeout = value(&mut p, "--request-head-timeout")?;
    let idle_timeout = value(&mut p, "--keep-alive-timeout")?;
    let remote_write = remote_write_flags(&mut p)?;
    let web_config: Option<PathBuf> = value(&mut p, "--web.config.file")?.map(PathBuf::from);
    let expected_max_concurrency = value(&mut p, "--expected.max-concurrency")?;

    let rest = p.finish();
    if let Some(first) = rest.first() {
        let shown = first.to_string_lossy();
        return Err(usage(if shown.starts_with('-') {
            let suggestion = closest_flag(&shown).map(|f| format!("; did you mean {f}?")).unwrap_or_default();
            format!("unknown or repeated flag {shown}{suggestion}")
        } else {
            format!("unexpected argument {shown:?}")
        }));
    }

    let listen = match (port, listen_address, web_listen_address) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            return Err(usage("--port and --listen-address cannot be given together".into()))
        }
        (_, Some(_), Some(_)) => {
            return Err(usage("--listen-address and --web.listen-address are the same flag; give one".into()))
        }
        (Some(port), None, None) => {
            let port: u16 = port.parse().map_err(|_| usage(format!("--port: {port:?} is not a port (0 to 65535)")))?;
            SocketAddr::from(([0, 0, 0, 0], port))
        }
        (None, Some(addr), None) | (None, None, Some(addr)) => parse_listen_address(&addr).map_err(usage)?,
        (None, None, None) => SocketAddr::from(([0, 0, 0, 0], DEFAULT_PORT)),
    };

    let interval = match interval {
        None => DEFAULT_INTERVAL,
        Some(s) => parse_duration(&s).map_err(|m| usage(format!("--interval: {m}")))?,
    };

    let align = match align {
        None => Align::Start,
        Some(s) => {
            Align::parse(&s).ok_or_else(|| usage(format!("--align: {s:?} is not an alignment (start, wall-clock)")))?
        }
    };

    let namespace = namespace.unwrap_or_else(|| DEFAULT_NAMESPACE.to_string());
    if !namespace.is_empty() && !is_metric_name(&namespace) {
        return Err(usage(format!(
            "--namespace: {namespace:?} is not a valid metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*)"
        )));
    }

    let shard = shard.map(|s| parse_shard(&s, host_name)).transpose().map_err(usage)?;
    let max_series = match max_series {
        None => DEFAULT_MAX_SERIES,
        Some(s) => s
            .parse::<u64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| usage(format!("--max-series: {s:?} is not a whole number > 0")))?,
    };

    let max_connections = match max_connections {
        None => DEFAULT_MAX_CONNECTIONS,
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=1_000_000).contains(n))
            .ok_or_else(|| usage(format!("--max-connections: {s:?} is not a whole number from 1 to 1000000")))?,
    };
    let duration = |flag: &str, value: Option<String>, default: Duration| match value {
        None => Ok(default),
        Some(s) => parse_duration(&s).map_err(|m| usage(format!("{flag}: {m}"))),
    };
    let head_timeout = duration("--request-head-timeout", head_timeout, DEFAULT_HEAD_TIMEOUT)?;
    let idle_timeout = duration("--keep-alive-timeout", idle_timeout, DEFAULT_IDLE_TIMEOUT)?;

    let remote_write = remote_write.check(align).map_err(usage)?;
    let expected_max_concurrency =
        match expected_max_concurrency {
            None => DEFAULT_EXPECTED_MAX_CONCURRENCY,
            Some(s) => s.parse::<usize>().ok().filter(|n| (1..=1024).contains(n)).ok_or_else(|| {
                usage(format!("--expected.max-concurrency: {s:?} is not a whole number from 1 to 1024"))
            })?,
        };

    if watch_config && config.is_none() {
        return Err(usage("--watch-config needs --config PATH (the embedded default never changes)".into()));
    }

    Ok(Args {
        mode,
        config,
        listen,
        interval,
        align,
        namespace,
        max_series,
        shard,
        max_connections,
        head_timeout,
        idle_timeout,
        verbose,
        watch_config,
        remote_write,
        web_config,
        enable_lifecycle,
        expected_max_concurrency,
    })
}

/// `K/N` or `hostname/N` (with the host name that `host_name` reads) into a shard.
fn parse_shard(s: &str, host_name: fn() -> Option<String>) -> Result<Shard, String> {
    let bad = || format!("--shard: {s:?} is not K/N (e.g. 0/3) or hostname/N");
    let (k, n) = s.split_once('/').ok_or_else(bad)?;
    let count: u64 = n.trim().parse().map_err(|_| bad())?;
    if count == 0 {
        return Err(format!("--shard: {s:?}: N must be at least 1"));
    }
    let index: u64 = if k == "hostname" {
        let host = host_name().ok_or_else(|| "--shard hostname/N: the host name cannot be read".to_string())?;
        let ordinal = host.rsplit_once('-').map(|(_, n)| n).unwrap_or("");
        ordinal.parse().map_err(|_| {
            format!("--shard hostname/N: the host name {host:?} does not end in -NUMBER (a StatefulSet pod's ordinal)")
        })?
    } else {
        k.trim().parse().map_err(|_| bad())?
    };
    if index >= count {
        return Err(format!("--shard: {s:?}: K must be less than N (shards are numbered 0 to {})", count - 1));
    }
    Ok(Shard { index, count })
}

/// The host name: `HOSTNAME` from the environment (Kubernetes sets it to the pod's name), else
/// the kernel's.
fn host_name() -> Option<String> {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok().map(|h| h.trim().to_string()))
}

/// The `--remote-write*` flags as given.
struct RemoteWriteFlags {
    url: Option<String>,
    headers: Vec<String>,
    bearer_token_file: Option<String>,
    basic_auth: Option<String>,
    ca_file: Option<String>,
    queue: Option<String>,
    history: Option<String>,
}

fn remote_write_flags(p: &mut pico_args::Arguments) -> Result<RemoteWriteFlags, Error> {
    let headers = p.values_from_str::<_, String>("--remote-write-header").map_err(|e| {
        Error::Usage(match e {
            pico_args::Error::OptionWithoutAValue(_) => "--remote-write-header needs a value".into(),
            other => format!("--remote-write-header: {other}"),
        })
    })?;
    Ok(RemoteWriteFlags {
        url: value(p, "--remote-write")?,
        headers,
        bearer_token_file: value(p, "--remote-write-bearer-token-file")?,
        basic_auth: value(p, "--remote-write-basic-auth")?,
        ca_file: value(p, "--remote-write-ca-file")?,
        queue: value(p, "--remote-write-queue")?,
        history: value(p, "--remote-write-history")?,
    })
}

impl RemoteWriteFlags {
    /// Checks the flags and reads the files they name (a token, a password, CA certificates),
    /// so that none can fail once serving.
    fn check(self, align: Align) -> Result<Option<remote::Options>, String> {
        let Some(url) = self.url else {
            let given = [
                (!self.headers.is_empty(), "--remote-write-header"),
                (self.bearer_token_file.is_some(), "--remote-write-bearer-token-file"),
                (self.basic_auth.is_some(), "--remote-write-basic-auth"),
                (self.ca_file.is_some(), "--remote-write-ca-file"),
                (self.queue.is_some(), "--remote-write-queue"),
                (self.history.is_some(), "--remote-write-history"),
            ];
            return match given.iter().find(|(given, _)| *given) {
                Some((_, flag)) => Err(format!("{flag} needs --remote-write URL")),
                None => Ok(None),
            };
        };
        let target = Target::parse(&url).map_err(|m| format!("--remote-write: {m}"))?;
        let headers = self.headers.iter().map(|h| remote::options::parse_header(h)).collect::<Result<Vec<_>, _>>()?;
        let authorization = match (self.bearer_token_file, self.basic_auth) {
            (Some(_), Some(_)) => {
                return Err(
                    "--remote-write-bearer-token-file and --remote-write-basic-auth cannot be given together".into()
                )
            }
            (Some(file), None) => Some(remote::options::Credentials::Bearer(file.into())),
            (None, Some(auth)) => Some(remote::options::Credentials::basic(&auth)?),
            (None, None) => None,
        };
        if let Some(credentials) = &authorization {
            // Read once now, so that a file that cannot be read stops start-up.
            credentials.header()?;
            if headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("authorization")) {
                return Err("--remote-write-header: Authorization is set by the bearer token or basic auth flag".into());
            }
        }
        let ca = self.ca_file.map(|file| remote::options::read_ca_file(file.as_ref())).transpose()?;
        if ca.is_some() && !target.tls {
            return Err(format!("--remote-write-ca-file is for https:// URLs, and {url:?} is not one"));
        }
        let queue = match self.queue {
            None => remote::DEFAULT_QUEUE,
            Some(s) => s
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=100_000).contains(n))
                .ok_or_else(|| format!("--remote-write-queue: {s:?} is not a number of ticks from 1 to 100000"))?,
        };
        let history =
            self.history.map(|s| parse_duration(&s).map_err(|m| format!("--remote-write-history: {m}"))).transpose()?;
        if history.is_some() && align != Align::WallClock {
            return Err("--remote-write-history needs --align wall-clock: with --align start, tick 1 is start-up and \
                        no tick comes before it"
                .into());
        }
        Ok(Some(remote::Options { target, headers, authorization, ca, queue, history }))
    }
}

/// The flag of `--help` nearest to `given` (`--intervall` → `--interval`), when it is near enough
/// to be a typo: at most two edits, and fewer than a third of the name.
fn closest_flag(given: &str) -> Option<&'static str> {
    let given = given.split('=').next().unwrap_or(given);
    let flags = HELP.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ';').filter_map(|word| {
        let flag = word.trim_end_matches(|c: char| !c.is_ascii_alphanumeric());
        (flag.starts_with("--") && flag.len() > 2).then_some(flag)
    });
    flags
        .map(|flag| (edit_distance(given, flag), flag))
        .filter(|&(d, flag)| d > 0 && d <= 2 && d * 3 < flag.len() - 2)
        .min_by_key(|&(d, _)| d)
        .map(|(_, flag)| flag)
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let next = (diagonal + usize::from(ca != cb)).min(row[j] + 1).min(row[j + 1] + 1);
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// A flag's value as UTF-8 text.
fn value(p: &mut pico_args::Arguments, flag: &'static str) -> Result<Option<String>, Error> {
    p.opt_value_from_str(flag).map_err(|e| {
        Error::Usage(match e {
            pico_args::Error::OptionWithoutAValue(_) => format!("{flag} needs a value"),
            pico_args::Error::NonUtf8Argument => format!("{flag}: the value is not valid UTF-8"),
            other => format!("{flag}: {other}"),
        })
    })
}

/// The N of `--preview N` or `--ticks N`: an integer from 1 to [`MAX_TICKS`].
fn parse_ticks(flag: &str, s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .ok()
        .filter(|n| (1..=MAX_TICKS).contains(n))
        .ok_or_else(|| format!("{flag}: {s:?} is not a number of ticks from 1 to {MAX_TICKS}"))
}

/// `:8000` (all IPv4 interfaces), `127.0.0.1:9000`, `[::1]:8000`, `localhost:8000`.
pub fn parse_listen_address(s: &str) -> Result<SocketAddr, String> {
    let full = if s.starts_with(':') { format!("0.0.0.0{s}") } else { s.to_string() };
    if let Ok(addr) = full.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let bad = || format!("--listen-address: {s:?} is not HOST:PORT (e.g. :8000, 127.0.0.1:9000, [::1]:8000)");
    match full.rsplit_once(':') {
        Some((host, port)) if !host.is_empty() && port.parse::<u16>().is_ok() => {
            let unresolved = |why: String| format!("--listen-address: cannot resolve the host {host:?} ({why})");
            let mut addrs = full.to_socket_addrs().map_err(|e| unresolved(e.to_string()))?;
            addrs.next().ok_or_else(|| unresolved("it has no address".into()))
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Args, String> {
        parse(list.iter().map(OsString::from).collect()).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults() {
        let a = args(&[]).unwrap();
        assert_eq!(a.mode, Mode::Serve);
        assert_eq!(a.listen, "0.0.0.0:8000".parse().unwrap());
        assert_eq!(a.interval, Duration::from_secs(60));
        assert_eq!(a.namespace, "test_metrics");
        assert_eq!(a.max_series, 1_000_000);
        assert_eq!(a.max_connections, 256);
        assert_eq!((a.head_timeout, a.idle_timeout), (Duration::from_secs(10), Duration::from_secs(120)));
        assert!(!a.verbose && a.config.is_none());
        assert!(!a.enable_lifecycle && a.web_config.is_none());
        assert_eq!(a.expected_max_concurrency, 2);
    }

    #[test]
    fn flags() {
        let a = args(&["--port", "0", "--interval=250ms", "--namespace", "", "-v", "--config", "c.json"]).unwrap();
        assert_eq!(a.listen, "0.0.0.0:0".parse().unwrap());
        assert_eq!(a.interval, Duration::from_millis(250));
        assert_eq!(a.namespace, "");
        assert!(a.verbose);
        assert_eq!(a.config, Some(PathBuf::from("c.json")));
        assert_eq!(args(&["--listen-address", ":9000"]).unwrap().listen, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(args(&["--web.listen-address", "[::1]:80"]).unwrap().listen, "[::1]:80".parse().unwrap());
        assert_eq!(args(&["--check-config"]).unwrap().mode, Mode::CheckConfig);
        let limits =
            args(&["--max-connections", "8", "--request-head-timeout", "2s", "--keep-alive-timeout=1s"]).unwrap();
        assert_eq!(limits.max_connections, 8);
        assert_eq!((limits.head_timeout, limits.idle_timeout), (Duration::from_secs(2), Duration::from_secs(1)));
        assert_eq!(args(&["--preview", "20"]).unwrap().mode, Mode::Preview(20));
        let web = args(&["--web.config.file", "web.yml", "--web.enable-lifecycle", "--expected.max-concurrency=5"]);
        let web = web.unwrap();
        assert_eq!(web.web_config, Some(PathBuf::from("web.yml")));
        assert!(web.enable_lifecycle);
        assert_eq!(web.expected_max_concurrency, 5);
        assert_eq!(args(&["--preview=1000000"]).unwrap().mode, Mode::Preview(1_000_000));
        assert_eq!(
            args(&["--preview", "60", "--svg", "docs/pictures"]).unwrap().mode,
            Mode::PreviewSvg { path: PathBuf::from("docs/pictures"), ticks: 60 }
        );
        assert_eq!(args(&[]).unwrap().align, Align::Start);
        assert_eq!(args(&["--align", "wall-clock"]).unwrap().align, Align::WallClock);
        assert_eq!(
            args(&["--export-promtool-tests", "t.yml", "--ticks", "20"]).unwrap().mode,
            Mode::ExportPromtool { path: PathBuf::from("t.yml"), ticks: 20 }
        );
        assert_eq!(
            args(&["--export-openmetrics", "-", "--ticks", "3", "--start", "2023-11-14T22:13:20Z"]).unwrap().mode,
            Mode::ExportOpenMetrics { path: PathBuf::from("-"), start_ms: 1_700_000_000_000, ticks: 3 }
        );
    }

    #[test]
    fn bad_flags() {
        let cases: &[(&[&str], &str)] = &[
            (&["--bogus"], "unknown or repeated flag --bogus (see --help)"),
            (&["--intervall", "1s"], "unknown or repeated flag --intervall; did you mean --interval? (see --help)"),
            (&["--confg=x.json"], "unknown or repeated flag --confg=x.json; did you mean --config? (see --help)"),
            (&["--chek-config"], "unknown or repeated flag --chek-config; did you mean --check-config? (see --help)"),
            (&["--web.listen-adress", ":1"], "unknown or repeated flag --web.listen-adress; did you mean --web.listen-address? (see --help)"),
            (&["--watch-config"], "--watch-config needs --config PATH (the embedded default never changes) (see --help)"),
            (&["stray"], "unexpected argument \"stray\" (see --help)"),
            (
                &["--port", "1", "--listen-address", ":2"],
                "--port and --listen-address cannot be given together (see --help)",
            ),
            (&["--port", "x"], "--port: \"x\" is not a port (0 to 65535) (see --help)"),
            (&["--max-series", "0"], "--max-series: \"0\" is not a whole number > 0 (see --help)"),
            (&["--port"], "--port needs a value (see --help)"),
            (
                &["--max-connections", "0"],
                "--max-connections: \"0\" is not a whole number from 1 to 1000000 (see --help)",
            ),
            (
                &["--keep-alive-timeout", "0s"],
                "--keep-alive-timeout: \"0s\": the interval must be greater than zero (see --help)",
            ),
            (&["--preview"], "--preview needs a value (see --help)"),
            (&["--svg", "x.svg"], "--svg is for --preview (see --help)"),
            (&["--preview", "10001", "--svg", "x.svg"], "--svg draws at most 10000 ticks; --preview asks for 10001 (see --help)"),
            (
                &["--expected.max-concurrency", "0"],
                "--expected.max-concurrency: \"0\" is not a whole number from 1 to 1024 (see --help)",
            ),
            (&["--web.config.file"], "--web.config.file needs a value (see --help)"),
            (
                &["--web.enable-lifecyle"],
                "unknown or repeated flag --web.enable-lifecyle; did you mean --web.enable-lifecycle? (see --help)",
            ),
            (&["--preview", "0"], "--preview: \"0\" is not a number of ticks from 1 to 1000000 (see --help)"),
            (
                &["--preview", "1000001"],
                "--preview: \"1000001\" is not a number of ticks from 1 to 1000000 (see --help)",
            ),
            (&["--preview", "-3"], "--preview: \"-3\" is not a number of ticks from 1 to 1000000 (see --help)"),
            (&["--preview", "ten"], "--preview: \"ten\" is not a number of ticks from 1 to 1000000 (see --help)"),
            (
                &["--preview", "5", "--check-config"],
                "--check-config and --preview cannot be given together (see --help)",
            ),
            (
                &["--preview", "5", "--export-promtool-tests", "x", "--ticks", "2"],
                "--preview and --export-promtool-tests cannot be given together (see --help)",
            ),
            (&["--export-promtool-tests", "x"], "--export-promtool-tests needs --ticks N (see --help)"),
            (&["--export-openmetrics", "x", "--ticks", "2"], "--export-openmetrics needs --start T (see --help)"),
            (
                &["--export-promtool-tests", "x", "--ticks", "0"],
                "--ticks: \"0\" is not a number of ticks from 1 to 1000000 (see --help)",
            ),
            (&["--ticks", "3"], "--ticks is for --export-promtool-tests and --export-openmetrics (see --help)"),
            (
                &["--export-promtool-tests", "x", "--ticks", "2", "--start", "0"],
                "--start is for --export-openmetrics (see --help)",
            ),
            (
                &["--export-openmetrics", "x", "--ticks", "2", "--start", "yesterday"],
                "--start: \"yesterday\" is not a time (Unix seconds such as 1700000000.5, or RFC 3339 such as 2023-11-14T22:13:20Z) (see --help)",
            ),
            (&["--align", "epoch"], "--align: \"epoch\" is not an alignment (start, wall-clock) (see --help)"),
            (&["--interval", "0s"], "--interval: \"0s\": the interval must be greater than zero (see --help)"),
            (&["--interval", "10"], "--interval: \"10\" has a number without a unit (ms, s, m, h, d) (see --help)"),
            (
                &["--interval", "fast"],
                "--interval: \"fast\" is not a duration (e.g. 250ms, 10s, 1m, 1h30m) (see --help)",
            ),
            (
                &["--namespace", "9x"],
                "--namespace: \"9x\" is not a valid metric name prefix ([a-zA-Z_:][a-zA-Z0-9_:]*) (see --help)",
            ),
            (
                &["--listen-address", "nowhere"],
                "--listen-address: \"nowhere\" is not HOST:PORT (e.g. :8000, 127.0.0.1:9000, [::1]:8000) (see --help)",
            ),
        ];
        for (list, expected) in cases {
            assert_eq!(args(list).unwrap_err(), *expected, "{list:?}");
        }
    }
}
