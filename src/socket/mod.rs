//! The socket core: what every socket type shares (options, pipes, endpoints,
//! blocking with timeouts, commands from other threads), and the hooks each
//! type fills in (`Pattern`), as libzmq's `socket_base_t` does.
//!
//! A socket is used by one thread at a time, as in libzmq, but misuse across
//! threads cannot corrupt it: its state sits behind a lock, which is never
//! held while a call blocks.

pub mod mailbox;
pub mod monitor;

mod dealer;
mod dist;
mod fq;
mod lb;
mod pair;
mod publish;
mod pull;
mod push;
mod rep;
mod req;
mod router;
mod server;
mod stream;
mod sub;
mod trie;
mod xpub;
mod xsub;

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::sync::Lock;

use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::io::{IoCommand, SocketLink};
use crate::msg::Msg;
use crate::options::{id, OptionValue, Options};
use crate::pipe::{pipe_pair_with, PipeEnd, PipeId, PipeMap, SideConfig};
use crate::transport::{self, Target};
use mailbox::{Command, Mailbox};
use monitor::{Endpoints, Monitor, MonitorEvent};

/// Socket types, as zmq.h numbers them.
pub mod kind {
    pub const PAIR: i32 = 0;
    pub const PUB: i32 = 1;
    pub const SUB: i32 = 2;
    pub const REQ: i32 = 3;
    pub const REP: i32 = 4;
    pub const DEALER: i32 = 5;
    pub const ROUTER: i32 = 6;
    pub const PULL: i32 = 7;
    pub const PUSH: i32 = 8;
    pub const XPUB: i32 = 9;
    pub const XSUB: i32 = 10;
    pub const STREAM: i32 = 11;
    // The draft types. libzmq's shared library makes them in every build
    // (only its header hides the numbers), and so do we.
    pub const SERVER: i32 = 12;
    pub const CLIENT: i32 = 13;
    pub const RADIO: i32 = 14;
    pub const DISH: i32 = 15;
    pub const GATHER: i32 = 16;
    pub const SCATTER: i32 = 17;
    pub const DGRAM: i32 = 18;
    pub const PEER: i32 = 19;
    pub const CHANNEL: i32 = 20;

    /// libzmq's thread-safe types: no `ZMQ_FD` (`EINVAL`), single-part
    /// messages only; they are polled with `zmq_poller`.
    pub fn thread_safe(t: i32) -> bool {
        matches!(t, SERVER..=PEER | CHANNEL) && t != DGRAM
    }
}

/// `zmq_send` flags.
pub const DONTWAIT: i32 = 1;
pub const SNDMORE: i32 = 2;
/// `ZMQ_EVENTS` bits.
pub const POLLIN: i16 = 1;
pub const POLLOUT: i16 = 2;

/// The pipes of one socket, by id.
pub type Pipes = PipeMap<PipeEnd>;

/// The hooks a socket type fills in. Each returns `Error::Again` when it
/// cannot proceed now; the core then blocks or reports `EAGAIN`.
pub(crate) trait Pattern: Send {
    /// A pipe was added to `pipes` under `id`.
    fn attach(&mut self, id: PipeId, pipes: &mut Pipes, opts: &Options);
    /// The pipe `id` ended; it is still in `pipes` during the call and
    /// removed right after.
    fn terminated(&mut self, id: PipeId, pipes: &mut Pipes);
    /// Sends one frame. On success the frame is taken out of `msg`; on
    /// error `msg` is left as it was.
    fn send(&mut self, msg: &mut Msg, pipes: &mut Pipes, opts: &Options) -> Result<()>;
    /// Receives one frame.
    fn recv(&mut self, pipes: &mut Pipes, opts: &Options) -> Result<Msg>;
    /// As `recv`, into `out` (left as it was on error). Types whose frames
    /// come straight from a pipe override it, so a small message is copied
    /// once, from the pipe into the caller's `zmq_msg_t`, rather than moved
    /// through every layer's return value.
    fn recv_into(&mut self, pipes: &mut Pipes, opts: &Options, out: &mut Msg) -> Result<()> {
        *out = self.recv(pipes, opts)?;
        Ok(())
    }
    fn has_in(&mut self, pipes: &mut Pipes, opts: &Options) -> bool;
    fn has_out(&mut self, pipes: &mut Pipes, opts: &Options) -> bool;
    /// A type-specific option. `Ok(false)` means "not mine". libzmq's
    /// type-specific options are all set-only, so there is no getter.
    fn set_option(&mut self, _opt: i32, _value: &[u8], _pipes: &mut Pipes) -> Result<bool> {
        Ok(false)
    }
    /// The pipe's connection was re-established (resend subscriptions).
    fn hiccup(&mut self, _id: PipeId, _pipes: &mut Pipes) {}
    /// Whether a second peer may attach (PAIR accepts one).
    fn accepts_pipe(&self) -> bool {
        true
    }
    /// The routing id the type gave the pipe (SERVER and PEER), or 0.
    fn routing_id_of(&self, _id: PipeId) -> u32 {
        0
    }
}

