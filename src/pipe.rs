//! Pipes: the bounded queues between two sockets.
//!
//! A pipe is two one-way queues; each socket holds a [`PipeEnd`] that reads
//! one and writes the other. A message becomes visible to the reader only
//! when its last frame is written, so readers never see half a multipart
//! message, and a writer that goes away mid-message leaves nothing behind.
//! The high-water mark counts whole messages, as libzmq's does.
//!
//! Each queue knows the mailbox of the socket at each end, to ring it when
//! the reader may have something to read (empty -> not empty) or the writer
//! may write again (full -> below the mark), and to tell it the pipe ended.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use crate::msg::Msg;
use crate::socket::mailbox::{Command, Mailbox};
use crate::sync::Lock;

pub type PipeId = u64;

/// Hashes pipe ids, which are small sequential integers: a multiply spreads
/// them well and costs far less than SipHash on the per-message path.
#[derive(Default)]
pub struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ *b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
    }
}

/// A map keyed by pipe id.
pub type PipeMap<V> = std::collections::HashMap<PipeId, V, std::hash::BuildHasherDefault<IdHasher>>;

/// Reads between two updates of the count of messages a reader holds.
const RELEASE_BATCH: usize = 32;

static NEXT_PIPE_ID: AtomicU64 = AtomicU64::new(1);

struct QueueState {
    frames: VecDeque<Msg>,
    /// Complete messages in `frames`.
    msgs: usize,
    /// Messages allowed in the queue; 0 is no limit.
    hwm: usize,
    /// Keep only the newest message (`ZMQ_CONFLATE`).
    conflate: bool,
    writer_closed: bool,
    reader_closed: bool,
    /// The writer found the queue full and waits for room.
    writer_waiting: bool,
    /// The reader found the queue empty: the next message must wake it.
    /// Until then writers skip the system call a ring costs.
    reader_waiting: bool,
    reader: Option<(Arc<Mailbox>, PipeId)>,
    writer: Option<(Arc<Mailbox>, PipeId)>,
}

/// One direction of a pipe.
pub struct Queue {
    state: Lock<QueueState>,
    /// Mirror of `msgs`, read without the lock to ask "anything there?".
    visible: AtomicUsize,
    /// Mirrors of `hwm` and `reader_closed`, for the writer's fast path.
    hwm: AtomicUsize,
    reader_closed: AtomicBool,
    /// Messages the reader took into its cache and has not consumed yet:
    /// they still count against the high-water mark.
    taken: AtomicUsize,
    /// Mirror of `writer_waiting`, read by the reader without the lock.
    writer_waiting: AtomicBool,
}

impl Queue {
    fn new(hwm: usize, conflate: bool) -> Queue {
        Queue {
            state: Lock::new(QueueState {
                frames: VecDeque::new(),
                msgs: 0,
                hwm,
                conflate,
                writer_closed: false,
                reader_closed: false,
                writer_waiting: false,
                reader_waiting: true,
                reader: None,
                writer: None,
            }),
            visible: AtomicUsize::new(0),
            hwm: AtomicUsize::new(hwm),
            reader_closed: AtomicBool::new(false),
            taken: AtomicUsize::new(0),
            writer_waiting: AtomicBool::new(false),
        }
    }
}

/// What a socket holds of a pipe.
pub struct PipeEnd {
    pub id: PipeId,
    inq: Arc<Queue>,
    outq: Arc<Queue>,
    /// Frames written but not yet visible to the peer: whole messages
    /// waiting for `flush` (see `write_deferred`), then at most one
    /// message still being written.
    staged: Vec<Msg>,
    /// Whole messages in `staged`.
    staged_msgs: usize,
    /// True while a multipart message is being read from this pipe.
    pub reading: bool,
    /// Frames taken from the queue under one lock, read from here first:
    /// a busy reader locks once per batch, not once per frame.
    cache: VecDeque<Msg>,
    /// Messages read from `cache` not yet taken off the queue's `taken`:
    /// released in groups, each release being a locked instruction.
    consumed: usize,
    /// The peer socket's `ZMQ_ROUTING_ID` (or the one given with
    /// `ZMQ_CONNECT_ROUTING_ID`), for routers.
    pub peer_routing_id: Vec<u8>,
    /// The endpoint this pipe came from, for unbind/disconnect.
    pub endpoint: String,
    /// The peer ended its side: read what is left, then drop the pipe.
    pub peer_gone: bool,
    closed: bool,
}

/// Settings of one side when a pipe is made.
#[derive(Clone, Copy, Debug)]
pub struct SideConfig {
    pub sndhwm: i32,
    pub rcvhwm: i32,
    pub conflate: bool,
}

