#![no_main]
//! A whole connection fed peer bytes, with the socket type and our
//! version picked from the first bytes and timers fired along the way.
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use zmq::zmtp::{Config, Connection, Version};

fuzz_target!(|data: &[u8]| {
    let [t, v, chunk, rest @ ..] = data else {
        return;
    };
    let mut cfg = Config::new(*t as i32 % 11);
    cfg.routing_id = b"fuzz".to_vec();
    cfg.maxmsgsize = 1 << 20;
    cfg.heartbeat_ivl = Some(Duration::from_millis(5));
    let version = [Version::V3_1, Version::V3_0, Version::V2_0, Version::V1_0][*v as usize & 3];
    let now = Instant::now();
    let mut c = Connection::with_max_version(cfg, now, version);
    let chunk = 1 + *chunk as usize;
    for (i, piece) in rest.chunks(chunk).enumerate() {
        let mut p = piece;
        while !p.is_empty() {
            match c.handle_input(p, now) {
                Ok(n) => {
                    p = &p[n..];
                    let mut polled = false;
                    while c.poll_event().is_some() {
                        polled = true;
                    }
                    if n == 0 && !polled {
                        break;
                    }
                }
                Err(_) => return,
            }
        }
        let _ = c.send(zmq::msg::Msg::from_slice(b"\x01x"));
        let out: usize = c.transmit_slices().iter().map(|s| s.len()).sum();
        c.advance_transmit(out / 2 + 1);
        if c.handle_timeout(now + Duration::from_millis(i as u64 * 3))
            .is_err()
        {
            return;
        }
    }
});
