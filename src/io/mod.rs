//! I/O threads: mio reactors that own the network side of sockets.
//!
//! A socket binding or connecting over tcp or ipc hands the work to its
//! context's I/O thread with an [`IoCommand`]. The thread owns listeners and
//! sessions (one per connection or connect); a session owns its stream,
//! its ZMTP state machine (`crate::zmtp`) and its end of the pipe to the
//! socket. Sockets and sessions only meet through pipes and mailboxes.

pub mod session;
pub mod thread;
pub mod wire;

use std::sync::Arc;

use crate::options::Options;
use crate::pipe::{PipeEnd, PipeId};
use crate::socket::mailbox::Mailbox;
use crate::transport::{Listener, Target};

/// What a session or listener needs of the socket it serves.
#[derive(Clone)]
pub struct SocketLink {
    pub socket_id: u64,
    pub mailbox: Arc<Mailbox>,
    /// The socket's options when it bound or connected.
    pub options: Options,
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
}

#[cfg(test)]
mod tests;