/// libzmq's inproc rule: a queue holds the sender's SNDHWM plus the
/// receiver's RCVHWM, and is unbounded when either is zero.
fn queue_hwm(sender: &SideConfig, receiver: &SideConfig) -> usize {
    if sender.sndhwm == 0 || receiver.rcvhwm == 0 {
        0
    } else {
        sender.sndhwm as usize + receiver.rcvhwm as usize
    }
}

/// Makes a pipe between sides `a` and `b`. Each side's mailbox is set when
/// it is known (a connect to a not-yet-bound inproc endpoint knows only one).
pub fn pipe_pair(a: SideConfig, b: SideConfig) -> (PipeEnd, PipeEnd) {
    pipe_pair_with(
        queue_hwm(&a, &b),
        queue_hwm(&b, &a),
        a.conflate || b.conflate,
    )
}

/// Makes a pipe with the given limits per direction (0 = none), as a
/// socket and its session use: over tcp and ipc each direction is bounded
/// by the socket's own SNDHWM or RCVHWM alone, as in libzmq.
pub fn pipe_pair_with(a_to_b_hwm: usize, b_to_a_hwm: usize, conflate: bool) -> (PipeEnd, PipeEnd) {
    let id_a = NEXT_PIPE_ID.fetch_add(1, Ordering::Relaxed);
    let id_b = NEXT_PIPE_ID.fetch_add(1, Ordering::Relaxed);
    let a_to_b = Arc::new(Queue::new(a_to_b_hwm, conflate));
    let b_to_a = Arc::new(Queue::new(b_to_a_hwm, conflate));
    let end = |id, inq: &Arc<Queue>, outq: &Arc<Queue>| PipeEnd {
        id,
        inq: Arc::clone(inq),
        outq: Arc::clone(outq),
        staged: Vec::new(),
        staged_msgs: 0,
        reading: false,
        cache: VecDeque::new(),
        consumed: 0,
        peer_routing_id: Vec::new(),
        endpoint: String::new(),
        peer_gone: false,
        closed: false,
    };
    (end(id_a, &b_to_a, &a_to_b), end(id_b, &a_to_b, &b_to_a))
}

/// The reader's mailbox, if the reader waits for the message just queued.
fn reader_to_wake(s: &mut QueueState) -> Option<Arc<Mailbox>> {
    if s.reader_waiting && s.reader.is_some() {
        s.reader_waiting = false;
        s.reader.as_ref().map(|(m, _)| Arc::clone(m))
    } else {
        None
    }
}

impl PipeEnd {
    /// Sets the mailbox to ring for this end's events; rings it at once if
    /// something already waits (messages queued before the attach).
    pub fn set_owner(&self, mailbox: &Arc<Mailbox>) {
        let pending = {
            let mut s = self.inq.state.lock();
            s.reader = Some((Arc::clone(mailbox), self.id));
            s.msgs > 0 || s.writer_closed
        };
        self.outq.state.lock().writer = Some((Arc::clone(mailbox), self.id));
        if pending {
            mailbox.ring();
        }
    }

    /// Recomputes the high-water marks once both sides are known.
    pub fn set_hwms(&self, me: SideConfig, peer: SideConfig) {
        for (q, hwm) in [
            (&self.outq, queue_hwm(&me, &peer)),
            (&self.inq, queue_hwm(&peer, &me)),
        ] {
            q.state.lock().hwm = hwm;
            q.hwm.store(hwm, Ordering::Release);
        }
    }

    /// True if a whole message is waiting to be read.
    pub fn has_msg(&self) -> bool {
        if self.reading || !self.cache.is_empty() || self.inq.visible.load(Ordering::Acquire) > 0 {
            return true;
        }
        let mut s = self.inq.state.lock();
        if s.msgs > 0 {
            return true;
        }
        s.reader_waiting = true;
        false
    }

    /// True if a new message may be written now.
    pub fn can_write(&self) -> bool {
        if self.staged.last().is_some_and(|m| m.more()) {
            // Mid-message: the rest of it always goes.
            return true;
        }
        let q = &*self.outq;
        let mine = self.staged_msgs;
        // Fast path without the lock: below the mark and reader alive.
        let hwm = q.hwm.load(Ordering::Acquire);
        let unread = || q.visible.load(Ordering::SeqCst) + q.taken.load(Ordering::SeqCst) + mine;
        if (hwm == 0 || unread() < hwm) && !q.reader_closed.load(Ordering::Acquire) {
            return true;
        }
        let mut s = q.state.lock();
        if s.reader_closed {
            return false;
        }
        if s.hwm == 0 || s.conflate {
            return true;
        }
        // Announce the wait before counting: a reader that consumes after
        // the count then sees the flag (both SeqCst), so no wake-up is lost.
        q.writer_waiting.store(true, Ordering::SeqCst);
        if s.msgs + q.taken.load(Ordering::SeqCst) + mine >= s.hwm {
            s.writer_waiting = true;
            return false;
        }
        q.writer_waiting.store(s.writer_waiting, Ordering::SeqCst);
        true
    }

