//! metrics-generator patch 11: at most a given number of connections at once, and deadlines for
//! the time a connection may wait for a request.
//!
//! tiny_http gave every connection a thread of its own with no bound: thousands of idle or slow
//! connections made thousands of threads, until the process ran out of them (or of memory) and
//! honest clients were locked out. Each accepted connection now takes a place in a [`Registry`]
//! of at most `max_connections`; when it is full, a new connection makes room by closing, in this
//! order:
//!
//! 1. the connection that has waited longest for a complete request (an idle keep-alive or a slow
//!    request head), among those waiting for [`GRACE`] or more;
//! 2. else the connection whose answer has been blocked longest on a client that does not read it:
//!    one that acknowledged no byte for [`ACK_GRACE`], or none for [`NEVER_READ_GRACE`] having
//!    acknowledged under [`NEVER_READ`] in all, or under [`PIECE`] in [`WRITE_GRACE`] (a client
//!    that does not read lets its receive buffer fill and then acknowledges nothing; one that
//!    reads acknowledges what it makes room for; on Linux, from the socket's `TCP_INFO`, looked
//!    at only while the registry is full); where the system does not say, one blocked for
//!    [`WRITE_GRACE`];
//! 3. else, if no answer is blocked at all, the connection waiting longest for a request, however
//!    briefly; while answers are blocked for less, the accept thread first waits up to [`GRACE`]
//!    for one of them to qualify under 2;
//!
//! and when every connection is making progress (its request is being answered, or its answer is
//! being taken), the new connection is closed. The grace keeps a connection whose request is on
//! its way (accepted, its thread not yet run) from being closed in favour of a client that does
//! not read its answer.
//!
//! A reaper thread closes a connection whose request head has not arrived complete within
//! `head_timeout` of its first byte, or that has sent nothing for `idle_timeout`. Closing is a
//! `shutdown` of the socket, which ends whatever read or write its thread is blocked in.

use crate::connection::Connection;
use std::collections::HashMap;
use std::net::Shutdown;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How many connections may be open at once, and how long one may wait for a request.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The most connections open at once (at least 1).
    pub max_connections: usize,
    /// A request head must arrive complete within this time of its first byte.
    pub head_timeout: Duration,
    /// A connection that sends nothing for this long, between requests or before its first, is
    /// closed.
    pub idle_timeout: Duration,
}

/// Counts of the connections of a server with [`Limits`], updated as they change.
#[derive(Debug, Default)]
pub struct ConnectionStats {
    limit: usize,
    open: AtomicUsize,
    evicted: AtomicU64,
    refused: AtomicU64,
}

impl ConnectionStats {
    /// The most connections open at once.
    pub fn limit(&self) -> usize {
        self.limit
    }
    /// Connections open now (those being closed included).
    pub fn open(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }
    /// Connections closed to make room for a new one.
    pub fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }
    /// New connections closed at once because every open one was making progress.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }
}

/// How long a connection may wait for its request and still count as making progress when room
/// is needed.
pub const GRACE: Duration = Duration::from_millis(100);

/// How long a client may take to acknowledge [`PIECE`] of a blocked answer and still count as
/// reading it; where the system does not say what a client acknowledged, how long an answer may
/// be blocked (an answer is written in one send, blocked until a reader took it all).
pub const WRITE_GRACE: Duration = Duration::from_secs(1);

/// See [`WRITE_GRACE`].
const PIECE: u64 = 64 * 1024;

/// How long a client whose answer is blocked may acknowledge nothing and still count as reading
/// it. A client that reads steadily acknowledges in steps as its receive window reopens: every
/// 50 ms at 2 MB/s on loopback, so clients slower than about 1 MB/s may be closed to make room.
pub const ACK_GRACE: Duration = Duration::from_millis(100);

/// A client that has acknowledged no more than this in all (a receive buffer's first fill: it
/// never read anything) ...
const NEVER_READ: u64 = 128 * 1024;
/// ... may acknowledge nothing for this long while its answer is blocked, and no longer.
pub const NEVER_READ_GRACE: Duration = Duration::from_millis(20);

