//! ferrozmq: libzmq 4.3 in Rust, exported as a drop-in `libzmq.so.5`.
//!
//! Layers, from the C boundary down (see ARCHITECTURE.md):
//! - `ffi`: every `extern "C"` function, handle validation, panics and errno.
//! - `ctx`: the context, its sockets and the inproc endpoint table.
//! - `socket`: the socket core (options, pipes, blocking) and one file per type.
//! - `pipe`: the bounded message queues between two sockets.
//! - `msg`: the message that fits a `zmq_msg_t`.

pub mod ctx;
pub mod error;
pub mod ffi;
pub mod io;
pub mod msg;
pub mod options;
pub mod pipe;
pub mod proxy;
pub mod signaler;
pub mod socket;
pub mod sync;
pub mod transport;
pub mod zmtp;

pub use error::{Error, Result};
