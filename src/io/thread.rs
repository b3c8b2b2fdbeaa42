//! The I/O threads of a context (`ZMQ_IO_THREADS`), each a mio `Poll` over
//! listeners and session streams, a `Waker` for commands and for pipes that
//! rang a session, and the timers of its sessions (handshake, heartbeats,
//! reconnects, linger).
//!
//! A listener or connect goes to the least loaded thread that the socket's
//! `ZMQ_AFFINITY` allows (load: listeners and sessions owned or on their
//! way), as libzmq's `choose_io_thread`; each connection a listener accepts
//! is placed the same way, so one busy bound socket spreads over all the
//! threads. Unbind, disconnect and close go to every thread.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};
use parking_lot::Mutex;

use super::resolver::Resolver;
use super::session::Session;
use super::{IoCommand, SocketLink};
use crate::ctx::ZapConnector;
use crate::socket::monitor::{Endpoints, MonitorEvent};
use crate::transport::tcp::Lookup;
use crate::transport::{Accepted, Listener};

const WAKER: Token = Token(usize::MAX);

/// The part of an I/O thread other threads touch.
pub struct Shared {
    waker: Waker,
    inbox: Mutex<Vec<IoCommand>>,
    /// Slots of sessions whose mailbox rang.
    ready: Mutex<Vec<usize>>,
    /// Listeners and sessions this thread owns or has been sent.
    load: AtomicUsize,
    /// The way to the context's ZAP handler, for the sessions.
    pub(crate) zap: ZapConnector,
}

impl Shared {
    pub fn send(&self, cmd: IoCommand) {
        self.inbox.lock().push(cmd);
        let _ = self.waker.wake();
    }

    /// Marks session `slot` as having mailbox or pipe activity.
    pub fn mark_ready(&self, slot: usize) {
        self.ready.lock().push(slot);
        let _ = self.waker.wake();
    }

    fn unload(&self) {
        let _ = self
            .load
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(1));
    }
}

/// The least loaded of the threads `affinity` allows (bit i: thread i; 0:
/// any), the first on a tie, as libzmq picks.
fn choose(threads: &[Arc<Shared>], affinity: u64) -> Option<usize> {
    threads
        .iter()
        .enumerate()
        .filter(|(i, _)| affinity == 0 || (*i < 64 && affinity & (1u64 << i) != 0))
        .min_by_key(|(_, t)| t.load.load(Ordering::Relaxed))
        .map(|(i, _)| i)
}

/// Rare commands that every thread gets a copy of.
fn copy_of(cmd: &IoCommand) -> Option<IoCommand> {
    Some(match cmd {
        IoCommand::Unbind {
            socket_id,
            endpoint,
        } => IoCommand::Unbind {
            socket_id: *socket_id,
            endpoint: endpoint.clone(),
        },
        IoCommand::Disconnect {
            socket_id,
            endpoint,
        } => IoCommand::Disconnect {
            socket_id: *socket_id,
            endpoint: endpoint.clone(),
        },
        IoCommand::SocketClosed { socket_id, linger } => IoCommand::SocketClosed {
            socket_id: *socket_id,
            linger: *linger,
        },
        IoCommand::Stop => IoCommand::Stop,
        _ => return None,
    })
}

/// A context's I/O threads.
pub struct IoThreads {
    threads: Arc<[Arc<Shared>]>,
    joins: Mutex<Vec<JoinHandle<()>>>,
}

impl IoThreads {
    /// Starts `count` threads (at least one); names resolve through `lookup`.
    pub(crate) fn start(
        count: usize,
        lookup: Lookup,
        zap: ZapConnector,
    ) -> std::io::Result<IoThreads> {
        let mut polls = Vec::with_capacity(count);
        let mut shared = Vec::with_capacity(count);
        for _ in 0..count.max(1) {
            let poll = Poll::new()?;
            let waker = Waker::new(poll.registry(), WAKER)?;
            shared.push(Arc::new(Shared {
                waker,
                inbox: Mutex::new(Vec::new()),
                ready: Mutex::new(Vec::new()),
                load: AtomicUsize::new(0),
                zap: zap.clone(),
            }));
            polls.push(poll);
        }
        let threads: Arc<[Arc<Shared>]> = shared.into();
        let resolver = Resolver::new(lookup);
        let pool = IoThreads {
            threads: Arc::clone(&threads),
            joins: Mutex::new(Vec::with_capacity(count)),
        };
        for (index, (poll, shared)) in polls.into_iter().zip(threads.iter()).enumerate() {
            let reactor = Reactor::new(
                poll,
                index,
                Arc::clone(&threads),
                Arc::clone(shared),
                Arc::clone(&resolver),
            );
            let spawned = std::thread::Builder::new()
                .name(format!("ZMQbg/IO/{index}"))
                .spawn(move || reactor.run());
            match spawned {
                Ok(j) => pool.joins.lock().push(j),
                Err(e) => {
                    pool.stop();
                    return Err(e);
                }
            }
        }
        Ok(pool)
    }

