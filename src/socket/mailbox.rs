//! The typed mailbox of a pipe's owner (a socket, or a session in an I/O
//! thread): commands from other threads, and the doorbell that wakes the
//! owner.

use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use super::monitor::Endpoints;
use crate::pipe::{PipeEnd, PipeId};
use crate::signaler::Signaler;

/// What other threads ask of a socket. The socket handles them at the start
/// of its next call (or while it waits), on its owner's thread.
pub enum Command {
    /// A new pipe: a peer connected to one of our inproc endpoints.
    Attach(PipeEnd),
    /// A new pipe of a tcp/ipc connection, with the connection's local and
    /// remote addresses (what `ZMQ_EVENT_PIPES_STATS` names it by).
    AttachConnection(PipeEnd, Endpoints),
    /// The peer ended the pipe we know by this id.
    PipeTerm(PipeId),
    /// A connecter gave up for good (`ZMQ_RECONNECT_STOP_CONN_REFUSED`):
    /// the socket forgets the endpoint, as after `zmq_disconnect`.
    TermEndpoint(String),
    /// The connection behind this pipe was re-established: subscriptions
    /// must be sent again (libzmq's "hiccup").
    Hiccup(PipeId),
}

/// How a mailbox wakes its owner.
enum Doorbell {
    /// A socket: its signaler, whose fd is `ZMQ_FD`.
    Signaler(Signaler),
    /// A session: marks it ready in its I/O thread and wakes that thread.
    Callback(Box<dyn Fn() + Send + Sync>),
}

pub struct Mailbox {
    commands: Mutex<Vec<Command>>,
    pending: AtomicBool,
    doorbell: Doorbell,
}

impl Mailbox {
    pub fn new() -> std::io::Result<Mailbox> {
        Ok(Mailbox {
            commands: Mutex::new(Vec::new()),
            pending: AtomicBool::new(false),
            doorbell: Doorbell::Signaler(Signaler::new()?),
        })
    }

    /// A mailbox whose ring calls `ring` (an I/O thread's wake-up).
    pub fn with_callback(ring: impl Fn() + Send + Sync + 'static) -> Mailbox {
        Mailbox {
            commands: Mutex::new(Vec::new()),
            pending: AtomicBool::new(false),
            doorbell: Doorbell::Callback(Box::new(ring)),
        }
    }

    pub fn post(&self, cmd: Command) {
        self.commands.lock().push(cmd);
        self.pending.store(true, Ordering::Release);
        self.ring();
    }

    /// Takes every queued command; cheap when there is none.
    pub fn take(&self) -> Vec<Command> {
        // A plain load first: the swap is a locked instruction, and on the
        // per-message path there is almost never anything to take.
        if !self.pending.load(Ordering::Acquire) || !self.pending.swap(false, Ordering::AcqRel) {
            return Vec::new();
        }
        std::mem::take(&mut *self.commands.lock())
    }

    pub fn ring(&self) {
        match &self.doorbell {
            Doorbell::Signaler(s) => s.ring(),
            Doorbell::Callback(f) => f(),
        }
    }

    /// The signaler of a socket's mailbox (None for a session's).
    pub fn signaler(&self) -> Option<&Signaler> {
        match &self.doorbell {
            Doorbell::Signaler(s) => Some(s),
            Doorbell::Callback(_) => None,
        }
    }
}
