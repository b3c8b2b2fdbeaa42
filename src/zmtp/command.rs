//! ZMTP 3.x commands: a name (1-byte length + ASCII) and a body.
//! READY and the metadata of other mechanisms carry properties: a 1-byte
//! name length, the name, a 4-byte big-endian value length, the value.

use super::ProtocolError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Ready(Vec<(String, Vec<u8>)>),
    Error(Vec<u8>),
    Ping {
        ttl_ds: u16,
        context: Vec<u8>,
    },
    Pong(Vec<u8>),
    Subscribe(Vec<u8>),
    Cancel(Vec<u8>),
    /// Any other command (mechanism handshakes: HELLO, WELCOME, ...).
    Other {
        name: String,
        body: Vec<u8>,
    },
}

/// Parses a command frame's body.
pub fn parse(frame: &[u8]) -> Result<Command, ProtocolError> {
    let (&n, rest) = frame
        .split_first()
        .ok_or(ProtocolError::Command("empty command"))?;
    let n = n as usize;
    if rest.len() < n {
        return Err(ProtocolError::Command("name runs past the frame"));
    }
    let (name, body) = rest.split_at(n);
    Ok(match name {
        b"READY" => Command::Ready(parse_properties(body)?),
        b"ERROR" => {
            let (&len, reason) = body
                .split_first()
                .ok_or(ProtocolError::Command("ERROR without reason"))?;
            if reason.len() != len as usize {
                return Err(ProtocolError::Command("ERROR reason length"));
            }
            Command::Error(reason.to_vec())
        }
        b"PING" => {
            if body.len() < 2 || body.len() > 2 + 16 {
                return Err(ProtocolError::Command("PING size"));
            }
            Command::Ping {
                ttl_ds: u16::from_be_bytes([body[0], body[1]]),
                context: body[2..].to_vec(),
            }
        }
        b"PONG" => {
            if body.len() > 16 {
                return Err(ProtocolError::Command("PONG size"));
            }
            Command::Pong(body.to_vec())
        }
        b"SUBSCRIBE" => Command::Subscribe(body.to_vec()),
        b"CANCEL" => Command::Cancel(body.to_vec()),
        _ => {
            if name.is_empty() || !name.iter().all(|c| c.is_ascii_graphic()) {
                return Err(ProtocolError::Command("bad command name"));
            }
            Command::Other {
                name: String::from_utf8_lossy(name).into_owned(),
                body: body.to_vec(),
            }
        }
    })
}

/// Parses READY-style properties, refusing trailing or truncated bytes.
pub fn parse_properties(mut body: &[u8]) -> Result<Vec<(String, Vec<u8>)>, ProtocolError> {
    let mut props = Vec::new();
    while !body.is_empty() {
        let n = body[0] as usize;
        body = &body[1..];
        // libzmq accepts any name bytes, even an empty name; so do we.
        if body.len() < n + 4 {
            return Err(ProtocolError::Command("truncated property"));
        }
        let name = &body[..n];
        let len = u32::from_be_bytes([body[n], body[n + 1], body[n + 2], body[n + 3]]) as usize;
        body = &body[n + 4..];
        if body.len() < len {
            return Err(ProtocolError::Command("truncated property value"));
        }
        props.push((
            String::from_utf8_lossy(name).into_owned(),
            body[..len].to_vec(),
        ));
        body = &body[len..];
    }
    Ok(props)
}

/// Encodes a command's body (what goes into a COMMAND frame).
pub fn encode(cmd: &Command) -> Vec<u8> {
    let mut out = Vec::new();
    let mut name = |n: &str| {
        out.push(n.len() as u8);
        out.extend_from_slice(n.as_bytes());
    };
    match cmd {
        Command::Ready(props) => {
            name("READY");
            encode_properties(&mut out, props);
        }
        Command::Error(reason) => {
            name("ERROR");
            let r = &reason[..reason.len().min(255)];
            out.push(r.len() as u8);
            out.extend_from_slice(r);
        }
        Command::Ping { ttl_ds, context } => {
            name("PING");
            out.extend_from_slice(&ttl_ds.to_be_bytes());
            out.extend_from_slice(&context[..context.len().min(16)]);
        }
        Command::Pong(context) => {
            name("PONG");
            out.extend_from_slice(&context[..context.len().min(16)]);
        }
        Command::Subscribe(topic) => {
            name("SUBSCRIBE");
            out.extend_from_slice(topic);
        }
        Command::Cancel(topic) => {
            name("CANCEL");
            out.extend_from_slice(topic);
        }
        Command::Other { name: n, body } => {
            name(n);
            out.extend_from_slice(body);
        }
    }
    out
}

pub fn encode_properties(out: &mut Vec<u8>, props: &[(String, Vec<u8>)]) {
    for (k, v) in props {
        out.push(k.len() as u8);
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        out.extend_from_slice(v);
    }
}

#[cfg(test)]
#[path = "command_tests.rs"]
mod tests;
