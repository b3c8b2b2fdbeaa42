//! Framing. ZMTP 3.x and 2.0 frames are a flags byte (MORE, LONG, and in
//! 3.x COMMAND), a 1- or 8-byte big-endian size, then the body. ZMTP 1.0
//! frames are a size (1 byte, or `FF` and 8 bytes) that counts the flags
//! byte, the flags byte (MORE), then the body.
//!
//! The decoder never trusts a size: anything above the limit
//! (`ZMQ_MAXMSGSIZE`, or the 2^63 sanity bound) is an error before any
//! memory is taken for it.

use super::greeting::Version;
use super::ProtocolError;
use crate::msg::{flags, Msg};

const MORE: u8 = 0x01;
const LONG: u8 = 0x02;
const COMMAND: u8 = 0x04;

/// Writes the header of a frame of `size` bytes into `out`.
pub fn encode_header(out: &mut Vec<u8>, version: Version, size: usize, more: bool, command: bool) {
    if version == Version::V1_0 {
        let len = size as u64 + 1;
        if len < 0xFF {
            out.push(len as u8);
        } else {
            out.push(0xFF);
            out.extend_from_slice(&len.to_be_bytes());
        }
        out.push(if more { MORE } else { 0 });
        return;
    }
    let mut f = 0;
    if more {
        f |= MORE;
    }
    if command && version >= Version::V3_0 {
        f |= COMMAND;
    }
    if size > 255 {
        out.push(f | LONG);
        out.extend_from_slice(&(size as u64).to_be_bytes());
    } else {
        out.push(f);
        out.push(size as u8);
    }
}

/// Writes a whole frame (header and body) into `out`.
pub fn encode(out: &mut Vec<u8>, version: Version, msg: &Msg) {
    let command = msg.flags() & flags::COMMAND != 0;
    encode_header(out, version, msg.len(), msg.more(), command);
    out.extend_from_slice(msg.data());
}

enum State {
    /// Collecting the header bytes.
    Header,
    /// Filling a message allocated at its final size.
    Body { body: Msg, filled: usize },
    /// Collecting `remaining` body bytes of a frame too large to take on
    /// the peer's word (no `ZMQ_MAXMSGSIZE`): memory grows as bytes come.
    Growing {
        body: Vec<u8>,
        remaining: usize,
        flags: u8,
    },
}

/// Bodies up to this size are allocated whole when their header arrives;
/// larger ones too when `ZMQ_MAXMSGSIZE` vouches for the size.
const TRUSTED_SIZE: usize = 16 << 20;

/// Turns a byte stream into frames.
pub struct Decoder {
    version: Version,
    max_size: u64,
    header: Vec<u8>,
    state: State,
}

impl Decoder {
    /// `max_size`: the largest body accepted (`ZMQ_MAXMSGSIZE`; -1 = none).
    pub fn new(version: Version, max_size: i64) -> Decoder {
        Decoder {
            version,
            max_size: if max_size < 0 {
                i64::MAX as u64
            } else {
                max_size as u64
            },
            header: Vec::with_capacity(10),
            state: State::Header,
        }
    }

    /// Decodes from `input`; returns how many bytes were used and the
    /// frame, if one was completed. Call again with the rest.
    pub fn decode(&mut self, input: &[u8]) -> Result<(usize, Option<Msg>), ProtocolError> {
        self.decode_shared(input, None)
    }

