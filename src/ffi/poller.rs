//! The draft `zmq_poller_*` API (libzmq 4.3.4's `ZMQ_BUILD_DRAFT_API`): a
//! registration object over sockets and plain descriptors, waited on like
//! `zmq_poll` (the same loop, [`wait_ready`]).
//!
//! libzmq's poller is not thread-safe; ours is, in the sense that using one
//! from several threads cannot crash: its items sit behind a lock that a
//! wait does not hold (it works on a snapshot), so additions and removals
//! made during a wait count from the next one, and a poller destroyed
//! during a wait stays valid until that wait returns.
//!
//! Thread-safe sockets (SERVER, CLIENT, ...) do not exist here, so
//! `zmq_poller_fd` always answers `EINVAL`, as libzmq does for a poller
//! without them.

use std::ffi::{c_int, c_long, c_short, c_void};
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;

use super::constants::{ZMQ_POLLERR, ZMQ_POLLIN, ZMQ_POLLOUT, ZMQ_POLLPRI};
use super::guard;
use super::handle::{socket, Registry};
use super::poll::{deadline_after, sleep_interruptible, wait_ready, zmq_fd_t, Target, Watch};
use crate::error::{Error, Result};
use crate::socket::Socket;

/// One signalled registration, as `zmq_poller_wait_all` reports it.
#[repr(C)]
pub struct zmq_poller_event_t {
    /// The socket, or NULL for a plain descriptor.
    pub socket: *mut c_void,
    /// The descriptor, or -1 for a socket.
    pub fd: zmq_fd_t,
    /// What was given at registration.
    pub user_data: *mut c_void,
    /// The events that occurred.
    pub events: c_short,
}

/// libzmq's `retired_fd`: the descriptor that is not one.
const RETIRED_FD: zmq_fd_t = -1;

/// The event bits a registration may ask for.
const VALID_EVENTS: c_short = (ZMQ_POLLIN | ZMQ_POLLOUT | ZMQ_POLLERR | ZMQ_POLLPRI) as c_short;

enum Registered {
    /// The handle C gave (how the socket is known to add/modify/remove)
    /// and the socket it named then.
    Socket(usize, Arc<Socket>),
    Fd(zmq_fd_t),
}

struct Item {
    what: Registered,
    /// The caller's pointer, handed back untouched (kept as an address so
    /// the poller can move between threads).
    user_data: usize,
    events: c_short,
}

#[derive(Default)]
pub(crate) struct Poller {
    items: Mutex<Vec<Item>>,
}

static POLLERS: Registry<Poller> = Registry::new();

/// The poller behind a handle: NULL, destroyed or garbage is `EFAULT`.
fn poller(handle: *mut c_void) -> Result<Arc<Poller>> {
    POLLERS.get(handle).ok_or(Error::Fault)
}

fn check_events(events: c_short) -> Result<()> {
    if events & !VALID_EVENTS != 0 {
        return Err(Error::Inval);
    }
    Ok(())
}

/// `retired_fd` is refused with `EBADF`, as in libzmq; other descriptors
/// are taken as they are (`poll(2)` skips negative ones).
fn check_fd(fd: zmq_fd_t) -> Result<()> {
    if fd == RETIRED_FD {
        return Err(Error::Os(libc::EBADF));
    }
    Ok(())
}

fn position_of_socket(items: &[Item], handle: *mut c_void) -> Option<usize> {
    items
        .iter()
        .position(|it| matches!(it.what, Registered::Socket(h, _) if h == handle as usize))
}

fn position_of_fd(items: &[Item], fd: zmq_fd_t) -> Option<usize> {
    items
        .iter()
        .position(|it| matches!(it.what, Registered::Fd(f) if f == fd))
}

#[no_mangle]
pub extern "C" fn zmq_poller_new() -> *mut c_void {
    guard(std::ptr::null_mut(), || {
        Ok(POLLERS.insert(Arc::new(Poller::default())))
    })
}

/// Destroys the poller and sets `*poller_p` to NULL; registrations go with
/// it (the sockets are not touched).
#[no_mangle]
pub extern "C" fn zmq_poller_destroy(poller_p: *mut *mut c_void) -> c_int {
    guard(-1, || {
        if poller_p.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: non-NULL, pointing to the caller's handle variable.
        let handle = unsafe { *poller_p };
        POLLERS.remove(handle).ok_or(Error::Fault)?;
        // SAFETY: as above.
        unsafe { *poller_p = std::ptr::null_mut() };
        Ok(0)
    })
}

