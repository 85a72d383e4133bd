//! Reading the web configuration's YAML into [`Settings`], with the checks exporter-toolkit makes
//! (and an error for what it accepts but this server does not do). Messages name the key.

use crate::text::quoted;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

/// What the web configuration asks for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Settings {
    /// `tls_server_config`: HTTPS.
    pub tls: Option<TlsSettings>,
    /// `basic_auth_users`: user and bcrypt hash, in the file's order.
    pub users: Vec<(String, String)>,
}

/// `tls_server_config`, with its files resolved against the web configuration's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
    pub client_ca_file: Option<PathBuf>,
    pub client_auth: ClientAuth,
    pub min_version: TlsVersion,
    pub max_version: Option<TlsVersion>,
}

/// `client_auth_type`, named as Go's `crypto/tls` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    /// `NoClientCert` (the default): no client certificate is asked for.
    None,
    /// `RequestClientCert`: asked for, not required, not checked against a CA.
    Request,
    /// `RequireAnyClientCert`: required, not checked against a CA.
    RequireAny,
    /// `VerifyClientCertIfGiven`: not required; when given, checked against `client_ca_file`.
    VerifyIfGiven,
    /// `RequireAndVerifyClientCert`: required and checked against `client_ca_file`.
    RequireAndVerify,
}

impl ClientAuth {
    const NAMES: [(&'static str, ClientAuth); 5] = [
        ("NoClientCert", ClientAuth::None),
        ("RequestClientCert", ClientAuth::Request),
        ("RequireAnyClientCert", ClientAuth::RequireAny),
        ("VerifyClientCertIfGiven", ClientAuth::VerifyIfGiven),
        ("RequireAndVerifyClientCert", ClientAuth::RequireAndVerify),
    ];

    /// Whether a client certificate is checked against `client_ca_file`.
    pub fn verifies(self) -> bool {
        matches!(self, ClientAuth::VerifyIfGiven | ClientAuth::RequireAndVerify)
    }
}

/// `min_version` and `max_version`: TLS 1.2 or 1.3 (rustls does not do older ones). The server
/// speaks TLS 1.3 only, so a `min_version` admits it either way and `max_version: TLS12` is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

/// Parses the file's text; relative file names are resolved against `base`, its directory, as
/// exporter-toolkit does.
pub fn settings(text: &str, base: &Path) -> Result<Settings, String> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| {
        let mark = e.marker();
        // The parser names a duplicate key by its debug form (`String("a")`); said plainly here.
        let info =
            if e.info().ends_with("duplicated key in mapping") { "a key given twice in one mapping" } else { e.info() };
        format!("line {}, column {}: {info}", mark.line(), mark.col() + 1)
    })?;
    let root = match docs.as_slice() {
        [] | [Yaml::Null] => return Ok(Settings::default()),
        [root] => root,
        _ => return Err("holds more than one YAML document".into()),
    };
    let mut settings = Settings::default();
    for (key, value) in mapping(root, "the file")? {
        match key {
            "tls_server_config" => settings.tls = tls(value, base)?,
            "basic_auth_users" => settings.users = users(value)?,
            "http_server_config" | "rate_limit" => {
                return Err(format!(
                    "{key} is not supported by metrics-generator (tls_server_config, basic_auth_users)"
                ))
            }
            other => return Err(format!("unknown key {} (tls_server_config, basic_auth_users)", quoted(other))),
        }
    }
    Ok(settings)
}

/// A mapping's entries, with string keys; `null` is an empty mapping.
fn mapping<'a>(yaml: &'a Yaml, what: &str) -> Result<Vec<(&'a str, &'a Yaml)>, String> {
    match yaml {
        Yaml::Null => Ok(Vec::new()),
        Yaml::Hash(hash) => hash
            .iter()
            .map(|(k, v)| match k {
                Yaml::String(k) => Ok((k.as_str(), v)),
                other => Err(format!("{what}: the key {} is not a string", shown(other))),
            })
            .collect(),
        other => Err(format!("{what} must be a mapping, not {}", shown(other))),
    }
}

/// A scalar that must be a string.
fn string<'a>(yaml: &'a Yaml, key: &str) -> Result<&'a str, String> {
    match yaml {
        Yaml::String(s) => Ok(s),
        other => Err(format!("{key} must be a string, not {}", shown(other))),
    }
}

