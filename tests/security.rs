//! PLAIN, CURVE and ZAP through real sockets over tcp and ipc: a ZAP
//! handler in the context, good and bad peers side by side, and raw peers
//! that complete a real CURVE handshake (with the crate's own sans-I/O
//! `Connection`) and then tamper with, replay or reorder their MESSAGE
//! boxes, or send truncated and oversized commands.
//!
//! For each failure: nothing of the bad peer is delivered, nothing panics,
//! and the socket keeps serving its good peer.
//!
//! Which monitor event each failure raises, on which side, is checked at
//! the end against Debian's libzmq 4.3.4: the same hostile peers meet a
//! server built on either library (`interop/peer.c`, role `watch`), and
//! refused clients of either library meet servers of either, over tcp
//! and ipc.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use zeroize::Zeroizing;
use zmq::ctx::Ctx;
use zmq::msg::Msg;
use zmq::options::id;
use zmq::socket::{kind, Socket, DONTWAIT, SNDMORE};
use zmq::zmtp::{Config, Connection, CurveKeys, Event, Mechanism};
use zmq::Error;

const SERVER_PUBLIC: &[u8] = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
const SERVER_SECRET: &[u8] = b"JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6";
const CLIENT_PUBLIC: &[u8] = b"Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID";
const CLIENT_SECRET: &[u8] = b"D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs";

fn z85(text: &[u8]) -> [u8; 32] {
    let v = zmq::options::z85::decode(text).unwrap();
    v.try_into().unwrap()
}

fn set_i32(s: &Socket, opt: i32, v: i32) {
    s.set_option(opt, &v.to_ne_bytes()).unwrap();
}

fn sock(ctx: &Arc<Ctx>, t: i32) -> Arc<Socket> {
    let s = ctx.socket(t).unwrap();
    set_i32(&s, id::RCVTIMEO, 2000);
    set_i32(&s, id::SNDTIMEO, 2000);
    set_i32(&s, id::LINGER, 0);
    s
}

fn last_endpoint(s: &Socket) -> String {
    let mut buf = [0u8; 256];
    let n = s.get_option(id::LAST_ENDPOINT, &mut buf).unwrap();
    String::from_utf8(buf[..n - 1].to_vec()).unwrap()
}

static UNIQUE: AtomicUsize = AtomicUsize::new(0);

fn endpoint(tcp: bool) -> String {
    if tcp {
        "tcp://127.0.0.1:*".into()
    } else {
        let n = UNIQUE.fetch_add(1, Ordering::Relaxed);
        format!("ipc:///tmp/ferrozmq-sec-{}-{n}.sock", std::process::id())
    }
}

