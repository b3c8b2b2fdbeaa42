//! PLAIN, CURVE and ZAP between in-memory connection pairs: handshakes,
//! the handler's answers, tampering, replays, truncated and oversized
//! commands, and a bounded randomized run over mangled handshakes.

use std::time::{Duration, Instant};

use zeroize::Zeroizing;

use super::connection::{Config, Connection, Event};
use super::curve;
use super::zap::ZapConfig;
use super::{code, CurveKeys, Mechanism, PlainCredentials, ProtocolError};
use crate::msg::{flags, Metadata, Msg};
use crate::socket::kind;

/// How a side's ZAP requests are answered.
#[derive(Clone)]
enum Handler {
    /// No handler bound.
    None,
    /// Answers with this status, user id and metadata frame; checks the
    /// request with the closure.
    Reply(&'static str, &'static [u8], Vec<u8>, fn(&[Vec<u8>])),
    /// Answers with these frames as they are.
    Raw(Vec<Vec<u8>>),
    /// Never answers.
    Silent,
}

struct Side {
    c: Connection,
    inbox: Vec<u8>,
    events: Vec<Event>,
    err: Option<ProtocolError>,
    handler: Handler,
    zap_requests: Vec<Vec<Vec<u8>>>,
    closed: bool,
}

impl Side {
    fn new(cfg: Config, handler: Handler, now: Instant) -> Side {
        Side {
            c: Connection::new(cfg, now),
            inbox: Vec::new(),
            events: Vec::new(),
            err: None,
            handler,
            zap_requests: Vec::new(),
            closed: false,
        }
    }

    fn poll(&mut self, now: Instant) {
        while let Some(e) = self.c.poll_event() {
            match e {
                Event::ZapRequest(frames) => {
                    let frames: Vec<Vec<u8>> = frames.iter().map(|f| f.data().to_vec()).collect();
                    self.zap_requests.push(frames.clone());
                    let r = match &self.handler {
                        Handler::None => self.c.zap_unavailable(now),
                        Handler::Silent => Ok(()),
                        Handler::Reply(status, user, meta, check) => {
                            check(&frames);
                            let reply: Vec<&[u8]> =
                                vec![b"", b"1.0", b"1", status.as_bytes(), b"text", user, meta];
                            self.c.zap_reply(&msgs(&reply), now)
                        }
                        Handler::Raw(frames) => {
                            let reply: Vec<&[u8]> = frames.iter().map(|f| &f[..]).collect();
                            self.c.zap_reply(&msgs(&reply), now)
                        }
                    };
                    if let Err(e) = r {
                        self.err.get_or_insert(e);
                    }
                }
                e => self.events.push(e),
            }
        }
    }

    fn feed(&mut self, now: Instant) {
        self.poll(now);
        while !self.inbox.is_empty() && self.err.is_none() {
            match self.c.handle_input(&self.inbox, now) {
                Ok(k) => {
                    self.inbox.drain(..k);
                    let before = self.events.len() + self.zap_requests.len();
                    self.poll(now);
                    if k == 0 && before == self.events.len() + self.zap_requests.len() {
                        break;
                    }
                }
                Err(e) => {
                    // Frames decoded before the failure come out still.
                    self.poll(now);
                    self.err = Some(e);
                }
            }
        }
        if self.err.is_none() {
            self.err = self.c.failed().cloned();
        }
        if self.c.close_requested() {
            self.closed = true;
        }
    }

    fn ready(&self) -> Option<std::sync::Arc<Metadata>> {
        self.events.iter().find_map(|e| match e {
            Event::Ready { metadata, .. } => Some(metadata.clone()),
            _ => None,
        })
    }

    fn messages(&self) -> Vec<(Vec<u8>, bool)> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Message(m) => Some((m.data().to_vec(), m.more())),
                _ => None,
            })
            .collect()
    }

    /// Failed, or closing after its last words.
    fn failure(&self) -> Option<ProtocolError> {
        self.err.clone().or(self.c.failure().cloned())
    }
}

