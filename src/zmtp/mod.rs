//! ZMTP, the wire protocol, as pure state machines: bytes in, frames and
//! events out, no sockets inside (so it is unit-tested and fuzzed
//! directly). Malformed input is an `Err`, never a panic.
//!
//! - `greeting`: the 64-byte ZMTP 3.x greeting and version detection,
//!   falling back to ZMTP 2.0 (RFC 15) and 1.0 (RFC 13) peers.
//! - `frame`: framing (short/long frames, MORE, COMMAND) for each version.
//! - `command`: READY, ERROR, PING/PONG, SUBSCRIBE/CANCEL and metadata.

pub mod command;
pub mod frame;
pub mod greeting;

/// A protocol violation by the peer: the connection is dropped.
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
}
