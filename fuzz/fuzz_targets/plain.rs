#![no_main]
//! PLAIN's state machines fed arbitrary peer bytes after a valid greeting,
//! as client or server, with the ZAP handler's answer picked by the input
//! (approve, refuse, a malformed reply, no handler).
use std::time::Instant;

use libfuzzer_sys::fuzz_target;
use zeroize::Zeroizing;
use zmq::msg::{flags, Msg};
use zmq::zmtp::{Config, Connection, Event, Mechanism, PlainCredentials};

fn greeting(mech: &[u8]) -> Vec<u8> {
    let mut g = vec![0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 3, 1];
    g.extend_from_slice(mech);
    g.resize(64, 0);
    g
}

fn reply(kind: u8) -> Vec<Msg> {
    let status: &[u8] = match kind % 5 {
        0 => b"200",
        1 => b"300",
        2 => b"400",
        3 => b"500",
        _ => b"999",
    };
    let frames: [&[u8]; 7] = [b"", b"1.0", b"1", status, b"", b"user", b"\x01x\x00\x00\x00\x01y"];
    let n = if kind & 0x80 != 0 { 6 } else { 7 };
    frames[..n]
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut m = Msg::from_slice(f);
            m.set_flags(if i + 1 < n { flags::MORE } else { 0 });
            m
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let [role, zap, chunk, rest @ ..] = data else {
        return;
    };
    let mut cfg = Config::new(*role as i32 % 11);
    cfg.routing_id = b"fuzz".to_vec();
    cfg.maxmsgsize = 1 << 16;
    cfg.as_server = role & 0x80 != 0;
    cfg.mechanism = Mechanism::Plain(PlainCredentials {
        username: b"admin".to_vec(),
        password: Zeroizing::new(b"secret".to_vec()),
    });
    let now = Instant::now();
    let mut c = Connection::new(cfg, now);
    if c.handle_input(&greeting(b"PLAIN"), now).is_err() {
        return;
    }
    for piece in rest.chunks(1 + *chunk as usize) {
        let mut p = piece;
        while !p.is_empty() {
            match c.handle_input(p, now) {
                Ok(n) => {
                    p = &p[n..];
                    let mut polled = false;
                    while let Some(e) = c.poll_event() {
                        polled = true;
                        if let Event::ZapRequest(_) = e {
                            let _ = if zap & 0x40 != 0 {
                                c.zap_unavailable(now)
                            } else {
                                c.zap_reply(&reply(*zap), now)
                            };
                        }
                    }
                    if n == 0 && !polled {
                        break;
                    }
                }
                Err(_) => return,
            }
        }
        let _ = c.send(Msg::from_slice(b"x"));
        let out: usize = c.transmit_slices().iter().map(|s| s.len()).sum();
        c.advance_transmit(out);
        if c.close_requested() {
            return;
        }
    }
});
