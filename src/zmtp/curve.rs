//! CURVE (RFC 25 CurveZMQ, RFC 26 for ZMTP) as libzmq 4.3 speaks it, and
//! the boxes every frame travels in after the handshake.
//!
//! Client (long-term keys C/c, knows the server's S) and server (S/s) each
//! make a short-term pair (C'/c', S'/s') per connection:
//! - HELLO (200 bytes): version 1.0, 72 bytes of padding, C', a short
//!   nonce, and Box[64 zeros](C'->S) proving the client knows S;
//! - WELCOME (168): a long nonce and Box[S' + cookie](S->C'), the cookie
//!   being C' and s' in a secret box under a key the server keeps for this
//!   connection only (so it holds no state a flood of HELLOs could fill);
//! - INITIATE (257 + metadata): the cookie back, a short nonce and
//!   Box[C + vouch + metadata](C'->S'), the vouch Box[C' + S](C->S')
//!   binding the long-term key to this connection; the server asks ZAP
//!   about C;
//! - READY (30 + metadata): Box[metadata](S'->C');
//! - then MESSAGE boxes (C'<->S') with a flags byte (MORE, COMMAND) before
//!   each frame's bytes, nonces strictly increasing each way.
//!
//! Short nonces are 64-bit big-endian counters starting at 1 (HELLO is 1,
//! INITIATE 2, the client's messages from 3; READY is 1, the server's
//! messages from 2); a MESSAGE whose nonce is not above the last one seen
//! is refused, so replayed and reordered frames fail the connection.
//!
//! The boxes are NaCl's `crypto_box` (X25519, HSalsa20, XSalsa20-Poly1305),
//! which libzmq gets from libsodium. We compose it from x25519-dalek's
//! X25519 and RustCrypto's `crypto_secretbox` (its `Kdf` is the HSalsa20
//! step `crypto_box_beforenm` applies), rather than through the
//! `crypto_box` crate, whose `SecretKey` (0.9) does not zero its copy of
//! the key bytes on drop; here every secret is zeroed on drop. A shared
//! secret of all zeros (a peer offering a low-order point) is refused, as
//! libsodium refuses it.

use crypto_secretbox::aead::rand_core::RngCore;
use crypto_secretbox::aead::{AeadInPlace, KeyInit, OsRng};
use crypto_secretbox::{Kdf, Key, Nonce, Tag, XSalsa20Poly1305};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use super::command;
use super::mechanism::{check_properties, CurveKeys, Handshake, Setup, Status, ZapState};
use super::zap;
use super::{code, ProtocolError};
use crate::msg::{flags, Msg};

/// "\x07MESSAGE", the short nonce, the Poly1305 tag and the flags byte.
pub const MESSAGE_OVERHEAD: usize = 8 + 8 + 16 + 1;
const TAG: usize = 16;

fn fail(code: u32, what: &'static str) -> ProtocolError {
    ProtocolError::Handshake { code, what }
}

/// libzmq's first check on a CURVE command, in the handshake and after
/// it: a frame too short for the name its first byte announces is
/// malformed, before it is unexpected.
fn check_structure(body: &[u8]) -> Result<(), ProtocolError> {
    let n = usize::from(*body.first().unwrap_or(&0));
    if body.len() <= 1 || body.len() <= n {
        return Err(fail(
            code::ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
            "malformed command",
        ));
    }
    Ok(())
}

fn crypto(what: &'static str) -> ProtocolError {
    fail(code::ZMTP_CRYPTOGRAPHIC, what)
}

/// Fills `buf` from the system's generator; its failure fails the
/// handshake rather than the process.
fn random(buf: &mut [u8]) -> Result<(), ProtocolError> {
    OsRng
        .try_fill_bytes(buf)
        .map_err(|_| ProtocolError::Random("getrandom failed"))
}

/// A fresh key pair: the secret in zeroing memory, and its public key.
pub fn keypair() -> Result<(StaticSecret, [u8; 32]), ProtocolError> {
    let mut bytes = Zeroizing::new([0u8; 32]);
    random(&mut bytes[..])?;
    let secret = StaticSecret::from(*bytes);
    let public = PublicKey::from(&secret).to_bytes();
    Ok((secret, public))
}

/// The public key of a secret one (`zmq_curve_public`).
pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    PublicKey::from(&StaticSecret::from(*secret)).to_bytes()
}

