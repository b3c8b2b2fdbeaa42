//! The greeting: signature, version, mechanism and role.
//!
//! ZMTP 3.x greets with 64 bytes: `FF`, 8 padding bytes, `7F`, major,
//! minor, a 20-byte mechanism name, the as-server flag and 31 zero bytes.
//! Older peers are recognised from the first bytes, as libzmq does: a
//! first byte other than `FF` or a byte 9 without its low bit is an
//! unversioned ZMTP 1.0 peer (whose first frame is the identity, and whose
//! bytes read so far belong to that frame); major version 0 is a versioned
//! 1.0 peer and 1 is ZMTP 2.0 (both a 12-byte greeting whose last byte is
//! the socket type); 3 and above is ZMTP 3.x.
//!
//! libzmq sends its greeting in stages so that old peers never see bytes
//! they cannot parse: the 10-byte signature first (its padding is a ZMTP
//! 1.0 long-frame length of identity + 1, so to a 1.0 peer it is the
//! header of our identity frame), the major version once the peer's
//! signature is in, and the rest once the peer's major version is known.
//! [`signature`], [`MAJOR`] and [`encode_rest`] are those stages.

use super::ProtocolError;

pub const GREETING_SIZE: usize = 64;
/// Bytes that identify a ZMTP 2.0+ peer and carry its major version.
pub const SIGNATURE_SIZE: usize = 10;

/// The protocol revision spoken on a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Version {
    V1_0,
    V2_0,
    V3_0,
    V3_1,
}

/// What the peer's greeting said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Greeting {
    pub version: Version,
    /// ZMTP 3.x only: "NULL", "PLAIN", "CURVE", ...
    pub mechanism: String,
    pub as_server: bool,
    /// ZMTP 2.0 and versioned 1.0 only: the peer's socket type byte.
    pub socket_type: Option<u8>,
    /// An unversioned ZMTP 1.0 peer: the bytes read so far
    /// ([`GreetingDecoder::v1_prefix`]) are the start of its first frame.
    pub unversioned: bool,
}

/// Stage 1: the signature; the padding is `identity_len + 1`, big-endian.
pub fn signature(identity_len: usize) -> [u8; SIGNATURE_SIZE] {
    let mut s = [0u8; SIGNATURE_SIZE];
    s[0] = 0xFF;
    s[1..9].copy_from_slice(&(identity_len as u64 + 1).to_be_bytes());
    s[9] = 0x7F;
    s
}

/// Stage 2: the major version we send (libzmq sends 3 even to 2.0 peers).
pub const MAJOR: u8 = 3;

/// Stage 3 for a 3.x peer: minor version, mechanism, as-server, filler
/// (bytes 11..64 of the greeting). libzmq 4.3 leaves the as-server byte 0
/// whatever its role (observed with a PLAIN server), so we do the same.
pub fn encode_rest(minor: u8, mechanism: &str) -> [u8; GREETING_SIZE - 11] {
    let mut g = [0u8; GREETING_SIZE - 11];
    g[0] = minor;
    let name = mechanism.as_bytes();
    let n = name.len().min(20);
    g[1..1 + n].copy_from_slice(&name[..n]);
    g
}

/// A whole 64-byte ZMTP 3.1 greeting (tests and tools; the connection
/// sends it in stages).
pub fn encode(mechanism: &str, as_server: bool) -> [u8; GREETING_SIZE] {
    let mut g = [0u8; GREETING_SIZE];
    g[..SIGNATURE_SIZE].copy_from_slice(&signature(0));
    g[10] = 3;
    g[11] = 1;
    let name = mechanism.as_bytes();
    let n = name.len().min(20);
    g[12..12 + n].copy_from_slice(&name[..n]);
    g[32] = as_server as u8;
    g
}

/// Incremental greeting reader: feed bytes until it says what the peer is.
#[derive(Default)]
pub struct GreetingDecoder {
    buf: Vec<u8>,
    /// Reads greetings as a ZMTP 2.0 peer would: 12 bytes, any major.
    v2_only: bool,
}

/// The result of feeding bytes to the greeting decoder.
#[derive(Debug, PartialEq, Eq)]
pub enum Progress {
    /// Need more bytes.
    More,
    /// Done; `consumed` bytes of the last input belonged to the greeting.
    Done { greeting: Greeting, consumed: usize },
}

