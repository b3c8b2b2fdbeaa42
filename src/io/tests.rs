//! Sockets over tcp and ipc, ours at both ends, through the core API
//! (the interop suite pairs us with real libzmq).

use std::sync::Arc;

use crate::ctx::Ctx;
use crate::msg::Msg;
use crate::options::id;
use crate::socket::{kind, Socket, SNDMORE};

pub(super) fn last_endpoint(s: &Socket) -> String {
    let mut buf = [0u8; 256];
    let n = s.get_option(id::LAST_ENDPOINT, &mut buf).unwrap();
    String::from_utf8(buf[..n - 1].to_vec()).unwrap()
}

pub(super) fn timeouts(s: &Socket) {
    s.set_option(id::RCVTIMEO, &5000i32.to_ne_bytes()).unwrap();
    s.set_option(id::SNDTIMEO, &5000i32.to_ne_bytes()).unwrap();
    s.set_option(id::LINGER, &1000i32.to_ne_bytes()).unwrap();
}

pub(super) fn pair(ctx: &Arc<Ctx>, a: i32, b: i32, ep: &str) -> (Arc<Socket>, Arc<Socket>) {
    let x = ctx.socket(a).unwrap();
    let y = ctx.socket(b).unwrap();
    timeouts(&x);
    timeouts(&y);
    x.bind(ep).unwrap();
    y.connect(&last_endpoint(&x)).unwrap();
    (x, y)
}

pub(super) fn send(s: &Socket, data: &[u8], more: bool) {
    s.send(&mut Msg::from_slice(data), if more { SNDMORE } else { 0 })
        .unwrap();
}

pub(super) fn recv(s: &Socket) -> Msg {
    s.recv(0).unwrap()
}

#[test]
fn push_pull_over_tcp_in_order() {
    let ctx = Ctx::new();
    let (pull, push) = pair(&ctx, kind::PULL, kind::PUSH, "tcp://127.0.0.1:*");
    for i in 0..2000u32 {
        send(&push, &i.to_be_bytes(), false);
    }
    let big = vec![7u8; 1 << 20];
    push.send(&mut Msg::from_vec(big.clone()), 0).unwrap();
    for i in 0..2000u32 {
        assert_eq!(recv(&pull).data(), i.to_be_bytes());
    }
    assert_eq!(recv(&pull).data(), &big[..]);
    push.close();
    pull.close();
    ctx.terminate();
}

#[test]
fn req_rep_over_ipc_multipart() {
    let ctx = Ctx::new();
    let (rep, req) = pair(&ctx, kind::REP, kind::REQ, "ipc://*");
    for _ in 0..100 {
        send(&req, b"a", true);
        send(&req, b"b", false);
        let a = recv(&rep);
        assert!(a.more());
        assert_eq!(recv(&rep).data(), b"b");
        send(&rep, b"ok", false);
        assert_eq!(recv(&req).data(), b"ok");
    }
    req.close();
    rep.close();
    ctx.terminate();
}