fn recv_timeout(s: &Socket, ms: u64) -> Option<Msg> {
    let end = Instant::now() + Duration::from_millis(ms);
    loop {
        match s.recv(DONTWAIT) {
            Ok(m) => return Some(m),
            Err(Error::Again) => {}
            Err(e) => panic!("recv: {e:?}"),
        }
        if Instant::now() >= end {
            return None;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A ZAP handler: accepts PLAIN admin/secret ("admin") and the client's
/// CURVE key ("curve-client"), refuses the rest with 400.
struct Handler {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<usize>>,
}

impl Handler {
    fn start(ctx: &Arc<Ctx>) -> Handler {
        let h = ctx.socket(kind::REP).unwrap();
        set_i32(&h, id::RCVTIMEO, 20);
        set_i32(&h, id::LINGER, 0);
        h.bind("inproc://zeromq.zap.01").unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let mut served = 0;
            let client = z85(CLIENT_PUBLIC);
            while !flag.load(Ordering::Relaxed) {
                let mut frames = Vec::new();
                while let Ok(m) = h.recv(0) {
                    let more = m.more();
                    frames.push(m.data().to_vec());
                    if !more {
                        break;
                    }
                }
                if frames.is_empty() {
                    continue;
                }
                served += 1;
                let user: &[u8] = match frames.get(5).map(|m| &m[..]) {
                    Some(b"PLAIN") if frames[6] == b"admin" && frames[7] == b"secret" => b"admin",
                    Some(b"CURVE") if frames[6] == client => b"curve-client",
                    _ => b"",
                };
                let status: &[u8] = if user.is_empty() { b"400" } else { b"200" };
                for (i, f) in [&frames[0][..], &frames[1], status, b"", user, b""]
                    .iter()
                    .enumerate()
                {
                    let mut m = Msg::from_slice(f);
                    h.send(&mut m, if i < 5 { SNDMORE } else { 0 }).unwrap();
                }
            }
            h.close();
            served
        });
        Handler {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops it; returns how many requests it answered.
    fn stop(mut self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.take().map(|t| t.join().unwrap()).unwrap_or(0)
    }
}

fn plain_server(ctx: &Arc<Ctx>) -> Arc<Socket> {
    let s = sock(ctx, kind::PULL);
    set_i32(&s, id::PLAIN_SERVER, 1);
    s
}

fn plain_client(ctx: &Arc<Ctx>, password: &[u8]) -> Arc<Socket> {
    let s = sock(ctx, kind::PUSH);
    s.set_option(id::PLAIN_USERNAME, b"admin").unwrap();
    s.set_option(id::PLAIN_PASSWORD, password).unwrap();
    s
}

fn curve_server(ctx: &Arc<Ctx>) -> Arc<Socket> {
    let s = sock(ctx, kind::PULL);
    set_i32(&s, id::CURVE_SERVER, 1);
    s.set_option(id::CURVE_SECRETKEY, SERVER_SECRET).unwrap();
    s
}

fn curve_client(ctx: &Arc<Ctx>, server_key: &[u8], public: &[u8], secret: &[u8]) -> Arc<Socket> {
    let s = sock(ctx, kind::PUSH);
    s.set_option(id::CURVE_SERVERKEY, server_key).unwrap();
    s.set_option(id::CURVE_PUBLICKEY, public).unwrap();
    s.set_option(id::CURVE_SECRETKEY, secret).unwrap();
    s
}

/// The good client's messages arrive, in order, with the User-Id the
/// handler gave (if any); nothing else arrives.
fn check_good(push: &Socket, pull: &Socket, user: Option<&[u8]>) {
    let n = 20;
    for i in 0..n {
        push.send(&mut Msg::from_slice(format!("good-{i}").as_bytes()), 0)
            .unwrap();
    }
    for i in 0..n {
        let m = recv_timeout(pull, 3000).expect("the good peer is served");
        assert_eq!(
            m.data(),
            format!("good-{i}").as_bytes(),
            "only the good peer's messages"
        );
        let got = m
            .metadata()
            .and_then(|md| md.get("User-Id").map(|v| v.to_vec()));
        assert_eq!(got.as_deref(), user);
    }
}

/// A bad client connects and sends; a good one connects after it: only
/// the good one's messages arrive.
fn bad_then_good(
    tcp: bool,
    server: fn(&Arc<Ctx>) -> Arc<Socket>,
    bad: impl Fn(&Arc<Ctx>) -> Arc<Socket>,
    good: impl Fn(&Arc<Ctx>) -> Arc<Socket>,
    user: Option<&[u8]>,
    with_handler: bool,
) {
    let ctx = Ctx::new();
    let handler = with_handler.then(|| Handler::start(&ctx));
    let srv = server(&ctx);
    srv.bind(&endpoint(tcp)).unwrap();
    let ep = last_endpoint(&srv);
    let b = bad(&ctx);
    b.connect(&ep).unwrap();
    // Queued before any handshake: must never be delivered.
    let _ = b.send(&mut Msg::from_slice(b"bad"), DONTWAIT);
    std::thread::sleep(Duration::from_millis(150));
    let g = good(&ctx);
    g.connect(&ep).unwrap();
    check_good(&g, &srv, user);
    assert!(
        recv_timeout(&srv, 200).is_none(),
        "nothing from the bad peer"
    );
    b.close();
    g.close();
    srv.close();
    if let Some(h) = handler {
        assert!(h.stop() >= 2, "the handler was asked");
    }
    ctx.terminate();
}

#[test]
fn plain_wrong_password_is_refused() {
    for tcp in [true, false] {
        bounded(20, move || {
            bad_then_good(
                tcp,
                plain_server,
                |c| plain_client(c, b"wrong"),
                |c| plain_client(c, b"secret"),
                Some(b"admin"),
                true,
            )
        });
    }
}

#[test]
fn plain_without_handler_refuses_everyone() {
    bounded(20, || {
        let ctx = Ctx::new();
        let srv = plain_server(&ctx);
        srv.bind("tcp://127.0.0.1:*").unwrap();
        let c = plain_client(&ctx, b"secret");
        c.connect(&last_endpoint(&srv)).unwrap();
        let _ = c.send(&mut Msg::from_slice(b"x"), DONTWAIT);
        assert!(recv_timeout(&srv, 500).is_none());
        c.close();
        srv.close();
        ctx.terminate();
    });
}

#[test]
fn curve_unknown_client_key_is_refused() {
    for tcp in [true, false] {
        bounded(20, move || {
            bad_then_good(
                tcp,
                curve_server,
                // A valid pair the handler does not know (the server's).
                |c| curve_client(c, SERVER_PUBLIC, SERVER_PUBLIC, SERVER_SECRET),
                |c| curve_client(c, SERVER_PUBLIC, CLIENT_PUBLIC, CLIENT_SECRET),
                Some(b"curve-client"),
                true,
            )
        });
    }
}

#[test]
fn curve_wrong_server_key_is_refused() {
    for tcp in [true, false] {
        bounded(20, move || {
            bad_then_good(
                tcp,
                curve_server,
                |c| curve_client(c, CLIENT_PUBLIC, CLIENT_PUBLIC, CLIENT_SECRET),
                |c| curve_client(c, SERVER_PUBLIC, CLIENT_PUBLIC, CLIENT_SECRET),
                None,
                false,
            )
        });
    }
}

#[test]
fn curve_and_plain_user_ids_reach_messages() {
    bounded(20, || {
        let ctx = Ctx::new();
        let h = Handler::start(&ctx);
        let srv = curve_server(&ctx);
        srv.bind("tcp://127.0.0.1:*").unwrap();
        let c = curve_client(&ctx, SERVER_PUBLIC, CLIENT_PUBLIC, CLIENT_SECRET);
        c.connect(&last_endpoint(&srv)).unwrap();
        check_good(&c, &srv, Some(b"curve-client"));
        c.close();
        srv.close();
        assert_eq!(h.stop(), 1);
        ctx.terminate();
    });
}

// ----------------------------------------------- raw peers, real handshake

/// A CURVE client (or server) over a raw tcp stream: our own
/// `Connection`, driven by hand, so the test can alter the bytes it sends
/// after the handshake.
struct RawCurve {
    stream: TcpStream,
    conn: Connection,
}

impl RawCurve {
    fn connect(ep: &str) -> RawCurve {
        let mut cfg = Config::new(kind::PUSH);
        cfg.mechanism = Mechanism::Curve(CurveKeys {
            public_key: z85(CLIENT_PUBLIC),
            secret_key: Zeroizing::new(z85(CLIENT_SECRET)),
            server_key: z85(SERVER_PUBLIC),
        });
        let stream = TcpStream::connect(ep.strip_prefix("tcp://").unwrap()).unwrap();
        RawCurve::handshake(stream, cfg)
    }

    /// The server's side, for a PULL client: accepts one connection on
    /// `listener` (within 10 s) and lets any client key in.
    fn accept(listener: &std::net::TcpListener) -> RawCurve {
        let mut cfg = Config::new(kind::PUSH);
        cfg.as_server = true;
        cfg.mechanism = Mechanism::Curve(CurveKeys {
            public_key: z85(SERVER_PUBLIC),
            secret_key: Zeroizing::new(z85(SERVER_SECRET)),
            server_key: [0; 32],
        });
        listener.set_nonblocking(true).unwrap();
        let end = Instant::now() + Duration::from_secs(10);
        let stream = loop {
            match listener.accept() {
                Ok((s, _)) => break s,
                Err(_) if Instant::now() < end => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => panic!("no client came: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        RawCurve::handshake(stream, cfg)
    }

    fn handshake(stream: TcpStream, cfg: Config) -> RawCurve {
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let mut r = RawCurve {
            stream,
            conn: Connection::new(cfg, Instant::now()),
        };
        let end = Instant::now() + Duration::from_secs(10);
        while !r.conn.is_ready() {
            assert!(Instant::now() < end, "raw CURVE handshake");
            r.write_out();
            let mut buf = [0u8; 4096];
            match r.stream.read(&mut buf) {
                Ok(0) => panic!("peer closed during the handshake"),
                Ok(n) => {
                    r.conn.handle_input(&buf[..n], Instant::now()).unwrap();
                    while let Some(e) = r.conn.poll_event() {
                        if matches!(e, Event::ZapRequest(_)) {
                            r.conn.zap_unavailable(Instant::now()).unwrap();
                        }
                    }
                }
                Err(_) => {}
            }
        }
        r.write_out();
        r
    }

    fn write_out(&mut self) {
        let v = self.conn.transmit_slices().concat();
        self.conn.advance_transmit(v.len());
        self.stream.write_all(&v).unwrap();
    }

    /// The wire bytes of one single-frame message.
    fn boxed(&mut self, body: &[u8]) -> Vec<u8> {
        self.conn.send(Msg::from_slice(body)).unwrap();
        let v = self.conn.transmit_slices().concat();
        self.conn.advance_transmit(v.len());
        v
    }

    /// True once the server has closed the connection.
    fn closed_within(&mut self, d: Duration) -> bool {
        let end = Instant::now() + d;
        let mut buf = [0u8; 256];
        while Instant::now() < end {
            match self.stream.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => {}
            }
        }
        false
    }
}

/// A raw client completes the handshake and sends its attack: returns it,
/// and how many of its messages come before the attack.
fn start_attack(ep: &str, attack: Attack) -> (RawCurve, usize) {
    let mut raw = RawCurve::connect(ep);
    let (bytes, delivered_before) = attack(&mut raw);
    raw.stream.write_all(&bytes).unwrap();
    (raw, delivered_before)
}

/// A CURVE PULL server with a good client attached, and a raw client that
/// sends what `attack` makes of its boxes: the raw client is dropped after
/// the messages before the attack, nothing after them arrives, and the good
/// client keeps working.
fn raw_attack(attack: Attack) {
    let ctx = Ctx::new();
    let srv = curve_server(&ctx);
    srv.bind("tcp://127.0.0.1:*").unwrap();
    let ep = last_endpoint(&srv);
    let good = curve_client(&ctx, SERVER_PUBLIC, CLIENT_PUBLIC, CLIENT_SECRET);
    good.connect(&ep).unwrap();
    check_good(&good, &srv, None);
    let (mut raw, delivered_before) = start_attack(&ep, attack);
    assert!(
        raw.closed_within(Duration::from_secs(10)),
        "the server drops the attacker"
    );
    for i in 0..delivered_before {
        let m = recv_timeout(&srv, 2000).expect("the messages before the attack");
        assert_eq!(m.data(), format!("raw-{i}").as_bytes());
    }
    assert!(recv_timeout(&srv, 200).is_none(), "nothing from the attack");
    check_good(&good, &srv, None);
    good.close();
    srv.close();
    ctx.terminate();
}

/// Attacks on a raw client's MESSAGE boxes: the wire bytes to send, and
/// how many of its messages ("raw-N") come before the attack.
type Attack = fn(&mut RawCurve) -> (Vec<u8>, usize);

/// The last byte of the second box flipped.
fn tamper(r: &mut RawCurve) -> (Vec<u8>, usize) {
    let mut v = r.boxed(b"raw-0");
    let mut bad = r.boxed(b"evil");
    let last = bad.len() - 1;
    bad[last] ^= 1;
    v.extend(bad);
    v.extend(r.boxed(b"after"));
    (v, 1)
}

/// The first box sent again after the second.
fn replay(r: &mut RawCurve) -> (Vec<u8>, usize) {
    let first = r.boxed(b"raw-0");
    let second = r.boxed(b"raw-1");
    let mut v = [first.clone(), second, first].concat();
    v.extend(r.boxed(b"after"));
    (v, 2)
}

/// Two boxes swapped.
fn reorder(r: &mut RawCurve) -> (Vec<u8>, usize) {
    let a = r.boxed(b"evil-a");
    let b = r.boxed(b"raw-0");
    ([b, a].concat(), 1)
}

/// A frame in clear where a MESSAGE box must be.
fn in_clear(r: &mut RawCurve) -> (Vec<u8>, usize) {
    let mut v = r.boxed(b"raw-0");
    v.extend_from_slice(&[0, 4]);
    v.extend_from_slice(b"evil");
    (v, 1)
}

#[test]
fn curve_tampered_box_drops_the_connection() {
    bounded(20, || raw_attack(tamper));
}

#[test]
fn curve_replayed_nonce_drops_the_connection() {
    bounded(20, || raw_attack(replay));
}

#[test]
fn curve_out_of_order_nonce_drops_the_connection() {
    bounded(20, || raw_attack(reorder));
}

#[test]
fn curve_plaintext_frame_after_handshake_drops_the_connection() {
    bounded(20, || raw_attack(in_clear));
}

/// The greeting of a CURVE (or PLAIN) client, then `body` as a command
/// frame: the server drops the connection, and its good client is still
/// served.
fn raw_command(body: Vec<u8>) {
    raw_command_to(body, false)
}

fn raw_command_to(body: Vec<u8>, plain: bool) {
    let ctx = Ctx::new();
    let handler = plain.then(|| Handler::start(&ctx));
    let srv = if plain {
        plain_server(&ctx)
    } else {
        curve_server(&ctx)
    };
    srv.bind("tcp://127.0.0.1:*").unwrap();
    let ep = last_endpoint(&srv);
    let good = if plain {
        plain_client(&ctx, b"secret")
    } else {
        curve_client(&ctx, SERVER_PUBLIC, CLIENT_PUBLIC, CLIENT_SECRET)
    };
    good.connect(&ep).unwrap();
    send_command(&ep, plain, &body);
    check_good(&good, &srv, plain.then_some(&b"admin"[..]));
    good.close();
    srv.close();
    if let Some(h) = handler {
        h.stop();
    }
    ctx.terminate();
}

/// A PLAIN or CURVE client's greeting, then `body` as a command frame;
/// returns once the server has closed the connection.
fn send_command(ep: &str, plain: bool, body: &[u8]) {
    let mut s = TcpStream::connect(ep.strip_prefix("tcp://").unwrap()).unwrap();
    let mut g = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 1];
    g.extend_from_slice(if plain { b"PLAIN" } else { b"CURVE" });
    g.resize(64, 0);
    s.write_all(&g).unwrap();
    let mut frame = Vec::new();
    if body.len() < 256 {
        frame.extend_from_slice(&[0x04, body.len() as u8]);
    } else {
        frame.push(0x06);
        frame.extend_from_slice(&(body.len() as u64).to_be_bytes());
    }
    frame.extend_from_slice(body);
    let _ = s.write_all(&frame);
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let end = Instant::now() + Duration::from_secs(2);
    let mut buf = [0u8; 512];
    let mut closed = false;
    while Instant::now() < end && !closed {
        match s.read(&mut buf) {
            Ok(0) => closed = true,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => closed = true,
            _ => {}
        }
    }
    assert!(closed, "{} bytes: the server drops the peer", body.len());
}

#[test]
fn curve_truncated_and_oversized_hello() {
    let mut hello = b"\x05HELLO\x01\x00".to_vec();
    hello.resize(200, 0);
    for body in [
        hello[..199].to_vec(),
        [&hello[..], &[0u8]].concat(),
        [&hello[..], &vec![0u8; 100_000][..]].concat(),
        hello.clone(),
        b"\x05HEL".to_vec(),
        b"\x08INITIATE".to_vec(),
    ] {
        bounded(20, move || raw_command(body));
    }
}

#[test]
fn plain_truncated_and_oversized_hello() {
    for body in [
        b"\x05HELLO".to_vec(),
        b"\x05HELLO\x05adm".to_vec(),
        b"\x05HELLO\x05admin\x06secre".to_vec(),
        b"\x05HELLO\x05admin\x06secretX".to_vec(),
        [
            &b"\x05HELLO\x05admin\x06secret"[..],
            &vec![0u8; 100_000][..],
        ]
        .concat(),
        b"\x08INITIATE".to_vec(),
        b"\x05".to_vec(),
    ] {
        bounded(20, move || raw_command_to(body, true));
    }
}

// ------------------------------- the same peers against Debian's libzmq
//
// The server (and the refused clients) are `interop/peer.c` in its `watch`
// role, built against Debian's libzmq 4.3.4 and against ours: each prints
// its monitor events and the messages it receives. The hostile peers are
// the same for both, so each failure's events are checked against what
// libzmq raises, on the side that raises them.

mod common;
use common::bounded;
use common::peer::{Impl, Peer};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Condvar, Mutex, OnceLock};
use zmq::zmtp::code;

/// Both builds of peer.c; `None` for Debian's without its headers.
fn peers() -> &'static BTreeMap<Impl, Peer> {
    static PEERS: OnceLock<BTreeMap<Impl, Peer>> = OnceLock::new();
    PEERS.get_or_init(|| {
        let dir = common::make_scratch_dir("security");
        let lib = common::link_our_library(&dir);
        let mut m = BTreeMap::new();
        for which in [Impl::Ours, Impl::Libzmq] {
            if which == Impl::Libzmq && !std::path::Path::new("/usr/include/zmq.h").exists() {
                eprintln!("security: !!! SKIPPING Debian's libzmq: /usr/include/zmq.h missing");
                continue;
            }
            let p = common::peer::build(which, &dir, &lib).unwrap_or_else(|e| panic!("{e}"));
            m.insert(which, p);
        }
        m
    })
}

/// A peer.c process in the `watch` role; its stdout lines as they come.
struct Watch {
    label: String,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl Watch {
    fn start(which: Impl, label: String, args: &[&str]) -> Watch {
        let peer = &peers()[&which];
        let mut cmd: Command = peer.command();
        cmd.arg("watch")
            .args(args)
            .arg("timeout=30")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap();
        let out = child.stdout.take().unwrap();
        let lines = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let l2 = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                l2.0.lock().unwrap().push(line);
                l2.1.notify_all();
            }
        });
        Watch {
            label: format!("{label} ({})", which.name()),
            stdin: child.stdin.take(),
            child,
            lines,
        }
    }

    /// The first line `f` accepts, waiting for it at most 10 s (a loaded
    /// machine; a healthy run takes milliseconds).
    fn find(&self, f: impl Fn(&str) -> bool) -> Option<String> {
        let end = Instant::now() + Duration::from_secs(10);
        let mut g = self.lines.0.lock().unwrap();
        loop {
            if let Some(l) = g.iter().find(|l| f(l)) {
                return Some(l.clone());
            }
            let now = Instant::now();
            if now >= end {
                return None;
            }
            g = self.lines.1.wait_timeout(g, end - now).unwrap().0;
        }
    }

    fn expect(&self, f: impl Fn(&str) -> bool, what: &str) -> String {
        self.find(f).unwrap_or_else(|| {
            let st = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
                .unwrap_or_default();
            panic!("{}: no {what} in {:#?} stat {st}", self.label, self.lines())
        })
    }

    fn lines(&self) -> Vec<String> {
        self.lines.0.lock().unwrap().clone()
    }

    fn endpoint(&self) -> String {
        let l = self.expect(|l| l.starts_with("ENDPOINT "), "ENDPOINT");
        l["ENDPOINT ".len()..].to_string()
    }

    /// The handshake failures it reported, in order.
    fn failures(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter(|l| l.starts_with("EVENT HANDSHAKE_FAILED"))
            .map(|l| l["EVENT ".len()..].to_string())
            .collect()
    }

    /// The messages it received.
    fn received(&self) -> Vec<String> {
        self.lines()
            .into_iter()
            .filter_map(|l| l.strip_prefix("MSG ").map(str::to_string))
            .collect()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // Its stdin closing ends it; the watchdog (timeout=) bounds a hang.
        self.stdin.take();
        if common::wait_or_kill(&mut self.child, Duration::from_secs(5)).is_none() {
            eprintln!("security: {} did not end; killed", self.label);
        }
    }
}

