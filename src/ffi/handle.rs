//! Registries of live handles. A handle given to C is the address of the
//! object's `Arc` allocation; a handle is usable only while its address is
//! in the registry, so NULL, garbage and closed handles are caught with one
//! read lock and one hash lookup, without touching the pointed-to memory.
//!
//! An address can come back for a new object once the old one is freed; a
//! caller holding a stale handle then reaches the new object, as with
//! libzmq, but never freed memory.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::ffi::c_void;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, LazyLock};

use parking_lot::RwLock;

use crate::ctx::Ctx;
use crate::socket::Socket;

/// Keys are addresses: distinct, so a multiply mixes them well enough and
/// costs far less than SipHash on the per-message path.
#[derive(Default)]
pub(crate) struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 ^ *b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_usize(&mut self, n: usize) {
        self.0 = (n as u64)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }
}

type AddressMap<T> = HashMap<usize, Arc<T>, BuildHasherDefault<AddressHasher>>;

pub(crate) struct Registry<T> {
    map: LazyLock<RwLock<AddressMap<T>>>,
}

impl<T> Registry<T> {
    pub(crate) const fn new() -> Self {
        Registry {
            map: LazyLock::new(|| RwLock::new(AddressMap::default())),
        }
    }

    /// Registers `obj`; returns the handle for C.
    pub(crate) fn insert(&self, obj: Arc<T>) -> *mut c_void {
        let key = Arc::as_ptr(&obj) as usize;
        self.map.write().insert(key, obj);
        key as *mut c_void
    }

    pub(crate) fn get(&self, handle: *const c_void) -> Option<Arc<T>> {
        if handle.is_null() {
            return None;
        }
        self.map.read().get(&(handle as usize)).cloned()
    }

    pub(crate) fn remove(&self, handle: *const c_void) -> Option<Arc<T>> {
        if handle.is_null() {
            return None;
        }
        self.map.write().remove(&(handle as usize))
    }
}

pub(crate) static CONTEXTS: Registry<Ctx> = Registry::new();
pub(crate) static SOCKETS: Registry<Socket> = Registry::new();

thread_local! {
    /// The socket this thread used last. Holding its `Arc` keeps the
    /// address from being reused, so a match on the address is the same
    /// socket, valid as long as it is not closed: most calls skip the
    /// registry's lock and hash.
    static LAST_SOCKET: RefCell<Option<(usize, Arc<Socket>)>> = const { RefCell::new(None) };
    /// `SocketRef`s borrowing `LAST_SOCKET` on this thread: while any is
    /// alive the entry is neither replaced nor cleared (a nested call, from
    /// a free callback say, takes a counted reference instead).
    static BORROWED: Cell<usize> = const { Cell::new(0) };
}

/// The socket behind a handle, or `ENOTSOCK`.
pub(crate) fn socket(handle: *mut c_void) -> crate::Result<Arc<Socket>> {
    let key = handle as usize;
    let cached = LAST_SOCKET.with(|last| match &*last.borrow() {
        Some((k, s)) if *k == key && !s.is_closed() => Some(Arc::clone(s)),
        _ => None,
    });
    if let Some(s) = cached {
        return Ok(s);
    }
    let s = SOCKETS.get(handle).ok_or(crate::Error::NotSock)?;
    if BORROWED.with(Cell::get) == 0 {
        LAST_SOCKET.with(|last| *last.borrow_mut() = Some((key, Arc::clone(&s))));
    }
    Ok(s)
}

/// A socket for the length of one call. From this thread's cache it costs
/// no reference-count traffic (two locked instructions per call saved on
/// the per-message path); otherwise it holds a counted reference.
pub(crate) enum SocketRef {
    Cached(*const Socket),
    Counted(Arc<Socket>),
}

impl std::ops::Deref for SocketRef {
    type Target = Socket;
    fn deref(&self) -> &Socket {
        match self {
            // SAFETY: the pointer is the `Arc` held by LAST_SOCKET, which is
            // not replaced nor cleared while BORROWED counts this reference,
            // and SocketRef (a raw pointer) cannot leave this thread.
            SocketRef::Cached(p) => unsafe { &**p },
            SocketRef::Counted(s) => s,
        }
    }
}

impl Drop for SocketRef {
    fn drop(&mut self) {
        if let SocketRef::Cached(_) = self {
            BORROWED.with(|b| b.set(b.get().saturating_sub(1)));
        }
    }
}

/// The socket behind a handle for one call, or `ENOTSOCK`.
pub(crate) fn socket_ref(handle: *mut c_void) -> crate::Result<SocketRef> {
    let key = handle as usize;
    let cached = LAST_SOCKET.with(|last| match &*last.borrow() {
        Some((k, s)) if *k == key && !s.is_closed() => Some(Arc::as_ptr(s)),
        _ => None,
    });
    if let Some(p) = cached {
        BORROWED.with(|b| b.set(b.get() + 1));
        return Ok(SocketRef::Cached(p));
    }
    socket(handle).map(SocketRef::Counted)
}

/// The context behind a handle, or `EFAULT`.
pub(crate) fn context(handle: *mut c_void) -> crate::Result<Arc<Ctx>> {
    CONTEXTS.get(handle).ok_or(crate::Error::Fault)
}

/// Drops this thread's cached reference to a socket being closed, so its
/// resources go as soon as no call is using it.
pub(crate) fn forget_socket(handle: *mut c_void) {
    if BORROWED.with(Cell::get) > 0 {
        // In use further up this thread's stack; it goes with the next
        // replacement (a closed socket is never served from the cache).
        return;
    }
    LAST_SOCKET.with(|last| {
        let mut last = last.borrow_mut();
        if last.as_ref().is_some_and(|(k, _)| *k == handle as usize) {
            *last = None;
        }
    });
}