fn msgs(frames: &[&[u8]]) -> Vec<Msg> {
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

/// Moves `from`'s output to `to`; `mangle` may change the bytes in flight.
fn step(
    from: &mut Side,
    to: &mut Side,
    now: Instant,
    mangle: &mut dyn FnMut(&mut Vec<u8>),
) -> bool {
    from.poll(now);
    let mut bytes = from.c.transmit_slices().concat();
    if bytes.is_empty() {
        return false;
    }
    from.c.advance_transmit(bytes.len());
    if from.c.close_requested() {
        from.closed = true;
    }
    mangle(&mut bytes);
    if to.err.is_none() && !to.closed {
        to.inbox.extend_from_slice(&bytes);
        to.feed(now);
    }
    true
}

fn pump_with(a: &mut Side, b: &mut Side, now: Instant, mangle: &mut dyn FnMut(&mut Vec<u8>)) {
    for _ in 0..10_000 {
        let x = step(a, b, now, mangle);
        let y = step(b, a, now, mangle);
        if !x && !y {
            return;
        }
    }
    panic!("pump did not settle");
}

fn pump(a: &mut Side, b: &mut Side, now: Instant) {
    pump_with(a, b, now, &mut |_| {});
}

fn base(t: i32, mech: Mechanism, server: bool) -> Config {
    let mut c = Config::new(t);
    c.routing_id = b"rid".to_vec();
    c.mechanism = mech;
    c.as_server = server;
    c.zap = ZapConfig {
        domain: Vec::new(),
        enforce: false,
        peer_address: "127.0.0.1".into(),
    };
    c
}

fn plain(user: &[u8], pass: &[u8]) -> Mechanism {
    Mechanism::Plain(PlainCredentials {
        username: user.to_vec(),
        password: Zeroizing::new(pass.to_vec()),
    })
}

struct Keys {
    server_public: [u8; 32],
    server_secret: [u8; 32],
    client_public: [u8; 32],
    client_secret: [u8; 32],
}

fn keys() -> Keys {
    let (ss, sp) = curve::keypair().unwrap();
    let (cs, cp) = curve::keypair().unwrap();
    Keys {
        server_public: sp,
        server_secret: ss.to_bytes(),
        client_public: cp,
        client_secret: cs.to_bytes(),
    }
}

fn curve_server(k: &Keys) -> Mechanism {
    Mechanism::Curve(CurveKeys {
        public_key: k.server_public,
        secret_key: Zeroizing::new(k.server_secret),
        server_key: [0; 32],
    })
}

fn curve_client(k: &Keys, server_key: [u8; 32]) -> Mechanism {
    Mechanism::Curve(CurveKeys {
        public_key: k.client_public,
        secret_key: Zeroizing::new(k.client_secret),
        server_key,
    })
}

fn allow(frames: &[Vec<u8>]) {
    let _ = frames;
}

fn ok_handler() -> Handler {
    Handler::Reply("200", b"anna", Vec::new(), allow)
}

fn frame(data: &[u8], more: bool) -> Msg {
    let mut m = Msg::from_slice(data);
    m.set_more(more);
    m
}

/// Messages both ways after the handshake, every size class.
fn exchange(a: &mut Side, b: &mut Side, now: Instant) {
    let big = (0..200_000u32).map(|i| i as u8).collect::<Vec<u8>>();
    let frames: Vec<(Vec<u8>, bool)> = vec![
        (b"".to_vec(), true),
        (b"a".to_vec(), true),
        (vec![7; 300], true),
        (big, false),
        (vec![9; 9000], false),
        (vec![3; 40], false),
    ];
    for (f, more) in &frames {
        a.c.send(frame(f, *more)).expect("a ready");
        b.c.send(frame(f, *more)).expect("b ready");
    }
    pump(a, b, now);
    assert_eq!(b.messages(), frames);
    assert_eq!(a.messages(), frames);
}

#[test]
fn plain_with_zap_handler() {
    let now = Instant::now();
    fn check(f: &[Vec<u8>]) {
        let want: Vec<&[u8]> = vec![
            b"",
            b"1.0",
            b"1",
            b"dom",
            b"127.0.0.1",
            b"rid",
            b"PLAIN",
            b"admin",
            b"secret",
        ];
        assert_eq!(f, want.as_slice());
    }
    let mut meta = Vec::new();
    super::command::encode_properties(&mut meta, &[("Hello".into(), b"World".to_vec())]);
    let mut scfg = base(kind::ROUTER, plain(b"", b""), true);
    scfg.zap.domain = b"dom".to_vec();
    let mut s = Side::new(scfg, Handler::Reply("200", b"anna", meta, check), now);
    let mut c = Side::new(
        base(kind::DEALER, plain(b"admin", b"secret"), false),
        Handler::None,
        now,
    );
    pump(&mut c, &mut s, now);
    assert!(
        c.err.is_none() && s.err.is_none(),
        "{:?} {:?}",
        c.err,
        s.err
    );
    let meta = s.ready().expect("server ready");
    assert_eq!(meta.get("User-Id"), Some(&b"anna"[..]));
    assert_eq!(meta.get("Hello"), Some(&b"World"[..]));
    assert_eq!(meta.get("Socket-Type"), Some(&b"DEALER"[..]));
    assert_eq!(meta.get("Identity"), Some(&b"rid"[..]));
    let cmeta = c.ready().expect("client ready");
    assert_eq!(cmeta.get("Socket-Type"), Some(&b"ROUTER"[..]));
    assert_eq!(cmeta.get("User-Id"), None);
    exchange(&mut c, &mut s, now);
}

#[test]
fn plain_refusals() {
    let now = Instant::now();
    for (status, error_sent) in [("400", true), ("500", true), ("300", false)] {
        let mut s = Side::new(
            base(kind::REP, plain(b"", b""), true),
            Handler::Reply(status, b"", Vec::new(), allow),
            now,
        );
        let mut c = Side::new(
            base(kind::REQ, plain(b"admin", b"wrong"), false),
            Handler::None,
            now,
        );
        pump(&mut c, &mut s, now);
        let code: u16 = status.parse().unwrap();
        assert!(s.ready().is_none() && c.ready().is_none());
        assert_eq!(s.failure(), Some(ProtocolError::Auth(code)));
        assert!(s.closed, "{status}: server closes after its ERROR");
        if error_sent {
            assert_eq!(c.err, Some(ProtocolError::Auth(code)));
        } else {
            assert_eq!(c.err, None, "300: silently dropped");
        }
        assert!(s.c.send(frame(b"x", false)).is_err());
    }
    // No handler: PLAIN refuses everyone (libzmq: NO_DETAIL, EFAULT).
    let mut s = Side::new(base(kind::REP, plain(b"", b""), true), Handler::None, now);
    let mut c = Side::new(
        base(kind::REQ, plain(b"a", b"b"), false),
        Handler::None,
        now,
    );
    pump(&mut c, &mut s, now);
    assert_eq!(s.err, Some(ProtocolError::NoZapHandler));
    assert_eq!(
        s.err.as_ref().and_then(|e| e.handshake_event()),
        Some(super::HandshakeEvent::NoDetail(libc::EFAULT))
    );
    // A handler that never answers: the handshake times out.
    let mut s = Side::new(base(kind::REP, plain(b"", b""), true), Handler::Silent, now);
    let mut c = Side::new(
        base(kind::REQ, plain(b"a", b"b"), false),
        Handler::None,
        now,
    );
    pump(&mut c, &mut s, now);
    assert!(s.ready().is_none());
    let later = now + Duration::from_secs(31);
    assert!(matches!(
        s.c.handle_timeout(later),
        Err(ProtocolError::Timeout(_))
    ));
}

#[test]
fn curve_without_handler_both_roles() {
    let now = Instant::now();
    let k = keys();
    // Every compatible pair of types, both sides able to be the server.
    for (a, b) in [
        (kind::REQ, kind::REP),
        (kind::PUB, kind::SUB),
        (kind::PUSH, kind::PULL),
        (kind::DEALER, kind::ROUTER),
    ] {
        for server_is_a in [false, true] {
            let (ma, mb) = if server_is_a {
                (curve_server(&k), curve_client(&k, k.server_public))
            } else {
                (curve_client(&k, k.server_public), curve_server(&k))
            };
            let mut x = Side::new(base(a, ma, server_is_a), Handler::None, now);
            let mut y = Side::new(base(b, mb, !server_is_a), Handler::None, now);
            pump(&mut x, &mut y, now);
            assert!(
                x.err.is_none() && y.err.is_none(),
                "{:?} {:?}",
                x.err,
                y.err
            );
            assert!(x.c.is_ready() && y.c.is_ready());
            let server = if server_is_a { &x } else { &y };
            // No handler: no User-Id.
            assert_eq!(server.ready().unwrap().get("User-Id"), None);
            if !matches!(a, kind::PUB) {
                exchange(&mut x, &mut y, now);
            }
        }
    }
}

#[test]
fn curve_with_handler_sees_client_key() {
    let now = Instant::now();
    let k = keys();
    fn check(f: &[Vec<u8>]) {
        assert_eq!(f.len(), 8);
        assert_eq!(f[6], b"CURVE");
        assert_eq!(f[7].len(), 32);
    }
    let mut s = Side::new(
        base(kind::ROUTER, curve_server(&k), true),
        Handler::Reply("200", b"bob", Vec::new(), check),
        now,
    );
    let mut c = Side::new(
        base(kind::DEALER, curve_client(&k, k.server_public), false),
        Handler::None,
        now,
    );
    pump(&mut c, &mut s, now);
    assert!(
        c.err.is_none() && s.err.is_none(),
        "{:?} {:?}",
        c.err,
        s.err
    );
    assert_eq!(s.zap_requests[0][7], k.client_public);
    assert_eq!(s.ready().unwrap().get("User-Id"), Some(&b"bob"[..]));
    exchange(&mut c, &mut s, now);
    // Refused: ERROR 400, the client fails with the status.
    let mut s = Side::new(
        base(kind::ROUTER, curve_server(&k), true),
        Handler::Reply("400", b"", Vec::new(), allow),
        now,
    );
    let mut c = Side::new(
        base(kind::DEALER, curve_client(&k, k.server_public), false),
        Handler::None,
        now,
    );
    pump(&mut c, &mut s, now);
    assert_eq!(c.err, Some(ProtocolError::Auth(400)));
    assert!(s.closed && s.ready().is_none());
}

#[test]
fn curve_enforced_domain_rules() {
    let now = Instant::now();
    let k = keys();
    // Enforced with no domain: no ZAP at all (encryption only).
    let mut cfg = base(kind::REP, curve_server(&k), true);
    cfg.zap.enforce = true;
    let mut s = Side::new(cfg, Handler::Reply("400", b"", Vec::new(), allow), now);
    let mut c = Side::new(
        base(kind::REQ, curve_client(&k, k.server_public), false),
        Handler::None,
        now,
    );
    pump(&mut c, &mut s, now);
    assert!(s.zap_requests.is_empty() && s.c.is_ready() && c.c.is_ready());
    // Enforced with a domain and no handler: refused.
    let mut cfg = base(kind::REP, curve_server(&k), true);
    cfg.zap.enforce = true;
    cfg.zap.domain = b"d".to_vec();
    let mut s = Side::new(cfg, Handler::None, now);
    let mut c = Side::new(
        base(kind::REQ, curve_client(&k, k.server_public), false),
        Handler::None,
        now,
    );
    pump(&mut c, &mut s, now);
    assert_eq!(s.err, Some(ProtocolError::NoZapHandler));
    // A domain, not enforced, no handler: goes on.
    let mut cfg = base(kind::REP, curve_server(&k), true);
    cfg.zap.domain = b"d".to_vec();
    let mut s = Side::new(cfg, Handler::None, now);
    let mut c = Side::new(
        base(kind::REQ, curve_client(&k, k.server_public), false),
        Handler::None,
        now,
    );
    pump(&mut c, &mut s, now);
    assert!(s.c.is_ready() && c.c.is_ready());
}

#[test]
fn null_with_zap_domain() {
    let now = Instant::now();
    fn check(f: &[Vec<u8>]) {
        assert_eq!(f.len(), 7);
        assert_eq!(f[3], b"d");
        assert_eq!(f[6], b"NULL");
    }
    let mut cfg = base(kind::PULL, Mechanism::Null, false);
    cfg.zap.domain = b"d".to_vec();
    let mut s = Side::new(
        cfg.clone(),
        Handler::Reply("200", b"u", Vec::new(), check),
        now,
    );
    let mut c = Side::new(base(kind::PUSH, Mechanism::Null, false), Handler::None, now);
    pump(&mut c, &mut s, now);
    assert!(s.c.is_ready() && c.c.is_ready());
    assert_eq!(s.ready().unwrap().get("User-Id"), Some(&b"u"[..]));
    // Refused.
    let mut s = Side::new(
        cfg.clone(),
        Handler::Reply("400", b"", Vec::new(), allow),
        now,
    );
    let mut c = Side::new(base(kind::PUSH, Mechanism::Null, false), Handler::None, now);
    pump(&mut c, &mut s, now);
    assert_eq!(c.err, Some(ProtocolError::Auth(400)));
    assert!(s.closed && !s.c.is_ready());
    // No handler, not enforced: goes on; enforced: fails.
    let mut s = Side::new(cfg.clone(), Handler::None, now);
    let mut c = Side::new(base(kind::PUSH, Mechanism::Null, false), Handler::None, now);
    pump(&mut c, &mut s, now);
    assert!(s.c.is_ready() && c.c.is_ready());
    cfg.zap.enforce = true;
    let mut s = Side::new(cfg, Handler::None, now);
    let mut c = Side::new(base(kind::PUSH, Mechanism::Null, false), Handler::None, now);
    pump(&mut c, &mut s, now);
    assert_eq!(s.err, Some(ProtocolError::NoZapHandler));
    // No domain: no request at all.
    let mut s = Side::new(
        base(kind::PULL, Mechanism::Null, false),
        Handler::Silent,
        now,
    );
    let mut c = Side::new(base(kind::PUSH, Mechanism::Null, false), Handler::None, now);
    pump(&mut c, &mut s, now);
    assert!(s.zap_requests.is_empty() && s.c.is_ready());
}

#[test]
fn malformed_zap_replies_fail_the_handshake() {
    let now = Instant::now();
    let cases: Vec<(Vec<&[u8]>, u32)> = vec![
        (
            vec![b"", b"1.0", b"1", b"200", b"", b""],
            code::ZAP_MALFORMED_REPLY,
        ),
        (
            vec![b"", b"1.1", b"1", b"200", b"", b"", b""],
            code::ZAP_BAD_VERSION,
        ),
        (
            vec![b"", b"1.0", b"7", b"200", b"", b"", b""],
            code::ZAP_BAD_REQUEST_ID,
        ),
        (
            vec![b"", b"1.0", b"1", b"201", b"", b"", b""],
            code::ZAP_INVALID_STATUS_CODE,
        ),
        (
            vec![b"", b"1.0", b"1", b"200", b"", b"", b"\x09x"],
            code::ZAP_INVALID_METADATA,
        ),
    ];
    for (frames, want) in cases {
        let raw = frames.iter().map(|f| f.to_vec()).collect();
        let mut s = Side::new(
            base(kind::REP, plain(b"", b""), true),
            Handler::Raw(raw),
            now,
        );
        let mut c = Side::new(
            base(kind::REQ, plain(b"a", b"b"), false),
            Handler::None,
            now,
        );
        pump(&mut c, &mut s, now);
        assert!(
            matches!(s.err, Some(ProtocolError::Handshake { code, .. }) if code == want),
            "{:?}",
            s.err
        );
        assert!(s.ready().is_none());
    }
}

#[test]
fn curve_wrong_keys() {
    let now = Instant::now();
    let k = keys();
    let other = keys();
    // The client has the wrong server key: HELLO's box does not open.
    let mut s = Side::new(base(kind::REP, curve_server(&k), true), Handler::None, now);
    let mut c = Side::new(
        base(kind::REQ, curve_client(&k, other.server_public), false),
        Handler::None,
        now,
    );
    pump(&mut c, &mut s, now);
    assert!(matches!(
        s.err,
        Some(ProtocolError::Handshake {
            code: code::ZMTP_CRYPTOGRAPHIC,
            ..
        })
    ));
    // An unknown client key: the handler refuses it.
    fn only_known(f: &[Vec<u8>]) {
        assert_eq!(f[6], b"CURVE");
    }
    let mut s = Side::new(
        base(kind::REP, curve_server(&k), true),
        Handler::Reply("400", b"", Vec::new(), only_known),
        now,
    );
    let mut c = Side::new(
        base(kind::REQ, curve_client(&other, k.server_public), false),
        Handler::None,
        now,
    );
    pump(&mut c, &mut s, now);
    assert_eq!(c.err, Some(ProtocolError::Auth(400)));
    assert_eq!(s.failure(), Some(ProtocolError::Auth(400)));
    // A low-order (all-zero) server key: refused before anything is sent.
    let mut c = Side::new(
        base(kind::REQ, curve_client(&k, [0; 32]), false),
        Handler::None,
        now,
    );
    let mut s = Side::new(base(kind::REP, curve_server(&k), true), Handler::None, now);
    pump(&mut c, &mut s, now);
    assert!(
        matches!(
            c.err,
            Some(ProtocolError::Handshake {
                code: code::ZMTP_CRYPTOGRAPHIC,
                ..
            })
        ),
        "{:?}",
        c.err
    );
}

/// A CURVE pair past its handshake, for the per-frame tests.
fn curve_pair(now: Instant) -> (Side, Side) {
    let k = keys();
    let mut s = Side::new(base(kind::PAIR, curve_server(&k), true), Handler::None, now);
    let mut c = Side::new(
        base(kind::PAIR, curve_client(&k, k.server_public), false),
        Handler::None,
        now,
    );
    pump(&mut c, &mut s, now);
    assert!(c.c.is_ready() && s.c.is_ready());
    (c, s)
}

/// The wire bytes of `n` one-frame messages from `from`.
fn wire_of(from: &mut Side, bodies: &[&[u8]]) -> Vec<Vec<u8>> {
    bodies
        .iter()
        .map(|b| {
            from.c.send(frame(b, false)).unwrap();
            let v = from.c.transmit_slices().concat();
            from.c.advance_transmit(v.len());
            v
        })
        .collect()
}

#[test]
fn curve_messages_are_boxed() {
    let now = Instant::now();
    let (mut c, _s) = curve_pair(now);
    let w = wire_of(&mut c, &[b"secret words"]);
    // A data frame holding "\x07MESSAGE", nonce 3 (after HELLO 1 and
    // INITIATE 2), then the box: nothing in clear.
    assert_eq!(w[0][0], 0);
    assert_eq!(&w[0][2..10], b"\x07MESSAGE");
    assert_eq!(&w[0][10..18], &3u64.to_be_bytes());
    assert_eq!(w[0].len(), 2 + curve::MESSAGE_OVERHEAD + 12);
    assert!(!w[0].windows(6).any(|x| x == b"secret"));
}

#[test]
fn curve_tampered_box_fails_and_delivers_nothing() {
    let now = Instant::now();
    for at in [10, 18, 30, 34, 40] {
        let (mut c, mut s) = curve_pair(now);
        let mut w = wire_of(&mut c, &[b"hello world!"]);
        w[0][at] ^= 0x40;
        s.inbox.extend_from_slice(&w[0]);
        s.feed(now);
        assert!(s.messages().is_empty(), "byte {at}");
        let e = s.err.clone().expect("tampering detected");
        let code = e.monitor_code();
        assert!(
            matches!(
                code,
                Some(code::ZMTP_CRYPTOGRAPHIC) | Some(code::ZMTP_UNEXPECTED_COMMAND)
            ),
            "byte {at}: {e:?}"
        );
    }
}

#[test]
fn curve_replayed_or_reordered_nonce_fails() {
    let now = Instant::now();
    let (mut c, mut s) = curve_pair(now);
    let w = wire_of(&mut c, &[b"one", b"two", b"three"]);
    s.inbox.extend_from_slice(&w[0]);
    s.feed(now);
    assert_eq!(s.messages(), vec![(b"one".to_vec(), false)]);
    // Replay of the first.
    s.inbox.extend_from_slice(&w[0]);
    s.feed(now);
    assert!(matches!(
        s.err,
        Some(ProtocolError::Handshake {
            code: code::ZMTP_INVALID_SEQUENCE,
            ..
        })
    ));
    assert_eq!(s.messages().len(), 1);
    // Out of order: the third before the second.
    let (mut c, mut s) = curve_pair(now);
    let w = wire_of(&mut c, &[b"one", b"two", b"three"]);
    s.inbox.extend_from_slice(&w[2]);
    s.inbox.extend_from_slice(&w[1]);
    s.feed(now);
    assert_eq!(s.messages(), vec![(b"three".to_vec(), false)]);
    assert!(matches!(
        s.err,
        Some(ProtocolError::Handshake {
            code: code::ZMTP_INVALID_SEQUENCE,
            ..
        })
    ));
}

/// A CURVE connection past the greeting, and what it sent so far.
fn first_command(cfg: Config, now: Instant) -> (Connection, Vec<u8>) {
    let mut c = Connection::new(cfg, now);
    c.handle_input(&greeting_of("CURVE"), now).unwrap();
    let v = c.transmit_slices().concat();
    c.advance_transmit(v.len());
    (c, v)
}

/// A ZMTP 3.1 greeting offering `mech`.
fn greeting_of(mech: &str) -> Vec<u8> {
    let mut g = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 1];
    let mut name = mech.as_bytes().to_vec();
    name.resize(20, 0);
    g.extend_from_slice(&name);
    g.resize(64, 0);
    g
}

