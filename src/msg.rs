//! The message: what a `zmq_msg_t` holds.
//!
//! A `Msg` is at most 64 bytes with pointer alignment, so it lives directly in
//! the caller's `zmq_msg_t`. Small payloads sit inline; larger ones live in a
//! reference-counted [`Buffer`], so `copy` and sends between sockets never
//! copy the payload. A caller's buffer given to `zmq_msg_init_data` has its
//! free callback run exactly once, when the last reference goes, from
//! whichever thread drops it.

use std::cell::UnsafeCell;
use std::ffi::c_void;
use std::sync::Arc;

/// Payloads up to this many bytes are stored inside the message itself.
pub const INLINE_MAX: usize = 46;

/// The caller's deallocation function for `zmq_msg_init_data`.
pub type FreeFn = unsafe extern "C" fn(data: *mut c_void, hint: *mut c_void);

/// Set once the payload was shared by `share` (`ZMQ_SHARED`); kept out of
/// `flags()`.
const SHARED_BIT: u8 = 0x80;

/// Frame flags, as libzmq names them.
pub mod flags {
    /// More frames of the same message follow.
    pub const MORE: u8 = 1;
    /// A ZMTP command frame, not application data.
    pub const COMMAND: u8 = 2;
}

enum Owner {
    /// Our own heap allocation, from a `Box<[u8]>`.
    Heap,
    /// The caller's memory with its deallocation function.
    User { free: FreeFn, hint: *mut c_void },
    /// The caller's memory that is never freed (`zmq_send_const`, or
    /// `zmq_msg_init_data` without a free function).
    Const,
}

/// A shared, immutable-by-contract byte buffer.
pub struct Buffer {
    ptr: *mut u8,
    len: usize,
    owner: Owner,
}

// SAFETY: the buffer owns its memory (or borrows the caller's under the
// libzmq contract that it stays valid until the free callback), and the free
// callback is documented by libzmq to be callable from any thread.
unsafe impl Send for Buffer {}
// SAFETY: shared access only reads through `ptr`; writes go through the
// C API's `zmq_msg_data`, whose aliasing rules are the caller's, as in libzmq.
unsafe impl Sync for Buffer {}

impl Buffer {
    fn from_boxed(data: Box<[u8]>) -> Buffer {
        let len = data.len();
        let ptr = Box::into_raw(data) as *mut u8;
        Buffer {
            ptr,
            len,
            owner: Owner::Heap,
        }
    }

    fn as_slice(&self) -> &[u8] {
        if self.len == 0 {
            return &[];
        }
        // SAFETY: ptr is valid for len bytes for the buffer's whole life.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        match self.owner {
            Owner::Heap => {
                let slice = std::ptr::slice_from_raw_parts_mut(self.ptr, self.len);
                // SAFETY: ptr and len came from Box::into_raw in from_boxed.
                drop(unsafe { Box::from_raw(slice) });
            }
            Owner::User { free, hint } => {
                // SAFETY: the caller's free function, called once with the
                // pointer and hint it gave us, as zmq_msg_init_data promises.
                unsafe { free(self.ptr as *mut c_void, hint) }
            }
            Owner::Const => {}
        }
    }
}

/// One byte of a [`Block`]: the C side may write through `zmq_msg_data`
/// while the block is shared, so every byte is a cell.
#[repr(transparent)]
struct ByteCell(UnsafeCell<u8>);

// SAFETY: concurrent writes through zmq_msg_data to a shared message are
// the caller's race to avoid, exactly as in libzmq; Rust code only reads.
unsafe impl Sync for ByteCell {}

/// Our own payload memory: reference counts and bytes in one allocation.
type Block = Arc<[ByteCell]>;

/// Payloads up to this size get a single-allocation [`Block`]; larger
/// ones a fallible allocation (a hostile size must not abort the host).
const BLOCK_MAX: usize = 64 * 1024;

mod pool;

/// A block of at least `size` bytes whose content is undefined until
/// written, as libzmq's `zmq_msg_init_size` promises: zeroing would cost a
/// memset and page faults on every large message. Small ones are recycled.
fn new_block(size: usize) -> Block {
    match pool::class_for(size) {
        Some((class, block_size)) => pool::take(class).unwrap_or_else(|| alloc_block(block_size)),
        None => alloc_block(size),
    }
}