fn auth(status: u32) -> String {
    format!("HANDSHAKE_FAILED_AUTH {status}")
}

fn protocol(code: u32) -> String {
    format!("HANDSHAKE_FAILED_PROTOCOL {code}")
}

fn no_detail(errno: i32) -> String {
    format!("HANDSHAKE_FAILED_NO_DETAIL {errno}")
}

/// A refused client: its options, and the failure each side reports.
struct Refusal {
    name: &'static str,
    server: &'static [&'static str],
    bad: &'static str,
    good: &'static str,
    server_event: String,
    client_event: String,
}

fn refusals() -> Vec<Refusal> {
    vec![
        Refusal {
            name: "PLAIN, wrong password",
            server: &["sec=plain-server", "zap=1"],
            bad: "sec=plain-client-wrong",
            good: "sec=plain-client",
            server_event: auth(400),
            client_event: auth(400),
        },
        Refusal {
            name: "CURVE, client key unknown to ZAP",
            server: &["sec=curve-server", "zap=1"],
            bad: "sec=curve-client-unknown",
            good: "sec=curve-client",
            server_event: auth(400),
            client_event: auth(400),
        },
        // The server cannot open the client's HELLO and closes; the client
        // sees the connection end (EPIPE) and tries again, and again.
        Refusal {
            name: "CURVE, client has the wrong server key",
            server: &["sec=curve-server"],
            bad: "sec=curve-client-wrongkey",
            good: "sec=curve-client",
            server_event: protocol(code::ZMTP_CRYPTOGRAPHIC),
            client_event: no_detail(libc::EPIPE),
        },
    ]
}

