//! Unit tests of `greeting`.

use super::*;

#[test]
fn roundtrip_v31_byte_by_byte() {
    let g = encode("PLAIN", true);
    let mut d = GreetingDecoder::default();
    for (i, b) in g.iter().enumerate() {
        match d.feed(&[*b]).unwrap() {
            Progress::More => assert!(i < 63),
            Progress::Done { greeting, consumed } => {
                assert_eq!(i, 63);
                assert_eq!(consumed, 1);
                assert_eq!(greeting.version, Version::V3_1);
                assert_eq!(greeting.mechanism, "PLAIN");
                assert!(greeting.as_server);
            }
        }
    }
}

#[test]
fn stops_at_greeting_end() {
    let mut bytes = encode("NULL", false).to_vec();
    bytes.extend_from_slice(b"\x04\x05READY");
    let mut d = GreetingDecoder::default();
    match d.feed(&bytes).unwrap() {
        Progress::Done { consumed, .. } => assert_eq!(consumed, 64),
        p => panic!("{p:?}"),
    }
}

#[test]
fn detects_old_versions() {
    let mut d = GreetingDecoder::default();
    let p = d.feed(&[0x05, 0x00, b'h']).unwrap();
    assert!(matches!(p, Progress::Done { greeting, .. } if greeting.version == Version::V1_0));
    let mut d = GreetingDecoder::default();
    let v2 = [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 1, 5];
    let p = d.feed(&v2).unwrap();
    assert!(matches!(p, Progress::Done { greeting, consumed: 12 }
        if greeting.version == Version::V2_0 && greeting.socket_type == Some(5)));
}

#[test]
fn rejects_garbage_mechanism() {
    let mut g = encode("NULL", false);
    g[12] = 0x01;
    assert!(GreetingDecoder::default().feed(&g).is_err());
    let mut g = encode("NULL", false);
    g[17] = b'X';
    assert!(GreetingDecoder::default().feed(&g).is_err());
}

#[test]
fn versioned_v1_reads_twelve_bytes() {
    let mut d = GreetingDecoder::default();
    let g = [0xFF, 0, 0, 0, 0, 0, 0, 0, 1, 0x7F, 0, 5, 4, 0];
    let p = d.feed(&g).unwrap();
    assert!(matches!(p, Progress::Done { greeting, consumed: 12 }
        if greeting.version == Version::V1_0 && !greeting.unversioned));
}

#[test]
fn staged_greeting_matches_libzmq() {
    // Captured from libzmq 4.3.4, DEALER with ZMQ_ROUTING_ID "abc".
    assert_eq!(signature(3), [0xFF, 0, 0, 0, 0, 0, 0, 0, 4, 0x7F]);
    let mut whole = signature(0).to_vec();
    whole.push(MAJOR);
    whole.extend_from_slice(&encode_rest(1, "NULL"));
    assert_eq!(whole, encode("NULL", false));
}