fn command_frame(body: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    if body.len() < 256 {
        v.push(0x04);
        v.push(body.len() as u8);
    } else {
        v.push(0x06);
        v.extend_from_slice(&(body.len() as u64).to_be_bytes());
    }
    v.extend_from_slice(body);
    v
}

#[test]
fn curve_truncated_and_oversized_commands() {
    let now = Instant::now();
    let k = keys();
    let mut hello = b"\x05HELLO\x01\x00".to_vec();
    hello.resize(200, 0);
    for (body, want) in [
        (hello[..199].to_vec(), code::ZMTP_MALFORMED_COMMAND_HELLO),
        (
            [&hello[..], &[0]].concat(),
            code::ZMTP_MALFORMED_COMMAND_HELLO,
        ),
        (hello.clone(), code::ZMTP_CRYPTOGRAPHIC),
        (b"\x08INITIATE".to_vec(), code::ZMTP_UNEXPECTED_COMMAND),
        (
            b"\x05HEL".to_vec(),
            code::ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
        ),
        (b"\x05".to_vec(), code::ZMTP_MALFORMED_COMMAND_UNSPECIFIED),
    ] {
        let (mut s, _) = first_command(base(kind::REP, curve_server(&k), true), now);
        let r = s.handle_input(&command_frame(&body), now);
        assert!(
            matches!(&r, Err(ProtocolError::Handshake { code, .. }) if *code == want)
                || (want == code::ZMTP_UNEXPECTED_COMMAND
                    && matches!(r, Err(ProtocolError::UnexpectedCommand(_)))),
            "{} bytes: {r:?}",
            body.len()
        );
    }
    // The client: WELCOME of the wrong size, READY too short.
    for (body, want) in [
        (vec![b'\x07'; 8], code::ZMTP_UNEXPECTED_COMMAND),
        (
            [&b"\x07WELCOME"[..], &[0; 100]].concat(),
            code::ZMTP_CRYPTOGRAPHIC,
        ),
        (
            [&b"\x07WELCOME"[..], &[0; 160]].concat(),
            code::ZMTP_CRYPTOGRAPHIC,
        ),
        (
            [&b"\x07WELCOME"[..], &[0; 161]].concat(),
            code::ZMTP_CRYPTOGRAPHIC,
        ),
    ] {
        let (mut c, hello) = first_command(
            base(kind::REQ, curve_client(&k, k.server_public), false),
            now,
        );
        assert!(hello.len() > 200);
        let r = c.handle_input(&command_frame(&body), now);
        let got = r.err().and_then(|e| e.monitor_code());
        assert_eq!(got, Some(want), "{} bytes", body.len());
    }
}

