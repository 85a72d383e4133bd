//! The `--remote-write*` flags, turned into [`Options`] once at start-up: a URL that does not
//! parse, an unknown scheme, a header without a colon or an auth file that cannot be read is one
//! clear line and exit status 2, before anything is sent.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// The default of `--remote-write-queue`, in ticks.
pub const DEFAULT_QUEUE: usize = 100;

/// Where to send: the parsed `--remote-write` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as given, for log lines.
    pub url: String,
    /// `https`.
    pub tls: bool,
    /// The host, without brackets for IPv6 (what is resolved and what TLS verifies).
    pub host: String,
    pub port: u16,
    /// The `Host` header: the authority as given.
    pub authority: String,
    /// The path and query, `/` when empty.
    pub path: String,
}

impl Target {
    /// Parses an `http://` or `https://` URL: `https://mimir.example:8080/api/v1/push`.
    pub fn parse(url: &str) -> Result<Target, String> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or_else(|| format!("{url:?} is not a URL (e.g. http://localhost:9090/api/v1/write)"))?;
        let tls = match scheme.to_ascii_lowercase().as_str() {
            "http" => false,
            "https" => true,
            _ => return Err(format!("{url:?}: unknown scheme {scheme:?} (http or https)")),
        };
        if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(format!("{url:?} is not a URL: it holds a space or control character"));
        }
        let (authority, path) = match rest.find(['/', '?']) {
            Some(at) => (&rest[..at], rest[at..].to_string()),
            None => (rest, "/".to_string()),
        };
        let path = if path.starts_with('?') { format!("/{path}") } else { path };
        let authority = authority.split_once('#').map_or(authority, |(a, _)| a);
        if authority.contains('@') {
            return Err(format!("{url:?}: give credentials with --remote-write-basic-auth, not in the URL"));
        }
        let default_port = if tls { 443 } else { 80 };
        let bad_port = |p: &str| format!("{url:?}: {p:?} is not a port (1 to 65535)");
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6.split_once(']').ok_or_else(|| format!("{url:?}: an IPv6 host needs its ]"))?;
            match after.strip_prefix(':') {
                Some(p) => (host, p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| bad_port(p))?),
                None if after.is_empty() => (host, default_port),
                None => return Err(format!("{url:?} is not a URL: {after:?} after the host")),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((host, p)) => (host, p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| bad_port(p))?),
                None => (authority, default_port),
            }
        };
        if host.is_empty() {
            return Err(format!("{url:?} is not a URL: it has no host"));
        }
        Ok(Target { url: url.to_string(), tls, host: host.to_string(), port, authority: authority.to_string(), path })
    }
}

/// Validated `--remote-write*` flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub target: Target,
    /// `--remote-write-header`, as `(name, value)` in the order given.
    pub headers: Vec<(String, String)>,
    /// `Authorization`, from a token or password file read again for every request.
    pub authorization: Option<Credentials>,
    /// `--remote-write-ca-file`: the DER certificates it holds, which replace the built-in roots.
    pub ca: Option<Vec<Vec<u8>>>,
    /// `--remote-write-queue`: the most ticks waiting to be sent.
    pub queue: usize,
    /// `--remote-write-history`: how far before start-up to send from.
    pub history: Option<Duration>,
}

/// Headers that remote write sets itself, which `--remote-write-header` may not replace.
const RESERVED: [&str; 8] = [
    "host",
    "content-length",
    "content-type",
    "content-encoding",
    "transfer-encoding",
    "connection",
    "user-agent",
    "x-prometheus-remote-write-version",
];

/// `Name: value` of `--remote-write-header`.
pub fn parse_header(text: &str) -> Result<(String, String), String> {
    let flag = "--remote-write-header";
    let (name, value) = text.split_once(':').ok_or_else(|| format!("{flag}: {text:?} has no colon (Name: value)"))?;
    let (name, value) = (name.trim(), value.trim());
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    if name.is_empty() || !name.chars().all(token) {
        return Err(format!("{flag}: {name:?} is not a header name"));
    }
    if value.chars().any(|c| c.is_control() && c != '\t') {
        return Err(format!("{flag}: the value of {name} holds a control character"));
    }
    if RESERVED.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(format!("{flag}: {name} is set by remote write itself"));
    }
    Ok((name.to_string(), value.to_string()))
}

/// A secret from a file, without its trailing newline (as Prometheus reads them).
pub fn read_secret(flag: &str, path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{flag}: cannot read {}: {e}", path.display()))?;
    Ok(text.trim_end_matches(['\r', '\n']).to_string())
}

