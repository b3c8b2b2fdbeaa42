//! `zmq_poll`: waits on sockets and plain descriptors together.
//!
//! A socket is ready when its `ZMQ_EVENTS` says so; while none is, we wait
//! in `poll(2)` on each socket's `ZMQ_FD` (rung on every change that may
//! make it ready) plus the plain descriptors, then look again. Reading
//! `ZMQ_EVENTS` drains the ring first, so a change after the look wakes
//! the wait instead of being lost.

use std::ffi::{c_int, c_long, c_short, c_void};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::constants::{ZMQ_POLLERR, ZMQ_POLLIN, ZMQ_POLLOUT, ZMQ_POLLPRI};
use super::guard;
use super::handle::socket;
use crate::error::{Error, Result};
use crate::socket::Socket;

pub type zmq_fd_t = c_int;

#[repr(C)]
pub struct zmq_pollitem_t {
    pub socket: *mut c_void,
    pub fd: zmq_fd_t,
    pub events: c_short,
    pub revents: c_short,
}

const SOCKET_EVENTS: c_short = (ZMQ_POLLIN | ZMQ_POLLOUT) as c_short;

/// `poll(2)` bits for a plain descriptor's requested events.
fn to_poll_events(events: c_short) -> c_short {
    let mut out = 0;
    if events & ZMQ_POLLIN as c_short != 0 {
        out |= libc::POLLIN;
    }
    if events & ZMQ_POLLOUT as c_short != 0 {
        out |= libc::POLLOUT;
    }
    if events & ZMQ_POLLPRI as c_short != 0 {
        out |= libc::POLLPRI;
    }
    out
}

/// What `poll(2)` reported, in zmq bits; anything beyond readable,
/// writable and urgent (hang-up, error, bad descriptor) is `ZMQ_POLLERR`.
fn from_poll_revents(revents: c_short, requested: c_short) -> c_short {
    let mut out = 0;
    if revents & libc::POLLIN != 0 && requested & ZMQ_POLLIN as c_short != 0 {
        out |= ZMQ_POLLIN as c_short;
    }
    if revents & libc::POLLOUT != 0 && requested & ZMQ_POLLOUT as c_short != 0 {
        out |= ZMQ_POLLOUT as c_short;
    }
    if revents & libc::POLLPRI != 0 && requested & ZMQ_POLLPRI as c_short != 0 {
        out |= ZMQ_POLLPRI as c_short;
    }
    if revents & !(libc::POLLIN | libc::POLLOUT | libc::POLLPRI) != 0 {
        out |= ZMQ_POLLERR as c_short;
    }
    out
}

fn sys_poll(fds: &mut [libc::pollfd], timeout_ms: c_int) -> Result<()> {
    // SAFETY: fds is a valid, exclusively borrowed array of its length.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if rc < 0 {
        return Err(Error::from(std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Milliseconds left before `deadline`, for `poll(2)` (-1: forever),
/// rounded up so we never wake just before it.
fn remaining_ms(deadline: Option<Instant>) -> c_int {
    match deadline {
        None => -1,
        Some(d) => {
            let left = d.saturating_duration_since(Instant::now());
            let ms = left.as_micros().div_ceil(1000);
            ms.min(c_int::MAX as u128) as c_int
        }
    }
}

fn poll_items(items: &mut [zmq_pollitem_t], timeout: c_long) -> Result<c_int> {
    let sockets: Vec<Option<Arc<Socket>>> = items
        .iter()
        .map(|it| {
            if it.socket.is_null() {
                Ok(None)
            } else {
                socket(it.socket).map(Some)
            }
        })
        .collect::<Result<_>>()?;
    let deadline = if timeout < 0 {
        None
    } else {
        Some(Instant::now() + Duration::from_millis(timeout as u64))
    };
    let mut fds: Vec<libc::pollfd> = items
        .iter()
        .zip(&sockets)
        .map(|(it, s)| match s {
            Some(s) => libc::pollfd {
                fd: if it.events & SOCKET_EVENTS != 0 {
                    s.fd()
                } else {
                    -1
                },
                events: libc::POLLIN,
                revents: 0,
            },
            None => libc::pollfd {
                fd: it.fd,
                events: to_poll_events(it.events),
                revents: 0,
            },
        })
        .collect();
    let mut plain_checked = false;
    loop {
        if !plain_checked {
            // Plain descriptors get a non-blocking look of their own; after
            // a wait, the wait's own answer is used.
            for f in fds.iter_mut() {
                f.revents = 0;
            }
            sys_poll(&mut fds, 0)?;
        }
        let mut ready = 0;
        for ((it, s), f) in items.iter_mut().zip(&sockets).zip(&fds) {
            it.revents = match s {
                Some(s) if it.events & SOCKET_EVENTS != 0 => s.events()? & it.events,
                Some(_) => 0,
                None => from_poll_revents(f.revents, it.events),
            };
            if it.revents != 0 {
                ready += 1;
            }
        }
        let wait = remaining_ms(deadline);
        if ready > 0 || wait == 0 {
            return Ok(ready);
        }
        for f in fds.iter_mut() {
            f.revents = 0;
        }
        sys_poll(&mut fds, wait)?;
        plain_checked = true;
    }
}

/// `timeout_` is in milliseconds; -1 waits forever, 0 only looks. Returns
/// how many items have `revents` set.
#[no_mangle]
pub extern "C" fn zmq_poll(items_: *mut zmq_pollitem_t, nitems_: c_int, timeout_: c_long) -> c_int {
    guard(-1, || {
        if nitems_ < 0 {
            return Err(Error::Inval);
        }
        if nitems_ == 0 {
            // Nothing to watch: the call is a sleep, as in libzmq.
            match timeout_ {
                0 => {}
                t if t < 0 => loop {
                    std::thread::park();
                },
                t => std::thread::sleep(Duration::from_millis(t as u64)),
            }
            return Ok(0);
        }
        if items_.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: non-NULL, nitems_ > 0 entries by the caller's contract.
        let items = unsafe { std::slice::from_raw_parts_mut(items_, nitems_ as usize) };
        poll_items(items, timeout_)
    })
}