#[test]
fn connect_before_bind_and_reconnect() {
    let ctx = Ctx::new();
    // Find a free port, then let it go.
    let probe = ctx.socket(kind::PULL).unwrap();
    probe.bind("tcp://127.0.0.1:*").unwrap();
    let ep = last_endpoint(&probe);
    probe.close();
    let push = ctx.socket(kind::PUSH).unwrap();
    timeouts(&push);
    push.connect(&ep).unwrap();
    send(&push, b"queued", false);
    let pull = ctx.socket(kind::PULL).unwrap();
    timeouts(&pull);
    let mut bound = false;
    for _ in 0..50 {
        if pull.bind(&ep).is_ok() {
            bound = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(bound);
    assert_eq!(recv(&pull).data(), b"queued");
    // The binder goes away and comes back: the connection is re-made.
    pull.close();
    let pull2 = ctx.socket(kind::PULL).unwrap();
    timeouts(&pull2);
    for _ in 0..100 {
        if pull2.bind(&ep).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    send(&push, b"again", false);
    assert_eq!(recv(&pull2).data(), b"again");
    push.close();
    pull2.close();
    ctx.terminate();
}

#[test]
fn pub_sub_over_tcp_with_subscription() {
    let ctx = Ctx::new();
    let (publ, sub) = pair(&ctx, kind::PUB, kind::SUB, "tcp://127.0.0.1:*");
    sub.set_option(id::SUBSCRIBE, b"t").unwrap();
    // Publish until the subscription has arrived.
    let mut got = None;
    for _ in 0..200 {
        send(&publ, b"x-not", false);
        send(&publ, b"topic", false);
        if let Ok(m) = sub.recv(crate::socket::DONTWAIT) {
            got = Some(m);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert_eq!(got.expect("subscription never arrived").data(), b"topic");
    publ.close();
    sub.close();
    ctx.terminate();
}

#[test]
fn router_dealer_identity_over_tcp() {
    let ctx = Ctx::new();
    let router = ctx.socket(kind::ROUTER).unwrap();
    timeouts(&router);
    router.bind("tcp://127.0.0.1:*").unwrap();
    let dealer = ctx.socket(kind::DEALER).unwrap();
    timeouts(&dealer);
    dealer.set_option(id::ROUTING_ID, b"alice").unwrap();
    dealer.connect(&last_endpoint(&router)).unwrap();
    send(&dealer, b"hi", false);
    assert_eq!(recv(&router).data(), b"alice");
    assert_eq!(recv(&router).data(), b"hi");
    send(&router, b"alice", true);
    send(&router, b"back", false);
    assert_eq!(recv(&dealer).data(), b"back");
    dealer.close();
    router.close();
    ctx.terminate();
}

#[test]
fn tcp_options_and_source_address() {
    let ctx = Ctx::new();
    let pull = ctx.socket(kind::PULL).unwrap();
    timeouts(&pull);
    pull.set_option(id::TCP_KEEPALIVE, &1i32.to_ne_bytes())
        .unwrap();
    pull.set_option(id::RCVBUF, &65536i32.to_ne_bytes())
        .unwrap();
    pull.set_option(id::BACKLOG, &10i32.to_ne_bytes()).unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let ep = last_endpoint(&pull);
    let port = ep.rsplit(':').next().unwrap();
    let push = ctx.socket(kind::PUSH).unwrap();
    timeouts(&push);
    push.set_option(id::SNDBUF, &65536i32.to_ne_bytes())
        .unwrap();
    push.set_option(id::TOS, &0x10i32.to_ne_bytes()).unwrap();
    push.set_option(id::CONNECT_TIMEOUT, &1000i32.to_ne_bytes())
        .unwrap();
    push.connect(&format!("tcp://127.0.0.1:0;127.0.0.1:{port}"))
        .unwrap();
    send(&push, b"via source address", false);
    assert_eq!(recv(&pull).data(), b"via source address");
    push.close();
    pull.close();
    ctx.terminate();
}

#[test]
fn stream_socket_talks_raw_tcp() {
    use std::io::{Read, Write};
    let ctx = Ctx::new();
    let stream = ctx.socket(kind::STREAM).unwrap();
    timeouts(&stream);
    stream.bind("tcp://127.0.0.1:*").unwrap();
    let ep = last_endpoint(&stream);
    let mut raw = std::net::TcpStream::connect(ep.trim_start_matches("tcp://")).unwrap();
    raw.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    // The connection is announced with an empty frame.
    let id = recv(&stream);
    assert!(id.more());
    assert!(recv(&stream).is_empty());
    raw.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    let id2 = recv(&stream);
    assert_eq!(id2.data(), id.data());
    assert_eq!(recv(&stream).data(), b"GET / HTTP/1.0\r\n\r\n");
    send(&stream, id.data(), true);
    send(&stream, b"HTTP/1.0 200 OK\r\n\r\nhi", false);
    // An empty frame closes the connection after what was sent before.
    send(&stream, id.data(), true);
    send(&stream, b"", false);
    let mut reply = Vec::new();
    raw.read_to_end(&mut reply).unwrap();
    assert_eq!(reply, b"HTTP/1.0 200 OK\r\n\r\nhi");
    // Unknown peers are refused.
    let mut m = Msg::from_slice(b"\x00nobody");
    assert_eq!(
        stream.send(&mut m, SNDMORE).unwrap_err(),
        crate::Error::HostUnreach
    );
    stream.close();
    ctx.terminate();
}

#[test]
fn stream_socket_connects_out() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ctx = Ctx::new();
    let stream = ctx.socket(kind::STREAM).unwrap();
    timeouts(&stream);
    stream.connect(&format!("tcp://127.0.0.1:{port}")).unwrap();
    let (mut peer, _) = listener.accept().unwrap();
    let id = recv(&stream);
    assert!(recv(&stream).is_empty());
    send(&stream, id.data(), true);
    send(&stream, b"ping", false);
    let mut buf = [0u8; 4];
    peer.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
    peer.write_all(b"pong").unwrap();
    assert_eq!(recv(&stream).data(), id.data());
    assert_eq!(recv(&stream).data(), b"pong");
    // The peer leaves: an empty frame says so.
    drop(peer);
    assert_eq!(recv(&stream).data(), id.data());
    assert!(recv(&stream).is_empty());
    stream.close();
    ctx.terminate();
}

/// Reads until `n` bytes came or the peer stops sending.
fn read_some(raw: &mut std::net::TcpStream, n: usize) -> Vec<u8> {
    use std::io::Read;
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while got.len() < n {
        match raw.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(k) => got.extend_from_slice(&buf[..k]),
        }
    }
    got
}

#[test]
fn zmtp_2_0_peer_from_raw_bytes() {
    use std::io::Write;
    let ctx = Ctx::new();
    let pull = ctx.socket(kind::PULL).unwrap();
    timeouts(&pull);
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let ep = last_endpoint(&pull);
    let mut raw = std::net::TcpStream::connect(ep.trim_start_matches("tcp://")).unwrap();
    raw.set_read_timeout(Some(std::time::Duration::from_millis(500)))
        .unwrap();
    // RFC 15: signature, revision 1, socket type PUSH (8), then an empty
    // identity frame and two messages in 2.0 framing (flags, short size).
    raw.write_all(&[0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F])
        .unwrap();
    raw.write_all(&[0x01, 0x08]).unwrap();
    raw.write_all(&[0x00, 0x00]).unwrap();
    raw.write_all(&[0x01, 0x01, b'a', 0x00, 0x02, b'b', b'c'])
        .unwrap();
    let first = recv(&pull);
    assert_eq!(first.data(), b"a");
    assert!(first.more());
    assert_eq!(recv(&pull).data(), b"bc");
    // We answered in kind: our signature, then revision 3 and our type.
    let hello = read_some(&mut raw, 12);
    assert_eq!(hello[0], 0xFF);
    assert_eq!(hello[9] & 1, 1);
    assert!(hello.len() >= 11 && hello[10] >= 1);
    pull.close();
    ctx.terminate();
}

#[test]
fn zmtp_1_0_peer_from_raw_bytes() {
    use std::io::Write;
    let ctx = Ctx::new();
    let pull = ctx.socket(kind::PULL).unwrap();
    timeouts(&pull);
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let ep = last_endpoint(&pull);
    let mut raw = std::net::TcpStream::connect(ep.trim_start_matches("tcp://")).unwrap();
    // RFC 13: no greeting; the first frame is the identity (empty here),
    // each frame a length that counts the flags byte, the flags, the body.
    raw.write_all(&[0x01, 0x00]).unwrap();
    raw.write_all(&[0x06, 0x00, b'h', b'e', b'l', b'l', b'o'])
        .unwrap();
    assert_eq!(recv(&pull).data(), b"hello");
    pull.close();
    ctx.terminate();
}
