//! The client side of a SOCKS5 proxy exchange (RFC 1928, with RFC 1929's
//! username/password), as libzmq's `socks_connecter` speaks it, sans I/O:
//! the session writes `output`, feeds what it reads to `input`, and once
//! `is_done` hands the stream (and any bytes read past the proxy's reply)
//! to ZMTP.
//!
//! Choices that follow libzmq 4.3.4 rather than the RFC's letter: one
//! method is offered (username/password when a username is set, else
//! none); the proxy may still pick either of the two; the destination goes
//! as an IPv4 or IPv6 address when it is a numeric one and as a domain
//! name otherwise, so names resolve at the proxy.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use zeroize::Zeroizing;

const VERSION: u8 = 5;
const AUTH_VERSION: u8 = 1;
const NO_AUTH: u8 = 0;
const USERNAME_PASSWORD: u8 = 2;
const CONNECT: u8 = 1;
const ATYP_IPV4: u8 = 1;
const ATYP_DOMAIN: u8 = 3;
const ATYP_IPV6: u8 = 4;

/// Why the exchange failed; the session closes the stream and retries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocksError {
    /// The destination has no usable port (libzmq reads it as C's `atoi`:
    /// 0 or no digits), or a name longer than a SOCKS5 domain (255).
    BadDestination,
    /// A reply that is not SOCKS5 (or not RFC 1929 for the auth step).
    BadVersion(u8),
    /// The proxy picked no method we can speak (0xFF: none acceptable).
    NoAcceptableMethod(u8),
    /// The proxy refused the username/password.
    AuthRefused(u8),
    /// The proxy could not or would not connect (RFC 1928's REP field).
    ConnectRefused(u8),
    /// A reply with a reserved byte set or an unknown address type.
    Malformed,
}

impl fmt::Display for SocksError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SocksError::BadDestination => write!(f, "destination not usable over SOCKS5"),
            SocksError::BadVersion(v) => write!(f, "proxy answered with version {v}"),
            SocksError::NoAcceptableMethod(m) => write!(f, "proxy chose method {m:#04x}"),
            SocksError::AuthRefused(s) => write!(f, "proxy refused the credentials ({s})"),
            SocksError::ConnectRefused(r) => write!(f, "proxy refused the connect ({r})"),
            SocksError::Malformed => write!(f, "malformed proxy reply"),
        }
    }
}

impl std::error::Error for SocksError {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Choice,
    AuthReply,
    Reply,
    Done,
}

/// One exchange with the proxy, for one connect attempt.
pub struct Client {
    state: State,
    request: Vec<u8>,
    username: Vec<u8>,
    password: Zeroizing<Vec<u8>>,
    out: Zeroizing<Vec<u8>>,
    sent: usize,
    /// The reply being read (replies are at most 262 bytes).
    buf: Vec<u8>,
}

impl Client {
    /// `destination` is the tcp connect address (`[src;]host:port`, host
    /// possibly a bracketed IPv6 address); a non-empty `username` offers
    /// username/password instead of no authentication.
    pub fn new(destination: &str, username: &[u8], password: &[u8]) -> Result<Client, SocksError> {
        let request = connect_request(destination)?;
        // A username or password is one length byte on the wire.
        if username.len() > 255 || password.len() > 255 {
            return Err(SocksError::BadDestination);
        }
        let method = if username.is_empty() {
            NO_AUTH
        } else {
            USERNAME_PASSWORD
        };
        Ok(Client {
            state: State::Choice,
            request,
            username: username.to_vec(),
            password: Zeroizing::new(password.to_vec()),
            out: Zeroizing::new(vec![VERSION, 1, method]),
            sent: 0,
            buf: Vec::new(),
        })
    }

    /// Bytes to write to the proxy.
    pub fn output(&self) -> &[u8] {
        &self.out[self.sent..]
    }

    /// `n` bytes of `output` were written.
    pub fn advance_output(&mut self, n: usize) {
        self.sent = (self.sent + n).min(self.out.len());
    }

    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Takes bytes read from the proxy; returns how many belong to the
    /// exchange. Once it is done, the rest are the destination's.
    pub fn input(&mut self, data: &[u8]) -> Result<usize, SocksError> {
        let mut used = 0;
        while used < data.len() && self.state != State::Done {
            let want = self.wanted()?;
            let take = (want - self.buf.len()).min(data.len() - used);
            self.buf.extend_from_slice(&data[used..used + take]);
            used += take;
            self.check_prefix()?;
            if self.buf.len() == self.wanted()? {
                self.complete()?;
            }
        }
        Ok(used)
    }

