//! One HTTP/1.1 POST at a time to the receiver, over a TCP or TLS connection kept alive between
//! requests. Written by hand over `std::net::TcpStream` and rustls: a remote-write client sends
//! one fixed kind of request and needs only the status of the answer, so a general HTTP client
//! (with its URL, cookie and redirect machinery) would be most of the binary's new bytes for
//! nothing (docs/decisions.md).

use super::options::{Credentials, Target};
use crate::names::VERSION;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::Duration;

/// How long connecting, and each read or write of a request, may take before it counts as a
/// connection error (and is retried).
pub const TIMEOUT: Duration = Duration::from_secs(30);
/// The most of an answer's body kept for the log.
const BODY_SHOWN: usize = 512;
/// The most of an answer's body read to keep the connection; a longer one closes it.
const BODY_DRAINED: u64 = 1 << 20;

/// An answer: its status and the start of its body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
}

trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

/// The connection to one receiver, opened when needed and kept while the receiver keeps it.
pub struct Client {
    target: Target,
    tls: Option<Arc<rustls::ClientConfig>>,
    /// Everything of a request's head but `Authorization`, `Content-Length` and the blank line.
    head: String,
    /// Where `Authorization` comes from, and the last value read (used while the file cannot be
    /// read, which is said once).
    authorization: Option<(Credentials, String, bool)>,
    connection: Option<BufReader<Box<dyn Stream>>>,
}