/// How a value is shown in a message: its kind, or a scalar's text.
fn shown(yaml: &Yaml) -> String {
    match yaml {
        Yaml::String(s) | Yaml::Real(s) => quoted(s),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        Yaml::Array(_) => "a list".into(),
        Yaml::Hash(_) => "a mapping".into(),
        Yaml::Null => "null".into(),
        Yaml::Alias(_) | Yaml::BadValue => "an alias".into(),
    }
}

fn tls(yaml: &Yaml, base: &Path) -> Result<Option<TlsSettings>, String> {
    if *yaml == Yaml::Null {
        return Ok(None);
    }
    let (mut cert, mut key, mut ca, mut auth, mut min, mut max) = (None, None, None, None, None, None);
    for (name, value) in mapping(yaml, "tls_server_config")? {
        let full = format!("tls_server_config.{name}");
        match name {
            "cert_file" => cert = Some(file(value, &full, base)?),
            "key_file" => key = Some(file(value, &full, base)?),
            "client_ca_file" => ca = Some(file(value, &full, base)?),
            "client_auth_type" => {
                let given = string(value, &full)?;
                let found = ClientAuth::NAMES.iter().find(|(n, _)| *n == given).map(|(_, a)| *a);
                let names: Vec<&str> = ClientAuth::NAMES.iter().map(|(n, _)| *n).collect();
                auth =
                    Some(found.ok_or_else(|| format!("{full}: {} is not one of {}", quoted(given), names.join(", ")))?);
            }
            "min_version" => min = Some(version(value, &full)?),
            "max_version" => max = Some(version(value, &full)?),
            "cert"
            | "key"
            | "client_allowed_sans"
            | "cipher_suites"
            | "curve_preferences"
            | "prefer_server_cipher_suites" => {
                return Err(format!("{full} is not supported by metrics-generator"));
            }
            other => return Err(format!("tls_server_config: unknown key {}", quoted(other))),
        }
    }
    let cert_file = cert.ok_or("tls_server_config: cert_file is missing")?;
    let key_file = key.ok_or("tls_server_config: key_file is missing")?;
    let client_auth = auth.unwrap_or(ClientAuth::None);
    if client_auth.verifies() && ca.is_none() {
        return Err(
            "tls_server_config: client_auth_type verifies client certificates, so client_ca_file is needed".into()
        );
    }
    if client_auth == ClientAuth::None && ca.is_some() {
        return Err("tls_server_config: client_ca_file is set but client_auth_type asks for no client certificate; set client_auth_type (RequireAndVerifyClientCert, say)".into());
    }
    let min_version = min.unwrap_or(TlsVersion::Tls12);
    if max.is_some_and(|max| max < min_version) {
        return Err("tls_server_config: max_version is below min_version".into());
    }
    if max == Some(TlsVersion::Tls12) {
        return Err("tls_server_config.max_version: TLS12 cannot be served: this exporter speaks TLS 1.3 only (every \
                    current Prometheus, Go, curl and Python client does; see docs/securing.md)"
            .into());
    }
    Ok(Some(TlsSettings { cert_file, key_file, client_ca_file: ca, client_auth, min_version, max_version: max }))
}

fn file(yaml: &Yaml, key: &str, base: &Path) -> Result<PathBuf, String> {
    let name = string(yaml, key)?;
    if name.is_empty() {
        return Err(format!("{key} is empty"));
    }
    Ok(base.join(name))
}

fn version(yaml: &Yaml, key: &str) -> Result<TlsVersion, String> {
    match string(yaml, key)? {
        "TLS12" => Ok(TlsVersion::Tls12),
        "TLS13" => Ok(TlsVersion::Tls13),
        "TLS10" | "TLS11" => Err(format!("{key}: TLS 1.0 and 1.1 are not supported (TLS12, TLS13)")),
        other => Err(format!("{key}: {} is not a TLS version (TLS12, TLS13)", quoted(other))),
    }
}

