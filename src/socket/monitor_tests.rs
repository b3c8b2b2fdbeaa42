//! The monitor's own guarantees, beyond what capi-tests/test_monitor.c
//! compares with libzmq: publishing never blocks, events wait for a reader
//! that connects late, a reader closed first breaks nothing, the backlog is
//! bounded, and the version 2 frames.

use std::time::{Duration, Instant};

use super::*;
use crate::socket::DONTWAIT;

fn reader(ctx: &Arc<Ctx>, endpoint: &str) -> Arc<Socket> {
    let r = ctx.socket(kind::PAIR).unwrap();
    r.set_option(id::RCVTIMEO, &2000i32.to_ne_bytes()).unwrap();
    r.set_option(id::LINGER, &0i32.to_ne_bytes()).unwrap();
    r.connect(endpoint).unwrap();
    r
}

/// One version 1 event: (number, value, endpoint).
fn next_v1(r: &Socket) -> Option<(u16, u32, String)> {
    let head = r.recv(0).ok()?;
    assert!(head.more(), "the event frame has MORE");
    let d = head.data();
    assert_eq!(d.len(), 6);
    let ev = u16::from_ne_bytes([d[0], d[1]]);
    let value = u32::from_ne_bytes([d[2], d[3], d[4], d[5]]);
    let ep = r.recv(0).unwrap();
    assert!(!ep.more());
    Some((ev, value, String::from_utf8(ep.data().to_vec()).unwrap()))
}

fn nothing_waits(r: &Socket) -> bool {
    matches!(r.recv(DONTWAIT), Err(Error::Again))
}

#[test]
fn events_wait_for_a_reader_that_connects_late() {
    let ctx = Ctx::new();
    let s = ctx.socket(kind::DEALER).unwrap();
    s.monitor(Some("inproc://late"), event::ALL_V1, 1, kind::PAIR)
        .unwrap();
    // libzmq would block this bind until a reader connects.
    s.bind("tcp://127.0.0.1:*").unwrap();
    s.monitor.emit(MonitorEvent::BindFailed { errno: 98 }, || {
        Endpoints::bound("x")
    });
    let r = reader(&ctx, "inproc://late");
    let (ev, _, ep) = next_v1(&r).unwrap();
    assert_eq!(ev as u64, event::LISTENING);
    assert!(ep.starts_with("tcp://127.0.0.1:"), "{ep}");
    assert_eq!(
        next_v1(&r),
        Some((event::BIND_FAILED as u16, 98, "x".into()))
    );
    s.close();
    assert_eq!(
        next_v1(&r).map(|e| e.0 as u64),
        Some(event::CLOSED),
        "the listener closes before the monitor stops"
    );
    assert_eq!(
        next_v1(&r).map(|e| e.0 as u64),
        Some(event::MONITOR_STOPPED)
    );
    r.close();
    ctx.terminate();
}

#[test]
fn a_full_reader_never_blocks_and_the_backlog_is_bounded() {
    let ctx = Ctx::new();
    let s = ctx.socket(kind::DEALER).unwrap();
    s.monitor(Some("inproc://full"), event::ALL_V1, 1, kind::PAIR)
        .unwrap();
    let r = reader(&ctx, "inproc://full");
    let start = Instant::now();
    let total = 10_000u32;
    for fd in 0..total {
        s.monitor
            .emit(MonitorEvent::Accepted { fd: fd as i32 }, || {
                Endpoints::bound("e")
            });
    }
    assert!(start.elapsed() < Duration::from_secs(5), "emitting blocked");
    // The pipe holds both sides' HWM (1000 + 1000), the backlog 1000 more;
    // what is kept arrives in order, the rest is dropped.
    let mut got = Vec::new();
    while let Some((_, fd, _)) = next_v1_now(&r) {
        got.push(fd);
    }
    assert!(got.len() >= 2000 && got.len() <= 3000 + 1, "{}", got.len());
    assert!(got.windows(2).all(|w| w[0] < w[1]), "out of order");
    assert_eq!(got[0], 0);
    // Once drained, new events flow again.
    s.monitor
        .emit(MonitorEvent::Accepted { fd: -7 }, || Endpoints::bound("e"));
    assert_eq!(next_v1(&r).map(|e| e.1 as i32), Some(-7));
    s.close();
    r.close();
    ctx.terminate();
}