impl GreetingDecoder {
    /// A decoder that reads as a ZMTP 2.0 peer does (tests that play one).
    pub fn v2_only() -> GreetingDecoder {
        GreetingDecoder {
            buf: Vec::new(),
            v2_only: true,
        }
    }

    /// How many more bytes the decoder wants at most (read no further, so
    /// frames after the greeting stay in the caller's buffer).
    pub fn wanted(&self) -> usize {
        let have = self.buf.len();
        if have < SIGNATURE_SIZE {
            // Stop after byte 0 too: a 1.0 peer may send fewer than 10 bytes.
            if have == 0 {
                return 1;
            }
            return SIGNATURE_SIZE - have;
        }
        match self.buf[10..].first() {
            None => 1,
            Some(&major) if major >= 2 && !self.v2_only => GREETING_SIZE - have,
            // ZMTP 2.0 or versioned 1.0: major and socket type.
            Some(_) => 12usize.saturating_sub(have),
        }
    }

    pub fn feed(&mut self, input: &[u8]) -> Result<Progress, ProtocolError> {
        let mut consumed = 0;
        while consumed < input.len() {
            let want = self.wanted();
            if want == 0 {
                break;
            }
            let take = want.min(input.len() - consumed);
            self.buf
                .extend_from_slice(&input[consumed..consumed + take]);
            consumed += take;
            if let Some(g) = self.check()? {
                return Ok(Progress::Done {
                    greeting: g,
                    consumed,
                });
            }
        }
        Ok(Progress::More)
    }

    /// The bytes read so far (the caller stages its own greeting on them).
    pub fn received(&self) -> &[u8] {
        &self.buf
    }

    fn check(&self) -> Result<Option<Greeting>, ProtocolError> {
        let b = &self.buf;
        let Some(&first) = b.first() else {
            return Ok(None);
        };
        if first != 0xFF {
            return Ok(Some(v1()));
        }
        if b.len() < SIGNATURE_SIZE {
            return Ok(None);
        }
        if b[9] & 1 == 0 {
            return Ok(Some(v1()));
        }
        if b.len() < 12 {
            return Ok(None);
        }
        if self.v2_only && b[10] >= 1 {
            return Ok(Some(Greeting {
                version: Version::V2_0,
                mechanism: "NULL".into(),
                as_server: false,
                socket_type: Some(b[11]),
                unversioned: false,
            }));
        }
        match b[10] {
            // libzmq maps revision 0 to 1.0 framing and 1 to 2.0; 2 never
            // existed on the wire and, like libzmq, we treat it as 3.x.
            0 | 1 => Ok(Some(Greeting {
                version: if b[10] == 0 {
                    Version::V1_0
                } else {
                    Version::V2_0
                },
                mechanism: "NULL".into(),
                as_server: false,
                socket_type: Some(b[11]),
                unversioned: false,
            })),
            _ => {
                if b.len() < GREETING_SIZE {
                    return Ok(None);
                }
                // Any major above 3 and any minor above 0 speak 3.1 to
                // us, as libzmq does.
                let version = if b[10] == 3 && b[11] == 0 {
                    Version::V3_0
                } else {
                    Version::V3_1
                };
                let mech = &b[12..32];
                let end = mech.iter().position(|c| *c == 0).unwrap_or(20);
                let (name, pad) = mech.split_at(end);
                // libzmq compares all 20 bytes, so "NULL\0X" is no NULL.
                if name.is_empty()
                    || !name
                        .iter()
                        .all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
                    || pad.iter().any(|c| *c != 0)
                {
                    return Err(ProtocolError::Greeting("invalid mechanism name"));
                }
                Ok(Some(Greeting {
                    version,
                    mechanism: String::from_utf8_lossy(name).into_owned(),
                    // libzmq ignores this byte (and sends 0), so any value
                    // is accepted.
                    as_server: b[32] != 0,
                    socket_type: None,
                    unversioned: false,
                }))
            }
        }
    }

    /// Bytes already read that belong to a ZMTP 1.0 peer's first frame.
    pub fn v1_prefix(&self) -> &[u8] {
        &self.buf
    }
}

fn v1() -> Greeting {
    Greeting {
        version: Version::V1_0,
        mechanism: "NULL".into(),
        as_server: false,
        socket_type: None,
        unversioned: true,
    }
}

#[cfg(test)]
#[path = "greeting_tests.rs"]
mod tests;
