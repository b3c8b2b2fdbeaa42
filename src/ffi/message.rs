//! Messages: `zmq_msg_*` on the caller's `zmq_msg_t`, which holds a
//! [`Msg`] in place. (Sending and receiving them is in `socket.rs`.)

use std::collections::HashSet;
use std::ffi::{c_char, c_int, c_void, CString};
use std::ptr;
use std::sync::LazyLock;

use parking_lot::Mutex;

use super::{c_str, guard};
use crate::error::{Error, Result};
use crate::msg::{FreeFn, Msg};

use super::constants::{ZMQ_MORE, ZMQ_SHARED, ZMQ_SRCFD};

/// The caller's storage for one message: 64 bytes, pointer-aligned, as in
/// libzmq. The C declaration is written in cbindgen.toml, since C's
/// `aligned(sizeof (void *))` has no cbindgen spelling.
#[repr(C)]
#[cfg_attr(target_pointer_width = "64", repr(align(8)))]
#[cfg_attr(target_pointer_width = "32", repr(align(4)))]
pub struct zmq_msg_t {
    pub bytes: [u8; 64],
}

const _: () = assert!(std::mem::size_of::<zmq_msg_t>() == 64);
const _: () = assert!(std::mem::align_of::<zmq_msg_t>() == std::mem::size_of::<usize>());
const _: () = assert!(std::mem::size_of::<Msg>() <= 64);
const _: () = assert!(std::mem::align_of::<Msg>() <= std::mem::align_of::<zmq_msg_t>());

/// Stands for C's function type `zmq_free_fn` (declared in cbindgen.toml):
/// C passes a `zmq_free_fn *`, which we turn back into a function pointer.
#[repr(C)]
pub struct zmq_free_fn {
    _opaque: [u8; 0],
}

/// The message inside a `zmq_msg_t`; NULL is `EFAULT`.
///
/// # Safety
/// `msg` is NULL or a `zmq_msg_t` initialised by one of our `zmq_msg_init*`.
pub(crate) unsafe fn msg_mut<'a>(msg: *mut zmq_msg_t) -> Result<&'a mut Msg> {
    if msg.is_null() {
        return Err(Error::Fault);
    }
    // SAFETY: the caller's contract: an initialised zmq_msg_t holds a Msg,
    // and the static asserts above make it fit with its alignment.
    Ok(unsafe { &mut *(msg as *mut Msg) })
}

/// Like [`msg_mut`], and a closed message is `EFAULT` too.
///
/// # Safety
/// As for [`msg_mut`].
pub(crate) unsafe fn open_msg_mut<'a>(msg: *mut zmq_msg_t) -> Result<&'a mut Msg> {
    // SAFETY: forwarded contract.
    let m = unsafe { msg_mut(msg)? };
    if m.is_closed() {
        return Err(Error::Fault);
    }
    Ok(m)
}

/// Stores `value` in a `zmq_msg_t` without reading what was there (the
/// `zmq_msg_init*` functions take uninitialised storage).
///
/// # Safety
/// `msg` is non-NULL and points to writable storage for a `zmq_msg_t`.
pub(crate) unsafe fn msg_write(msg: *mut zmq_msg_t, value: Msg) {
    // SAFETY: the caller's contract; the storage fits a Msg (asserts above).
    unsafe { ptr::write(msg as *mut Msg, value) };
}

fn non_null(msg: *const zmq_msg_t) -> Result<()> {
    if msg.is_null() {
        Err(Error::Fault)
    } else {
        Ok(())
    }
}