fn new_pattern(socket_type: i32) -> Result<Box<dyn Pattern>> {
    Ok(match socket_type {
        kind::PAIR => Box::new(pair::Pair::default()),
        kind::PUB => Box::new(publish::new()),
        kind::SUB => Box::new(sub::new()),
        kind::REQ => Box::new(req::Req::default()),
        kind::REP => Box::new(rep::Rep::default()),
        kind::DEALER => Box::new(dealer::Dealer::default()),
        kind::ROUTER => Box::new(router::Router::default()),
        kind::PULL => Box::new(pull::Pull::default()),
        kind::PUSH => Box::new(push::Push::default()),
        kind::XPUB => Box::new(xpub::XPub::new(false)),
        kind::XSUB => Box::new(xsub::XSub::new(false)),
        kind::STREAM => Box::new(stream::Stream::default()),
        // PEER is SERVER that also learns the id of a pipe it connects.
        kind::SERVER | kind::PEER => Box::new(server::Server::default()),
        kind::CLIENT => Box::new(dealer::Dealer::client()),
        kind::GATHER => Box::new(pull::Pull::gather()),
        kind::SCATTER => Box::new(push::Push::scatter()),
        kind::CHANNEL => Box::new(pair::Pair::channel()),
        _ => return Err(Error::Inval),
    })
}

/// `Pattern::recv` for the types whose frames come through `recv_into`.
fn recv_by_into(p: &mut impl Pattern, pipes: &mut Pipes, opts: &Options) -> Result<Msg> {
    let mut msg = Msg::new();
    p.recv_into(pipes, opts, &mut msg)?;
    Ok(msg)
}

/// The thread-safe types refuse `SNDMORE` (`EINVAL`), as libzmq does.
fn single_part(msg: &Msg) -> Result<()> {
    if msg.more() {
        Err(Error::Inval)
    } else {
        Ok(())
    }
}

static NEXT_SOCKET_ID: AtomicU64 = AtomicU64::new(1);

struct Inner {
    options: Options,
    pattern: Box<dyn Pattern>,
    pipes: Pipes,
    /// The last frame received had MORE set (`ZMQ_RCVMORE`).
    rcvmore: bool,
    /// Endpoints bound with inproc, for unbind and close.
    bound: Vec<String>,
    /// Pipes whose peer left: removed once we have read what it sent.
    dying: Vec<PipeId>,
    /// tcp/ipc endpoints bound, by the name `ZMQ_LAST_ENDPOINT` gave.
    bound_io: Vec<String>,
    /// tcp/ipc endpoints connected, as given.
    connected_io: Vec<String>,
    /// The addresses libzmq names a tcp/ipc pipe by in PIPES_STATS: the
    /// connection's, or for a pipe made at connect, only the endpoint
    /// connected to. inproc pipes have none (both empty), as in libzmq.
    pipe_endpoints: PipeMap<Endpoints>,
}

pub struct Socket {
    pub id: u64,
    socket_type: i32,
    ctx: Arc<Ctx>,
    mailbox: Arc<Mailbox>,
    inner: Lock<Inner>,
    closed: AtomicBool,
    monitor: Monitor,
}

