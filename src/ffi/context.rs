//! Contexts: `zmq_ctx_*` and the legacy `zmq_init`/`zmq_term`.

use std::ffi::{c_int, c_void};
use std::ptr;

use super::guard;
use super::handle::{context, CONTEXTS};
use crate::ctx::{opt, Ctx};
use crate::error::Error;

#[no_mangle]
pub extern "C" fn zmq_ctx_new() -> *mut c_void {
    guard(ptr::null_mut(), || Ok(CONTEXTS.insert(Ctx::new())))
}

/// Waits until every socket of the context is closed, then retires the
/// handle: later calls with it fail with `EFAULT`.
#[no_mangle]
pub extern "C" fn zmq_ctx_term(context_: *mut c_void) -> c_int {
    guard(-1, || {
        let ctx = context(context_)?;
        ctx.terminate();
        // A concurrent zmq_ctx_term may have retired it first; both succeed.
        CONTEXTS.remove(context_);
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn zmq_ctx_shutdown(context_: *mut c_void) -> c_int {
    guard(-1, || {
        context(context_)?.shutdown();
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn zmq_ctx_set(context_: *mut c_void, option_: c_int, optval_: c_int) -> c_int {
    guard(-1, || {
        context(context_)?.set(option_, optval_)?;
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn zmq_ctx_get(context_: *mut c_void, option_: c_int) -> c_int {
    guard(-1, || context(context_)?.get(option_))
}

#[no_mangle]
pub extern "C" fn zmq_init(io_threads_: c_int) -> *mut c_void {
    guard(ptr::null_mut(), || {
        if io_threads_ < 0 {
            return Err(Error::Inval);
        }
        let ctx = Ctx::new();
        ctx.set(opt::IO_THREADS, io_threads_)?;
        Ok(CONTEXTS.insert(ctx))
    })
}

#[no_mangle]
pub extern "C" fn zmq_term(context_: *mut c_void) -> c_int {
    zmq_ctx_term(context_)
}

#[no_mangle]
pub extern "C" fn zmq_ctx_destroy(context_: *mut c_void) -> c_int {
    zmq_ctx_term(context_)
}
