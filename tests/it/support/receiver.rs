//! A remote-write receiver of our own on 127.0.0.1, for the tests that need to see exactly what
//! arrives and to answer as a failing receiver would: a thread with a `TcpListener` that reads
//! each POST (keep-alive, one connection at a time), decodes its snappy-compressed `WriteRequest`
//! with a small protobuf reader, records it, and answers with the status the test scripted.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One sample as received: the series as `name{a="b",…}` (labels in the order sent), the value's
/// bits (so that the stale NaN is told apart) and the timestamp in milliseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub series: String,
    pub bits: u64,
    pub time: i64,
}

/// One request as received, with the status it was answered with.
#[derive(Debug, Clone)]
pub struct Received {
    pub headers: Vec<(String, String)>,
    pub samples: Vec<Sample>,
    pub status: u16,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// How to answer: a status per request in order (200 once they run out), with a delay before
/// answering the first `stalls` requests.
#[derive(Default)]
pub struct Script {
    pub statuses: VecDeque<u16>,
    pub stall: Duration,
    pub stalls: usize,
}

/// A running receiver.
pub struct Receiver {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
    gone: Arc<AtomicBool>,
}

/// What serves one accepted connection: plain TCP, or TLS around it.
pub type Wrap = Box<dyn Fn(TcpStream) -> Option<Box<dyn ReadWrite>> + Send>;
pub trait ReadWrite: Read + Write + Send {}
impl<T: Read + Write + Send> ReadWrite for T {}

impl Receiver {
    pub fn start(script: Script) -> Receiver {
        Self::start_with(script, Box::new(|s| Some(Box::new(s) as Box<dyn ReadWrite>)))
    }

    pub fn start_with(script: Script, wrap: Wrap) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let gone = Arc::new(AtomicBool::new(false));
        let (log, stop) = (received.clone(), gone.clone());
        let script = Arc::new(Mutex::new(script));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    // Vanished: the listener closes with this thread.
                    return;
                }
                let Ok(stream) = stream else { continue };
                let Some(stream) = wrap(stream) else { continue };
                serve(stream, &script, &log, &stop);
            }
        });
        Receiver { addr, received, gone }
    }

    pub fn url(&self) -> String {
        format!("http://{}/api/v1/write", self.addr)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The samples of the requests answered with a 2xx, in order.
    pub fn accepted(&self) -> Vec<Sample> {
        self.requests().into_iter().filter(|r| r.status / 100 == 2).flat_map(|r| r.samples).collect()
    }

    /// Stops accepting and closes the listening socket (and the connection it serves).
    pub fn vanish(&self) {
        self.gone.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it returns and the listener is dropped.
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(stream: Box<dyn ReadWrite>, script: &Mutex<Script>, log: &Mutex<Vec<Received>>, stop: &AtomicBool) {
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || stop.load(Ordering::SeqCst) {
            return;
        }
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (n, v) = h.split_once(':').unwrap();
            headers.push((n.trim().to_string(), v.trim().to_string()));
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .map_or(0, |(_, v)| v.parse().unwrap());
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (status, stall) = {
            let mut script = script.lock().unwrap();
            let stall = if script.stalls > 0 {
                script.stalls -= 1;
                script.stall
            } else {
                Duration::ZERO
            };
            (script.statuses.pop_front().unwrap_or(200), stall)
        };
        std::thread::sleep(stall);
        log.lock().unwrap().push(Received { headers, samples: decode(&body), status });
        let answer = format!("HTTP/1.1 {status} X\r\nContent-Length: 2\r\n\r\nok");
        if reader.get_mut().write_all(answer.as_bytes()).and_then(|()| reader.get_mut().flush()).is_err() {
            return;
        }
    }
}

/// The samples of a snappy-compressed `WriteRequest`.
pub fn decode(body: &[u8]) -> Vec<Sample> {
    let raw = snap::raw::Decoder::new().decompress_vec(body).expect("snappy block format");
    let mut out = Vec::new();
    let mut request = Reader(&raw);
    while let Some((field, series)) = request.field() {
        assert_eq!(field, 1, "a WriteRequest field other than timeseries");
        let (mut name, mut labels, mut samples) = (String::new(), Vec::new(), Vec::new());
        let mut s = Reader(series);
        while let Some((field, bytes)) = s.field() {
            let mut inner = Reader(bytes);
            match field {
                1 => {
                    let text = |r: &mut Reader| String::from_utf8(r.field().unwrap().1.to_vec()).unwrap();
                    let (n, v) = (text(&mut inner), text(&mut inner));
                    if n == "__name__" {
                        name = v;
                    } else {
                        labels.push(format!("{n}=\"{v}\""));
                    }
                }
                2 => {
                    let (mut bits, mut time) = (0, 0);
                    while !inner.0.is_empty() {
                        let key = inner.varint();
                        match key {
                            0x09 => bits = u64::from_le_bytes(inner.take(8).try_into().unwrap()),
                            0x10 => time = inner.varint() as i64,
                            other => panic!("unexpected Sample key {other}"),
                        }
                    }
                    samples.push((bits, time));
                }
                other => panic!("unexpected TimeSeries field {other}"),
            }
        }
        let series = if labels.is_empty() { name } else { format!("{name}{{{}}}", labels.join(",")) };
        out.extend(samples.into_iter().map(|(bits, time)| Sample { series: series.clone(), bits, time }));
    }
    out
}

struct Reader<'b>(&'b [u8]);

impl<'b> Reader<'b> {
    fn take(&mut self, n: usize) -> &'b [u8] {
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head
    }

    fn varint(&mut self) -> u64 {
        let (mut v, mut shift) = (0, 0);
        loop {
            let b = self.take(1)[0];
            v |= u64::from(b & 0x7f) << shift;
            shift += 7;
            if b < 0x80 {
                return v;
            }
        }
    }

    /// The next length-delimited field: its number and bytes.
    fn field(&mut self) -> Option<(u64, &'b [u8])> {
        if self.0.is_empty() {
            return None;
        }
        let key = self.varint();
        assert_eq!(key & 7, 2, "a length-delimited field");
        let n = self.varint() as usize;
        Some((key >> 3, self.take(n)))
    }
}
