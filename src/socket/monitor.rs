//! Socket monitoring (`zmq_socket_monitor`): the events of a socket's
//! connections, published in libzmq's frame format on a PAIR socket bound to
//! an inproc endpoint.
//!
//! Events are raised in the caller's thread (a bind) and in the I/O threads
//! (listeners and sessions, through the [`MonitorLink`] in their
//! `SocketLink`). Publishing never blocks, where libzmq blocks the thread
//! raising the event until a reader connects or its pipe has room: an event
//! that cannot go now waits in a bounded backlog, which moves as soon as a
//! reader connects or drains its pipe (the publisher's mailbox calls back),
//! and beyond that bound events are dropped.
//!
//! A socket's monitor stops (`MONITOR_STOPPED`) when the user stops or
//! replaces it, or once the socket is closed and every listener and session
//! it had is gone, so the events of their closing come first, as in libzmq.

use std::collections::VecDeque;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::{check_protocol, kind, parse_endpoint, Socket};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::id;
use crate::socket::mailbox::Mailbox;

/// Event numbers, as zmq.h defines them.
pub mod event {
    pub const CONNECTED: u64 = 0x0001;
    pub const CONNECT_DELAYED: u64 = 0x0002;
    pub const CONNECT_RETRIED: u64 = 0x0004;
    pub const LISTENING: u64 = 0x0008;
    pub const BIND_FAILED: u64 = 0x0010;
    pub const ACCEPTED: u64 = 0x0020;
    pub const ACCEPT_FAILED: u64 = 0x0040;
    pub const CLOSED: u64 = 0x0080;
    pub const CLOSE_FAILED: u64 = 0x0100;
    pub const DISCONNECTED: u64 = 0x0200;
    pub const MONITOR_STOPPED: u64 = 0x0400;
    pub const HANDSHAKE_FAILED_NO_DETAIL: u64 = 0x0800;
    pub const HANDSHAKE_SUCCEEDED: u64 = 0x1000;
    pub const HANDSHAKE_FAILED_PROTOCOL: u64 = 0x2000;
    pub const HANDSHAKE_FAILED_AUTH: u64 = 0x4000;
    /// Every version 1 event (`ZMQ_EVENT_ALL`).
    pub const ALL_V1: u64 = 0xFFFF;
    /// Draft (version 2 only).
    pub const PIPES_STATS: u64 = 0x10000;
}

/// Events waiting for a reader, per monitor. libzmq's publisher would
/// block its thread instead; a bound keeps memory in check when nobody
/// ever reads.
const BACKLOG: usize = 1000;

/// One event and its value(s), with libzmq's meaning for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorEvent {
    Connected {
        fd: RawFd,
    },
    /// A connect is in progress (`errno` is EINPROGRESS).
    ConnectDelayed {
        errno: i32,
    },
    /// The next attempt comes after `interval_ms`.
    ConnectRetried {
        interval_ms: u32,
    },
    Listening {
        fd: RawFd,
    },
    BindFailed {
        errno: i32,
    },
    Accepted {
        fd: RawFd,
    },
    AcceptFailed {
        errno: i32,
    },
    Closed {
        fd: RawFd,
    },
    CloseFailed {
        errno: i32,
    },
    Disconnected {
        fd: RawFd,
    },
    MonitorStopped,
    HandshakeFailedNoDetail {
        errno: i32,
    },
    HandshakeSucceeded,
    /// `code` is one of the `ZMQ_PROTOCOL_ERROR_*` values.
    HandshakeFailedProtocol {
        code: u32,
    },
    /// `status` is the ZAP status code (300, 400 or 500).
    HandshakeFailedAuth {
        status: u32,
    },
    /// Messages queued towards the peer and from it (draft, version 2).
    PipesStats {
        outbound: u64,
        inbound: u64,
    },
}

impl MonitorEvent {
    /// The event's `ZMQ_EVENT_*` number.
    pub fn code(&self) -> u64 {
        use MonitorEvent::*;
        match self {
            Connected { .. } => event::CONNECTED,
            ConnectDelayed { .. } => event::CONNECT_DELAYED,
            ConnectRetried { .. } => event::CONNECT_RETRIED,
            Listening { .. } => event::LISTENING,
            BindFailed { .. } => event::BIND_FAILED,
            Accepted { .. } => event::ACCEPTED,
            AcceptFailed { .. } => event::ACCEPT_FAILED,
            Closed { .. } => event::CLOSED,
            CloseFailed { .. } => event::CLOSE_FAILED,
            Disconnected { .. } => event::DISCONNECTED,
            MonitorStopped => event::MONITOR_STOPPED,
            HandshakeFailedNoDetail { .. } => event::HANDSHAKE_FAILED_NO_DETAIL,
            HandshakeSucceeded => event::HANDSHAKE_SUCCEEDED,
            HandshakeFailedProtocol { .. } => event::HANDSHAKE_FAILED_PROTOCOL,
            HandshakeFailedAuth { .. } => event::HANDSHAKE_FAILED_AUTH,
            PipesStats { .. } => event::PIPES_STATS,
        }
    }