/// `crypto_box_beforenm`: the box key between our secret and their public
/// key. Refuses an all-zero shared secret, as libsodium does.
fn box_key(theirs: &[u8; 32], ours: &StaticSecret) -> Result<XSalsa20Poly1305, ProtocolError> {
    let shared = ours.diffie_hellman(&PublicKey::from(*theirs));
    if !shared.was_contributory() {
        return Err(crypto("peer key is a low-order point"));
    }
    let key = Zeroizing::new(<XSalsa20Poly1305 as Kdf>::kdf(
        Key::from_slice(shared.as_bytes()),
        &Default::default(),
    ));
    Ok(XSalsa20Poly1305::new(&key))
}

fn nonce(prefix: &[u8], tail: &[u8]) -> Nonce {
    let mut n = Nonce::default();
    n[..prefix.len()].copy_from_slice(prefix);
    n[prefix.len()..].copy_from_slice(tail);
    n
}

/// Appends Box[plaintext] (the tag, then the ciphertext) to `out`.
fn seal_into(
    key: &XSalsa20Poly1305,
    nonce: &Nonce,
    plaintext: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), ProtocolError> {
    let tag_at = out.len();
    out.extend_from_slice(&[0; TAG]);
    out.extend_from_slice(plaintext);
    let tag = key
        .encrypt_in_place_detached(nonce, b"", &mut out[tag_at + TAG..])
        .map_err(|_| crypto("encryption failed"))?;
    out[tag_at..tag_at + TAG].copy_from_slice(&tag);
    Ok(())
}

/// Opens Box[...] (tag then ciphertext) into zeroing memory.
fn open(
    key: &XSalsa20Poly1305,
    nonce: &Nonce,
    boxed: &[u8],
    what: &'static str,
) -> Result<Zeroizing<Vec<u8>>, ProtocolError> {
    if boxed.len() < TAG {
        return Err(crypto(what));
    }
    let (tag, ct) = boxed.split_at(TAG);
    let mut plain = Zeroizing::new(ct.to_vec());
    key.decrypt_in_place_detached(nonce, b"", &mut plain, Tag::from_slice(tag))
        .map_err(|_| crypto(what))?;
    Ok(plain)
}

fn key32(b: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 32];
    k.copy_from_slice(&b[..32]);
    k
}

fn u64_at(b: &[u8]) -> u64 {
    let mut n = [0u8; 8];
    n.copy_from_slice(&b[..8]);
    u64::from_be_bytes(n)
}

/// The next short nonce: counters start at 1 and never wrap.
fn bump(n: &mut u64) -> Result<u64, ProtocolError> {
    let cur = *n;
    *n = n
        .checked_add(1)
        .ok_or(fail(code::ZMTP_INVALID_SEQUENCE, "nonces exhausted"))?;
    Ok(cur)
}

/// The boxes of an established connection: each frame becomes
/// "\x07MESSAGE", a short nonce and Box[flags + bytes].
pub struct Codec {
    key: XSalsa20Poly1305,
    encode_prefix: &'static [u8; 16],
    decode_prefix: &'static [u8; 16],
    /// The nonce of our next MESSAGE.
    nonce: u64,
    /// The peer's last nonce: the next must be above it.
    peer_nonce: u64,
}

impl Codec {
    /// Appends the MESSAGE body for one frame to `out` (`flags`: MORE,
    /// COMMAND, as in the box's flags byte).
    pub fn encode_into(
        &mut self,
        data: &[u8],
        flags: u8,
        out: &mut Vec<u8>,
    ) -> Result<(), ProtocolError> {
        let n = bump(&mut self.nonce)?;
        out.reserve(MESSAGE_OVERHEAD + data.len());
        out.extend_from_slice(b"\x07MESSAGE");
        out.extend_from_slice(&n.to_be_bytes());
        let tag_at = out.len();
        out.extend_from_slice(&[0; TAG]);
        out.push(flags);
        out.extend_from_slice(data);
        let tag = self
            .key
            .encrypt_in_place_detached(
                &nonce(self.encode_prefix, &n.to_be_bytes()),
                b"",
                &mut out[tag_at + TAG..],
            )
            .map_err(|_| crypto("encryption failed"))?;
        out[tag_at..tag_at + TAG].copy_from_slice(&tag);
        Ok(())
    }