fn zeroed_block(size: usize) -> Block {
    let b = Arc::<[ByteCell]>::new_zeroed_slice(size);
    // SAFETY: all-zero bytes are valid ByteCells.
    unsafe { b.assume_init() }
}

fn alloc_block(size: usize) -> Block {
    let b = Arc::<[ByteCell]>::new_uninit_slice(size);
    // SAFETY: a ByteCell is a byte with no invalid bit patterns; the bytes
    // are filled by the caller (from_slice, or C through zmq_msg_data).
    unsafe { b.assume_init() }
}

enum Body {
    Inline {
        len: u8,
        buf: [u8; INLINE_MAX],
    },
    Block {
        buf: Block,
        off: usize,
        len: usize,
    },
    Shared {
        buf: Arc<Buffer>,
        off: usize,
        len: usize,
    },
    /// After `zmq_msg_close`: every operation but init refuses it.
    Closed,
}

/// Properties a connection attaches to the messages it delivers
/// (`zmq_msg_gets`): Socket-Type, Routing-Id, Peer-Address, User-Id, ...
#[derive(Debug, Default)]
pub struct Metadata {
    pub properties: Vec<(String, Vec<u8>)>,
}

impl Metadata {
    /// libzmq's private property holding the connection's descriptor in
    /// decimal, which `ZMQ_SRCFD` reads (and `zmq_msg_gets` shows).
    pub const SOURCE_FD: &'static str = "__fd";

    /// The property named exactly `name` (case included), as
    /// `zmq_msg_gets` looks it up.
    pub fn exact(&self, name: &str) -> Option<&[u8]> {
        self.properties
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_slice())
    }

    /// `ZMQ_SRCFD`: the connection's descriptor, read as C's `atoi` reads
    /// it (a peer could send an "__fd" of its own where we set none).
    pub fn source_fd(&self) -> Option<i32> {
        let text = self.exact(Self::SOURCE_FD)?;
        let digits = text.iter().take_while(|b| b.is_ascii_digit()).count();
        let value = std::str::from_utf8(&text[..digits]).ok()?;
        Some(value.parse().unwrap_or(0))
    }

    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.properties
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

/// One frame of a message.
pub struct Msg {
    body: Body,
    meta: Option<Arc<Metadata>>,
    routing_id: u32,
    flags: u8,
}

const _: () = assert!(std::mem::size_of::<Msg>() <= 64);
const _: () = assert!(std::mem::align_of::<Msg>() <= 8);

impl Drop for Msg {
    fn drop(&mut self) {
        // The last reference to a block: recycle it rather than free it
        // (see `pool`). A plain load rather than `Arc::get_mut`, whose
        // compare-and-swap would cost a locked instruction on every drop of
        // a shared slice. A count of 1 is final: we hold that reference and
        // no `Weak` is ever made of a block. The fence pairs with the release
        // decrement of whoever dropped the other references, so their
        // accesses happen before the block's reuse.
        if let Body::Block { buf, .. } = &self.body {
            if Arc::strong_count(buf) == 1 {
                if let Some(class) = pool::class_of_block(buf.len()) {
                    std::sync::atomic::fence(std::sync::atomic::Ordering::Acquire);
                    if let Body::Block { buf, .. } = std::mem::replace(&mut self.body, Body::Closed)
                    {
                        pool::give(class, buf);
                    }
                }
            }
        }
    }
}

impl Default for Msg {
    fn default() -> Self {
        Msg::new()
    }
}

impl Msg {
    /// An empty frame.
    pub const fn new() -> Msg {
        Msg {
            body: Body::Inline {
                len: 0,
                buf: [0; INLINE_MAX],
            },
            meta: None,
            routing_id: 0,
            flags: 0,
        }
    }

    /// The state `zmq_msg_close` leaves behind.
    pub const fn closed() -> Msg {
        Msg {
            body: Body::Closed,
            meta: None,
            routing_id: 0,
            flags: 0,
        }
    }

    fn from_body(body: Body) -> Msg {
        Msg {
            body,
            meta: None,
            routing_id: 0,
            flags: 0,
        }
    }