    /// The values libzmq sends with the event: one, or two for pipe stats.
    fn values(&self) -> ([u64; 2], usize) {
        use MonitorEvent::*;
        // Descriptors and errnos go out as libzmq casts them: the int's bits.
        let int = |v: i32| [v as u32 as u64, 0];
        match *self {
            Connected { fd } | Listening { fd } | Accepted { fd } => (int(fd), 1),
            Closed { fd } | Disconnected { fd } => (int(fd), 1),
            ConnectDelayed { errno } | BindFailed { errno } | AcceptFailed { errno } => {
                (int(errno), 1)
            }
            CloseFailed { errno } | HandshakeFailedNoDetail { errno } => (int(errno), 1),
            ConnectRetried { interval_ms } => ([interval_ms as u64, 0], 1),
            HandshakeFailedProtocol { code } => ([code as u64, 0], 1),
            HandshakeFailedAuth { status } => ([status as u64, 0], 1),
            MonitorStopped | HandshakeSucceeded => ([0, 0], 1),
            PipesStats { outbound, inbound } => ([outbound, inbound], 2),
        }
    }
}

/// What an event is about: libzmq's endpoint pair. Version 1 sends only
/// the endpoint that names the connection for this socket: the local one
/// on the bind side, the one connected to on the connect side.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    pub local: String,
    pub remote: String,
    /// The bind side (the local endpoint names the connection).
    pub bound: bool,
}

impl Endpoints {
    /// A listener, or a connection accepted on it, at `local`.
    pub fn bound(local: impl Into<String>) -> Endpoints {
        Endpoints {
            local: local.into(),
            remote: String::new(),
            bound: true,
        }
    }

    /// A connect to `remote`, not connected (yet).
    pub fn connecting(remote: impl Into<String>) -> Endpoints {
        Endpoints {
            local: String::new(),
            remote: remote.into(),
            bound: false,
        }
    }

    /// The endpoint of version 1's second frame.
    pub fn identifier(&self) -> &str {
        if self.bound {
            &self.local
        } else {
            &self.remote
        }
    }
}

/// The frames of one event in format `version` (None: a version libzmq
/// accepts but never sends anything for).
fn frames(version: i32, ev: &MonitorEvent, ep: &Endpoints) -> Option<Vec<Msg>> {
    let (values, count) = ev.values();
    match version {
        1 => {
            let mut head = [0u8; 6];
            head[..2].copy_from_slice(&(ev.code() as u16).to_ne_bytes());
            head[2..].copy_from_slice(&(values[0] as u32).to_ne_bytes());
            Some(vec![
                Msg::from_slice(&head),
                Msg::from_slice(ep.identifier().as_bytes()),
            ])
        }
        2 => {
            let mut v = Vec::with_capacity(count + 4);
            v.push(Msg::from_slice(&ev.code().to_ne_bytes()));
            v.push(Msg::from_slice(&(count as u64).to_ne_bytes()));
            for value in &values[..count] {
                v.push(Msg::from_slice(&value.to_ne_bytes()));
            }
            v.push(Msg::from_slice(ep.local.as_bytes()));
            v.push(Msg::from_slice(ep.remote.as_bytes()));
            Some(v)
        }
        _ => None,
    }
}

/// A running monitor: the socket it publishes on and what waits to go.
struct Active {
    publisher: Arc<Socket>,
    events: u64,
    version: i32,
    backlog: VecDeque<Vec<Msg>>,
}

impl Active {
    fn publish(&mut self, ev: &MonitorEvent, ep: &Endpoints) {
        if self.events & ev.code() == 0 {
            return;
        }
        let Some(mut f) = frames(self.version, ev, ep) else {
            return;
        };
        self.drain();
        if self.backlog.is_empty() {
            match self.publisher.send_whole(&mut f) {
                Ok(()) => return,
                Err(Error::Again) => {}
                // The context is terminating: nobody can read any more.
                Err(_) => return,
            }
        }
        if self.backlog.len() < BACKLOG {
            self.backlog.push_back(f);
        }
    }

