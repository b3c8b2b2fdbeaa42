//! A session: one connection (or one connect, across reconnections)
//! between a socket's pipe and a byte stream, driven by the ZMTP state
//! machine. It runs in an I/O thread and owns its stream, its
//! `Connection` and its end of the pipe; it never frees itself: the thread
//! drops it once `is_finished` says so.
//!
//! Backpressure both ways: a frame from the network that finds the pipe
//! full waits (and reading stops) until the socket drains the pipe; frames
//! from the socket are taken only while the bytes waiting to be written
//! stay under a bound.

use std::io::{ErrorKind, IoSlice};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::{Interest, Registry, Token};

use super::resolver::{Resolver, Ticket};
use super::thread::Shared;
use super::wire::{Raw, Wire};
use super::SocketLink;
use crate::msg::{Metadata, Msg};
use crate::pipe::{pipe_pair_with, PipeEnd, PipeId};
use crate::socket::mailbox::{Command, Mailbox};
use crate::socket::monitor::{Endpoints, MonitorEvent};
use crate::transport::socks;
use crate::transport::{Resolved, Stream, Target};
use crate::zmtp::connection::{Config, Connection, Event};
use crate::zmtp::zap::ZapConfig;
use crate::zmtp::{HandshakeEvent, ProtocolError, Version};

/// Stop taking frames from the socket while this much waits to be written.
const MAX_PENDING_OUT: usize = 256 * 1024;
const READ_CHUNK: usize = 64 * 1024;
/// A large body this much short of complete is read straight into it.
const DIRECT_MIN: usize = 64 * 1024;
/// Read blocks kept for reuse while frames of theirs are still alive.
const MAX_SPARE_READS: usize = 4;

/// Why the session stops using its current stream: libzmq's three engine
/// error reasons, which decide the monitor events and whether a connecter
/// tries again.
enum Disconnect {
    /// The stream ended or failed (`errno`; EPIPE for the peer's close).
    Connection(i32),
    /// The handshake or the heartbeats timed out.
    Timeout,
    /// The peer broke the protocol: the connection is not retried.
    Protocol(ProtocolError),
    /// A STREAM socket asked to close the connection.
    Requested,
}

impl Disconnect {
    fn io(e: &std::io::Error) -> Disconnect {
        Disconnect::Connection(e.raw_os_error().unwrap_or(libc::EIO))
    }

    fn protocol(e: ProtocolError) -> Disconnect {
        if e.is_timeout() {
            Disconnect::Timeout
        } else {
            Disconnect::Protocol(e)
        }
    }
}

/// `ZMQ_SOCKS_PROXY` for a tcp connect.
struct Proxy {
    /// Where each attempt dials; `None` when the address is not one, which
    /// fails every attempt (libzmq learns it at each connect, too).
    target: Option<Target>,
    /// What monitor events name the connection by: libzmq's socks
    /// connecter names it after the proxy, not the destination.
    endpoint: String,
}

pub struct Session {
    link: SocketLink,
    endpoint: String,
    /// Set for the connect side: where to (re)connect.
    target: Option<Target>,
    proxy: Option<Proxy>,
    /// The exchange with the proxy on the current stream, until the proxy
    /// has connected us to the target; ZMTP starts after it.
    socks: Option<socks::Client>,
    /// Resolves the target's names off this thread (connect side).
    resolver: Option<Arc<Resolver>>,
    /// The lookup in flight for the next connect, if any: the session is
    /// "resolving". Dropping it abandons the lookup.
    lookup: Option<Arc<Ticket>>,
    /// Our I/O thread, where lookups answer.
    shared: Arc<Shared>,
    token: Token,
    mailbox: Arc<Mailbox>,
    stream: Option<Stream>,
    /// A tcp connect still in progress on `stream`.
    connecting: bool,
    /// `ZMQ_CONNECT_TIMEOUT`: when a connect in progress is abandoned.
    connect_deadline: Option<Instant>,
    conn: Option<Wire>,
    /// What monitor events name the current connection by (None: not
    /// connected, the endpoint connected to names it).
    endpoints: Option<Endpoints>,
    /// The ZMTP 3.x handshake completed on the current connection (libzmq's
    /// mechanism is ready): its loss is no handshake failure.
    handshaken: bool,
    pipe: Option<PipeEnd>,
    /// The socket's end of our pipe, for `Hiccup`.
    peer_pipe_id: Option<PipeId>,
    metadata: Option<Arc<Metadata>>,
    /// To the ZAP handler, once a handshake asked it (until the stream
    /// goes, so a late reply never meets the next connection).
    zap_pipe: Option<PipeEnd>,
    /// Where reads land: a shared block, so decoded frames can be slices
    /// of it. A new one is taken when frames still hold the old one.
    read_buf: Msg,
    /// Earlier read blocks that frames still held: reused once free, so a
    /// steady stream allocates (and zeroes) no new blocks.
    spare_reads: Vec<Msg>,
    /// Input read but not yet decoded (the pipe was full): a slice of its
    /// read block, so its frames are still slices rather than copies.
    pending_in: Option<Msg>,
    /// A frame from the network waiting for room in the pipe.
    stalled: Option<Msg>,
    /// Mid-message towards the socket.
    in_more: bool,
    /// After a reconnect: the rest of a message half sent before is dropped.
    skip_out: bool,
    ever_connected: bool,
    retry_at: Option<Instant>,
    reconnect_ivl: Option<Duration>,
    closing: bool,
    linger_deadline: Option<Instant>,
    finished: bool,
}

