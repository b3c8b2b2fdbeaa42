//! Connection tests: pairs of `Connection`s stepped over in-memory byte
//! buffers, byte fixtures captured from libzmq 4.3.4, and a bounded
//! randomized run over mutated streams.

use std::time::{Duration, Instant};

use super::connection::{Config, Connection, Event, MAX_UNDELIVERED};
use super::greeting::Version;
use super::ProtocolError;
use crate::msg::Msg;
use crate::socket::kind;

struct Side {
    c: Connection,
    inbox: Vec<u8>,
    events: Vec<Event>,
    err: Option<ProtocolError>,
}

impl Side {
    fn new(cfg: Config, now: Instant, max: Version) -> Side {
        Side {
            c: Connection::with_max_version(cfg, now, max),
            inbox: Vec::new(),
            events: Vec::new(),
            err: None,
        }
    }

    fn feed(&mut self, now: Instant) {
        while !self.inbox.is_empty() && self.err.is_none() {
            match self.c.handle_input(&self.inbox, now) {
                Ok(k) => {
                    self.inbox.drain(..k);
                    let mut polled = false;
                    while let Some(e) = self.c.poll_event() {
                        self.events.push(e);
                        polled = true;
                    }
                    if k == 0 && !polled {
                        break;
                    }
                }
                Err(e) => self.err = Some(e),
            }
        }
        // Frames decoded before a bad one come out first; the failure
        // then shows on the connection.
        if self.err.is_none() {
            self.err = self.c.failed().cloned();
        }
    }