/// How often the acknowledgements of a blocked answer's client are looked at, at most.
const LOOK_AGAIN: Duration = Duration::from_millis(5);

/// Connections already closed to make room but whose threads have not yet let go of them: up to
/// this many beyond the limit, the accept thread does not wait for them.
const CLOSING: usize = 16;

/// What a connection is doing, packed in one `u64`: 0 while its request is handled; else the
/// time the phase began (nanoseconds since the registry's epoch, plus one) shifted left by two,
/// with the phase in the low bits.
const WAITING: u64 = 1;
const WRITING: u64 = 2;

/// One connection's place in the registry, shared by its reading and writing halves.
pub(crate) struct Tracker {
    registry: Arc<Registry>,
    id: u64,
    /// A handle on the socket, to close it from another thread.
    socket: Connection,
    phase: AtomicU64,
    /// When the first byte of the request head being read arrived (as `phase` counts time), or 0.
    head_started: AtomicU64,
    evicted: AtomicBool,
    /// The bytes the client had acknowledged when last looked at while the registry was full,
    /// plus one (0: not looked at), and since when (as `phase` counts time).
    acked: AtomicU64,
    acked_since: AtomicU64,
    /// When `acked` was last looked at, or 0.
    looked: AtomicU64,
    /// What `acked` was when it last grew by [`PIECE`] or more (0: not looked at), and when.
    piece: AtomicU64,
    piece_since: AtomicU64,
    /// A write began and has not (yet) taken everything.
    unfinished: AtomicBool,
}

impl Tracker {
    fn stamp(&self) -> u64 {
        self.registry.epoch.elapsed().as_nanos() as u64 + 1
    }

    /// The connection waits for a request (from now, unless it already waited).
    pub(crate) fn waiting(&self) {
        if self.phase.load(Ordering::Relaxed) & 3 != WAITING {
            self.phase.store(self.stamp() << 2 | WAITING, Ordering::Relaxed);
        }
    }

    /// The first byte of a request head has arrived.
    pub(crate) fn head_started(&self) {
        if self.head_started.load(Ordering::Relaxed) == 0 {
            self.head_started.store(self.stamp(), Ordering::Relaxed);
        }
    }

    /// The request is complete and being answered.
    pub(crate) fn busy(&self) {
        self.head_started.store(0, Ordering::Relaxed);
        self.phase.store(0, Ordering::Relaxed);
    }

    /// A write to the client took everything it was given.
    pub(crate) fn wrote(&self) {
        self.unfinished.store(false, Ordering::Relaxed);
        self.busy();
    }

    /// A write to the client begins (blocked from now, unless the last one was left blocked).
    pub(crate) fn writing(&self) {
        self.unfinished.store(true, Ordering::Relaxed);
        if self.phase.load(Ordering::Relaxed) & 3 != WRITING {
            self.phase.store(self.stamp() << 2 | WRITING, Ordering::Relaxed);
        }
    }

    /// Whether the connection was closed to make room (its thread then only lets go of it).
    pub(crate) fn evicted(&self) -> bool {
        self.evicted.load(Ordering::Relaxed)
    }

