//! Security mechanisms: the ZMTP 3.x handshake after the greeting.
//!
//! Only NULL exists so far. A mechanism is a small state machine behind
//! [`Handshake`]: the connection asks it for commands to send, hands it
//! the peer's command frames until it says `Ready` or `Error`, then takes
//! the peer's properties. PLAIN and CURVE (client and server roles picked
//! from `Config::as_server`) slot in as further implementations; CURVE
//! will also need per-message encode/decode hooks after the handshake.

use super::command::{self, Command};
use super::ProtocolError;
use crate::socket::kind;

/// The configured security mechanism (`ZMQ_MECHANISM`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mechanism {
    Null,
}

impl Mechanism {
    /// The name carried in the greeting.
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::Null => "NULL",
        }
    }

    pub(crate) fn start(&self, socket_type: i32, routing_id: &[u8]) -> Box<dyn Handshake> {
        match self {
            Mechanism::Null => Box::new(NullMechanism::new(socket_type, routing_id)),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Handshaking,
    Ready,
}

pub(crate) trait Handshake: Send {
    /// The next command body to send, if any is due.
    fn next_command(&mut self) -> Option<Vec<u8>>;
    /// One command frame body from the peer.
    fn process_command(&mut self, body: &[u8]) -> Result<(), ProtocolError>;
    fn status(&self) -> Status;
    /// The peer's properties (READY metadata), in arrival order.
    fn peer_properties(&mut self) -> Vec<(String, Vec<u8>)>;
}

/// The ZMTP name of a socket type, as READY's Socket-Type carries it.
pub fn socket_type_name(t: i32) -> &'static str {
    match t {
        kind::PAIR => "PAIR",
        kind::PUB => "PUB",
        kind::SUB => "SUB",
        kind::REQ => "REQ",
        kind::REP => "REP",
        kind::DEALER => "DEALER",
        kind::ROUTER => "ROUTER",
        kind::PULL => "PULL",
        kind::PUSH => "PUSH",
        kind::XPUB => "XPUB",
        kind::XSUB => "XSUB",
        kind::STREAM => "STREAM",
        _ => "",
    }
}

/// The socket type number for a ZMTP name (-1 if unknown).
pub fn socket_type_from_name(name: &[u8]) -> i32 {
    (0..=kind::STREAM)
        .find(|t| socket_type_name(*t).as_bytes() == name)
        .unwrap_or(-1)
}

/// Whether a peer of type `peer` may talk to a socket of type `ours`:
/// libzmq's `mechanism_t::check_socket_type` table (STREAM never speaks
/// ZMTP, so it matches nothing).
pub fn compatible(ours: i32, peer: i32) -> bool {
    use kind::*;
    match ours {
        REQ => matches!(peer, REP | ROUTER),
        REP => matches!(peer, REQ | DEALER),
        DEALER => matches!(peer, REP | DEALER | ROUTER),
        ROUTER => matches!(peer, REQ | DEALER | ROUTER),
        PUSH => peer == PULL,
        PULL => peer == PUSH,
        PUB | XPUB => matches!(peer, SUB | XSUB),
        SUB | XSUB => matches!(peer, PUB | XPUB),
        PAIR => peer == PAIR,
        _ => false,
    }
}

/// The READY body libzmq's NULL and PLAIN/CURVE metadata carry: Socket-Type,
/// then Identity for REQ, DEALER and ROUTER only (even when empty), as
/// libzmq 4.3.4 sends them (checked on the wire).
pub(crate) fn basic_properties(socket_type: i32, routing_id: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut props = vec![(
        "Socket-Type".to_string(),
        socket_type_name(socket_type).as_bytes().to_vec(),
    )];
    if matches!(socket_type, kind::REQ | kind::DEALER | kind::ROUTER) {
        props.push(("Identity".to_string(), routing_id.to_vec()));
    }
    props
}

/// Checks the peer's metadata the way libzmq's `parse_metadata` does: a
/// Socket-Type, if present, must be compatible (its absence is accepted).
pub(crate) fn check_properties(
    socket_type: i32,
    props: &[(String, Vec<u8>)],
) -> Result<(), ProtocolError> {
    for (k, v) in props {
        if k == "Socket-Type" && !compatible(socket_type, socket_type_from_name(v)) {
            return Err(ProtocolError::SocketType(
                String::from_utf8_lossy(&v[..v.len().min(32)]).into_owned(),
            ));
        }
    }
    Ok(())
}

struct NullMechanism {
    socket_type: i32,
    ready: Option<Vec<u8>>,
    ready_received: bool,
    props: Vec<(String, Vec<u8>)>,
}

impl NullMechanism {
    fn new(socket_type: i32, routing_id: &[u8]) -> NullMechanism {
        NullMechanism {
            socket_type,
            ready: Some(command::encode(&Command::Ready(basic_properties(
                socket_type,
                routing_id,
            )))),
            ready_received: false,
            props: Vec::new(),
        }
    }
}

impl Handshake for NullMechanism {
    fn next_command(&mut self) -> Option<Vec<u8>> {
        // READY goes out at once: NULL has nothing to wait for (no ZAP yet).
        self.ready.take()
    }

    fn process_command(&mut self, body: &[u8]) -> Result<(), ProtocolError> {
        if self.ready_received {
            return Err(ProtocolError::UnexpectedCommand("command after READY"));
        }
        // Only the name decides which parse applies, so that a malformed
        // READY is reported as such rather than as an unknown command.
        let name_len = *body.first().unwrap_or(&0) as usize;
        let name = body.get(1..1 + name_len).unwrap_or(&[]);
        match name {
            b"READY" => {
                let Command::Ready(props) = command::parse(body)? else {
                    return Err(ProtocolError::Command("READY"));
                };
                check_properties(self.socket_type, &props)?;
                self.props = props;
                self.ready_received = true;
                Ok(())
            }
            b"ERROR" => {
                // libzmq accepts trailing bytes after the reason; only a
                // reason running past the frame is malformed.
                let rest = &body[1 + name_len..];
                let malformed = |detail| ProtocolError::Handshake {
                    code: super::protocol_error::ZMTP_MALFORMED_COMMAND_ERROR,
                    detail,
                };
                let (&len, reason) = rest
                    .split_first()
                    .ok_or(malformed("ERROR without reason"))?;
                let reason = reason
                    .get(..len as usize)
                    .ok_or(malformed("ERROR reason length"))?;
                Err(ProtocolError::PeerError(reason.to_vec()))
            }
            _ => Err(ProtocolError::UnexpectedCommand("not READY or ERROR")),
        }
    }

    fn status(&self) -> Status {
        if self.ready.is_none() && self.ready_received {
            Status::Ready
        } else {
            Status::Handshaking
        }
    }

    fn peer_properties(&mut self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut self.props)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_is_symmetric() {
        for a in 0..=kind::STREAM {
            for b in 0..=kind::STREAM {
                assert_eq!(compatible(a, b), compatible(b, a), "{a} {b}");
            }
        }
    }

    #[test]
    fn names_roundtrip() {
        for t in 0..=kind::STREAM {
            assert_eq!(socket_type_from_name(socket_type_name(t).as_bytes()), t);
        }
        assert_eq!(socket_type_from_name(b"pub"), -1);
    }
}
