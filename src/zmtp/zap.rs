//! ZAP (RFC 27) as libzmq 4.3 speaks it: the request a mechanism sends to
//! the handler bound at `inproc://zeromq.zap.01`, and the checks on its
//! reply. The session carries both over an inproc pipe; the mechanism
//! decides what a reply (or a missing handler) means for the handshake.

use super::command;
use super::{code, ProtocolError};
use crate::msg::Msg;

/// What a mechanism needs to know to ask a ZAP handler.
#[derive(Debug, Clone, Default)]
pub struct ZapConfig {
    /// `ZMQ_ZAP_DOMAIN`: non-empty makes NULL ask the handler, and makes
    /// the handler required (with `enforce`) for CURVE.
    pub domain: Vec<u8>,
    /// `ZMQ_ZAP_ENFORCE_DOMAIN`: a missing handler fails the handshake
    /// instead of being ignored (NULL, CURVE).
    pub enforce: bool,
    /// The peer's address as the request's Address frame carries it (for
    /// tcp the IP address alone, as libzmq sends it).
    pub peer_address: String,
}

/// The handler's answer, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// 200, 300, 400 or 500.
    pub status: u16,
    pub user_id: Vec<u8>,
    /// The reply's metadata frame, parsed.
    pub metadata: Vec<(String, Vec<u8>)>,
}

/// What the session tells the mechanism about its request.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Nothing is bound at `inproc://zeromq.zap.01`.
    NoHandler,
    Reply(Reply),
}

/// The request's frames: the empty delimiter, version, request id,
/// domain, address, identity, mechanism, then the credentials. libzmq
/// always uses request id "1" and puts its own socket's routing id in the
/// identity frame; so do we, so handlers see the same requests.
pub(crate) fn request(
    cfg: &ZapConfig,
    routing_id: &[u8],
    mechanism: &str,
    credentials: &[&[u8]],
) -> Vec<Vec<u8>> {
    let mut frames = vec![
        Vec::new(),
        b"1.0".to_vec(),
        b"1".to_vec(),
        cfg.domain.clone(),
        cfg.peer_address.as_bytes().to_vec(),
        routing_id.to_vec(),
        mechanism.as_bytes().to_vec(),
    ];
    frames.extend(credentials.iter().map(|c| c.to_vec()));
    frames
}

fn err(code: u32, what: &'static str) -> ProtocolError {
    ProtocolError::Handshake { code, what }
}

/// Checks a reply message (all its frames) the way libzmq's ZAP client
/// does: exactly seven frames, an empty delimiter, version "1.0", request
/// id "1", a status of 200, 300, 400 or 500, and well-formed metadata.
pub fn parse_reply(frames: &[Msg]) -> Result<Reply, ProtocolError> {
    if frames.len() != 7 {
        return Err(err(code::ZAP_MALFORMED_REPLY, "ZAP reply is not 7 frames"));
    }
    if !frames[0].is_empty() {
        return Err(err(code::ZAP_UNSPECIFIED, "ZAP reply without delimiter"));
    }
    if frames[1].data() != b"1.0" {
        return Err(err(code::ZAP_BAD_VERSION, "ZAP reply version"));
    }
    if frames[2].data() != b"1" {
        return Err(err(code::ZAP_BAD_REQUEST_ID, "ZAP reply request id"));
    }
    let status = match frames[3].data() {
        [d @ b'2'..=b'5', b'0', b'0'] => u16::from(d - b'0') * 100,
        _ => return Err(err(code::ZAP_INVALID_STATUS_CODE, "ZAP reply status code")),
    };
    let metadata = command::parse_properties(frames[6].data())
        .map_err(|_| err(code::ZAP_INVALID_METADATA, "ZAP reply metadata"))?;
    Ok(Reply {
        status,
        user_id: frames[5].data().to_vec(),
        metadata,
    })
}

/// The ZAP properties a ready connection's messages carry: User-Id first,
/// then the reply's metadata (libzmq puts them in one map, where the first
/// of a name wins).
pub(crate) fn properties(reply: &Reply) -> Vec<(String, Vec<u8>)> {
    let mut props = vec![("User-Id".to_string(), reply.user_id.clone())];
    props.extend(reply.metadata.iter().cloned());
    props
}

/// How a mechanism's wait for the handler stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Wait {
    /// No request (not needed, or not yet).
    #[default]
    Idle,
    /// A request is ready for the session to take.
    Queued(Vec<Vec<u8>>),
    /// Taken by the session; waiting for its answer.
    Sent,
}