fn next_v1_now(r: &Socket) -> Option<(u16, u32, String)> {
    // The backlog moves as the reader drains: give it a moment.
    for _ in 0..50 {
        if !nothing_waits_peek(r) {
            return next_v1(r);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

fn nothing_waits_peek(r: &Socket) -> bool {
    r.events().unwrap() & crate::socket::POLLIN == 0
}

#[test]
fn a_reader_closed_first_breaks_nothing() {
    let ctx = Ctx::new();
    let s = ctx.socket(kind::DEALER).unwrap();
    s.monitor(Some("inproc://gone"), event::ALL_V1, 1, kind::PAIR)
        .unwrap();
    let r = reader(&ctx, "inproc://gone");
    s.bind("tcp://127.0.0.1:*").unwrap();
    assert_eq!(next_v1(&r).map(|e| e.0 as u64), Some(event::LISTENING));
    r.close();
    for fd in 0..3000 {
        s.monitor
            .emit(MonitorEvent::Closed { fd }, || Endpoints::bound("e"));
    }
    // A new reader gets what was kept meanwhile.
    let r2 = reader(&ctx, "inproc://gone");
    assert_eq!(
        next_v1(&r2).map(|e| (e.0 as u64, e.1)),
        Some((event::CLOSED, 0))
    );
    s.monitor(None, 0, 1, kind::PAIR).unwrap();
    s.close();
    r2.close();
    ctx.terminate();
}

#[test]
fn stopping_replacing_and_reusing_the_endpoint() {
    let ctx = Ctx::new();
    let s = ctx.socket(kind::DEALER).unwrap();
    let r = reader(&ctx, "inproc://again");
    s.monitor(Some("inproc://again"), event::ALL_V1, 1, kind::PAIR)
        .unwrap();
    // Replacing the monitor with one on the same endpoint works at once
    // (libzmq's publisher closes asynchronously: EADDRINUSE for a while).
    s.monitor(Some("inproc://again"), event::ALL_V1, 1, kind::PAIR)
        .unwrap();
    assert_eq!(
        next_v1(&r),
        Some((event::MONITOR_STOPPED as u16, 0, String::new()))
    );
    let r2 = reader(&ctx, "inproc://again");
    s.monitor(None, 0, 1, kind::PAIR).unwrap();
    assert_eq!(
        next_v1(&r2).map(|e| e.0 as u64),
        Some(event::MONITOR_STOPPED)
    );
    assert!(nothing_waits(&r2));
    // Stopping twice is fine, and a closed socket is ENOTSOCK.
    s.monitor(None, 0, 1, kind::PAIR).unwrap();
    s.close();
    assert_eq!(
        s.monitor(Some("inproc://x"), 1, 1, kind::PAIR),
        Err(Error::NotSock)
    );
    r.close();
    r2.close();
    ctx.terminate();
}

#[test]
fn publisher_types_and_version_checks() {
    let ctx = Ctx::new();
    let s = ctx.socket(kind::DEALER).unwrap();
    assert_eq!(
        s.monitor(Some("inproc://t"), 1, 1, kind::SUB),
        Err(Error::Inval)
    );
    assert_eq!(
        s.monitor(Some("inproc://t"), event::PIPES_STATS, 1, kind::PAIR),
        Err(Error::Inval)
    );
    s.monitor(Some("inproc://t"), event::PIPES_STATS, 2, kind::PUB)
        .unwrap();
    s.monitor(Some("inproc://t2"), 1, 2, kind::PUSH).unwrap();
    s.close();
    ctx.terminate();
}

#[test]
fn version_2_frames() {
    let ctx = Ctx::new();
    let s = ctx.socket(kind::DEALER).unwrap();
    s.monitor(
        Some("inproc://v2"),
        event::ALL_V1 | event::PIPES_STATS,
        2,
        kind::PAIR,
    )
    .unwrap();
    let r = reader(&ctx, "inproc://v2");
    s.monitor
        .emit(MonitorEvent::Connected { fd: 12 }, || Endpoints {
            local: "tcp://127.0.0.1:40000".into(),
            remote: "tcp://127.0.0.1:5555".into(),
            bound: false,
        });
    s.monitor.emit(
        MonitorEvent::PipesStats {
            outbound: 3,
            inbound: 1 << 40,
        },
        || Endpoints::bound("tcp://127.0.0.1:5555"),
    );
    let frames = |n: usize| -> Vec<Msg> { (0..n).map(|_| r.recv(0).unwrap()).collect() };
    let u64_of = |m: &Msg| u64::from_ne_bytes(m.data().try_into().unwrap());
    let f = frames(5);
    assert_eq!(u64_of(&f[0]), event::CONNECTED);
    assert_eq!(u64_of(&f[1]), 1);
    assert_eq!(u64_of(&f[2]), 12);
    assert_eq!(f[3].data(), b"tcp://127.0.0.1:40000");
    assert_eq!(f[4].data(), b"tcp://127.0.0.1:5555");
    assert!(f[..4].iter().all(|m| m.more()) && !f[4].more());
    let f = frames(6);
    assert_eq!(u64_of(&f[0]), event::PIPES_STATS);
    assert_eq!(u64_of(&f[1]), 2);
    assert_eq!((u64_of(&f[2]), u64_of(&f[3])), (3, 1 << 40));
    assert_eq!(f[4].data(), b"tcp://127.0.0.1:5555");
    assert_eq!(f[5].data(), b"");
    s.close();
    let f = frames(5);
    assert_eq!(u64_of(&f[0]), event::MONITOR_STOPPED);
    assert_eq!((f[3].data(), f[4].data()), (&b""[..], &b""[..]));
    r.close();
    ctx.terminate();
}

#[test]
fn event_numbers_and_values() {
    use MonitorEvent::*;
    let all = [
        (Connected { fd: 3 }, event::CONNECTED, 3),
        (ConnectDelayed { errno: 115 }, event::CONNECT_DELAYED, 115),
        (
            ConnectRetried { interval_ms: 100 },
            event::CONNECT_RETRIED,
            100,
        ),
        (Listening { fd: 4 }, event::LISTENING, 4),
        (BindFailed { errno: 98 }, event::BIND_FAILED, 98),
        (Accepted { fd: 5 }, event::ACCEPTED, 5),
        (AcceptFailed { errno: 24 }, event::ACCEPT_FAILED, 24),
        (Closed { fd: 6 }, event::CLOSED, 6),
        (CloseFailed { errno: 2 }, event::CLOSE_FAILED, 2),
        (Disconnected { fd: 7 }, event::DISCONNECTED, 7),
        (MonitorStopped, event::MONITOR_STOPPED, 0),
        (
            HandshakeFailedNoDetail { errno: 32 },
            event::HANDSHAKE_FAILED_NO_DETAIL,
            32,
        ),
        (HandshakeSucceeded, event::HANDSHAKE_SUCCEEDED, 0),
        (
            HandshakeFailedProtocol { code: 0x1100_0002 },
            event::HANDSHAKE_FAILED_PROTOCOL,
            0x1100_0002,
        ),
        (
            HandshakeFailedAuth { status: 400 },
            event::HANDSHAKE_FAILED_AUTH,
            400,
        ),
    ];
    let mut seen = 0;
    for (ev, code, value) in all {
        assert_eq!(ev.code(), code);
        assert_eq!(ev.values(), ([value, 0], 1));
        seen |= code;
    }
    assert_eq!(seen, event::ALL_V1 & !0x8000);
    assert_eq!(Disconnected { fd: -1 }.values().0[0], 0xFFFF_FFFF);
}
