//! One ZMTP connection, sans I/O: the caller feeds received bytes in,
//! writes out what [`Connection::transmit_slices`] holds, and drives the
//! timers; events come out of [`Connection::poll_event`].
//!
//! The behaviour follows libzmq 4.3's `zmtp_engine_t` as observed on the
//! wire (Debian's libzmq 4.3.4):
//! - the greeting goes out in three stages (signature, major version,
//!   the rest), each only once the peer's greeting has shown it can take
//!   it, so ZMTP 1.0 and 2.0 peers never see 3.x bytes;
//! - ZMTP 1.0/2.0 peers exchange an identity frame instead of a handshake,
//!   their socket type is not checked, and a PUB/XPUB talking to an
//!   unversioned (1.0) peer gets a phantom subscribe-all, because 1.0
//!   subscribers filter locally and never send subscriptions;
//! - after the handshake, commands other than PING, PONG, SUBSCRIBE and
//!   CANCEL are ignored (even a second READY, or ERROR), and every frame
//!   received resets the heartbeat timeout and TTL timers.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::command::{self, Command};
use super::curve;
use super::frame;
use super::greeting::{self, GreetingDecoder, Progress, Version};
use super::mechanism::{self, Handshake, Mechanism, Setup, Status};
use super::zap::{self, ZapConfig};
use super::ProtocolError;
use crate::msg::{flags, Metadata, Msg};
use crate::socket::kind;

/// Bodies above this size are sent from their `Msg` without copying.
pub const ZERO_COPY_MIN: usize = 8 * 1024;
/// A batch buffer is closed (a new one started) beyond this size, so that
/// written batches are freed while a long queue drains.
const BATCH_MAX: usize = 64 * 1024;

/// Message events decoded ahead of the caller: decoding a whole read in
/// one call is much cheaper than one call per frame, and this bounds what a
/// caller with no room for messages holds.
pub(crate) const MAX_UNDELIVERED: usize = 1024;

/// What a connection needs from its socket's options.
#[derive(Debug, Clone)]
pub struct Config {
    /// Our socket type (`crate::socket::kind::*`).
    pub socket_type: i32,
    /// Our `ZMQ_ROUTING_ID`: READY's Identity for REQ/DEALER/ROUTER, and
    /// the identity frame for ZMTP 1.0/2.0 peers.
    pub routing_id: Vec<u8>,
    /// `ZMQ_MAXMSGSIZE`, -1 = unlimited. Applies to every frame, commands
    /// included (as in libzmq).
    pub maxmsgsize: i64,
    /// `ZMQ_HANDSHAKE_IVL`; `None` or zero = no limit.
    pub handshake_ivl: Option<Duration>,
    /// `ZMQ_HEARTBEAT_IVL`: send PING this often to 3.x peers.
    pub heartbeat_ivl: Option<Duration>,
    /// `ZMQ_HEARTBEAT_TTL`: sent in PING, in deciseconds (truncated).
    pub heartbeat_ttl: Option<Duration>,
    /// `ZMQ_HEARTBEAT_TIMEOUT`: no frame for this long after a PING is
    /// fatal. `None` = the heartbeat interval; zero = never.
    pub heartbeat_timeout: Option<Duration>,
    pub mechanism: Mechanism,
    /// `ZMQ_*_SERVER`: the mechanism's role (NULL has none). libzmq never
    /// puts it in the greeting's as-server byte, and neither do we.
    pub as_server: bool,
    /// When and how to ask a ZAP handler (`ZMQ_ZAP_DOMAIN`,
    /// `ZMQ_ZAP_ENFORCE_DOMAIN`, the peer's address).
    pub zap: ZapConfig,
    /// `ZMQ_METADATA`: properties our READY/INITIATE carries after the
    /// basic ones.
    pub app_metadata: Vec<(String, Vec<u8>)>,
}

impl Config {
    /// libzmq's defaults for a socket of type `socket_type`.
    pub fn new(socket_type: i32) -> Config {
        Config {
            socket_type,
            routing_id: Vec::new(),
            maxmsgsize: -1,
            handshake_ivl: Some(Duration::from_secs(30)),
            heartbeat_ivl: None,
            heartbeat_ttl: None,
            heartbeat_timeout: None,
            mechanism: Mechanism::Null,
            as_server: false,
            zap: ZapConfig::default(),
            app_metadata: Vec::new(),
        }
    }
}