/// How many sockets and descriptors are registered, whatever their events.
#[no_mangle]
pub extern "C" fn zmq_poller_size(poller_: *mut c_void) -> c_int {
    guard(-1, || {
        let len = poller(poller_)?.items.lock().len();
        Ok(c_int::try_from(len).unwrap_or(c_int::MAX))
    })
}

/// Registers a socket; it may ask for no events (activated later with
/// `zmq_poller_modify`). A socket registered already is `EINVAL`.
#[no_mangle]
pub extern "C" fn zmq_poller_add(
    poller_: *mut c_void,
    socket_: *mut c_void,
    user_data_: *mut c_void,
    events_: c_short,
) -> c_int {
    guard(-1, || {
        let p = poller(poller_)?;
        let s = socket(socket_)?;
        check_events(events_)?;
        let mut items = p.items.lock();
        if position_of_socket(&items, socket_).is_some() {
            return Err(Error::Inval);
        }
        items.push(Item {
            what: Registered::Socket(socket_ as usize, s),
            user_data: user_data_ as usize,
            events: events_,
        });
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn zmq_poller_modify(
    poller_: *mut c_void,
    socket_: *mut c_void,
    events_: c_short,
) -> c_int {
    guard(-1, || {
        let p = poller(poller_)?;
        socket(socket_)?;
        check_events(events_)?;
        let mut items = p.items.lock();
        let i = position_of_socket(&items, socket_).ok_or(Error::Inval)?;
        items[i].events = events_;
        Ok(0)
    })
}

/// Unregisters a socket. libzmq requires this before `zmq_close`; a socket
/// closed while registered (undefined behaviour there) can still be
/// removed here, by the handle it had.
#[no_mangle]
pub extern "C" fn zmq_poller_remove(poller_: *mut c_void, socket_: *mut c_void) -> c_int {
    guard(-1, || {
        let p = poller(poller_)?;
        let live = socket(socket_);
        let mut items = p.items.lock();
        let found = position_of_socket(&items, socket_);
        match (live, found) {
            (Ok(_), Some(i)) => {
                items.remove(i);
                Ok(0)
            }
            (Ok(_), None) => Err(Error::Inval),
            (Err(_), Some(i)) if matches!(&items[i].what, Registered::Socket(_, s) if s.is_closed()) =>
            {
                items.remove(i);
                Ok(0)
            }
            (Err(e), _) => Err(e),
        }
    })
}

/// Registers a plain descriptor; one registered already is `EINVAL`.
#[no_mangle]
pub extern "C" fn zmq_poller_add_fd(
    poller_: *mut c_void,
    fd_: zmq_fd_t,
    user_data_: *mut c_void,
    events_: c_short,
) -> c_int {
    guard(-1, || {
        let p = poller(poller_)?;
        check_fd(fd_)?;
        check_events(events_)?;
        let mut items = p.items.lock();
        if position_of_fd(&items, fd_).is_some() {
            return Err(Error::Inval);
        }
        items.push(Item {
            what: Registered::Fd(fd_),
            user_data: user_data_ as usize,
            events: events_,
        });
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn zmq_poller_modify_fd(
    poller_: *mut c_void,
    fd_: zmq_fd_t,
    events_: c_short,
) -> c_int {
    guard(-1, || {
        let p = poller(poller_)?;
        check_fd(fd_)?;
        check_events(events_)?;
        let mut items = p.items.lock();
        let i = position_of_fd(&items, fd_).ok_or(Error::Inval)?;
        items[i].events = events_;
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn zmq_poller_remove_fd(poller_: *mut c_void, fd_: zmq_fd_t) -> c_int {
    guard(-1, || {
        let p = poller(poller_)?;
        check_fd(fd_)?;
        let mut items = p.items.lock();
        let i = position_of_fd(&items, fd_).ok_or(Error::Inval)?;
        items.remove(i);
        Ok(0)
    })
}

/// An event slot that holds nothing (libzmq's "invalid" event).
fn empty_event() -> zmq_poller_event_t {
    zmq_poller_event_t {
        socket: std::ptr::null_mut(),
        fd: RETIRED_FD,
        user_data: std::ptr::null_mut(),
        events: 0,
    }
}

/// The waiting behind `zmq_poller_wait_all`, on a snapshot of the items.
/// Returns the number of events written to `out` (at least 1), or `EAGAIN`
/// when the timeout passes first.
fn wait_all(p: &Poller, out: &mut [zmq_poller_event_t], timeout: c_long) -> Result<usize> {
    // (handle, user_data) per watch, in registration order.
    let mut origin: Vec<(*mut c_void, zmq_fd_t, usize)> = Vec::new();
    let mut watches: Vec<Watch> = Vec::new();
    let registered;
    {
        let items = p.items.lock();
        registered = items.len();
        for it in items.iter() {
            match &it.what {
                // Sockets are looked at even with no events asked, so a
                // terminated context is ETERM, as in libzmq.
                Registered::Socket(h, s) => {
                    origin.push((*h as *mut c_void, RETIRED_FD, it.user_data));
                    watches.push(Watch {
                        target: Target::Socket(Arc::clone(s)),
                        events: it.events,
                    });
                }
                // A descriptor with no events is not polled at all.
                Registered::Fd(fd) if it.events != 0 => {
                    origin.push((std::ptr::null_mut(), *fd, it.user_data));
                    watches.push(Watch {
                        target: Target::Fd(*fd),
                        events: it.events,
                    });
                }
                Registered::Fd(_) => {}
            }
        }
    }
    if registered == 0 && timeout < 0 {
        // It could never return.
        return Err(Error::Fault);
    }
    if !watches.iter().any(|w| w.events != 0) {
        // Nothing can ever be signalled: libzmq fails at once rather than
        // sleep forever, and otherwise sleeps out the timeout (a signal
        // cuts that short with EINTR) and reports it.
        if timeout < 0 {
            return Err(Error::Fault);
        }
        if timeout > 0 {
            sleep_interruptible(Some(Duration::from_millis(timeout as u64)))?;
        }
        return Err(Error::Again);
    }
    let mut revents = vec![0; watches.len()];
    let ready = wait_ready(&watches, &mut revents, deadline_after(timeout), out.len())?;
    let mut found = 0;
    if ready > 0 {
        for ((socket, fd, user_data), r) in origin.iter().zip(&revents) {
            if found == out.len() {
                break;
            }
            if *r != 0 {
                out[found] = zmq_poller_event_t {
                    socket: *socket,
                    fd: *fd,
                    user_data: *user_data as *mut c_void,
                    events: *r,
                };
                found += 1;
            }
        }
    }
    if found == 0 {
        return Err(Error::Again);
    }
    for slot in &mut out[found..] {
        *slot = empty_event();
    }
    Ok(found)
}

/// Waits for at most `n_events_` events (timeout in ms: -1 forever, 0 just
/// looks). Returns how many were written, never 0: with none, -1/`EAGAIN`.
#[no_mangle]
pub extern "C" fn zmq_poller_wait_all(
    poller_: *mut c_void,
    events_: *mut zmq_poller_event_t,
    n_events_: c_int,
    timeout_: c_long,
) -> c_int {
    guard(-1, || {
        let p = poller(poller_)?;
        if events_.is_null() {
            return Err(Error::Fault);
        }
        let n = usize::try_from(n_events_).map_err(|_| Error::Inval)?;
        // SAFETY: non-NULL and, by the caller's contract, an array of at
        // least n_events_ events, which we only write whole.
        let out = unsafe { std::slice::from_raw_parts_mut(events_, n) };
        Ok(wait_all(&p, out, timeout_)? as c_int)
    })
}

/// One event; 0 on success. On failure a non-NULL `event_` is cleared, so
/// a caller that skips the return value does not act on stale data.
#[no_mangle]
pub extern "C" fn zmq_poller_wait(
    poller_: *mut c_void,
    event_: *mut zmq_poller_event_t,
    timeout_: c_long,
) -> c_int {
    let rc = zmq_poller_wait_all(poller_, event_, 1, timeout_);
    if rc < 0 {
        if !event_.is_null() {
            // SAFETY: non-NULL: the caller's event, written whole.
            unsafe { event_.write(empty_event()) };
        }
        return -1;
    }
    0
}

/// The poller's own descriptor exists only for thread-safe sockets, which
/// we do not have: `EINVAL`, and `*fd_` is left alone.
#[no_mangle]
pub extern "C" fn zmq_poller_fd(poller_: *mut c_void, fd_: *mut zmq_fd_t) -> c_int {
    let _ = fd_;
    guard(-1, || {
        poller(poller_)?;
        Err(Error::Inval)
    })
}
