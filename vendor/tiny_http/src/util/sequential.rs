use std::io::Result as IoResult;
use std::io::{BufRead, Read, Write};

// metrics-generator patch 8: the one-shot hand-over at the end of this file replaces `mpsc`.
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use std::mem;

pub struct SequentialReaderBuilder<R>
where
    R: Read + Send,
{
    inner: SequentialReaderBuilderInner<R>,
}

enum SequentialReaderBuilderInner<R>
where
    R: Read + Send,
{
    First(R),
    NotFirst(Receiver<R>),
}

pub struct SequentialReader<R>
where
    R: Read + Send,
{
    inner: SequentialReaderInner<R>,
    next: Sender<R>,
}

enum SequentialReaderInner<R>
where
    R: Read + Send,
{
    MyTurn(R),
    Waiting(Receiver<R>),
    Empty,
}

pub struct SequentialWriterBuilder<W>
where
    W: Write + Send,
{
    writer: Arc<Mutex<W>>,
    next_trigger: Option<Receiver<()>>,
}

pub struct SequentialWriter<W>
where
    W: Write + Send,
{
    trigger: Option<Receiver<()>>,
    writer: Arc<Mutex<W>>,
    on_finish: Sender<()>,
}

impl<R: Read + Send> SequentialReaderBuilder<R> {
    pub fn new(reader: R) -> SequentialReaderBuilder<R> {
        SequentialReaderBuilder {
            inner: SequentialReaderBuilderInner::First(reader),
        }
    }
}

impl<W: Write + Send> SequentialWriterBuilder<W> {
    pub fn new(writer: W) -> SequentialWriterBuilder<W> {
        SequentialWriterBuilder {
            writer: Arc::new(Mutex::new(writer)),
            next_trigger: None,
        }
    }
}

impl<R: Read + Send> Iterator for SequentialReaderBuilder<R> {
    type Item = SequentialReader<R>;

    fn next(&mut self) -> Option<SequentialReader<R>> {
        let (tx, rx) = channel();

        let inner = mem::replace(&mut self.inner, SequentialReaderBuilderInner::NotFirst(rx));

        match inner {
            SequentialReaderBuilderInner::First(reader) => Some(SequentialReader {
                inner: SequentialReaderInner::MyTurn(reader),
                next: tx,
            }),

            SequentialReaderBuilderInner::NotFirst(previous) => Some(SequentialReader {
                inner: SequentialReaderInner::Waiting(previous),
                next: tx,
            }),
        }
    }
}

impl<W: Write + Send> Iterator for SequentialWriterBuilder<W> {
    type Item = SequentialWriter<W>;
    fn next(&mut self) -> Option<SequentialWriter<W>> {
        let (tx, rx) = channel();
        let mut next_next_trigger = Some(rx);
        ::std::mem::swap(&mut next_next_trigger, &mut self.next_trigger);

        Some(SequentialWriter {
            trigger: next_next_trigger,
            writer: self.writer.clone(),
            on_finish: tx,
        })
    }
}

impl<R: Read + Send> Read for SequentialReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> IoResult<usize> {
        let mut reader = match self.inner {
            SequentialReaderInner::MyTurn(ref mut reader) => return reader.read(buf),
            SequentialReaderInner::Waiting(ref mut recv) => recv.recv().unwrap(),
            SequentialReaderInner::Empty => unreachable!(),
        };

        let result = reader.read(buf);
        self.inner = SequentialReaderInner::MyTurn(reader);
        result
    }
}

// metrics-generator patch 8: a reader whose turn it is reads straight from its buffer, so that a
// request's head is scanned a buffer at a time rather than byte by byte (`client.rs`).
impl<R: BufRead + Send> BufRead for SequentialReader<R> {
    fn fill_buf(&mut self) -> IoResult<&[u8]> {
        if let SequentialReaderInner::Waiting(ref mut recv) = self.inner {
            let reader = recv.recv().unwrap();
            self.inner = SequentialReaderInner::MyTurn(reader);
        }
        match self.inner {
            SequentialReaderInner::MyTurn(ref mut reader) => reader.fill_buf(),
            _ => unreachable!(),
        }
    }

    fn consume(&mut self, amount: usize) {
        if let SequentialReaderInner::MyTurn(ref mut reader) = self.inner {
            reader.consume(amount)
        }
    }
}

impl<W: Write + Send> Write for SequentialWriter<W> {
    fn write(&mut self, buf: &[u8]) -> IoResult<usize> {
        if let Some(v) = self.trigger.as_mut() {
            v.recv().unwrap()
        }
        self.trigger = None;

        self.writer.lock().unwrap().write(buf)
    }