    /// Sends what waits, in order, as far as the reader takes it.
    fn drain(&mut self) {
        while let Some(front) = self.backlog.front_mut() {
            match self.publisher.send_whole(front) {
                Ok(()) => {
                    self.backlog.pop_front();
                }
                Err(Error::Again) => return,
                Err(_) => {
                    self.backlog.clear();
                    return;
                }
            }
        }
    }
}

/// The monitor state of one socket, shared with its listeners and
/// sessions (through `Life`) and with the publisher's mailbox (weakly).
struct Hub {
    /// The events wanted, 0 without a monitor: checked without the lock,
    /// so an unmonitored socket pays one load per would-be event.
    mask: AtomicU64,
    state: Mutex<Option<Active>>,
    /// The publisher's mailbox rang (a reader connected, or its pipe has
    /// room again) while the state was busy: the holder drains after.
    poked: AtomicBool,
}

impl Hub {
    fn new() -> Hub {
        Hub {
            mask: AtomicU64::new(0),
            state: Mutex::new(None),
            poked: AtomicBool::new(false),
        }
    }

    /// Runs `f` on the state, then moves the backlog if the publisher's
    /// mailbox rang meanwhile.
    fn locked<R>(&self, f: impl FnOnce(&mut Option<Active>) -> R) -> R {
        let r = f(&mut self.state.lock());
        self.drain_if_poked();
        r
    }

    /// From the publisher's mailbox, on whatever thread rang it (possibly
    /// holding the context's locks): never waits for the state.
    fn poke(&self) {
        self.poked.store(true, Ordering::SeqCst);
        self.drain_if_poked();
    }

    fn drain_if_poked(&self) {
        while self.poked.load(Ordering::SeqCst) {
            // Busy: its holder runs this loop again once it lets go.
            let Some(mut st) = self.state.try_lock() else {
                return;
            };
            self.poked.store(false, Ordering::SeqCst);
            if let Some(a) = st.as_mut() {
                a.drain();
            }
        }
    }

    fn emit(&self, ev: &MonitorEvent, ep: impl FnOnce() -> Endpoints) {
        if self.mask.load(Ordering::Acquire) & ev.code() == 0 {
            return;
        }
        let ep = ep();
        self.locked(|st| {
            if let Some(a) = st.as_mut() {
                a.publish(ev, &ep);
            }
        });
    }

    /// Stops the monitor, announcing it (`MONITOR_STOPPED`) if `announce`.
    fn stop(&self, announce: bool) {
        self.locked(|st| Self::stop_locked(&self.mask, st, announce));
    }

    fn stop_locked(mask: &AtomicU64, st: &mut Option<Active>, announce: bool) {
        if let Some(mut a) = st.take() {
            mask.store(0, Ordering::Release);
            if announce {
                a.publish(&MonitorEvent::MonitorStopped, &Endpoints::default());
            }
            // What the reader did not take yet stays in its pipe.
            a.publisher.close();
        }
    }

    fn start(
        self: &Arc<Self>,
        ctx: &Arc<Ctx>,
        endpoint: &str,
        events: u64,
        version: i32,
        publisher_type: i32,
    ) -> Result<()> {
        self.locked(|st| {
            Self::stop_locked(&self.mask, st, true);
            if !matches!(publisher_type, kind::PAIR | kind::PUB | kind::PUSH) {
                return Err(Error::Inval);
            }
            let hub = Arc::downgrade(self);
            let mailbox = Arc::new(Mailbox::with_callback(move || {
                if let Some(hub) = Weak::upgrade(&hub) {
                    hub.poke();
                }
            }));
            let publisher = Arc::new(Socket::with_mailbox(
                Arc::clone(ctx),
                publisher_type,
                mailbox,
            )?);
            // Never hold up anything at close, as libzmq's LINGER 0.
            publisher.set_option(id::LINGER, &0i32.to_ne_bytes())?;
            if let Err(e) = publisher.bind(endpoint) {
                publisher.close();
                return Err(e);
            }
            *st = Some(Active {
                publisher,
                events,
                version,
                backlog: VecDeque::new(),
            });
            self.mask.store(events, Ordering::Release);
            Ok(())
        })
    }
}

/// The socket's and its I/O objects' hold on the monitor: when the last
/// one goes (the socket closed, and its listeners and sessions finished),
/// the monitor stops.
struct Life {
    hub: Arc<Hub>,
}

impl Drop for Life {
    fn drop(&mut self) {
        self.hub.stop(true);
    }
}

/// What a listener or session keeps to raise events on its socket's
/// monitor (the default: no socket, no monitor).
#[derive(Clone, Default)]
pub struct MonitorLink(Option<Arc<Life>>);

