//! Everything else zmq.h offers: errors, version, capabilities, Z85,
//! CURVE keys, atomic counters, the stopwatch, sleeping and threads.

use std::ffi::{c_char, c_int, c_ulong, c_void, CStr};
use std::ptr;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::{Duration, Instant};

use super::constants::*;
use super::{get_errno, guard};
use crate::error::{Error, Result};
use crate::options::z85;
use crate::zmtp::curve;
use zeroize::Zeroizing;

#[no_mangle]
pub extern "C" fn zmq_errno() -> c_int {
    get_errno()
}

/// A static description of `errnum_`: ours for the codes libzmq defines
/// (and for EHOSTUNREACH, which libzmq words its own way), the C
/// library's for the rest. The fallback numbers zmq.h gives platforms
/// lacking an errno are never used on Linux; like libzmq, they get the C
/// library's "Unknown error".
#[no_mangle]
pub extern "C" fn zmq_strerror(errnum_: c_int) -> *const c_char {
    let ours: Option<&'static CStr> = match errnum_ {
        EFSM => Some(c"Operation cannot be accomplished in the socket's current state"),
        ENOCOMPATPROTO => Some(c"The protocol is not compatible with the socket type"),
        ETERM => Some(c"Context was terminated"),
        EMTHREAD => Some(c"No I/O thread is available"),
        libc::EHOSTUNREACH => Some(c"Host unreachable"),
        _ => None,
    };
    match ours {
        Some(s) => s.as_ptr(),
        // SAFETY: strerror accepts any number and returns a C string.
        None => unsafe { libc::strerror(errnum_) },
    }
}

#[no_mangle]
pub extern "C" fn zmq_version(major_: *mut c_int, minor_: *mut c_int, patch_: *mut c_int) {
    for (p, v) in [
        (major_, ZMQ_VERSION_MAJOR),
        (minor_, ZMQ_VERSION_MINOR),
        (patch_, ZMQ_VERSION_PATCH),
    ] {
        if !p.is_null() {
            // SAFETY: non-NULL, an int the caller gave us to fill.
            unsafe { *p = v };
        }
    }
}

/// The capabilities `zmq_has` reports: ipc, curve, and the draft API when
/// built with it. As in libzmq, "tcp" and "inproc", always there, are not names
/// it knows.
#[no_mangle]
pub extern "C" fn zmq_has(capability_: *const c_char) -> c_int {
    guard(0, || {
        // SAFETY: a NUL-terminated string (or NULL, which has nothing).
        let cap = unsafe { super::c_str(capability_) }.unwrap_or("");
        Ok(match cap {
            "draft" => cfg!(feature = "draft") as c_int,
            "ipc" | "curve" => 1,
            // "tipc", "pgm", "norm", "vmci", "gssapi", "ws", "wss": not
            // offered.
            _ => 0,
        })
    })
}

/// Writes `size_ * 5 / 4` characters and a NUL into `dest_`; `size_` must
/// be a multiple of 4.
#[no_mangle]
pub extern "C" fn zmq_z85_encode(
    dest_: *mut c_char,
    data_: *const u8,
    size_: usize,
) -> *mut c_char {
    guard(ptr::null_mut(), || {
        if !size_.is_multiple_of(4) {
            return Err(Error::Inval);
        }
        if dest_.is_null() || (data_.is_null() && size_ > 0) {
            return Err(Error::Fault);
        }
        let data: &[u8] = if size_ == 0 {
            &[]
        } else {
            // SAFETY: non-NULL and readable for size_ bytes.
            unsafe { std::slice::from_raw_parts(data_, size_) }
        };
        let text = z85::encode(data)?;
        // SAFETY: the caller provides size_ * 5 / 4 + 1 bytes at dest_,
        // which is text.len() + 1.
        let out = unsafe { std::slice::from_raw_parts_mut(dest_ as *mut u8, text.len() + 1) };
        out[..text.len()].copy_from_slice(&text);
        out[text.len()] = 0;
        Ok(dest_)
    })
}

