//! Connection life and hostile peers over tcp and ipc, through the crate's
//! Rust API, plus raw `TcpStream`/`UnixStream` peers that speak (or
//! mangle) ZMTP 3.1 by hand.
//!
//! Every test runs under a watchdog (`bounded`), so a hang fails fast
//! instead of stalling the suite. Expectations follow libzmq 4.3.4 (see
//! capi-tests/test_wire_*.c for the ones pinned against the real thing).

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::bounded;
use zmq::ctx::Ctx;
use zmq::msg::Msg;
use zmq::options::id;
use zmq::socket::{kind, Socket, DONTWAIT};
use zmq::Error;

// ---------------------------------------------------------------- helpers

/// The memory-measured tests run one at a time (RSS is per process).
static HEAVY: Mutex<()> = Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY.lock().unwrap_or_else(|e| e.into_inner())
}

fn rss_kb() -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

fn set_i32(s: &Socket, opt: i32, v: i32) {
    s.set_option(opt, &v.to_ne_bytes()).unwrap();
}

fn last_endpoint(s: &Socket) -> String {
    let mut buf = [0u8; 256];
    let n = s.get_option(id::LAST_ENDPOINT, &mut buf).unwrap();
    String::from_utf8(buf[..n - 1].to_vec()).unwrap()
}

/// RCVTIMEO/SNDTIMEO 2 s and LINGER 0, so nothing waits for ever.
fn sock(ctx: &Arc<Ctx>, t: i32) -> Arc<Socket> {
    let s = ctx.socket(t).unwrap();
    set_i32(&s, id::RCVTIMEO, 2000);
    set_i32(&s, id::SNDTIMEO, 2000);
    set_i32(&s, id::LINGER, 0);
    s
}

fn send(s: &Socket, data: &[u8]) {
    s.send(&mut Msg::from_slice(data), 0).unwrap();
}

fn send_more(s: &Socket, data: &[u8]) {
    s.send(&mut Msg::from_slice(data), zmq::socket::SNDMORE)
        .unwrap();
}

fn recv(s: &Socket) -> Vec<u8> {
    s.recv(0).unwrap().data().to_vec()
}