impl Socket {
    pub(crate) fn new(ctx: Arc<Ctx>, socket_type: i32) -> Result<Socket> {
        let mailbox = Arc::new(Mailbox::new().map_err(|_| Error::MFile)?);
        Self::with_mailbox(ctx, socket_type, mailbox)
    }

    /// A socket woken through `mailbox` (a monitor's publisher has one
    /// that calls back instead of a signaler).
    pub(crate) fn with_mailbox(
        ctx: Arc<Ctx>,
        socket_type: i32,
        mailbox: Arc<Mailbox>,
    ) -> Result<Socket> {
        let pattern = new_pattern(socket_type)?;
        let mut options = Options::new(socket_type);
        options.ipv6 = ctx.ipv6();
        Ok(Socket {
            id: NEXT_SOCKET_ID.fetch_add(1, Ordering::Relaxed),
            socket_type,
            ctx,
            mailbox,
            inner: Lock::new(Inner {
                options,
                pattern,
                pipes: Pipes::default(),
                rcvmore: false,
                bound: Vec::new(),
                dying: Vec::new(),
                bound_io: Vec::new(),
                connected_io: Vec::new(),
                pipe_endpoints: PipeMap::default(),
            }),
            closed: AtomicBool::new(false),
            monitor: Monitor::new(),
        })
    }