/// One refused client, then a good one, against one server: the failure
/// events on both sides, nothing of the refused client delivered, the good
/// one served.
fn refuse(r: &Refusal, server: Impl, client: Impl, tcp: bool) {
    let name = format!(
        "{} ({} server, {} client, {})",
        r.name,
        server.name(),
        client.name(),
        if tcp { "tcp" } else { "ipc" }
    );
    let bind = endpoint(tcp);
    let mut args = vec!["PULL", "bind", &bind];
    args.extend(r.server);
    let srv = Watch::start(server, format!("{name}: server"), &args);
    let ep = srv.endpoint();
    let bad = Watch::start(
        client,
        format!("{name}: refused client"),
        &["PUSH", "connect", &ep, r.bad, "say=bad"],
    );
    bad.expect(|l| l.starts_with("EVENT HANDSHAKE_FAILED"), "failure");
    srv.expect(|l| l.starts_with("EVENT HANDSHAKE_FAILED"), "failure");
    let good = Watch::start(
        client,
        format!("{name}: good client"),
        &["PUSH", "connect", &ep, r.good, "say=good"],
    );
    srv.expect(|l| l == "MSG good", "message from the good client");
    good.expect(|l| l == "EVENT HANDSHAKE_SUCCEEDED 0", "handshake");
    // libzmq 4.3.4's PLAIN names its ERROR "\x5eRROR" and its client
    // knows only that name: refused by ours (which writes "\x05ERROR", as
    // RFC 24 has it) its client cannot read the status.
    let client_event =
        if r.bad == "sec=plain-client-wrong" && server == Impl::Ours && client == Impl::Libzmq {
            protocol(code::ZMTP_UNEXPECTED_COMMAND)
        } else {
            r.client_event.clone()
        };
    let (s, c) = (srv.failures(), bad.failures());
    assert!(
        !s.is_empty() && s.iter().all(|e| *e == r.server_event),
        "{name}: server reported {s:?}, want {}",
        r.server_event
    );
    assert!(
        !c.is_empty() && c.iter().all(|e| *e == client_event),
        "{name}: client reported {c:?}, want {client_event}"
    );
    assert!(
        !bad.lines()
            .iter()
            .any(|l| l.contains("HANDSHAKE_SUCCEEDED")),
        "{name}: {:?}",
        bad.lines()
    );
    assert_eq!(srv.received(), ["good"], "{name}: only the good client's");
}

