//! Sockets: creation, options, endpoints, and sending and receiving
//! (buffers, messages and scatter/gather vectors).

use std::ffi::{c_char, c_int, c_void};
use std::ptr;

use super::handle::{context, socket_ref, SOCKETS};
use super::message::{buffer_ok, caller_bytes, caller_bytes_mut, msg_mut, open_msg_mut, zmq_msg_t};
use super::{c_str, guard};
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::socket::{Socket, SNDMORE};

/// libzmq reports sizes as `int`, saturating at `INT_MAX`.
fn clip(size: usize) -> c_int {
    size.min(c_int::MAX as usize) as c_int
}

#[no_mangle]
pub extern "C" fn zmq_socket(context_: *mut c_void, type_: c_int) -> *mut c_void {
    guard(ptr::null_mut(), || {
        let ctx = context(context_)?;
        let s = ctx.socket(type_)?;
        Ok(SOCKETS.insert(s))
    })
}

/// Retires the handle first, so a second close (or any later call) with it
/// fails with `ENOTSOCK`, then closes the socket.
#[no_mangle]
pub extern "C" fn zmq_close(s_: *mut c_void) -> c_int {
    guard(-1, || {
        let s = SOCKETS.remove(s_).ok_or(Error::NotSock)?;
        super::handle::forget_socket(s_);
        s.close();
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn zmq_setsockopt(
    s_: *mut c_void,
    option_: c_int,
    optval_: *const c_void,
    optvallen_: usize,
) -> c_int {
    guard(-1, || {
        let s = socket_ref(s_)?;
        // libzmq tells NULL from an empty buffer: for some string options
        // NULL clears the value where "" is refused.
        let value = if optval_.is_null() && optvallen_ == 0 {
            None
        } else {
            // SAFETY: readable for optvallen_ bytes by the caller's contract.
            Some(unsafe { caller_bytes(optval_, optvallen_) }?)
        };
        s.set_option_or_clear(option_, value)?;
        Ok(0)
    })
}

/// `*optvallen_` is the buffer's size on entry and the value's on return.
#[no_mangle]
pub extern "C" fn zmq_getsockopt(
    s_: *mut c_void,
    option_: c_int,
    optval_: *mut c_void,
    optvallen_: *mut usize,
) -> c_int {
    guard(-1, || {
        let s = socket_ref(s_)?;
        if optvallen_.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: non-NULL, and a size_t by the caller's contract.
        let len = unsafe { *optvallen_ };
        // SAFETY: writable for len bytes by the caller's contract.
        let out = unsafe { caller_bytes_mut(optval_, len) }?;
        let written = s.get_option(option_, out)?;
        // SAFETY: checked non-NULL above.
        unsafe { *optvallen_ = written };
        Ok(0)
    })
}

/// Shared by the four endpoint calls: the socket, then the endpoint.
fn with_endpoint(
    s_: *mut c_void,
    addr_: *const c_char,
    f: impl FnOnce(&Socket, &str) -> Result<()>,
) -> c_int {
    guard(-1, || {
        let s = socket_ref(s_)?;
        // SAFETY: a NUL-terminated string (or NULL, refused with EINVAL).
        let addr = unsafe { c_str(addr_)? };
        f(&s, addr)?;
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn zmq_bind(s_: *mut c_void, addr_: *const c_char) -> c_int {
    with_endpoint(s_, addr_, Socket::bind)
}

#[no_mangle]
pub extern "C" fn zmq_connect(s_: *mut c_void, addr_: *const c_char) -> c_int {
    with_endpoint(s_, addr_, Socket::connect)
}

/// Connects a PEER socket and returns the routing id of the new peer's
/// pipe, or 0 with errno set (`ENOTSUP` for another type, `EFAULT` with
/// `ZMQ_IMMEDIATE`).
#[cfg(feature = "draft")]
#[no_mangle]
pub extern "C" fn zmq_connect_peer(s_: *mut c_void, addr_: *const c_char) -> u32 {
    guard(0, || {
        let s = socket_ref(s_)?;
        // SAFETY: a NUL-terminated string (or NULL, refused with EINVAL).
        let addr = unsafe { c_str(addr_)? };
        s.connect_peer(addr)
    })
}

#[no_mangle]
pub extern "C" fn zmq_unbind(s_: *mut c_void, addr_: *const c_char) -> c_int {
    with_endpoint(s_, addr_, Socket::unbind)
}

#[no_mangle]
pub extern "C" fn zmq_disconnect(s_: *mut c_void, addr_: *const c_char) -> c_int {
    with_endpoint(s_, addr_, Socket::disconnect)
}

/// Sends `msg`; returns its size. On success `msg` is left empty.
fn send_msg(s: &Socket, msg: &mut Msg, flags: c_int) -> Result<c_int> {
    let size = msg.len();
    s.send(msg, flags)?;
    Ok(clip(size))
}

#[no_mangle]
pub extern "C" fn zmq_send(
    s_: *mut c_void,
    buf_: *const c_void,
    len_: usize,
    flags_: c_int,
) -> c_int {
    guard(-1, || {
        let s = socket_ref(s_)?;
        // SAFETY: readable for len_ bytes by the caller's contract.
        let data = unsafe { caller_bytes(buf_, len_) }?;
        send_msg(&s, &mut Msg::from_slice(data), flags_)
    })
}

/// Sends the caller's buffer without copying it; libzmq's contract is that
/// it stays valid and unchanged for as long as the message may live.
#[no_mangle]
pub extern "C" fn zmq_send_const(
    s_: *mut c_void,
    buf_: *const c_void,
    len_: usize,
    flags_: c_int,
) -> c_int {
    guard(-1, || {
        let s = socket_ref(s_)?;
        buffer_ok(buf_, len_)?;
        // SAFETY: the caller promises buf_ outlives the message; no free
        // function, so we never release it.
        let mut msg = unsafe { Msg::from_user(buf_ as *mut u8, len_, None, ptr::null_mut()) };
        send_msg(&s, &mut msg, flags_)
    })
}

/// Copies at most `len_` bytes into `buf_` and returns the frame's full
/// size, so a caller can tell it was truncated.
#[no_mangle]
pub extern "C" fn zmq_recv(
    s_: *mut c_void,
    buf_: *mut c_void,
    len_: usize,
    flags_: c_int,
) -> c_int {
    guard(-1, || {
        let s = socket_ref(s_)?;
        buffer_ok(buf_, len_)?;
        let msg = s.recv(flags_)?;
        let data = msg.data();
        let n = data.len().min(len_);
        if n > 0 {
            // SAFETY: buf_ is non-NULL (len_ > 0) and writable for len_ >= n
            // bytes; the message's bytes are a separate allocation.
            unsafe { ptr::copy_nonoverlapping(data.as_ptr(), buf_ as *mut u8, n) };
        }
        Ok(clip(data.len()))
    })
}

#[no_mangle]
pub extern "C" fn zmq_msg_send(msg_: *mut zmq_msg_t, s_: *mut c_void, flags_: c_int) -> c_int {
    guard(-1, || {
        let s = socket_ref(s_)?;
        // SAFETY: an initialised message (or NULL).
        let msg = unsafe { open_msg_mut(msg_)? };
        send_msg(&s, msg, flags_)
    })
}

#[no_mangle]
pub extern "C" fn zmq_msg_recv(msg_: *mut zmq_msg_t, s_: *mut c_void, flags_: c_int) -> c_int {
    guard(-1, || {
        let s = socket_ref(s_)?;
        // SAFETY: an initialised message (or NULL). libzmq accepts a
        // closed one here too and reinitialises it.
        let msg = unsafe { msg_mut(msg_)? };
        s.recv_into(flags_, msg)?;
        Ok(clip(msg.len()))
    })
}

#[no_mangle]
pub extern "C" fn zmq_sendmsg(s_: *mut c_void, msg_: *mut zmq_msg_t, flags_: c_int) -> c_int {
    zmq_msg_send(msg_, s_, flags_)
}

#[no_mangle]
pub extern "C" fn zmq_recvmsg(s_: *mut c_void, msg_: *mut zmq_msg_t, flags_: c_int) -> c_int {
    zmq_msg_recv(msg_, s_, flags_)
}

/// Sends each vector as a frame, with the caller's flags on all but the
/// last, which never carries `ZMQ_SNDMORE` (libzmq's behaviour: pass
/// `ZMQ_SNDMORE` to make the vectors one multipart message). Returns the
/// last frame's size.
#[no_mangle]
pub extern "C" fn zmq_sendiov(
    s_: *mut c_void,
    iov_: *mut libc::iovec,
    count_: usize,
    flags_: c_int,
) -> c_int {
    guard(-1, || {
        let s = socket_ref(s_)?;
        if iov_.is_null() || count_ == 0 {
            return Err(Error::Inval);
        }
        // SAFETY: non-NULL and count_ entries long by the caller's contract.
        let iov = unsafe { std::slice::from_raw_parts(iov_, count_) };
        let mut rc = 0;
        for (i, v) in iov.iter().enumerate() {
            // SAFETY: each iovec is readable for iov_len bytes (contract).
            let data = unsafe { caller_bytes(v.iov_base, v.iov_len) }?;
            let flags = if i + 1 == count_ {
                flags_ & !SNDMORE
            } else {
                flags_
            };
            rc = send_msg(&s, &mut Msg::from_slice(data), flags)?;
        }
        Ok(rc)
    })
}

/// Receives up to `*count_` frames of one message, each into a buffer
/// from `malloc` that the caller frees; `*count_` becomes the number of
/// frames received, which is also returned.
#[no_mangle]
pub extern "C" fn zmq_recviov(
    s_: *mut c_void,
    iov_: *mut libc::iovec,
    count_: *mut usize,
    flags_: c_int,
) -> c_int {
    guard(-1, || {
        let s = socket_ref(s_)?;
        if count_.is_null() || iov_.is_null() {
            return Err(Error::Inval);
        }
        // SAFETY: non-NULL; a size_t by the caller's contract.
        let count = unsafe { *count_ };
        if count == 0 {
            return Err(Error::Inval);
        }
        // SAFETY: non-NULL and count entries long by the caller's contract.
        let iov = unsafe { std::slice::from_raw_parts_mut(iov_, count) };
        // SAFETY: checked non-NULL above.
        unsafe { *count_ = 0 };
        let mut read = 0;
        for v in iov.iter_mut() {
            let msg = s.recv(flags_)?;
            let data = msg.data();
            // SAFETY: plain malloc; at least 1 byte so NULL means failure.
            let buf = unsafe { libc::malloc(data.len().max(1)) } as *mut u8;
            if buf.is_null() {
                return Err(Error::NoMem);
            }
            // SAFETY: buf is a fresh allocation of at least data.len() bytes.
            unsafe { ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len()) };
            v.iov_base = buf as *mut c_void;
            v.iov_len = data.len();
            read += 1;
            // SAFETY: checked non-NULL above.
            unsafe { *count_ = read };
            if !msg.more() {
                break;
            }
        }
        Ok(clip(read))
    })
}
