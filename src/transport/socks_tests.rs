use super::*;

fn client(dest: &str, user: &[u8], pass: &[u8]) -> Client {
    match Client::new(dest, user, pass) {
        Ok(c) => c,
        Err(e) => panic!("{dest}: {e}"),
    }
}

/// Takes everything the client has to say.
fn drain(c: &mut Client) -> Vec<u8> {
    let out = c.output().to_vec();
    c.advance_output(out.len());
    out
}

const REPLY_V4: [u8; 10] = [5, 0, 0, 1, 10, 0, 0, 1, 0x1f, 0x90];

#[test]
fn no_auth_ipv4_destination() {
    let mut c = client("127.0.0.1:5555", b"", b"");
    assert_eq!(drain(&mut c), [5, 1, 0]);
    assert_eq!(c.input(&[5, 0]), Ok(2));
    assert_eq!(drain(&mut c), [5, 1, 0, 1, 127, 0, 0, 1, 0x15, 0xb3]);
    assert!(!c.is_done());
    assert_eq!(c.input(&REPLY_V4), Ok(10));
    assert!(c.is_done());
    assert!(c.output().is_empty());
}

#[test]
fn destination_forms() {
    let request = |dest: &str| {
        let mut c = client(dest, b"", b"");
        drain(&mut c);
        assert_eq!(c.input(&[5, 0]), Ok(2));
        drain(&mut c)
    };
    // A name goes to the proxy unresolved.
    assert_eq!(
        request("example.org:80"),
        [&[5, 1, 0, 3, 11][..], b"example.org", &[0, 80]].concat()
    );
    let mut v6 = vec![5, 1, 0, 4];
    v6.extend_from_slice(&Ipv6Addr::LOCALHOST.octets());
    v6.extend_from_slice(&[0x04, 0x00]);
    assert_eq!(request("[::1]:1024"), v6);
    // The source part is ours, not the proxy's.
    assert_eq!(
        request("192.168.1.2;10.0.0.1:7"),
        [5, 1, 0, 1, 10, 0, 0, 1, 0, 7]
    );
    // libzmq reads the port with atoi and casts it to 16 bits.
    assert_eq!(
        request("h:65537"),
        [&[5, 1, 0, 3, 1][..], b"h", &[0, 1]].concat()
    );
    assert_eq!(
        request("h:12x"),
        [&[5, 1, 0, 3, 1][..], b"h", &[0, 12]].concat()
    );
}

#[test]
fn unusable_destinations() {
    for dest in ["host:0", "host:*", "host:", "nocolon", "host:65536"] {
        assert!(
            matches!(Client::new(dest, b"", b""), Err(SocksError::BadDestination)),
            "{dest}"
        );
    }
    let long = format!("{}:80", "a".repeat(256));
    assert!(Client::new(&long, b"", b"").is_err());
    let longest = format!("{}:80", "a".repeat(255));
    assert!(Client::new(&longest, b"", b"").is_ok());
}

#[test]
fn username_password() {
    let mut c = client("10.0.0.1:80", b"user", b"secret");
    assert_eq!(drain(&mut c), [5, 1, 2]);
    assert_eq!(c.input(&[5, 2]), Ok(2));
    assert_eq!(
        drain(&mut c),
        [&[1, 4][..], b"user", &[6], b"secret"].concat()
    );
    assert_eq!(c.input(&[1, 0]), Ok(2));
    assert_eq!(drain(&mut c), [5, 1, 0, 1, 10, 0, 0, 1, 0, 80]);
    assert_eq!(c.input(&REPLY_V4), Ok(10));
    assert!(c.is_done());
}

#[test]
fn proxy_may_skip_auth() {
    // As libzmq: offered username/password, the proxy may want none.
    let mut c = client("10.0.0.1:80", b"user", b"pw");
    drain(&mut c);
    assert_eq!(c.input(&[5, 0]), Ok(2));
    assert_eq!(drain(&mut c)[..4], [5, 1, 0, 1]);
}

#[test]
fn byte_at_a_time_and_trailing_data() {
    let mut c = client("h:1", b"u", b"p");
    let mut script = vec![5, 2, 1, 0];
    // A domain-name reply, then the destination's first bytes.
    script.extend_from_slice(&[5, 0, 0, 3, 3, b'a', b'b', b'c', 0, 1]);
    for (i, b) in script.iter().enumerate() {
        assert!(!c.is_done(), "done early at {i}");
        assert_eq!(c.input(&[*b]), Ok(1), "byte {i}");
    }
    assert!(c.is_done());
    // Past the reply, nothing is taken.
    assert_eq!(c.input(&[0xff, 0]), Ok(0));

    let mut c = client("h:1", b"", b"");
    drain(&mut c);
    let mut all = vec![5, 0];
    all.extend_from_slice(&REPLY_V4);
    all.extend_from_slice(&[0xff, 0, 0, 0]);
    assert_eq!(c.input(&all), Ok(12));
    assert!(c.is_done());
}

#[test]
fn unsent_output_is_kept_in_order() {
    let mut c = client("h:1", b"", b"");
    c.advance_output(1);
    // The proxy answered before our greeting left (a fast, odd proxy).
    assert_eq!(c.input(&[5, 0]), Ok(2));
    let out = drain(&mut c);
    assert_eq!(out[..2], [1, 0]);
    assert_eq!(out[2..5], [5, 1, 0]);
}

#[test]
fn hostile_replies() {
    let cases: &[(&[u8], &[u8], SocksError)] = &[
        (b"", &[4, 0], SocksError::BadVersion(4)),
        (b"", &[5, 0xff], SocksError::NoAcceptableMethod(0xff)),
        (b"", &[5, 1], SocksError::NoAcceptableMethod(1)),
        (b"", &[5, 0, 5, 1], SocksError::ConnectRefused(1)),
        (b"", &[5, 0, 5, 0, 1], SocksError::Malformed),
        (b"", &[5, 0, 5, 0, 0, 9], SocksError::Malformed),
        (b"", &[5, 0, 0], SocksError::BadVersion(0)),
        (b"", &[5, 0, 5, 9], SocksError::ConnectRefused(9)),
        (b"u", &[5, 2, 5, 0], SocksError::BadVersion(5)),
        (b"u", &[5, 2, 1, 1], SocksError::AuthRefused(1)),
    ];
    for (user, reply, err) in cases {
        let mut c = client("h:1", user, b"p");
        drain(&mut c);
        assert_eq!(c.input(reply), Err(err.clone()), "{reply:?}");
    }
}

#[test]
fn every_byte_string_is_safe() {
    // Whatever the proxy says, the client answers Ok or Err, never panics,
    // and never takes more than it was given.
    let mut seed: u32 = 0x1234_5678;
    for _ in 0..20_000 {
        let mut c = client("[::1]:9", b"user", b"pw");
        let len = (seed % 40) as usize;
        let mut data = Vec::with_capacity(len);
        for _ in 0..len {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            // Mostly plausible bytes, so deeper states are reached.
            let b = (seed >> 16) as u8;
            data.push(if b < 160 { b % 6 } else { b });
        }
        let mut pos = 0;
        while pos < data.len() {
            let step = 1 + (seed as usize + pos) % 7;
            let end = (pos + step).min(data.len());
            match c.input(&data[pos..end]) {
                Ok(n) => {
                    assert!(n <= end - pos);
                    if n < end - pos {
                        assert!(c.is_done());
                        break;
                    }
                }
                Err(_) => break,
            }
            drain(&mut c);
            pos = end;
        }
    }
}