#[test]
fn plain_malformed_hello() {
    let now = Instant::now();
    for body in [
        &b"\x05HELLO"[..],
        b"\x05HELLO\x05adm",
        b"\x05HELLO\x05admin",
        b"\x05HELLO\x05admin\x03pa",
        b"\x05HELLO\x05admin\x03passX",
    ] {
        let mut s = Connection::new(base(kind::REP, plain(b"", b""), true), now);
        s.handle_input(&greeting_of("PLAIN"), now).unwrap();
        let r = s.handle_input(&command_frame(body), now);
        assert_eq!(
            r.err().and_then(|e| e.monitor_code()),
            Some(code::ZMTP_MALFORMED_COMMAND_HELLO),
            "{body:?}"
        );
        assert!(s.poll_event().is_none());
    }
}

/// libzmq 4.3.4's PLAIN server refuses with an ERROR named "\x5eRROR"
/// (the bytes Debian's libzmq writes): a client still reads the status.
#[test]
fn plain_client_reads_libzmq_434_error() {
    let now = Instant::now();
    for body in [&b"\x05ERROR\x03400"[..], b"\x5eRROR\x03400"] {
        let mut c = Connection::new(base(kind::PUSH, plain(b"admin", b"x"), false), now);
        let _ = c.handle_input(&greeting_of("PLAIN"), now);
        let r = c.handle_input(&command_frame(body), now);
        let got = r.err().or_else(|| c.failure().cloned());
        assert!(
            matches!(got, Some(ProtocolError::Auth(400))),
            "{body:?}: {got:?}"
        );
    }
}

