//! `zmq_poll`: waits on sockets and plain descriptors together.
//!
//! A socket is ready when its `ZMQ_EVENTS` says so; while none is, we wait
//! in `poll(2)` on each socket's `ZMQ_FD` (rung on every change that may
//! make it ready) plus the plain descriptors, then look again. Reading
//! `ZMQ_EVENTS` drains the ring first, so a change after the look wakes
//! the wait instead of being lost.
//!
//! [`wait_ready`] is that loop, shared with the draft `zmq_poller_*` API.

use std::ffi::{c_int, c_long, c_short, c_void};
use std::os::fd::RawFd;
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

/// One thing to wait on, with the zmq event bits asked for.
pub(crate) struct Watch {
    pub target: Target,
    pub events: c_short,
}

pub(crate) enum Target {
    /// Ready as its `ZMQ_EVENTS` says; waited on through its `ZMQ_FD`.
    Socket(Arc<Socket>),
    /// A plain descriptor, given to `poll(2)` as it is.
    Fd(RawFd),
}

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
fn from_poll_revents(revents: c_short) -> c_short {
    let mut out = 0;
    if revents & libc::POLLIN != 0 {
        out |= ZMQ_POLLIN as c_short;
    }
    if revents & libc::POLLOUT != 0 {
        out |= ZMQ_POLLOUT as c_short;
    }
    if revents & libc::POLLPRI != 0 {
        out |= ZMQ_POLLPRI as c_short;
    }
    if revents & !(libc::POLLIN | libc::POLLOUT | libc::POLLPRI) != 0 {
        out |= ZMQ_POLLERR as c_short;
    }
    out
}

/// One `poll(2)`; a signal handler that ran makes it `Error::Intr`, which
/// `zmq_poll` returns at once, as libzmq does.
fn sys_poll(fds: &mut [libc::pollfd], timeout_ms: c_int) -> Result<()> {
    // SAFETY: fds is a valid, exclusively borrowed array of its length.
    let rc = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) };
    if rc < 0 {
        return Err(Error::from(std::io::Error::last_os_error()));
    }
    Ok(())
}

/// When a wait of `timeout` ms started now ends: None for a negative
/// timeout (forever), and for one so large that the clock cannot represent
/// its end (it is forever in practice).
pub(crate) fn deadline_after(timeout: c_long) -> Option<Instant> {
    let ms = u64::try_from(timeout).ok()?;
    Instant::now().checked_add(Duration::from_millis(ms))
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

/// Sleeps as libzmq does when there is nothing to poll: for `timeout`
/// (None: until a signal). A signal handler that runs ends the sleep with
/// `Error::Intr`, as libzmq's `usleep` does (it is not restarted).
pub(crate) fn sleep_interruptible(timeout: Option<Duration>) -> Result<()> {
    let rc = match timeout {
        Some(d) => {
            let ts = libc::timespec {
                tv_sec: d.as_secs().min(libc::time_t::MAX as u64) as libc::time_t,
                tv_nsec: d.subsec_nanos() as libc::c_long,
            };
            // SAFETY: ts is a valid timespec; the remainder is not wanted.
            unsafe { libc::nanosleep(&ts, std::ptr::null_mut()) }
        }
        // SAFETY: pause() takes nothing and returns after a handler ran.
        None => unsafe { libc::pause() },
    };
    if rc < 0 {
        return Err(Error::from(std::io::Error::last_os_error()));
    }
    Ok(())
}

/// Waits until at least one of `watches` is ready, `deadline` passes or an
/// error occurs, and writes each watch's ready bits into `revents` (as
/// long as `watches`). Returns how many watches are ready.
///
/// Only the first `limit` ready watches count towards ending the wait, so
/// a caller with no room for events waits for the deadline, as libzmq's
/// poller does. Every socket's `ZMQ_EVENTS` is read on each look, even
/// when no event is asked of it, so a terminated context is `ETERM`.
pub(crate) fn wait_ready(
    watches: &[Watch],
    revents: &mut [c_short],
    deadline: Option<Instant>,
    limit: usize,
) -> Result<usize> {
    let mut fds: Vec<libc::pollfd> = watches
        .iter()
        .map(|w| match &w.target {
            Target::Socket(s) => libc::pollfd {
                fd: if w.events & SOCKET_EVENTS != 0 {
                    s.fd()
                } else {
                    -1
                },
                events: libc::POLLIN,
                revents: 0,
            },
            Target::Fd(fd) => libc::pollfd {
                fd: *fd,
                events: to_poll_events(w.events),
                revents: 0,
            },
        })
        .collect();
    // Plain descriptors get a non-blocking look of their own first; after
    // a wait, the wait's own answer is used.
    let mut timeout_ms = 0;
    loop {
        for f in fds.iter_mut() {
            f.revents = 0;
        }
        sys_poll(&mut fds, timeout_ms)?;
        let mut ready = 0;
        for ((w, f), r) in watches.iter().zip(&fds).zip(revents.iter_mut()) {
            *r = match &w.target {
                Target::Socket(s) => s.events()? & w.events & SOCKET_EVENTS,
                Target::Fd(_) => from_poll_revents(f.revents),
            };
            if *r != 0 {
                ready += 1;
            }
        }
        timeout_ms = remaining_ms(deadline);
        if ready.min(limit) > 0 || timeout_ms == 0 {
            return Ok(ready);
        }
    }
}

fn poll_items(items: &mut [zmq_pollitem_t], timeout: c_long) -> Result<c_int> {
    let watches: Vec<Watch> = items
        .iter()
        .map(|it| {
            Ok(Watch {
                target: if it.socket.is_null() {
                    Target::Fd(it.fd)
                } else {
                    Target::Socket(socket(it.socket)?)
                },
                events: it.events,
            })
        })
        .collect::<Result<_>>()?;
    let mut revents = vec![0; items.len()];
    let ready = wait_ready(&watches, &mut revents, deadline_after(timeout), usize::MAX)?;
    for (it, r) in items.iter_mut().zip(revents) {
        it.revents = r;
    }
    Ok(ready as c_int)
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
            // Nothing to watch: the call is a sleep, as in libzmq, which a
            // signal cuts short with EINTR.
            if timeout_ != 0 {
                let ms = u64::try_from(timeout_).ok();
                sleep_interruptible(ms.map(Duration::from_millis))?;
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