    /// Opens one MESSAGE frame: the frame's bytes with its flags (MORE,
    /// COMMAND) from the box. Decrypts in place when the frame's memory is
    /// its own, else copies once.
    pub fn decode(&mut self, mut frame: Msg) -> Result<Msg, ProtocolError> {
        let d = frame.data();
        check_structure(d)?;
        if !d.starts_with(b"\x07MESSAGE") {
            return Err(ProtocolError::UnexpectedCommand("not a MESSAGE"));
        }
        if d.len() < MESSAGE_OVERHEAD {
            return Err(fail(code::ZMTP_MALFORMED_COMMAND_MESSAGE, "short MESSAGE"));
        }
        let n = u64_at(&d[8..16]);
        if n <= self.peer_nonce {
            return Err(fail(
                code::ZMTP_INVALID_SEQUENCE,
                "MESSAGE nonce not increasing",
            ));
        }
        let iv = nonce(self.decode_prefix, &d[8..16]);
        let tag = *Tag::from_slice(&d[16..32]);
        let len = d.len() - 32;
        let (out, fl) = match frame.unique_bytes_mut() {
            Some(bytes) => {
                self.key
                    .decrypt_in_place_detached(&iv, b"", &mut bytes[32..], &tag)
                    .map_err(|_| crypto("MESSAGE box does not open"))?;
                let fl = bytes[32];
                (frame.slice(33, len - 1), fl)
            }
            None => {
                let mut m = Msg::try_fillable(len).ok_or(fail(
                    code::ZMTP_MALFORMED_COMMAND_MESSAGE,
                    "no memory for MESSAGE",
                ))?;
                let Some(bytes) = m.unique_bytes_mut() else {
                    return Err(crypto("MESSAGE buffer"));
                };
                bytes.copy_from_slice(&frame.data()[32..]);
                self.key
                    .decrypt_in_place_detached(&iv, b"", bytes, &tag)
                    .map_err(|_| crypto("MESSAGE box does not open"))?;
                let fl = bytes[0];
                (m.slice(1, len - 1), fl)
            }
        };
        // Only a box that opened moves the sequence on.
        self.peer_nonce = n;
        let mut out = out.ok_or(crypto("MESSAGE slice"))?;
        out.set_flags(fl & (flags::MORE | flags::COMMAND));
        Ok(out)
    }
}

