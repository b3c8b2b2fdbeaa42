//! Security mechanisms: the ZMTP 3.x handshake after the greeting.
//!
//! A mechanism is a small state machine behind [`Handshake`]: the
//! connection asks it for commands to send, hands it the peer's command
//! frames, and carries its ZAP request to the session and the handler's
//! answer back, until it says `Ready` (then it takes the peer's
//! properties, and CURVE's per-frame [`curve::Codec`]) or `Error` (then the
//! connection writes what is queued, an ERROR, and closes).
//!
//! NULL lives here; PLAIN in `plain.rs`, CURVE in `curve.rs`. Client or
//! server is `Config::as_server`, as libzmq's options set it.

use std::fmt;

use zeroize::Zeroizing;

use super::command::{self, Command};
use super::zap::{self, ZapConfig};
use super::{curve, plain, ProtocolError};
use crate::socket::kind;

/// PLAIN's credentials (the server needs none: its ZAP handler checks).
#[derive(Clone, Default)]
pub struct PlainCredentials {
    pub username: Vec<u8>,
    pub password: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for PlainCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlainCredentials")
            .field("username", &String::from_utf8_lossy(&self.username))
            .finish_non_exhaustive()
    }
}

/// CURVE's long-term keys: ours, and the server's for a client.
#[derive(Clone, Default)]
pub struct CurveKeys {
    pub public_key: [u8; 32],
    pub secret_key: Zeroizing<[u8; 32]>,
    pub server_key: [u8; 32],
}

impl fmt::Debug for CurveKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CurveKeys")
            .field("public_key", &self.public_key)
            .field("server_key", &self.server_key)
            .finish_non_exhaustive()
    }
}

/// The configured security mechanism (`ZMQ_MECHANISM`) and its settings.
#[derive(Debug, Clone, Default)]
pub enum Mechanism {
    #[default]
    Null,
    Plain(PlainCredentials),
    Curve(CurveKeys),
}

impl Mechanism {
    /// The name carried in the greeting.
    pub fn name(&self) -> &'static str {
        match self {
            Mechanism::Null => "NULL",
            Mechanism::Plain(_) => "PLAIN",
            Mechanism::Curve(_) => "CURVE",
        }
    }

    pub(crate) fn start(&self, setup: Setup) -> Result<Box<dyn Handshake>, ProtocolError> {
        Ok(match self {
            Mechanism::Null => Box::new(NullMechanism::new(setup)),
            Mechanism::Plain(_) if setup.as_server => Box::new(plain::Server::new(setup)),
            Mechanism::Plain(creds) => Box::new(plain::Client::new(setup, creds)),
            Mechanism::Curve(keys) if setup.as_server => Box::new(curve::Server::new(setup, keys)?),
            Mechanism::Curve(keys) => Box::new(curve::Client::new(setup, keys)?),
        })
    }
}

/// What a mechanism needs of its connection's configuration.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub socket_type: i32,
    pub routing_id: Vec<u8>,
    pub as_server: bool,
    pub zap: ZapConfig,
    pub app_metadata: Vec<(String, Vec<u8>)>,
}

impl Setup {
    /// Our READY/INITIATE metadata, as libzmq's mechanisms send it: the
    /// basic properties, then the application's.
    pub(crate) fn properties(&self) -> Vec<(String, Vec<u8>)> {
        let mut props = basic_properties(self.socket_type, &self.routing_id);
        props.extend(self.app_metadata.iter().cloned());
        props
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    Handshaking,
    Ready,
    /// Failed: the connection writes what is queued (an ERROR, maybe),
    /// then closes; `Handshake::error` says why.
    Error,
}

pub(crate) trait Handshake: Send {
    /// The next command body to send, if any is due.
    fn next_command(&mut self) -> Result<Option<Vec<u8>>, ProtocolError>;
    /// One command frame body from the peer.
    fn process_command(&mut self, body: &[u8]) -> Result<(), ProtocolError>;
    fn status(&self) -> Status;
    /// Why the status is `Error`.
    fn error(&self) -> Option<ProtocolError> {
        None
    }
    /// The peer's properties (READY/INITIATE metadata), in arrival order.
    fn peer_properties(&mut self) -> Vec<(String, Vec<u8>)>;
    /// A ZAP request's frames for the session to send, once.
    fn take_zap_request(&mut self) -> Option<Vec<Vec<u8>>> {
        None
    }
    /// The session's answer to our request.
    fn zap_outcome(&mut self, outcome: zap::Outcome) -> Result<(), ProtocolError> {
        let _ = outcome;
        Err(ProtocolError::Handshake {
            code: super::code::ZAP_UNSPECIFIED,
            what: "ZAP reply nobody asked for",
        })
    }
    /// User-Id and the handler's metadata, for the connection's messages.
    fn zap_properties(&mut self) -> Vec<(String, Vec<u8>)> {
        Vec::new()
    }
    /// CURVE's boxes for the frames after the handshake.
    fn take_codec(&mut self) -> Option<curve::Codec> {
        None
    }
}

/// What a server-side mechanism does with the ZAP handler's answer,
/// shared by NULL, PLAIN and CURVE (libzmq's `zap_client_common_handshake_t`):
/// 200 goes on; 300 closes without a word (a temporary failure, RFC 27);
/// 400 and 500 send ERROR with the status, then close.
#[derive(Debug, Default)]
pub(crate) struct ZapState {
    pub wait: zap::Wait,
    /// The reply's properties once accepted.
    pub properties: Vec<(String, Vec<u8>)>,
    /// Refused with this status.
    pub refused: Option<u16>,
    /// The ERROR for a refusal, not yet sent.
    pub error_command: Option<Vec<u8>>,
}

impl ZapState {
    pub(crate) fn ask(&mut self, setup: &Setup, mechanism: &str, credentials: &[&[u8]]) {
        self.wait = zap::Wait::Queued(zap::request(
            &setup.zap,
            &setup.routing_id,
            mechanism,
            credentials,
        ));
    }