impl Client {
    /// A client for `target` sending `headers` with each request, verifying a TLS receiver with
    /// the certificates `ca` (DER) or else the built-in roots.
    pub fn new(
        target: Target,
        headers: &[(String, String)],
        authorization: Option<Credentials>,
        ca: Option<&[Vec<u8>]>,
    ) -> Client {
        let tls = target.tls.then(|| {
            let mut roots = rustls::RootCertStore::empty();
            match ca {
                Some(certs) => {
                    for cert in certs {
                        // Checked when the flag was read (options::read_ca_file).
                        let _ = roots.add(rustls::pki_types::CertificateDer::from(cert.clone()));
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("ring supports the default protocol versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
            Arc::new(config)
        });
        let mut head = format!(
            "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: metrics-generator/{VERSION}\r\n\
             Content-Type: application/x-protobuf\r\nContent-Encoding: snappy\r\n\
             X-Prometheus-Remote-Write-Version: 0.1.0\r\n",
            target.path, target.authority
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        // Checked when the flags were read; an empty value until the file can be read.
        let authorization = authorization.map(|c| {
            let value = c.header().unwrap_or_default();
            (c, value, false)
        });
        Client { target, tls, head, authorization, connection: None }
    }

    /// POSTs `body`. An error is a connection error (connecting, TLS, a timeout, a closed
    /// connection, an answer that is not HTTP); the connection is then dropped. A kept-alive
    /// connection the receiver closed while idle is opened again once, at no cost.
    pub fn post(&mut self, body: &[u8]) -> io::Result<Answer> {
        if self.connection.is_some() {
            match self.exchange(body) {
                Ok(answer) => return Ok(answer),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut => {
                    self.connection = None;
                    return Err(e);
                }
                // The receiver may have closed it while it was idle.
                Err(_) => self.connection = None,
            }
        }
        self.connection = Some(BufReader::with_capacity(16 * 1024, self.connect()?));
        let answer = self.exchange(body);
        if answer.is_err() {
            self.connection = None;
        }
        answer
    }

    fn connect(&self) -> io::Result<Box<dyn Stream>> {
        let (host, port) = (self.target.host.as_str(), self.target.port);
        let mut last = io::Error::new(io::ErrorKind::NotFound, format!("{host} has no address"));
        let addrs = (host, port).to_socket_addrs()?;
        let mut stream = None;
        for addr in addrs {
            match TcpStream::connect_timeout(&addr, TIMEOUT) {
                Ok(s) => {
                    stream = Some(s);
                    break;
                }
                Err(e) => last = e,
            }
        }
        let stream = stream.ok_or(last)?;
        stream.set_read_timeout(Some(TIMEOUT))?;
        stream.set_write_timeout(Some(TIMEOUT))?;
        stream.set_nodelay(true)?;
        let Some(tls) = &self.tls else { return Ok(Box::new(stream)) };
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{host}: {e}")))?;
        let connection = rustls::ClientConnection::new(tls.clone(), name).map_err(io::Error::other)?;
        let mut tls = rustls::StreamOwned::new(connection, stream);
        // The handshake now, so that a certificate the roots do not vouch for is reported as such.
        while tls.conn.is_handshaking() {
            tls.conn.complete_io(&mut tls.sock)?;
        }
        Ok(Box::new(tls))
    }

    /// Writes the request on the open connection and reads the answer.
    fn exchange(&mut self, body: &[u8]) -> io::Result<Answer> {
        let mut request = Vec::with_capacity(self.head.len() + 32 + body.len());
        request.extend_from_slice(self.head.as_bytes());
        if let Some((credentials, last, failing)) = &mut self.authorization {
            match credentials.header() {
                Ok(value) => (*last, *failing) = (value, false),
                Err(e) if !*failing => {
                    log::warn!("remote write: {e}; sending the last one read until it can be read again");
                    *failing = true;
                }
                Err(_) => {}
            }
            request.extend_from_slice(format!("Authorization: {last}\r\n").as_bytes());
        }
        let connection = self.connection.as_mut().expect("a connection");
        request.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
        request.extend_from_slice(body);
        connection.get_mut().write_all(&request)?;
        connection.get_mut().flush()?;
        let (answer, keep) = read_answer(connection)?;
        if !keep {
            self.connection = None;
        }
        Ok(answer)
    }
}

/// Reads an answer's head and body; says whether the connection can carry another request.
fn read_answer(reader: &mut impl BufRead) -> io::Result<(Answer, bool)> {
    let invalid = |what: String| io::Error::new(io::ErrorKind::InvalidData, what);
    let mut line = String::new();
    let mut head_bytes = 0;
    let mut read_line = |reader: &mut dyn BufRead, line: &mut String| -> io::Result<()> {
        line.clear();
        let n = reader.take(8192).read_line(line)?;
        head_bytes += n;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the receiver closed the connection"));
        }
        if head_bytes > 64 * 1024 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "the answer's head is over 64 kB"));
        }
        Ok(())
    };
    let (status, mut keep) = loop {
        read_line(reader, &mut line)?;
        let mut parts = line.trim_end().splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        let status = parts
            .next()
            .and_then(|s| s.parse::<u16>().ok())
            .filter(|_| version.starts_with("HTTP/1."))
            .ok_or_else(|| invalid(format!("not an HTTP answer: {:?}", crate::text::shortened(line.trim_end()))))?;
        // An interim answer (100 Continue) is followed by the real one.
        if !(100..200).contains(&status) {
            break (status, version == "HTTP/1.1");
        }
        loop {
            read_line(reader, &mut line)?;
            if line.trim_end().is_empty() {
                break;
            }
        }
    };
    let (mut length, mut chunked) = (None, false);
    loop {
        read_line(reader, &mut line)?;
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(':') else { continue };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "content-length" => {
                length = Some(value.parse::<u64>().map_err(|_| invalid(format!("Content-Length {value:?}")))?)
            }
            "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
            "connection" if value.eq_ignore_ascii_case("close") => keep = false,
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            read_line(reader, &mut line)?;
            let size = line.trim_end().split(';').next().unwrap_or("");
            let size = u64::from_str_radix(size.trim(), 16).map_err(|_| invalid(format!("chunk size {size:?}")))?;
            if size == 0 {
                // Trailers, then the blank line.
                loop {
                    read_line(reader, &mut line)?;
                    if line.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            if body.len() as u64 + size > BODY_DRAINED {
                keep = false;
                break;
            }
            reader.take(size).read_to_end(&mut body)?;
            read_line(reader, &mut line)?;
        }
    } else {
        match length {
            Some(n) if n <= BODY_DRAINED => {
                reader.take(n).read_to_end(&mut body)?;
                if (body.len() as u64) < n {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the answer's body was cut short"));
                }
            }
            Some(_) => keep = false,
            // These never have a body.
            None if status == 204 || status == 304 => {}
            None => {
                // Without a length, the body ends with the connection.
                keep = false;
                reader.take(BODY_DRAINED).read_to_end(&mut body)?;
            }
        }
    }
    body.truncate(BODY_SHOWN);
    let body = String::from_utf8_lossy(&body).trim().to_string();
    Ok((Answer { status, body }, keep))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(raw: &str) -> (u16, String, bool) {
        let (answer, keep) = read_answer(&mut raw.as_bytes()).unwrap();
        (answer.status, answer.body, keep)
    }

    #[test]
    fn answers_are_read_whatever_frames_their_body() {
        assert_eq!(read("HTTP/1.1 204 No Content\r\nDate: x\r\n\r\n"), (204, String::new(), true));
        assert_eq!(read("HTTP/1.1 400 Bad Request\r\nContent-Length: 5\r\n\r\nnope!"), (400, "nope!".into(), true));
        assert_eq!(
            read("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"),
            (200, "abcde".into(), true)
        );
        assert_eq!(read("HTTP/1.1 500 Oops\r\nConnection: close\r\n\r\nall of it"), (500, "all of it".into(), false));
        assert_eq!(read("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"), (200, String::new(), false));
        assert_eq!(
            read("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
            (200, String::new(), true)
        );
        assert!(read_answer(&mut "SSH-2.0-x\r\n".as_bytes()).is_err());
        assert!(read_answer(&mut "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort".as_bytes()).is_err());
        assert!(read_answer(&mut "".as_bytes()).is_err());
    }
}
