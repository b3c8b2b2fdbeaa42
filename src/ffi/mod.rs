//! The C API: every `extern "C"` function of `libzmq.so.5`, and the only
//! place with raw pointers and errno.
//!
//! Each exported function is a plain `#[no_mangle] pub extern "C" fn` (so
//! cbindgen can read it) whose body runs inside [`guard`]: a panic never
//! unwinds into C, and a `crate::Error` becomes `-1`/`NULL` plus errno.
//! Context and socket handles are checked against a registry
//! ([`handle`]), so a NULL, stale or garbage pointer is refused with an
//! errno instead of being dereferenced.

// The C names (zmq_msg_t, zmq_fd_t, ...) are the API.
#![allow(non_camel_case_types)]
// These functions are for C, whose callers the pointer contracts of zmq.h
// bind; marking them `unsafe` would only matter to Rust callers, and every
// dereference still sits in an `unsafe` block with its reason.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod constants;
pub mod context;
mod handle;
pub mod message;
pub mod monitor;
pub mod poll;
#[cfg(feature = "draft")]
pub mod poller;
pub mod proxy;
pub mod socket;
pub(crate) mod sys;
pub mod timers;
pub mod utilities;

use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, Result};

/// Sets C's `errno` for the calling thread, which `zmq_errno` also reads.
pub(crate) fn set_errno(code: c_int) {
    // SAFETY: __errno_location always returns this thread's errno slot.
    unsafe { *libc::__errno_location() = code };
}

pub(crate) fn get_errno() -> c_int {
    // SAFETY: as in set_errno.
    unsafe { *libc::__errno_location() }
}

/// Runs one C entry point: returns `f`'s value, or `failed` with errno set
/// when `f` returns an error or panics. A panic is a bug of ours; the
/// caller sees `EFAULT` rather than an abort of its process.
pub(crate) fn guard<T>(failed: T, f: impl FnOnce() -> Result<T>) -> T {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(v)) => v,
        Ok(Err(e)) => {
            set_errno(e.errno());
            failed
        }
        Err(_) => {
            set_errno(libc::EFAULT);
            failed
        }
    }
}

/// Reads a C string argument (an endpoint, a property name): NULL or
/// invalid UTF-8 is `EINVAL`, as libzmq refuses unparsable endpoints.
///
/// # Safety
/// `s` is NULL or points to a NUL-terminated string.
pub(crate) unsafe fn c_str<'a>(s: *const c_char) -> Result<&'a str> {
    if s.is_null() {
        return Err(Error::Inval);
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .map_err(|_| Error::Inval)
}
