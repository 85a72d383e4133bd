//! HTTPS with rustls (the `ring` provider): the `tls_server_config` turned into a
//! `rustls::ServerConfig`, and each new connection wrapped in a TLS stream (tiny_http patch 13).
//! The handshake happens when the connection's thread first reads, never on the accept thread.

use super::parse::{ClientAuth, TlsSettings};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{ring, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::WebPkiClientVerifier;
use rustls::{DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::Arc;

/// Builds the server's TLS configuration, reading the certificate, key and client CA files.
pub fn server_config(settings: &TlsSettings) -> Result<ServerConfig, String> {
    let provider = Arc::new(ring::default_provider());
    // TLS 1.3 only (docs/decisions.md): `min_version: TLS12` (the default) admits it, and the
    // web config refuses `max_version: TLS12`.
    let versions: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
    let certs = certificates(&settings.cert_file, "cert_file")?;
    let key = PrivateKeyDer::from_pem_file(&settings.key_file)
        .map_err(|e| format!("tls_server_config.key_file {}: {}", settings.key_file.display(), pem_error(e)))?;
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .map_err(|e| format!("tls_server_config: {e}"))?;
    let builder = match settings.client_auth {
        ClientAuth::None => builder.with_no_client_auth(),
        ClientAuth::Request | ClientAuth::RequireAny => {
            let mandatory = settings.client_auth == ClientAuth::RequireAny;
            let algorithms = provider.signature_verification_algorithms;
            builder.with_client_cert_verifier(Arc::new(AnyClientCert { mandatory, algorithms }))
        }
        ClientAuth::VerifyIfGiven | ClientAuth::RequireAndVerify => {
            let path = settings.client_ca_file.as_deref().expect("checked when parsed");
            let mut roots = RootCertStore::empty();
            for cert in certificates(path, "client_ca_file")? {
                roots.add(cert).map_err(|e| format!("tls_server_config.client_ca_file {}: {e}", path.display()))?;
            }
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone());
            let verifier = if settings.client_auth == ClientAuth::VerifyIfGiven {
                verifier.allow_unauthenticated()
            } else {
                verifier
            };
            builder.with_client_cert_verifier(verifier.build().map_err(|e| format!("tls_server_config: {e}"))?)
        }
    };
    let mut config = builder.with_single_cert(certs, key).map_err(|e| {
        format!(
            "tls_server_config: the certificate {} and the key {} do not go together: {e}",
            settings.cert_file.display(),
            settings.key_file.display()
        )
    })?;
    // HTTP/1.1 is all this server speaks; a client offering only h2 is refused in the handshake.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The certificates of a PEM file, at least one.
fn certificates(path: &Path, key: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    let what = || format!("tls_server_config.{key} {}", path.display());
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("{}: {}", what(), pem_error(e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("{}: {}", what(), pem_error(e)))?;
    if certs.is_empty() {
        return Err(format!("{}: holds no PEM certificate", what()));
    }
    Ok(certs)
}

fn pem_error(e: rustls::pki_types::pem::Error) -> String {
    match e {
        rustls::pki_types::pem::Error::Io(e) => format!("cannot read it: {e}"),
        rustls::pki_types::pem::Error::NoItemsFound => "holds no PEM item of the expected kind".into(),
        other => format!("not valid PEM: {other:?}"),
    }
}

/// A new connection, served over TLS with `config`.
pub fn wrap(config: Arc<ServerConfig>, socket: tiny_http::Socket) -> std::io::Result<tiny_http::Wrapped> {
    let connection = rustls::ServerConnection::new(config).map_err(std::io::Error::other)?;
    Ok(tiny_http::Wrapped::Layered(Box::new(Tls(rustls::StreamOwned::new(connection, socket)))))
}

/// A connection's TLS stream.
struct Tls(rustls::StreamOwned<rustls::ServerConnection, tiny_http::Socket>);

impl Read for Tls {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Tls {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl tiny_http::Transport for Tls {
    /// Says `close_notify`, so that a client reading to the end sees a clean end rather than a
    /// truncation. (A client that does not read makes the send time out; it is closed anyway.)
    fn close(&mut self) {
        self.0.conn.send_close_notify();
        while self.0.conn.wants_write() {
            if self.0.conn.write_tls(&mut self.0.sock).is_err() {
                break;
            }
        }
    }
}

/// `RequestClientCert` and `RequireAnyClientCert`, as Go's `crypto/tls` does them: a client
/// certificate is asked for (and required with the latter) and the client must prove it holds
/// its key, but the certificate is not checked against any CA.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}
