//! ZMTP, the wire protocol, as pure state machines: bytes in, frames and
//! events out, no sockets inside (so it is unit-tested and fuzzed
//! directly). Malformed input is an `Err`, never a panic.
//!
//! - `greeting`: the ZMTP 3.x greeting (sent in libzmq's stages) and
//!   version detection, falling back to ZMTP 2.0 (RFC 15) and 1.0 (RFC 13).
//! - `frame`: framing (short/long frames, MORE, COMMAND) for each version.
//! - `command`: READY, ERROR, PING/PONG, SUBSCRIBE/CANCEL and metadata.
//! - `mechanism`: the security handshake (NULL; PLAIN/CURVE to come) and
//!   libzmq's socket-type compatibility table.
//! - `connection`: one connection's whole protocol: greeting, handshake,
//!   heartbeats, message framing in both directions.

pub mod command;
pub mod connection;
pub mod frame;
pub mod greeting;
pub mod mechanism;

pub use connection::{Config, Connection, Event};
pub use greeting::Version;
pub use mechanism::Mechanism;

/// A protocol violation by the peer (or a timeout): the connection is
/// dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("bad greeting: {0}")]
    Greeting(&'static str),
    #[error("frame of {size} bytes exceeds the {limit}-byte limit")]
    TooLarge { size: u64, limit: u64 },
    #[error("malformed frame: {0}")]
    Frame(&'static str),
    #[error("malformed command: {0}")]
    Command(&'static str),
    #[error("unexpected command: {0}")]
    UnexpectedCommand(&'static str),
    #[error("peer's security mechanism {0} differs from ours")]
    MechanismMismatch(String),
    #[error("incompatible peer socket type {0:?}")]
    SocketType(String),
    /// The peer sent ERROR during the handshake (the reason, verbatim).
    #[error("peer refused the handshake: {}", String::from_utf8_lossy(.0))]
    PeerError(Vec<u8>),
    #[error("{0} timed out")]
    Timeout(&'static str),
    /// A handshake failure libzmq reports with this `ZMQ_PROTOCOL_ERROR_*`
    /// code (mechanisms raise it where libzmq raises the event).
    #[error("handshake failed: {detail}")]
    Handshake { code: u32, detail: &'static str },
}

/// `ZMQ_PROTOCOL_ERROR_*` values (zmq.h) the protocol reports.
pub mod protocol_error {
    pub const ZMTP_UNEXPECTED_COMMAND: u32 = 0x1000_0001;
    pub const ZMTP_MALFORMED_COMMAND_ERROR: u32 = 0x1000_0015;
    pub const ZMTP_MECHANISM_MISMATCH: u32 = 0x1100_0002;
}

impl ProtocolError {
    /// The `ZMQ_PROTOCOL_ERROR_*` value libzmq 4.3.4 reports with
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL` for this failure, when it
    /// reports one: not for malformed frames or READY metadata, mismatched
    /// socket types, or timeouts (checked with raw peers against Debian's
    /// libzmq, capi-tests/test_monitor.c).
    pub fn monitor_code(&self) -> Option<u32> {
        match self {
            ProtocolError::UnexpectedCommand(_) => Some(protocol_error::ZMTP_UNEXPECTED_COMMAND),
            // libzmq finds no mechanism of that name: a mismatch.
            ProtocolError::MechanismMismatch(_) | ProtocolError::Greeting(_) => {
                Some(protocol_error::ZMTP_MECHANISM_MISMATCH)
            }
            ProtocolError::Handshake { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The ZAP status code of an ERROR whose reason is one ("300", "400"
    /// or "500"), which libzmq reports as `ZMQ_EVENT_HANDSHAKE_FAILED_AUTH`.
    pub fn auth_status(&self) -> Option<u32> {
        match self {
            ProtocolError::PeerError(r) if r.len() == 3 && &r[1..] == b"00" => {
                matches!(r[0], b'3'..=b'5').then(|| u32::from(r[0] - b'0') * 100)
            }
            _ => None,
        }
    }

    /// True for the handshake and heartbeat timeouts (libzmq's timeout
    /// errors, after which a connecter reconnects).
    pub fn is_timeout(&self) -> bool {
        matches!(self, ProtocolError::Timeout(_))
    }
}

#[cfg(test)]
mod tests;
