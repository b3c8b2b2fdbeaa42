//! Registries of live handles. A handle given to C is the address of the
//! object's `Arc` allocation; a handle is usable only while its address is
//! in the registry, so NULL, garbage and closed handles are caught with one
//! read lock and one hash lookup, without touching the pointed-to memory.
//!
//! An address can come back for a new object once the old one is freed; a
//! caller holding a stale handle then reaches the new object, as with
//! libzmq, but never freed memory.

use std::collections::HashMap;
use std::ffi::c_void;
use std::sync::{Arc, LazyLock};

use parking_lot::RwLock;

use crate::ctx::Ctx;
use crate::socket::Socket;

pub(crate) struct Registry<T> {
    map: LazyLock<RwLock<HashMap<usize, Arc<T>>>>,
}

impl<T> Registry<T> {
    pub(crate) const fn new() -> Self {
        Registry {
            map: LazyLock::new(|| RwLock::new(HashMap::new())),
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

/// The socket behind a handle, or `ENOTSOCK`.
pub(crate) fn socket(handle: *mut c_void) -> crate::Result<Arc<Socket>> {
    SOCKETS.get(handle).ok_or(crate::Error::NotSock)
}

/// The context behind a handle, or `EFAULT`.
pub(crate) fn context(handle: *mut c_void) -> crate::Result<Arc<Ctx>> {
    CONTEXTS.get(handle).ok_or(crate::Error::Fault)
}