impl Session {
    fn new(
        link: SocketLink,
        endpoint: String,
        target: Option<Target>,
        pipe: Option<PipeEnd>,
        slot: usize,
        shared: Arc<Shared>,
    ) -> Session {
        let ring = Arc::clone(&shared);
        let mailbox = Arc::new(Mailbox::with_callback(move || ring.mark_ready(slot)));
        if let Some(p) = &pipe {
            p.set_owner(&mailbox);
        }
        let reconnect_ivl = (link.options.reconnect_ivl >= 0)
            .then(|| Duration::from_millis(link.options.reconnect_ivl as u64));
        Session {
            link,
            endpoint,
            target,
            proxy: None,
            socks: None,
            resolver: None,
            lookup: None,
            shared,
            token: Token(slot),
            mailbox,
            stream: None,
            connecting: false,
            connect_deadline: None,
            conn: None,
            endpoints: None,
            handshaken: false,
            pipe,
            peer_pipe_id: None,
            metadata: None,
            zap_pipe: None,
            read_buf: Msg::new(),
            spare_reads: Vec::new(),
            pending_in: None,
            stalled: None,
            in_more: false,
            skip_out: false,
            ever_connected: false,
            retry_at: None,
            reconnect_ivl,
            closing: false,
            linger_deadline: None,
            finished: false,
        }
    }

    /// A connection accepted on a listener.
    pub fn accepted(
        stream: Stream,
        endpoint: String,
        link: SocketLink,
        slot: usize,
        shared: Arc<Shared>,
    ) -> Session {
        let mut s = Session::new(link, endpoint, None, None, slot, shared);
        s.stream = Some(stream);
        s
    }

    /// A connect; `pipe` (if any) is our end of a pipe whose other end
    /// (with id `.1`) the socket holds already.
    pub fn connecter(
        target: Target,
        endpoint: String,
        link: SocketLink,
        pipe: Option<(PipeEnd, PipeId)>,
        slot: usize,
        shared: Arc<Shared>,
        resolver: Arc<Resolver>,
    ) -> Session {
        let (pipe, peer) = match pipe {
            Some((p, id)) => (Some(p), Some(id)),
            None => (None, None),
        };
        let o = &link.options;
        let proxy = (matches!(target, Target::Tcp(_)) && !o.socks_proxy.is_empty()).then(|| {
            // A C string to libzmq: up to a NUL.
            let raw = o.socks_proxy.split(|&c| c == 0).next().unwrap_or(&[]);
            let address = String::from_utf8_lossy(raw).into_owned();
            Proxy {
                target: Target::parse("tcp", &address, o).ok(),
                endpoint: format!("tcp://{address}"),
            }
        });
        let mut s = Session::new(link, endpoint, Some(target), pipe, slot, shared);
        s.proxy = proxy;
        s.peer_pipe_id = peer;
        s.resolver = Some(resolver);
        s
    }

    pub fn socket_id(&self) -> u64 {
        self.link.socket_id
    }

    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn is_connecter(&self) -> bool {
        self.target.is_some()
    }

    pub fn start(&mut self, registry: &Registry, token: Token, now: Instant) {
        self.token = token;
        if self.target.is_some() {
            self.try_connect(registry, now);
        } else if let Some(stream) = self.stream.as_mut() {
            if stream
                .register(registry, token, Interest::READABLE | Interest::WRITABLE)
                .is_err()
            {
                self.finished = true;
                return;
            }
            let fd = stream.fd();
            // Named by the address the peer reached (for a wildcard bind,
            // not the listener's), as libzmq's accepted connections are.
            self.endpoints = Some(Endpoints {
                local: stream.local_endpoint(),
                remote: stream.peer_endpoint(),
                bound: true,
            });
            self.emit(MonitorEvent::Accepted { fd });
            self.conn = Some(self.new_wire(now));
            self.pump(registry, now);
        }
    }

    /// Raises `ev` on the socket's monitor, about the current connection
    /// or, when there is none, the endpoint connected to.
    fn emit(&self, ev: MonitorEvent) {
        self.link.monitor.emit(ev, || match &self.endpoints {
            Some(e) => e.clone(),
            None => Endpoints::connecting(self.connect_endpoint()),
        });
    }

    /// The endpoint a connecter's events name before it is connected.
    fn connect_endpoint(&self) -> &str {
        match &self.proxy {
            Some(p) => &p.endpoint,
            None => &self.endpoint,
        }
    }