    /// The length of the reply being read, as far as its bytes so far
    /// tell (the CONNECT reply's length depends on its address type).
    fn wanted(&self) -> Result<usize, SocksError> {
        Ok(match self.state {
            State::Choice | State::AuthReply => 2,
            State::Reply => match self.buf.get(3) {
                None => 4,
                Some(&ATYP_IPV4) => 4 + 4 + 2,
                Some(&ATYP_IPV6) => 4 + 16 + 2,
                Some(&ATYP_DOMAIN) => match self.buf.get(4) {
                    None => 5,
                    Some(&len) => 5 + usize::from(len) + 2,
                },
                Some(_) => return Err(SocksError::Malformed),
            },
            State::Done => 0,
        })
    }

    /// Fails as soon as the bytes read so far cannot start a good reply.
    fn check_prefix(&self) -> Result<(), SocksError> {
        let b = &self.buf;
        match self.state {
            State::Choice => match b.first() {
                Some(&v) if v != VERSION => return Err(SocksError::BadVersion(v)),
                _ => {}
            },
            State::AuthReply => match b.first() {
                Some(&v) if v != AUTH_VERSION => return Err(SocksError::BadVersion(v)),
                _ => {}
            },
            State::Reply => {
                if let Some(&v) = b.first() {
                    if v != VERSION {
                        return Err(SocksError::BadVersion(v));
                    }
                }
                if let Some(&rep) = b.get(1) {
                    if rep != 0 {
                        return Err(SocksError::ConnectRefused(rep));
                    }
                }
                if b.get(2).is_some_and(|&rsv| rsv != 0) {
                    return Err(SocksError::Malformed);
                }
            }
            State::Done => {}
        }
        Ok(())
    }

    /// A whole reply is in `buf`: act on it.
    fn complete(&mut self) -> Result<(), SocksError> {
        let status = self.buf.get(1).copied().unwrap_or(0xff);
        self.buf.clear();
        match self.state {
            State::Choice => match status {
                NO_AUTH => self.send(State::Reply, self.request.clone()),
                USERNAME_PASSWORD => {
                    let mut m = Vec::with_capacity(3 + self.username.len() + self.password.len());
                    m.push(AUTH_VERSION);
                    m.push(self.username.len() as u8);
                    m.extend_from_slice(&self.username);
                    m.push(self.password.len() as u8);
                    m.extend_from_slice(&self.password);
                    self.send(State::AuthReply, m);
                }
                other => return Err(SocksError::NoAcceptableMethod(other)),
            },
            State::AuthReply => {
                if status != 0 {
                    return Err(SocksError::AuthRefused(status));
                }
                self.send(State::Reply, self.request.clone());
            }
            // Where the proxy bound its side tells us nothing we use.
            State::Reply => self.state = State::Done,
            State::Done => {}
        }
        Ok(())
    }

    fn send(&mut self, next: State, message: Vec<u8>) {
        // Anything still unsent stays ahead of the next message.
        let mut out = self.out[self.sent..].to_vec();
        out.extend_from_slice(&message);
        self.out = Zeroizing::new(out);
        self.sent = 0;
        self.state = next;
    }
}

/// The CONNECT request for a tcp connect address.
fn connect_request(destination: &str) -> Result<Vec<u8>, SocksError> {
    // The source part binds our side of the connection to the proxy, if
    // anything; the proxy only needs the peer.
    let peer = destination.rsplit_once(';').map_or(destination, |(_, p)| p);
    let (host, port) = peer.rsplit_once(':').ok_or(SocksError::BadDestination)?;
    let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(inner) => inner,
        None => host,
    };
    // libzmq reads it with C's atoi and casts that to 16 bits.
    let port = super::tcp::atoi(port) as u16;
    if port == 0 {
        return Err(SocksError::BadDestination);
    }
    let mut m = vec![VERSION, CONNECT, 0];
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        m.push(ATYP_IPV4);
        m.extend_from_slice(&v4.octets());
    } else if let Ok(v6) = host.split('%').next().unwrap_or(host).parse::<Ipv6Addr>() {
        m.push(ATYP_IPV6);
        m.extend_from_slice(&v6.octets());
    } else {
        let len = u8::try_from(host.len()).map_err(|_| SocksError::BadDestination)?;
        m.push(ATYP_DOMAIN);
        m.push(len);
        m.extend_from_slice(host.as_bytes());
    }
    m.extend_from_slice(&port.to_be_bytes());
    Ok(m)
}

#[cfg(test)]
#[path = "socks_tests.rs"]
mod tests;