    fn ready(&self) -> Option<(Version, i32, Vec<u8>)> {
        self.events.iter().find_map(|e| match e {
            Event::Ready {
                version,
                peer_socket_type,
                peer_routing_id,
                ..
            } => Some((*version, *peer_socket_type, peer_routing_id.clone())),
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
}

/// Moves up to `chunk` bytes from `from`'s transmit queue to `to`, which
/// consumes what it can. `mangle` may alter the bytes in flight.
fn step(
    from: &mut Side,
    to: &mut Side,
    now: Instant,
    chunk: usize,
    mangle: &mut dyn FnMut(&mut Vec<u8>),
) -> bool {
    let mut bytes: Vec<u8> = Vec::new();
    for s in from.c.transmit_iter() {
        let room = chunk - bytes.len();
        bytes.extend_from_slice(&s[..s.len().min(room)]);
        if bytes.len() == chunk {
            break;
        }
    }
    let n = bytes.len();
    if n == 0 {
        return false;
    }
    from.c.advance_transmit(n);
    mangle(&mut bytes);
    if to.err.is_none() {
        to.inbox.extend_from_slice(&bytes);
        to.feed(now);
    }
    true
}

fn pump_with(
    a: &mut Side,
    b: &mut Side,
    now: Instant,
    chunk: usize,
    mangle: &mut dyn FnMut(&mut Vec<u8>),
) {
    for _ in 0..10_000_000 {
        let x = step(a, b, now, chunk, mangle);
        let y = step(b, a, now, chunk, mangle);
        if !x && !y {
            return;
        }
    }
    panic!("pump did not settle");
}

fn pump(a: &mut Side, b: &mut Side, now: Instant) {
    pump_with(a, b, now, usize::MAX, &mut |_| {});
}

fn cfg(t: i32, id: &[u8]) -> Config {
    let mut c = Config::new(t);
    c.routing_id = id.to_vec();
    c
}

fn frame(data: &[u8], more: bool) -> Msg {
    let mut m = Msg::from_slice(data);
    m.set_more(more);
    m
}

const TYPES: [i32; 11] = [
    kind::PAIR,
    kind::PUB,
    kind::SUB,
    kind::REQ,
    kind::REP,
    kind::DEALER,
    kind::ROUTER,
    kind::PULL,
    kind::PUSH,
    kind::XPUB,
    kind::XSUB,
];

#[test]
fn every_socket_type_pair() {
    let now = Instant::now();
    for a in TYPES {
        for b in TYPES {
            let mut x = Side::new(cfg(a, b"x"), now, Version::V3_1);
            let mut y = Side::new(cfg(b, b"y"), now, Version::V3_1);
            pump(&mut x, &mut y, now);
            if super::mechanism::compatible(a, b) {
                assert!(x.err.is_none() && y.err.is_none(), "{a} {b}");
                assert_eq!(x.ready().map(|r| r.1), Some(b));
                assert_eq!(y.ready().map(|r| r.1), Some(a));
                assert!(x.c.is_ready() && y.c.is_ready());
                // Identity travels only from REQ, DEALER and ROUTER.
                let sends_id = matches!(b, kind::REQ | kind::DEALER | kind::ROUTER);
                let got = x.ready().map(|r| r.2).unwrap_or_default();
                assert_eq!(got, if sends_id { b"y".to_vec() } else { vec![] });
            } else {
                assert!(
                    matches!(x.err, Some(ProtocolError::SocketType(_))),
                    "{a} {b}"
                );
                assert!(
                    matches!(y.err, Some(ProtocolError::SocketType(_))),
                    "{a} {b}"
                );
                assert!(!x.c.is_ready());
            }
        }
    }
}

#[test]
fn multipart_and_large_messages_every_version() {
    let now = Instant::now();
    let big = (0..200_000u32).map(|i| i as u8).collect::<Vec<u8>>();
    for v in [Version::V3_1, Version::V3_0, Version::V2_0, Version::V1_0] {
        for chunk in [1usize, 7, 4096, usize::MAX] {
            if chunk == 1 && v != Version::V3_1 {
                continue;
            }
            let mut d = Side::new(cfg(kind::DEALER, b"abc"), now, Version::V3_1);
            let mut r = Side::new(cfg(kind::ROUTER, b"rid"), now, v);
            pump_with(&mut d, &mut r, now, chunk, &mut |_| {});
            assert!(
                d.err.is_none() && r.err.is_none(),
                "{v:?}: {:?} {:?}",
                d.err,
                r.err
            );
            let (dv, _, did) = d.ready().expect("dealer ready");
            let (rv, _, rid) = r.ready().expect("router ready");
            assert_eq!(dv, v);
            assert_eq!(rv, v);
            assert_eq!(rid, b"abc");
            assert_eq!(did, b"rid");
            let frames: Vec<(Vec<u8>, bool)> = vec![
                (b"".to_vec(), true),
                (b"a".to_vec(), true),
                (vec![7; 300], true),
                (big.clone(), false),
                (vec![9; 9000], false),
            ];
            for (f, more) in &frames {
                d.c.send(frame(f, *more)).expect("ready");
                r.c.send(frame(f, *more)).expect("ready");
            }
            pump_with(&mut d, &mut r, now, chunk, &mut |_| {});
            assert_eq!(r.messages(), frames, "{v:?} {chunk}");
            assert_eq!(d.messages(), frames, "{v:?} {chunk}");
        }
    }
}

#[test]
fn large_bodies_are_not_copied() {
    let now = Instant::now();
    let mut a = Side::new(cfg(kind::PAIR, b""), now, Version::V3_1);
    let mut b = Side::new(cfg(kind::PAIR, b""), now, Version::V3_1);
    pump(&mut a, &mut b, now);
    let m = Msg::from_vec(vec![5; 100_000]);
    let ptr = m.data().as_ptr();
    a.c.send(frame(b"hdr", true)).unwrap();
    a.c.send(m).unwrap();
    let slices = a.c.transmit_slices();
    assert_eq!(slices.len(), 2);
    assert_eq!(
        slices[0],
        [&[1u8, 3][..], b"hdr", &[2, 0, 0, 0, 0, 0, 1, 0x86, 0xA0]].concat()
    );
    assert_eq!(slices[1].as_ptr(), ptr);
    // Partial writes inside either slice.
    a.c.advance_transmit(5);
    assert_eq!(a.c.transmit_slices()[0].len(), 9);
    a.c.advance_transmit(9 + 50_000);
    assert_eq!(a.c.transmit_slices(), vec![&[5u8; 50_000][..]]);
    a.c.advance_transmit(50_000);
    assert!(!a.c.wants_transmit());
}

#[test]
fn send_before_ready_is_refused() {
    let now = Instant::now();
    let mut a = Connection::new(cfg(kind::PAIR, b""), now);
    assert!(a.send(frame(b"x", false)).is_err());
    assert!(!a.is_ready());
}

/// A SUB's first frame after the handshake, as it goes on the wire.
fn sub_wire(sub: i32, pub_max: Version, topic: &[u8]) -> (Vec<u8>, Vec<(Vec<u8>, bool)>) {
    let now = Instant::now();
    let mut s = Side::new(cfg(sub, b""), now, Version::V3_1);
    let mut p = Side::new(cfg(kind::XPUB, b""), now, pub_max);
    pump(&mut s, &mut p, now);
    s.c.send(frame(topic, false)).unwrap();
    let wire = s.c.transmit_slices().concat();
    pump(&mut s, &mut p, now);
    (wire, p.messages())
}

#[test]
fn subscriptions_are_commands_for_31_and_messages_for_30() {
    // Bytes as libzmq 4.3.4's SUB sent them (SUBSCRIBE/CANCEL "top").
    let (w, got) = sub_wire(kind::SUB, Version::V3_1, b"\x01top");
    assert_eq!(w, b"\x04\x0d\x09SUBSCRIBEtop");
    assert_eq!(got, vec![(b"\x01top".to_vec(), false)]);
    let (w, got) = sub_wire(kind::XSUB, Version::V3_1, b"\x00top");
    assert_eq!(w, b"\x04\x0a\x06CANCELtop");
    assert_eq!(got, vec![(b"\x00top".to_vec(), false)]);
    let (w, got) = sub_wire(kind::SUB, Version::V3_0, b"\x01top");
    assert_eq!(w, b"\x00\x04\x01top");
    assert_eq!(got, vec![(b"\x01top".to_vec(), false)]);
    // Anything else from an XSUB is a message.
    let (w, _) = sub_wire(kind::XSUB, Version::V3_1, b"\x02x");
    assert_eq!(w, b"\x00\x02\x02x");
}

#[test]
fn unversioned_peer_gets_phantom_subscription() {
    let now = Instant::now();
    for (t, expect) in [(kind::PUB, true), (kind::XPUB, true), (kind::PUSH, false)] {
        let mut p = Side::new(cfg(t, b""), now, Version::V3_1);
        let mut s = Side::new(cfg(kind::SUB, b""), now, Version::V1_0);
        pump(&mut p, &mut s, now);
        assert!(p.err.is_none() && s.err.is_none());
        let want = if expect {
            vec![(vec![1u8], false)]
        } else {
            vec![]
        };
        assert_eq!(p.messages(), want);
    }
    // A 2.0 subscriber sends its own subscriptions: nothing injected.
    let mut p = Side::new(cfg(kind::PUB, b""), now, Version::V3_1);
    let mut s = Side::new(cfg(kind::SUB, b""), now, Version::V2_0);
    pump(&mut p, &mut s, now);
    assert!(p.messages().is_empty());
}

// ---- Byte fixtures captured from libzmq 4.3.4 (Debian) on loopback ----

const SIG_ABC: [u8; 10] = [0xFF, 0, 0, 0, 0, 0, 0, 0, 4, 0x7F];
const SIG_EMPTY: [u8; 10] = [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F];

fn out(c: &mut Connection) -> Vec<u8> {
    let v = c.transmit_slices().concat();
    c.advance_transmit(v.len());
    v
}

fn null_rest(minor: u8) -> Vec<u8> {
    let mut v = vec![minor];
    v.extend_from_slice(b"NULL");
    v.resize(53, 0);
    v
}

/// `ZMQ_METADATA` properties follow the basic ones in READY.
#[test]
fn ready_carries_application_metadata() {
    let now = Instant::now();
    let mut config = cfg(kind::DEALER, b"abc");
    config.app_metadata = vec![("X-Color".into(), b"red".to_vec())];
    let mut c = Connection::new(config, now);
    out(&mut c);
    assert_eq!(c.handle_input(&SIG_EMPTY, now), Ok(10));
    assert_eq!(c.handle_input(&[3], now), Ok(1));
    assert_eq!(c.handle_input(&null_rest(1), now), Ok(53));
    let ready = b"\x04\x3b\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER\x08Identity\x00\x00\x00\x03abc\x07X-Color\x00\x00\x00\x03red";
    assert!(out(&mut c).ends_with(ready));
}

#[test]
fn libzmq_fixture_dealer_staged_greeting_and_ready() {
    let now = Instant::now();
    let mut c = Connection::new(cfg(kind::DEALER, b"abc"), now);
    // libzmq sent exactly the signature, then waited for ours.
    assert_eq!(out(&mut c), SIG_ABC);
    assert_eq!(c.handle_input(&SIG_EMPTY, now), Ok(10));
    assert_eq!(out(&mut c), [3]);
    assert_eq!(c.handle_input(&[3], now), Ok(1));
    assert_eq!(out(&mut c), null_rest(1));
    assert_eq!(c.handle_input(&null_rest(1), now), Ok(53));
    let ready =
        b"\x04\x2c\x05READY\x0bSocket-Type\x00\x00\x00\x06DEALER\x08Identity\x00\x00\x00\x03abc";
    assert_eq!(out(&mut c), ready);
    // The peer's READY (a ROUTER with an empty identity), then a message.
    let peer = b"\x04\x29\x05READY\x0bSocket-Type\x00\x00\x00\x06ROUTER\x08Identity\x00\x00\x00\x00\x00\x02hi";
    assert_eq!(c.handle_input(peer, now), Ok(peer.len()));
    match c.poll_event() {
        Some(Event::Ready {
            version,
            peer_socket_type,
            metadata,
            ..
        }) => {
            assert_eq!(version, Version::V3_1);
            assert_eq!(peer_socket_type, kind::ROUTER);
            assert_eq!(metadata.get("socket-type"), Some(&b"ROUTER"[..]));
        }
        e => panic!("{e:?}"),
    }
    assert!(matches!(c.poll_event(), Some(Event::Message(m)) if m.data() == b"hi"));
    c.send(frame(b"hi", false)).unwrap();
    assert_eq!(out(&mut c), b"\x00\x02hi");
}

#[test]
fn libzmq_fixture_other_ready_bodies() {
    // REQ sends an empty Identity; REP, PUB, SUB, PAIR... send none.
    let now = Instant::now();
    for (t, id, ready) in [
        (kind::REQ, &b""[..], &b"\x04\x26\x05READY\x0bSocket-Type\x00\x00\x00\x03REQ\x08Identity\x00\x00\x00\x00"[..]),
        (kind::REP, b"zz", b"\x04\x19\x05READY\x0bSocket-Type\x00\x00\x00\x03REP"),
        (kind::ROUTER, b"rid", b"\x04\x2c\x05READY\x0bSocket-Type\x00\x00\x00\x06ROUTER\x08Identity\x00\x00\x00\x03rid"),
        (kind::XPUB, b"", b"\x04\x1a\x05READY\x0bSocket-Type\x00\x00\x00\x04XPUB"),
    ] {
        let mut c = Connection::new(cfg(t, id), now);
        let mut g = SIG_EMPTY.to_vec();
        g.push(3);
        g.extend_from_slice(&null_rest(1));
        c.handle_input(&g, now).unwrap();
        let o = out(&mut c);
        assert_eq!(&o[o.len() - ready.len()..], ready, "{t}");
    }
}

#[test]
fn libzmq_fixture_zmtp20_peer() {
    // libzmq DEALER "abc" to a 2.0 peer: signature, 03, then its socket
    // type byte once the peer's major (01) is in, then identity frame.
    let now = Instant::now();
    let mut c = Connection::new(cfg(kind::DEALER, b"abc"), now);
    assert_eq!(out(&mut c), SIG_ABC);
    c.handle_input(&SIG_EMPTY, now).unwrap();
    assert_eq!(out(&mut c), [3]);
    c.handle_input(&[1, 6], now).unwrap();
    assert_eq!(out(&mut c), b"\x05\x00\x03abc");
    c.handle_input(b"\x00\x06peerid\x01\x02m1\x00\x02m2", now)
        .unwrap();
    let Some(Event::Ready {
        version,
        peer_routing_id,
        peer_socket_type,
        ..
    }) = c.poll_event()
    else {
        panic!()
    };
    assert_eq!((version, peer_socket_type), (Version::V2_0, kind::ROUTER));
    assert_eq!(peer_routing_id, b"peerid");
    c.send(frame(b"hi", false)).unwrap();
    assert_eq!(out(&mut c), b"\x00\x02hi");
}

#[test]
fn libzmq_fixture_zmtp10_peers() {
    let now = Instant::now();
    // Unversioned: the signature was our identity frame's header, so only
    // the identity's body follows; then 1.0 frames.
    let mut c = Connection::new(cfg(kind::DEALER, b"abc"), now);
    assert_eq!(out(&mut c), SIG_ABC);
    let input = b"\x04\x00xyz\x03\x01m1\x03\x00m2";
    let mut used = c.handle_input(input, now).unwrap();
    assert_eq!(out(&mut c), b"abc");
    let mut got = Vec::new();
    loop {
        while let Some(e) = c.poll_event() {
            got.push(e);
        }
        if used == input.len() {
            break;
        }
        used += c.handle_input(&input[used..], now).unwrap();
    }
    assert!(
        matches!(&got[0], Event::Ready { version: Version::V1_0, peer_routing_id, .. } if peer_routing_id == b"xyz")
    );
    assert!(matches!(&got[1], Event::Message(m) if m.data() == b"m1" && m.more()));
    assert!(matches!(&got[2], Event::Message(m) if m.data() == b"m2" && !m.more()));
    c.send(frame(b"hi", false)).unwrap();
    assert_eq!(out(&mut c), b"\x03\x00hi");
    // Versioned 1.0 (major 0): 12-byte greeting, then a 1.0 identity frame.
    let mut c = Connection::new(cfg(kind::DEALER, b"abc"), now);
    out(&mut c);
    c.handle_input(b"\xff\0\0\0\0\0\0\0\x01\x7f\x00\x05", now)
        .unwrap();
    assert_eq!(out(&mut c), b"\x03\x05\x04\x00abc");
}

#[test]
fn libzmq_fixture_heartbeats() {
    let now = Instant::now();
    let mut a = cfg(kind::PAIR, b"");
    a.heartbeat_ivl = Some(Duration::from_millis(300));
    a.heartbeat_ttl = Some(Duration::from_millis(2000));
    let mut c = Connection::new(a, now);
    let mut g = SIG_EMPTY.to_vec();
    g.push(3);
    g.extend_from_slice(&null_rest(1));
    g.extend_from_slice(b"\x04\x1a\x05READY\x0bSocket-Type\x00\x00\x00\x04PAIR");
    c.handle_input(&g, now).unwrap();
    assert!(c.is_ready());
    out(&mut c);
    assert_eq!(c.poll_timeout(), Some(now + Duration::from_millis(300)));
    c.handle_timeout(now + Duration::from_millis(300)).unwrap();
    // libzmq: PING with TTL 20 ds and no context.
    assert_eq!(out(&mut c), b"\x04\x07\x04PING\x00\x14");
    // PONG echoes the context, truncated to 16 bytes.
    c.handle_input(b"\x04\x0a\x04PING\x00\x00ctx", now).unwrap();
    assert_eq!(out(&mut c), b"\x04\x08\x04PONGctx");
    let mut long = b"\x04\x1b\x04PING\x00\x00".to_vec();
    long.extend_from_slice(&[b'C'; 20]);
    c.handle_input(&long, now).unwrap();
    assert_eq!(
        out(&mut c),
        [&b"\x04\x15\x04PONG"[..], &[b'C'; 16]].concat()
    );
}

#[test]
fn heartbeat_timeout_and_ttl_with_virtual_clock() {
    let t0 = Instant::now();
    let s = Duration::from_secs;
    let mut ca = cfg(kind::DEALER, b"");
    ca.heartbeat_ivl = Some(s(1));
    ca.heartbeat_ttl = Some(s(5));
    ca.heartbeat_timeout = Some(s(3));
    let mut a = Side::new(ca, t0, Version::V3_1);
    let mut b = Side::new(cfg(kind::ROUTER, b""), t0, Version::V3_1);
    pump(&mut a, &mut b, t0);
    assert_eq!(a.c.poll_timeout(), Some(t0 + s(1)));
    assert_eq!(b.c.poll_timeout(), None);
    // Answered PINGs keep the connection alive.
    for i in 1..10 {
        let now = t0 + s(i);
        a.c.handle_timeout(now).unwrap();
        pump(&mut a, &mut b, now);
        assert!(a.err.is_none() && b.err.is_none());
    }
    // B now expects traffic within the TTL; A's timeout is unarmed.
    assert_eq!(b.c.poll_timeout(), Some(t0 + s(9) + s(5)));
    // The peer goes silent: PINGs continue, the timeout fires 3 s after
    // the first unanswered one.
    let mut now = t0 + s(10);
    a.c.handle_timeout(now).unwrap();
    out(&mut a.c);
    assert_eq!(a.c.poll_timeout(), Some(t0 + s(11)));
    now += s(1);
    a.c.handle_timeout(now).unwrap();
    now += s(1);
    a.c.handle_timeout(now).unwrap();
    now += s(1);
    assert_eq!(a.c.poll_timeout(), Some(now));
    assert_eq!(
        a.c.handle_timeout(now),
        Err(ProtocolError::Timeout("heartbeat"))
    );
    assert!(a.c.handle_input(b"\x00\x00", now).is_err());
    // B never heard again: its TTL expires.
    assert_eq!(
        b.c.handle_timeout(t0 + s(14)),
        Err(ProtocolError::Timeout("heartbeat TTL"))
    );
}

#[test]
fn handshake_timeout() {
    let t0 = Instant::now();
    let mut c = cfg(kind::PAIR, b"");
    c.handshake_ivl = Some(Duration::from_millis(500));
    let mut a = Connection::new(c, t0);
    assert_eq!(a.poll_timeout(), Some(t0 + Duration::from_millis(500)));
    a.handle_timeout(t0 + Duration::from_millis(499)).unwrap();
    assert!(a
        .handle_timeout(t0 + Duration::from_millis(500))
        .unwrap_err()
        .is_timeout());
    // Completing the handshake disarms it.
    let mut c = cfg(kind::PAIR, b"");
    c.handshake_ivl = Some(Duration::from_millis(500));
    let mut a = Side::new(c, t0, Version::V3_1);
    let mut b = Side::new(cfg(kind::PAIR, b""), t0, Version::V3_1);
    pump(&mut a, &mut b, t0);
    assert_eq!(a.c.poll_timeout(), None);
    a.c.handle_timeout(t0 + Duration::from_secs(100)).unwrap();
}

fn greeted(t: i32) -> (Connection, Instant) {
    let now = Instant::now();
    let mut c = Connection::new(cfg(t, b""), now);
    let mut g = SIG_EMPTY.to_vec();
    g.push(3);
    g.extend_from_slice(&null_rest(1));
    assert_eq!(c.handle_input(&g, now), Ok(64));
    (c, now)
}

fn ready_cmd(t: &[u8]) -> Vec<u8> {
    let mut b = b"\x05READY\x0bSocket-Type".to_vec();
    b.extend_from_slice(&(t.len() as u32).to_be_bytes());
    b.extend_from_slice(t);
    let mut v = vec![0x04, b.len() as u8];
    v.extend(b);
    v
}

#[test]
fn handshake_violations() {
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("data before READY", b"\x00\x02hi".to_vec()),
        ("ERROR", b"\x04\x0a\x05ERROR\x03bad".to_vec()),
        ("unknown command", b"\x04\x06\x05HELLO".to_vec()),
        (
            "READY trailing byte",
            [&ready_cmd(b"PAIR")[..], b""].concat()[..0].to_vec(),
        ),
        ("truncated READY", b"\x04\x09\x05READY\x0bSo".to_vec()),
        ("bad type", ready_cmd(b"PUB")),
        (
            "long frame 2^63",
            [&[0x06u8][..], &u64::MAX.to_be_bytes()].concat(),
        ),
        ("reserved flags", b"\x80\x00".to_vec()),
        ("command with MORE", b"\x05\x00".to_vec()),
        ("empty command", b"\x04\x00".to_vec()),
    ];
    for (name, bytes) in cases {
        if bytes.is_empty() {
            continue;
        }
        let (mut c, now) = greeted(kind::PAIR);
        let r = c.handle_input(&bytes, now);
        assert!(r.is_err(), "{name}: {r:?}");
        assert!(!c.is_ready());
    }
    // READY with a trailing byte (libzmq drops the connection too).
    let (mut c, now) = greeted(kind::PAIR);
    let mut r = ready_cmd(b"PAIR");
    r[1] += 1;
    r.push(1);
    assert!(c.handle_input(&r, now).is_err());
    // ERROR carries its reason out.
    let (mut c, now) = greeted(kind::PAIR);
    assert_eq!(
        c.handle_input(b"\x04\x0a\x05ERROR\x03bad", now),
        Err(ProtocolError::PeerError(b"bad".to_vec()))
    );
    // READY without Socket-Type is accepted, as libzmq does.
    let (mut c, now) = greeted(kind::PAIR);
    c.handle_input(b"\x04\x06\x05READY", now).unwrap();
    assert!(c.is_ready());
}

#[test]
fn mechanism_mismatch() {
    let now = Instant::now();
    let mut c = Connection::new(cfg(kind::PAIR, b""), now);
    let mut g = SIG_EMPTY.to_vec();
    g.push(3);
    let mut rest = null_rest(1);
    rest[1..6].copy_from_slice(b"PLAIN");
    g.extend_from_slice(&rest);
    assert_eq!(
        c.handle_input(&g, now),
        Err(ProtocolError::MechanismMismatch("PLAIN".into()))
    );
}

#[test]
fn after_ready_unknown_commands_are_ignored() {
    let (mut c, now) = greeted(kind::PAIR);
    let mut input = ready_cmd(b"PAIR");
    input.extend_from_slice(
        b"\x04\x07\x05HELLOx\x04\x09\x05ERROR\x02no\x04\x06\x05READY\x04\x04\x20abc\x04\x00",
    );
    input.extend_from_slice(b"\x04\x05\x04PONG\x04\x0d\x09SUBSCRIBEtop\x00\x05after");
    let n = c.handle_input(&input, now).unwrap();
    assert_eq!(n, input.len());
    assert!(matches!(c.poll_event(), Some(Event::Ready { .. })));
    // SUBSCRIBE is meaningless to a PAIR: dropped.
    assert!(matches!(c.poll_event(), Some(Event::Message(m)) if m.data() == b"after"));
    assert!(c.poll_event().is_none());
}

#[test]
fn maxmsgsize_applies() {
    let now = Instant::now();
    let mut cf = cfg(kind::PAIR, b"");
    cf.maxmsgsize = 100;
    let mut c = Connection::new(cf, now);
    let mut g = SIG_EMPTY.to_vec();
    g.push(3);
    g.extend_from_slice(&null_rest(1));
    g.extend_from_slice(&ready_cmd(b"PAIR"));
    c.handle_input(&g, now).unwrap();
    assert!(c.is_ready());
    let mut big = vec![0x02];
    big.extend_from_slice(&101u64.to_be_bytes());
    assert!(matches!(
        c.handle_input(&big, now),
        Err(ProtocolError::TooLarge {
            size: 101,
            limit: 100
        })
    ));
}

#[test]
fn whole_reads_decoded_then_backpressure() {
    let (mut c, now) = greeted(kind::PULL);
    let mut input = ready_cmd(b"PUSH");
    input.extend_from_slice(b"\x00\x01a\x00\x01b");
    assert_eq!(c.handle_input(&input, now), Ok(input.len()));
    assert!(matches!(c.poll_event(), Some(Event::Ready { .. })));
    assert!(matches!(c.poll_event(), Some(Event::Message(m)) if m.data() == b"a"));
    assert!(matches!(c.poll_event(), Some(Event::Message(m)) if m.data() == b"b"));
    assert!(c.poll_event().is_none());

    // A caller that does not take its messages stops the decoding.
    let burst: Vec<u8> = (0..MAX_UNDELIVERED + 2)
        .flat_map(|_| *b"\x00\x01c")
        .collect();
    let n = c.handle_input(&burst, now).unwrap();
    assert_eq!(n, MAX_UNDELIVERED * 3);
    assert_eq!(c.handle_input(&burst[n..], now), Ok(0));
    assert!(matches!(c.poll_event(), Some(Event::Message(m)) if m.data() == b"c"));
    assert_eq!(c.handle_input(&burst[n..], now), Ok(3));
}

// ---- Damage in flight and bounded randomized input ----

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn conversation(seed: u64, v: Version, mangle_rate: usize) {
    let now = Instant::now();
    let mut rng = Rng(seed | 1);
    let types = [
        (kind::DEALER, kind::ROUTER),
        (kind::SUB, kind::PUB),
        (kind::PAIR, kind::PAIR),
    ];
    let (ta, tb) = types[rng.below(types.len())];
    let mut ca = cfg(ta, b"id");
    ca.maxmsgsize = 1 << 16;
    ca.heartbeat_ivl = Some(Duration::from_millis(10));
    let mut a = Side::new(ca, now, Version::V3_1);
    let mut b = Side::new(cfg(tb, b""), now, v);
    let mut mangle = |bytes: &mut Vec<u8>| {
        if rng.below(mangle_rate) != 0 || bytes.is_empty() {
            return;
        }
        let i = rng.below(bytes.len());
        match rng.below(4) {
            0 => bytes[i] ^= 1 << rng.below(8),
            1 => bytes.truncate(i),
            2 => bytes.insert(i, rng.next() as u8),
            _ => bytes[i] = rng.next() as u8,
        }
    };
    let chunk = 1 + (seed as usize % 97);
    pump_with(&mut a, &mut b, now, chunk, &mut mangle);
    for i in 0..6u8 {
        let _ = a.c.send(frame(&vec![i; i as usize * 50], i % 2 == 0));
        let _ = b.c.send(frame(b"\x01x", false));
    }
    let _ = a.c.handle_timeout(now + Duration::from_millis(10));
    pump_with(&mut a, &mut b, now, chunk, &mut mangle);
}

#[test]
fn mutated_streams_never_panic() {
    let start = Instant::now();
    for v in [Version::V3_1, Version::V3_0, Version::V2_0, Version::V1_0] {
        // Rare damage reaches deep states; frequent damage hits greetings.
        for (seed, rate) in (0..600u64).zip([3, 40, 400, 4000].iter().cycle()) {
            conversation(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15), v, *rate);
        }
    }
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn random_input_never_panics() {
    let now = Instant::now();
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let prefixes: Vec<Vec<u8>> = vec![
        vec![],
        [&SIG_EMPTY[..], &[3], &null_rest(1)].concat(),
        [&SIG_EMPTY[..], &[3], &null_rest(1), &ready_cmd(b"DEALER")].concat(),
        [&SIG_EMPTY[..], &[1, 5]].concat(),
        [&SIG_EMPTY[..], &[0, 5]].concat(),
        b"\x01\x00".to_vec(),
    ];
    for _ in 0..3000 {
        let p = &prefixes[rng.below(prefixes.len())];
        let mut buf = p.clone();
        for _ in 0..rng.below(200) {
            buf.push(rng.next() as u8);
        }
        let mut cf = cfg(kind::ROUTER, b"r");
        cf.maxmsgsize = 1 << 20;
        let mut c = Connection::new(cf, now);
        let mut rest = &buf[..];
        while !rest.is_empty() {
            match c.handle_input(rest, now) {
                Ok(n) => {
                    rest = &rest[n..];
                    let mut polled = false;
                    while c.poll_event().is_some() {
                        polled = true;
                    }
                    if n == 0 && !polled {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        let _ = c.handle_timeout(now + Duration::from_secs(60));
    }
}

// ---- The session's path: frames straight into a sink ----

/// Feeds `wire` (after a PULL's greeting and the peer's READY) through
/// `handle_input_into` the way a session does: reads of `read` bytes, each
/// a shared chunk the frames are sliced from, a sink that refuses a frame
/// whenever `refuse` says so (a full pipe), the refused frame taken from
/// the events and the rest of the read fed again. Returns the frames
/// delivered, in order, and whether a PONG was queued.
fn through_sink(
    wire: &[u8],
    read: usize,
    mut refuse: impl FnMut() -> bool,
) -> (Vec<(Vec<u8>, bool)>, bool) {
    let (mut c, now) = greeted(kind::PULL);
    let ready = ready_cmd(b"PUSH");
    assert_eq!(c.handle_input(&ready, now), Ok(ready.len()));
    assert!(matches!(c.poll_event(), Some(Event::Ready { .. })));
    let mut got = Vec::new();
    for piece in wire.chunks(read.max(1)) {
        let mut chunk = Msg::from_slice(piece);
        loop {
            let mut sink = |m: Msg| {
                if refuse() {
                    return Err(m);
                }
                got.push((m.data().to_vec(), m.more()));
                Ok(())
            };
            let used = match c.handle_input_into(chunk.data(), Some((&chunk, 0)), now, &mut sink) {
                Ok(n) => n,
                Err(e) => panic!("decoding failed: {e:?}"),
            };
            while let Some(ev) = c.poll_event() {
                if let Event::Message(m) = ev {
                    got.push((m.data().to_vec(), m.more()));
                }
            }
            if used == chunk.len() {
                break;
            }
            match chunk.slice(used, chunk.len() - used) {
                Some(rest) => chunk = rest,
                None => panic!("rest of the read out of range"),
            }
        }
    }
    let pong = out(&mut c).windows(5).any(|w| w == b"\x04PONG");
    (got, pong)
}

#[test]
fn sink_gets_frames_in_order_across_refusals_and_reads() {
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    for round in 0..200 {
        let mut wire = Vec::new();
        let mut want = Vec::new();
        let mut ping = false;
        for _ in 0..1 + rng.below(40) {
            if rng.below(10) == 0 {
                // A PING between frames: answered, never delivered.
                wire.extend_from_slice(b"\x04\x07\x04PING\x00\x00");
                ping = true;
                continue;
            }
            let size = [0, 1, 46, 47, 200, 255, 256, 3000][rng.below(8)];
            let body: Vec<u8> = (0..size).map(|_| rng.next() as u8).collect();
            let more = rng.below(3) == 0;
            let flags = more as u8 | if size > 255 { 2 } else { 0 };
            wire.push(flags);
            if size > 255 {
                wire.extend_from_slice(&(size as u64).to_be_bytes());
            } else {
                wire.push(size as u8);
            }
            wire.extend_from_slice(&body);
            want.push((body, more));
        }
        let read = 1 + rng.below(if round % 2 == 0 { 64 } else { 8192 });
        let rate = 1 + rng.below(4);
        let (got, pong) = through_sink(&wire, read, || rng.below(rate) == 0);
        assert_eq!(got, want, "round {round}, reads of {read}");
        assert_eq!(pong, ping, "round {round}");
    }
}