    /// Whether `affinity` names at least one of the threads.
    pub fn serves(&self, affinity: u64) -> bool {
        choose(&self.threads, affinity).is_some()
    }

    /// Listeners and sessions per thread, for tests.
    #[cfg(test)]
    pub fn loads(&self) -> Vec<usize> {
        self.threads
            .iter()
            .map(|t| t.load.load(Ordering::Relaxed))
            .collect()
    }

    pub fn send(&self, cmd: IoCommand) {
        let affinity = match &cmd {
            IoCommand::Listen { link, .. } | IoCommand::Connect { link, .. } => {
                Some(link.options.affinity)
            }
            _ => None,
        };
        if let Some(affinity) = affinity {
            // An affinity naming no thread was refused at bind/connect
            // when the socket asked with it; otherwise any thread will do.
            let i = choose(&self.threads, affinity)
                .or_else(|| choose(&self.threads, 0))
                .unwrap_or(0);
            if let Some(t) = self.threads.get(i) {
                t.load.fetch_add(1, Ordering::Relaxed);
                t.send(cmd);
            }
            return;
        }
        let Some((last, rest)) = self.threads.split_last() else {
            return;
        };
        for t in rest {
            if let Some(c) = copy_of(&cmd) {
                t.send(c);
            }
        }
        last.send(cmd);
    }

    /// Asks every thread to finish its sessions and exit, and waits for them.
    pub fn stop(&self) {
        for t in self.threads.iter() {
            t.send(IoCommand::Stop);
        }
        let joins = std::mem::take(&mut *self.joins.lock());
        for j in joins {
            let _ = j.join();
        }
    }
}

static NEXT_LISTENER: AtomicU64 = AtomicU64::new(1);

struct ListenerEntry {
    listener: Listener,
    endpoint: String,
    link: SocketLink,
    id: u64,
    /// Placed a connection on another thread: that thread must hear when
    /// this listener goes.
    handed_off: bool,
}

impl ListenerEntry {
    fn accept_failed(&self, errno: i32) {
        self.link
            .monitor
            .emit(MonitorEvent::AcceptFailed { errno }, || {
                Endpoints::bound(self.endpoint.as_str())
            });
    }
}

enum Entry {
    /// Taken while its session is being made (it needs its slot number).
    Reserved,
    Listener(Box<ListenerEntry>),
    /// A session, with the listener that accepted it (0 for a connect).
    Session(Box<Session>, u64),
}

struct Reactor {
    poll: Poll,
    index: usize,
    threads: Arc<[Arc<Shared>]>,
    shared: Arc<Shared>,
    resolver: Arc<Resolver>,
    slots: Vec<Option<Entry>>,
    free: Vec<usize>,
    stopping: bool,
}

impl Reactor {
    fn new(
        poll: Poll,
        index: usize,
        threads: Arc<[Arc<Shared>]>,
        shared: Arc<Shared>,
        resolver: Arc<Resolver>,
    ) -> Reactor {
        Reactor {
            poll,
            index,
            threads,
            shared,
            resolver,
            slots: Vec::new(),
            free: Vec::new(),
            stopping: false,
        }
    }