    /// Whether the client is not reading its blocked answer, as far as the looks taken at it
    /// tell (each call is one; a look is a system call, and one taken less than [`LOOK_AGAIN`]
    /// ago stands): it acknowledged nothing for [`ACK_GRACE`], or nothing for [`NEVER_READ_GRACE`]
    /// having acknowledged less than [`NEVER_READ`] in all, or less than [`PIECE`] in
    /// [`WRITE_GRACE`]. `None` when the system does not say what the client acknowledged.
    fn unread(&self, now: u64) -> Option<bool> {
        let looked = self.looked.load(Ordering::Relaxed);
        if looked == 0 || now.saturating_sub(looked) >= LOOK_AGAIN.as_nanos() as u64 {
            self.looked.store(now, Ordering::Relaxed);
            let acked = bytes_acked(&self.socket).map_or(0, |acked| acked + 1);
            if acked == 0 || self.acked.swap(acked, Ordering::Relaxed) != acked {
                self.acked_since.store(now, Ordering::Relaxed);
            }
            let piece = self.piece.load(Ordering::Relaxed);
            if piece == 0 || acked >= piece + PIECE {
                self.piece.store(acked.max(1), Ordering::Relaxed);
                self.piece_since.store(now, Ordering::Relaxed);
            }
        }
        let acked = self.acked.load(Ordering::Relaxed);
        if acked == 0 {
            return None;
        }
        let silent = now.saturating_sub(self.acked_since.load(Ordering::Relaxed));
        let slow = now.saturating_sub(self.piece_since.load(Ordering::Relaxed));
        Some(
            silent >= ACK_GRACE.as_nanos() as u64
                || (acked <= NEVER_READ && silent >= NEVER_READ_GRACE.as_nanos() as u64)
                || slow >= WRITE_GRACE.as_nanos() as u64,
        )
    }

    fn close(&self) {
        self.evicted.store(true, Ordering::Relaxed);
        self.socket.shutdown(Shutdown::Both).ok();
    }
}

/// Held by the task that serves a connection: when it ends, the connection's place is free.
pub(crate) struct Place(pub(crate) Arc<Tracker>);

impl Drop for Place {
    fn drop(&mut self) {
        // An answer cut short (a write that did not take everything: its client did not read it,
        // or the connection was closed to make room) or a connection closed to make room: what is still queued for the client is dropped with the socket, which is reset,
        // rather than kept by the kernel for a client that may never take it. A crowd of such
        // clients otherwise held gigabytes of socket buffers, and the kernel's TCP memory
        // pressure then slowed every connection, honest ones included.
        if self.0.unfinished.load(Ordering::Relaxed) || self.0.evicted() {
            discard_unsent(&self.0.socket);
        }
        let registry = &self.0.registry;
        let mut open = registry.lock();
        open.remove(&self.0.id);
        registry.stats.open.store(open.len(), Ordering::Relaxed);
        registry.freed.notify_all();
    }
}

/// The open connections of one server.
pub(crate) struct Registry {
    limits: Limits,
    epoch: Instant,
    open: Mutex<HashMap<u64, Arc<Tracker>>>,
    /// Notified when a place is freed (for the accept thread).
    freed: Condvar,
    /// Notified when a connection is added to none (for the reaper).
    added: Condvar,
    next_id: AtomicU64,
    stats: Arc<ConnectionStats>,
    warned: AtomicBool,
}

impl Registry {
    /// A registry for `limits`, with its reaper thread.
    pub(crate) fn new(limits: Limits) -> Arc<Registry> {
        let limits = Limits { max_connections: limits.max_connections.max(1), ..limits };
        let registry = Arc::new(Registry {
            limits,
            epoch: Instant::now(),
            open: Mutex::new(HashMap::new()),
            freed: Condvar::new(),
            added: Condvar::new(),
            next_id: AtomicU64::new(0),
            stats: Arc::new(ConnectionStats { limit: limits.max_connections, ..Default::default() }),
            warned: AtomicBool::new(false),
        });
        let weak = Arc::downgrade(&registry);
        let started = std::thread::Builder::new().name("reaper".into()).spawn(move || {
            while let Some(registry) = weak.upgrade() {
                let wait = registry.reap();
                let open = registry.lock();
                // With no connection there is nothing to wait for (and no wake-up for an idle
                // process) until one comes; else at most a second, as a head that starts
                // meanwhile may have the nearest deadline.
                if open.is_empty() {
                    drop(registry.added.wait_timeout(open, Duration::from_secs(60)));
                } else {
                    drop(registry.added.wait_timeout(open, wait.min(Duration::from_secs(1))));
                }
            }
        });
        if let Err(e) = started {
            log::error!("cannot start the thread that closes idle connections: {}", e);
        }
        registry
    }

