//! PLAIN, CURVE and ZAP through real sockets over tcp and ipc: a ZAP
//! handler in the context, good and bad peers side by side, and raw peers
//! that complete a real CURVE handshake (with the crate's own sans-I/O
//! `Connection`) and then tamper with, replay or reorder their MESSAGE
//! boxes, or send truncated and oversized commands.
//!
//! For each failure: nothing of the bad peer is delivered, nothing panics,
//! and the socket keeps serving its good peer. Which monitor event each
//! failure raises is checked on the state machines (src/zmtp/
//! security_tests.rs), where the reason is exposed.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
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

/// Runs `f` in its own thread; fails the test if it takes over `secs`.
fn bounded<F: FnOnce() + Send + 'static>(secs: u64, f: F) {
    let (tx, rx) = mpsc::channel();
    let h = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(Duration::from_secs(secs)) {
        Ok(()) => h.join().unwrap(),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(e) = h.join() {
                std::panic::resume_unwind(e)
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("test hung: not done after {secs} s"),
    }
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

/// A CURVE client over a raw tcp stream: our own `Connection`, driven by
/// hand, so the test can alter the bytes it sends after the handshake.
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
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .unwrap();
        let mut r = RawCurve {
            stream,
            conn: Connection::new(cfg, Instant::now()),
        };
        let end = Instant::now() + Duration::from_secs(3);
        while !r.conn.is_ready() {
            assert!(Instant::now() < end, "raw CURVE handshake");
            r.write_out();
            let mut buf = [0u8; 4096];
            match r.stream.read(&mut buf) {
                Ok(0) => panic!("server closed during the handshake"),
                Ok(n) => {
                    r.conn.handle_input(&buf[..n], Instant::now()).unwrap();
                    while let Some(e) = r.conn.poll_event() {
                        assert!(!matches!(e, Event::ZapRequest(_)));
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

/// A CURVE PULL server with a good client attached, and a raw client that
/// sends what `attack` makes of its boxes: the raw client is dropped after
/// the messages before the attack, nothing after them arrives, and the good
/// client keeps working.
fn raw_attack(attack: fn(&mut RawCurve) -> (Vec<u8>, usize)) {
    let ctx = Ctx::new();
    let srv = curve_server(&ctx);
    srv.bind("tcp://127.0.0.1:*").unwrap();
    let ep = last_endpoint(&srv);
    let good = curve_client(&ctx, SERVER_PUBLIC, CLIENT_PUBLIC, CLIENT_SECRET);
    good.connect(&ep).unwrap();
    check_good(&good, &srv, None);
    let mut raw = RawCurve::connect(&ep);
    let (bytes, delivered_before) = attack(&mut raw);
    raw.stream.write_all(&bytes).unwrap();
    assert!(
        raw.closed_within(Duration::from_secs(2)),
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

#[test]
fn curve_tampered_box_drops_the_connection() {
    bounded(20, || {
        raw_attack(|r| {
            let mut v = r.boxed(b"raw-0");
            let mut bad = r.boxed(b"evil");
            let last = bad.len() - 1;
            bad[last] ^= 1;
            v.extend(bad);
            v.extend(r.boxed(b"after"));
            (v, 1)
        })
    });
}

#[test]
fn curve_replayed_nonce_drops_the_connection() {
    bounded(20, || {
        raw_attack(|r| {
            let first = r.boxed(b"raw-0");
            let second = r.boxed(b"raw-1");
            let mut v = [first.clone(), second, first].concat();
            v.extend(r.boxed(b"after"));
            (v, 2)
        })
    });
}

#[test]
fn curve_out_of_order_nonce_drops_the_connection() {
    bounded(20, || {
        raw_attack(|r| {
            let a = r.boxed(b"evil-a");
            let b = r.boxed(b"raw-0");
            ([b, a].concat(), 1)
        })
    });
}

#[test]
fn curve_plaintext_frame_after_handshake_drops_the_connection() {
    bounded(20, || {
        raw_attack(|r| {
            let mut v = r.boxed(b"raw-0");
            // A frame in clear where a MESSAGE box must be.
            v.extend_from_slice(&[0, 4]);
            v.extend_from_slice(b"evil");
            (v, 1)
        })
    });
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
    frame.extend_from_slice(&body);
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
    check_good(&good, &srv, plain.then_some(&b"admin"[..]));
    good.close();
    srv.close();
    if let Some(h) = handler {
        h.stop();
    }
    ctx.terminate();
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