    fn insert(&mut self, entry: Entry) -> usize {
        match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some(entry);
                i
            }
            None => {
                self.slots.push(Some(entry));
                self.slots.len() - 1
            }
        }
    }

    fn remove(&mut self, slot: usize) {
        if let Some(e) = self.slots.get_mut(slot).and_then(|e| e.take()) {
            match e {
                Entry::Listener(mut l) => {
                    let _ = self.poll.registry().deregister(&mut l.listener);
                    self.shared.unload();
                    let ListenerEntry {
                        mut listener,
                        endpoint,
                        link,
                        ..
                    } = *l;
                    let fd = listener.fd();
                    let ev = match listener.remove_files() {
                        Ok(()) => MonitorEvent::Closed { fd },
                        Err(e) => MonitorEvent::CloseFailed {
                            errno: e.raw_os_error().unwrap_or(libc::EIO),
                        },
                    };
                    // Closed before it is reported, as in libzmq: whoever
                    // hears of it may bind the address again at once.
                    drop(listener);
                    link.monitor.emit(ev, || Endpoints::bound(endpoint));
                }
                Entry::Session(mut s, _) => {
                    s.shutdown(self.poll.registry());
                    self.shared.unload();
                }
                Entry::Reserved => {}
            }
            self.free.push(slot);
        }
    }

    /// Ends every listener or session `pick` selects.
    fn remove_where(&mut self, pick: impl Fn(&Entry) -> bool) {
        let chosen: Vec<usize> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| e.as_ref().filter(|e| pick(e)).map(|_| i))
            .collect();
        for i in chosen {
            self.remove(i);
        }
    }

    fn run(mut self) {
        let mut events = Events::with_capacity(256);
        loop {
            let timeout = self.next_timeout();
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    break;
                }
            }
            let now = Instant::now();
            for ev in events.iter() {
                let t = ev.token();
                if t == WAKER {
                    continue;
                }
                match self.slots.get_mut(t.0).and_then(|e| e.as_mut()) {
                    Some(Entry::Listener(_)) => self.accept(t.0),
                    Some(Entry::Session(s, _)) => s.on_io(self.poll.registry(), now),
                    Some(Entry::Reserved) | None => {}
                }
            }
            self.handle_commands();
            let ready = std::mem::take(&mut *self.shared.ready.lock());
            for slot in ready {
                if let Some(Some(Entry::Session(s, _))) = self.slots.get_mut(slot) {
                    s.on_mailbox(self.poll.registry(), now);
                }
            }
            self.run_timers(Instant::now());
            self.reap();
            if self.stopping && self.slots.iter().all(|e| e.is_none()) {
                break;
            }
        }
        for i in 0..self.slots.len() {
            self.remove(i);
        }
    }

    fn next_timeout(&self) -> Option<Duration> {
        let now = Instant::now();
        self.slots
            .iter()
            .filter_map(|e| match e {
                Some(Entry::Session(s, _)) => s.next_deadline(),
                _ => None,
            })
            .min()
            .map(|d| d.saturating_duration_since(now))
    }

    fn run_timers(&mut self, now: Instant) {
        for e in self.slots.iter_mut() {
            if let Some(Entry::Session(s, _)) = e {
                if s.next_deadline().is_some_and(|d| d <= now) {
                    s.on_timer(self.poll.registry(), now);
                }
            }
        }
    }

    /// Drops sessions that finished.
    fn reap(&mut self) {
        let done: Vec<usize> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match e {
                Some(Entry::Session(s, _)) if s.is_finished() => Some(i),
                _ => None,
            })
            .collect();
        for i in done {
            self.remove(i);
        }
    }

    fn add_session(&mut self, origin: u64, make: impl FnOnce(usize, Arc<Shared>) -> Session) {
        let slot = self.insert(Entry::Reserved);
        let mut session = make(slot, Arc::clone(&self.shared));
        session.start(self.poll.registry(), Token(slot), Instant::now());
        self.slots[slot] = Some(Entry::Session(Box::new(session), origin));
    }

    fn accept(&mut self, slot: usize) {
        loop {
            let Some(Some(Entry::Listener(l))) = self.slots.get_mut(slot) else {
                return;
            };
            match l.listener.accept(&l.link.options.accept_filters) {
                Ok(Accepted::Stream(stream)) => {
                    let link = l.link.clone();
                    let endpoint = l.endpoint.clone();
                    let id = l.id;
                    let (target, t) = match choose(&self.threads, link.options.affinity)
                        .and_then(|i| Some((i, Arc::clone(self.threads.get(i)?))))
                    {
                        Some(chosen) => chosen,
                        None => (self.index, Arc::clone(&self.shared)),
                    };
                    if target != self.index {
                        l.handed_off = true;
                    }
                    t.load.fetch_add(1, Ordering::Relaxed);
                    if target == self.index {
                        self.add_session(id, |slot, shared| {
                            Session::accepted(stream, endpoint, link, slot, shared)
                        });
                    } else {
                        t.send(IoCommand::Accepted {
                            stream,
                            endpoint,
                            link,
                            listener: id,
                        });
                    }
                }
                Ok(Accepted::Nothing) => return,
                // libzmq reports a filtered peer as a failed accept, with
                // whatever errno its thread last saw (0 over ipc, stale
                // values over tcp); 0 says no system call failed. Others may
                // be waiting behind it.
                Ok(Accepted::Refused) => l.accept_failed(0),
                // A failed accept (EMFILE, ...) leaves the listener as it is.
                Err(e) => {
                    l.accept_failed(e.raw_os_error().unwrap_or(libc::EIO));
                    return;
                }
            }
        }
    }

    /// Removes the listeners `pick` selects; returns the ids of those that
    /// placed connections on other threads.
    fn remove_listeners(&mut self, pick: impl Fn(&ListenerEntry) -> bool) -> Vec<u64> {
        let mut handed_off = Vec::new();
        let chosen: Vec<usize> = self
            .slots
            .iter()
            .enumerate()
            .filter_map(|(i, e)| match e {
                Some(Entry::Listener(l)) if pick(l) => {
                    if l.handed_off {
                        handed_off.push(l.id);
                    }
                    Some(i)
                }
                _ => None,
            })
            .collect();
        for i in chosen {
            self.remove(i);
        }
        handed_off
    }

    /// Tells the other threads that listeners which placed connections on
    /// them are gone. Their own copy of the unbind or close may have come
    /// before a connection this thread sent them; this one cannot.
    fn listeners_gone(&self, ids: Vec<u64>, linger: Option<i32>) {
        for listener in ids {
            for (i, t) in self.threads.iter().enumerate() {
                if i != self.index {
                    t.send(IoCommand::ListenerGone { listener, linger });
                }
            }
        }
    }

    fn close_sessions(&mut self, pick: impl Fn(&Session, u64) -> bool, linger: i32) {
        let now = Instant::now();
        for e in self.slots.iter_mut() {
            if let Some(Entry::Session(s, origin)) = e {
                if pick(s, *origin) {
                    s.socket_closed(linger, self.poll.registry(), now);
                }
            }
        }
    }

    fn handle_commands(&mut self) {
        let cmds = std::mem::take(&mut *self.shared.inbox.lock());
        for cmd in cmds {
            match cmd {
                IoCommand::Listen {
                    mut listener,
                    endpoint,
                    link,
                } => {
                    let slot = self.insert(Entry::Reserved);
                    if self
                        .poll
                        .registry()
                        .register(&mut *listener, Token(slot), Interest::READABLE)
                        .is_err()
                    {
                        self.slots[slot] = None;
                        self.free.push(slot);
                        self.shared.unload();
                        continue;
                    }
                    self.slots[slot] = Some(Entry::Listener(Box::new(ListenerEntry {
                        listener: *listener,
                        endpoint,
                        link,
                        id: NEXT_LISTENER.fetch_add(1, Ordering::Relaxed),
                        handed_off: false,
                    })));
                }
                IoCommand::Connect {
                    target,
                    endpoint,
                    link,
                    pipe,
                } => {
                    let resolver = Arc::clone(&self.resolver);
                    self.add_session(0, |slot, shared| {
                        Session::connecter(target, endpoint, link, pipe, slot, shared, resolver)
                    });
                }
                IoCommand::Accepted {
                    stream,
                    endpoint,
                    link,
                    listener,
                } => self.add_session(listener, |slot, shared| {
                    Session::accepted(stream, endpoint, link, slot, shared)
                }),
                IoCommand::Unbind {
                    socket_id,
                    endpoint,
                } => {
                    let gone = self.remove_listeners(|l| {
                        l.link.socket_id == socket_id && l.endpoint == endpoint
                    });
                    self.remove_where(|e| match e {
                        Entry::Session(s, _) => {
                            s.socket_id() == socket_id
                                && s.endpoint() == endpoint
                                && !s.is_connecter()
                        }
                        _ => false,
                    });
                    self.listeners_gone(gone, None);
                }
                IoCommand::Disconnect {
                    socket_id,
                    endpoint,
                } => self.remove_where(|e| match e {
                    Entry::Session(s, _) => {
                        s.socket_id() == socket_id && s.endpoint() == endpoint && s.is_connecter()
                    }
                    _ => false,
                }),
                IoCommand::SocketClosed { socket_id, linger } => {
                    let gone = self.remove_listeners(|l| l.link.socket_id == socket_id);
                    self.close_sessions(|s, _| s.socket_id() == socket_id, linger);
                    self.listeners_gone(gone, Some(linger));
                }
                IoCommand::ListenerGone { listener, linger } => match linger {
                    None => {
                        self.remove_where(|e| matches!(e, Entry::Session(_, o) if *o == listener))
                    }
                    Some(linger) => self.close_sessions(|_, o| o == listener, linger),
                },
                IoCommand::Resolved {
                    slot,
                    ticket,
                    result,
                } => {
                    if let Some(Some(Entry::Session(s, _))) = self.slots.get_mut(slot) {
                        s.on_resolved(ticket, result, self.poll.registry(), Instant::now());
                    }
                }
                IoCommand::Stop => self.stopping = true,
            }
        }
    }
}