impl MonitorLink {
    /// Raises `ev`; `ep` is only called when someone listens for it.
    pub fn emit(&self, ev: MonitorEvent, ep: impl FnOnce() -> Endpoints) {
        if let Some(life) = &self.0 {
            life.hub.emit(&ev, ep);
        }
    }
}

/// A socket's monitor.
pub(crate) struct Monitor {
    hub: Arc<Hub>,
    /// The socket's own hold, given up at close.
    life: Mutex<Option<Arc<Life>>>,
}

impl Monitor {
    pub(crate) fn new() -> Monitor {
        let hub = Arc::new(Hub::new());
        let life = Arc::new(Life {
            hub: Arc::clone(&hub),
        });
        Monitor {
            hub,
            life: Mutex::new(Some(life)),
        }
    }

    /// For a listener or session of this socket.
    pub(crate) fn link(&self) -> MonitorLink {
        MonitorLink(self.life.lock().clone())
    }

    /// An event raised by the socket itself (in the caller's thread).
    pub(crate) fn emit(&self, ev: MonitorEvent, ep: impl FnOnce() -> Endpoints) {
        self.hub.emit(&ev, ep);
    }

    /// The socket closed: the monitor stops once its I/O objects are gone
    /// too (at once if it has none).
    pub(crate) fn socket_closed(&self) {
        let life = self.life.lock().take();
        drop(life);
    }
}

impl Socket {
    /// `zmq_socket_monitor` (`version` 1, a PAIR publisher) and the draft
    /// `zmq_socket_monitor_versioned`. `None` stops monitoring.
    pub fn monitor(
        &self,
        endpoint: Option<&str>,
        events: u64,
        version: i32,
        publisher_type: i32,
    ) -> Result<()> {
        self.check_open()?;
        if self.ctx.is_terminating() {
            return Err(Error::Term);
        }
        // Version 1 has 16 bits for the event number.
        if version == 1 && events >> 16 != 0 {
            return Err(Error::Inval);
        }
        let Some(endpoint) = endpoint else {
            self.monitor.hub.stop(true);
            return Ok(());
        };
        let (proto, _) = parse_endpoint(endpoint)?;
        check_protocol(proto, self.socket_type)?;
        if proto != "inproc" {
            return Err(Error::ProtoNoSupport);
        }
        self.monitor
            .hub
            .start(&self.ctx, endpoint, events, version, publisher_type)
    }

    /// Draft `zmq_socket_monitor_pipes_stats`: one PIPES_STATS event per
    /// pipe, with the messages queued towards the peer and from it. The
    /// monitor must ask for the event (EINVAL) and there must be pipes
    /// (EAGAIN). libzmq asks each pipe's peer for its count and raises the
    /// events later; both queues are at hand here, so they go at once.
    pub fn pipes_stats(&self) -> Result<()> {
        self.check_open()?;
        if self.monitor.hub.mask.load(Ordering::Acquire) & event::PIPES_STATS == 0 {
            return Err(Error::Inval);
        }
        let stats: Vec<_> = {
            let mut guard = self.inner.lock();
            self.process_commands(&mut guard)?;
            let inner = &mut *guard;
            if inner.pipes.is_empty() {
                return Err(Error::Again);
            }
            // Forget the addresses of pipes a pattern dropped by itself.
            let pipes = &inner.pipes;
            inner.pipe_endpoints.retain(|id, _| pipes.contains_key(id));
            pipes
                .iter()
                .map(|(id, p)| {
                    let (outbound, inbound) = p.queued();
                    let endpoints = inner.pipe_endpoints.get(id).cloned().unwrap_or_default();
                    (MonitorEvent::PipesStats { outbound, inbound }, endpoints)
                })
                .collect()
        };
        for (ev, endpoints) in stats {
            self.monitor.emit(ev, || endpoints);
        }
        Ok(())
    }

    /// Sends `frames` as one message if it can go now without blocking;
    /// otherwise `Again`, and `frames` are left as they were.
    fn send_whole(&self, frames: &mut [Msg]) -> Result<()> {
        self.check_open()?;
        let mut guard = self.inner.lock();
        self.process_commands(&mut guard)?;
        let inner = &mut *guard;
        if !inner.pattern.has_out(&mut inner.pipes, &inner.options) {
            return Err(Error::Again);
        }
        // A message under way always takes its remaining frames, so after
        // the first one nothing fails.
        let last = frames.len().saturating_sub(1);
        for (i, f) in frames.iter_mut().enumerate() {
            f.set_more(i < last);
            inner.pattern.send(f, &mut inner.pipes, &inner.options)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "monitor_tests.rs"]
mod tests;