#[derive(Debug)]
pub enum Event {
    /// Handshake complete: messages may flow both ways now.
    /// `peer_socket_type` is -1 when unknown (1.0 peers, or a READY
    /// without Socket-Type, which libzmq accepts). `peer_routing_id` is
    /// READY's Identity (empty if absent) or a 1.0/2.0 peer's identity
    /// frame. `metadata` holds READY's properties, first of each name
    /// wins as in libzmq's map (empty for 1.0/2.0 peers); the caller adds
    /// Peer-Address and attaches it to the messages it delivers.
    Ready {
        version: Version,
        peer_socket_type: i32,
        peer_routing_id: Vec<u8>,
        metadata: Arc<Metadata>,
    },
    /// One application frame for the socket (MORE flag set as received).
    /// For PUB/XPUB sockets, 3.1 SUBSCRIBE/CANCEL commands arrive as
    /// frames "\x01topic"/"\x00topic".
    Message(Msg),
    /// The mechanism asks the ZAP handler: send these frames (a whole
    /// message) to the socket bound at `inproc://zeromq.zap.01`, then call
    /// [`Connection::zap_reply`] with its reply, or
    /// [`Connection::zap_unavailable`] if nothing is bound there.
    ZapRequest(Vec<Msg>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Greeting,
    /// ZMTP 1.0/2.0: the peer's first frame is its identity.
    Identity,
    /// ZMTP 3.x: mechanism commands until both sides are ready.
    Handshake,
    Ready,
}

enum Chunk {
    Bytes(Vec<u8>),
    Body(Msg),
}

impl Chunk {
    fn bytes(&self) -> &[u8] {
        match self {
            Chunk::Bytes(v) => v,
            Chunk::Body(m) => m.data(),
        }
    }
}

/// Outgoing bytes: headers and small bodies batched into buffers, large
/// bodies referenced from their messages.
#[derive(Default)]
struct TxQueue {
    chunks: VecDeque<Chunk>,
    /// Bytes of the front chunk already written.
    offset: usize,
    pending: usize,
    spare: Vec<u8>,
}

impl TxQueue {
    /// The batch buffer to append to; `pending` must be fixed by the caller.
    fn tail(&mut self) -> &mut Vec<u8> {
        let open = matches!(self.chunks.back(), Some(Chunk::Bytes(v)) if v.len() < BATCH_MAX);
        if !open {
            self.chunks
                .push_back(Chunk::Bytes(std::mem::take(&mut self.spare)));
        }
        match self.chunks.back_mut() {
            Some(Chunk::Bytes(v)) => v,
            // Just ensured above; a fresh buffer keeps this total.
            _ => &mut self.spare,
        }
    }

    fn extend(&mut self, b: &[u8]) {
        self.tail().extend_from_slice(b);
        self.pending += b.len();
    }

    fn header(&mut self, version: Version, size: usize, more: bool, command: bool) {
        let t = self.tail();
        let before = t.len();
        frame::encode_header(t, version, size, more, command);
        let added = t.len() - before;
        self.pending += added;
    }

    fn body(&mut self, msg: Msg) {
        let n = msg.len();
        if n > ZERO_COPY_MIN {
            self.chunks.push_back(Chunk::Body(msg));
            self.pending += n;
        } else {
            self.extend(msg.data());
        }
    }

    /// A whole buffer of its own (a large CURVE box).
    fn push_bytes(&mut self, v: Vec<u8>) {
        self.pending += v.len();
        self.chunks.push_back(Chunk::Bytes(v));
    }

    fn slices(&self) -> impl Iterator<Item = &[u8]> {
        self.chunks
            .iter()
            .enumerate()
            .map(move |(i, c)| {
                if i == 0 {
                    &c.bytes()[self.offset..]
                } else {
                    c.bytes()
                }
            })
            .filter(|s| !s.is_empty())
    }

