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

/// Draft: raises `ZMQ_EVENT_PIPES_STATS` for each of the socket's pipes,
/// with the messages queued towards the peer and from it. EINVAL: the
/// monitor does not ask for the event; EAGAIN: no pipes.
#[cfg(feature = "draft")]
#[no_mangle]
pub extern "C" fn zmq_socket_monitor_pipes_stats(s: *mut c_void) -> c_int {
    guard(-1, || {
        socket(s)?.pipes_stats()?;
        Ok(0)
    })
}

#[cfg(all(test, feature = "draft"))]
mod tests {
    use std::ffi::CString;

    use super::*;
    use crate::ffi::context::{zmq_ctx_new, zmq_ctx_term};
    use crate::ffi::socket::{
        zmq_bind, zmq_close, zmq_connect, zmq_recv, zmq_setsockopt, zmq_socket,
    };
    use crate::ffi::utilities::zmq_errno;

    /// The draft entry points through the C ABI: v2 frames, the publisher
    /// type, and pipes_stats' refusals.
    #[test]
    fn versioned_monitor_and_pipes_stats() {
        let ctx = zmq_ctx_new();
        let s = zmq_socket(ctx, kind::DEALER);
        let ep = CString::new("inproc://draft-monitor").unwrap();
        assert_eq!(zmq_socket_monitor_pipes_stats(s), -1);
        assert_eq!(zmq_errno(), libc::EINVAL, "no monitor asks for PIPES_STATS");
        // Version 1 cannot carry PIPES_STATS; an unknown publisher type fails.
        assert_eq!(
            zmq_socket_monitor_versioned(s, ep.as_ptr(), 0x1_0000, 1, kind::PAIR),
            -1
        );
        assert_eq!(
            zmq_socket_monitor_versioned(s, ep.as_ptr(), 0xFFFF, 2, kind::REQ),
            -1
        );
        assert_eq!(zmq_errno(), libc::EINVAL);
        assert_eq!(
            zmq_socket_monitor_versioned(s, ep.as_ptr(), 0x1_FFFF, 2, kind::PULL),
            -1
        );
        assert_eq!(
            zmq_socket_monitor_versioned(s, ep.as_ptr(), 0x1_FFFF, 2, kind::PUSH),
            0
        );
        let r = zmq_socket(ctx, kind::PULL);
        let timeout: c_int = 2000;
        zmq_setsockopt(
            r,
            crate::options::id::RCVTIMEO,
            (&timeout as *const c_int).cast(),
            4,
        );
        assert_eq!(zmq_connect(r, ep.as_ptr()), 0);
        assert_eq!(zmq_socket_monitor_pipes_stats(s), -1);
        assert_eq!(zmq_errno(), libc::EAGAIN, "no pipes yet");
        let tcp = CString::new("tcp://127.0.0.1:*").unwrap();
        assert_eq!(zmq_bind(s, tcp.as_ptr()), 0);
        let mut buf = [0u8; 64];
        let mut frame = || zmq_recv(r, buf.as_mut_ptr().cast(), buf.len(), 0);
        assert_eq!(frame(), 8); // event number
        assert_eq!(frame(), 8); // value count
        assert_eq!(frame(), 8); // the listener's descriptor
        assert!(frame() > 6); // local endpoint
        assert_eq!(frame(), 0); // no remote endpoint
        assert_eq!(zmq_close(s), 0);
        assert_eq!(zmq_close(r), 0);
        assert_eq!(zmq_ctx_term(ctx), 0);
    }
}