/// A tiny deterministic generator for the randomized tests.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Handshakes and messages with random bytes flipped, dropped or
/// duplicated in flight: either side may fail, nothing may panic, and a
/// side that delivers a message delivers one that was sent.
#[test]
fn mangled_secure_handshakes_never_panic() {
    let now = Instant::now();
    let k = keys();
    let mechs: Vec<(Mechanism, bool, Mechanism, bool, Handler)> = vec![
        (
            plain(b"u", b"p"),
            false,
            plain(b"", b""),
            true,
            ok_handler(),
        ),
        (
            curve_client(&k, k.server_public),
            false,
            curve_server(&k),
            true,
            Handler::None,
        ),
        (
            curve_client(&k, k.server_public),
            false,
            curve_server(&k),
            true,
            ok_handler(),
        ),
        (Mechanism::Null, false, Mechanism::Null, false, ok_handler()),
    ];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for round in 0..400 {
        let (mc, sc, ms, ss, h) = mechs[round % mechs.len()].clone();
        let mut scfg = base(kind::DEALER, ms, ss);
        scfg.zap.domain = b"d".to_vec();
        let mut s = Side::new(scfg, h, now);
        let mut c = Side::new(base(kind::DEALER, mc, sc), Handler::None, now);
        let rate = 1 + (rng.next() % 200) as usize;
        let mut seed = rng.next();
        let mut mangle = move |b: &mut Vec<u8>| {
            for x in b.iter_mut() {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                if ((seed >> 33) as usize).is_multiple_of(rate * 64) {
                    match (seed >> 20) % 3 {
                        0 => *x ^= (seed >> 8) as u8 | 1,
                        1 => *x = 0,
                        _ => *x = 0xFF,
                    }
                }
            }
            if (seed >> 40).is_multiple_of(50) && !b.is_empty() {
                b.truncate(b.len() / 2);
            }
        };
        pump_with(&mut c, &mut s, now, &mut mangle);
        // NULL and PLAIN frames have no integrity: only CURVE's must arrive
        // intact or not at all.
        if c.c.is_ready() && s.c.is_ready() && matches!(round % 4, 1 | 2) {
            for i in 0..5u8 {
                let _ = c.c.send(frame(&[i; 20], false));
            }
            pump_with(&mut c, &mut s, now, &mut mangle);
            for (m, _) in s.messages() {
                assert!(
                    m.len() == 20 && m.iter().all(|&x| x == m[0]),
                    "round {round}"
                );
            }
        }
    }
}

