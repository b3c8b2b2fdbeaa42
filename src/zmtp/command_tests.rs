//! Unit tests of `command`.

use super::*;

#[test]
fn roundtrip() {
    let cmds = [
        Command::Ready(vec![
            ("Socket-Type".into(), b"DEALER".to_vec()),
            ("Identity".into(), b"".to_vec()),
        ]),
        Command::Error(b"no".to_vec()),
        Command::Ping {
            ttl_ds: 30,
            context: b"ctx".to_vec(),
        },
        Command::Pong(b"ctx".to_vec()),
        Command::Subscribe(b"topic".to_vec()),
        Command::Cancel(b"".to_vec()),
    ];
    for c in cmds {
        assert_eq!(parse(&encode(&c)).unwrap(), c);
    }
}

#[test]
fn truncated_properties_are_errors() {
    let full = encode(&Command::Ready(vec![(
        "Socket-Type".into(),
        b"REQ".to_vec(),
    )]));
    for cut in 1..full.len() - 1 {
        let r = parse(&full[..cut]);
        assert!(r.is_err() || cut <= 6, "cut {cut}: {r:?}");
    }
}
