use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::Duration;

/// Manages a collection of threads.
///
/// A new thread is created every time all the existing threads are full.
/// Any idle thread will automatically die after a few seconds.
pub struct TaskPool {
    sharing: Arc<Sharing>,
    // metrics-generator patch 11: the most threads at once; tasks beyond wait in the queue.
    max_threads: usize,
}

struct Sharing {
    // list of the tasks to be done by worker threads
    todo: Mutex<VecDeque<Box<dyn FnMut() + Send>>>,

    // condvar that will be notified whenever a task is added to `todo`
    condvar: Condvar,

    // number of total worker threads running
    active_tasks: AtomicUsize,

    // number of idle worker threads
    waiting_tasks: AtomicUsize,

    // metrics-generator patch 11: threads started and not yet ended, counted from before they
    // start (`active_tasks` counts them only once they run, too late to bound them).
    threads: AtomicUsize,
}

/// Minimum number of active threads.
static MIN_THREADS: usize = 4;

struct Registration<'a> {
    nb: &'a AtomicUsize,
}

impl<'a> Registration<'a> {
    fn new(nb: &'a AtomicUsize) -> Registration<'a> {
        nb.fetch_add(1, Ordering::Release);
        Registration { nb }
    }
}

impl<'a> Drop for Registration<'a> {
    fn drop(&mut self) {
        self.nb.fetch_sub(1, Ordering::Release);
    }
}

impl TaskPool {
    pub fn new() -> TaskPool {
        Self::with_max(usize::MAX) // metrics-generator patch 11
    }

    /// metrics-generator patch 11: a pool of at most `max_threads` threads.
    pub fn with_max(max_threads: usize) -> TaskPool {
        let pool = TaskPool {
            sharing: Arc::new(Sharing {
                todo: Mutex::new(VecDeque::new()),
                condvar: Condvar::new(),
                active_tasks: AtomicUsize::new(0),
                waiting_tasks: AtomicUsize::new(0),
                threads: AtomicUsize::new(0),
            }),
            max_threads,
        };

        for _ in 0..MIN_THREADS {
            pool.add_thread(None)
        }

        pool
    }

    /// Executes a function in a thread.
    /// If no thread is available, spawns a new one.
    pub fn spawn(&self, code: Box<dyn FnMut() + Send>) {
        let mut queue = self.sharing.todo.lock().unwrap();

        // metrics-generator patch 3: an idle thread woken for a task already queued does not
        // count as idle until it has taken that task, so `waiting_tasks` alone counted it twice
        // when connections came in a burst: a connection could be queued with no thread to take
        // it until another connection ended (with 200 keep-alive clients connecting at once, a
        // few waited for as long as the others stayed connected). Only idle threads beyond the
        // queued tasks are free.
        // metrics-generator patch 11: and no thread beyond the most allowed.
        if self.sharing.waiting_tasks.load(Ordering::Acquire) <= queue.len()
            && self.sharing.threads.load(Ordering::Acquire) < self.max_threads
        {
            self.add_thread(Some(code));
        } else {
            queue.push_back(code);
            self.sharing.condvar.notify_one();
        }
    }

    fn add_thread(&self, initial_fn: Option<Box<dyn FnMut() + Send>>) {
        let sharing = self.sharing.clone();
        // metrics-generator patch 11: counted before it starts, uncounted when it ends.
        self.sharing.threads.fetch_add(1, Ordering::AcqRel);
        struct Started(Arc<Sharing>);
        impl Drop for Started {
            fn drop(&mut self) {
                self.0.threads.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let started = Started(self.sharing.clone());

        // metrics-generator patch 4: a thread that cannot start (the process is at its limit of
        // threads) drops its task, closing that connection, instead of panicking in the accept
        // thread, which ended accepting for good.
        let spawned = thread::Builder::new().spawn(move || {
            let _started = started; // metrics-generator patch 11
            let sharing = sharing;
            let _active_guard = Registration::new(&sharing.active_tasks);

            if let Some(mut f) = initial_fn {
                f();
            }

            loop {
                let mut task: Box<dyn FnMut() + Send> = {
                    let mut todo = sharing.todo.lock().unwrap();

                    let task;
                    loop {
                        if let Some(poped_task) = todo.pop_front() {
                            task = poped_task;
                            break;
                        }
                        let _waiting_guard = Registration::new(&sharing.waiting_tasks);

                        let received =
                            if sharing.active_tasks.load(Ordering::Acquire) <= MIN_THREADS {
                                todo = sharing.condvar.wait(todo).unwrap();
                                true
                            } else {
                                let (new_lock, waitres) = sharing
                                    .condvar
                                    .wait_timeout(todo, Duration::from_millis(5000))
                                    .unwrap();
                                todo = new_lock;
                                !waitres.timed_out()
                            };

                        if !received && todo.is_empty() {
                            return;
                        }
                    }

                    task
                };

                task();
            }
        });
        if let Err(e) = spawned {
            // metrics-generator patch 4: the task, dropped with the closure, closes its connection.
            log::error!(
                "cannot start a connection thread, dropping a connection: {}",
                e
            );
        }
    }
}

impl Drop for TaskPool {
    fn drop(&mut self) {
        self.sharing
            .active_tasks
            .store(999_999_999, Ordering::Release);
        self.sharing.condvar.notify_all();
    }
}
