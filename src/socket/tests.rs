//! Behaviour of the socket types through the core API (the C tests check
//! the same through zmq.h, against real libzmq's expectations).

use super::*;
use crate::ctx::Ctx;

fn msg(data: &[u8]) -> Msg {
    Msg::from_slice(data)
}

fn send(s: &Socket, data: &[u8], more: bool) {
    s.send(&mut msg(data), if more { SNDMORE } else { 0 })
        .unwrap();
}

fn recv(s: &Socket) -> Vec<u8> {
    s.set_option(id::RCVTIMEO, &2000i32.to_ne_bytes()).unwrap();
    s.recv(0).unwrap().data().to_vec()
}

fn pair_of(ctx: &Arc<Ctx>, a: i32, b: i32, name: &str) -> (Arc<Socket>, Arc<Socket>) {
    let x = ctx.socket(a).unwrap();
    let y = ctx.socket(b).unwrap();
    x.bind(&format!("inproc://{name}")).unwrap();
    y.connect(&format!("inproc://{name}")).unwrap();
    (x, y)
}

#[test]
fn pair_both_ways_and_connect_before_bind() {
    let ctx = Ctx::new();
    let a = ctx.socket(kind::PAIR).unwrap();
    let b = ctx.socket(kind::PAIR).unwrap();
    b.connect("inproc://p").unwrap();
    send(&b, b"early", false);
    a.bind("inproc://p").unwrap();
    assert_eq!(recv(&a), b"early");
    send(&a, b"back", false);
    assert_eq!(recv(&b), b"back");
    a.close();
    b.close();
    ctx.terminate();
}

#[test]
fn push_round_robin_pull_fair_queue() {
    let ctx = Ctx::new();
    let push = ctx.socket(kind::PUSH).unwrap();
    push.bind("inproc://rr").unwrap();
    let pulls: Vec<_> = (0..3)
        .map(|_| {
            let p = ctx.socket(kind::PULL).unwrap();
            p.connect("inproc://rr").unwrap();
            p
        })
        .collect();
    for i in 0..6u8 {
        send(&push, &[i], false);
    }
    for (i, p) in pulls.iter().enumerate() {
        assert_eq!(recv(p), vec![i as u8]);
        assert_eq!(recv(p), vec![i as u8 + 3]);
    }
}

#[test]
fn hwm_blocks_push_with_eagain() {
    let ctx = Ctx::new();
    let push = ctx.socket(kind::PUSH).unwrap();
    push.set_option(id::SNDHWM, &2i32.to_ne_bytes()).unwrap();
    let pull = ctx.socket(kind::PULL).unwrap();
    pull.set_option(id::RCVHWM, &3i32.to_ne_bytes()).unwrap();
    pull.bind("inproc://hwm").unwrap();
    push.connect("inproc://hwm").unwrap();
    let mut sent = 0;
    while push.send(&mut msg(b"x"), DONTWAIT).is_ok() {
        sent += 1;
    }
    assert_eq!(sent, 5);
    recv(&pull);
    push.send(&mut msg(b"y"), DONTWAIT).unwrap();
}

#[test]
fn req_rep_envelope_and_efsm() {
    let ctx = Ctx::new();
    let (rep, req) = pair_of(&ctx, kind::REP, kind::REQ, "rr1");
    assert_eq!(req.recv(DONTWAIT).unwrap_err(), Error::Fsm);
    assert_eq!(rep.send(&mut msg(b"x"), 0).unwrap_err(), Error::Fsm);
    send(&req, b"ping", false);
    assert_eq!(req.send(&mut msg(b"again"), 0).unwrap_err(), Error::Fsm);
    assert_eq!(recv(&rep), b"ping");
    send(&rep, b"pong", false);
    assert_eq!(recv(&req), b"pong");
}

#[test]
fn router_dealer_routing_ids() {
    let ctx = Ctx::new();
    let router = ctx.socket(kind::ROUTER).unwrap();
    router.bind("inproc://rt").unwrap();
    let dealer = ctx.socket(kind::DEALER).unwrap();
    dealer.set_option(id::ROUTING_ID, b"bob").unwrap();
    dealer.connect("inproc://rt").unwrap();
    send(&dealer, b"hi", false);
    assert_eq!(recv(&router), b"bob");
    assert_eq!(recv(&router), b"hi");
    send(&router, b"bob", true);
    send(&router, b"yo", false);
    assert_eq!(recv(&dealer), b"yo");
    router
        .set_option(id::ROUTER_MANDATORY, &1i32.to_ne_bytes())
        .unwrap();
    let mut m = msg(b"nobody");
    m.set_more(true);
    assert_eq!(
        router.send(&mut m, SNDMORE).unwrap_err(),
        Error::HostUnreach
    );
}

#[test]
fn pub_sub_prefix_filter() {
    let ctx = Ctx::new();
    let (publ, sub) = pair_of(&ctx, kind::PUB, kind::SUB, "ps");
    sub.set_option(id::SUBSCRIBE, b"a").unwrap();
    // The subscription reaches PUB on its next call.
    send(&publ, b"b-dropped", false);
    send(&publ, b"a-kept", false);
    assert_eq!(recv(&sub), b"a-kept");
    assert_eq!(sub.recv(DONTWAIT).unwrap_err(), Error::Again);
}

#[test]
fn xpub_sees_subscriptions() {
    let ctx = Ctx::new();
    let (xpub, sub) = pair_of(&ctx, kind::XPUB, kind::SUB, "xp");
    sub.set_option(id::SUBSCRIBE, b"t").unwrap();
    assert_eq!(recv(&xpub), b"\x01t");
    sub.close();
    assert_eq!(recv(&xpub), b"\x00t");
}

#[test]
fn term_wakes_blocked_recv() {
    let ctx = Ctx::new();
    let s = ctx.socket(kind::PULL).unwrap();
    s.bind("inproc://term").unwrap();
    let s2 = Arc::clone(&s);
    let t = std::thread::spawn(move || {
        let r = s2.recv(0);
        s2.close();
        r.unwrap_err()
    });
    std::thread::sleep(Duration::from_millis(50));
    ctx.terminate();
    assert_eq!(t.join().unwrap(), Error::Term);
}