    fn flush(&mut self) -> IoResult<()> {
        if let Some(v) = self.trigger.as_mut() {
            v.recv().unwrap()
        }
        self.trigger = None;

        self.writer.lock().unwrap().flush()
    }
}

impl<R> Drop for SequentialReader<R>
where
    R: Read + Send,
{
    fn drop(&mut self) {
        let inner = mem::replace(&mut self.inner, SequentialReaderInner::Empty);

        // metrics-generator patch 8: the one-shot hand-over's `send` cannot fail.
        match inner {
            SequentialReaderInner::MyTurn(reader) => {
                self.next.send(reader);
            }
            SequentialReaderInner::Waiting(mut recv) => {
                let reader = recv.recv().unwrap();
                self.next.send(reader);
            }
            SequentialReaderInner::Empty => (),
        }
    }
}

impl<W> Drop for SequentialWriter<W>
where
    W: Write + Send,
{
    fn drop(&mut self) {
        self.on_finish.send(());
    }
}

// metrics-generator patch 8: the hand-overs above went through `std::sync::mpsc` channels, two made
// for every request. A channel is built for any number of messages between any number of threads:
// making one took an aligned allocation, its first message a zeroed block of 31 slots, and the
// pair cost about a sixth of the work of answering a small request. Each of these carries one
// message from one thread to one other, most often to a thread that is not waiting yet; this
// one-shot hand-over does that with one allocation, one uncontended lock on each side, and a
// wake-up only when the other side is waiting.

/// The shared part of a one-shot hand-over.
struct Slot<T> {
    state: Mutex<SlotState<T>>,
    ready: Condvar,
}

struct SlotState<T> {
    value: Option<T>,
    /// The sender is gone: no value will come if there is none now.
    closed: bool,
    /// The receiver waits on `ready`.
    waiting: bool,
}

impl<T> Slot<T> {
    fn lock(&self) -> MutexGuard<'_, SlotState<T>> {
        // No code holding this lock can panic; a poisoned lock holds a consistent state anyway.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The sending end: one value at most.
pub(crate) struct Sender<T>(Arc<Slot<T>>);

/// The receiving end.
pub(crate) struct Receiver<T>(Arc<Slot<T>>);

/// The sender's value never came: it was dropped without sending.
#[derive(Debug)]
pub(crate) struct Disconnected;

pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let slot = Arc::new(Slot {
        state: Mutex::new(SlotState {
            value: None,
            closed: false,
            waiting: false,
        }),
        ready: Condvar::new(),
    });
    (Sender(slot.clone()), Receiver(slot))
}

impl<T> Sender<T> {
    /// Hands `value` over; a second one replaces the first if it was not taken yet (never done
    /// here). A receiver that is gone drops it.
    pub(crate) fn send(&self, value: T) {
        let mut state = self.0.lock();
        state.value = Some(value);
        if state.waiting {
            self.0.ready.notify_one();
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.closed = true;
        if state.waiting {
            self.0.ready.notify_one();
        }
    }
}

impl<T> Receiver<T> {
    /// Waits for the value; `Err` when the sender was dropped without sending one.
    pub(crate) fn recv(&mut self) -> Result<T, Disconnected> {
        let mut state = self.0.lock();
        loop {
            if let Some(value) = state.value.take() {
                state.waiting = false;
                return Ok(value);
            }
            if state.closed {
                return Err(Disconnected);
            }
            state.waiting = true;
            state = self.0.ready.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
}

#[cfg(test)]
mod handover_tests {
    use super::channel;

    #[test]
    fn a_value_sent_before_the_receiver_waits_is_received() {
        let (tx, mut rx) = channel();
        tx.send(7);
        drop(tx);
        assert_eq!(rx.recv().unwrap(), 7);
    }

    #[test]
    fn a_waiting_receiver_is_woken_by_the_value() {
        let (tx, mut rx) = channel();
        let waiter = std::thread::spawn(move || rx.recv().unwrap());
        std::thread::sleep(std::time::Duration::from_millis(20));
        tx.send("here");
        assert_eq!(waiter.join().unwrap(), "here");
    }

    #[test]
    fn a_sender_dropped_without_sending_wakes_the_receiver_with_an_error() {
        let (tx, mut rx) = channel::<u8>();
        let waiter = std::thread::spawn(move || rx.recv().is_err());
        std::thread::sleep(std::time::Duration::from_millis(20));
        drop(tx);
        assert!(waiter.join().unwrap());
    }
}
