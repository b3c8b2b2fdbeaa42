//! The typed mailbox of a socket: commands from other threads, and the
//! doorbell that wakes the socket's owner.

use std::sync::atomic::{AtomicBool, Ordering};

use parking_lot::Mutex;

use crate::pipe::{PipeEnd, PipeId};
use crate::signaler::Signaler;

/// What other threads ask of a socket. The socket handles them at the start
/// of its next call (or while it waits), on its owner's thread.
pub enum Command {
    /// A new pipe: a peer connected to one of our inproc endpoints.
    Attach(PipeEnd),
    /// The peer ended the pipe we know by this id.
    PipeTerm(PipeId),
}

pub struct Mailbox {
    commands: Mutex<Vec<Command>>,
    pending: AtomicBool,
    signaler: Signaler,
}

impl Mailbox {
    pub fn new() -> std::io::Result<Mailbox> {
        Ok(Mailbox {
            commands: Mutex::new(Vec::new()),
            pending: AtomicBool::new(false),
            signaler: Signaler::new()?,
        })
    }

    pub fn post(&self, cmd: Command) {
        self.commands.lock().push(cmd);
        self.pending.store(true, Ordering::Release);
        self.signaler.ring();
    }

    /// Takes every queued command; cheap when there is none.
    pub fn take(&self) -> Vec<Command> {
        if !self.pending.swap(false, Ordering::AcqRel) {
            return Vec::new();
        }
        std::mem::take(&mut *self.commands.lock())
    }

    pub fn ring(&self) {
        self.signaler.ring();
    }

    pub fn signaler(&self) -> &Signaler {
        &self.signaler
    }
}