/// Random bytes after a valid greeting, to every secure role.
#[test]
fn random_commands_never_panic() {
    let now = Instant::now();
    let k = keys();
    let mut rng = Rng(12345);
    let roles: Vec<(Mechanism, bool, &str)> = vec![
        (plain(b"u", b"p"), false, "PLAIN"),
        (plain(b"", b""), true, "PLAIN"),
        (curve_client(&k, k.server_public), false, "CURVE"),
        (curve_server(&k), true, "CURVE"),
    ];
    for round in 0..2000 {
        let (m, server, name) = roles[round % roles.len()].clone();
        let mut c = Connection::new(base(kind::DEALER, m, server), now);
        c.handle_input(&greeting_of(name), now).unwrap();
        let len = (rng.next() % 300) as usize;
        let mut body: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        // Often a plausible name, so the parsers past it get exercised.
        let names: [&[u8]; 6] = [
            b"\x05HELLO",
            b"\x07WELCOME",
            b"\x08INITIATE",
            b"\x05READY",
            b"\x05ERROR",
            b"\x07MESSAGE",
        ];
        if rng.next().is_multiple_of(2) {
            let nm = names[(rng.next() % 6) as usize];
            let l = nm.len().min(body.len());
            body[..l].copy_from_slice(&nm[..l]);
        }
        let _ = c.handle_input(&command_frame(&body), now);
        while c.poll_event().is_some() {}
        let _ = c.zap_unavailable(now);
    }
}