    fn advance(&mut self, n: usize) {
        let mut n = n.min(self.pending);
        self.pending -= n;
        while n > 0 {
            let Some(front) = self.chunks.front() else {
                break;
            };
            let avail = front.bytes().len() - self.offset;
            if n < avail {
                self.offset += n;
                return;
            }
            n -= avail;
            self.offset = 0;
            if let Some(Chunk::Bytes(mut v)) = self.chunks.pop_front() {
                if v.capacity() <= 2 * BATCH_MAX && self.spare.capacity() == 0 {
                    v.clear();
                    self.spare = v;
                }
            }
        }
    }
}

/// One ZMTP connection's protocol state.
pub struct Connection {
    cfg: Config,
    /// The highest version we speak (below 3.1 only in tests that play an
    /// older peer).
    max_version: Version,
    phase: Phase,
    greeting: GreetingDecoder,
    /// Greeting stages queued: 1 signature, 2 major version, 3 all.
    stage: u8,
    version: Version,
    peer_socket_type: i32,
    decoder: Option<frame::Decoder>,
    mechanism: Option<Box<dyn Handshake>>,
    /// CURVE's boxes once the handshake is done.
    codec: Option<curve::Codec>,
    /// The handshake failed after queueing its last words (an ERROR):
    /// input is ignored, and once the queue is written the connection
    /// asks to be closed (`close_requested`).
    closing: Option<ProtocolError>,
    events: VecDeque<Event>,
    /// Message events not yet taken by `poll_event`.
    undelivered: usize,
    tx: TxQueue,
    /// The last frame we queued had MORE: the next one continues it.
    tx_more: bool,
    /// Inject a subscribe-all once the 1.0 peer's identity is in.
    subscribe_all: bool,
    failed: Option<ProtocolError>,
    handshake_deadline: Option<Instant>,
    next_ping: Option<Instant>,
    heartbeat_deadline: Option<Instant>,
    ttl_deadline: Option<Instant>,
}

fn nonzero(d: Option<Duration>) -> Option<Duration> {
    d.filter(|d| !d.is_zero())
}

impl Connection {
    /// A connection that has queued the first stage of its greeting.
    pub fn new(cfg: Config, now: Instant) -> Connection {
        Connection::with_max_version(cfg, now, Version::V3_1)
    }

    /// Speaks at most `max`: plays a ZMTP 3.0, 2.0 or unversioned 1.0
    /// peer, so that fallbacks are tested against the same code. Not for
    /// production use (libzmq always offers 3.1).
    #[doc(hidden)]
    pub fn with_max_version(cfg: Config, now: Instant, max: Version) -> Connection {
        let mut c = Connection {
            handshake_deadline: nonzero(cfg.handshake_ivl).map(|d| now + d),
            cfg,
            max_version: max,
            phase: Phase::Greeting,
            greeting: GreetingDecoder::default(),
            stage: 1,
            version: max,
            peer_socket_type: -1,
            decoder: None,
            mechanism: None,
            codec: None,
            closing: None,
            events: VecDeque::new(),
            undelivered: 0,
            tx: TxQueue::default(),
            tx_more: false,
            subscribe_all: false,
            failed: None,
            next_ping: None,
            heartbeat_deadline: None,
            ttl_deadline: None,
        };
        match max {
            Version::V1_0 => {
                // An unversioned peer opens with its identity frame.
                c.version = Version::V1_0;
                c.phase = Phase::Identity;
                c.decoder = Some(frame::Decoder::new(Version::V1_0, c.cfg.maxmsgsize));
                let id = Msg::from_slice(&c.cfg.routing_id);
                c.queue_frame(id, false);
            }
            Version::V2_0 => {
                c.greeting = GreetingDecoder::v2_only();
                c.tx.extend(&greeting::signature(c.cfg.routing_id.len()));
            }
            _ => c.tx.extend(&greeting::signature(c.cfg.routing_id.len())),
        }
        c
    }

    /// Feeds received bytes; returns how many were consumed. Stops once
    /// `MAX_UNDELIVERED` Message events wait in `poll_event`: that is the
    /// backpressure point (the caller keeps the rest of its buffer until
    /// it has room).
    /// After an error the connection is dead and every call repeats it.
    pub fn handle_input(&mut self, data: &[u8], now: Instant) -> Result<usize, ProtocolError> {
        self.handle_input_from(data, None, now)
    }

    /// As `handle_input`, where `data` starts at byte `base` of the shared
    /// read buffer `source`: frames inside it are sliced out of it rather
    /// than copied.
    pub fn handle_input_from(
        &mut self,
        data: &[u8],
        source: Option<(&Msg, usize)>,
        now: Instant,
    ) -> Result<usize, ProtocolError> {
        self.input_checked(data, source, now, Err, MAX_UNDELIVERED)
    }

    /// As `handle_input_from`, where `sink` is offered each data frame
    /// decoded once the connection is ready and no event waits before it:
    /// the session puts it straight into its pipe instead of taking it
    /// through the event queue, one move of 64 bytes less each way, which
    /// shows on small messages. A frame `sink` hands back (its pipe is
    /// full) is queued as a `Message` event and decoding stops after it:
    /// the rest stays in the caller's buffer, where its frames can still
    /// become slices, rather than pile up as events.
    pub fn handle_input_into(
        &mut self,
        data: &[u8],
        source: Option<(&Msg, usize)>,
        now: Instant,
        sink: impl FnMut(Msg) -> Result<(), Msg>,
    ) -> Result<usize, ProtocolError> {
        self.input_checked(data, source, now, sink, 1)
    }

