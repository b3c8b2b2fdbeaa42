//! `zmq_socket_monitor`, and the draft `zmq_socket_monitor_versioned` and
//! `zmq_socket_monitor_pipes_stats`. The monitor itself is
//! `crate::socket::monitor`.

use std::ffi::{c_char, c_int, c_void};

use super::handle::socket;
use super::{c_str, guard};
use crate::socket::kind;

/// The endpoint argument: NULL stops monitoring.
fn endpoint<'a>(addr_: *const c_char) -> crate::Result<Option<&'a str>> {
    if addr_.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL, and NUL-terminated by the caller's contract.
    unsafe { c_str(addr_) }.map(Some)
}

#[no_mangle]
pub extern "C" fn zmq_socket_monitor(
    s_: *mut c_void,
    addr_: *const c_char,
    events_: c_int,
) -> c_int {
    guard(-1, || {
        let s = socket(s_)?;
        // libzmq widens the int to 64 bits with its sign, so a negative
        // mask has bits beyond version 1's sixteen: EINVAL.
        s.monitor(endpoint(addr_)?, events_ as i64 as u64, 1, kind::PAIR)?;
        Ok(0)
    })
}

/// Draft: `event_version_` 2 sends the event number and each value in 64
/// bits, the number of values, then the local and the remote endpoint;
/// `type_` is the publisher's socket type (PAIR, PUB or PUSH).
#[cfg(feature = "draft")]
#[no_mangle]
pub extern "C" fn zmq_socket_monitor_versioned(
    s_: *mut c_void,
    addr_: *const c_char,
    events_: u64,
    event_version_: c_int,
    type_: c_int,
) -> c_int {
    guard(-1, || {
        let s = socket(s_)?;
        s.monitor(endpoint(addr_)?, events_, event_version_, type_)?;
        Ok(0)
    })
}

/// Draft: raises `ZMQ_EVENT_PIPES_STATS` for each of the socket's pipes.
#[cfg(feature = "draft")]
#[no_mangle]
pub extern "C" fn zmq_socket_monitor_pipes_stats(s: *mut c_void) -> c_int {
    guard(-1, || {
        socket(s)?.pipes_stats()?;
        Ok(0)
    })
}