    /// Whole messages queued each way (`ZMQ_EVENT_PIPES_STATS`): written
    /// here and not yet read by the peer, and written by the peer and not
    /// yet read here. Reads the counters without the lock, so a count may
    /// lag a message, as libzmq's does.
    pub fn queued(&self) -> (u64, u64) {
        let unread =
            |q: &Queue| q.visible.load(Ordering::Acquire) + q.taken.load(Ordering::Acquire);
        let outbound = unread(&self.outq) + self.staged_msgs;
        let inbound = unread(&self.inq).saturating_sub(self.consumed);
        (outbound as u64, inbound as u64)
    }

    /// True once the peer stopped reading: writes go nowhere.
    pub fn peer_stopped_reading(&self) -> bool {
        self.outq.state.lock().reader_closed
    }

    /// Writes one frame. The message becomes visible to the reader with its
    /// last frame. Call `can_write` before the first frame of a message.
    pub fn write(&mut self, msg: Msg) {
        if msg.more() || !self.staged.is_empty() {
            let last = !msg.more();
            self.write_deferred(msg);
            if last {
                self.flush();
            }
            return;
        }
        // A one-frame message with nothing staged, the common case: straight
        // into the queue, without the staging round trip.
        let ring = {
            let mut s = self.outq.state.lock();
            if s.reader_closed {
                return;
            }
            if s.conflate {
                s.frames.clear();
                s.msgs = 0;
            }
            s.frames.push_back(msg);
            s.msgs += 1;
            self.outq.visible.store(s.msgs, Ordering::Release);
            reader_to_wake(&mut s)
        };
        if let Some(mailbox) = ring {
            mailbox.ring();
        }
    }

    /// Writes one frame without publishing it: whole messages become
    /// visible at the next `flush`, so a writer with many messages at hand
    /// (a session decoding a read) takes the queue's lock once for all.
    pub fn write_deferred(&mut self, msg: Msg) {
        if !msg.more() {
            self.staged_msgs += 1;
        }
        self.staged.push(msg);
    }

    /// Length of the staged frames that form whole messages.
    fn complete_len(&self) -> usize {
        self.staged
            .iter()
            .rposition(|m| !m.more())
            .map_or(0, |i| i + 1)
    }

    /// Publishes the whole messages written so far.
    pub fn flush(&mut self) {
        if self.staged_msgs == 0 {
            return;
        }
        let mut complete = self.complete_len();
        let ring = {
            let mut s = self.outq.state.lock();
            if s.reader_closed {
                self.staged.clear();
                self.staged_msgs = 0;
                return;
            }
            let mut added = self.staged_msgs;
            if s.conflate {
                // Only the newest whole message survives.
                s.frames.clear();
                s.msgs = 0;
                let start = self.staged[..complete - 1]
                    .iter()
                    .rposition(|m| !m.more())
                    .map_or(0, |j| j + 1);
                self.staged.drain(..start);
                complete -= start;
                added = 1;
            }
            if s.frames.is_empty() && complete == self.staged.len() {
                // The reader took everything: hand the staged frames over
                // whole and keep the queue's empty buffer for staging.
                let staged = VecDeque::from(std::mem::take(&mut self.staged));
                self.staged = Vec::from(std::mem::replace(&mut s.frames, staged));
            } else {
                s.frames.extend(self.staged.drain(..complete));
            }
            s.msgs += added;
            self.staged_msgs = 0;
            self.outq.visible.store(s.msgs, Ordering::Release);
            reader_to_wake(&mut s)
        };
        if let Some(mailbox) = ring {
            mailbox.ring();
        }
    }

    /// Drops the frames of a message not yet complete (libzmq's rollback);
    /// whole messages written before it stay.
    pub fn rollback(&mut self) {
        let complete = self.complete_len();
        self.staged.truncate(complete);
    }

    /// As `read`, into `out`; false (and `out` untouched) if there is
    /// nothing to read.
    pub fn read_into(&mut self, out: &mut Msg) -> bool {
        match self.read() {
            Some(msg) => {
                *out = msg;
                true
            }
            None => false,
        }
    }