    /// As `decode`, where `input` starts at byte `base` of the shared
    /// buffer `source`: a body wholly inside `input` becomes a slice of it,
    /// with no allocation and no copy.
    pub fn decode_shared(
        &mut self,
        input: &[u8],
        source: Option<(&Msg, usize)>,
    ) -> Result<(usize, Option<Msg>), ProtocolError> {
        let mut used = 0;
        loop {
            match &mut self.state {
                State::Header => {
                    let rest = &input[used..];
                    let whole = match rest.first() {
                        Some(&first) if self.header.is_empty() => {
                            let need = header_len(self.version, first);
                            (rest.len() >= need).then_some(need)
                        }
                        _ => None,
                    };
                    let (size, flags) = if let Some(need) = whole {
                        // The usual case: the whole header is in the input.
                        let parsed = parse_header(self.version, &rest[..need])?;
                        used += need;
                        parsed
                    } else {
                        let Some(&first) = self.header.first() else {
                            if used == input.len() {
                                return Ok((used, None));
                            }
                            self.header.push(input[used]);
                            used += 1;
                            continue;
                        };
                        let need = header_len(self.version, first);
                        if self.header.len() < need {
                            if used == input.len() {
                                return Ok((used, None));
                            }
                            let take = (need - self.header.len()).min(input.len() - used);
                            self.header.extend_from_slice(&input[used..used + take]);
                            used += take;
                            continue;
                        }
                        let parsed = parse_header(self.version, &self.header)?;
                        self.header.clear();
                        parsed
                    };
                    if size > self.max_size {
                        return Err(ProtocolError::TooLarge {
                            size,
                            limit: self.max_size,
                        });
                    }
                    let size = usize::try_from(size)
                        .map_err(|_| ProtocolError::Frame("size beyond address space"))?;
                    if size == 0 {
                        return Ok((used, Some(make_msg(Vec::new(), flags))));
                    }
                    if let Some((chunk, base)) = source {
                        if size > crate::msg::INLINE_MAX && size <= input.len() - used {
                            if let Some(mut body) = chunk.slice(base + used, size) {
                                body.set_flags(flags);
                                used += size;
                                return Ok((used, Some(body)));
                            }
                        }
                    }
                    if size <= TRUSTED_SIZE || self.max_size < i64::MAX as u64 {
                        // One allocation at the final size, filled in place.
                        let mut body = Msg::try_fillable(size)
                            .ok_or(ProtocolError::Frame("out of memory for a frame"))?;
                        body.set_flags(flags);
                        self.state = State::Body { body, filled: 0 };
                    } else {
                        // Take memory as bytes arrive, not as the peer claims.
                        let initial = size.min(input.len() - used).min(1 << 20);
                        self.state = State::Growing {
                            body: Vec::with_capacity(initial),
                            remaining: size,
                            flags,
                        };
                    }
                }
                State::Body { body, filled } => {
                    let Some(dst) = body.unique_bytes_mut() else {
                        return Err(ProtocolError::Frame("decoder state"));
                    };
                    let take = (dst.len() - *filled).min(input.len() - used);
                    dst[*filled..*filled + take].copy_from_slice(&input[used..used + take]);
                    used += take;
                    *filled += take;
                    if *filled < dst.len() {
                        return Ok((used, None));
                    }
                    let State::Body { body, .. } =
                        std::mem::replace(&mut self.state, State::Header)
                    else {
                        return Err(ProtocolError::Frame("decoder state"));
                    };
                    return Ok((used, Some(body)));
                }
                State::Growing {
                    body,
                    remaining,
                    flags,
                } => {
                    let take = (*remaining).min(input.len() - used);
                    body.extend_from_slice(&input[used..used + take]);
                    used += take;
                    *remaining -= take;
                    if *remaining > 0 {
                        return Ok((used, None));
                    }
                    let flags = *flags;
                    let State::Growing { body, .. } =
                        std::mem::replace(&mut self.state, State::Header)
                    else {
                        return Err(ProtocolError::Frame("decoder state"));
                    };
                    return Ok((used, Some(make_msg(body, flags))));
                }
            }
        }
    }

