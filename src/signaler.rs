//! The doorbell of a socket: rung by whoever changes something the socket's
//! owner may be waiting for (a message arrived in a pipe, a full pipe drained,
//! a pipe was attached or ended, the context is terminating).
//!
//! It is a mio `Poll` holding one `Waker`. The epoll descriptor behind it is
//! the socket's `ZMQ_FD`: it reads as ready after a ring until the owner
//! drains it, which is libzmq's edge-like contract for `ZMQ_FD`.

use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use mio::{Events, Poll, Token, Waker};
use parking_lot::Mutex;

use crate::error::{Error, Result};

const WAKE: Token = Token(0);

pub struct Signaler {
    poll: Mutex<(Poll, Events)>,
    waker: Waker,
    fd: RawFd,
}

impl Signaler {
    pub fn new() -> std::io::Result<Signaler> {
        let poll = Poll::new()?;
        let waker = Waker::new(poll.registry(), WAKE)?;
        let fd = poll.as_raw_fd();
        Ok(Signaler {
            poll: Mutex::new((poll, Events::with_capacity(4))),
            waker,
            fd,
        })
    }

    /// Wakes the owner. Cheap enough to call on every state change that
    /// the owner may be blocked on; callers still avoid it when they can.
    pub fn ring(&self) {
        // A failed wake leaves the owner to its timeout; nothing else to do.
        let _ = self.waker.wake();
    }

    /// Waits for a ring, at most `timeout` (None: forever). Spurious
    /// returns happen: callers re-check their condition in a loop.
    ///
    /// A signal delivered to this thread ends the wait with `Error::Intr`,
    /// which blocking calls pass on as libzmq does (its `recv`, `send` and
    /// `zmq_poll` return -1/EINTR, with or without `SA_RESTART`, since
    /// `poll(2)` is never restarted).
    pub fn wait(&self, timeout: Option<Duration>) -> Result<()> {
        let mut guard = self.poll.lock();
        let (poll, events) = &mut *guard;
        poll_once(poll, events, timeout)
    }

    /// Consumes pending rings without blocking, so `ZMQ_FD` reads as idle
    /// until the next one.
    pub fn drain(&self) {
        if let Some(mut guard) = self.poll.try_lock() {
            let (poll, events) = &mut *guard;
            let _ = poll.poll(events, Some(Duration::ZERO));
        }
    }

    /// The descriptor behind `ZMQ_FD`.
    pub fn fd(&self) -> RawFd {
        self.fd
    }
}

/// Waits on several sockets' descriptors at once (the proxy's loop).
pub struct MultiWaiter {
    poll: Poll,
    events: Events,
}

impl MultiWaiter {
    pub fn new(fds: &[RawFd]) -> std::io::Result<MultiWaiter> {
        let poll = Poll::new()?;
        for (i, fd) in fds.iter().enumerate() {
            poll.registry().register(
                &mut mio::unix::SourceFd(fd),
                Token(i),
                mio::Interest::READABLE,
            )?;
        }
        Ok(MultiWaiter {
            poll,
            events: Events::with_capacity(fds.len().max(1)),
        })
    }

    /// As [`Signaler::wait`]: spurious returns happen, a signal is
    /// `Error::Intr`.
    pub fn wait(&mut self, timeout: Option<Duration>) -> Result<()> {
        poll_once(&mut self.poll, &mut self.events, timeout)
    }
}

/// One `epoll_wait`. mio does not retry after a signal, so EINTR reaches us
/// and becomes `Error::Intr`; any other failure (none is expected on a valid
/// epoll descriptor) is passed on rather than turned into a busy loop.
fn poll_once(poll: &mut Poll, events: &mut Events, timeout: Option<Duration>) -> Result<()> {
    poll.poll(events, timeout).map_err(Error::from)
}
