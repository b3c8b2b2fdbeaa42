//! `zmq_proxy`: shuttles messages between two sockets, optionally copying
//! each to a capture socket. Returns when the context terminates.

use crate::error::{Error, Result};
use crate::signaler::MultiWaiter;
use crate::socket::{Socket, DONTWAIT, POLLIN, SNDMORE};

/// Moves every frame of one message from `from` to `to` (and `capture`).
fn forward(from: &Socket, to: &Socket, capture: Option<&Socket>) -> Result<()> {
    loop {
        let mut msg = from.recv(DONTWAIT)?;
        let more = msg.more();
        let flags = if more { SNDMORE } else { 0 };
        if let Some(cap) = capture {
            let mut copy = msg.share();
            cap.send(&mut copy, flags)?;
        }
        to.send(&mut msg, flags)?;
        if !more {
            return Ok(());
        }
    }
}

/// Runs until an error (`ETERM` when the context ends).
pub fn proxy(frontend: &Socket, backend: &Socket, capture: Option<&Socket>) -> Result<()> {
    let pair = [(frontend, backend), (backend, frontend)];
    let mut waiter = MultiWaiter::new(&[frontend.fd(), backend.fd()]).map_err(Error::from)?;
    loop {
        let mut moved = false;
        for (from, to) in pair {
            if from.events()? & POLLIN != 0 {
                match forward(from, to, capture) {
                    Ok(()) => moved = true,
                    Err(Error::Again) => {}
                    Err(e) => return Err(e),
                }
            }
            if std::ptr::eq(frontend, backend) {
                break;
            }
        }
        if !moved {
            waiter.wait(None);
        }
    }
}
