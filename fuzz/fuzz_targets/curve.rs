#![no_main]
//! CURVE: a real client and server (fixed long-term keys) handshaking and
//! exchanging messages in memory, the input choosing which bytes in flight
//! to flip, drop or cut, and how the ZAP handler answers; or, with the
//! first byte's top bit, arbitrary bytes straight into one role after the
//! greeting. Either side may fail; nothing may panic, and a message
//! delivered must be one that was sent.
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use zeroize::Zeroizing;
use zmq::msg::{flags, Msg};
use zmq::zmtp::{Config, Connection, CurveKeys, Event, Mechanism};

const SERVER_SECRET: [u8; 32] = [7; 32];
const CLIENT_SECRET: [u8; 32] = [9; 32];

fn keys(server: bool) -> Mechanism {
    let spub = zmq::zmtp::curve::public_key(&SERVER_SECRET);
    let (public, secret) = if server {
        (spub, SERVER_SECRET)
    } else {
        (zmq::zmtp::curve::public_key(&CLIENT_SECRET), CLIENT_SECRET)
    };
    Mechanism::Curve(CurveKeys {
        public_key: public,
        secret_key: Zeroizing::new(secret),
        server_key: spub,
    })
}

fn config(server: bool) -> Config {
    let mut c = Config::new(zmq::socket::kind::DEALER);
    c.routing_id = b"fuzz".to_vec();
    c.maxmsgsize = 1 << 16;
    c.as_server = server;
    c.mechanism = keys(server);
    c
}

fn answer(c: &mut Connection, how: u8, now: Instant) {
    while let Some(e) = c.poll_event() {
        if let Event::ZapRequest(_) = e {
            if how & 1 == 0 {
                let _ = c.zap_unavailable(now);
            } else {
                let status: &[u8] = if how & 2 == 0 { b"200" } else { b"400" };
                let frames: [&[u8]; 7] = [b"", b"1.0", b"1", status, b"", b"u", b""];
                let msgs: Vec<Msg> = frames
                    .iter()
                    .enumerate()
                    .map(|(i, f)| {
                        let mut m = Msg::from_slice(f);
                        m.set_flags(if i < 6 { flags::MORE } else { 0 });
                        m
                    })
                    .collect();
                let _ = c.zap_reply(&msgs, now);
            }
        } else if let Event::Message(m) = e {
            assert!(m.data().starts_with(b"msg-"), "a message nobody sent");
        }
    }
}

fn greeting() -> Vec<u8> {
    let mut g = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 1];
    g.extend_from_slice(b"CURVE");
    g.resize(64, 0);
    g
}

fuzz_target!(|data: &[u8]| {
    let [mode, how, rest @ ..] = data else {
        return;
    };
    let now = Instant::now();
    if mode & 0x80 != 0 {
        // Raw bytes into one role.
        let mut c = Connection::new(config(mode & 1 == 1), now);
        if c.handle_input(&greeting(), now).is_err() {
            return;
        }
        let mut p = rest;
        while !p.is_empty() {
            match c.handle_input(p, now) {
                Ok(0) => break,
                Ok(n) => {
                    p = &p[n..];
                    answer(&mut c, *how, now);
                }
                Err(_) => return,
            }
        }
        return;
    }
    let mut sides = [Connection::new(config(false), now), Connection::new(config(true), now)];
    let mut dead = [false, false];
    let mut cursor = 0usize;
    for round in 0..12 {
        for from in 0..2 {
            if sides[0].is_ready() && sides[1].is_ready() && round % 3 == 0 {
                let _ = sides[from].send(Msg::from_slice(format!("msg-{round}").as_bytes()));
            }
            let mut bytes = sides[from].transmit_slices().concat();
            sides[from].advance_transmit(bytes.len());
            // The input's bytes, in turn, say what happens to this chunk.
            if let Some(&op) = rest.get(cursor) {
                cursor += 1;
                let at = rest.get(cursor).copied().unwrap_or(0) as usize;
                cursor += 1;
                if !bytes.is_empty() {
                    let i = at % bytes.len();
                    match op % 4 {
                        0 => {}
                        1 => bytes[i] ^= 1 << (op >> 5),
                        2 => bytes.truncate(i),
                        _ => bytes[i] = op,
                    }
                }
            }
            let to = 1 - from;
            if dead[to] || bytes.is_empty() {
                continue;
            }
            let mut p = &bytes[..];
            while !p.is_empty() {
                match sides[to].handle_input(p, now) {
                    Ok(0) => break,
                    Ok(n) => p = &p[n..],
                    Err(_) => {
                        dead[to] = true;
                        break;
                    }
                }
            }
            answer(&mut sides[to], *how, now);
        }
    }
});