    /// A frame of `size` bytes for the caller to fill (its content is
    /// undefined until written, as with libzmq), or `None` when the memory
    /// cannot be had: a huge size must not abort the host.
    pub fn try_with_size(size: usize) -> Option<Msg> {
        if size <= INLINE_MAX {
            let mut m = Msg::new();
            if let Body::Inline { len, .. } = &mut m.body {
                *len = size as u8;
            }
            return Some(m);
        }
        if size <= BLOCK_MAX {
            return Some(Msg::from_body(Body::Block {
                buf: new_block(size),
                off: 0,
                len: size,
            }));
        }
        let mut v: Vec<u8> = Vec::new();
        v.try_reserve_exact(size).ok()?;
        // SAFETY: capacity is `size`; the bytes are undefined until the
        // caller writes them, as zmq_msg_init_size documents.
        unsafe { v.set_len(size) };
        Some(Msg::from_boxed(v.into_boxed_slice()))
    }

    /// A frame of `size` bytes for Rust code to fill in place (the decoder,
    /// a session's read buffer), or `None` when the memory cannot be had.
    /// Its bytes are initialized but unspecified: zeros, or what a recycled
    /// block held before. Large ones come from the allocator's zeroed
    /// pages, so an unfilled tail costs no resident memory.
    pub fn try_fillable(size: usize) -> Option<Msg> {
        if size <= INLINE_MAX {
            return Msg::try_with_size(size);
        }
        if size <= BLOCK_MAX {
            let buf = match pool::class_for(size) {
                Some((class, block_size)) => {
                    pool::take(class).unwrap_or_else(|| zeroed_block(block_size))
                }
                None => zeroed_block(size),
            };
            return Some(Msg::from_body(Body::Block {
                buf,
                off: 0,
                len: size,
            }));
        }
        let layout = std::alloc::Layout::array::<u8>(size).ok()?;
        // SAFETY: the layout has a non-zero size (size > BLOCK_MAX).
        let ptr = unsafe { std::alloc::alloc_zeroed(layout) };
        if ptr.is_null() {
            return None;
        }
        let slice = std::ptr::slice_from_raw_parts_mut(ptr, size);
        // SAFETY: allocated just above with the layout of a [u8; size],
        // which is what Box<[u8]> frees with.
        Some(Msg::from_boxed(unsafe { Box::from_raw(slice) }))
    }

    /// The payload, writable, while this message is its only owner.
    pub fn unique_bytes_mut(&mut self) -> Option<&mut [u8]> {
        match &mut self.body {
            Body::Inline { len, buf } => Some(&mut buf[..*len as usize]),
            Body::Block { buf, off, len } => {
                let cells = Arc::get_mut(buf)?;
                let (off, len) = (*off, *len);
                // SAFETY: unique access to the block; a ByteCell is a byte.
                let bytes = unsafe {
                    std::slice::from_raw_parts_mut(cells.as_mut_ptr() as *mut u8, cells.len())
                };
                bytes.get_mut(off..off + len)
            }
            Body::Shared { buf, off, len } => {
                let b = Arc::get_mut(buf)?;
                if !matches!(b.owner, Owner::Heap) {
                    return None;
                }
                let (off, len) = (*off, *len);
                // SAFETY: our own heap allocation of b.len bytes, uniquely held.
                let bytes = unsafe { std::slice::from_raw_parts_mut(b.ptr, b.len) };
                bytes.get_mut(off..off + len)
            }
            Body::Closed => None,
        }
    }

    /// A frame of `len` bytes at `off` in this one's payload, sharing its
    /// memory when it is shared memory (the decoder slicing frames out of
    /// a read buffer), copied when small. `None` if out of range.
    pub fn slice(&self, off: usize, len: usize) -> Option<Msg> {
        let end = off.checked_add(len)?;
        if end > self.len() {
            return None;
        }
        if len <= INLINE_MAX {
            return Some(Msg::from_slice(&self.data()[off..end]));
        }
        let body = match &self.body {
            Body::Block { buf, off: o, .. } => Body::Block {
                buf: Arc::clone(buf),
                off: o + off,
                len,
            },
            Body::Shared { buf, off: o, .. } => Body::Shared {
                buf: Arc::clone(buf),
                off: o + off,
                len,
            },
            _ => return Some(Msg::from_slice(&self.data()[off..end])),
        };
        Some(Msg::from_body(body))
    }