    /// Between frames, the data frame that `input` starts with when its
    /// header and body are both there: (header length, body size, flags).
    /// None when the decoder is mid-frame, the frame is incomplete or a
    /// command: `decode_shared` then takes over. The size checks are
    /// `decode_shared`'s.
    #[inline]
    pub fn whole_data_frame(
        &self,
        input: &[u8],
    ) -> Result<Option<(usize, usize, u8)>, ProtocolError> {
        if !matches!(self.state, State::Header) || !self.header.is_empty() {
            return Ok(None);
        }
        let Some(&first) = input.first() else {
            return Ok(None);
        };
        let hl = header_len(self.version, first);
        let Some(h) = input.get(..hl) else {
            return Ok(None);
        };
        let (size, flags) = parse_header(self.version, h)?;
        if size > self.max_size {
            return Err(ProtocolError::TooLarge {
                size,
                limit: self.max_size,
            });
        }
        if flags & flags::COMMAND != 0 {
            return Ok(None);
        }
        match usize::try_from(size) {
            Ok(size) if size <= input.len() - hl => Ok(Some((hl, size, flags))),
            _ => Ok(None),
        }
    }

    /// While a body allocated at its final size is being filled: the part
    /// still missing, so a caller can read the stream straight into it.
    pub fn body_space(&mut self) -> Option<&mut [u8]> {
        match &mut self.state {
            State::Body { body, filled } => {
                let filled = *filled;
                body.unique_bytes_mut()?.get_mut(filled..)
            }
            _ => None,
        }
    }

    /// `n` bytes were written into `body_space`; the frame, if that
    /// completed it.
    pub fn body_written(&mut self, n: usize) -> Option<Msg> {
        let State::Body { body, filled } = &mut self.state else {
            return None;
        };
        *filled = (*filled + n).min(body.len());
        if *filled < body.len() {
            return None;
        }
        match std::mem::replace(&mut self.state, State::Header) {
            State::Body { body, .. } => Some(body),
            _ => None,
        }
    }
}

/// A header's total length, from its first byte.
fn header_len(version: Version, first: u8) -> usize {
    match version {
        Version::V1_0 if first == 0xFF => 10,
        Version::V1_0 => 2,
        _ if first & LONG != 0 => 9,
        _ => 2,
    }
}

/// (body size, our flags) from a complete header.
fn parse_header(version: Version, h: &[u8]) -> Result<(u64, u8), ProtocolError> {
    let be64 = |b: &[u8]| -> u64 {
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        u64::from_be_bytes(a)
    };
    match version {
        Version::V1_0 => {
            let (len, f) = if h[0] == 0xFF {
                (be64(&h[1..9]), h[9])
            } else {
                (h[0] as u64, h[1])
            };
            if len == 0 {
                return Err(ProtocolError::Frame("zero length"));
            }
            // Other bits are ignored, as libzmq does: our own signature
            // reads as a 1.0 frame header with flags 7F.
            Ok((len - 1, if f & MORE != 0 { flags::MORE } else { 0 }))
        }
        v => {
            let f = h[0];
            let allowed = if v >= Version::V3_0 {
                MORE | LONG | COMMAND
            } else {
                MORE | LONG
            };
            if f & !allowed != 0 {
                return Err(ProtocolError::Frame("reserved flag bits"));
            }
            if f & COMMAND != 0 && f & MORE != 0 {
                return Err(ProtocolError::Frame("command with MORE"));
            }
            let size = if f & LONG != 0 {
                let s = be64(&h[1..9]);
                if s > i64::MAX as u64 {
                    return Err(ProtocolError::Frame("size above 2^63"));
                }
                s
            } else {
                h[1] as u64
            };
            let mut out = 0;
            if f & MORE != 0 {
                out |= flags::MORE;
            }
            if f & COMMAND != 0 {
                out |= flags::COMMAND;
            }
            Ok((size, out))
        }
    }
}

fn make_msg(body: Vec<u8>, flags: u8) -> Msg {
    let mut m = Msg::from_vec(body);
    m.set_flags(flags);
    m
}

#[cfg(test)]
#[path = "frame_tests.rs"]
mod tests;