    /// Where a connect attempt dials: the proxy, if there is one.
    fn dial_target(&self) -> Option<&Target> {
        match &self.proxy {
            Some(p) => p.target.as_ref(),
            None => self.target.as_ref(),
        }
    }

    fn new_wire(&self, now: Instant) -> Wire {
        if self.link.options.socket_type == crate::socket::kind::STREAM {
            Wire::Raw(Raw::new(self.link.options.stream_notify))
        } else {
            Wire::Zmtp(Box::new(Connection::new(self.config(), now)))
        }
    }

    fn config(&self) -> Config {
        let o = &self.link.options;
        let ms = |v: i32| (v > 0).then(|| Duration::from_millis(v as u64));
        Config {
            socket_type: o.socket_type,
            routing_id: o.routing_id.clone(),
            maxmsgsize: o.maxmsgsize,
            handshake_ivl: ms(o.handshake_ivl),
            heartbeat_ivl: ms(o.heartbeat_ivl),
            heartbeat_ttl: ms(o.heartbeat_ttl),
            heartbeat_timeout: if o.heartbeat_timeout >= 0 {
                ms(o.heartbeat_timeout)
            } else {
                ms(o.heartbeat_ivl)
            },
            mechanism: o.security(),
            as_server: o.as_server,
            zap: ZapConfig {
                domain: o.zap_domain.clone(),
                enforce: o.zap_enforce_domain,
                peer_address: self
                    .stream
                    .as_ref()
                    .map(|s| s.peer_address())
                    .unwrap_or_default(),
            },
            app_metadata: o
                .app_metadata
                .iter()
                .map(|(name, value)| {
                    // libzmq sends both as C strings: up to a NUL.
                    let c_str = |b: &[u8]| b.split(|&c| c == 0).next().unwrap_or(&[]).to_vec();
                    (
                        String::from_utf8_lossy(&c_str(name)).into_owned(),
                        c_str(value),
                    )
                })
                .collect(),
        }
    }

    /// One connect attempt: resolves the target (a name on the resolver,
    /// answered in `on_resolved`), then connects.
    fn try_connect(&mut self, registry: &Registry, now: Instant) {
        let (Some(target), Some(resolver)) = (self.dial_target(), &self.resolver) else {
            if self.proxy.is_some() {
                self.schedule_retry(now);
            }
            return;
        };
        if self.lookup.is_some() {
            return;
        }
        if !target.needs_lookup() {
            let resolved = target.resolve(resolver.lookup());
            self.connect_to(resolved, registry, now);
            return;
        }
        let slot = self.token.0;
        match resolver.submit(target.clone(), Arc::clone(&self.shared), slot) {
            Some(ticket) => self.lookup = Some(ticket),
            None => self.schedule_retry(now),
        }
    }

    /// The answer to our lookup; a stale one (the session moved on) is
    /// ignored.
    pub fn on_resolved(
        &mut self,
        ticket: u64,
        result: std::io::Result<Resolved>,
        registry: &Registry,
        now: Instant,
    ) {
        if self.lookup.as_ref().map(|t| t.id()) != Some(ticket) {
            return;
        }
        self.lookup = None;
        if !self.finished {
            self.connect_to(result, registry, now);
        }
    }

    fn connect_to(
        &mut self,
        resolved: std::io::Result<Resolved>,
        registry: &Registry,
        now: Instant,
    ) {
        let Some(target) = self.dial_target() else {
            return;
        };
        let mut closed = None;
        match resolved.and_then(|r| target.start(&r, &mut closed)) {
            Ok((mut stream, in_progress)) => {
                if stream
                    .register(
                        registry,
                        self.token,
                        Interest::READABLE | Interest::WRITABLE,
                    )
                    .is_err()
                {
                    let fd = stream.fd();
                    drop(stream);
                    self.emit(MonitorEvent::Closed { fd });
                    self.schedule_retry(now);
                    return;
                }
                self.stream = Some(stream);
                self.connecting = true;
                let timeout = self.link.options.connect_timeout;
                self.connect_deadline =
                    (timeout > 0).then(|| now + Duration::from_millis(timeout as u64));
                if in_progress {
                    self.emit(MonitorEvent::ConnectDelayed {
                        errno: libc::EINPROGRESS,
                    });
                }
                // ipc connects complete at once; tcp tells with writability.
                self.on_io(registry, now);
            }
            Err(_) => {
                // The socket made for the attempt, closed again (a failed
                // lookup made none).
                if let Some(fd) = closed {
                    self.emit(MonitorEvent::Closed { fd });
                }
                self.schedule_retry(now);
            }
        }
    }

