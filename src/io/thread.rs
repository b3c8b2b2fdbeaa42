//! One I/O thread: a mio `Poll` over listeners and session streams, a
//! `Waker` for commands and for pipes that rang a session, and the timers
//! of its sessions (handshake, heartbeats, reconnects, linger).

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::{Events, Interest, Poll, Token, Waker};
use parking_lot::Mutex;

use super::session::Session;
use super::{IoCommand, SocketLink};
use crate::transport::Listener;

const WAKER: Token = Token(usize::MAX);

/// The part of an I/O thread other threads touch.
pub struct Shared {
    waker: Waker,
    inbox: Mutex<Vec<IoCommand>>,
    /// Slots of sessions whose mailbox rang.
    ready: Mutex<Vec<usize>>,
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
}

pub struct IoThread {
    shared: Arc<Shared>,
    join: Mutex<Option<JoinHandle<()>>>,
}

impl IoThread {
    pub fn start() -> std::io::Result<IoThread> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKER)?;
        let shared = Arc::new(Shared {
            waker,
            inbox: Mutex::new(Vec::new()),
            ready: Mutex::new(Vec::new()),
        });
        let s = Arc::clone(&shared);
        let join = std::thread::Builder::new()
            .name("ZMQbg/IO/0".into())
            .spawn(move || Reactor::new(poll, s).run())?;
        Ok(IoThread {
            shared,
            join: Mutex::new(Some(join)),
        })
    }

    pub fn send(&self, cmd: IoCommand) {
        self.shared.send(cmd);
    }

    /// Asks the thread to finish its sessions and exit, and waits for it.
    pub fn stop(&self) {
        self.shared.send(IoCommand::Stop);
        if let Some(j) = self.join.lock().take() {
            let _ = j.join();
        }
    }
}

struct ListenerEntry {
    listener: Listener,
    endpoint: String,
    link: SocketLink,
}

enum Entry {
    /// Taken while its session is being made (it needs its slot number).
    Reserved,
    Listener(Box<ListenerEntry>),
    Session(Box<Session>),
}

struct Reactor {
    poll: Poll,
    shared: Arc<Shared>,
    slots: Vec<Option<Entry>>,
    free: Vec<usize>,
    stopping: bool,
}

impl Reactor {
    fn new(poll: Poll, shared: Arc<Shared>) -> Reactor {
        Reactor {
            poll,
            shared,
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
                }
                Entry::Session(mut s) => s.shutdown(self.poll.registry()),
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
                    Some(Entry::Session(s)) => s.on_io(self.poll.registry(), now),
                    Some(Entry::Reserved) | None => {}
                }
            }
            self.handle_commands();
            let ready = std::mem::take(&mut *self.shared.ready.lock());
            for slot in ready {
                if let Some(Some(Entry::Session(s))) = self.slots.get_mut(slot) {
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
                Some(Entry::Session(s)) => s.next_deadline(),
                _ => None,
            })
            .min()
            .map(|d| d.saturating_duration_since(now))
    }

    fn run_timers(&mut self, now: Instant) {
        for e in self.slots.iter_mut() {
            if let Some(Entry::Session(s)) = e {
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
                Some(Entry::Session(s)) if s.is_finished() => Some(i),
                _ => None,
            })
            .collect();
        for i in done {
            self.remove(i);
        }
    }

    fn add_session(&mut self, make: impl FnOnce(usize, Arc<Shared>) -> Session) {
        let slot = self.insert(Entry::Reserved);
        let mut session = make(slot, Arc::clone(&self.shared));
        session.start(self.poll.registry(), Token(slot), Instant::now());
        self.slots[slot] = Some(Entry::Session(Box::new(session)));
    }

    fn accept(&mut self, slot: usize) {
        loop {
            let Some(Some(Entry::Listener(l))) = self.slots.get_mut(slot) else {
                return;
            };
            match l.listener.accept() {
                Ok(Some(stream)) => {
                    let link = l.link.clone();
                    let endpoint = l.endpoint.clone();
                    self.add_session(|slot, shared| {
                        Session::accepted(stream, endpoint, link, slot, shared)
                    });
                }
                Ok(None) => return,
                // A failed accept (EMFILE, ...) leaves the listener as it is.
                Err(_) => return,
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
                        continue;
                    }
                    self.slots[slot] = Some(Entry::Listener(Box::new(ListenerEntry {
                        listener: *listener,
                        endpoint,
                        link,
                    })));
                }
                IoCommand::Connect {
                    target,
                    endpoint,
                    link,
                    pipe,
                } => {
                    self.add_session(|slot, shared| {
                        Session::connecter(target, endpoint, link, pipe, slot, shared)
                    });
                }
                IoCommand::Unbind {
                    socket_id,
                    endpoint,
                } => self.remove_where(|e| match e {
                    Entry::Listener(l) => l.link.socket_id == socket_id && l.endpoint == endpoint,
                    Entry::Session(s) => {
                        s.socket_id() == socket_id && s.endpoint() == endpoint && !s.is_connecter()
                    }
                    Entry::Reserved => false,
                }),
                IoCommand::Disconnect {
                    socket_id,
                    endpoint,
                } => self.remove_where(|e| match e {
                    Entry::Session(s) => {
                        s.socket_id() == socket_id && s.endpoint() == endpoint && s.is_connecter()
                    }
                    _ => false,
                }),
                IoCommand::SocketClosed { socket_id, linger } => {
                    let now = Instant::now();
                    let mut listeners = Vec::new();
                    for (i, e) in self.slots.iter_mut().enumerate() {
                        match e {
                            Some(Entry::Listener(l)) if l.link.socket_id == socket_id => {
                                listeners.push(i)
                            }
                            Some(Entry::Session(s)) if s.socket_id() == socket_id => {
                                s.socket_closed(linger, self.poll.registry(), now)
                            }
                            _ => {}
                        }
                    }
                    for i in listeners {
                        self.remove(i);
                    }
                }
                IoCommand::Stop => self.stopping = true,
            }
        }
    }
}