    /// `handle_input_into`, stopping once `max_events` messages wait.
    fn input_checked(
        &mut self,
        data: &[u8],
        source: Option<(&Msg, usize)>,
        now: Instant,
        sink: impl FnMut(Msg) -> Result<(), Msg>,
        max_events: usize,
    ) -> Result<usize, ProtocolError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.closing.is_some() {
            // Nothing the peer says matters any more.
            return Ok(data.len());
        }
        let queued = self.events.len();
        let r = self.input(data, source, now, sink, max_events);
        if let Err(e) = &r {
            self.failed = Some(e.clone());
            if self.events.len() > queued {
                // Frames before the bad one still go to the socket, as in
                // libzmq: the caller takes them, then sees the failure
                // through `close_requested` (and every later call).
                return Ok(data.len());
            }
        }
        r
    }

    /// Room to read at least `min` bytes of a large frame's body straight
    /// into its message (no copy through a read buffer); None otherwise.
    pub fn direct_space(&mut self, min: usize) -> Option<&mut [u8]> {
        if self.failed.is_some() || self.undelivered > 0 || self.phase != Phase::Ready {
            return None;
        }
        self.decoder
            .as_mut()?
            .body_space()
            .filter(|space| space.len() >= min)
    }

    /// `n` bytes were read into `direct_space`.
    pub fn direct_written(&mut self, n: usize, now: Instant) -> Result<(), ProtocolError> {
        let frame = self.decoder.as_mut().and_then(|d| d.body_written(n));
        match frame {
            Some(f) => {
                let r = self.on_frame(f, now);
                if let Err(e) = &r {
                    self.failed = Some(e.clone());
                }
                r
            }
            None => Ok(()),
        }
    }

    /// The ZAP handler's reply (all its frames) to our `ZapRequest`.
    pub fn zap_reply(&mut self, frames: &[Msg], now: Instant) -> Result<(), ProtocolError> {
        let r = zap::parse_reply(frames).map(zap::Outcome::Reply);
        self.zap_outcome(r, now)
    }

    /// No ZAP handler is bound: the mechanism decides whether that fails
    /// the handshake (libzmq's rules, see `ZapConfig`).
    pub fn zap_unavailable(&mut self, now: Instant) -> Result<(), ProtocolError> {
        self.zap_outcome(Ok(zap::Outcome::NoHandler), now)
    }