/// Where the `Authorization` header comes from: `--remote-write-bearer-token-file` or
/// `--remote-write-basic-auth`. The file is read again for every request, as Prometheus does, so
/// a token or password that rotates (a Kubernetes projected service-account token does, hourly)
/// is sent from the next request on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    Bearer(PathBuf),
    Basic { user: String, password_file: PathBuf },
}

impl Credentials {
    /// `--remote-write-basic-auth USER:PASSWORD_FILE`.
    pub fn basic(text: &str) -> Result<Credentials, String> {
        let flag = "--remote-write-basic-auth";
        let (user, file) = text.split_once(':').ok_or_else(|| format!("{flag}: {text:?} is not USER:PASSWORD_FILE"))?;
        if file.is_empty() {
            return Err(format!("{flag}: {text:?} is not USER:PASSWORD_FILE"));
        }
        Ok(Credentials::Basic { user: user.to_string(), password_file: file.into() })
    }

    /// The value of `Authorization`, from the file as it is now.
    pub fn header(&self) -> Result<String, String> {
        match self {
            Credentials::Bearer(file) => {
                Ok(format!("Bearer {}", read_secret("--remote-write-bearer-token-file", file)?))
            }
            Credentials::Basic { user, password_file } => {
                let password = read_secret("--remote-write-basic-auth", password_file)?;
                Ok(format!("Basic {}", base64(format!("{user}:{password}").as_bytes())))
            }
        }
    }
}

/// The certificates of a PEM file, for `--remote-write-ca-file`.
pub fn read_ca_file(path: &Path) -> Result<Vec<Vec<u8>>, String> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let flag = "--remote-write-ca-file";
    let bytes = std::fs::read(path).map_err(|e| format!("{flag}: cannot read {}: {e}", path.display()))?;
    let certs: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(&bytes)
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{flag}: {} is not PEM: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{flag}: {} holds no PEM certificate", path.display()));
    }
    let mut roots = rustls::RootCertStore::empty();
    for cert in &certs {
        roots
            .add(CertificateDer::from(cert.clone()))
            .map_err(|e| format!("{flag}: {}: a certificate cannot be used as a root: {e}", path.display()))?;
    }
    Ok(certs)
}

/// Standard base64 with padding (RFC 4648), for basic auth.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_into_host_port_and_path() {
        let t = Target::parse("https://mimir.example:8080/api/v1/push?x=1").unwrap();
        assert_eq!(
            (t.tls, t.host.as_str(), t.port, t.path.as_str()),
            (true, "mimir.example", 8080, "/api/v1/push?x=1")
        );
        let t = Target::parse("http://[::1]:9090/api/v1/write").unwrap();
        assert_eq!((t.host.as_str(), t.port, t.authority.as_str()), ("::1", 9090, "[::1]:9090"));
        let t = Target::parse("HTTP://localhost").unwrap();
        assert_eq!((t.tls, t.port, t.path.as_str()), (false, 80, "/"));
        assert_eq!(Target::parse("https://h?q").unwrap().path, "/?q");
        for (bad, message) in [
            ("localhost:9090", "\"localhost:9090\" is not a URL (e.g. http://localhost:9090/api/v1/write)"),
            ("ftp://x/", "\"ftp://x/\": unknown scheme \"ftp\" (http or https)"),
            ("http:///write", "\"http:///write\" is not a URL: it has no host"),
            ("http://h:0/", "\"http://h:0/\": \"0\" is not a port (1 to 65535)"),
            ("http://h:port/", "\"http://h:port/\": \"port\" is not a port (1 to 65535)"),
            ("http://u:p@h/", "\"http://u:p@h/\": give credentials with --remote-write-basic-auth, not in the URL"),
            ("http://h /", "\"http://h /\" is not a URL: it holds a space or control character"),
        ] {
            assert_eq!(Target::parse(bad).unwrap_err(), message, "{bad}");
        }
    }

    #[test]
    fn headers_need_a_colon_a_name_and_no_reserved_name() {
        assert_eq!(parse_header("X-Scope-OrgID: tenant-1").unwrap(), ("X-Scope-OrgID".into(), "tenant-1".into()));
        assert_eq!(parse_header("A:b: c").unwrap(), ("A".into(), "b: c".into()));
        assert!(parse_header("no colon").unwrap_err().contains("has no colon"));
        assert!(parse_header("bad name: x").unwrap_err().contains("is not a header name"));
        assert!(parse_header("content-type: text/plain").unwrap_err().contains("set by remote write itself"));
    }

    #[test]
    fn base64_pads_as_rfc_4648_says() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("user:pass", "dXNlcjpwYXNz"),
        ] {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }
}