/// Refused clients, each library against each, tcp and ipc.
#[test]
fn refusals_match_libzmq_both_ways() {
    let impls: Vec<Impl> = peers().keys().copied().collect();
    let mut runs = Vec::new();
    for r in refusals() {
        for &s in &impls {
            for &c in &impls {
                for tcp in [true, false] {
                    runs.push((r.name, s, c, tcp));
                }
            }
        }
    }
    let runs = Mutex::new(runs);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let Some((name, s, c, tcp)) = runs.lock().unwrap().pop() else {
                    break;
                };
                let all = refusals();
                let r = all.iter().find(|r| r.name == name).unwrap();
                refuse(r, s, c, tcp);
            });
        }
    });
}

/// What a hostile client does over tcp: attack a real CURVE session, or
/// send one command after its greeting.
#[derive(Clone)]
enum Hostile {
    Boxes(Attack),
    Command { plain: bool, body: Vec<u8> },
}

/// Each hostile client, and the event the server reports for it (as
/// Debian's libzmq 4.3.4 does).
fn hostile_cases() -> Vec<(&'static str, Hostile, String)> {
    let mut hello = b"\x05HELLO\x01\x00".to_vec();
    hello.resize(200, 0);
    let cmd = |plain, body: Vec<u8>| Hostile::Command { plain, body };
    let p = protocol;
    vec![
        (
            "tampered box",
            Hostile::Boxes(tamper),
            p(code::ZMTP_CRYPTOGRAPHIC),
        ),
        (
            "replayed nonce",
            Hostile::Boxes(replay),
            p(code::ZMTP_INVALID_SEQUENCE),
        ),
        (
            "out-of-order nonce",
            Hostile::Boxes(reorder),
            p(code::ZMTP_INVALID_SEQUENCE),
        ),
        (
            "frame in clear",
            Hostile::Boxes(in_clear),
            p(code::ZMTP_MALFORMED_COMMAND_UNSPECIFIED),
        ),
        (
            "CURVE HELLO short by 1",
            cmd(false, hello[..199].to_vec()),
            p(code::ZMTP_MALFORMED_COMMAND_HELLO),
        ),
        (
            "CURVE HELLO long by 1",
            cmd(false, [&hello[..], &[0]].concat()),
            p(code::ZMTP_MALFORMED_COMMAND_HELLO),
        ),
        (
            "CURVE HELLO of 100 kB",
            cmd(false, [&hello[..], &[0; 100_000][..]].concat()),
            p(code::ZMTP_MALFORMED_COMMAND_HELLO),
        ),
        (
            "CURVE HELLO with a bad box",
            cmd(false, hello.clone()),
            p(code::ZMTP_CRYPTOGRAPHIC),
        ),
        (
            "CURVE name cut",
            cmd(false, b"\x05HEL".to_vec()),
            p(code::ZMTP_MALFORMED_COMMAND_UNSPECIFIED),
        ),
        (
            "CURVE INITIATE first",
            cmd(false, b"\x08INITIATE".to_vec()),
            p(code::ZMTP_UNEXPECTED_COMMAND),
        ),
        (
            "PLAIN HELLO without names",
            cmd(true, b"\x05HELLO".to_vec()),
            p(code::ZMTP_MALFORMED_COMMAND_HELLO),
        ),
        (
            "PLAIN HELLO user cut",
            cmd(true, b"\x05HELLO\x05adm".to_vec()),
            p(code::ZMTP_MALFORMED_COMMAND_HELLO),
        ),
        (
            "PLAIN HELLO password cut",
            cmd(true, b"\x05HELLO\x05admin\x06secre".to_vec()),
            p(code::ZMTP_MALFORMED_COMMAND_HELLO),
        ),
        (
            "PLAIN HELLO long by 1",
            cmd(true, b"\x05HELLO\x05admin\x06secretX".to_vec()),
            p(code::ZMTP_MALFORMED_COMMAND_HELLO),
        ),
        (
            "PLAIN HELLO of 100 kB",
            cmd(
                true,
                [&b"\x05HELLO\x05admin\x06secret"[..], &[0; 100_000][..]].concat(),
            ),
            p(code::ZMTP_MALFORMED_COMMAND_HELLO),
        ),
        (
            "PLAIN INITIATE first",
            cmd(true, b"\x08INITIATE".to_vec()),
            p(code::ZMTP_UNEXPECTED_COMMAND),
        ),
        (
            "PLAIN name cut",
            cmd(true, b"\x05".to_vec()),
            p(code::ZMTP_MALFORMED_COMMAND_UNSPECIFIED),
        ),
    ]
}

