//! Certificates for the TLS tests, made with the `openssl` command in the test's own directory: a
//! CA, a server certificate it signs for `127.0.0.1` and `localhost`, a client certificate it signs,
//! and a client certificate signed by nobody the server knows. And web config files.

use super::{require_tool, run_command, TempDir};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The files of a small PKI.
pub struct Pki {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub client_cert: PathBuf,
    pub client_key: PathBuf,
    /// A client certificate that signs itself, which the CA does not vouch for.
    pub stranger_cert: PathBuf,
    pub stranger_key: PathBuf,
}

/// `openssl` with `args` in `dir`; panics with its output when it fails.
fn openssl(openssl: &Path, dir: &Path, args: &[&str]) {
    let out = run_command(Command::new(openssl).args(args).current_dir(dir));
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

impl Pki {
    /// Makes the PKI in `dir`, or `None` (the test skipped) without the `openssl` command.
    pub fn make(dir: &TempDir) -> Option<Pki> {
        let tool = require_tool("openssl")?;
        let d = dir.path();
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
        let self_signed = |name: &str, cn: &str| {
            let (key, crt) = (format!("{name}.key"), format!("{name}.crt"));
            let mut args = vec!["req", "-x509", "-days", "2", "-subj"];
            let subject = format!("/CN={cn}");
            args.push(&subject);
            args.extend(ec);
            args.extend(["-keyout", &key, "-out", &crt]);
            openssl(&tool, d, &args);
        };
        self_signed("ca", "metrics-generator test CA");
        self_signed("stranger", "nobody the CA knows");
        let signed = |name: &str, cn: &str, extensions: &str| {
            let (key, csr, crt, ext) =
                (format!("{name}.key"), format!("{name}.csr"), format!("{name}.crt"), format!("{name}.ext"));
            std::fs::write(d.join(&ext), extensions).unwrap();
            let subject = format!("/CN={cn}");
            let mut args = vec!["req", "-subj", &subject];
            args.extend(ec);
            args.extend(["-keyout", &key, "-out", &csr]);
            openssl(&tool, d, &args);
            let sign = ["x509", "-req", "-in", &csr, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial"];
            let mut args = sign.to_vec();
            args.extend(["-days", "2", "-extfile", &ext, "-out", &crt]);
            openssl(&tool, d, &args);
        };
        signed(
            "server",
            "localhost",
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
        );
        signed(
            "client",
            "prometheus",
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=clientAuth\n",
        );
        Some(Pki {
            ca: d.join("ca.crt"),
            server_cert: d.join("server.crt"),
            server_key: d.join("server.key"),
            client_cert: d.join("client.crt"),
            client_key: d.join("client.key"),
            stranger_cert: d.join("stranger.crt"),
            stranger_key: d.join("stranger.key"),
        })
    }

    /// A web config's `tls_server_config` with this server certificate and `extra` lines (each
    /// indented by the caller's two spaces).
    pub fn tls_server_config(&self, extra: &str) -> String {
        format!(
            "tls_server_config:\n  cert_file: {}\n  key_file: {}\n{extra}",
            self.server_cert.display(),
            self.server_key.display()
        )
    }
}