impl Wait {
    pub(crate) fn take(&mut self) -> Option<Vec<Vec<u8>>> {
        match std::mem::replace(self, Wait::Idle) {
            Wait::Queued(frames) => {
                *self = Wait::Sent;
                Some(frames)
            }
            other => {
                *self = other;
                None
            }
        }
    }
}

/// The ERROR command a server sends for a refused status (400, 500): the
/// status code as its reason, as libzmq sends it.
pub(crate) fn error_command(status: u16) -> Vec<u8> {
    command::encode(&command::Command::Error(status.to_string().into_bytes()))
}

/// The peer's ERROR during a handshake: libzmq's clients accept trailing
/// bytes after the reason, and a reason that is a ZAP status code (300, 400,
/// 500) is an authentication failure.
pub(crate) fn peer_error(body: &[u8]) -> ProtocolError {
    let name_len = 1 + usize::from(body.first().copied().unwrap_or(0));
    let Some((&len, rest)) = body.get(name_len..).and_then(|r| r.split_first()) else {
        return err(code::ZMTP_MALFORMED_COMMAND_ERROR, "ERROR without reason");
    };
    let Some(reason) = rest.get(..usize::from(len)) else {
        return err(code::ZMTP_MALFORMED_COMMAND_ERROR, "ERROR reason length");
    };
    match reason {
        [d @ b'3'..=b'5', b'0', b'0'] => ProtocolError::Auth(u16::from(d - b'0') * 100),
        _ => ProtocolError::PeerError(reason.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::msg::flags;

    fn reply(frames: &[&[u8]]) -> Vec<Msg> {
        let n = frames.len();
        frames
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let mut m = Msg::from_slice(f);
                m.set_flags(if i + 1 < n { flags::MORE } else { 0 });
                m
            })
            .collect()
    }

    #[test]
    fn good_reply() {
        let mut meta = Vec::new();
        command::encode_properties(&mut meta, &[("Hello".into(), b"World".to_vec())]);
        let Ok(r) = parse_reply(&reply(&[b"", b"1.0", b"1", b"200", b"OK", b"anna", &meta])) else {
            panic!("a good reply was refused");
        };
        assert_eq!(r.status, 200);
        assert_eq!(r.user_id, b"anna");
        assert_eq!(r.metadata, vec![("Hello".to_string(), b"World".to_vec())]);
        let p = properties(&r);
        assert_eq!(p[0], ("User-Id".to_string(), b"anna".to_vec()));
    }

    #[test]
    fn bad_replies_have_libzmq_codes() {
        let code_of = |frames: &[&[u8]]| match parse_reply(&reply(frames)) {
            Err(ProtocolError::Handshake { code, .. }) => code,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            code_of(&[b"", b"1.0", b"1", b"200", b"", b""]),
            code::ZAP_MALFORMED_REPLY
        );
        assert_eq!(
            code_of(&[b"", b"1.0", b"1", b"200", b"", b"", b"", b""]),
            code::ZAP_MALFORMED_REPLY
        );
        assert_eq!(
            code_of(&[b"x", b"1.0", b"1", b"200", b"", b"", b""]),
            code::ZAP_UNSPECIFIED
        );
        assert_eq!(
            code_of(&[b"", b"2.0", b"1", b"200", b"", b"", b""]),
            code::ZAP_BAD_VERSION
        );
        assert_eq!(
            code_of(&[b"", b"1.0", b"2", b"200", b"", b"", b""]),
            code::ZAP_BAD_REQUEST_ID
        );
        for bad in [&b"201"[..], b"600", b"100", b"20", b"2000", b"abc"] {
            assert_eq!(
                code_of(&[b"", b"1.0", b"1", bad, b"", b"", b""]),
                code::ZAP_INVALID_STATUS_CODE
            );
        }
        assert_eq!(
            code_of(&[b"", b"1.0", b"1", b"200", b"", b"", b"\x05Hel"]),
            code::ZAP_INVALID_METADATA
        );
    }

    #[test]
    fn peer_errors() {
        assert_eq!(peer_error(b"\x05ERROR\x03400"), ProtocolError::Auth(400));
        assert_eq!(peer_error(b"\x05ERROR\x03300xx"), ProtocolError::Auth(300));
        assert_eq!(
            peer_error(b"\x05ERROR\x03200"),
            ProtocolError::PeerError(b"200".to_vec())
        );
        assert!(matches!(
            peer_error(b"\x05ERROR\x09400"),
            ProtocolError::Handshake {
                code: code::ZMTP_MALFORMED_COMMAND_ERROR,
                ..
            }
        ));
        assert!(matches!(
            peer_error(b"\x05ERROR"),
            ProtocolError::Handshake {
                code: code::ZMTP_MALFORMED_COMMAND_ERROR,
                ..
            }
        ));
    }
}