/// The attacked peer `w` reports one failure and drops the connection.
/// libzmq 4.3.4, after a bad box (crypto or nonce), often raises the event
/// but keeps the connection, reading no more: its engine takes the failure
/// for a full pipe, likely an errno overwritten while the monitor event is
/// sent (a frame in clear, whose event goes before errno is set, is
/// dropped). Ours always drops it.
fn dropped_after_failure(w: &Watch, raw: Option<&mut RawCurve>, which: Impl) -> Result<(), String> {
    w.expect(|l| l.starts_with("EVENT HANDSHAKE_FAILED"), "failure");
    let wait = Duration::from_secs(if which == Impl::Ours { 10 } else { 1 });
    if raw.is_none_or(|r| r.closed_within(wait)) {
        w.expect(|l| l.starts_with("EVENT DISCONNECTED"), "DISCONNECTED");
    } else if which == Impl::Ours {
        return Err(format!("{}: the connection was not dropped", w.label));
    }
    Ok(())
}

/// `w` reported exactly the failure `want`, and received `msgs` (or, with
/// `prefix`, the first few of them): nothing after the attack.
fn reported(w: &Watch, want: &str, msgs: &[String], prefix: bool) -> Result<(), String> {
    let got = w.received();
    if !(got == msgs || prefix && msgs.starts_with(&got)) {
        return Err(format!("{}: received {got:?}, want {msgs:?}", w.label));
    }
    let got = w.failures();
    if got != [want] {
        return Err(format!("{}: reported {got:?}, want {want}", w.label));
    }
    Ok(())
}

