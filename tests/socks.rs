//! `ZMQ_SOCKS_PROXY` through a real SOCKS5 server: Debian's `microsocks`
//! (`apt-get install microsocks`; `.ci/run` installs it), started on a
//! free port per test. Our DEALER connects through it to a ROUTER, ours or
//! Debian's libzmq (a small C peer), and messages go both ways; with
//! username/password required, a wrong password or none fails (and keeps
//! retrying, raising libzmq's monitor events, named after the proxy) while
//! the right one works.

use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use zmq::ctx::Ctx;
use zmq::msg::Msg;
use zmq::options::id;
use zmq::socket::monitor::event;
use zmq::socket::{kind, Socket, SNDMORE};
use zmq::Error;

mod common;

/// A microsocks process, killed when dropped.
struct Proxy {
    child: Child,
    port: u16,
}

impl Proxy {
    fn start(auth: Option<(&str, &str)>) -> Proxy {
        let port = free_port();
        let mut cmd = Command::new("microsocks");
        cmd.args(["-i", "127.0.0.1", "-p", &port.to_string()]);
        if let Some((user, pass)) = auth {
            cmd.args(["-u", user, "-P", pass]);
        }
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run microsocks ({e}): apt-get install microsocks (see .ci/run)")
            });
        let proxy = Proxy { child, port };
        let end = Instant::now() + Duration::from_secs(5);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < end, "microsocks did not listen on {port}");
            std::thread::sleep(Duration::from_millis(10));
        }
        proxy
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn set_i32(s: &Socket, opt: i32, v: i32) {
    s.set_option(opt, &v.to_ne_bytes()).unwrap();
}

fn sock(ctx: &Arc<Ctx>, t: i32) -> Arc<Socket> {
    let s = ctx.socket(t).unwrap();
    set_i32(&s, id::LINGER, 0);
    s
}

fn last_port(s: &Socket) -> u16 {
    let mut buf = [0u8; 256];
    let n = s.get_option(id::LAST_ENDPOINT, &mut buf).unwrap();
    let ep = String::from_utf8(buf[..n - 1].to_vec()).unwrap();
    ep.rsplit(':').next().unwrap().parse().unwrap()
}

/// A DEALER that goes through `proxy` with these credentials.
fn proxied_dealer(ctx: &Arc<Ctx>, proxy: &Proxy, auth: Option<(&str, &str)>) -> Arc<Socket> {
    let d = sock(ctx, kind::DEALER);
    set_i32(&d, id::RECONNECT_IVL, 50);
    d.set_option(id::SOCKS_PROXY, proxy.address().as_bytes())
        .unwrap();
    if let Some((user, pass)) = auth {
        d.set_option(id::SOCKS_USERNAME, user.as_bytes()).unwrap();
        d.set_option(id::SOCKS_PASSWORD, pass.as_bytes()).unwrap();
    }
    d
}

fn recv_timeout(s: &Socket, ms: u64) -> Option<Msg> {
    set_i32(s, id::RCVTIMEO, ms as i32);
    match s.recv(0) {
        Ok(m) => Some(m),
        Err(Error::Again) => None,
        Err(e) => panic!("recv: {e:?}"),
    }
}

fn send(s: &Socket, data: &[u8], flags: i32) {
    s.send(&mut Msg::from_slice(data), flags).unwrap();
}

/// DEALER → ROUTER and back, through the proxy.
fn round_trip(dealer: &Socket, router: &Socket) {
    send(dealer, b"hello", 0);
    let rid = recv_timeout(router, 5000).expect("ROUTER got nothing through the proxy");
    let body = recv_timeout(router, 1000).expect("no body");
    assert_eq!(body.data(), b"hello");
    send(router, rid.data(), SNDMORE);
    send(router, b"world", 0);
    let back = recv_timeout(dealer, 5000).expect("DEALER got no reply through the proxy");
    assert_eq!(back.data(), b"world");
}

#[test]
fn through_proxy_to_our_router() {
    let proxy = Proxy::start(None);
    let ctx = Ctx::new();
    let router = sock(&ctx, kind::ROUTER);
    router.bind("tcp://127.0.0.1:*").unwrap();
    let port = last_port(&router);
    // A numeric destination (sent as an IPv4 address) and a name (sent
    // for the proxy to resolve).
    for dest in [
        format!("tcp://127.0.0.1:{port}"),
        format!("tcp://localhost:{port}"),
    ] {
        let dealer = proxied_dealer(&ctx, &proxy, None);
        dealer.connect(&dest).unwrap();
        round_trip(&dealer, &router);
        // The proxy is the peer our connection knows.
        let mut buf = [0u8; 512];
        let n = dealer.get_option(id::SOCKS_PROXY, &mut buf).unwrap();
        assert_eq!(&buf[..n], format!("{}\0", proxy.address()).as_bytes());
        dealer.close();
    }
}

/// A version 1 monitor of every event on `s`.
fn monitor(ctx: &Arc<Ctx>, s: &Socket, endpoint: &str) -> Arc<Socket> {
    s.monitor(Some(endpoint), event::ALL_V1, 1, kind::PAIR)
        .unwrap();
    let mon = sock(ctx, kind::PAIR);
    mon.connect(endpoint).unwrap();
    mon
}