    pub fn socket_type(&self) -> i32 {
        self.socket_type
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    pub(crate) fn mailbox(&self) -> &Arc<Mailbox> {
        &self.mailbox
    }

    fn check_open(&self) -> Result<()> {
        if self.is_closed() {
            Err(Error::NotSock)
        } else {
            Ok(())
        }
    }

    /// Handles commands from other threads and ends pipes whose peer is
    /// gone once they are drained. Fails with `ETERM` when the context is
    /// terminating.
    fn process_commands(&self, inner: &mut Inner) -> Result<()> {
        for cmd in self.mailbox.take() {
            match cmd {
                Command::Attach(pipe) => self.attach_pipe(inner, pipe),
                Command::AttachConnection(pipe, endpoints) => {
                    inner.pipe_endpoints.insert(pipe.id, endpoints);
                    self.attach_pipe(inner, pipe);
                }
                Command::TermEndpoint(endpoint) => {
                    if let Some(pos) = inner.connected_io.iter().position(|e| *e == endpoint) {
                        inner.connected_io.remove(pos);
                        self.end_pipes_of(inner, &endpoint);
                    }
                }
                Command::Hiccup(id) => {
                    if inner.pipes.contains_key(&id) {
                        inner.pattern.hiccup(id, &mut inner.pipes);
                    }
                }
                Command::PipeTerm(id) => {
                    if let Some(p) = inner.pipes.get_mut(&id) {
                        if !p.peer_gone {
                            p.peer_gone = true;
                            inner.dying.push(id);
                        }
                    }
                }
            }
        }
        if !inner.dying.is_empty() {
            let mut i = 0;
            while i < inner.dying.len() {
                let id = inner.dying[i];
                match inner.pipes.get(&id) {
                    Some(p) if !p.drained_and_dead() => i += 1,
                    _ => {
                        inner.dying.swap_remove(i);
                        Self::remove_pipe(inner, id);
                    }
                }
            }
        }
        if self.ctx.is_terminating() {
            return Err(Error::Term);
        }
        Ok(())
    }

    fn remove_pipe(inner: &mut Inner, id: PipeId) {
        inner.pipe_endpoints.remove(&id);
        inner.pattern.terminated(id, &mut inner.pipes);
        if let Some(mut p) = inner.pipes.remove(&id) {
            p.close();
        }
    }

    pub(crate) fn side_config(options: &Options) -> SideConfig {
        SideConfig {
            sndhwm: options.sndhwm,
            rcvhwm: options.rcvhwm,
            conflate: options.conflate,
        }
    }

    fn attach_pipe(&self, inner: &mut Inner, pipe: PipeEnd) {
        if !inner.pattern.accepts_pipe() {
            drop(pipe);
            return;
        }
        pipe.set_owner(&self.mailbox);
        let id = pipe.id;
        inner.pipes.insert(id, pipe);
        inner.pattern.attach(id, &mut inner.pipes, &inner.options);
    }

    /// Blocks on the mailbox until `attempt` stops saying `Again`, the
    /// deadline passes (`EAGAIN`), the context terminates (`ETERM`) or a
    /// signal handler runs in this thread (`EINTR`).
    fn blocking<T>(
        &self,
        nonblocking: bool,
        timeout_ms: impl Fn(&Options) -> i32,
        mut attempt: impl FnMut(&mut Inner) -> Result<T>,
    ) -> Result<T> {
        let mut deadline: Option<Option<Instant>> = None;
        loop {
            self.check_open()?;
            {
                let mut inner = self.inner.lock();
                self.process_commands(&mut inner)?;
                match attempt(&mut inner) {
                    Err(Error::Again) => {}
                    other => return other,
                }
                if nonblocking {
                    return Err(Error::Again);
                }
                if deadline.is_none() {
                    let ms = timeout_ms(&inner.options);
                    if ms == 0 {
                        return Err(Error::Again);
                    }
                    deadline = Some(if ms < 0 {
                        None
                    } else {
                        Some(Instant::now() + Duration::from_millis(ms as u64))
                    });
                }
            }
            let wait = match deadline.flatten() {
                None => None,
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return Err(Error::Again);
                    }
                    Some(d - now)
                }
            };
            match self.mailbox.signaler() {
                // A signal handler that ran during the wait ends the call
                // with EINTR, as in libzmq: the caller decides whether to
                // retry, and a Ctrl-C handler gets its chance to stop it.
                Some(signaler) => signaler.wait(wait)?,
                None => std::thread::sleep(Duration::from_millis(1)),
            }
        }
    }

    /// Sends one frame (`zmq_msg_send`). On success `msg` is left empty.
    pub fn send(&self, msg: &mut Msg, flags: i32) -> Result<()> {
        if msg.is_closed() {
            return Err(Error::Fault);
        }
        msg.set_more(flags & SNDMORE != 0);
        self.blocking(
            flags & DONTWAIT != 0,
            |o| o.sndtimeo,
            |inner| inner.pattern.send(msg, &mut inner.pipes, &inner.options),
        )
    }

    /// Receives one frame.
    pub fn recv(&self, flags: i32) -> Result<Msg> {
        let mut msg = Msg::new();
        self.recv_into(flags, &mut msg)?;
        Ok(msg)
    }

    /// Receives one frame into `out` (`zmq_msg_recv`); on error `out` is
    /// left as it was.
    pub fn recv_into(&self, flags: i32, out: &mut Msg) -> Result<()> {
        self.blocking(
            flags & DONTWAIT != 0,
            |o| o.rcvtimeo,
            |inner| {
                inner
                    .pattern
                    .recv_into(&mut inner.pipes, &inner.options, out)?;
                inner.rcvmore = out.more();
                Ok(())
            },
        )
    }

    /// `ZMQ_EVENTS`: what can be done now without blocking. Also consumes
    /// the rings on `ZMQ_FD`, as libzmq does when it is read.
    pub fn events(&self) -> Result<i16> {
        self.check_open()?;
        if let Some(signaler) = self.mailbox.signaler() {
            signaler.drain();
        }
        let mut inner = self.inner.lock();
        self.process_commands(&mut inner)?;
        let inner = &mut *inner;
        let mut ev = 0;
        if inner.pattern.has_in(&mut inner.pipes, &inner.options) {
            ev |= POLLIN;
        }
        if inner.pattern.has_out(&mut inner.pipes, &inner.options) {
            ev |= POLLOUT;
        }
        Ok(ev)
    }

    /// The descriptor behind `ZMQ_FD`.
    pub fn fd(&self) -> RawFd {
        self.mailbox.signaler().map_or(-1, |s| s.fd())
    }

    pub fn set_option(&self, option: i32, value: &[u8]) -> Result<()> {
        self.set_option_or_clear(option, Some(value))
    }

    /// As `set_option`; `None` stands for C's NULL buffer of length 0,
    /// which some string options take as "clear".
    pub fn set_option_or_clear(&self, option: i32, value: Option<&[u8]>) -> Result<()> {
        self.check_open()?;
        if self.ctx.is_terminating() {
            return Err(Error::Term);
        }
        let mut inner = self.inner.lock();
        let inner = &mut *inner;
        let bytes = value.unwrap_or(&[]);
        if inner.pattern.set_option(option, bytes, &mut inner.pipes)? {
            return Ok(());
        }
        if inner.options.set(option, value)? {
            return Ok(());
        }
        Err(Error::Inval)
    }

    pub fn get_option(&self, option: i32, out: &mut [u8]) -> Result<usize> {
        self.check_open()?;
        let value = match option {
            id::EVENTS => OptionValue::SocketInt(self.events()? as i32),
            id::FD if kind::thread_safe(self.socket_type) => return Err(Error::Inval),
            id::FD => OptionValue::SocketInt(self.fd()),
            _ => {
                let inner = self.inner.lock();
                match option {
                    id::RCVMORE => OptionValue::SocketInt(inner.rcvmore as i32),
                    _ => inner.options.get(option).ok_or(Error::Inval)?,
                }
            }
        };
        value.write_to(out)
    }

    pub fn bind(&self, endpoint: &str) -> Result<()> {
        self.check_open()?;
        let (proto, address) = parse_endpoint(endpoint)?;
        check_protocol(proto, self.socket_type)?;
        match proto {
            "inproc" => {
                let mut inner = self.inner.lock();
                self.process_commands(&mut inner)?;
                let pending = self.ctx.register_endpoint(address, self, &inner.options)?;
                let me = Self::side_config(&inner.options);
                for p in pending {
                    p.pipe.set_hwms(me, p.connector);
                    let mut pipe = p.pipe;
                    pipe.peer_routing_id = p.connector_routing_id;
                    pipe.endpoint = endpoint.to_string();
                    self.attach_pipe(&mut inner, pipe);
                }
                inner.bound.push(address.to_string());
                inner.options.last_endpoint = endpoint.to_string();
                Ok(())
            }
            _ => {
                let mut inner = self.inner.lock();
                self.process_commands(&mut inner)?;
                let io = self.ctx.io_thread_for(inner.options.affinity)?;
                let mut closed = None;
                let (listener, resolved) =
                    match transport::bind(proto, address, &inner.options, &mut closed) {
                        Ok(bound) => bound,
                        Err(e) => {
                            self.bind_failed(proto, address, closed, e);
                            return Err(e);
                        }
                    };
                self.monitor
                    .emit(MonitorEvent::Listening { fd: listener.fd() }, || {
                        Endpoints::bound(resolved.as_str())
                    });
                let link = self.link(&inner.options);
                io.send(IoCommand::Listen {
                    listener: Box::new(listener),
                    endpoint: resolved.clone(),
                    link,
                });
                inner.options.last_endpoint = resolved.clone();
                inner.bound_io.push(resolved);
                Ok(())
            }
        }
    }

    /// libzmq's events for a failed tcp/ipc bind: the socket it made and
    /// closed again, if any (an ipc one named by its endpoint, a tcp one
    /// by nothing yet), then the failure, named by the address alone.
    fn bind_failed(&self, proto: &str, address: &str, closed: Option<RawFd>, e: Error) {
        if let Some(fd) = closed {
            self.monitor.emit(MonitorEvent::Closed { fd }, || {
                Endpoints::bound(if proto == "ipc" {
                    format!("ipc://{address}")
                } else {
                    String::new()
                })
            });
        }
        self.monitor
            .emit(MonitorEvent::BindFailed { errno: e.errno() }, || {
                Endpoints::bound(address)
            });
    }

    fn link(&self, options: &Options) -> SocketLink {
        SocketLink {
            socket_id: self.id,
            mailbox: Arc::clone(&self.mailbox),
            options: options.clone(),
            monitor: self.monitor.link(),
        }
    }

    pub fn connect(&self, endpoint: &str) -> Result<()> {
        self.connect_pipe(endpoint).map(|_| ())
    }

    /// `zmq_connect_peer`: connects a PEER and tells the routing id of the
    /// new pipe, which exists at once (IMMEDIATE would delay it: `EFAULT`,
    /// as libzmq).
    pub fn connect_peer(&self, endpoint: &str) -> Result<u32> {
        self.check_open()?;
        if self.socket_type != kind::PEER {
            return Err(Error::NotSup);
        }
        if self.inner.lock().options.immediate {
            return Err(Error::Fault);
        }
        let pipe = self.connect_pipe(endpoint)?.ok_or(Error::Fault)?;
        Ok(self.inner.lock().pattern.routing_id_of(pipe))
    }

    /// Connects; the pipe made at once, if any.
    fn connect_pipe(&self, endpoint: &str) -> Result<Option<PipeId>> {
        self.check_open()?;
        let (proto, address) = parse_endpoint(endpoint)?;
        check_protocol(proto, self.socket_type)?;
        match proto {
            "inproc" => {
                let mut inner = self.inner.lock();
                self.process_commands(&mut inner)?;
                let mut pipe = self.ctx.connect_inproc(address, self, &inner.options)?;
                if let Some(rid) = inner.options.connect_routing_id.take() {
                    pipe.peer_routing_id = rid;
                }
                pipe.endpoint = endpoint.to_string();
                let id = pipe.id;
                self.attach_pipe(&mut inner, pipe);
                inner.options.last_endpoint = endpoint.to_string();
                Ok(Some(id))
            }
            _ => {
                let mut inner = self.inner.lock();
                self.process_commands(&mut inner)?;
                let target = Target::parse(proto, address, &inner.options)?;
                let io = self.ctx.io_thread_for(inner.options.affinity)?;
                // The pipe exists from now on, so messages queue before the
                // peer does; a ROUTER without CONNECT_ROUTING_ID must wait
                // for the peer's routing id, and IMMEDIATE waits by choice.
                let o = &inner.options;
                let early = !o.immediate
                    && self.socket_type != kind::STREAM
                    && (self.socket_type != kind::ROUTER || o.connect_routing_id.is_some());
                let pipe = if early {
                    let (mut mine, theirs) = pipe_pair_with(
                        o.sndhwm.max(0) as usize,
                        o.rcvhwm.max(0) as usize,
                        o.conflate,
                    );
                    mine.endpoint = endpoint.to_string();
                    if let Some(rid) = inner.options.connect_routing_id.take() {
                        mine.peer_routing_id = rid;
                    }
                    let id = mine.id;
                    inner
                        .pipe_endpoints
                        .insert(id, Endpoints::connecting(endpoint));
                    self.attach_pipe(&mut inner, mine);
                    Some((theirs, id))
                } else {
                    None
                };
                let link = self.link(&inner.options);
                let id = pipe.as_ref().map(|(_, id)| *id);
                io.send(IoCommand::Connect {
                    target,
                    endpoint: endpoint.to_string(),
                    link,
                    pipe,
                });
                inner.connected_io.push(endpoint.to_string());
                inner.options.last_endpoint = endpoint.to_string();
                Ok(id)
            }
        }
    }

    pub fn unbind(&self, endpoint: &str) -> Result<()> {
        self.check_open()?;
        let (proto, address) = parse_endpoint(endpoint)?;
        let mut inner = self.inner.lock();
        self.process_commands(&mut inner)?;
        match proto {
            "inproc" => {
                let pos = inner
                    .bound
                    .iter()
                    .position(|a| a == address)
                    .ok_or(Error::NoEnt)?;
                inner.bound.remove(pos);
                // Only the name goes: connections made through it stay, as
                // in libzmq, and new connects wait for the next bind.
                self.ctx.unregister_endpoint(address, self.id);
                Ok(())
            }
            "tcp" | "ipc" => {
                let pos = inner
                    .bound_io
                    .iter()
                    // libzmq knows a bound endpoint by its resolved name
                    // only: unbinding "tcp://*:*" itself is ENOENT.
                    .position(|resolved| resolved == endpoint)
                    .ok_or(Error::NoEnt)?;
                let resolved = inner.bound_io.remove(pos);
                self.ctx.io_thread()?.send(IoCommand::Unbind {
                    socket_id: self.id,
                    endpoint: resolved,
                });
                Ok(())
            }
            "udp" => Err(Error::NoEnt),
            _ => Err(Error::ProtoNoSupport),
        }
    }

    pub fn disconnect(&self, endpoint: &str) -> Result<()> {
        self.check_open()?;
        let (proto, _) = parse_endpoint(endpoint)?;
        let mut inner = self.inner.lock();
        self.process_commands(&mut inner)?;
        match proto {
            "inproc" => {
                if self.end_pipes_of(&mut inner, endpoint) == 0 {
                    return Err(Error::NoEnt);
                }
                Ok(())
            }
            "tcp" | "ipc" => {
                let pos = inner
                    .connected_io
                    .iter()
                    .position(|e| e == endpoint)
                    .ok_or(Error::NoEnt)?;
                inner.connected_io.remove(pos);
                self.end_pipes_of(&mut inner, endpoint);
                self.ctx.io_thread()?.send(IoCommand::Disconnect {
                    socket_id: self.id,
                    endpoint: endpoint.to_string(),
                });
                Ok(())
            }
            "udp" => Err(Error::NoEnt),
            _ => Err(Error::ProtoNoSupport),
        }
    }

    fn end_pipes_of(&self, inner: &mut Inner, endpoint: &str) -> usize {
        let ids: Vec<PipeId> = inner
            .pipes
            .iter()
            .filter(|(_, p)| p.endpoint == endpoint)
            .map(|(id, _)| *id)
            .collect();
        for id in &ids {
            Self::remove_pipe(inner, *id);
        }
        ids.len()
    }

    /// Closes the socket (`zmq_close`). What was sent over inproc stays in
    /// the pipes for the peers to read; nothing blocks.
    pub fn close(&self) {
        if self.closed.swap(true, Ordering::AcqRel) {
            return;
        }
        let mut inner = self.inner.lock();
        let bound = std::mem::take(&mut inner.bound);
        for address in bound {
            self.ctx.unregister_endpoint(&address, self.id);
        }
        self.ctx.drop_pending_of(self.id);
        if !inner.bound_io.is_empty() || !inner.connected_io.is_empty() {
            // Before the pipes end, so sessions know to linger.
            if let Ok(io) = self.ctx.io_thread() {
                io.send(IoCommand::SocketClosed {
                    socket_id: self.id,
                    linger: inner.options.linger,
                });
            }
        }
        let ids: Vec<PipeId> = inner.pipes.keys().copied().collect();
        for id in ids {
            Self::remove_pipe(&mut inner, id);
        }
        let _ = self.mailbox.take();
        drop(inner);
        // A thread still blocked in this socket wakes up to ENOTSOCK.
        self.mailbox.ring();
        // Once its listeners and sessions are gone too, the monitor stops.
        self.monitor.socket_closed();
        self.ctx.socket_closed(self.id);
    }
}

/// Splits `proto://address`; a missing separator or address is `EINVAL`.
fn parse_endpoint(endpoint: &str) -> Result<(&str, &str)> {
    let (proto, address) = endpoint.split_once("://").ok_or(Error::Inval)?;
    if proto.is_empty() || address.is_empty() {
        return Err(Error::Inval);
    }
    Ok((proto, address))
}

/// libzmq's answers for the transports it knows: those we do not offer yet
/// give `ENOTSUP`, those libzmq was built without `EPROTONOSUPPORT`.
fn check_protocol(proto: &str, socket_type: i32) -> Result<()> {
    match proto {
        "inproc" | "tcp" | "ipc" => Ok(()),
        "udp" => {
            // Only the draft RADIO/DISH/DGRAM types use udp.
            let _ = socket_type;
            Err(Error::NoCompatProto)
        }
        _ => Err(Error::ProtoNoSupport),
    }
}

#[cfg(test)]
mod tests;