/// One hostile client against a server of `which` with a ZAP handler: the
/// server's event, nothing of the attack delivered, a good client served
/// after it.
fn hostile(name: &str, h: &Hostile, want: &str, which: Impl) -> Result<(), String> {
    let plain = matches!(h, Hostile::Command { plain: true, .. });
    let sec = if plain {
        "sec=plain-server"
    } else {
        "sec=curve-server"
    };
    let label = format!("{name}: server");
    let srv = Watch::start(
        which,
        label,
        &["PULL", "bind", "tcp://127.0.0.1:*", sec, "zap=1"],
    );
    let ep = srv.endpoint();
    let before = match h {
        Hostile::Boxes(attack) => {
            let (mut raw, before) = start_attack(&ep, *attack);
            dropped_after_failure(&srv, Some(&mut raw), which)?;
            before
        }
        Hostile::Command { plain, body } => {
            send_command(&ep, *plain, body);
            dropped_after_failure(&srv, None, which)?;
            0
        }
    };
    let good = if plain {
        "sec=plain-client"
    } else {
        "sec=curve-client"
    };
    let g = Watch::start(
        which,
        format!("{name}: good client"),
        &["PUSH", "connect", &ep, good, "say=good"],
    );
    srv.expect(|l| l == "MSG good", "message from the good client");
    drop(g);
    let mut msgs: Vec<String> = (0..before).map(|i| format!("raw-{i}")).collect();
    msgs.push("good".into());
    reported(&srv, want, &msgs, false)
}