    pub(crate) fn stats(&self) -> Arc<ConnectionStats> {
        self.stats.clone()
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Tracker>>> {
        self.open.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn now(&self) -> u64 {
        self.epoch.elapsed().as_nanos() as u64 + 1
    }

    /// Closes the connections past a deadline; returns how long until the next one (at most a
    /// minute, so that a registry no longer referenced lets its reaper end).
    fn reap(&self) -> Duration {
        let now = self.now();
        let (head, idle) = (self.limits.head_timeout.as_nanos() as u64, self.limits.idle_timeout.as_nanos() as u64);
        let mut next = 60_000_000_000u64;
        for tracker in self.lock().values() {
            if tracker.evicted() {
                continue;
            }
            let started = tracker.head_started.load(Ordering::Relaxed);
            let phase = tracker.phase.load(Ordering::Relaxed);
            let deadline = if started != 0 {
                started + head
            } else if phase & 3 == WAITING {
                (phase >> 2) + idle
            } else {
                continue;
            };
            if deadline <= now {
                log::debug!(
                    "closing a connection that {}",
                    if started != 0 { "did not send its request head in time" } else { "stayed idle" }
                );
                tracker.close();
            } else {
                next = next.min(deadline - now);
            }
        }
        Duration::from_nanos(next)
    }

    /// The connection to close to make room (see the module's documentation): `Ok(None)` when
    /// every connection is making progress, `Err(())` when none can be closed yet but a blocked
    /// answer may soon have been blocked for [`GRACE`].
    fn victim(open: &HashMap<u64, Arc<Tracker>>, now: u64) -> Result<Option<&Arc<Tracker>>, ()> {
        let grace = GRACE.as_nanos() as u64;
        let since = |t: &Arc<Tracker>, kind: u64| {
            let phase = t.phase.load(Ordering::Relaxed);
            (!t.evicted() && phase & 3 == kind).then_some(phase >> 2)
        };
        let oldest = |kind: u64, before: u64| {
            open.values()
                .filter_map(|t| since(t, kind).filter(|&s| s <= before).map(|s| (s, t)))
                .min_by_key(|(s, _)| *s)
                .map(|(_, t)| t)
        };
        let settled = now.saturating_sub(grace);
        if let Some(t) = oldest(WAITING, settled) {
            return Ok(Some(t));
        }
        // Answers blocked on clients that do not read them (see `Tracker::unread`); where the
        // system does not say what a client acknowledged, answers blocked for WRITE_GRACE. Every
        // blocked answer is looked at, however briefly blocked, so that its acknowledgements
        // are followed from its first look on.
        let stuck = now.saturating_sub(WRITE_GRACE.as_nanos() as u64);
        let unread = open
            .values()
            .filter_map(|t| since(t, WRITING).map(|s| (s, t)))
            .filter(|(s, t)| t.unread(now).unwrap_or(*s <= stuck))
            .min_by_key(|(s, _)| *s);
        if let Some((_, t)) = unread {
            return Ok(Some(t));
        }
        // An answer blocked for less than its grace may be one a client does not read: worth
        // waiting for, rather than closing a connection whose request is on its way (one
        // accepted while every thread is blocked on such clients waits for a thread, and would
        // otherwise be the first closed).
        if oldest(WRITING, u64::MAX).is_some() {
            return Err(());
        }
        Ok(oldest(WAITING, u64::MAX))
    }

    /// A place for a newly accepted connection, making room if needed; `None` when it is to be
    /// closed at once, and an error when the connection cannot be tracked (the process out of
    /// file descriptors): the caller closes it and reports the error as a failed accept.
    pub(crate) fn admit(self: &Arc<Self>, socket: &Connection) -> std::io::Result<Option<Place>> {
        let max = self.limits.max_connections;
        let mut open = self.lock();
        let active = open.values().filter(|t| !t.evicted()).count();
        if active >= max {
            if !self.warned.swap(true, Ordering::Relaxed) {
                log::warn!(
                    "{} connections are open, the most allowed: from now on a new connection closes the one \
                     waiting longest for a request or blocking its answer longest, or is closed itself \
                     (this is logged once)",
                    max
                );
            }
            let patience = Instant::now() + GRACE;
            loop {
                match Self::victim(&open, self.now()) {
                    Ok(Some(victim)) => {
                        victim.close();
                        self.stats.evicted.fetch_add(1, Ordering::Relaxed);
                        break;
                    }
                    Err(()) if Instant::now() < patience => {
                        // Connections waiting to be accepted wait in the kernel's backlog.
                        drop(open);
                        std::thread::sleep(Duration::from_millis(5));
                        open = self.lock();
                        if open.values().filter(|t| !t.evicted()).count() < max {
                            break;
                        }
                    }
                    Ok(None) | Err(()) => {
                        self.stats.refused.fetch_add(1, Ordering::Relaxed);
                        return Ok(None);
                    }
                }
            }
            // The threads of closed connections let go of them in microseconds; the accept
            // thread waits for that only when many are still closing, so that the connections
            // (and their file descriptors) stay bounded.
            let deadline = Instant::now() + Duration::from_secs(1);
            while open.len() >= max + CLOSING {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    self.stats.refused.fetch_add(1, Ordering::Relaxed);
                    return Ok(None);
                }
                open = self.freed.wait_timeout(open, left).unwrap_or_else(|p| p.into_inner()).0;
            }
        }
        let socket = socket.try_clone().inspect_err(|_| {
            self.stats.refused.fetch_add(1, Ordering::Relaxed);
        })?;
        let tracker = Arc::new(Tracker {
            registry: self.clone(),
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            socket,
            phase: AtomicU64::new(self.now() << 2 | WAITING),
            head_started: AtomicU64::new(0),
            evicted: AtomicBool::new(false),
            acked: AtomicU64::new(0),
            acked_since: AtomicU64::new(0),
            looked: AtomicU64::new(0),
            piece: AtomicU64::new(0),
            piece_since: AtomicU64::new(0),
            unfinished: AtomicBool::new(false),
        });
        if open.is_empty() {
            self.added.notify_all();
        }
        open.insert(tracker.id, tracker.clone());
        self.stats.open.store(open.len(), Ordering::Relaxed);
        Ok(Some(Place(tracker)))
    }
}

/// The bytes a TCP client has acknowledged (`tcpi_bytes_acked` of `TCP_INFO`, Linux 4.1 and
/// later); `None` for other sockets, other systems, or when the kernel does not say.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn bytes_acked(socket: &Connection) -> Option<u64> {
    use std::os::unix::io::AsRawFd;
    let Connection::Tcp(stream) = socket else { return None };
    // `struct tcp_info` as u64 words: `tcpi_bytes_acked` is the u64 at byte offset 120, after 8
    // one-byte fields, 24 u32 fields and two u64 rates.
    const BYTES_ACKED: usize = 120 / 8;
    let mut info = [0u64; 32];
    let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
    // SAFETY: `info` is writable for `len` bytes, which the kernel writes at most and updates.
    let done = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    (done == 0 && len as usize >= (BYTES_ACKED + 1) * 8).then(|| info[BYTES_ACKED])
}

#[cfg(not(target_os = "linux"))]
fn bytes_acked(_socket: &Connection) -> Option<u64> {
    None
}

/// Makes the socket's last close reset the connection and drop what is still queued for the
/// client (`SO_LINGER` with a timeout of 0), where the system allows it.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn discard_unsent(socket: &Connection) {
    use std::os::unix::io::AsRawFd;
    let Connection::Tcp(stream) = socket else { return };
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: `linger` is a valid `struct linger`, read by the kernel for its size.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

#[cfg(not(target_os = "linux"))]
fn discard_unsent(_socket: &Connection) {}