    /// Reads one frame of a complete message, if there is one.
    #[inline]
    pub fn read(&mut self) -> Option<Msg> {
        let q = &*self.inq;
        if self.cache.is_empty() {
            let mut s = q.state.lock();
            if s.frames.is_empty() {
                s.reader_waiting = true;
                return None;
            }
            // Only whole messages are in the queue: take them all at once.
            // They count as `taken` until consumed, so the mark holds.
            std::mem::swap(&mut s.frames, &mut self.cache);
            q.taken.fetch_add(s.msgs, Ordering::SeqCst);
            s.msgs = 0;
            q.visible.store(0, Ordering::SeqCst);
        }
        let msg = self.cache.pop_front()?;
        let more = msg.more();
        self.reading = more;
        if !more {
            self.consumed += 1;
            // Released at once when the writer waits or the cache ran dry,
            // so an idle reader's count is exact and no wake-up is late.
            if self.consumed >= RELEASE_BATCH
                || self.cache.is_empty()
                || q.writer_waiting.load(Ordering::SeqCst)
            {
                self.release_consumed();
            }
        }
        Some(msg)
    }

    fn release_consumed(&mut self) {
        let q = &*self.inq;
        let n = std::mem::take(&mut self.consumed);
        let left = q.taken.fetch_sub(n, Ordering::SeqCst) - n;
        if q.writer_waiting.load(Ordering::SeqCst) {
            self.wake_writer(left);
        }
    }

    /// Wakes a writer blocked at the mark once enough was consumed (the
    /// low-water mark): waking it per message would switch threads per
    /// message.
    fn wake_writer(&self, left: usize) {
        let q = &*self.inq;
        let ring = {
            let mut s = q.state.lock();
            let unread = left + s.msgs;
            let low = if s.hwm > 2048 {
                s.hwm - 1024
            } else {
                s.hwm / 2
            };
            if !s.writer_waiting || (s.hwm != 0 && unread > low) {
                return;
            }
            s.writer_waiting = false;
            q.writer_waiting.store(false, Ordering::SeqCst);
            s.writer.as_ref().map(|(m, _)| Arc::clone(m))
        };
        if let Some(mailbox) = ring {
            mailbox.ring();
        }
    }

    /// True when the peer is gone and nothing is left to read.
    pub fn drained_and_dead(&self) -> bool {
        if !self.cache.is_empty() {
            return false;
        }
        let s = self.inq.state.lock();
        s.writer_closed && s.frames.is_empty()
    }

    /// Ends this side: the peer reads what we wrote, then sees the end.
    /// What we had not read yet is dropped.
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        self.closed = true;
        self.staged.clear();
        self.staged_msgs = 0;
        self.cache.clear();
        self.consumed = 0;
        self.inq.taken.store(0, Ordering::SeqCst);
        let notify_reader = {
            let mut s = self.outq.state.lock();
            s.writer_closed = true;
            s.writer = None;
            s.reader.clone()
        };
        let notify_writer = {
            let mut s = self.inq.state.lock();
            s.reader_closed = true;
            self.inq.reader_closed.store(true, Ordering::Release);
            s.reader = None;
            s.frames.clear();
            s.msgs = 0;
            self.inq.visible.store(0, Ordering::Release);
            s.writer.clone()
        };
        if let Some((mailbox, peer_id)) = notify_reader.or(notify_writer) {
            mailbox.post(Command::PipeTerm(peer_id));
        }
    }
}

impl Drop for PipeEnd {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(hwm: i32) -> SideConfig {
        SideConfig {
            sndhwm: hwm,
            rcvhwm: hwm,
            conflate: false,
        }
    }

    fn frame(data: &[u8], more: bool) -> Msg {
        let mut m = Msg::from_slice(data);
        m.set_more(more);
        m
    }

    #[test]
    fn multipart_visible_only_when_complete() {
        let (mut a, mut b) = pipe_pair(side(10), side(10));
        a.write(frame(b"1", true));
        assert!(!b.has_msg());
        assert!(b.read().is_none());
        a.write(frame(b"2", false));
        assert!(b.has_msg());
        assert_eq!(b.read().unwrap().data(), b"1");
        assert_eq!(b.read().unwrap().data(), b"2");
        assert!(b.read().is_none());
    }

    #[test]
    fn hwm_is_sum_of_both_sides() {
        let (mut a, _b) = pipe_pair(side(2), side(3));
        for _ in 0..5 {
            assert!(a.can_write());
            a.write(frame(b"x", false));
        }
        assert!(!a.can_write());
    }

    #[test]
    fn reader_sees_messages_then_end() {
        let (mut a, mut b) = pipe_pair(side(10), side(10));
        a.write(frame(b"last words", false));
        a.close();
        assert!(!b.drained_and_dead());
        assert_eq!(b.read().unwrap().data(), b"last words");
        assert!(b.drained_and_dead());
    }

    #[test]
    fn conflate_keeps_newest() {
        let mut cfg = side(1);
        cfg.conflate = true;
        let (mut a, mut b) = pipe_pair(cfg, cfg);
        for i in 0..10u8 {
            assert!(a.can_write());
            a.write(frame(&[i], false));
        }
        assert_eq!(b.read().unwrap().data(), &[9]);
        assert!(b.read().is_none());
    }
}