/// Tampered, replayed and reordered boxes, truncated and oversized
/// commands: against Debian's libzmq and ours, the same event.
#[test]
fn hostile_clients_raise_libzmq_events() {
    let mut runs = Vec::new();
    for (name, h, want) in hostile_cases() {
        for &which in peers().keys() {
            runs.push((name, h.clone(), want.clone(), which));
        }
    }
    let runs = Mutex::new(runs);
    let errors = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let Some((name, h, want, which)) = runs.lock().unwrap().pop() else {
                    break;
                };
                if let Err(e) = hostile(name, &h, &want, which) {
                    errors.lock().unwrap().push(e);
                }
            });
        }
    });
    let errors = errors.into_inner().unwrap();
    assert!(errors.is_empty(), "{errors:#?}");
}

/// A raw CURVE server attacks its PULL client (of either library) with
/// the same bad boxes: the client's event, and nothing after the attack.
/// What came before may be lost as well, with either library: a connecter
/// that gives up takes its pipe, and what the socket had not read, along.
fn hostile_server(name: &str, attack: Attack, want: &str, which: Impl) -> Result<(), String> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let ep = format!("tcp://{}", listener.local_addr().unwrap());
    let label = format!("{name}: client");
    let client = Watch::start(which, label, &["PULL", "connect", &ep, "sec=curve-client"]);
    let mut raw = RawCurve::accept(&listener);
    let (bytes, before) = attack(&mut raw);
    raw.stream.write_all(&bytes).unwrap();
    dropped_after_failure(&client, Some(&mut raw), which)?;
    let msgs: Vec<String> = (0..before).map(|i| format!("raw-{i}")).collect();
    reported(&client, want, &msgs, true)
}

/// Bad boxes from the server: the client reports them as libzmq's does.
#[test]
fn hostile_servers_raise_libzmq_events() {
    let mut errors = Vec::new();
    for (name, h, want) in hostile_cases() {
        let Hostile::Boxes(attack) = h else { continue };
        for &which in peers().keys() {
            if let Err(e) = hostile_server(name, attack, &want, which) {
                errors.push(e);
            }
        }
    }
    assert!(errors.is_empty(), "{errors:#?}");
}
