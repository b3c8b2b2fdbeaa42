//! Connects by name: lookups run off the I/O thread, are retried with the
//! reconnect backoff, follow the name across reconnects, and are abandoned
//! by a session that goes. Names go through a lookup injected per context,
//! so no test depends on (or sends anything to) a DNS server.

use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use super::tests::{last_endpoint, pair, recv, send, timeouts};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::options::id;
use crate::socket::kind;
use crate::transport::tcp::Lookup;

/// A lookup that blocks until opened, then answers 127.0.0.1.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    cv: Condvar,
    /// Lookups started, and the most running at once.
    asked: AtomicUsize,
    running: AtomicUsize,
    most: AtomicUsize,
}

impl Gate {
    fn lookup(self: &Arc<Self>) -> Lookup {
        let gate = Arc::clone(self);
        Arc::new(move |_: &str| {
            gate.asked.fetch_add(1, Ordering::SeqCst);
            let now = gate.running.fetch_add(1, Ordering::SeqCst) + 1;
            gate.most.fetch_max(now, Ordering::SeqCst);
            let mut open = gate.open.lock();
            while !*open {
                gate.cv.wait(&mut open);
            }
            drop(open);
            gate.running.fetch_sub(1, Ordering::SeqCst);
            Ok(vec![IpAddr::from([127, 0, 0, 1])])
        })
    }

    fn open(&self) {
        *self.open.lock() = true;
        self.cv.notify_all();
    }