#[no_mangle]
pub extern "C" fn zmq_msg_init(msg_: *mut zmq_msg_t) -> c_int {
    guard(-1, || {
        non_null(msg_)?;
        // SAFETY: non-NULL storage supplied by the caller for a message.
        unsafe { msg_write(msg_, Msg::new()) };
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn zmq_msg_init_size(msg_: *mut zmq_msg_t, size_: usize) -> c_int {
    guard(-1, || {
        non_null(msg_)?;
        let m = Msg::try_with_size(size_).ok_or(Error::NoMem)?;
        // SAFETY: non-NULL storage supplied by the caller for a message.
        unsafe { msg_write(msg_, m) };
        Ok(0)
    })
}

/// Takes the caller's buffer without copying; `ffn_` (if not NULL) is
/// called exactly once, when the last copy of the message goes.
#[no_mangle]
pub extern "C" fn zmq_msg_init_data(
    msg_: *mut zmq_msg_t,
    data_: *mut c_void,
    size_: usize,
    ffn_: *mut zmq_free_fn,
    hint_: *mut c_void,
) -> c_int {
    guard(-1, || {
        non_null(msg_)?;
        // libzmq asserts here; a NULL buffer claiming bytes is refused.
        if data_.is_null() && size_ != 0 {
            return Err(Error::Fault);
        }
        let free: Option<FreeFn> = if ffn_.is_null() {
            None
        } else {
            // SAFETY: C passed a pointer to a function of type zmq_free_fn;
            // code and data pointers have the same size on our targets.
            Some(unsafe { std::mem::transmute::<*mut zmq_free_fn, FreeFn>(ffn_) })
        };
        // SAFETY: the caller keeps data_ valid for size_ bytes until ffn_
        // runs (libzmq's contract); msg_ is non-NULL storage.
        unsafe {
            let m = Msg::from_user(data_ as *mut u8, size_, free, hint_);
            msg_write(msg_, m);
        }
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn zmq_msg_close(msg_: *mut zmq_msg_t) -> c_int {
    guard(-1, || {
        // SAFETY: the caller passes an initialised message (or NULL).
        let m = unsafe { open_msg_mut(msg_)? };
        *m = Msg::closed();
        Ok(0)
    })
}

/// Moves `src_` into `dest_` (whose old content is released); `src_` is
/// left empty.
#[no_mangle]
pub extern "C" fn zmq_msg_move(dest_: *mut zmq_msg_t, src_: *mut zmq_msg_t) -> c_int {
    guard(-1, || {
        if dest_ == src_ {
            // SAFETY: as below, for the single message.
            unsafe { open_msg_mut(src_)? };
            return Ok(0);
        }
        // SAFETY: both initialised messages (or NULL), and distinct.
        let (dest, src) = unsafe { (open_msg_mut(dest_)?, open_msg_mut(src_)?) };
        *dest = src.take();
        Ok(0)
    })
}

/// Makes `dest_` share `src_`'s payload: no bytes are copied.
#[no_mangle]
pub extern "C" fn zmq_msg_copy(dest_: *mut zmq_msg_t, src_: *mut zmq_msg_t) -> c_int {
    guard(-1, || {
        if dest_ == src_ {
            // SAFETY: as below, for the single message.
            unsafe { open_msg_mut(src_)? };
            return Ok(0);
        }
        // SAFETY: both initialised messages (or NULL), and distinct.
        let (dest, src) = unsafe { (open_msg_mut(dest_)?, open_msg_mut(src_)?) };
        *dest = src.share();
        Ok(0)
    })
}

#[no_mangle]
pub extern "C" fn zmq_msg_data(msg_: *mut zmq_msg_t) -> *mut c_void {
    guard(ptr::null_mut(), || {
        // SAFETY: an initialised message (or NULL).
        let m = unsafe { open_msg_mut(msg_)? };
        Ok(m.data_ptr() as *mut c_void)
    })
}

/// A NULL or closed message reads as empty (libzmq asserts).
#[no_mangle]
pub extern "C" fn zmq_msg_size(msg_: *const zmq_msg_t) -> usize {
    guard(0, || {
        // SAFETY: an initialised message (or NULL); only read.
        let m = unsafe { open_msg_mut(msg_ as *mut zmq_msg_t)? };
        Ok(m.len())
    })
}

#[no_mangle]
pub extern "C" fn zmq_msg_more(msg_: *const zmq_msg_t) -> c_int {
    zmq_msg_get(msg_, ZMQ_MORE)
}

#[no_mangle]
pub extern "C" fn zmq_msg_get(msg_: *const zmq_msg_t, property_: c_int) -> c_int {
    guard(-1, || {
        // SAFETY: an initialised message (or NULL); only read.
        let m = unsafe { open_msg_mut(msg_ as *mut zmq_msg_t)? };
        match property_ {
            ZMQ_MORE => Ok(m.more() as c_int),
            // libzmq answers -1 without an errno for a message of no
            // connection.
            ZMQ_SRCFD => Ok(m.metadata().and_then(|md| md.source_fd()).unwrap_or(-1)),
            ZMQ_SHARED => Ok(m.is_shared() as c_int),
            _ => Err(Error::Inval),
        }
    })
}

/// libzmq 4.3 has no settable message property.
#[no_mangle]
pub extern "C" fn zmq_msg_set(msg_: *mut zmq_msg_t, property_: c_int, optval_: c_int) -> c_int {
    let _ = (property_, optval_);
    guard(-1, || {
        // SAFETY: an initialised message (or NULL).
        unsafe { open_msg_mut(msg_)? };
        Err(Error::Inval)
    })
}

/// Names the SERVER pipe the message goes to; 0 is no routing id and is
/// refused (`EINVAL`), as in libzmq.
#[cfg(feature = "draft")]
#[no_mangle]
pub extern "C" fn zmq_msg_set_routing_id(msg_: *mut zmq_msg_t, routing_id_: u32) -> c_int {
    guard(-1, || {
        // SAFETY: an initialised message (or NULL).
        let m = unsafe { open_msg_mut(msg_)? };
        if routing_id_ == 0 {
            return Err(Error::Inval);
        }
        m.set_routing_id(routing_id_);
        Ok(0)
    })
}

/// The routing id a SERVER received the message with (0 for none). libzmq
/// has no error return here; a NULL or closed message answers 0.
#[cfg(feature = "draft")]
#[no_mangle]
pub extern "C" fn zmq_msg_routing_id(msg_: *mut zmq_msg_t) -> u32 {
    guard(0, || {
        // SAFETY: an initialised message (or NULL); only read.
        let m = unsafe { open_msg_mut(msg_)? };
        Ok(m.routing_id())
    })
}

/// C strings handed out by `zmq_msg_gets`. The core keeps property values
/// as bytes without a terminating NUL, so each distinct value is stored
/// once here and lives as long as the process (see the report to the core).
static GETS_STRINGS: LazyLock<Mutex<HashSet<CString>>> =
    LazyLock::new(|| Mutex::new(HashSet::new()));

fn interned(value: &[u8]) -> Result<*const c_char> {
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    let s = CString::new(&value[..end]).map_err(|_| Error::Inval)?;
    let mut set = GETS_STRINGS.lock();
    if let Some(existing) = set.get(&s) {
        return Ok(existing.as_ptr());
    }
    // A CString's heap buffer does not move when the CString itself moves
    // into the set, so the pointer stays valid.
    let p = s.as_ptr();
    set.insert(s);
    Ok(p)
}

#[no_mangle]
pub extern "C" fn zmq_msg_gets(msg_: *const zmq_msg_t, property_: *const c_char) -> *const c_char {
    guard(ptr::null(), || {
        // SAFETY: an initialised message (or NULL); only read.
        let m = unsafe { open_msg_mut(msg_ as *mut zmq_msg_t)? };
        // SAFETY: a NUL-terminated property name (or NULL).
        let name = unsafe { c_str(property_)? };
        let meta = m.metadata().ok_or(Error::Inval)?;
        // As libzmq's metadata lookup: names match exactly, case included
        // ("socket-type" is not "Socket-Type"), and "Identity", the name
        // ZMTP peers send the routing id under, falls back to "Routing-Id"
        // when absent.
        let value = meta
            .exact(name)
            .or_else(|| {
                (name == "Identity")
                    .then(|| meta.exact("Routing-Id"))
                    .flatten()
            })
            .ok_or(Error::Inval)?;
        interned(value)
    })
}

/// Used by zmq_recviov and zmq_recv to check a caller's buffer argument.
pub(crate) fn buffer_ok(buf: *const c_void, len: usize) -> Result<()> {
    if buf.is_null() && len != 0 {
        Err(Error::Fault)
    } else {
        Ok(())
    }
}

/// The caller's `len` bytes at `buf`; NULL with a length is `EFAULT`.
///
/// # Safety
/// When non-NULL, `buf` is readable for `len` bytes for `'a`.
pub(crate) unsafe fn caller_bytes<'a>(buf: *const c_void, len: usize) -> Result<&'a [u8]> {
    buffer_ok(buf, len)?;
    if len == 0 {
        return Ok(&[]);
    }
    // SAFETY: non-NULL (checked) and readable for len bytes (contract).
    Ok(unsafe { std::slice::from_raw_parts(buf as *const u8, len) })
}

/// As [`caller_bytes`], writable.
///
/// # Safety
/// When non-NULL, `buf` is writable for `len` bytes for `'a`, unaliased.
pub(crate) unsafe fn caller_bytes_mut<'a>(buf: *mut c_void, len: usize) -> Result<&'a mut [u8]> {
    buffer_ok(buf, len)?;
    if len == 0 {
        return Ok(&mut []);
    }
    // SAFETY: non-NULL (checked) and writable for len bytes (contract).
    Ok(unsafe { std::slice::from_raw_parts_mut(buf as *mut u8, len) })
}