    /// Takes the reply in; `Ok(true)` when authentication succeeded.
    pub(crate) fn reply(&mut self, reply: zap::Reply) -> Result<bool, ProtocolError> {
        if self.wait != zap::Wait::Sent {
            return Err(ProtocolError::Handshake {
                code: super::code::ZAP_UNSPECIFIED,
                what: "ZAP reply nobody asked for",
            });
        }
        self.wait = zap::Wait::Idle;
        if reply.status == 200 {
            self.properties = zap::properties(&reply);
            return Ok(true);
        }
        self.refused = Some(reply.status);
        if reply.status != 300 {
            self.error_command = Some(zap::error_command(reply.status));
        }
        Ok(false)
    }

    pub(crate) fn refusal(&self) -> Option<ProtocolError> {
        self.refused.map(ProtocolError::Auth)
    }
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
        kind::SERVER => "SERVER",
        kind::CLIENT => "CLIENT",
        kind::RADIO => "RADIO",
        kind::DISH => "DISH",
        kind::GATHER => "GATHER",
        kind::SCATTER => "SCATTER",
        kind::DGRAM => "DGRAM",
        kind::PEER => "PEER",
        kind::CHANNEL => "CHANNEL",
        _ => "",
    }
}

/// The socket type number for a ZMTP name (-1 if unknown).
pub fn socket_type_from_name(name: &[u8]) -> i32 {
    (0..=kind::CHANNEL)
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
        SERVER => peer == CLIENT,
        CLIENT => peer == SERVER,
        RADIO => peer == DISH,
        DISH => peer == RADIO,
        GATHER => peer == SCATTER,
        SCATTER => peer == GATHER,
        DGRAM | PEER | CHANNEL => peer == ours,
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

/// NULL (RFC 23): READY both ways. With `ZMQ_ZAP_DOMAIN` set, READY waits
/// for the ZAP handler's approval, as in libzmq (either side, client or
/// server: NULL has no roles).
struct NullMechanism {
    setup: Setup,
    ready_sent: bool,
    ready_received: bool,
    props: Vec<(String, Vec<u8>)>,
    zap: ZapState,
    /// The domain asks for ZAP and the handler has not answered yet.
    zap_pending: bool,
}

impl NullMechanism {
    fn new(setup: Setup) -> NullMechanism {
        let mut zap = ZapState::default();
        let zap_pending = !setup.zap.domain.is_empty();
        if zap_pending {
            zap.ask(&setup, "NULL", &[]);
        }
        NullMechanism {
            setup,
            ready_sent: false,
            ready_received: false,
            props: Vec::new(),
            zap,
            zap_pending,
        }
    }
}

impl Handshake for NullMechanism {
    fn next_command(&mut self) -> Result<Option<Vec<u8>>, ProtocolError> {
        if let Some(e) = self.zap.error_command.take() {
            return Ok(Some(e));
        }
        if self.ready_sent || self.zap_pending || self.zap.refused.is_some() {
            return Ok(None);
        }
        self.ready_sent = true;
        Ok(Some(command::encode(&Command::Ready(
            self.setup.properties(),
        ))))
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
                check_properties(self.setup.socket_type, &props)?;
                self.props = props;
                self.ready_received = true;
                Ok(())
            }
            b"ERROR" => Err(zap::peer_error(body)),
            _ => Err(ProtocolError::UnexpectedCommand("not READY or ERROR")),
        }
    }

    fn status(&self) -> Status {
        if self.zap.refused.is_some() {
            Status::Error
        } else if self.ready_sent && self.ready_received {
            Status::Ready
        } else {
            Status::Handshaking
        }
    }

    fn error(&self) -> Option<ProtocolError> {
        self.zap.refusal()
    }

    fn peer_properties(&mut self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut self.props)
    }

    fn take_zap_request(&mut self) -> Option<Vec<Vec<u8>>> {
        self.zap.wait.take()
    }

    fn zap_outcome(&mut self, outcome: zap::Outcome) -> Result<(), ProtocolError> {
        match outcome {
            // libzmq: without a handler NULL goes on, unless the domain
            // must be enforced.
            zap::Outcome::NoHandler if self.setup.zap.enforce => Err(ProtocolError::NoZapHandler),
            zap::Outcome::NoHandler => {
                self.zap.wait = zap::Wait::Idle;
                self.zap_pending = false;
                Ok(())
            }
            zap::Outcome::Reply(r) => {
                self.zap.reply(r)?;
                self.zap_pending = false;
                Ok(())
            }
        }
    }

    fn zap_properties(&mut self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut self.zap.properties)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compatibility_is_symmetric() {
        for a in 0..=kind::CHANNEL {
            for b in 0..=kind::CHANNEL {
                assert_eq!(compatible(a, b), compatible(b, a), "{a} {b}");
            }
        }
    }

    #[test]
    fn names_roundtrip() {
        for t in 0..=kind::CHANNEL {
            assert_eq!(socket_type_from_name(socket_type_name(t).as_bytes()), t);
        }
        assert_eq!(socket_type_from_name(b"pub"), -1);
    }
}