    /// A frame holding a copy of `data`.
    pub fn from_slice(data: &[u8]) -> Msg {
        if data.len() <= INLINE_MAX {
            let mut buf = [0u8; INLINE_MAX];
            buf[..data.len()].copy_from_slice(data);
            Msg {
                body: Body::Inline {
                    len: data.len() as u8,
                    buf,
                },
                meta: None,
                routing_id: 0,
                flags: 0,
            }
        } else if data.len() <= BLOCK_MAX {
            let buf = new_block(data.len());
            // SAFETY: the block is fresh, unshared and data.len() bytes long.
            unsafe {
                std::ptr::copy_nonoverlapping(data.as_ptr(), buf.as_ptr() as *mut u8, data.len())
            };
            Msg::from_body(Body::Block {
                buf,
                off: 0,
                len: data.len(),
            })
        } else {
            Msg::from_boxed(data.to_vec().into_boxed_slice())
        }
    }

    /// A frame that takes `data` without copying it (when it is large).
    pub fn from_vec(data: Vec<u8>) -> Msg {
        if data.len() <= INLINE_MAX {
            Msg::from_slice(&data)
        } else {
            Msg::from_boxed(data.into_boxed_slice())
        }
    }

    fn from_boxed(data: Box<[u8]>) -> Msg {
        let len = data.len();
        Msg {
            body: Body::Shared {
                buf: Arc::new(Buffer::from_boxed(data)),
                off: 0,
                len,
            },
            meta: None,
            routing_id: 0,
            flags: 0,
        }
    }

    /// A frame over the caller's memory; `free` (if any) runs exactly once
    /// with `data` and `hint` when the last copy of the frame is dropped.
    ///
    /// # Safety
    /// `data` must be valid for `size` bytes until `free` runs (or forever,
    /// when `free` is None).
    pub unsafe fn from_user(
        data: *mut u8,
        size: usize,
        free: Option<FreeFn>,
        hint: *mut c_void,
    ) -> Msg {
        let owner = match free {
            Some(free) => Owner::User { free, hint },
            None => Owner::Const,
        };
        let ptr = if data.is_null() {
            std::ptr::NonNull::dangling().as_ptr()
        } else {
            data
        };
        let len = if data.is_null() { 0 } else { size };
        let buf = Buffer { ptr, len, owner };
        // A NULL data with a free function still gets its callback, once.
        if data.is_null() {
            if let Owner::User { free, hint } = buf.owner {
                std::mem::forget(buf);
                // SAFETY: the caller's function with the arguments it gave.
                unsafe { free(data as *mut c_void, hint) };
                return Msg::new();
            }
        }
        Msg {
            body: Body::Shared {
                buf: Arc::new(buf),
                off: 0,
                len,
            },
            meta: None,
            routing_id: 0,
            flags: 0,
        }
    }

    pub fn is_closed(&self) -> bool {
        matches!(self.body, Body::Closed)
    }

    pub fn data(&self) -> &[u8] {
        match &self.body {
            Body::Inline { len, buf } => &buf[..*len as usize],
            Body::Block { buf, off, len } => {
                // SAFETY: the block holds buf.len() >= off + len bytes; cells
                // are plain bytes, read here while C may only write through
                // zmq_msg_data under the caller's own synchronisation.
                unsafe { std::slice::from_raw_parts((buf.as_ptr() as *const u8).add(*off), *len) }
            }
            Body::Shared { buf, off, len } => &buf.as_slice()[*off..*off + *len],
            Body::Closed => &[],
        }
    }

    /// The pointer `zmq_msg_data` hands out; the caller may write through it.
    pub fn data_ptr(&mut self) -> *mut u8 {
        match &mut self.body {
            Body::Inline { buf, .. } => buf.as_mut_ptr(),
            // SAFETY: off <= buf.len(); the bytes are cells, so writing
            // through this pointer is allowed while the block is shared.
            Body::Block { buf, off, .. } => unsafe { (buf.as_ptr() as *mut u8).add(*off) },
            // SAFETY: off <= buf.len, so the offset stays inside the allocation.
            Body::Shared { buf, off, .. } => unsafe { buf.ptr.add(*off) },
            Body::Closed => std::ptr::null_mut(),
        }
    }