/// Monitor events: (event, endpoint) pairs read from a version 1 monitor.
fn events(mon: &Socket, until: u64, ms: u64) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let end = Instant::now() + Duration::from_millis(ms);
    while Instant::now() < end {
        let Some(head) = recv_timeout(mon, 50) else {
            continue;
        };
        let ep = recv_timeout(mon, 1000).expect("event without endpoint");
        let ev = u64::from(u16::from_le_bytes([head.data()[0], head.data()[1]]));
        out.push((ev, String::from_utf8_lossy(ep.data()).into_owned()));
        if ev == until {
            break;
        }
    }
    out
}

#[test]
fn username_password() {
    let proxy = Proxy::start(Some(("alice", "s3cret")));
    let ctx = Ctx::new();
    let router = sock(&ctx, kind::ROUTER);
    router.bind("tcp://127.0.0.1:*").unwrap();
    let dest = format!("tcp://127.0.0.1:{}", last_port(&router));

    for auth in [Some(("alice", "wrong")), None] {
        let dealer = proxied_dealer(&ctx, &proxy, auth);
        let mon = monitor(&ctx, &dealer, "inproc://socks-mon");
        dealer.connect(&dest).unwrap();
        send(&dealer, b"hello", 0);
        assert!(recv_timeout(&router, 400).is_none(), "{auth:?} got through");
        // Refused by the proxy: closed and retried, as libzmq, all named
        // after the proxy; never connected.
        let seen = events(&mon, u64::MAX, 300);
        let proxy_ep = format!("tcp://{}", proxy.address());
        assert!(seen.iter().all(|(_, ep)| *ep == proxy_ep), "{seen:?}");
        assert!(
            !seen.iter().any(|(ev, _)| *ev == event::CONNECTED),
            "{seen:?}"
        );
        let retried = seen
            .iter()
            .filter(|(ev, _)| *ev == event::CONNECT_RETRIED)
            .count();
        let closed = seen.iter().filter(|(ev, _)| *ev == event::CLOSED).count();
        assert!(retried >= 2 && closed >= 2, "{auth:?}: {seen:?}");
        dealer.monitor(None, 0, 1, kind::PAIR).unwrap();
        dealer.close();
        mon.close();
    }

    let dealer = proxied_dealer(&ctx, &proxy, Some(("alice", "s3cret")));
    let mon = monitor(&ctx, &dealer, "inproc://socks-mon-ok");
    dealer.connect(&dest).unwrap();
    round_trip(&dealer, &router);
    let seen = events(&mon, event::HANDSHAKE_SUCCEEDED, 1000);
    let proxy_ep = format!("tcp://{}", proxy.address());
    assert!(
        seen.contains(&(event::CONNECTED, proxy_ep.clone())),
        "{seen:?}"
    );
    assert!(
        seen.contains(&(event::HANDSHAKE_SUCCEEDED, proxy_ep)),
        "{seen:?}"
    );
}

/// Debian's libzmq as the ROUTER: prints its port, echoes one message.
const LIBZMQ_ROUTER: &str = r#"
#include <zmq.h>
#include <stdio.h>
int main (void)
{
    void *ctx = zmq_ctx_new ();
    void *r = zmq_socket (ctx, ZMQ_ROUTER);
    int t = 8000;
    zmq_setsockopt (r, ZMQ_RCVTIMEO, &t, sizeof t);
    if (zmq_bind (r, "tcp://127.0.0.1:*") != 0) return 2;
    char ep[256];
    size_t n = sizeof ep;
    zmq_getsockopt (r, ZMQ_LAST_ENDPOINT, ep, &n);
    printf ("%s\n", ep);
    fflush (stdout);
    char id[256], body[256];
    int idn = zmq_recv (r, id, sizeof id, 0);
    int bn = zmq_recv (r, body, sizeof body, 0);
    if (idn < 0 || bn != 5) return 3;
    zmq_send (r, id, idn, ZMQ_SNDMORE);
    zmq_send (r, "world", 5, 0);
    zmq_close (r);
    zmq_ctx_term (ctx);
    return 0;
}
"#;

#[test]
fn through_proxy_to_libzmq_router() {
    use std::io::BufRead;
    let dir = common::make_scratch_dir("socks");
    let src = dir.join("router.c");
    std::fs::write(&src, LIBZMQ_ROUTER).unwrap();
    let exe = dir.join("router");
    let mut cc = common::c_compiler(0);
    cc.arg(&src).arg("-o").arg(&exe).arg("-lzmq");
    common::compile(&mut cc, "the libzmq ROUTER").unwrap();

    let proxy = Proxy::start(Some(("bob", "pw")));
    let mut peer = Command::new(&exe).stdout(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(peer.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().rsplit(':').next().unwrap().to_string();

    let ctx = Ctx::new();
    let dealer = proxied_dealer(&ctx, &proxy, Some(("bob", "pw")));
    dealer.connect(&format!("tcp://localhost:{port}")).unwrap();
    send(&dealer, b"hello", 0);
    let back = recv_timeout(&dealer, 8000).expect("no reply from libzmq through the proxy");
    assert_eq!(back.data(), b"world");
    let status = common::wait_or_kill(&mut peer, Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.success()),
        "libzmq peer: {status:?}"
    );
}