    fn zap_outcome(
        &mut self,
        outcome: Result<zap::Outcome, ProtocolError>,
        now: Instant,
    ) -> Result<(), ProtocolError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.closing.is_some() {
            return Ok(());
        }
        let r = outcome.and_then(|o| match self.mechanism.as_mut() {
            Some(m) if self.phase == Phase::Handshake => m.zap_outcome(o),
            _ => Err(ProtocolError::UnexpectedCommand(
                "ZAP reply out of the handshake",
            )),
        });
        let r = r.and_then(|()| self.after_mechanism(now));
        if let Err(e) = &r {
            self.failed = Some(e.clone());
        }
        r
    }

    /// The connection failed, or its handshake failed and everything
    /// queued (its ERROR) is written: the caller closes the stream now.
    pub fn close_requested(&self) -> bool {
        self.failed.is_some() || (self.closing.is_some() && self.tx.pending == 0)
    }

    /// Why the connection failed or is closing, if it did: for the
    /// monitor events (`ProtocolError::handshake_event`).
    pub fn failure(&self) -> Option<&ProtocolError> {
        self.failed.as_ref().or(self.closing.as_ref())
    }

    /// The error that broke the connection, if one did (not a refusal
    /// it is closing after).
    pub fn failed(&self) -> Option<&ProtocolError> {
        self.failed.as_ref()
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        let ev = self.events.pop_front()?;
        if matches!(ev, Event::Message(_)) {
            self.undelivered -= 1;
        }
        Some(ev)
    }

    /// Queues one application frame for the peer. Before the handshake
    /// completes (or after a failure) the frame is handed back unsent.
    /// SUB/XSUB frames "\x01topic"/"\x00topic" that are a whole message
    /// go to 3.1 peers as SUBSCRIBE/CANCEL commands.
    pub fn send(&mut self, mut msg: Msg) -> Result<(), Msg> {
        if self.phase != Phase::Ready || self.failed.is_some() || self.closing.is_some() {
            return Err(msg);
        }
        let more = msg.more();
        let first = self.tx_more;
        self.tx_more = more;
        if !first
            && !more
            && self.version == Version::V3_1
            && matches!(self.cfg.socket_type, kind::SUB | kind::XSUB)
        {
            if let Some((&b, topic)) = msg.data().split_first() {
                if b <= 1 {
                    let cmd = if b == 1 {
                        Command::Subscribe(topic.to_vec())
                    } else {
                        Command::Cancel(topic.to_vec())
                    };
                    self.queue_command(&cmd);
                    return Ok(());
                }
            }
        }
        msg.set_flags(msg.flags() & flags::MORE);
        if self.codec.is_some() {
            let more = msg.more();
            if let Err(e) = self.queue_boxed(msg.data(), more, false) {
                self.failed = Some(e);
            }
            return Ok(());
        }
        self.queue_frame(msg, false);
        Ok(())
    }

    /// The bytes waiting to be written, in order, for `writev`: batches
    /// of headers and small frames, and large bodies straight from their
    /// messages. The first slice starts after what was already written.
    pub fn transmit_slices(&self) -> Vec<&[u8]> {
        self.tx.slices().collect()
    }

    /// As [`Connection::transmit_slices`], without allocating.
    pub fn transmit_iter(&self) -> impl Iterator<Item = &[u8]> {
        self.tx.slices()
    }

    /// `n` bytes from the front of the transmit slices were written.
    pub fn advance_transmit(&mut self, n: usize) {
        self.tx.advance(n);
    }

    /// Bytes wait to be written. What was queued before a failure (our
    /// READY, an ERROR) still goes, best effort, before the close: the peer
    /// then sees why (libzmq's peers report a socket-type mismatch from our
    /// READY rather than a bare close). Nothing is queued after a failure.
    pub fn wants_transmit(&self) -> bool {
        self.tx.pending > 0
    }

    /// Bytes queued for transmit (for the caller's high-water decisions).
    pub fn transmit_len(&self) -> usize {
        self.tx.pending
    }

    /// The earliest timer: handshake timeout, next PING, heartbeat
    /// timeout or the peer's TTL.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.failed.is_some() {
            return None;
        }
        [
            self.handshake_deadline,
            self.next_ping,
            self.heartbeat_deadline,
            self.ttl_deadline,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), ProtocolError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let due = |t: Option<Instant>| t.is_some_and(|t| t <= now);
        let err = if due(self.handshake_deadline) {
            Some(ProtocolError::Timeout("handshake"))
        } else if due(self.ttl_deadline) {
            Some(ProtocolError::Timeout("heartbeat TTL"))
        } else if due(self.heartbeat_deadline) {
            Some(ProtocolError::Timeout("heartbeat"))
        } else {
            None
        };
        if let Some(e) = err {
            self.failed = Some(e.clone());
            return Err(e);
        }
        if due(self.next_ping) {
            let ivl = nonzero(self.cfg.heartbeat_ivl).unwrap_or(Duration::from_secs(1));
            self.next_ping = Some(now + ivl);
            let ttl_ds = self
                .cfg
                .heartbeat_ttl
                .map_or(0, |d| (d.as_millis() / 100).min(u16::MAX as u128) as u16);
            self.queue_command(&Command::Ping {
                ttl_ds,
                context: Vec::new(),
            });
            // libzmq arms the timeout at the first unanswered PING only.
            if self.heartbeat_deadline.is_none() {
                let timeout = self.cfg.heartbeat_timeout.unwrap_or(ivl);
                if !timeout.is_zero() {
                    self.heartbeat_deadline = Some(now + timeout);
                }
            }
        }
        Ok(())
    }

    pub fn is_ready(&self) -> bool {
        self.phase == Phase::Ready && self.failed.is_none()
    }

    /// The negotiated version (meaningful once the greeting is in).
    pub fn version(&self) -> Version {
        self.version
    }

    fn input(
        &mut self,
        data: &[u8],
        source: Option<(&Msg, usize)>,
        now: Instant,
        mut sink: impl FnMut(Msg) -> Result<(), Msg>,
        max_events: usize,
    ) -> Result<usize, ProtocolError> {
        let mut used = 0;
        while used < data.len() && self.undelivered < max_events {
            if self.phase == Phase::Greeting {
                let p = self.greeting.feed(&data[used..])?;
                match p {
                    Progress::More => {
                        used = data.len();
                        self.stage_greeting();
                    }
                    Progress::Done { greeting, consumed } => {
                        used += consumed;
                        self.stage_greeting();
                        self.on_greeting(greeting, now)?;
                    }
                }
                continue;
            }
            if let Some((chunk, base)) = source {
                if self.phase == Phase::Ready && self.codec.is_none() && self.events.is_empty() {
                    let n = self.whole_frames(&data[used..], chunk, base + used, &mut sink)?;
                    if n > 0 {
                        used += n;
                        continue;
                    }
                }
            }
            let Some(dec) = self.decoder.as_mut() else {
                return Err(ProtocolError::Frame("no decoder"));
            };
            let (n, f) = dec.decode_shared(&data[used..], source.map(|(m, b)| (m, b + used)))?;
            used += n;
            match f {
                Some(mut f)
                    if self.phase == Phase::Ready
                        && self.codec.is_none()
                        && self.events.is_empty()
                        && f.flags() & flags::COMMAND == 0 =>
                {
                    // What `on_frame` and `deliver` do for a data frame.
                    self.heartbeat_deadline = None;
                    self.ttl_deadline = None;
                    f.set_flags(f.flags() & flags::MORE);
                    if let Err(f) = sink(f) {
                        self.deliver(f);
                    }
                }
                Some(f) => self.on_frame(f, now)?,
                None if n == 0 => break,
                None => {}
            }
        }
        Ok(used)
    }

    /// The fast path of a ready connection without a codec: the whole data
    /// frames at the start of `data` (byte `base` of `chunk`) become slices
    /// of `chunk` handed to `sink`, without a round trip through the
    /// decoder's return value. Stops at anything else (a partial frame, a
    /// command, a frame `sink` refused). Returns the bytes used.
    fn whole_frames(
        &mut self,
        data: &[u8],
        chunk: &Msg,
        base: usize,
        sink: &mut impl FnMut(Msg) -> Result<(), Msg>,
    ) -> Result<usize, ProtocolError> {
        let Some(dec) = self.decoder.as_ref() else {
            return Ok(0);
        };
        let mut used = 0;
        while let Some((hl, size, fl)) = dec.whole_data_frame(&data[used..])? {
            let Some(mut f) = chunk.slice(base + used + hl, size) else {
                break;
            };
            used += hl + size;
            f.set_flags(fl);
            if let Err(f) = sink(f) {
                // Refused (the pipe is full): it waits as an event.
                self.deliver(f);
                break;
            }
        }
        if used > 0 {
            self.heartbeat_deadline = None;
            self.ttl_deadline = None;
        }
        Ok(used)
    }

    /// Queues the greeting stages the peer's bytes so far allow.
    fn stage_greeting(&mut self) {
        let r = self.greeting.received();
        if r.first() != Some(&0xFF) || r.len() < greeting::SIGNATURE_SIZE || r[9] & 1 == 0 {
            return;
        }
        if self.stage == 1 {
            self.stage = 2;
            if self.max_version == Version::V2_0 {
                let t = self.cfg.socket_type as u8;
                self.tx.extend(&[1, t]);
                self.stage = 3;
                return;
            }
            self.tx.extend(&[greeting::MAJOR]);
        }
        if self.stage == 2 && r.len() > 10 {
            self.stage = 3;
            if r[10] <= 1 {
                // A 1.0/2.0 peer reads a 12-byte greeting: our socket type.
                let t = self.cfg.socket_type as u8;
                self.tx.extend(&[t]);
            } else {
                let minor = if self.max_version == Version::V3_0 {
                    0
                } else {
                    1
                };
                let rest = greeting::encode_rest(minor, self.cfg.mechanism.name());
                self.tx.extend(&rest);
            }
        }
    }

    fn on_greeting(&mut self, g: greeting::Greeting, now: Instant) -> Result<(), ProtocolError> {
        let max = self.cfg.maxmsgsize;
        self.version = g.version.min(self.max_version);
        self.peer_socket_type = g.socket_type.map_or(-1, i32::from);
        if self.version <= Version::V2_0 {
            // ZMTP 1.0 and 2.0 have no security handshake: a peer offering
            // them would talk in clear, unauthenticated. libzmq refuses them
            // whenever ZAP is in play (a mechanism other than NULL, or a
            // ZAP domain); so do we, or a flipped version byte would be a
            // downgrade.
            if !matches!(self.cfg.mechanism, Mechanism::Null) || !self.cfg.zap.domain.is_empty() {
                return Err(ProtocolError::Greeting(
                    "ZMTP 1.0/2.0 peer, but security is configured",
                ));
            }
            self.decoder = Some(frame::Decoder::new(self.version, max));
            self.phase = Phase::Identity;
            // libzmq's handshake timer ends with the greeting for old peers.
            self.handshake_deadline = None;
            if g.unversioned {
                // Our signature was the header of our identity frame.
                let id = self.cfg.routing_id.clone();
                self.tx.extend(&id);
                self.subscribe_all = matches!(self.cfg.socket_type, kind::PUB | kind::XPUB);
                let prefix = self.greeting.v1_prefix().to_vec();
                let mut rest = &prefix[..];
                while !rest.is_empty() {
                    let Some(dec) = self.decoder.as_mut() else {
                        break;
                    };
                    let (n, f) = dec.decode(rest)?;
                    rest = &rest[n..];
                    if let Some(f) = f {
                        self.on_frame(f, now)?;
                    }
                    if n == 0 {
                        break;
                    }
                }
            } else {
                let id = Msg::from_slice(&self.cfg.routing_id);
                self.queue_frame(id, false);
            }
            return Ok(());
        }
        if g.mechanism != self.cfg.mechanism.name() {
            return Err(ProtocolError::MechanismMismatch(g.mechanism));
        }
        self.decoder = Some(frame::Decoder::new(self.version, max));
        self.mechanism = Some(self.cfg.mechanism.start(Setup {
            socket_type: self.cfg.socket_type,
            routing_id: self.cfg.routing_id.clone(),
            as_server: self.cfg.as_server,
            zap: self.cfg.zap.clone(),
            app_metadata: self.cfg.app_metadata.clone(),
        })?);
        self.phase = Phase::Handshake;
        self.after_mechanism(now)
    }

    /// After the mechanism took something in: queue the commands it has
    /// for the peer, hand its ZAP request to the caller, and act on its
    /// status.
    fn after_mechanism(&mut self, now: Instant) -> Result<(), ProtocolError> {
        let Some(m) = self.mechanism.as_mut() else {
            return Ok(());
        };
        while let Some(body) = m.next_command()? {
            self.tx.header(self.version, body.len(), false, true);
            self.tx.extend(&body);
        }
        if let Some(frames) = m.take_zap_request() {
            let n = frames.len();
            let msgs = frames
                .into_iter()
                .enumerate()
                .map(|(i, f)| {
                    let mut msg = Msg::from_vec(f);
                    msg.set_more(i + 1 < n);
                    msg
                })
                .collect();
            self.events.push_back(Event::ZapRequest(msgs));
        }
        match m.status() {
            Status::Ready => self.become_ready(now),
            Status::Error => {
                self.closing = Some(m.error().unwrap_or(ProtocolError::Handshake {
                    code: super::code::ZMTP_UNSPECIFIED,
                    what: "handshake refused",
                }));
            }
            Status::Handshaking => {}
        }
        Ok(())
    }

    fn on_frame(&mut self, f: Msg, now: Instant) -> Result<(), ProtocolError> {
        match self.phase {
            Phase::Greeting => Err(ProtocolError::Frame("frame before greeting")),
            Phase::Identity => {
                // libzmq ignores the identity frame's flags.
                let id = f.data().to_vec();
                self.phase = Phase::Ready;
                self.events.push_back(Event::Ready {
                    version: self.version,
                    peer_socket_type: self.peer_socket_type,
                    peer_routing_id: id,
                    metadata: Arc::new(Metadata::default()),
                });
                if self.subscribe_all {
                    self.deliver(Msg::from_slice(&[1]));
                }
                Ok(())
            }
            Phase::Handshake => {
                if f.flags() & flags::COMMAND == 0 {
                    return Err(ProtocolError::UnexpectedCommand(
                        "data frame during the handshake",
                    ));
                }
                let Some(m) = self.mechanism.as_mut() else {
                    return Err(ProtocolError::UnexpectedCommand("no mechanism"));
                };
                m.process_command(f.data())?;
                self.after_mechanism(now)
            }
            Phase::Ready => {
                self.heartbeat_deadline = None;
                self.ttl_deadline = None;
                // CURVE: every frame is a MESSAGE box; the frame inside
                // carries its own MORE and COMMAND flags.
                let f = match self.codec.as_mut() {
                    Some(c) => c.decode(f)?,
                    None => f,
                };
                if f.flags() & flags::COMMAND != 0 {
                    self.on_command(f.data(), now);
                } else {
                    self.deliver(f);
                }
                Ok(())
            }
        }
    }

    fn become_ready(&mut self, now: Instant) {
        let (zap_props, props) = match self.mechanism.as_mut() {
            Some(m) => {
                self.codec = m.take_codec();
                (m.zap_properties(), m.peer_properties())
            }
            None => Default::default(),
        };
        let peer_routing_id = props
            .iter()
            .find(|(k, _)| k == "Identity")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        let peer_socket_type = props
            .iter()
            .find(|(k, _)| k == "Socket-Type")
            .map_or(-1, |(_, v)| mechanism::socket_type_from_name(v));
        // One map in libzmq, where the ZAP handler's properties (User-Id
        // and its metadata) go in before the peer's and the first of a
        // name wins.
        let mut unique: Vec<(String, Vec<u8>)> = Vec::with_capacity(zap_props.len() + props.len());
        for (k, v) in zap_props.into_iter().chain(props) {
            if !unique.iter().any(|(u, _)| *u == k) {
                unique.push((k, v));
            }
        }
        self.peer_socket_type = peer_socket_type;
        self.phase = Phase::Ready;
        self.handshake_deadline = None;
        self.next_ping = nonzero(self.cfg.heartbeat_ivl).map(|d| now + d);
        self.events.push_back(Event::Ready {
            version: self.version,
            peer_socket_type,
            peer_routing_id,
            metadata: Arc::new(Metadata { properties: unique }),
        });
    }

    /// A command after the handshake. Like libzmq, anything but the
    /// heartbeat and subscription commands is ignored, malformed or not.
    fn on_command(&mut self, data: &[u8], now: Instant) {
        let Some((&n, rest)) = data.split_first() else {
            return;
        };
        let Some(name) = rest.get(..n as usize) else {
            return;
        };
        let body = &rest[n as usize..];
        match name {
            b"PING" => {
                // A PING too short for its TTL counts as TTL 0 (libzmq
                // reads past the frame there).
                let ttl_ds = match body {
                    [a, b, ..] => u16::from_be_bytes([*a, *b]),
                    _ => 0,
                };
                if ttl_ds > 0 && self.ttl_deadline.is_none() {
                    self.ttl_deadline = Some(now + Duration::from_millis(ttl_ds as u64 * 100));
                }
                let ctx = body.get(2..).unwrap_or(&[]);
                let ctx = &ctx[..ctx.len().min(16)];
                self.queue_command(&Command::Pong(ctx.to_vec()));
            }
            b"SUBSCRIBE" | b"CANCEL" if matches!(self.cfg.socket_type, kind::PUB | kind::XPUB) => {
                let mut m = Vec::with_capacity(body.len() + 1);
                m.push((name == b"SUBSCRIBE") as u8);
                m.extend_from_slice(body);
                self.deliver(Msg::from_vec(m));
            }
            _ => {}
        }
    }

    fn deliver(&mut self, mut m: Msg) {
        m.set_flags(m.flags() & flags::MORE);
        self.undelivered += 1;
        self.events.push_back(Event::Message(m));
    }

    fn queue_command(&mut self, cmd: &Command) {
        let body = command::encode(cmd);
        if self.codec.is_some() {
            if let Err(e) = self.queue_boxed(&body, false, true) {
                self.failed = Some(e);
            }
            return;
        }
        self.tx.header(self.version, body.len(), false, true);
        self.tx.extend(&body);
    }

    /// One frame in a CURVE MESSAGE box: a data frame on the wire, as
    /// libzmq sends it, the frame's own flags inside the box. Small ones
    /// are sealed in place in the batch buffer; large ones in a buffer of
    /// their own, so the batch stays small.
    fn queue_boxed(&mut self, data: &[u8], more: bool, command: bool) -> Result<(), ProtocolError> {
        let Some(codec) = self.codec.as_mut() else {
            return Ok(());
        };
        let fl = if more { flags::MORE } else { 0 } | if command { flags::COMMAND } else { 0 };
        let size = curve::MESSAGE_OVERHEAD + data.len();
        self.tx.header(self.version, size, false, false);
        if size <= ZERO_COPY_MIN {
            let t = self.tx.tail();
            let before = t.len();
            let r = codec.encode_into(data, fl, t);
            let added = t.len() - before;
            self.tx.pending += added;
            r
        } else {
            let mut v = Vec::with_capacity(size);
            codec.encode_into(data, fl, &mut v)?;
            self.tx.push_bytes(v);
            Ok(())
        }
    }

    fn queue_frame(&mut self, msg: Msg, command: bool) {
        self.tx.header(self.version, msg.len(), msg.more(), command);
        self.tx.body(msg);
    }
}