/// Writes `strlen(string_) * 4 / 5` bytes into `dest_`; the length must
/// be a non-zero multiple of 5 and every character in the alphabet.
#[no_mangle]
pub extern "C" fn zmq_z85_decode(dest_: *mut u8, string_: *const c_char) -> *mut u8 {
    guard(ptr::null_mut(), || {
        if string_.is_null() || dest_.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: non-NULL and NUL-terminated by the caller's contract.
        let s = unsafe { CStr::from_ptr(string_) }.to_bytes();
        let bytes = z85::decode(s)?;
        // SAFETY: the caller provides strlen * 4 / 5 bytes at dest_, which
        // is bytes.len().
        let out = unsafe { std::slice::from_raw_parts_mut(dest_, bytes.len()) };
        out.copy_from_slice(&bytes);
        Ok(dest_)
    })
}

/// Writes a new CURVE key pair as 40 Z85 characters and a NUL each (41
/// bytes at each pointer). The secret is random from the system's
/// generator; intermediate copies are zeroed.
#[no_mangle]
pub extern "C" fn zmq_curve_keypair(
    z85_public_key_: *mut c_char,
    z85_secret_key_: *mut c_char,
) -> c_int {
    guard(-1, || {
        if z85_public_key_.is_null() || z85_secret_key_.is_null() {
            return Err(Error::Fault);
        }
        let (secret, public) = curve::keypair().map_err(|_| Error::NotSup)?;
        let secret = Zeroizing::new(secret.to_bytes());
        let public_text = z85::encode(&public)?;
        let secret_text = Zeroizing::new(z85::encode(&secret[..])?);
        // SAFETY: the caller provides 41 bytes at each pointer (zmq.h's
        // contract for zmq_curve_keypair).
        unsafe {
            write_c_string(z85_public_key_, &public_text);
            write_c_string(z85_secret_key_, &secret_text);
        }
        Ok(0)
    })
}

/// Writes the public key of a Z85 secret key (40 characters + NUL). Like
/// libzmq, any valid Z85 text is taken (a shorter key is padded with
/// zeros); unlike libzmq, text decoding to more than 32 bytes is refused
/// (EINVAL) instead of overflowing.
#[no_mangle]
pub extern "C" fn zmq_curve_public(
    z85_public_key_: *mut c_char,
    z85_secret_key_: *const c_char,
) -> c_int {
    guard(-1, || {
        if z85_public_key_.is_null() || z85_secret_key_.is_null() {
            return Err(Error::Fault);
        }
        // SAFETY: non-NULL and NUL-terminated by the caller's contract.
        let text = unsafe { CStr::from_ptr(z85_secret_key_) }.to_bytes();
        let decoded = Zeroizing::new(z85::decode(text)?);
        if decoded.len() > 32 {
            return Err(Error::Inval);
        }
        let mut secret = Zeroizing::new([0u8; 32]);
        secret[..decoded.len()].copy_from_slice(&decoded);
        let public_text = z85::encode(&curve::public_key(&secret))?;
        // SAFETY: the caller provides 41 bytes at z85_public_key_.
        unsafe { write_c_string(z85_public_key_, &public_text) };
        Ok(0)
    })
}

/// Copies `text` and a NUL to `dest`.
///
/// # Safety
/// `dest` must be writable for `text.len() + 1` bytes.
unsafe fn write_c_string(dest: *mut c_char, text: &[u8]) {
    // SAFETY: the caller vouches for text.len() + 1 writable bytes.
    let out = unsafe { std::slice::from_raw_parts_mut(dest as *mut u8, text.len() + 1) };
    out[..text.len()].copy_from_slice(text);
    out[text.len()] = 0;
}

fn counter<'a>(p: *mut c_void) -> Result<&'a AtomicI32> {
    if p.is_null() {
        return Err(Error::Fault);
    }
    // SAFETY: a pointer from zmq_atomic_counter_new, not yet destroyed.
    Ok(unsafe { &*(p as *const AtomicI32) })
}

#[no_mangle]
pub extern "C" fn zmq_atomic_counter_new() -> *mut c_void {
    Box::into_raw(Box::new(AtomicI32::new(0))) as *mut c_void
}

#[no_mangle]
pub extern "C" fn zmq_atomic_counter_set(counter_: *mut c_void, value_: c_int) {
    if let Ok(c) = counter(counter_) {
        c.store(value_, Ordering::SeqCst);
    }
}

/// Returns the value before the increment.
#[no_mangle]
pub extern "C" fn zmq_atomic_counter_inc(counter_: *mut c_void) -> c_int {
    guard(-1, || Ok(counter(counter_)?.fetch_add(1, Ordering::SeqCst)))
}