/// ZMTP 1.0 and 2.0 have no security handshake: with a mechanism or a ZAP
/// domain configured, a peer offering them (or a greeting whose version
/// byte was flipped in flight) is refused, as libzmq refuses it.
#[test]
fn old_zmtp_peers_refused_when_secured() {
    use super::greeting::Version;
    let now = Instant::now();
    let k = keys();
    let mut null_with_domain = base(kind::DEALER, Mechanism::Null, false);
    null_with_domain.zap.domain = b"d".to_vec();
    let secured = [
        base(kind::DEALER, curve_server(&k), true),
        base(kind::DEALER, curve_client(&k, k.server_public), false),
        base(kind::DEALER, plain(b"", b""), true),
        base(kind::DEALER, plain(b"u", b"p"), false),
        null_with_domain,
    ];
    for cfg in secured {
        for v in [Version::V2_0, Version::V1_0] {
            let mut s = Side::new(cfg.clone(), ok_handler(), now);
            let mut old = Side::new(Config::new(kind::DEALER), Handler::None, now);
            old.c = Connection::with_max_version(Config::new(kind::DEALER), now, v);
            pump(&mut old, &mut s, now);
            // Whatever the old peer sends after its greeting goes nowhere.
            let _ = old.c.send(frame(b"in clear", false));
            pump(&mut old, &mut s, now);
            assert!(
                matches!(s.err, Some(ProtocolError::Greeting(_))),
                "{} {v:?}: {:?}",
                cfg.mechanism.name(),
                s.err
            );
            assert!(s.ready().is_none() && s.messages().is_empty());
        }
    }
    // NULL without a domain still talks to them.
    let mut s = Side::new(
        base(kind::DEALER, Mechanism::Null, false),
        Handler::None,
        now,
    );
    let mut old = Side::new(Config::new(kind::DEALER), Handler::None, now);
    old.c = Connection::with_max_version(Config::new(kind::DEALER), now, Version::V2_0);
    pump(&mut old, &mut s, now);
    assert!(s.ready().is_some());
}