    fn schedule_retry(&mut self, now: Instant) {
        match self.reconnect_ivl {
            // Also while closing: queued messages still go out within the
            // linger (a closing session with nothing left is finished).
            Some(ivl) => {
                self.retry_at = Some(now + ivl);
                self.emit(MonitorEvent::ConnectRetried {
                    interval_ms: ivl.as_millis().min(u32::MAX as u128) as u32,
                });
                let max = self.link.options.reconnect_ivl_max;
                if max > 0 {
                    let max = Duration::from_millis(max as u64);
                    self.reconnect_ivl = Some((ivl * 2).min(max).max(ivl.min(max)));
                }
            }
            // No reconnection: the socket sees the pipe end.
            None => self.finished = true,
        }
    }

    /// Readiness on the stream.
    pub fn on_io(&mut self, registry: &Registry, now: Instant) {
        if self.connecting {
            let Some(stream) = self.stream.as_ref() else {
                return;
            };
            match stream.connect_result() {
                Ok(true) => {
                    self.connecting = false;
                    self.connect_deadline = None;
                    if self.proxy.is_none() {
                        self.connected(now);
                    } else {
                        // libzmq's connecter reads the destination when
                        // the proxy asks for it; a bad one fails the same.
                        let o = &self.link.options;
                        let dest = self
                            .endpoint
                            .strip_prefix("tcp://")
                            .unwrap_or(&self.endpoint);
                        match socks::Client::new(dest, &o.socks_username, &o.socks_password) {
                            Ok(c) => self.socks = Some(c),
                            Err(_) => {
                                self.stream_failed(registry, now);
                                return;
                            }
                        }
                    }
                }
                Ok(false) => return,
                Err(e) => {
                    // libzmq's tcp connecter (not ipc's, nor the SOCKS one)
                    // gives up on a refusal it learns after the connect
                    // started, and the socket forgets the endpoint.
                    let refused = e.raw_os_error() == Some(libc::ECONNREFUSED)
                        && self.proxy.is_none()
                        && matches!(self.target, Some(Target::Tcp(_)))
                        && self.link.options.stop_on_refusal();
                    if refused {
                        self.give_up_endpoint(registry);
                    } else {
                        self.stream_failed(registry, now);
                    }
                    return;
                }
            }
        }
        if self.socks.is_some() {
            match self.socks_exchange() {
                Ok(None) => return,
                Ok(Some(rest)) => {
                    self.socks = None;
                    self.connected(now);
                    if !rest.is_empty() {
                        self.pending_in = Some(Msg::from_slice(&rest));
                    }
                }
                Err(()) => {
                    self.stream_failed(registry, now);
                    return;
                }
            }
        }
        self.pump(registry, now);
    }

    /// The connecter's stream reaches the peer: ZMTP starts.
    fn connected(&mut self, now: Instant) {
        let Some(stream) = self.stream.as_ref() else {
            return;
        };
        let fd = stream.fd();
        self.endpoints = Some(Endpoints {
            local: stream.local_endpoint(),
            remote: self.connect_endpoint().to_string(),
            bound: false,
        });
        self.emit(MonitorEvent::Connected { fd });
        self.conn = Some(self.new_wire(now));
    }

    /// A connect attempt failed before ZMTP (the connect itself, or the
    /// proxy): as libzmq's connecters, the socket is reported closed and
    /// the next attempt scheduled.
    fn stream_failed(&mut self, registry: &Registry, now: Instant) {
        let fd = self.stream.as_ref().map(|s| s.fd());
        self.drop_stream(registry);
        if let Some(fd) = fd {
            self.emit(MonitorEvent::Closed { fd });
        }
        self.schedule_retry(now);
    }

    /// `ZMQ_RECONNECT_STOP_CONN_REFUSED`: no retry, and the socket drops
    /// the endpoint as if `zmq_disconnect` had been called.
    fn give_up_endpoint(&mut self, registry: &Registry) {
        let fd = self.stream.as_ref().map(|s| s.fd());
        self.drop_stream(registry);
        if let Some(fd) = fd {
            self.emit(MonitorEvent::Closed { fd });
        }
        self.link
            .mailbox
            .post(Command::TermEndpoint(self.endpoint.clone()));
        self.finished = true;
    }

    /// Talks to the proxy as far as the stream allows. `Some` once the
    /// proxy has connected us, with what it passed on from the target
    /// after its reply (the target may speak first).
    fn socks_exchange(&mut self) -> Result<Option<Vec<u8>>, ()> {
        let (Some(stream), Some(client)) = (self.stream.as_mut(), self.socks.as_mut()) else {
            return Err(());
        };
        loop {
            while !client.output().is_empty() {
                match stream.write_vectored(&[IoSlice::new(client.output())]) {
                    Ok(0) => return Err(()),
                    Ok(n) => client.advance_output(n),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return Err(()),
                }
            }
            // Replies are small; more is the target's, handed to ZMTP.
            let mut buf = [0u8; 512];
            let n = match read_some(stream, &mut buf) {
                Ok(Some(n)) => n,
                Ok(None) => return Ok(None),
                Err(_) => return Err(()),
            };
            let used = client.input(&buf[..n]).map_err(|_| ())?;
            if client.is_done() {
                return Ok(Some(buf[used..n].to_vec()));
            }
        }
    }