    pub fn len(&self) -> usize {
        match &self.body {
            Body::Inline { len, .. } => *len as usize,
            Body::Block { len, .. } | Body::Shared { len, .. } => *len,
            Body::Closed => 0,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn flags(&self) -> u8 {
        self.flags & !SHARED_BIT
    }

    pub fn set_flags(&mut self, flags: u8) {
        self.flags = (flags & !SHARED_BIT) | (self.flags & SHARED_BIT);
    }

    pub fn more(&self) -> bool {
        self.flags & flags::MORE != 0
    }

    pub fn set_more(&mut self, more: bool) {
        if more {
            self.flags |= flags::MORE;
        } else {
            self.flags &= !flags::MORE;
        }
    }

    pub fn routing_id(&self) -> u32 {
        self.routing_id
    }

    pub fn set_routing_id(&mut self, id: u32) {
        self.routing_id = id;
    }

    pub fn metadata(&self) -> Option<&Arc<Metadata>> {
        self.meta.as_ref()
    }

    pub fn set_metadata(&mut self, meta: Option<Arc<Metadata>>) {
        self.meta = meta;
    }

    /// True when the payload is shared with another message or is the
    /// caller's constant memory (`ZMQ_SHARED`).
    pub fn is_shared(&self) -> bool {
        self.flags & SHARED_BIT != 0
            || matches!(&self.body, Body::Shared { buf, .. } if matches!(buf.owner, Owner::Const))
    }

    /// Moves the frame out, leaving an empty one (as `zmq_msg_move` does).
    pub fn take(&mut self) -> Msg {
        std::mem::take(self)
    }

    /// Turns the payload into a shared buffer and returns a second handle on
    /// it (`zmq_msg_copy`): the payload itself is not copied when large.
    pub fn share(&mut self) -> Msg {
        // As libzmq's flag: set on both once a payload is shared, and kept
        // after the other copy is gone. Small payloads are copied, not shared.
        if !matches!(self.body, Body::Inline { .. } | Body::Closed) {
            self.flags |= SHARED_BIT;
        }
        self.same_payload()
    }

    /// A second handle on the payload (copied when small), not marked.
    fn same_payload(&self) -> Msg {
        let body = match &self.body {
            Body::Inline { len, buf } => Body::Inline {
                len: *len,
                buf: *buf,
            },
            Body::Block { buf, off, len } => Body::Block {
                buf: Arc::clone(buf),
                off: *off,
                len: *len,
            },
            Body::Shared { buf, off, len } => Body::Shared {
                buf: Arc::clone(buf),
                off: *off,
                len: *len,
            },
            Body::Closed => Body::Closed,
        };
        Msg {
            body,
            meta: self.meta.clone(),
            routing_id: self.routing_id,
            flags: self.flags,
        }
    }
}

impl Clone for Msg {
    fn clone(&self) -> Self {
        self.same_payload()
    }
}

impl std::fmt::Debug for Msg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Msg")
            .field("len", &self.len())
            .field("flags", &self.flags)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    static FREED: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "C" fn count_free(_data: *mut c_void, _hint: *mut c_void) {
        FREED.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn fits_zmq_msg_t() {
        assert!(std::mem::size_of::<Msg>() <= 64);
    }

    #[test]
    fn small_inline_large_shared() {
        let small = Msg::from_slice(b"hello");
        assert_eq!(small.data(), b"hello");
        assert!(!small.is_shared());
        let mut big = Msg::from_vec(vec![7u8; 1000]);
        let copy = big.share();
        assert!(big.is_shared());
        assert_eq!(copy.data().as_ptr(), big.data().as_ptr());
    }

    #[test]
    fn user_free_runs_once_on_last_drop() {
        let mut storage = vec![1u8; 100];
        let before = FREED.load(Ordering::SeqCst);
        // SAFETY: storage outlives the messages.
        let mut m = unsafe {
            Msg::from_user(
                storage.as_mut_ptr(),
                100,
                Some(count_free),
                std::ptr::null_mut(),
            )
        };
        let c = m.share();
        drop(m);
        assert_eq!(FREED.load(Ordering::SeqCst), before);
        assert!(std::thread::spawn(move || drop(c)).join().is_ok());
        assert_eq!(FREED.load(Ordering::SeqCst), before + 1);
    }

    #[test]
    fn with_size_is_writable() {
        let Some(mut m) = Msg::try_with_size(100) else {
            panic!("no memory for 100 bytes");
        };
        let p = m.data_ptr();
        // SAFETY: the message owns 100 writable bytes.
        unsafe { *p = 9 };
        assert_eq!(m.data()[0], 9);
    }
}