fn users(yaml: &Yaml) -> Result<Vec<(String, String)>, String> {
    mapping(yaml, "basic_auth_users")?
        .into_iter()
        .map(|(user, hash)| {
            let key = format!("basic_auth_users.{user}");
            let hash = string(hash, &key)?;
            // The hash is checked here, so that a typo fails at start-up rather than every login.
            hash.parse::<bcrypt::HashParts>()
                .map_err(|_| format!("{key}: not a bcrypt hash (such as $2y$10$… from htpasswd -nbB)"))?;
            Ok((user.to_string(), hash.to_string()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HASH: &str = "$2y$04$HFpTxZmEdJJzgf6Fbvmhk.4oQ0V4ZXsUnJXe0BCTdTzwpQuxaPtoy";

    #[track_caller]
    fn check(text: &str, expected: Result<Settings, &str>) {
        assert_eq!(settings(text, Path::new("/etc/mg")), expected.map_err(str::to_string), "{text}");
    }

    #[test]
    fn the_format() {
        check("", Ok(Settings::default()));
        check("# nothing\n", Ok(Settings::default()));
        check(
            &format!(
                "tls_server_config:\n  cert_file: tls.crt\n  key_file: /k/tls.key\n  client_ca_file: 'ca.crt'\n  \
                 client_auth_type: RequireAndVerifyClientCert\n  min_version: TLS13\nbasic_auth_users:\n  \
                 prometheus: {HASH}\n  \"other\": '{HASH}'\n"
            ),
            Ok(Settings {
                tls: Some(TlsSettings {
                    cert_file: "/etc/mg/tls.crt".into(),
                    key_file: "/k/tls.key".into(),
                    client_ca_file: Some("/etc/mg/ca.crt".into()),
                    client_auth: ClientAuth::RequireAndVerify,
                    min_version: TlsVersion::Tls13,
                    max_version: None,
                }),
                users: vec![("prometheus".into(), HASH.into()), ("other".into(), HASH.into())],
            }),
        );
    }

    #[test]
    fn mistakes() {
        let cases: &[(&str, &str)] = &[
            ("tls_server_config: {cert_file: a}", "tls_server_config: key_file is missing"),
            ("tls_server_config: {key_file: a}", "tls_server_config: cert_file is missing"),
            ("tls_server_confg: {}", "unknown key \"tls_server_confg\" (tls_server_config, basic_auth_users)"),
            ("tls_server_config: {cert_file: a, key_file: b, min_version: TLS11}", "tls_server_config.min_version: TLS 1.0 and 1.1 are not supported (TLS12, TLS13)"),
            ("tls_server_config: {cert_file: a, key_file: b, max_version: TLS12}", "tls_server_config.max_version: TLS12 cannot be served: this exporter speaks TLS 1.3 only (every current Prometheus, Go, curl and Python client does; see docs/securing.md)"),
            ("tls_server_config: {cert_file: a, key_file: b, min_version: 1.2}", "tls_server_config.min_version must be a string, not \"1.2\""),
            ("tls_server_config: {cert_file: a, key_file: b, client_auth_type: Always}", "tls_server_config.client_auth_type: \"Always\" is not one of NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven, RequireAndVerifyClientCert"),
            ("tls_server_config: {cert_file: a, key_file: b, client_auth_type: RequireAndVerifyClientCert}", "tls_server_config: client_auth_type verifies client certificates, so client_ca_file is needed"),
            ("tls_server_config: {cert_file: a, key_file: b, client_ca_file: c}", "tls_server_config: client_ca_file is set but client_auth_type asks for no client certificate; set client_auth_type (RequireAndVerifyClientCert, say)"),
            ("tls_server_config: {cert_file: a, key_file: b, min_version: TLS13, max_version: TLS12}", "tls_server_config: max_version is below min_version"),
            ("tls_server_config: {cert_file: a, key_file: b, cipher_suites: [x]}", "tls_server_config.cipher_suites is not supported by metrics-generator"),
            ("http_server_config: {http2: true}", "http_server_config is not supported by metrics-generator (tls_server_config, basic_auth_users)"),
            ("basic_auth_users: {alice: secret}", "basic_auth_users.alice: not a bcrypt hash (such as $2y$10$… from htpasswd -nbB)"),
            ("basic_auth_users: {alice: 3}", "basic_auth_users.alice must be a string, not 3"),
            ("basic_auth_users: [alice]", "basic_auth_users must be a mapping, not a list"),
            ("- a\n- b\n", "the file must be a mapping, not a list"),
            ("a: 1\n---\nb: 2\n", "holds more than one YAML document"),
            ("basic_auth_users:\n  a: x\n  a: y\n", "line 3, column 6: a key given twice in one mapping"),
            ("tls_server_config: [", "line 2, column 1: while parsing a node, did not find expected node content"),
        ];
        for (text, message) in cases {
            check(text, Err(message));
        }
    }
}
