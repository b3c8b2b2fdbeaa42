//! `zmq_proxy`, `zmq_proxy_steerable` and the older `zmq_device`.

use std::ffi::{c_int, c_void};

use super::guard;
use super::handle::socket;
use crate::error::{Error, Result};

/// libzmq refuses a missing frontend or backend with `EFAULT` before
/// looking at the handles (which then give `ENOTSOCK`).
fn check_pair(frontend_: *mut c_void, backend_: *mut c_void) -> Result<()> {
    if frontend_.is_null() || backend_.is_null() {
        return Err(Error::Fault);
    }
    Ok(())
}

/// Runs the core proxy: -1 with an errno (`ETERM` when the context ends),
/// or 0 after TERMINATE on the control socket, as libzmq's.
fn run(
    frontend_: *mut c_void,
    backend_: *mut c_void,
    capture_: *mut c_void,
    control_: *mut c_void,
) -> Result<c_int> {
    check_pair(frontend_, backend_)?;
    let frontend = socket(frontend_)?;
    let backend = socket(backend_)?;
    let optional = |h: *mut c_void| -> Result<Option<_>> {
        if h.is_null() {
            Ok(None)
        } else {
            socket(h).map(Some)
        }
    };
    let capture = optional(capture_)?;
    let control = optional(control_)?;
    crate::proxy::proxy(&frontend, &backend, capture.as_deref(), control.as_deref())?;
    Ok(0)
}

#[no_mangle]
pub extern "C" fn zmq_proxy(
    frontend_: *mut c_void,
    backend_: *mut c_void,
    capture_: *mut c_void,
) -> c_int {
    guard(-1, || {
        run(frontend_, backend_, capture_, std::ptr::null_mut())
    })
}

#[no_mangle]
pub extern "C" fn zmq_proxy_steerable(
    frontend_: *mut c_void,
    backend_: *mut c_void,
    capture_: *mut c_void,
    control_: *mut c_void,
) -> c_int {
    guard(-1, || run(frontend_, backend_, capture_, control_))
}

/// The device kind (`ZMQ_STREAMER`, `ZMQ_FORWARDER`, `ZMQ_QUEUE`) never
/// mattered: every kind forwards both ways.
#[no_mangle]
pub extern "C" fn zmq_device(type_: c_int, frontend_: *mut c_void, backend_: *mut c_void) -> c_int {
    let _ = type_;
    guard(-1, || {
        run(
            frontend_,
            backend_,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    })
}