fn recv_timeout(s: &Socket, ms: u64) -> Option<Vec<u8>> {
    let end = Instant::now() + Duration::from_millis(ms);
    loop {
        match s.recv(DONTWAIT) {
            Ok(m) => return Some(m.data().to_vec()),
            Err(Error::Again) => {}
            Err(e) => panic!("recv: {e:?}"),
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn tcp_addr(ep: &str) -> String {
    ep.strip_prefix("tcp://").unwrap().to_string()
}

fn ipc_path(ep: &str) -> String {
    ep.strip_prefix("ipc://").unwrap().to_string()
}

/// A tcp port nobody listens on (bound then released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

static UNIQUE: AtomicUsize = AtomicUsize::new(0);

fn ipc_ep(tag: &str) -> String {
    let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
    format!(
        "ipc:///tmp/ferrozmq-wire-{}-{tag}-{n}.sock",
        std::process::id()
    )
}

/// Binds, retrying while the port/path is still held by a closing socket.
fn bind_retry(s: &Socket, ep: &str) {
    let end = Instant::now() + Duration::from_secs(3);
    loop {
        match s.bind(ep) {
            Ok(()) => return,
            Err(e) if Instant::now() < end => {
                let _ = e;
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => panic!("bind {ep}: {e:?}"),
        }
    }
}

/// The good peer still works: `n` marked messages all arrive (other
/// messages, e.g. from a hostile peer, are skipped).
fn check_good(push: &Socket, pull: &Socket, tag: &str) {
    let n = 20;
    for i in 0..n {
        send(push, format!("good-{tag}-{i}").as_bytes());
    }
    let mut seen = 0;
    let end = Instant::now() + Duration::from_secs(3);
    while seen < n {
        assert!(
            Instant::now() < end,
            "good peer stopped working ({tag}): {seen}/{n} arrived"
        );
        if let Some(m) = recv_timeout(pull, 100) {
            if m.starts_with(format!("good-{tag}-").as_bytes()) {
                assert_eq!(m, format!("good-{tag}-{seen}").as_bytes(), "order");
                seen += 1;
            }
        }
    }
}

// ------------------------------------------------------- raw ZMTP 3.1 peer

fn greeting_with(major: u8, minor: u8, mech: &[u8]) -> Vec<u8> {
    let mut g = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, major, minor];
    let mut m = [0u8; 20];
    m[..mech.len()].copy_from_slice(mech);
    g.extend_from_slice(&m);
    g.push(0);
    g.extend_from_slice(&[0u8; 31]);
    assert_eq!(g.len(), 64);
    g
}

fn greeting() -> Vec<u8> {
    greeting_with(3, 1, b"NULL")
}

fn short_frame(flags: u8, body: &[u8]) -> Vec<u8> {
    assert!(body.len() < 256);
    let mut f = vec![flags, body.len() as u8];
    f.extend_from_slice(body);
    f
}

fn long_header(flags: u8, len: u64) -> Vec<u8> {
    let mut f = vec![flags | 0x02];
    f.extend_from_slice(&len.to_be_bytes());
    f
}

fn frame(flags: u8, body: &[u8]) -> Vec<u8> {
    if body.len() < 256 {
        short_frame(flags, body)
    } else {
        let mut f = long_header(flags, body.len() as u64);
        f.extend_from_slice(body);
        f
    }
}

fn ready_body(props: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = vec![5];
    b.extend_from_slice(b"READY");
    for (k, v) in props {
        b.push(k.len() as u8);
        b.extend_from_slice(k.as_bytes());
        b.extend_from_slice(&(v.len() as u32).to_be_bytes());
        b.extend_from_slice(v);
    }
    b
}

fn ready(socket_type: &str) -> Vec<u8> {
    short_frame(
        0x04,
        &ready_body(&[("Socket-Type", socket_type.as_bytes())]),
    )
}

trait Raw: Read + Write {
    fn set_rto(&self, d: Duration);
}
impl Raw for TcpStream {
    fn set_rto(&self, d: Duration) {
        self.set_read_timeout(Some(d)).unwrap();
    }
}
impl Raw for UnixStream {
    fn set_rto(&self, d: Duration) {
        self.set_read_timeout(Some(d)).unwrap();
    }
}

/// Reads the server's 64-byte greeting and its READY; returns READY's body.
fn read_handshake<S: Raw>(s: &mut S) -> Vec<u8> {
    s.set_rto(Duration::from_secs(2));
    let mut g = [0u8; 64];
    s.read_exact(&mut g).expect("server greeting");
    assert_eq!(g[0], 0xFF);
    assert_eq!(g[9] & 1, 1);
    assert_eq!(g[10], 3);
    let mut h = [0u8; 2];
    s.read_exact(&mut h).expect("server READY header");
    assert_eq!(h[0], 0x04, "READY is a short command frame");
    let mut body = vec![0u8; h[1] as usize];
    s.read_exact(&mut body).unwrap();
    assert!(body.starts_with(b"\x05READY"));
    body
}

/// A raw peer through the handshake as a `socket_type`.
fn raw_tcp(ep: &str, socket_type: &str) -> TcpStream {
    let mut s = TcpStream::connect(tcp_addr(ep)).unwrap();
    s.write_all(&greeting()).unwrap();
    s.write_all(&ready(socket_type)).unwrap();
    read_handshake(&mut s);
    s
}

/// Waits for the server to close `s` (EOF or reset), reading and
/// discarding whatever comes first. Returns how long it took, or None.
fn wait_eof<S: Raw>(s: &mut S, within: Duration) -> Option<Duration> {
    let start = Instant::now();
    s.set_rto(Duration::from_millis(50));
    let mut buf = [0u8; 65536];
    while start.elapsed() < within {
        match s.read(&mut buf) {
            Ok(0) => return Some(start.elapsed()),
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Some(start.elapsed()),
        }
    }
    None
}

/// A PULL bound on tcp (after `setup`), with a good PUSH connected and
/// proven working.
struct Bench {
    ctx: Arc<Ctx>,
    pull: Arc<Socket>,
    push: Arc<Socket>,
    ep: String,
}

impl Bench {
    fn new(setup: impl Fn(&Socket)) -> Bench {
        Bench::on("tcp://127.0.0.1:*", setup)
    }

    fn on(bind: &str, setup: impl Fn(&Socket)) -> Bench {
        let ctx = Ctx::new();
        let pull = sock(&ctx, kind::PULL);
        setup(&pull);
        pull.bind(bind).unwrap();
        let ep = last_endpoint(&pull);
        let push = sock(&ctx, kind::PUSH);
        push.connect(&ep).unwrap();
        check_good(&push, &pull, "before");
        Bench {
            ctx,
            pull,
            push,
            ep,
        }
    }

    fn check(&self, tag: &str) {
        check_good(&self.push, &self.pull, tag);
    }

    fn finish(self) {
        self.check("end");
        self.push.close();
        self.pull.close();
        self.ctx.terminate();
    }
}

// ========================================================= connection life

/// A burst then close with default LINGER (-1) and term: every message
/// arrives. The sender has its own context, so its term must wait for
/// delivery.
fn burst_then_term(bind_ep: &str) {
    let rctx = Ctx::new();
    let pull = sock(&rctx, kind::PULL);
    pull.bind(bind_ep).unwrap();
    let ep = last_endpoint(&pull);
    const N: u32 = 10_000;
    // The receiver reads as the messages come (kernel buffers over ipc
    // cannot hold the whole burst).
    let reader = {
        let pull = Arc::clone(&pull);
        std::thread::spawn(move || {
            for i in 0..N {
                match pull.recv(0) {
                    Ok(m) => {
                        assert_eq!(&m.data()[..4], i.to_be_bytes(), "message {i} out of order")
                    }
                    Err(e) => {
                        eprintln!("recv after {i}: {e:?}");
                        return i;
                    }
                }
            }
            N
        })
    };

    let sctx = Ctx::new();
    let push = sctx.socket(kind::PUSH).unwrap();
    set_i32(&push, id::SNDTIMEO, 5000);
    push.connect(&ep).unwrap();
    for i in 0..N {
        let mut body = i.to_be_bytes().to_vec();
        body.resize(100, 0xAB);
        push.send(&mut Msg::from_vec(body), 0).unwrap();
    }
    push.close();
    let t = Instant::now();
    sctx.terminate();
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "term took {:?}",
        t.elapsed()
    );
    let got = reader.join().unwrap();
    assert_eq!(got, N, "{bind_ep}: only {got} of {N} messages arrived");
    pull.close();
    rctx.terminate();
}

#[test]
fn burst_close_term_delivers_all_tcp() {
    bounded(20, || burst_then_term("tcp://127.0.0.1:*"));
}

#[test]
fn burst_close_term_delivers_all_ipc() {
    bounded(20, || burst_then_term(&ipc_ep("burst")));
}

#[test]
fn burst_close_term_delivers_all_ipc_wildcard() {
    bounded(20, || burst_then_term("ipc://*"));
}

/// The same with the sender bound and the receiver connecting.
#[test]
fn burst_from_binder_close_term_delivers_all_tcp() {
    bounded(20, || {
        let sctx = Ctx::new();
        let push = sctx.socket(kind::PUSH).unwrap();
        set_i32(&push, id::SNDTIMEO, 5000);
        push.bind("tcp://127.0.0.1:*").unwrap();
        let ep = last_endpoint(&push);
        let rctx = Ctx::new();
        let pull = sock(&rctx, kind::PULL);
        pull.connect(&ep).unwrap();
        // The binder has no pipe until the connection is up.
        send(&push, b"first");
        assert_eq!(recv(&pull), b"first");
        const N: u32 = 10_000;
        for i in 0..N {
            push.send(&mut Msg::from_slice(&i.to_be_bytes()), 0)
                .unwrap();
        }
        push.close();
        sctx.terminate();
        for i in 0..N {
            match pull.recv(0) {
                Ok(m) => assert_eq!(m.data(), i.to_be_bytes()),
                Err(e) => panic!("only {i} of {N} messages arrived ({e:?})"),
            }
        }
        pull.close();
        rctx.terminate();
    });
}

fn linger_absent_peer(linger: i32) -> Duration {
    let ctx = Ctx::new();
    let push = ctx.socket(kind::PUSH).unwrap();
    set_i32(&push, id::LINGER, linger);
    push.connect(&format!("tcp://127.0.0.1:{}", free_port()))
        .unwrap();
    for _ in 0..10 {
        send(&push, b"never delivered");
    }
    let t = Instant::now();
    push.close();
    ctx.terminate();
    t.elapsed()
}

#[test]
fn linger_zero_term_returns_at_once() {
    bounded(10, || {
        let d = linger_absent_peer(0);
        assert!(d < Duration::from_millis(100), "LINGER=0 term took {d:?}");
    });
}

#[test]
fn linger_200_term_returns_after_200ms() {
    bounded(10, || {
        let d = linger_absent_peer(200);
        assert!(
            d >= Duration::from_millis(180) && d < Duration::from_millis(700),
            "LINGER=200 term took {d:?}"
        );
    });
}

/// LINGER=0 really drops: a peer that appears later gets nothing.
#[test]
fn linger_zero_drops_queued() {
    bounded(10, || {
        let port = free_port();
        let ep = format!("tcp://127.0.0.1:{port}");
        let ctx = Ctx::new();
        let push = sock(&ctx, kind::PUSH);
        push.connect(&ep).unwrap();
        send(&push, b"dropped");
        push.close();
        // The context lives on (another socket keeps the I/O thread busy).
        let rctx = Ctx::new();
        let pull = sock(&rctx, kind::PULL);
        bind_retry(&pull, &ep);
        assert_eq!(recv_timeout(&pull, 500), None);
        ctx.terminate();
        pull.close();
        rctx.terminate();
    });
}

#[test]
fn subscriptions_resent_on_reconnect() {
    bounded(20, || {
        let ctx = Ctx::new();
        let publ = sock(&ctx, kind::PUB);
        publ.bind("tcp://127.0.0.1:*").unwrap();
        let ep = last_endpoint(&publ);
        let sub = sock(&ctx, kind::SUB);
        sub.set_option(id::SUBSCRIBE, b"A").unwrap();
        sub.connect(&ep).unwrap();
        let wait_topic = |publ: &Socket, what: &str| {
            let end = Instant::now() + Duration::from_secs(4);
            loop {
                send(publ, b"B-unwanted");
                send(publ, b"A-wanted");
                if let Some(m) = recv_timeout(&sub, 20) {
                    assert_eq!(m, b"A-wanted", "{what}: got a topic not subscribed to");
                    return;
                }
                assert!(Instant::now() < end, "{what}: subscription never arrived");
            }
        };
        wait_topic(&publ, "first PUB");
        publ.close();
        let publ2 = sock(&ctx, kind::PUB);
        bind_retry(&publ2, &ep);
        wait_topic(&publ2, "PUB after restart");
        // Drain, then only A arrives.
        while recv_timeout(&sub, 50).is_some() {}
        for _ in 0..50 {
            send(&publ2, b"B-unwanted");
            send(&publ2, b"A-wanted");
        }
        let mut n = 0;
        while let Some(m) = recv_timeout(&sub, 200) {
            assert_eq!(m, b"A-wanted");
            n += 1;
        }
        assert_eq!(n, 50);
        publ2.close();
        sub.close();
        ctx.terminate();
    });
}

#[test]
fn reconnect_push_pull_after_binder_restart_ipc() {
    bounded(20, || {
        let ep = ipc_ep("restart");
        let ctx = Ctx::new();
        let pull = sock(&ctx, kind::PULL);
        pull.bind(&ep).unwrap();
        let push = sock(&ctx, kind::PUSH);
        push.connect(&ep).unwrap();
        send(&push, b"one");
        assert_eq!(recv(&pull), b"one");
        pull.close();
        std::thread::sleep(Duration::from_millis(100));
        let pull2 = sock(&ctx, kind::PULL);
        bind_retry(&pull2, &ep);
        send(&push, b"two");
        assert_eq!(recv_timeout(&pull2, 3000).as_deref(), Some(&b"two"[..]));
        push.close();
        pull2.close();
        ctx.terminate();
    });
}

#[test]
fn reconnect_req_rep_after_binder_restart() {
    bounded(20, || {
        let ctx = Ctx::new();
        let rep = sock(&ctx, kind::REP);
        rep.bind("tcp://127.0.0.1:*").unwrap();
        let ep = last_endpoint(&rep);
        let req = sock(&ctx, kind::REQ);
        set_i32(&req, id::RCVTIMEO, 3000);
        req.connect(&ep).unwrap();
        send(&req, b"q1");
        assert_eq!(recv(&rep), b"q1");
        send(&rep, b"r1");
        assert_eq!(recv(&req), b"r1");
        rep.close();
        std::thread::sleep(Duration::from_millis(200));
        let rep2 = sock(&ctx, kind::REP);
        set_i32(&rep2, id::RCVTIMEO, 3000);
        bind_retry(&rep2, &ep);
        send(&req, b"q2");
        assert_eq!(recv(&rep2), b"q2");
        send(&rep2, b"r2");
        assert_eq!(recv(&req), b"r2");
        req.close();
        rep2.close();
        ctx.terminate();
    });
}

fn connect_refused(addr: &str, within: Duration) -> bool {
    let end = Instant::now() + within;
    loop {
        match TcpStream::connect(addr) {
            Err(e) if e.kind() == ErrorKind::ConnectionRefused => return true,
            _ if Instant::now() >= end => return false,
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

#[test]
fn unbind_tcp_stops_new_connections() {
    bounded(10, || {
        let ctx = Ctx::new();
        let pull = sock(&ctx, kind::PULL);
        pull.bind("tcp://127.0.0.1:*").unwrap();
        let ep = last_endpoint(&pull);
        pull.unbind(&ep).unwrap();
        assert!(
            connect_refused(&tcp_addr(&ep), Duration::from_secs(1)),
            "listener still accepts after unbind"
        );
        let push = sock(&ctx, kind::PUSH);
        push.connect(&ep).unwrap();
        send(&push, b"x");
        assert_eq!(recv_timeout(&pull, 300), None);
        // Unbinding again: ENOENT.
        assert_eq!(pull.unbind(&ep), Err(Error::NoEnt));
        // The port is free again.
        let pull2 = sock(&ctx, kind::PULL);
        bind_retry(&pull2, &ep);
        assert_eq!(recv_timeout(&pull2, 3000).as_deref(), Some(&b"x"[..]));
        push.close();
        pull.close();
        pull2.close();
        ctx.terminate();
    });
}

fn wait_gone(path: &str, within: Duration) -> bool {
    let end = Instant::now() + within;
    while std::path::Path::new(path).exists() {
        if Instant::now() >= end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

#[test]
fn unbind_ipc_removes_file_and_stops_connections() {
    bounded(10, || {
        let ctx = Ctx::new();
        let pull = sock(&ctx, kind::PULL);
        let ep = ipc_ep("unbind");
        pull.bind(&ep).unwrap();
        let path = ipc_path(&ep);
        assert!(std::path::Path::new(&path).exists());
        pull.unbind(&ep).unwrap();
        assert!(
            wait_gone(&path, Duration::from_secs(1)),
            "ipc file left after unbind"
        );
        assert!(UnixStream::connect(&path).is_err());
        let push = sock(&ctx, kind::PUSH);
        push.connect(&ep).unwrap();
        send(&push, b"x");
        assert_eq!(recv_timeout(&pull, 300), None);
        push.close();
        pull.close();
        ctx.terminate();
    });
}

#[test]
fn close_ipc_removes_file() {
    bounded(10, || {
        let ctx = Ctx::new();
        let pull = sock(&ctx, kind::PULL);
        let ep = ipc_ep("close");
        pull.bind(&ep).unwrap();
        let path = ipc_path(&ep);
        pull.close();
        assert!(
            wait_gone(&path, Duration::from_secs(1)),
            "ipc file left after close"
        );
        ctx.terminate();
    });
}

#[test]
fn ipc_wildcard_last_endpoint_is_usable_and_removed() {
    bounded(10, || {
        let ctx = Ctx::new();
        let pull = sock(&ctx, kind::PULL);
        pull.bind("ipc://*").unwrap();
        let ep = last_endpoint(&pull);
        assert!(
            ep.starts_with("ipc://") && ep != "ipc://*",
            "LAST_ENDPOINT {ep}"
        );
        let path = ipc_path(&ep);
        assert!(std::path::Path::new(&path).exists(), "{path} missing");
        let push = sock(&ctx, kind::PUSH);
        push.connect(&ep).unwrap();
        send(&push, b"via wildcard");
        assert_eq!(recv(&pull), b"via wildcard");
        // Unbind by the resolved name.
        pull.unbind(&ep).unwrap();
        assert!(
            wait_gone(&path, Duration::from_secs(1)),
            "ipc file left after unbind"
        );
        push.close();
        pull.close();
        ctx.terminate();
    });
}

#[test]
fn disconnect_stops_sending_there() {
    bounded(10, || {
        let ctx = Ctx::new();
        let a = sock(&ctx, kind::PULL);
        a.bind("tcp://127.0.0.1:*").unwrap();
        let b = sock(&ctx, kind::PULL);
        b.bind("tcp://127.0.0.1:*").unwrap();
        let (ea, eb) = (last_endpoint(&a), last_endpoint(&b));
        let push = sock(&ctx, kind::PUSH);
        push.connect(&ea).unwrap();
        push.connect(&eb).unwrap();
        // Both connections up: each has received something.
        let (mut got_a, mut got_b) = (false, false);
        let end = Instant::now() + Duration::from_secs(3);
        while !(got_a && got_b) {
            assert!(Instant::now() < end, "connections never came up");
            let _ = push.send(&mut Msg::from_slice(b"warm"), DONTWAIT);
            got_a |= recv_timeout(&a, 10).is_some();
            got_b |= recv_timeout(&b, 10).is_some();
        }
        std::thread::sleep(Duration::from_millis(50));
        while recv_timeout(&a, 20).is_some() {}
        while recv_timeout(&b, 20).is_some() {}
        push.disconnect(&ea).unwrap();
        assert_eq!(push.disconnect(&ea), Err(Error::NoEnt));
        std::thread::sleep(Duration::from_millis(50));
        for i in 0..10u8 {
            send(&push, &[i]);
        }
        for i in 0..10u8 {
            assert_eq!(recv_timeout(&b, 2000).as_deref(), Some(&[i][..]));
        }
        assert_eq!(
            recv_timeout(&a, 200),
            None,
            "message sent to a disconnected endpoint"
        );
        push.close();
        a.close();
        b.close();
        ctx.terminate();
    });
}

#[test]
fn immediate_push_without_connection_is_eagain() {
    bounded(10, || {
        let ctx = Ctx::new();
        let push = sock(&ctx, kind::PUSH);
        set_i32(&push, id::IMMEDIATE, 1);
        let ep = format!("tcp://127.0.0.1:{}", free_port());
        push.connect(&ep).unwrap();
        assert_eq!(
            push.send(&mut Msg::from_slice(b"x"), DONTWAIT),
            Err(Error::Again)
        );
        let pull = sock(&ctx, kind::PULL);
        bind_retry(&pull, &ep);
        // Once connected, sends go through.
        let end = Instant::now() + Duration::from_secs(3);
        loop {
            match push.send(&mut Msg::from_slice(b"now"), DONTWAIT) {
                Ok(()) => break,
                Err(Error::Again) if Instant::now() < end => {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(e) => panic!("send after connect: {e:?}"),
            }
        }
        assert_eq!(recv(&pull), b"now");
        push.close();
        pull.close();
        ctx.terminate();
    });
}

#[test]
fn maxmsgsize_drops_connection_then_reconnects() {
    bounded(15, || {
        let ctx = Ctx::new();
        let pull = sock(&ctx, kind::PULL);
        pull.set_option(id::MAXMSGSIZE, &100i64.to_ne_bytes())
            .unwrap();
        pull.bind("tcp://127.0.0.1:*").unwrap();
        let push = sock(&ctx, kind::PUSH);
        push.connect(&last_endpoint(&pull)).unwrap();
        send(&push, &[1u8; 100]);
        assert_eq!(
            recv(&pull).len(),
            100,
            "a message of exactly MAXMSGSIZE passes"
        );
        send(&push, &[2u8; 101]);
        std::thread::sleep(Duration::from_millis(100));
        let end = Instant::now() + Duration::from_secs(5);
        let mut got = None;
        while got.is_none() {
            assert!(
                Instant::now() < end,
                "no reconnect after the too-large message"
            );
            let _ = push.send(&mut Msg::from_slice(b"small"), DONTWAIT);
            got = recv_timeout(&pull, 50);
            if let Some(m) = &got {
                assert_eq!(m, b"small", "the too-large message was delivered");
            }
        }
        push.close();
        pull.close();
        ctx.terminate();
    });
}

#[test]
fn hwm_over_tcp_blocks_then_loses_nothing() {
    bounded(30, || {
        let ctx = Ctx::new();
        let pull = sock(&ctx, kind::PULL);
        set_i32(&pull, id::RCVHWM, 10);
        pull.bind("tcp://127.0.0.1:*").unwrap();
        let push = sock(&ctx, kind::PUSH);
        set_i32(&push, id::SNDHWM, 10);
        push.connect(&last_endpoint(&pull)).unwrap();
        send(&push, b"hello");
        assert_eq!(recv(&pull), b"hello");
        let body = vec![0x55u8; 1000];
        let mut sent: u32 = 0;
        let mut again_since: Option<Instant> = None;
        loop {
            let mut m = body.clone();
            m[..4].copy_from_slice(&sent.to_be_bytes());
            match push.send(&mut Msg::from_vec(m), DONTWAIT) {
                Ok(()) => {
                    sent += 1;
                    again_since = None;
                    assert!(sent < 500_000, "PUSH never hit its HWM over tcp");
                }
                Err(Error::Again) => {
                    // Stable EAGAIN for 200 ms: truly full.
                    let t = *again_since.get_or_insert_with(Instant::now);
                    if t.elapsed() > Duration::from_millis(200) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(e) => panic!("send: {e:?}"),
            }
        }
        assert!(sent > 20, "only {sent} sent");
        for i in 0..sent {
            let m = pull
                .recv(0)
                .unwrap_or_else(|e| panic!("lost {i}/{sent}: {e:?}"));
            assert_eq!(&m.data()[..4], i.to_be_bytes(), "message {i} of {sent}");
        }
        assert_eq!(recv_timeout(&pull, 100), None);
        // And it flows again.
        send(&push, b"after");
        assert_eq!(recv(&pull), b"after");
        push.close();
        pull.close();
        ctx.terminate();
    });
}

#[test]
fn heartbeat_drops_silent_peer() {
    bounded(15, || {
        let b = Bench::new(|s| {
            set_i32(s, id::HEARTBEAT_IVL, 100);
            set_i32(s, id::HEARTBEAT_TIMEOUT, 300);
        });
        let mut raw = raw_tcp(&b.ep, "PUSH");
        // Silent: reads (the PINGs) but never answers.
        let d = wait_eof(&mut raw, Duration::from_secs(3));
        let d = d.expect("silent peer not dropped within 3 s");
        assert!(
            d >= Duration::from_millis(250) && d < Duration::from_millis(1500),
            "dropped after {d:?} (ivl 100 + timeout 300)"
        );
        b.finish();
    });
}

#[test]
fn heartbeat_keeps_answering_peer() {
    bounded(15, || {
        let b = Bench::new(|s| {
            set_i32(s, id::HEARTBEAT_IVL, 100);
            set_i32(s, id::HEARTBEAT_TIMEOUT, 300);
        });
        let mut raw = raw_tcp(&b.ep, "PUSH");
        raw.set_rto(Duration::from_millis(50));
        let start = Instant::now();
        let mut pings = 0;
        let mut buf = Vec::new();
        while start.elapsed() < Duration::from_millis(1000) {
            let mut chunk = [0u8; 4096];
            match raw.read(&mut chunk) {
                Ok(0) => panic!("answering peer dropped after {:?}", start.elapsed()),
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(e) => panic!("answering peer dropped: {e}"),
            }
            while buf.len() >= 2 && buf.len() >= 2 + buf[1] as usize {
                let n = 2 + buf[1] as usize;
                let f: Vec<u8> = buf.drain(..n).collect();
                if f[0] == 0x04 && f[2..].starts_with(b"\x04PING") {
                    pings += 1;
                    raw.write_all(&short_frame(0x04, b"\x04PONG")).unwrap();
                }
            }
        }
        assert!(pings >= 5, "only {pings} PINGs in 1 s at 100 ms");
        raw.write_all(&short_frame(0, b"still-here")).unwrap();
        let end = Instant::now() + Duration::from_secs(2);
        loop {
            let m = recv_timeout(&b.pull, 2000).expect("raw peer's message");
            if m == b"still-here" {
                break;
            }
            assert!(Instant::now() < end);
        }
        b.finish();
    });
}

#[test]
fn ipv6_loopback() {
    bounded(10, || {
        if TcpListener::bind("[::1]:0").is_err() {
            println!("skipped: no ::1 on this machine");
            return;
        }
        let ctx = Ctx::new();
        let pull = sock(&ctx, kind::PULL);
        set_i32(&pull, id::IPV6, 1);
        pull.bind("tcp://[::1]:*").unwrap();
        let ep = last_endpoint(&pull);
        assert!(ep.starts_with("tcp://[::1]:"), "LAST_ENDPOINT {ep}");
        let push = sock(&ctx, kind::PUSH);
        set_i32(&push, id::IPV6, 1);
        push.connect(&ep).unwrap();
        send(&push, b"six");
        assert_eq!(recv(&pull), b"six");
        push.close();
        pull.close();
        ctx.terminate();
    });
}

#[test]
fn socket_type_mismatch_never_delivers() {
    bounded(10, || {
        let ctx = Ctx::new();
        let a = sock(&ctx, kind::PUSH);
        a.bind("tcp://127.0.0.1:*").unwrap();
        let ep = last_endpoint(&a);
        let b = sock(&ctx, kind::PUSH);
        b.connect(&ep).unwrap();
        // Neither gets a pipe: the bound PUSH has nowhere to send.
        let end = Instant::now() + Duration::from_millis(500);
        while Instant::now() < end {
            assert_eq!(
                a.send(&mut Msg::from_slice(b"x"), DONTWAIT),
                Err(Error::Again),
                "PUSH attached a PUSH peer"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // A PULL raw peer would be fine; a raw PUSH is dropped.
        let mut raw = TcpStream::connect(tcp_addr(&ep)).unwrap();
        raw.write_all(&greeting()).unwrap();
        raw.write_all(&ready("PUSH")).unwrap();
        assert!(
            wait_eof(&mut raw, Duration::from_secs(2)).is_some(),
            "PUSH accepted a PUSH peer"
        );
        // PUB talking to PULL: refused too.
        let pull = sock(&ctx, kind::PULL);
        pull.bind("tcp://127.0.0.1:*").unwrap();
        let publ = sock(&ctx, kind::PUB);
        publ.connect(&last_endpoint(&pull)).unwrap();
        for _ in 0..20 {
            send(&publ, b"");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(recv_timeout(&pull, 200), None);
        for s in [a, b, pull, publ] {
            s.close();
        }
        ctx.terminate();
    });
}

// ============================================================ hostile peers

/// The raw peer is dropped by the server (within `secs`).
fn assert_dropped<S: Raw>(s: &mut S, what: &str, secs: u64) {
    assert!(
        wait_eof(s, Duration::from_secs(secs)).is_some(),
        "{what}: connection not closed by the server"
    );
}

#[test]
fn hostile_bad_signature() {
    bounded(15, || {
        let b = Bench::new(|_| {});
        // FF + a 1.0 long length of 2^64-1 (byte 9 without its low bit).
        let mut raw = TcpStream::connect(tcp_addr(&b.ep)).unwrap();
        raw.write_all(&[
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 3, 1,
        ])
        .unwrap();
        assert_dropped(&mut raw, "FF..FF 00 signature", 3);
        b.check("sig1");
        // An HTTP request: read as an unversioned 1.0 peer, as libzmq does;
        // whatever happens, the socket keeps serving.
        let mut raw = TcpStream::connect(tcp_addr(&b.ep)).unwrap();
        raw.write_all(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n")
            .unwrap();
        std::thread::sleep(Duration::from_millis(100));
        drop(raw);
        b.check("http");
        // All zeroes: a 1.0 frame of length 0 is invalid.
        let mut raw = TcpStream::connect(tcp_addr(&b.ep)).unwrap();
        raw.write_all(&[0u8; 64]).unwrap();
        assert_dropped(&mut raw, "zero signature", 3);
        b.finish();
    });
}

#[test]
fn hostile_unknown_mechanism_and_versions() {
    bounded(15, || {
        let b = Bench::new(|_| {});
        // Unknown mechanism: dropped.
        let mut raw = TcpStream::connect(tcp_addr(&b.ep)).unwrap();
        raw.write_all(&greeting_with(3, 1, b"BOGUS")).unwrap();
        assert_dropped(&mut raw, "mechanism BOGUS", 3);
        b.check("mech");
        // Future versions speak 3.1 with us (libzmq: major >= 3 is 3.x).
        for (major, minor) in [(4u8, 0u8), (3, 9), (255, 255)] {
            let mut raw = TcpStream::connect(tcp_addr(&b.ep)).unwrap();
            raw.write_all(&greeting_with(major, minor, b"NULL"))
                .unwrap();
            raw.write_all(&ready("PUSH")).unwrap();
            read_handshake(&mut raw);
            let tag = format!("from-v{major}.{minor}");
            raw.write_all(&short_frame(0, tag.as_bytes())).unwrap();
            let end = Instant::now() + Duration::from_secs(2);
            loop {
                let m = recv_timeout(&b.pull, 2000).unwrap_or_else(|| panic!("{tag} lost"));
                if m == tag.as_bytes() {
                    break;
                }
                assert!(Instant::now() < end, "{tag} lost");
            }
            drop(raw);
            b.check(&tag);
        }
        b.finish();
    });
}

#[test]
fn hostile_frame_above_maxmsgsize() {
    bounded(15, || {
        let b = Bench::new(|s| {
            s.set_option(id::MAXMSGSIZE, &1000i64.to_ne_bytes())
                .unwrap();
        });
        let mut raw = raw_tcp(&b.ep, "PUSH");
        raw.write_all(&frame(0, &[7u8; 1000])).unwrap();
        raw.write_all(&frame(0, &[8u8; 1001])).unwrap();
        assert_dropped(&mut raw, "frame of 1001 > MAXMSGSIZE", 3);
        // The 1000-byte frame made it; the 1001-byte one did not.
        let mut saw = Vec::new();
        while let Some(m) = recv_timeout(&b.pull, 100) {
            saw.push(m.len());
        }
        assert!(saw.contains(&1000), "the 1000-byte frame was lost: {saw:?}");
        assert!(!saw.contains(&1001), "the 1001-byte frame was delivered");
        // Header only, before any body: dropped as well.
        let mut raw = raw_tcp(&b.ep, "PUSH");
        raw.write_all(&long_header(0, 1 << 20)).unwrap();
        assert_dropped(&mut raw, "header claiming 1 MiB", 3);
        b.finish();
    });
}

#[test]
fn hostile_giant_frame_lengths() {
    bounded(15, || {
        let b = Bench::new(|_| {});
        for (len, what) in [(1u64 << 63, "2^63"), (u64::MAX, "2^64-1")] {
            let mut raw = raw_tcp(&b.ep, "PUSH");
            raw.write_all(&long_header(0, len)).unwrap();
            raw.write_all(b"abc").unwrap();
            assert_dropped(&mut raw, what, 3);
            b.check(what);
            // As a command too.
            let mut raw = raw_tcp(&b.ep, "PUSH");
            raw.write_all(&long_header(0x04, len)).unwrap();
            assert_dropped(&mut raw, what, 3);
            b.check(what);
        }
        // 2^63-1 is legal on the wire: memory must follow the bytes that
        // arrive, not the claim; then the peer gives up.
        let before = rss_kb();
        let mut raw = raw_tcp(&b.ep, "PUSH");
        raw.write_all(&long_header(0, (1u64 << 63) - 1)).unwrap();
        raw.write_all(&[1u8; 4096]).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        b.check("2^63-1 pending");
        drop(raw);
        b.check("2^63-1");
        let grown = rss_kb().saturating_sub(before);
        assert!(grown < 50 * 1024, "RSS grew {grown} kB for a 2^63-1 claim");
        // Also a claim in the handshake (a READY of 2^62 bytes).
        let mut raw = TcpStream::connect(tcp_addr(&b.ep)).unwrap();
        raw.write_all(&greeting()).unwrap();
        raw.write_all(&long_header(0x04, 1 << 62)).unwrap();
        raw.write_all(b"\x05READY").unwrap();
        std::thread::sleep(Duration::from_millis(100));
        drop(raw);
        b.finish();
    });
}

#[test]
fn hostile_truncated_frames_then_close() {
    bounded(15, || {
        let b = Bench::new(|_| {});
        let cases: Vec<Vec<u8>> = vec![
            // Partial greeting.
            greeting()[..30].to_vec(),
            // Greeting, partial READY.
            [greeting(), ready("PUSH")[..7].to_vec()].concat(),
        ];
        for (i, c) in cases.iter().enumerate() {
            let mut raw = TcpStream::connect(tcp_addr(&b.ep)).unwrap();
            raw.write_all(c).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            drop(raw);
            b.check(&format!("trunc-hs-{i}"));
        }
        // After the handshake: a header alone, a partial short body, a
        // partial long body, half a multipart message.
        let after: Vec<Vec<u8>> = vec![
            vec![0x02, 0, 0],
            vec![0x00, 200, 1, 2, 3],
            [long_header(0, 100_000), vec![9u8; 50_000]].concat(),
            [short_frame(0x01, b"part1"), short_frame(0x01, b"part2")].concat(),
        ];
        for (i, c) in after.iter().enumerate() {
            let mut raw = raw_tcp(&b.ep, "PUSH");
            raw.write_all(c).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            drop(raw);
            b.check(&format!("trunc-{i}"));
        }
        // Half a multipart message never reaches the socket.
        while let Some(m) = recv_timeout(&b.pull, 100) {
            assert!(
                m != b"part1" && m != b"part2",
                "a partial multipart message was delivered"
            );
        }
        b.finish();
    });
}

#[test]
fn hostile_unknown_commands_after_ready() {
    bounded(15, || {
        let b = Bench::new(|_| {});
        let mut raw = raw_tcp(&b.ep, "PUSH");
        // Well-formed unknown commands, a second READY, an ERROR, a
        // SUBSCRIBE to a PULL: ignored as libzmq does.
        for c in [
            short_frame(0x04, b"\x07UNKNOWNpayload"),
            ready("PUSH"),
            short_frame(0x04, b"\x05ERROR\x03bad"),
            short_frame(0x04, b"\x09SUBSCRIBEtopic"),
            short_frame(0x04, b"\x06CANCELtopic"),
            short_frame(0x04, b"\x04PONGctx"),
        ] {
            raw.write_all(&c).unwrap();
        }
        raw.write_all(&short_frame(0, b"after-commands")).unwrap();
        let end = Instant::now() + Duration::from_secs(2);
        loop {
            let m = recv_timeout(&b.pull, 2000).expect("data after commands was lost");
            assert!(
                !m.starts_with(b"\x07UNKNOWN"),
                "a command was delivered as data"
            );
            if m == b"after-commands" {
                break;
            }
            assert!(Instant::now() < end);
        }
        b.check("cmds");
        // Malformed commands (empty, name past the end, PING with a big
        // context): libzmq 4.3.4 drops the connection for the first two;
        // whatever we do, the socket keeps serving.
        for c in [
            short_frame(0x04, b""),
            short_frame(0x04, b"\xffPI"),
            short_frame(0x04, b"\x04PING\x00\x01aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
        ] {
            let mut raw = raw_tcp(&b.ep, "PUSH");
            raw.write_all(&c).unwrap();
            std::thread::sleep(Duration::from_millis(30));
            drop(raw);
            b.check("malformed-cmd");
        }
        b.finish();
    });
}

#[test]
fn hostile_garbage_after_ready() {
    bounded(20, || {
        let b = Bench::new(|_| {});
        // Deterministic pseudo-random garbage, many seeds.
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for round in 0..30 {
            let mut raw = raw_tcp(&b.ep, "PUSH");
            let mut junk = vec![0u8; 4096];
            for byte in junk.iter_mut() {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *byte = x as u8;
            }
            let _ = raw.write_all(&junk);
            std::thread::sleep(Duration::from_millis(5));
            drop(raw);
            if round % 10 == 9 {
                b.check(&format!("garbage-{round}"));
            }
        }
        // Reserved flag bits: dropped.
        let mut raw = raw_tcp(&b.ep, "PUSH");
        raw.write_all(&short_frame(0x80, b"x")).unwrap();
        assert_dropped(&mut raw, "reserved flag bits", 3);
        // A command with MORE: dropped.
        let mut raw = raw_tcp(&b.ep, "PUSH");
        raw.write_all(&short_frame(0x05, b"\x04PING\x00\x00"))
            .unwrap();
        assert_dropped(&mut raw, "command with MORE", 3);
        b.finish();
    });
}

#[test]
fn hostile_ready_with_giant_property_length() {
    bounded(15, || {
        let b = Bench::new(|_| {});
        let mut bodies: Vec<Vec<u8>> = Vec::new();
        // Value length 0xFFFFFFFF in a short frame.
        let mut r = b"\x05READY\x0bSocket-Type".to_vec();
        r.extend_from_slice(&u32::MAX.to_be_bytes());
        r.extend_from_slice(b"PUSH");
        bodies.push(r);
        // Value length 2^31.
        let mut r = b"\x05READY\x0bSocket-Type".to_vec();
        r.extend_from_slice(&0x8000_0000u32.to_be_bytes());
        r.extend_from_slice(b"PUSH");
        bodies.push(r);
        // Name length past the end.
        bodies.push(b"\x05READY\xffSocket-Type".to_vec());
        // Value length cut short.
        bodies.push(b"\x05READY\x0bSocket-Type\x00\x00".to_vec());
        for (i, body) in bodies.iter().enumerate() {
            let mut raw = TcpStream::connect(tcp_addr(&b.ep)).unwrap();
            raw.write_all(&greeting()).unwrap();
            raw.write_all(&short_frame(0x04, body)).unwrap();
            assert_dropped(&mut raw, &format!("bad READY #{i}"), 3);
            b.check(&format!("ready-{i}"));
        }
        // A READY whose (long) frame really is big, with a 1 MB property,
        // is legal: accepted.
        let mut raw = TcpStream::connect(tcp_addr(&b.ep)).unwrap();
        raw.write_all(&greeting()).unwrap();
        let big = vec![b'v'; 1 << 20];
        let body = ready_body(&[("Socket-Type", b"PUSH"), ("X-Big", &big)]);
        raw.write_all(&frame(0x04, &body)).unwrap();
        read_handshake(&mut raw);
        raw.write_all(&short_frame(0, b"big-ready-ok")).unwrap();
        let end = Instant::now() + Duration::from_secs(2);
        loop {
            let m = recv_timeout(&b.pull, 2000).expect("message after a big READY");
            if m == b"big-ready-ok" {
                break;
            }
            assert!(Instant::now() < end);
        }
        b.finish();
    });
}

#[test]
fn hostile_handshake_stall_is_closed() {
    bounded(15, || {
        let b = Bench::new(|s| set_i32(s, id::HANDSHAKE_IVL, 200));
        // Silent from the start.
        let mut silent = TcpStream::connect(tcp_addr(&b.ep)).unwrap();
        // Greeting, then no READY.
        let mut half = TcpStream::connect(tcp_addr(&b.ep)).unwrap();
        half.write_all(&greeting()).unwrap();
        // Half a greeting.
        let mut part = TcpStream::connect(tcp_addr(&b.ep)).unwrap();
        part.write_all(&greeting()[..11]).unwrap();
        for (s, what) in [
            (&mut silent, "silent"),
            (&mut half, "greeting only"),
            (&mut part, "half greeting"),
        ] {
            let d = wait_eof(s, Duration::from_secs(3))
                .unwrap_or_else(|| panic!("{what}: stalled handshake not closed"));
            assert!(
                d < Duration::from_millis(1500),
                "{what}: closed after {d:?}"
            );
        }
        // The good PUSH connected before, unaffected by its own timer.
        std::thread::sleep(Duration::from_millis(300));
        b.finish();
    });
}

#[test]
fn hostile_handshake_stall_ipc() {
    bounded(15, || {
        let b = Bench::on(&ipc_ep("stall"), |s| set_i32(s, id::HANDSHAKE_IVL, 200));
        let mut silent = UnixStream::connect(ipc_path(&b.ep)).unwrap();
        assert!(
            wait_eof(&mut silent, Duration::from_secs(3)).is_some(),
            "ipc: stalled handshake not closed"
        );
        // A bad READY over ipc.
        let mut raw = UnixStream::connect(ipc_path(&b.ep)).unwrap();
        raw.write_all(&greeting()).unwrap();
        raw.write_all(&ready("PUB")).unwrap();
        assert!(
            wait_eof(&mut raw, Duration::from_secs(3)).is_some(),
            "ipc: PUB accepted by PULL"
        );
        b.finish();
    });
}

#[test]
fn hostile_connection_flood() {
    bounded(30, || {
        let _g = heavy();
        let b = Bench::new(|_| {});
        let before = rss_kb();
        for round in 0..5 {
            let mut conns = Vec::new();
            for _ in 0..200 {
                match TcpStream::connect(tcp_addr(&b.ep)) {
                    Ok(c) => conns.push(c),
                    Err(e) => panic!("round {round}: connect failed after {}: {e}", conns.len()),
                }
            }
            std::thread::sleep(Duration::from_millis(100));
            b.check(&format!("flood-{round}"));
            drop(conns);
            std::thread::sleep(Duration::from_millis(50));
        }
        b.check("flood-after");
        let grown = rss_kb().saturating_sub(before);
        assert!(
            grown < 50 * 1024,
            "RSS grew {grown} kB over 1000 idle connections"
        );
        b.finish();
    });
}

#[test]
fn hostile_handshaken_flood_then_close() {
    bounded(30, || {
        let _g = heavy();
        let b = Bench::new(|_| {});
        let before = rss_kb();
        for round in 0..3 {
            let mut conns = Vec::new();
            for _ in 0..100 {
                conns.push(raw_tcp(&b.ep, "PUSH"));
            }
            b.check(&format!("hs-flood-{round}"));
            drop(conns);
        }
        std::thread::sleep(Duration::from_millis(100));
        b.check("hs-flood-after");
        let grown = rss_kb().saturating_sub(before);
        assert!(
            grown < 50 * 1024,
            "RSS grew {grown} kB over 300 handshaken connections"
        );
        b.finish();
    });
}

#[test]
fn hostile_100mb_of_huge_frames_to_small_maxmsgsize() {
    bounded(30, || {
        let _g = heavy();
        let b = Bench::new(|s| {
            s.set_option(id::MAXMSGSIZE, &1000i64.to_ne_bytes())
                .unwrap();
        });
        let before = rss_kb();
        let mut raw = raw_tcp(&b.ep, "PUSH");
        raw.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
        let chunk = frame(0, &vec![0x42u8; 1 << 20]);
        let mut written = 0usize;
        for _ in 0..100 {
            match raw.write_all(&chunk) {
                Ok(()) => written += chunk.len(),
                Err(_) => break,
            }
        }
        assert!(
            written < 100 << 20,
            "the server swallowed {written} bytes without dropping us"
        );
        let _ = raw.shutdown(Shutdown::Both);
        b.check("100mb");
        let grown = rss_kb().saturating_sub(before);
        assert!(grown < 50 * 1024, "RSS grew {grown} kB");
        b.finish();
    });
}

/// Valid 1 MB frames, 100 MB in all, to a PULL without a limit that does
/// read: memory stays bounded by the pipe, not the stream.
#[test]
fn hostile_100mb_valid_stream_memory_bounded() {
    bounded(40, || {
        let _g = heavy();
        let b = Bench::new(|s| set_i32(s, id::RCVHWM, 5));
        let before = rss_kb();
        let mut raw = raw_tcp(&b.ep, "PUSH");
        let writer = std::thread::spawn(move || {
            let chunk = frame(0, &vec![0x42u8; 1 << 20]);
            for _ in 0..100 {
                raw.write_all(&chunk).unwrap();
            }
            raw
        });
        let mut got = 0;
        let mut peak = 0;
        while got < 100 {
            let m = b.pull.recv(0).expect("huge frame");
            if m.len() == 1 << 20 {
                got += 1;
            }
            if got % 10 == 0 {
                peak = peak.max(rss_kb());
                std::thread::sleep(Duration::from_millis(10));
            }
        }
        let _raw = writer.join().unwrap();
        let grown = peak.saturating_sub(before);
        assert!(
            grown < 50 * 1024,
            "RSS grew {grown} kB while streaming 100 MB"
        );
        b.finish();
    });
}

// ---------------------------------------------------------- ROUTER peers

#[test]
fn hostile_router_duplicate_identity_and_bad_ready() {
    bounded(15, || {
        let ctx = Ctx::new();
        let router = sock(&ctx, kind::ROUTER);
        router.bind("tcp://127.0.0.1:*").unwrap();
        let ep = last_endpoint(&router);
        let dealer = sock(&ctx, kind::DEALER);
        dealer.set_option(id::ROUTING_ID, b"alice").unwrap();
        dealer.connect(&ep).unwrap();
        let roundtrip = |tag: &str| {
            send(&dealer, tag.as_bytes());
            let end = Instant::now() + Duration::from_secs(3);
            loop {
                let who = recv_timeout(&router, 3000).expect("router got nothing");
                let body = recv(&router);
                if who == b"alice" && body == tag.as_bytes() {
                    break;
                }
                assert!(Instant::now() < end, "{tag}: lost");
            }
            send_more(&router, b"alice");
            send(&router, format!("re-{tag}").as_bytes());
            assert_eq!(recv(&dealer), format!("re-{tag}").as_bytes());
        };
        roundtrip("before");
        // A raw DEALER claiming alice's identity: libzmq 4.3 (no handover)
        // keeps the first; replies must still reach the real alice.
        let mut raw = TcpStream::connect(tcp_addr(&ep)).unwrap();
        raw.write_all(&greeting()).unwrap();
        raw.write_all(&short_frame(
            0x04,
            &ready_body(&[("Socket-Type", b"DEALER"), ("Identity", b"alice")]),
        ))
        .unwrap();
        read_handshake(&mut raw);
        raw.write_all(&short_frame(0, b"impostor")).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        roundtrip("dup");
        // Identity starting with a zero byte (reserved in libzmq), and a
        // 255-byte identity.
        for idn in [&b"\x00bad"[..], &[b'z'; 255][..]] {
            let mut raw = TcpStream::connect(tcp_addr(&ep)).unwrap();
            raw.write_all(&greeting()).unwrap();
            let body = ready_body(&[("Socket-Type", b"DEALER"), ("Identity", idn)]);
            raw.write_all(&frame(0x04, &body)).unwrap();
            std::thread::sleep(Duration::from_millis(50));
            drop(raw);
            roundtrip("odd-id");
        }
        // Garbage and giant lengths against the router.
        let mut raw = TcpStream::connect(tcp_addr(&ep)).unwrap();
        raw.write_all(&greeting()).unwrap();
        raw.write_all(&ready("DEALER")).unwrap();
        raw.write_all(&long_header(0, u64::MAX)).unwrap();
        assert_dropped(&mut raw, "router: 2^64-1 frame", 3);
        roundtrip("after");
        // Drain the impostor's message if it was delivered.
        while recv_timeout(&router, 50).is_some() {}
        dealer.close();
        router.close();
        ctx.terminate();
    });
}

// ------------------------------------------------------------ more life

/// libzmq terminates an IMMEDIATE connecter's pipe when its connection
/// drops (session_base_t::reconnect), so a PUSH stops queueing for a peer
/// that is gone: EAGAIN with DONTWAIT.
#[test]
fn immediate_pipe_dropped_when_peer_goes() {
    bounded(10, || {
        let ctx = Ctx::new();
        let pull = sock(&ctx, kind::PULL);
        pull.bind("tcp://127.0.0.1:*").unwrap();
        let ep = last_endpoint(&pull);
        let push = sock(&ctx, kind::PUSH);
        set_i32(&push, id::IMMEDIATE, 1);
        push.connect(&ep).unwrap();
        let end = Instant::now() + Duration::from_secs(3);
        while push.send(&mut Msg::from_slice(b"up?"), DONTWAIT).is_err() {
            assert!(Instant::now() < end, "never connected");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(recv(&pull), b"up?");
        pull.close();
        std::thread::sleep(Duration::from_millis(300));
        let mut queued = 0;
        for _ in 0..5 {
            if push
                .send(&mut Msg::from_slice(b"to nobody"), DONTWAIT)
                .is_ok()
            {
                queued += 1;
            }
        }
        assert_eq!(
            queued, 0,
            "IMMEDIATE PUSH queued {queued} messages for a peer that is gone"
        );
        push.close();
        ctx.terminate();
    });
}

/// The peer's PING TTL: with no frame from it for TTL, it is dropped
/// (even without our own HEARTBEAT_IVL).
#[test]
fn heartbeat_peer_ttl_drops_silent_peer() {
    bounded(10, || {
        let b = Bench::new(|_| {});
        let mut raw = raw_tcp(&b.ep, "PUSH");
        // TTL 3 deciseconds.
        raw.write_all(&short_frame(0x04, b"\x04PING\x00\x03"))
            .unwrap();
        let d = wait_eof(&mut raw, Duration::from_secs(3))
            .expect("peer with TTL 300 ms not dropped within 3 s");
        assert!(d < Duration::from_millis(1200), "dropped after {d:?}");
        b.finish();
    });
}

/// A raw PULL that handshakes and never reads: a bound PUSH keeps serving
/// its good PULL, and memory stays bounded.
#[test]
fn hostile_non_reading_pull_does_not_stall_push() {
    bounded(30, || {
        let _g = heavy();
        let ctx = Ctx::new();
        let push = sock(&ctx, kind::PUSH);
        set_i32(&push, id::SNDHWM, 100);
        push.bind("tcp://127.0.0.1:*").unwrap();
        let ep = last_endpoint(&push);
        let good = sock(&ctx, kind::PULL);
        good.connect(&ep).unwrap();
        send(&push, b"hello");
        assert_eq!(recv(&good), b"hello");
        let raw = raw_tcp(&ep, "PULL");
        raw.set_rto(Duration::from_millis(10));
        std::thread::sleep(Duration::from_millis(50));
        let before = rss_kb();
        let body = vec![1u8; 1000];
        let reader = {
            let good = Arc::clone(&good);
            std::thread::spawn(move || {
                let mut n = 0u32;
                while let Ok(m) = good.recv(0) {
                    if m.data() == b"stop" {
                        break;
                    }
                    n += 1;
                }
                n
            })
        };
        let mut sent = 0u32;
        let start = Instant::now();
        while sent < 20_000 {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "PUSH stalled after {sent}"
            );
            match push.send(&mut Msg::from_slice(&body), DONTWAIT) {
                Ok(()) => sent += 1,
                Err(Error::Again) => std::thread::sleep(Duration::from_millis(1)),
                Err(e) => panic!("{e:?}"),
            }
        }
        // The stop marker may land in the raw peer's pipe: send one per pipe.
        let mut stops = 0;
        let end = Instant::now() + Duration::from_secs(5);
        while !reader.is_finished() {
            assert!(Instant::now() < end, "good PULL never got stop");
            if push.send(&mut Msg::from_slice(b"stop"), DONTWAIT).is_ok() {
                stops += 1;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let n = reader.join().unwrap();
        assert!(
            n >= sent / 2,
            "good PULL got only {n} of {sent} (stops {stops})"
        );
        let grown = rss_kb().saturating_sub(before);
        assert!(grown < 50 * 1024, "RSS grew {grown} kB");
        drop(raw);
        push.close();
        good.close();
        ctx.terminate();
    });
}

/// A PUB whose raw subscriber never reads: the good subscriber keeps
/// getting messages, the PUB never blocks, memory stays bounded.
#[test]
fn hostile_non_reading_sub_does_not_stall_pub() {
    bounded(30, || {
        let _g = heavy();
        let ctx = Ctx::new();
        let publ = sock(&ctx, kind::PUB);
        set_i32(&publ, id::SNDHWM, 100);
        publ.bind("tcp://127.0.0.1:*").unwrap();
        let ep = last_endpoint(&publ);
        let sub = sock(&ctx, kind::SUB);
        sub.set_option(id::SUBSCRIBE, b"").unwrap();
        sub.connect(&ep).unwrap();
        let end = Instant::now() + Duration::from_secs(3);
        loop {
            send(&publ, b"hello");
            if recv_timeout(&sub, 20).is_some() {
                break;
            }
            assert!(Instant::now() < end, "subscription never arrived");
        }
        let mut raw = raw_tcp(&ep, "SUB");
        raw.write_all(&short_frame(0x04, b"\x09SUBSCRIBE")).unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let before = rss_kb();
        let body = vec![1u8; 1000];
        let start = Instant::now();
        for _ in 0..50_000 {
            publ.send(&mut Msg::from_slice(&body), 0).unwrap();
        }
        assert!(start.elapsed() < Duration::from_secs(10));
        while recv_timeout(&sub, 50).is_some() {}
        std::thread::sleep(Duration::from_millis(50));
        send(&publ, b"marker");
        let end = Instant::now() + Duration::from_secs(2);
        loop {
            let m = recv_timeout(&sub, 2000).expect("good SUB starved");
            if m == b"marker" {
                break;
            }
            assert!(Instant::now() < end);
        }
        let grown = rss_kb().saturating_sub(before);
        assert!(grown < 50 * 1024, "RSS grew {grown} kB");
        drop(raw);
        publ.close();
        sub.close();
        ctx.terminate();
    });
}

/// libzmq unlinks a stale ipc file left by a previous run before binding.
#[test]
fn ipc_bind_over_stale_file() {
    bounded(10, || {
        let ep = ipc_ep("stale");
        let path = ipc_path(&ep);
        {
            let l = std::os::unix::net::UnixListener::bind(&path).unwrap();
            drop(l);
        }
        assert!(std::path::Path::new(&path).exists());
        let ctx = Ctx::new();
        let pull = sock(&ctx, kind::PULL);
        pull.bind(&ep).expect("bind over a stale ipc file");
        let push = sock(&ctx, kind::PUSH);
        push.connect(&ep).unwrap();
        send(&push, b"fresh");
        assert_eq!(recv(&pull), b"fresh");
        push.close();
        pull.close();
        ctx.terminate();
    });
}

/// libzmq keys bound endpoints by their resolved name: unbinding the
/// wildcard string itself is ENOENT (pinned in capi-tests/test_wire_life.c).
#[test]
fn unbind_wildcard_string_is_enoent() {
    bounded(10, || {
        let ctx = Ctx::new();
        let pull = sock(&ctx, kind::PULL);
        pull.bind("tcp://127.0.0.1:*").unwrap();
        let ep = last_endpoint(&pull);
        assert_eq!(pull.unbind("tcp://127.0.0.1:*"), Err(Error::NoEnt));
        pull.unbind(&ep).unwrap();
        pull.close();
        ctx.terminate();
    });
}