    /// Commands from the socket's side and pipe activity.
    pub fn on_mailbox(&mut self, registry: &Registry, now: Instant) {
        for cmd in self.mailbox.take() {
            match cmd {
                Command::PipeTerm(id) if self.pipe.as_ref().is_some_and(|p| p.id == id) => {
                    // The socket closed, or dropped this pipe (refused it,
                    // disconnect): deliver what it sent, then end.
                    if let Some(p) = self.pipe.as_mut() {
                        p.peer_gone = true;
                    }
                    self.closing = true;
                }
                Command::Attach(mut p) | Command::AttachConnection(mut p, _) => p.close(),
                _ => {}
            }
        }
        self.pump(registry, now);
    }

    pub fn on_timer(&mut self, registry: &Registry, now: Instant) {
        if self.connecting && self.connect_deadline.is_some_and(|t| t <= now) {
            self.connect_deadline = None;
            let fd = self.stream.as_ref().map(|s| s.fd());
            self.drop_stream(registry);
            if let Some(fd) = fd {
                self.emit(MonitorEvent::Closed { fd });
            }
            self.schedule_retry(now);
        }
        if self.retry_at.is_some_and(|t| t <= now) {
            self.retry_at = None;
            self.try_connect(registry, now);
        }
        if self.linger_deadline.is_some_and(|t| t <= now) {
            self.finished = true;
            return;
        }
        let due = self
            .conn
            .as_ref()
            .and_then(|c| c.poll_timeout())
            .is_some_and(|t| t <= now);
        if due {
            let timed_out = self.conn.as_mut().and_then(|c| c.handle_timeout(now).err());
            match timed_out {
                Some(e) => self.on_disconnect(Disconnect::protocol(e), registry, now),
                None => self.pump(registry, now),
            }
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.retry_at,
            self.connect_deadline,
            self.linger_deadline,
            self.conn.as_ref().and_then(|c| c.poll_timeout()),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// The socket closed: deliver what is queued within `linger` ms.
    pub fn socket_closed(&mut self, linger: i32, registry: &Registry, now: Instant) {
        self.closing = true;
        // Told twice (an accepted session placed on another thread also
        // hears it from its listener's thread): the first deadline stands.
        if linger >= 0 && self.linger_deadline.is_none() {
            self.linger_deadline = Some(now + Duration::from_millis(linger as u64));
        }
        if linger == 0 || self.pipe.is_none() {
            self.finished = true;
        }
        self.pump(registry, now);
    }

    pub fn is_finished(&self) -> bool {
        if self.finished {
            return true;
        }
        // Closing and everything delivered: nothing left to do.
        self.closing
            && self.pipe.as_ref().is_none_or(|p| !p.has_msg())
            && self.conn.as_ref().is_none_or(|c| !c.wants_transmit())
    }

    /// Ends everything: the stream closes, the socket sees the pipe end.
    /// A connection ends silently, as libzmq's; a connect in progress is
    /// reported closed.
    pub fn shutdown(&mut self, registry: &Registry) {
        let connecting = self
            .stream
            .as_ref()
            .filter(|_| self.connecting || self.socks.is_some());
        let fd = connecting.map(|s| s.fd());
        self.drop_stream(registry);
        if let Some(fd) = fd {
            self.emit(MonitorEvent::Closed { fd });
        }
        if let Some(mut p) = self.pipe.take() {
            p.close();
        }
    }

    fn drop_stream(&mut self, registry: &Registry) {
        if let Some(mut s) = self.stream.take() {
            let _ = s.deregister(registry);
        }
        self.connecting = false;
        self.connect_deadline = None;
        self.socks = None;
        self.conn = None;
        self.zap_pipe = None;
        self.endpoints = None;
        self.handshaken = false;
    }

    fn pump(&mut self, registry: &Registry, now: Instant) {
        if self.conn.is_none() || self.finished {
            return;
        }
        let read = self.poll_zap(now).and_then(|_| self.read_input(now));
        if let Some(p) = self.pipe.as_mut() {
            p.flush();
        }
        let result = read
            .and_then(|_| self.pull_output())
            .and_then(|_| self.flush());
        if let Err(reason) = result {
            self.on_disconnect(reason, registry, now);
        }
    }

    /// The events libzmq's engine raises when it fails: a protocol error
    /// it reports (HANDSHAKE_FAILED_PROTOCOL, or _AUTH for a peer's ERROR
    /// with a ZAP status), a handshake lost to a connection error or
    /// timeout (HANDSHAKE_FAILED_NO_DETAIL), then DISCONNECTED.
    fn disconnect_events(&self, reason: &Disconnect) {
        let Some(fd) = self.stream.as_ref().map(|s| s.fd()) else {
            return;
        };
        match reason {
            // Our own socket ended it: libzmq terminates the engine
            // without a word.
            Disconnect::Requested => return,
            Disconnect::Protocol(e) => match e.handshake_event() {
                Some(HandshakeEvent::Auth(status)) => {
                    self.emit(MonitorEvent::HandshakeFailedAuth { status })
                }
                Some(HandshakeEvent::Protocol(code)) => {
                    self.emit(MonitorEvent::HandshakeFailedProtocol { code })
                }
                Some(HandshakeEvent::NoDetail(errno)) => {
                    self.emit(MonitorEvent::HandshakeFailedNoDetail { errno })
                }
                None => {}
            },
            // libzmq passes on whatever errno its timer left: EAGAIN.
            Disconnect::Timeout if !self.handshaken => {
                self.emit(MonitorEvent::HandshakeFailedNoDetail {
                    errno: libc::EAGAIN,
                })
            }
            Disconnect::Connection(errno) if !self.handshaken => {
                self.emit(MonitorEvent::HandshakeFailedNoDetail { errno: *errno })
            }
            _ => {}
        }
        self.emit(MonitorEvent::Disconnected { fd });
    }

    fn on_disconnect(&mut self, reason: Disconnect, registry: &Registry, now: Instant) {
        // A connection that failed (a refused handshake with its ERROR
        // written, a socket-type mismatch) ends for that failure, whether it
        // then closed itself or lost its stream.
        let reason = match (reason, self.conn.as_ref().and_then(|c| c.failure())) {
            (Disconnect::Connection(_) | Disconnect::Requested, Some(e)) => {
                Disconnect::protocol(e.clone())
            }
            (reason, _) => reason,
        };
        let raw = self.conn.as_ref().is_some_and(|c| c.is_raw());
        if matches!(reason, Disconnect::Protocol(_)) {
            // What we queued before the peer's fault (our READY) still
            // goes, best effort: the peer learns our socket type and can
            // tell the mismatch itself rather than see a bare close.
            let _ = self.flush();
        }
        // With HANDSHAKE_FAILED, a peer that drops the connection or never
        // answers before the handshake completes counts as broken too.
        let handshake_lost = !self.handshaken
            && matches!(reason, Disconnect::Connection(_) | Disconnect::Timeout)
            && self.link.options.stop_on_handshake_failure();
        self.disconnect_events(&reason);
        self.drop_stream(registry);
        if raw || self.link.options.immediate {
            // A STREAM peer is one connection: tell the socket it went
            // (an empty frame), and a reconnection is a new peer. With
            // IMMEDIATE the pipe exists only while connected, so nothing
            // queues for a peer that is gone.
            if raw && self.link.options.stream_notify && self.stalled.is_none() {
                let _ = self.deliver(Msg::new());
            }
            if let Some(mut p) = self.pipe.take() {
                p.flush();
                p.close();
            }
            self.peer_pipe_id = None;
        }
        self.pending_in = None;
        self.stalled = None;
        if let Some(p) = self.pipe.as_mut() {
            if self.in_more {
                p.rollback();
            }
            p.flush();
            if p.reading {
                self.skip_out = true;
            }
        }
        self.in_more = false;
        // As libzmq, a connecter whose peer broke the protocol gives up.
        let retry = !matches!(reason, Disconnect::Protocol(_)) && !handshake_lost;
        if self.target.is_some() && retry {
            self.schedule_retry(now);
        } else {
            self.finished = true;
        }
    }

    /// Reads and decodes until the stream is drained or the pipe is full.
    fn read_input(&mut self, now: Instant) -> Result<(), Disconnect> {
        if let Some(pending) = self.pending_in.take() {
            let used = self.decode(pending.data(), Some(&pending), now)?;
            if used < pending.len() {
                self.pending_in = pending.slice(used, pending.len() - used);
                return Ok(());
            }
            if self.stalled.is_some() {
                return Ok(());
            }
        } else {
            // Events that need no input (a raw connection's notification)
            // and a frame that waited for room go first.
            self.decode(&[], None, now)?;
            if self.stalled.is_some() {
                return Ok(());
            }
        }
        loop {
            let (Some(stream), Some(conn)) = (self.stream.as_mut(), self.conn.as_mut()) else {
                return Ok(());
            };
            // A large body being received: read straight into it.
            if let Some(space) = conn.direct_space(DIRECT_MIN) {
                let Some(n) = read_some(stream, space)? else {
                    return Ok(());
                };
                conn.direct_written(n, now).map_err(Disconnect::protocol)?;
                self.decode(&[], None, now)?;
                if self.stalled.is_some() {
                    return Ok(());
                }
                continue;
            }
            if self.read_buf.len() != READ_CHUNK || self.read_buf.unique_bytes_mut().is_none() {
                let free = self
                    .spare_reads
                    .iter_mut()
                    .position(|m| m.unique_bytes_mut().is_some());
                let next = match free {
                    Some(i) => self.spare_reads.swap_remove(i),
                    None => {
                        Msg::try_fillable(READ_CHUNK).ok_or(Disconnect::Connection(libc::ENOMEM))?
                    }
                };
                let held = std::mem::replace(&mut self.read_buf, next);
                if held.len() == READ_CHUNK && self.spare_reads.len() < MAX_SPARE_READS {
                    self.spare_reads.push(held);
                }
            }
            let Some(space) = self.read_buf.unique_bytes_mut() else {
                return Err(Disconnect::Connection(libc::ENOMEM));
            };
            let Some(n) = read_some(stream, space)? else {
                return Ok(());
            };
            let chunk = std::mem::take(&mut self.read_buf);
            let used = self.decode(&chunk.data()[..n], Some(&chunk), now);
            // Full pipe: stop reading (a peer's close behind the data
            // must not be seen before the data is delivered).
            let blocked = match &used {
                Ok(u) if *u < n => {
                    self.pending_in = chunk.slice(*u, n - *u);
                    true
                }
                Ok(_) => self.stalled.is_some(),
                Err(_) => false,
            };
            self.read_buf = chunk;
            used?;
            if blocked {
                return Ok(());
            }
        }
    }

    /// Feeds `data` to the protocol and delivers what comes out; returns
    /// how much was used (less than all when the pipe is full).
    fn decode(
        &mut self,
        data: &[u8],
        source: Option<&Msg>,
        now: Instant,
    ) -> Result<usize, Disconnect> {
        let mut pos = 0;
        loop {
            if !self.deliver_stalled() {
                return Ok(pos);
            }
            let mut delivered = false;
            while let Some(ev) = self.conn.as_mut().and_then(|c| c.poll_event()) {
                delivered = true;
                match ev {
                    Event::Ready {
                        version,
                        peer_routing_id,
                        metadata,
                        ..
                    } => {
                        // ZMTP 1.0/2.0 peers and raw streams have no
                        // security handshake to succeed, as in libzmq.
                        let zmtp = self.conn.as_ref().is_some_and(|c| !c.is_raw());
                        if zmtp && version >= Version::V3_0 {
                            self.handshaken = true;
                            self.emit(MonitorEvent::HandshakeSucceeded);
                        }
                        self.on_ready(peer_routing_id, metadata);
                    }
                    Event::Message(m) => {
                        if let Err(m) = self.deliver(m) {
                            self.stalled = Some(m);
                            return Ok(pos);
                        }
                    }
                    Event::ZapRequest(frames) => self.zap_request(frames, now)?,
                }
            }
            if pos == data.len() {
                return Ok(pos);
            }
            let Some(conn) = self.conn.as_mut() else {
                return Err(Disconnect::Connection(libc::EPIPE));
            };
            let (pipe, in_more, metadata) = (&mut self.pipe, &mut self.in_more, &self.metadata);
            let used = conn
                .handle_input(&data[pos..], source.map(|m| (m, pos)), now, |m| {
                    deliver_to(pipe, in_more, metadata, m)
                })
                .map_err(Disconnect::protocol)?;
            pos += used;
            if used == 0 && !delivered {
                // Nothing taken and nothing produced: wait for more bytes.
                return Ok(pos);
            }
        }
    }

    /// Carries a mechanism's ZAP request to the context's handler, or
    /// tells the mechanism there is none.
    fn zap_request(&mut self, frames: Vec<Msg>, now: Instant) -> Result<(), Disconnect> {
        if self.zap_pipe.is_none() {
            self.zap_pipe = self.shared.zap.connect(&self.mailbox);
        }
        match self.zap_pipe.as_mut() {
            Some(pipe) => {
                for f in frames {
                    pipe.write(f);
                }
                Ok(())
            }
            None => {
                let conn = self
                    .conn
                    .as_mut()
                    .and_then(|w| w.zmtp())
                    .ok_or(Disconnect::Connection(libc::EPIPE))?;
                conn.zap_unavailable(now).map_err(Disconnect::protocol)
            }
        }
    }

    /// Hands the ZAP handler's replies (whole messages) to the handshake.
    fn poll_zap(&mut self, now: Instant) -> Result<(), Disconnect> {
        let (Some(pipe), Some(conn)) = (
            self.zap_pipe.as_mut(),
            self.conn.as_mut().and_then(|w| w.zmtp()),
        ) else {
            return Ok(());
        };
        while pipe.has_msg() {
            let mut frames = Vec::new();
            while let Some(f) = pipe.read() {
                let more = f.more();
                frames.push(f);
                if !more {
                    break;
                }
            }
            conn.zap_reply(&frames, now).map_err(Disconnect::protocol)?;
        }
        Ok(())
    }

    fn deliver_stalled(&mut self) -> bool {
        match self.stalled.take() {
            None => true,
            Some(m) => match self.deliver(m) {
                Ok(()) => true,
                Err(m) => {
                    self.stalled = Some(m);
                    false
                }
            },
        }
    }

    /// Puts one frame into the pipe towards the socket; gives it back if
    /// the pipe is full at a message boundary.
    fn deliver(&mut self, msg: Msg) -> Result<(), Msg> {
        deliver_to(&mut self.pipe, &mut self.in_more, &self.metadata, msg)
    }

    fn on_ready(&mut self, peer_routing_id: Vec<u8>, metadata: Arc<Metadata>) {
        // Peer-Address first: in libzmq's map it wins over a property of
        // that name from the peer or the ZAP handler. With it, as libzmq,
        // "__fd": the descriptor `ZMQ_SRCFD` reads, kept once per
        // connection rather than in each message.
        let mut props = Vec::with_capacity(metadata.properties.len() + 2);
        if let Some(stream) = self.stream.as_ref() {
            let addr = stream.peer_address();
            if !addr.is_empty() {
                props.push(("Peer-Address".into(), addr.into_bytes()));
                props.push((
                    Metadata::SOURCE_FD.into(),
                    stream.fd().to_string().into_bytes(),
                ));
            }
        }
        props.extend(metadata.properties.iter().cloned());
        self.metadata = Some(Arc::new(Metadata { properties: props }));
        if let Some(ivl) = (self.link.options.reconnect_ivl >= 0)
            .then(|| Duration::from_millis(self.link.options.reconnect_ivl as u64))
        {
            self.reconnect_ivl = Some(ivl);
        }
        match (&self.pipe, self.peer_pipe_id) {
            (None, _) => {
                let o = &self.link.options;
                let (mut socket_end, session_end) = pipe_pair_with(
                    o.sndhwm.max(0) as usize,
                    o.rcvhwm.max(0) as usize,
                    o.conflate,
                );
                socket_end.peer_routing_id = peer_routing_id;
                socket_end.endpoint = self.endpoint.clone();
                session_end.set_owner(&self.mailbox);
                self.peer_pipe_id = Some(socket_end.id);
                self.pipe = Some(session_end);
                let endpoints = self.endpoints.clone().unwrap_or_default();
                self.link
                    .mailbox
                    .post(Command::AttachConnection(socket_end, endpoints));
            }
            (Some(_), Some(peer)) if self.ever_connected => {
                self.link.mailbox.post(Command::Hiccup(peer));
            }
            _ => {}
        }
        self.ever_connected = true;
    }

    /// Moves frames from the socket's pipe into the protocol's output.
    fn pull_output(&mut self) -> Result<(), Disconnect> {
        let Some(conn) = self.conn.as_mut() else {
            return Ok(());
        };
        if !conn.is_ready() {
            return Ok(());
        }
        let Some(pipe) = self.pipe.as_mut() else {
            return Ok(());
        };
        while conn.transmit_len() < MAX_PENDING_OUT {
            let Some(msg) = pipe.read() else { break };
            if self.skip_out {
                self.skip_out = msg.more();
                continue;
            }
            conn.send(msg);
        }
        Ok(())
    }

    /// Writes what the protocol has ready, in as few system calls as the
    /// kernel allows.
    fn flush(&mut self) -> Result<(), Disconnect> {
        loop {
            let (Some(conn), Some(stream)) = (self.conn.as_mut(), self.stream.as_mut()) else {
                return Ok(());
            };
            if !conn.wants_transmit() {
                if conn.close_requested() {
                    return Err(Disconnect::Requested);
                }
                return Ok(());
            }
            let mut io: Vec<IoSlice<'_>> = Vec::with_capacity(64);
            conn.transmit_slices(&mut io, 64);
            match stream.write_vectored(&io) {
                Ok(0) => return Err(Disconnect::Connection(libc::EPIPE)),
                Ok(n) => {
                    drop(io);
                    conn.advance_transmit(n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(Disconnect::io(&e)),
            }
            // Room again: take more from the socket.
            self.pull_output()?;
        }
    }
}

/// `Session::deliver` on the session's fields, so the decoder can call it
/// while the connection is borrowed.
fn deliver_to(
    pipe: &mut Option<PipeEnd>,
    in_more: &mut bool,
    metadata: &Option<Arc<Metadata>>,
    mut msg: Msg,
) -> Result<(), Msg> {
    let Some(pipe) = pipe.as_mut() else {
        return Ok(());
    };
    if !*in_more && !pipe.can_write() {
        if pipe.peer_stopped_reading() {
            return Ok(());
        }
        return Err(msg);
    }
    *in_more = msg.more();
    msg.set_metadata(metadata.clone());
    // Published in one go by `pump` once this read is decoded.
    pipe.write_deferred(msg);
    Ok(())
}

/// One read: `Some(n)` bytes, `None` when nothing is waiting; the end of
/// the stream or an error is a disconnection.
fn read_some(stream: &mut Stream, buf: &mut [u8]) -> Result<Option<usize>, Disconnect> {
    loop {
        return match stream.read(buf) {
            // libzmq's engine reads the peer's close as EPIPE.
            Ok(0) => Err(Disconnect::Connection(libc::EPIPE)),
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == ErrorKind::WouldBlock => Ok(None),
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => Err(Disconnect::io(&e)),
        };
    }
}
