//! The greeting: signature, version, mechanism and role.
//!
//! ZMTP 3.x greets with 64 bytes: `FF`, 8 padding bytes, `7F`, major,
//! minor, a 20-byte mechanism name, the as-server flag and 31 zero bytes.
//! Older peers are recognised from the first bytes, as libzmq does: a
//! first byte other than `FF` or a byte 9 without its low bit is ZMTP 1.0
//! (whose first frame is the identity); major version 1 is ZMTP 2.0.

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
    /// ZMTP 2.0 only: the peer's socket type byte.
    pub socket_type: Option<u8>,
}

/// Our 64-byte ZMTP 3.1 greeting.
pub fn encode(mechanism: &str, as_server: bool) -> [u8; GREETING_SIZE] {
    let mut g = [0u8; GREETING_SIZE];
    g[0] = 0xFF;
    g[9] = 0x7F;
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
            Some(&major) if major >= 3 => GREETING_SIZE - have,
            // ZMTP 2.0: major and socket type.
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

    fn check(&self) -> Result<Option<Greeting>, ProtocolError> {
        let b = &self.buf;
        if b[0] != 0xFF {
            return Ok(Some(v1()));
        }
        if b.len() < SIGNATURE_SIZE {
            return Ok(None);
        }
        if b[9] & 1 == 0 {
            return Ok(Some(v1()));
        }
        if b.len() < 11 {
            return Ok(None);
        }
        match b[10] {
            0 => Ok(Some(v1())),
            1 | 2 => {
                if b.len() < 12 {
                    return Ok(None);
                }
                Ok(Some(Greeting {
                    version: Version::V2_0,
                    mechanism: "NULL".into(),
                    as_server: false,
                    socket_type: Some(b[11]),
                }))
            }
            _ => {
                if b.len() < GREETING_SIZE {
                    return Ok(None);
                }
                let version = if b[11] == 0 {
                    Version::V3_0
                } else {
                    Version::V3_1
                };
                let mech = &b[12..32];
                let end = mech.iter().position(|c| *c == 0).unwrap_or(20);
                let mech = &mech[..end];
                if mech.is_empty() || !mech.iter().all(|c| c.is_ascii_alphanumeric()) {
                    return Err(ProtocolError::Greeting("invalid mechanism name"));
                }
                if b[32] > 1 {
                    return Err(ProtocolError::Greeting("invalid as-server flag"));
                }
                Ok(Some(Greeting {
                    version,
                    mechanism: String::from_utf8_lossy(mech).into_owned(),
                    as_server: b[32] == 1,
                    socket_type: None,
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_v31_byte_by_byte() {
        let g = encode("PLAIN", true);
        let mut d = GreetingDecoder::default();
        for (i, b) in g.iter().enumerate() {
            match d.feed(&[*b]).unwrap() {
                Progress::More => assert!(i < 63),
                Progress::Done { greeting, consumed } => {
                    assert_eq!(i, 63);
                    assert_eq!(consumed, 1);
                    assert_eq!(greeting.version, Version::V3_1);
                    assert_eq!(greeting.mechanism, "PLAIN");
                    assert!(greeting.as_server);
                }
            }
        }
    }

    #[test]
    fn stops_at_greeting_end() {
        let mut bytes = encode("NULL", false).to_vec();
        bytes.extend_from_slice(b"\x04\x05READY");
        let mut d = GreetingDecoder::default();
        match d.feed(&bytes).unwrap() {
            Progress::Done { consumed, .. } => assert_eq!(consumed, 64),
            p => panic!("{p:?}"),
        }
    }

    #[test]
    fn detects_old_versions() {
        let mut d = GreetingDecoder::default();
        let p = d.feed(&[0x05, 0x00, b'h']).unwrap();
        assert!(matches!(p, Progress::Done { greeting, .. } if greeting.version == Version::V1_0));
        let mut d = GreetingDecoder::default();
        let v2 = [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 1, 5];
        let p = d.feed(&v2).unwrap();
        assert!(matches!(p, Progress::Done { greeting, consumed: 12 }
            if greeting.version == Version::V2_0 && greeting.socket_type == Some(5)));
    }

    #[test]
    fn rejects_garbage_mechanism() {
        let mut g = encode("NULL", false);
        g[12] = 0x01;
        assert!(GreetingDecoder::default().feed(&g).is_err());
    }
}