/// Returns 1 while the counter is still non-zero after the decrement,
/// 0 once it reaches zero.
#[no_mangle]
pub extern "C" fn zmq_atomic_counter_dec(counter_: *mut c_void) -> c_int {
    guard(-1, || {
        let before = counter(counter_)?.fetch_sub(1, Ordering::SeqCst);
        Ok((before.wrapping_sub(1) != 0) as c_int)
    })
}

#[no_mangle]
pub extern "C" fn zmq_atomic_counter_value(counter_: *mut c_void) -> c_int {
    guard(-1, || Ok(counter(counter_)?.load(Ordering::SeqCst)))
}

#[no_mangle]
pub extern "C" fn zmq_atomic_counter_destroy(counter_p_: *mut *mut c_void) {
    if counter_p_.is_null() {
        return;
    }
    // SAFETY: non-NULL, pointing to the caller's handle variable.
    let p = unsafe { *counter_p_ };
    if !p.is_null() {
        // SAFETY: p came from Box::into_raw in zmq_atomic_counter_new.
        drop(unsafe { Box::from_raw(p as *mut AtomicI32) });
        // SAFETY: as above.
        unsafe { *counter_p_ = ptr::null_mut() };
    }
}

#[no_mangle]
pub extern "C" fn zmq_stopwatch_start() -> *mut c_void {
    Box::into_raw(Box::new(Instant::now())) as *mut c_void
}

fn micros_since(watch: *mut c_void) -> c_ulong {
    if watch.is_null() {
        return 0;
    }
    // SAFETY: a pointer from zmq_stopwatch_start, not yet stopped.
    let start = unsafe { &*(watch as *const Instant) };
    start.elapsed().as_micros().min(c_ulong::MAX as u128) as c_ulong
}

/// Microseconds since the start; the watch keeps running.
#[no_mangle]
pub extern "C" fn zmq_stopwatch_intermediate(watch_: *mut c_void) -> c_ulong {
    micros_since(watch_)
}

/// Microseconds since the start; the watch is freed.
#[no_mangle]
pub extern "C" fn zmq_stopwatch_stop(watch_: *mut c_void) -> c_ulong {
    let us = micros_since(watch_);
    if !watch_.is_null() {
        // SAFETY: from Box::into_raw in zmq_stopwatch_start, freed once.
        drop(unsafe { Box::from_raw(watch_ as *mut Instant) });
    }
    us
}

#[no_mangle]
pub extern "C" fn zmq_sleep(seconds_: c_int) {
    std::thread::sleep(Duration::from_secs(seconds_.max(0) as u64));
}

/// Stands for C's function type `zmq_thread_fn` (declared in cbindgen.toml).
#[repr(C)]
pub struct zmq_thread_fn {
    _opaque: [u8; 0],
}

type ThreadFn = unsafe extern "C" fn(arg: *mut c_void);

/// The C function and its argument, moved to the new thread.
struct ThreadStart(ThreadFn, *mut c_void);
// SAFETY: handing the argument to another thread is what the caller asked
// for with zmq_threadstart; we never touch what it points to.
unsafe impl Send for ThreadStart {}

#[no_mangle]
pub extern "C" fn zmq_threadstart(func_: *mut zmq_thread_fn, arg_: *mut c_void) -> *mut c_void {
    guard(ptr::null_mut(), || {
        if func_.is_null() {
            return Err(Error::Inval);
        }
        // SAFETY: C passed a pointer to a function of type zmq_thread_fn;
        // code and data pointers have the same size on our targets.
        let f = unsafe { std::mem::transmute::<*mut zmq_thread_fn, ThreadFn>(func_) };
        let start = ThreadStart(f, arg_);
        let handle = std::thread::Builder::new()
            .spawn(move || {
                let start = start;
                // SAFETY: the caller's thread function with its argument.
                unsafe { (start.0)(start.1) }
            })
            .map_err(|_| Error::MThread)?;
        Ok(Box::into_raw(Box::new(handle)) as *mut c_void)
    })
}

/// Waits for the thread to finish, then frees its handle.
#[no_mangle]
pub extern "C" fn zmq_threadclose(thread_: *mut c_void) {
    if thread_.is_null() {
        return;
    }
    // SAFETY: from Box::into_raw in zmq_threadstart, closed once.
    let handle = unsafe { Box::from_raw(thread_ as *mut std::thread::JoinHandle<()>) };
    let _ = handle.join();
}