/// Metadata from a box; a Socket-Type must suit ours.
fn metadata(setup: &Setup, bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, ProtocolError> {
    let props = command::parse_properties(bytes)
        .map_err(|_| fail(code::ZMTP_INVALID_METADATA, "malformed metadata"))?;
    check_properties(setup.socket_type, &props)?;
    Ok(props)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientState {
    SendHello,
    WaitWelcome,
    SendInitiate,
    WaitReady,
    Ready,
}

pub(crate) struct Client {
    setup: Setup,
    state: ClientState,
    public: [u8; 32],
    secret: StaticSecret,
    server: [u8; 32],
    cn_public: [u8; 32],
    cn_secret: StaticSecret,
    /// S' and the cookie, from WELCOME.
    cn_server: [u8; 32],
    cookie: Vec<u8>,
    /// Box key C'<->S (HELLO, WELCOME), made once.
    hello_key: Option<XSalsa20Poly1305>,
    /// Box key C'<->S'.
    session: Option<XSalsa20Poly1305>,
    nonce: u64,
    peer_nonce: u64,
    props: Vec<(String, Vec<u8>)>,
}

impl Client {
    pub(crate) fn new(setup: Setup, keys: &CurveKeys) -> Result<Client, ProtocolError> {
        let (cn_secret, cn_public) = keypair()?;
        Ok(Client {
            setup,
            state: ClientState::SendHello,
            public: keys.public_key,
            secret: StaticSecret::from(*keys.secret_key),
            server: keys.server_key,
            cn_public,
            cn_secret,
            cn_server: [0; 32],
            cookie: Vec::new(),
            hello_key: None,
            session: None,
            nonce: 1,
            peer_nonce: 0,
            props: Vec::new(),
        })
    }

    fn hello(&mut self) -> Result<Vec<u8>, ProtocolError> {
        let n = bump(&mut self.nonce)?.to_be_bytes();
        let key = self
            .hello_key
            .insert(box_key(&self.server, &self.cn_secret)?);
        let mut out = Vec::with_capacity(200);
        out.extend_from_slice(b"\x05HELLO\x01\x00");
        out.extend_from_slice(&[0; 72]);
        out.extend_from_slice(&self.cn_public);
        out.extend_from_slice(&n);
        seal_into(key, &nonce(b"CurveZMQHELLO---", &n), &[0; 64], &mut out)?;
        Ok(out)
    }

    fn welcome(&mut self, body: &[u8]) -> Result<(), ProtocolError> {
        if body.len() != 168 {
            return Err(crypto("WELCOME size"));
        }
        // The key is dropped once used: WELCOME comes once.
        let key = match self.hello_key.take() {
            Some(k) => k,
            None => box_key(&self.server, &self.cn_secret)?,
        };
        let plain = open(
            &key,
            &nonce(b"WELCOME-", &body[8..24]),
            &body[24..],
            "WELCOME box does not open",
        )?;
        self.cn_server = key32(&plain[..32]);
        self.cookie = plain[32..128].to_vec();
        self.session = Some(box_key(&self.cn_server, &self.cn_secret)?);
        self.state = ClientState::SendInitiate;
        Ok(())
    }

    fn initiate(&mut self) -> Result<Vec<u8>, ProtocolError> {
        let mut vouch_nonce = [0u8; 16];
        random(&mut vouch_nonce)?;
        let mut vouch_plain = Zeroizing::new([0u8; 64]);
        vouch_plain[..32].copy_from_slice(&self.cn_public);
        vouch_plain[32..].copy_from_slice(&self.server);
        let mut plain = Zeroizing::new(Vec::with_capacity(256));
        plain.extend_from_slice(&self.public);
        plain.extend_from_slice(&vouch_nonce);
        seal_into(
            &box_key(&self.cn_server, &self.secret)?,
            &nonce(b"VOUCH---", &vouch_nonce),
            &vouch_plain[..],
            &mut plain,
        )?;
        command::encode_properties(&mut plain, &self.setup.properties());
        let n = bump(&mut self.nonce)?.to_be_bytes();
        let session = self.session.as_ref().ok_or(crypto("no session key"))?;
        let mut out = Vec::with_capacity(113 + TAG + plain.len());
        out.extend_from_slice(b"\x08INITIATE");
        out.extend_from_slice(&self.cookie);
        out.extend_from_slice(&n);
        seal_into(session, &nonce(b"CurveZMQINITIATE", &n), &plain, &mut out)?;
        Ok(out)
    }

    fn ready(&mut self, body: &[u8]) -> Result<(), ProtocolError> {
        if body.len() < 30 {
            return Err(fail(code::ZMTP_MALFORMED_COMMAND_READY, "short READY"));
        }
        let session = self.session.as_ref().ok_or(crypto("no session key"))?;
        let plain = open(
            session,
            &nonce(b"CurveZMQREADY---", &body[6..14]),
            &body[14..],
            "READY box does not open",
        )?;
        self.peer_nonce = u64_at(&body[6..14]);
        self.props = metadata(&self.setup, &plain)?;
        self.state = ClientState::Ready;
        Ok(())
    }
}

impl Handshake for Client {
    fn next_command(&mut self) -> Result<Option<Vec<u8>>, ProtocolError> {
        Ok(match self.state {
            ClientState::SendHello => {
                self.state = ClientState::WaitWelcome;
                Some(self.hello()?)
            }
            ClientState::SendInitiate => {
                self.state = ClientState::WaitReady;
                Some(self.initiate()?)
            }
            _ => None,
        })
    }

    fn process_command(&mut self, body: &[u8]) -> Result<(), ProtocolError> {
        match self.state {
            ClientState::WaitWelcome if body.starts_with(b"\x07WELCOME") => self.welcome(body),
            ClientState::WaitReady if body.starts_with(b"\x05READY") => self.ready(body),
            ClientState::WaitWelcome | ClientState::WaitReady if body.starts_with(b"\x05ERROR") => {
                Err(zap::peer_error(body))
            }
            _ => Err(ProtocolError::UnexpectedCommand("CURVE client")),
        }
    }

    fn status(&self) -> Status {
        if self.state == ClientState::Ready {
            Status::Ready
        } else {
            Status::Handshaking
        }
    }

    fn peer_properties(&mut self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut self.props)
    }

    fn take_codec(&mut self) -> Option<Codec> {
        Some(Codec {
            key: self.session.take()?,
            encode_prefix: b"CurveZMQMESSAGEC",
            decode_prefix: b"CurveZMQMESSAGES",
            nonce: self.nonce,
            peer_nonce: self.peer_nonce,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    WaitHello,
    SendWelcome,
    WaitInitiate,
    WaitZap,
    SendReady,
    Ready,
    Refused,
}

pub(crate) struct Server {
    setup: Setup,
    state: ServerState,
    public: [u8; 32],
    secret: StaticSecret,
    cn_public: [u8; 32],
    cn_secret: StaticSecret,
    /// C', from HELLO.
    cn_client: [u8; 32],
    /// Box key C'<->S, from HELLO for WELCOME.
    hello_key: Option<XSalsa20Poly1305>,
    /// The cookie's key, this connection's only.
    cookie_key: Zeroizing<[u8; 32]>,
    session: Option<XSalsa20Poly1305>,
    nonce: u64,
    peer_nonce: u64,
    props: Vec<(String, Vec<u8>)>,
    zap: ZapState,
}

impl Server {
    pub(crate) fn new(setup: Setup, keys: &CurveKeys) -> Result<Server, ProtocolError> {
        let (cn_secret, cn_public) = keypair()?;
        let secret = StaticSecret::from(*keys.secret_key);
        Ok(Server {
            setup,
            state: ServerState::WaitHello,
            public: PublicKey::from(&secret).to_bytes(),
            secret,
            cn_public,
            cn_secret,
            cn_client: [0; 32],
            hello_key: None,
            cookie_key: Zeroizing::new([0; 32]),
            session: None,
            nonce: 1,
            peer_nonce: 0,
            props: Vec::new(),
            zap: ZapState::default(),
        })
    }

    fn hello(&mut self, body: &[u8]) -> Result<(), ProtocolError> {
        if body.len() != 200 {
            return Err(fail(code::ZMTP_MALFORMED_COMMAND_HELLO, "HELLO size"));
        }
        if body[6..8] != [1, 0] {
            return Err(fail(code::ZMTP_MALFORMED_COMMAND_HELLO, "CurveZMQ version"));
        }
        self.cn_client = key32(&body[80..112]);
        self.peer_nonce = u64_at(&body[112..120]);
        let key = box_key(&self.cn_client, &self.secret)?;
        // The box proves the client knows our public key; its content
        // (zeros) carries nothing.
        open(
            &key,
            &nonce(b"CurveZMQHELLO---", &body[112..120]),
            &body[120..200],
            "HELLO box does not open (wrong server key?)",
        )?;
        self.hello_key = Some(key);
        self.state = ServerState::SendWelcome;
        Ok(())
    }

    fn welcome(&mut self) -> Result<Vec<u8>, ProtocolError> {
        random(&mut self.cookie_key[..])?;
        let mut cookie_nonce = [0u8; 16];
        random(&mut cookie_nonce)?;
        let mut cookie_plain = Zeroizing::new([0u8; 64]);
        cookie_plain[..32].copy_from_slice(&self.cn_client);
        cookie_plain[32..].copy_from_slice(self.cn_secret.as_bytes());
        let mut plain = Zeroizing::new(Vec::with_capacity(128));
        plain.extend_from_slice(&self.cn_public);
        plain.extend_from_slice(&cookie_nonce);
        let cookie_box = XSalsa20Poly1305::new(Key::from_slice(&self.cookie_key[..]));
        seal_into(
            &cookie_box,
            &nonce(b"COOKIE--", &cookie_nonce),
            &cookie_plain[..],
            &mut plain,
        )?;
        let mut welcome_nonce = [0u8; 16];
        random(&mut welcome_nonce)?;
        let mut out = Vec::with_capacity(168);
        out.extend_from_slice(b"\x07WELCOME");
        out.extend_from_slice(&welcome_nonce);
        let key = match self.hello_key.take() {
            Some(k) => k,
            None => box_key(&self.cn_client, &self.secret)?,
        };
        seal_into(&key, &nonce(b"WELCOME-", &welcome_nonce), &plain, &mut out)?;
        Ok(out)
    }

    fn initiate(&mut self, body: &[u8]) -> Result<(), ProtocolError> {
        if body.len() < 257 {
            return Err(fail(
                code::ZMTP_MALFORMED_COMMAND_INITIATE,
                "short INITIATE",
            ));
        }
        let cookie_box = XSalsa20Poly1305::new(Key::from_slice(&self.cookie_key[..]));
        let cookie = open(
            &cookie_box,
            &nonce(b"COOKIE--", &body[9..25]),
            &body[25..105],
            "INITIATE cookie does not open",
        )?;
        if cookie[..32] != self.cn_client || cookie[32..64] != *self.cn_secret.as_bytes() {
            return Err(crypto("INITIATE cookie is not ours"));
        }
        let session = box_key(&self.cn_client, &self.cn_secret)?;
        let plain = open(
            &session,
            &nonce(b"CurveZMQINITIATE", &body[105..113]),
            &body[113..],
            "INITIATE box does not open",
        )?;
        let client_key = key32(&plain[..32]);
        let vouch = open(
            &box_key(&client_key, &self.cn_secret)?,
            &nonce(b"VOUCH---", &plain[32..48]),
            &plain[48..128],
            "INITIATE vouch does not open",
        )?;
        // The vouch binds the client's long-term key to this connection's
        // key, and to us.
        if vouch[..32] != self.cn_client || vouch[32..64] != self.public {
            return Err(fail(
                code::ZMTP_KEY_EXCHANGE,
                "vouch for another connection",
            ));
        }
        self.props = metadata(&self.setup, &plain[128..])?;
        self.peer_nonce = u64_at(&body[105..113]);
        self.session = Some(session);
        // libzmq: ask the handler when a domain is set or the domain is
        // not enforced (a handler bound is then used, if any); with an
        // enforced empty domain, no ZAP at all (encryption without
        // authentication, the "Stonehouse" pattern).
        let setup = self.setup.clone();
        if !setup.zap.domain.is_empty() || !setup.zap.enforce {
            self.zap.ask(&setup, "CURVE", &[&client_key]);
            self.state = ServerState::WaitZap;
        } else {
            self.state = ServerState::SendReady;
        }
        Ok(())
    }

    fn ready(&mut self) -> Result<Vec<u8>, ProtocolError> {
        let mut plain = Zeroizing::new(Vec::new());
        command::encode_properties(&mut plain, &self.setup.properties());
        let n = bump(&mut self.nonce)?.to_be_bytes();
        let session = self.session.as_ref().ok_or(crypto("no session key"))?;
        let mut out = Vec::with_capacity(14 + TAG + plain.len());
        out.extend_from_slice(b"\x05READY");
        out.extend_from_slice(&n);
        seal_into(session, &nonce(b"CurveZMQREADY---", &n), &plain, &mut out)?;
        Ok(out)
    }
}

impl Handshake for Server {
    fn next_command(&mut self) -> Result<Option<Vec<u8>>, ProtocolError> {
        Ok(match self.state {
            ServerState::SendWelcome => {
                self.state = ServerState::WaitInitiate;
                Some(self.welcome()?)
            }
            ServerState::SendReady => {
                self.state = ServerState::Ready;
                Some(self.ready()?)
            }
            ServerState::Refused => self.zap.error_command.take(),
            _ => None,
        })
    }

    fn process_command(&mut self, body: &[u8]) -> Result<(), ProtocolError> {
        check_structure(body)?;
        match self.state {
            ServerState::WaitHello if body.starts_with(b"\x05HELLO") => self.hello(body),
            ServerState::WaitInitiate if body.starts_with(b"\x08INITIATE") => self.initiate(body),
            ServerState::WaitHello | ServerState::WaitInitiate => {
                Err(ProtocolError::UnexpectedCommand("CURVE server"))
            }
            _ => Err(fail(code::ZMTP_UNSPECIFIED, "CURVE command out of turn")),
        }
    }

    fn status(&self) -> Status {
        match self.state {
            ServerState::Ready => Status::Ready,
            ServerState::Refused => Status::Error,
            _ => Status::Handshaking,
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
            // Without a handler: go on unless the domain is enforced.
            zap::Outcome::NoHandler if self.setup.zap.enforce => Err(ProtocolError::NoZapHandler),
            zap::Outcome::NoHandler => {
                self.zap.wait = zap::Wait::Idle;
                self.state = ServerState::SendReady;
                Ok(())
            }
            zap::Outcome::Reply(r) => {
                self.state = if self.zap.reply(r)? {
                    ServerState::SendReady
                } else {
                    ServerState::Refused
                };
                Ok(())
            }
        }
    }

    fn zap_properties(&mut self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut self.zap.properties)
    }

    fn take_codec(&mut self) -> Option<Codec> {
        Some(Codec {
            key: self.session.take()?,
            encode_prefix: b"CurveZMQMESSAGES",
            decode_prefix: b"CurveZMQMESSAGEC",
            nonce: self.nonce,
            peer_nonce: self.peer_nonce,
        })
    }
}
