//! Registries of live handles. A handle given to C is the address of the
//! object's `Arc` allocation; a handle is usable only while its address is
//! in the registry, so NULL, garbage and closed handles are caught with one
//! read lock and one hash lookup, without touching the pointed-to memory.
//!
//! An address can come back for a new object once the old one is freed; a
//! caller holding a stale handle then reaches the new object, as with
//! libzmq, but never freed memory.

use std::cell::RefCell;
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
    LAST_SOCKET.with(|last| *last.borrow_mut() = Some((key, Arc::clone(&s))));
    Ok(s)
}

/// The context behind a handle, or `EFAULT`.
pub(crate) fn context(handle: *mut c_void) -> crate::Result<Arc<Ctx>> {
    CONTEXTS.get(handle).ok_or(crate::Error::Fault)
}

/// Drops this thread's cached reference to a socket being closed, so its
/// resources go as soon as no call is using it.
pub(crate) fn forget_socket(handle: *mut c_void) {
    LAST_SOCKET.with(|last| {
        let mut last = last.borrow_mut();
        if last.as_ref().is_some_and(|(k, _)| *k == handle as usize) {
            *last = None;
        }
    });
}