    fn wait_asked(&self, n: usize) {
        let start = Instant::now();
        while self.asked.load(Ordering::SeqCst) < n {
            assert!(start.elapsed() < Duration::from_secs(5), "lookup not asked");
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn port_of(endpoint: &str) -> u16 {
    endpoint.rsplit_once(':').unwrap().1.parse().unwrap()
}

fn set_int(s: &crate::socket::Socket, option: i32, v: i32) {
    s.set_option(option, &v.to_ne_bytes()).unwrap();
}

#[test]
fn slow_lookup_does_not_stall_other_sockets() {
    let ctx = Ctx::new();
    let gate = Arc::new(Gate::default());
    ctx.set_lookup(gate.lookup());
    let target = ctx.socket(kind::PULL).unwrap();
    timeouts(&target);
    target.bind("tcp://127.0.0.1:*").unwrap();
    let port = port_of(&last_endpoint(&target));
    let slow = ctx.socket(kind::PUSH).unwrap();
    timeouts(&slow);
    slow.connect(&format!("tcp://slow.test:{port}")).unwrap();
    send(&slow, b"late", false);
    gate.wait_asked(1);
    // The lookup is stuck; traffic on the same (only) I/O thread flows.
    let (rep, req) = pair(&ctx, kind::REP, kind::REQ, "tcp://127.0.0.1:*");
    let start = Instant::now();
    for i in 0..200u32 {
        send(&req, &i.to_be_bytes(), false);
        assert_eq!(recv(&rep).data(), i.to_be_bytes());
        send(&rep, b"ok", false);
        assert_eq!(recv(&req).data(), b"ok");
    }
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(
        gate.running.load(Ordering::SeqCst),
        1,
        "lookup still blocked"
    );
    gate.open();
    assert_eq!(recv(&target).data(), b"late");
    for s in [&slow, &target, &req, &rep] {
        s.close();
    }
    ctx.terminate();
}

#[test]
fn close_and_term_while_resolving() {
    let ctx = Ctx::new();
    let gate = Arc::new(Gate::default());
    ctx.set_lookup(gate.lookup());
    let mut sockets = Vec::new();
    // More connects than resolver workers: the rest wait their turn.
    for i in 0..10 {
        let s = ctx.socket(kind::PUSH).unwrap();
        set_int(&s, id::LINGER, 200);
        s.connect(&format!("tcp://blocked{i}.test:5555")).unwrap();
        send(&s, b"never", false);
        sockets.push(s);
    }
    gate.wait_asked(4);
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(gate.most.load(Ordering::SeqCst), 4, "workers are bounded");
    let start = Instant::now();
    for s in &sockets {
        s.close();
    }
    ctx.terminate();
    // The linger bounds term, not the lookups.
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(150), "{took:?}");
    assert!(took < Duration::from_secs(2), "{took:?}");
    // Late answers reach nobody; the queued lookups are skipped.
    gate.open();
    let start = Instant::now();
    while gate.running.load(Ordering::SeqCst) > 0 {
        assert!(start.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(gate.asked.load(Ordering::SeqCst), 4);
}

#[test]
fn failed_lookups_retry_with_backoff_and_follow_the_name() {
    let ctx = Ctx::new();
    let answer: Arc<Mutex<Option<IpAddr>>> = Arc::new(Mutex::new(None));
    let times: Arc<Mutex<Vec<Instant>>> = Arc::new(Mutex::new(Vec::new()));
    let (a, t) = (Arc::clone(&answer), Arc::clone(&times));
    ctx.set_lookup(Arc::new(move |host: &str| {
        assert_eq!(host, "moving.test");
        t.lock().push(Instant::now());
        a.lock()
            .map(|ip| vec![ip])
            .ok_or_else(|| std::io::ErrorKind::NotFound.into())
    }));
    let pull = ctx.socket(kind::PULL).unwrap();
    timeouts(&pull);
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let port = port_of(&last_endpoint(&pull));
    let push = ctx.socket(kind::PUSH).unwrap();
    timeouts(&push);
    set_int(&push, id::RECONNECT_IVL, 20);
    set_int(&push, id::RECONNECT_IVL_MAX, 80);
    // An unresolvable name is not refused: it is retried.
    push.connect(&format!("tcp://moving.test:{port}")).unwrap();
    send(&push, b"one", false);
    let start = Instant::now();
    while times.lock().len() < 5 {
        assert!(start.elapsed() < Duration::from_secs(5));
        std::thread::sleep(Duration::from_millis(5));
    }
    {
        let t = times.lock();
        let gaps: Vec<Duration> = t.windows(2).map(|w| w[1] - w[0]).collect();
        // 20, 40, 80, 80 ms: the backoff doubles up to RECONNECT_IVL_MAX.
        assert!(gaps[0] >= Duration::from_millis(15), "{gaps:?}");
        assert!(gaps[3] >= Duration::from_millis(70), "{gaps:?}");
    }
    *answer.lock() = Some(IpAddr::from([127, 0, 0, 1]));
    assert_eq!(recv(&pull).data(), b"one");
    // The peer moves to another address under the same name: the
    // reconnect resolves again and finds it.
    pull.close();
    let moved = ctx.socket(kind::PULL).unwrap();
    timeouts(&moved);
    let mut bound = false;
    for _ in 0..100 {
        if moved.bind(&format!("tcp://127.0.0.2:{port}")).is_ok() {
            bound = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(bound);
    *answer.lock() = Some(IpAddr::from([127, 0, 0, 2]));
    // A message sent before the push noticed the old peer left is lost
    // with that connection (as in libzmq): send until one gets through.
    set_int(&moved, id::RCVTIMEO, 100);
    let start = Instant::now();
    loop {
        send(&push, b"two", false);
        if let Ok(m) = moved.recv(0) {
            assert_eq!(m.data(), b"two");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(5));
    }
    push.close();
    moved.close();
    ctx.terminate();
}

#[test]
fn connect_refuses_bad_syntax_only() {
    let ctx = Ctx::new();
    ctx.set_lookup(Arc::new(|_: &str| Err(std::io::ErrorKind::NotFound.into())));
    let s = ctx.socket(kind::PUSH).unwrap();
    set_int(&s, id::LINGER, 0);
    s.connect("tcp://no.such.host.invalid:5555").unwrap();
    s.connect("tcp://[::1]:5555").unwrap();
    s.connect("tcp://nosuchif0:0;127.0.0.1:5555").unwrap();
    for bad in ["tcp://*:5555", "tcp://foo", "tcp://foo:abc", "tcp://-x:1"] {
        assert!(matches!(s.connect(bad), Err(Error::Inval)), "{bad}");
    }
    // A later disconnect of the unresolvable endpoint works as for any.
    s.disconnect("tcp://no.such.host.invalid:5555").unwrap();
    s.close();
    ctx.terminate();
}
