//! I/O threads: mio reactors that own the network side of sockets.
//!
//! A socket binding or connecting over tcp or ipc hands the work to its
//! context's I/O threads with an [`IoCommand`]; each listener or connect
//! goes to the least loaded thread its `ZMQ_AFFINITY` allows, and so does
//! each connection a listener accepts. A thread owns its listeners and
//! sessions (one per connection or connect); a session owns its stream,
//! its ZMTP state machine (`crate::zmtp`) and its end of the pipe to the
//! socket. Sockets and sessions only meet through pipes and mailboxes.
//! Name lookups run on the resolver's workers (`resolver.rs`), never on an
//! I/O thread.

pub mod resolver;
pub mod session;
pub mod thread;
pub mod wire;

use std::sync::Arc;

use crate::options::Options;
use crate::pipe::{PipeEnd, PipeId};
use crate::socket::mailbox::Mailbox;
use crate::socket::monitor::MonitorLink;
use crate::transport::{Listener, Resolved, Stream, Target};

/// What a session or listener needs of the socket it serves.
#[derive(Clone)]
pub struct SocketLink {
    pub socket_id: u64,
    pub mailbox: Arc<Mailbox>,
    /// The socket's options when it bound or connected.
    pub options: Options,
    /// Where events about this endpoint go (`zmq_socket_monitor`).
    pub monitor: MonitorLink,
}

/// Work for an I/O thread. Sent once per bind, connect or close, so the
/// size of the largest variant costs nothing worth boxing for.
#[allow(clippy::large_enum_variant)]
pub enum IoCommand {
    /// Accept connections on a bound listener.
    Listen {
        listener: Box<Listener>,
        endpoint: String,
        link: SocketLink,
    },
    /// Connect (and keep reconnecting) to `target`. `pipe` is the session's
    /// end of a pipe made at connect time, so messages queue before the
    /// connection exists; None makes the pipe when the handshake completes.
    Connect {
        target: Target,
        endpoint: String,
        link: SocketLink,
        pipe: Option<(PipeEnd, PipeId)>,
    },
    /// Stop listening on an endpoint (`zmq_unbind`); its connections end.
    Unbind { socket_id: u64, endpoint: String },
    /// Stop connecting to an endpoint (`zmq_disconnect`).
    Disconnect { socket_id: u64, endpoint: String },
    /// The socket closed: listeners go, sessions deliver what is queued
    /// within `linger` milliseconds (-1: no limit), then go.
    SocketClosed { socket_id: u64, linger: i32 },
    /// The context terminates: exit once every session has finished.
    Stop,
    /// A connection accepted by listener `listener` of another I/O thread,
    /// placed on this one.
    Accepted {
        stream: Stream,
        endpoint: String,
        link: SocketLink,
        listener: u64,
    },
    /// Listener `listener`, which placed connections on other threads, was
    /// unbound (`linger` None: its connections end now) or its socket closed
    /// (they deliver what is queued within `linger`). Sent after the
    /// listener is gone, so it follows every `Accepted` it sent.
    ListenerGone { listener: u64, linger: Option<i32> },
    /// The answer to the lookup of the session in `slot` (`ticket` tells
    /// it from a session that took the slot since).
    Resolved {
        slot: usize,
        ticket: u64,
        result: std::io::Result<Resolved>,
    },
}

#[cfg(test)]
mod resolve_tests;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod threads_tests;
