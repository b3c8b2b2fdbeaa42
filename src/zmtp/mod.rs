//! ZMTP, the wire protocol, as pure state machines: bytes in, frames and
//! events out, no sockets inside (so it is unit-tested and fuzzed
//! directly). Malformed input is an `Err`, never a panic.
//!
//! - `greeting`: the ZMTP 3.x greeting (sent in libzmq's stages) and
//!   version detection, falling back to ZMTP 2.0 (RFC 15) and 1.0 (RFC 13).
//! - `frame`: framing (short/long frames, MORE, COMMAND) for each version.
//! - `command`: READY, ERROR, PING/PONG, SUBSCRIBE/CANCEL and metadata.
//! - `mechanism`: the security handshake's common part (the `Handshake`
//!   trait, NULL, libzmq's socket-type compatibility table); `plain` (RFC
//!   24) and `curve` (RFC 25/26, also the per-frame boxes after the
//!   handshake) implement it; `zap` builds ZAP requests (RFC 27) and checks
//!   the handler's replies, which the session carries.
//! - `connection`: one connection's whole protocol: greeting, handshake,
//!   heartbeats, message framing in both directions.

pub mod command;
pub mod connection;
pub mod curve;
pub mod frame;
pub mod greeting;
pub mod mechanism;
pub mod plain;
pub mod zap;

pub use connection::{Config, Connection, Event};
pub use greeting::Version;
pub use mechanism::{CurveKeys, Mechanism, PlainCredentials};

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
    /// A security handshake failure libzmq reports with a specific
    /// `ZMQ_PROTOCOL_ERROR_*` code (see [`code`]): a malformed HELLO, a box
    /// that does not open, a replayed nonce, a malformed ZAP reply...
    #[error("{what}")]
    Handshake { code: u32, what: &'static str },
    /// Authentication refused: the ZAP handler's status code (300, 400 or
    /// 500), or the one in the peer's ERROR.
    #[error("authentication failed with status {0}")]
    Auth(u16),
    /// A ZAP handler is required and none is bound at
    /// `inproc://zeromq.zap.01`.
    #[error("no ZAP handler")]
    NoZapHandler,
    /// The system's random number generator failed.
    #[error("no randomness: {0}")]
    Random(&'static str),
}

/// libzmq's `ZMQ_PROTOCOL_ERROR_*` values, as its monitor reports them with
/// `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL`.
pub mod code {
    pub const ZMTP_UNSPECIFIED: u32 = 0x1000_0000;
    pub const ZMTP_UNEXPECTED_COMMAND: u32 = 0x1000_0001;
    pub const ZMTP_INVALID_SEQUENCE: u32 = 0x1000_0002;
    pub const ZMTP_KEY_EXCHANGE: u32 = 0x1000_0003;
    pub const ZMTP_MALFORMED_COMMAND_UNSPECIFIED: u32 = 0x1000_0011;
    pub const ZMTP_MALFORMED_COMMAND_MESSAGE: u32 = 0x1000_0012;
    pub const ZMTP_MALFORMED_COMMAND_HELLO: u32 = 0x1000_0013;
    pub const ZMTP_MALFORMED_COMMAND_INITIATE: u32 = 0x1000_0014;
    pub const ZMTP_MALFORMED_COMMAND_ERROR: u32 = 0x1000_0015;
    pub const ZMTP_MALFORMED_COMMAND_READY: u32 = 0x1000_0016;
    pub const ZMTP_MALFORMED_COMMAND_WELCOME: u32 = 0x1000_0017;
    pub const ZMTP_INVALID_METADATA: u32 = 0x1000_0018;
    pub const ZMTP_CRYPTOGRAPHIC: u32 = 0x1100_0001;
    pub const ZMTP_MECHANISM_MISMATCH: u32 = 0x1100_0002;
    pub const ZAP_UNSPECIFIED: u32 = 0x2000_0000;
    pub const ZAP_MALFORMED_REPLY: u32 = 0x2000_0001;
    pub const ZAP_BAD_REQUEST_ID: u32 = 0x2000_0002;
    pub const ZAP_BAD_VERSION: u32 = 0x2000_0003;
    pub const ZAP_INVALID_STATUS_CODE: u32 = 0x2000_0004;
    pub const ZAP_INVALID_METADATA: u32 = 0x2000_0005;
}

/// The monitor event libzmq raises for a failed handshake, with its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HandshakeEvent {
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL` with this errno.
    NoDetail(i32),
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL` with a `ZMQ_PROTOCOL_ERROR_*`.
    Protocol(u32),
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_AUTH` with the ZAP status code.
    Auth(u32),
}

impl ProtocolError {
    /// The `ZMQ_PROTOCOL_ERROR_*` value libzmq 4.3.4 reports with
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL` for this failure, when it
    /// reports one: not for malformed frames or READY metadata, mismatched
    /// socket types, or timeouts (checked with raw peers against Debian's
    /// libzmq, capi-tests/test_monitor.c).
    pub fn monitor_code(&self) -> Option<u32> {
        match self {
            ProtocolError::UnexpectedCommand(_) => Some(code::ZMTP_UNEXPECTED_COMMAND),
            // libzmq finds no mechanism of that name: a mismatch.
            ProtocolError::MechanismMismatch(_) | ProtocolError::Greeting(_) => {
                Some(code::ZMTP_MECHANISM_MISMATCH)
            }
            ProtocolError::Handshake { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The monitor event libzmq raises for this failure during the
    /// handshake, if any: what a session reports when its connection fails
    /// before it is ready.
    pub fn handshake_event(&self) -> Option<HandshakeEvent> {
        match self {
            ProtocolError::Auth(status) => Some(HandshakeEvent::Auth(u32::from(*status))),
            ProtocolError::NoZapHandler => Some(HandshakeEvent::NoDetail(libc::EFAULT)),
            ProtocolError::Timeout(_) => Some(HandshakeEvent::NoDetail(libc::ETIMEDOUT)),
            // A peer's ERROR with a ZAP status is already `Auth` (see
            // `zap::peer_error`).
            _ => self.monitor_code().map(HandshakeEvent::Protocol),
        }
    }

    /// True for the handshake and heartbeat timeouts (libzmq's timeout
    /// errors, after which a connecter reconnects).
    pub fn is_timeout(&self) -> bool {
        matches!(self, ProtocolError::Timeout(_))
    }
}

#[cfg(test)]
mod security_tests;
#[cfg(test)]
mod tests;
