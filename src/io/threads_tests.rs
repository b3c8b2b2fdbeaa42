//! Several I/O threads (`ZMQ_IO_THREADS`): placement by load and
//! `ZMQ_AFFINITY`, traffic over all of them, a clean term, and libzmq's
//! answers for 0 threads.

use std::sync::Arc;
use std::time::Duration;

use super::tests::{last_endpoint, recv, send, timeouts};
use crate::ctx::{opt, Ctx};
use crate::error::Error;
use crate::options::id;
use crate::socket::{kind, Socket};

fn ctx_with(threads: i32) -> Arc<Ctx> {
    let ctx = Ctx::new();
    ctx.set(opt::IO_THREADS, threads).unwrap();
    ctx
}

fn socket(ctx: &Arc<Ctx>, kind: i32) -> Arc<Socket> {
    let s = ctx.socket(kind).unwrap();
    timeouts(&s);
    s
}

fn loads(ctx: &Ctx) -> Vec<usize> {
    ctx.io_thread().unwrap().loads()
}

#[test]
fn many_tcp_pairs_over_three_threads() {
    let ctx = ctx_with(3);
    let mut pairs = Vec::new();
    for _ in 0..12 {
        let pull = socket(&ctx, kind::PULL);
        pull.bind("tcp://127.0.0.1:*").unwrap();
        let push = socket(&ctx, kind::PUSH);
        push.connect(&last_endpoint(&pull)).unwrap();
        pairs.push((push, pull));
    }
    let senders: Vec<_> = pairs
        .iter()
        .map(|(push, _)| {
            let push = Arc::clone(push);
            std::thread::spawn(move || {
                for i in 0..500u32 {
                    send(&push, &i.to_be_bytes(), false);
                }
            })
        })
        .collect();
    for (_, pull) in &pairs {
        for i in 0..500u32 {
            assert_eq!(recv(pull).data(), i.to_be_bytes());
        }
    }
    for s in senders {
        s.join().unwrap();
    }
    // 12 listeners, 12 connects, 12 accepted connections over 3 threads.
    let l = loads(&ctx);
    assert_eq!(l.len(), 3);
    assert_eq!(l.iter().sum::<usize>(), 36, "{l:?}");
    assert!(l.iter().all(|n| *n >= 10), "{l:?}");
    for (push, pull) in pairs {
        push.close();
        pull.close();
    }
    ctx.terminate();
}

#[test]
fn one_listener_spreads_its_connections() {
    let ctx = ctx_with(4);
    let pull = socket(&ctx, kind::PULL);
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let ep = last_endpoint(&pull);
    let pushes: Vec<_> = (0..8)
        .map(|i| {
            let push = socket(&ctx, kind::PUSH);
            push.connect(&ep).unwrap();
            send(&push, &[i], false);
            push
        })
        .collect();
    let mut got: Vec<u8> = (0..8).map(|_| recv(&pull).data()[0]).collect();
    got.sort();
    assert_eq!(got, (0..8).collect::<Vec<u8>>());
    let l = loads(&ctx);
    assert_eq!(l.iter().sum::<usize>(), 17, "{l:?}");
    assert!(l.iter().all(|n| *n >= 3), "{l:?}");
    // The bound socket closes first: its connections on every thread go,
    // and term does not wait for any.
    pull.close();
    for p in pushes {
        p.close();
    }
    ctx.terminate();
}

#[test]
fn unbind_ends_connections_on_other_threads() {
    let ctx = ctx_with(2);
    let pull = socket(&ctx, kind::PULL);
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let ep = last_endpoint(&pull);
    let pushes: Vec<_> = (0..4)
        .map(|_| {
            let push = socket(&ctx, kind::PUSH);
            push.connect(&ep).unwrap();
            send(&push, b"x", false);
            push
        })
        .collect();
    for _ in 0..4 {
        recv(&pull);
    }
    // Listener and accepted sessions gone; the 4 connects stay, retrying.
    pull.unbind(&ep).unwrap();
    let start = std::time::Instant::now();
    while loads(&ctx).iter().sum::<usize>() != 4 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            loads(&ctx)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    pull.close();
    for p in pushes {
        p.close();
    }
    ctx.terminate();
}

#[test]
fn affinity_picks_threads() {
    let ctx = ctx_with(3);
    let pull = socket(&ctx, kind::PULL);
    pull.set_option(id::AFFINITY, &2u64.to_ne_bytes()).unwrap();
    pull.bind("tcp://127.0.0.1:*").unwrap();
    let push = socket(&ctx, kind::PUSH);
    push.set_option(id::AFFINITY, &4u64.to_ne_bytes()).unwrap();
    push.connect(&last_endpoint(&pull)).unwrap();
    send(&push, b"x", false);
    assert_eq!(recv(&pull).data(), b"x");
    // Thread 1: the listener and the connection it accepted; thread 2: the
    // connect.
    assert_eq!(loads(&ctx), [0, 2, 1]);
    // An affinity naming only threads that do not exist: EMTHREAD.
    assert!(matches!(ctx.io_thread_for(8), Err(Error::MThread)));
    assert!(ctx.io_thread_for(8 | 1).is_ok());
    let nowhere = socket(&ctx, kind::PUSH);
    nowhere
        .set_option(id::AFFINITY, &8u64.to_ne_bytes())
        .unwrap();
    assert!(matches!(
        nowhere.bind("tcp://127.0.0.1:*"),
        Err(Error::MThread)
    ));
    assert!(matches!(
        nowhere.connect("tcp://127.0.0.1:5555"),
        Err(Error::MThread)
    ));
    nowhere.close();
    push.close();
    pull.close();
    ctx.terminate();
}

#[test]
fn zero_io_threads_leaves_only_inproc() {
    let ctx = ctx_with(0);
    let pull = socket(&ctx, kind::PULL);
    assert!(matches!(
        pull.bind("tcp://127.0.0.1:*"),
        Err(Error::MThread)
    ));
    assert!(matches!(
        pull.connect("tcp://127.0.0.1:5555"),
        Err(Error::MThread)
    ));
    assert!(matches!(pull.bind("ipc://*"), Err(Error::MThread)));
    pull.bind("inproc://zero").unwrap();
    let push = socket(&ctx, kind::PUSH);
    push.connect("inproc://zero").unwrap();
    send(&push, b"x", false);
    assert_eq!(recv(&pull).data(), b"x");
    push.close();
    pull.close();
    ctx.terminate();
}

#[test]
fn io_threads_fixed_by_the_first_socket() {
    let ctx = ctx_with(1);
    let pull = socket(&ctx, kind::PULL);
    // As libzmq: accepted, reported, but the pool was sized already.
    ctx.set(opt::IO_THREADS, 3).unwrap();
    assert_eq!(ctx.get(opt::IO_THREADS).unwrap(), 3);
    pull.bind("tcp://127.0.0.1:*").unwrap();
    assert_eq!(loads(&ctx).len(), 1);
    pull.close();
    ctx.terminate();
}
