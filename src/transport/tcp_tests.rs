//! Unit tests of `tcp`. The expected answers are libzmq 4.3.4's, taken
//! from C programs run against Debian's libzmq.

use super::*;

fn tuning(ipv6: bool) -> Tuning {
    let mut o = Options::new(0);
    o.ipv6 = ipv6;
    Tuning::from_options(&o)
}

fn bound(address: &str, ipv6: bool) -> Result<String> {
    bind(address, &tuning(ipv6)).map(|(_, ep)| ep)
}

/// What a bind of `address` resolves to, port left out.
fn bind_host(address: &str, ipv6: bool) -> Result<String> {
    let ep = bound(address, ipv6)?;
    Ok(ep
        .rsplit_once(':')
        .map(|(h, _)| h.to_string())
        .unwrap_or(ep))
}

#[test]
fn connect_checks_syntax_only() {
    let t = tuning(false);
    // zmq_connect accepts these and resolves later (retrying on failure).
    for ok in [
        "no.such.host.invalid:5555",
        "foo:1abc",
        "127.0.0.1:0",
        "[::1]:5555",
        "127.0.0.1:0;127.0.0.1:5555",
        "nosuchif0:0;127.0.0.1:5555",
        "127.0.0.1:99999",
        "x_y.z:1",
        ":5555",
        "[]:5",
        "lo:5555",
        "localhost:5555",
    ] {
        assert!(ConnectAddress::parse(ok, &t).is_ok(), "{ok}");
    }
    for bad in [
        "*:5555", "foo", "foo:", "foo:abc", "-x:1", "a b:1", "_x:1", "", "é:1",
    ] {
        assert!(
            matches!(ConnectAddress::parse(bad, &t), Err(Error::Inval)),
            "{bad}"
        );
    }
}

#[test]
fn numeric_peers_need_no_lookup() {
    let t = tuning(false);
    let lookup = system_lookup();
    let a = ConnectAddress::parse("127.0.0.1:5555", &t).unwrap();
    assert!(!a.needs_lookup());
    let r = a.resolve(&lookup).unwrap();
    assert_eq!(r.peer, "127.0.0.1:5555".parse().unwrap());
    assert_eq!(r.source, None);
    // An IPv6 literal without ZMQ_IPV6 fails at each attempt, as libzmq's.
    let a = ConnectAddress::parse("[::1]:5555", &t).unwrap();
    assert!(!a.needs_lookup());
    assert!(a.resolve(&lookup).is_err());
    assert!(ConnectAddress::parse("[::1]:5555", &tuning(true))
        .unwrap()
        .resolve(&lookup)
        .is_ok());
    // Port: "0" is port 0; otherwise atoi truncated to 16 bits.
    let port = |a: &str| {
        ConnectAddress::parse(a, &t)
            .unwrap()
            .resolve(&lookup)
            .map(|r| r.peer.port())
    };
    assert_eq!(port("127.0.0.1:0").unwrap(), 0);
    assert_eq!(port("127.0.0.1:99999").unwrap(), 34463);
    assert_eq!(port("127.0.0.1:1abc").unwrap(), 1);
    assert!(port("127.0.0.1:00").is_err());
}

#[test]
fn names_go_through_the_lookup() {
    let asked = Arc::new(parking_lot::Mutex::new(Vec::new()));
    let log = Arc::clone(&asked);
    let lookup: Lookup = Arc::new(move |host: &str| {
        log.lock().push(host.to_string());
        Ok(vec!["::2".parse().unwrap(), "10.9.8.7".parse().unwrap()])
    });
    let a = ConnectAddress::parse("some.name:80", &tuning(false)).unwrap();
    assert!(a.needs_lookup());
    assert_eq!(
        a.resolve(&lookup).unwrap().peer,
        "10.9.8.7:80".parse().unwrap()
    );
    // With ZMQ_IPV6, IPv6 first, as getaddrinfo(AF_INET6) answers.
    let a = ConnectAddress::parse("[some.name]:80", &tuning(true)).unwrap();
    assert_eq!(
        a.resolve(&lookup).unwrap().peer,
        "[::2]:80".parse().unwrap()
    );
    assert_eq!(*asked.lock(), ["some.name", "some.name"]);
    let none: Lookup = Arc::new(|_: &str| Err(io::ErrorKind::NotFound.into()));
    assert!(a.resolve(&none).is_err());
    let v6_only: Lookup = Arc::new(|_: &str| Ok(vec!["::2".parse().unwrap()]));
    let a = ConnectAddress::parse("some.name:80", &tuning(false)).unwrap();
    assert!(a.resolve(&v6_only).is_err());
}

#[test]
fn source_part_takes_interfaces_and_wildcards() {
    let lookup = system_lookup();
    let r = ConnectAddress::parse("lo:0;127.0.0.1:5555", &tuning(false))
        .unwrap()
        .resolve(&lookup)
        .unwrap();
    assert_eq!(r.source, Some("127.0.0.1:0".parse().unwrap()));
    let r = ConnectAddress::parse("lo:0;[::1]:5555", &tuning(true))
        .unwrap()
        .resolve(&lookup)
        .unwrap();
    assert_eq!(r.source, Some("[::1]:0".parse().unwrap()));
    let a = ConnectAddress::parse("nosuchif0:0;127.0.0.1:5555", &tuning(false)).unwrap();
    assert!(!a.needs_lookup());
    assert!(a.resolve(&lookup).is_err());
    // A source never asks DNS.
    let a = ConnectAddress::parse("localhost:0;127.0.0.1:5555", &tuning(false)).unwrap();
    assert!(a.resolve(&lookup).is_err());
}

#[test]
fn bind_resolves_like_libzmq() {
    assert_eq!(bind_host("127.0.0.1:*", false).unwrap(), "tcp://127.0.0.1");
    assert_eq!(bind_host("lo:*", false).unwrap(), "tcp://127.0.0.1");
    assert_eq!(bind_host("lo:*", true).unwrap(), "tcp://[::1]");
    assert_eq!(bind_host("lo%1:*", false).unwrap(), "tcp://127.0.0.1");
    assert_eq!(
        bind_host("[127.0.0.1]:*", false).unwrap(),
        "tcp://127.0.0.1"
    );
    assert_eq!(bind_host("127.1:*", false).unwrap(), "tcp://127.0.0.1");
    assert_eq!(bind_host("0x7f000001:*", false).unwrap(), "tcp://127.0.0.1");
    assert_eq!(bind_host("*:0", false).unwrap(), "tcp://0.0.0.0");
    assert_eq!(bind_host("*:*", true).unwrap(), "tcp://[::]");
    assert_eq!(bind_host("[::1]:*", true).unwrap(), "tcp://[::1]");
    assert_eq!(
        bind_host("127.0.0.1:*", true).unwrap(),
        "tcp://[::ffff:127.0.0.1]"
    );
    for (address, ipv6) in [
        ("nosuchif0:*", false),
        ("localhost:*", false),
        (":5555", false),
        ("[::1]:*", false),
        ("[::1%lo]:*", false),
    ] {
        assert!(
            matches!(bound(address, ipv6), Err(Error::NoDev)),
            "{address}"
        );
    }
    for address in ["127.0.0.1:abc", "127.0.0.1", "[fe80::1%]:*"] {
        assert!(
            matches!(bound(address, false), Err(Error::Inval)),
            "{address}"
        );
    }
}

#[test]
fn interface_traffic_over_lo() {
    // A listener bound by interface name takes a connect resolved by name.
    let (mut l, ep) = bind("lo:*", &tuning(false)).unwrap();
    let port: u16 = ep.rsplit_once(':').unwrap().1.parse().unwrap();
    let to = ConnectAddress::parse(&format!("lo:0;127.0.0.1:{port}"), &tuning(false)).unwrap();
    let r = to.resolve(&system_lookup()).unwrap();
    let _c = to.connect(&r).unwrap();
    let start = std::time::Instant::now();
    loop {
        if matches!(
            l.accept(&Default::default()),
            Ok(crate::transport::Accepted::Stream(_))
        ) {
            break;
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

#[test]
fn inet_aton_forms() {
    for (s, ip) in [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.2", "10.1.0.2"),
        ("0x7f000001", "127.0.0.1"),
        ("0177.0.0.01", "127.0.0.1"),
        ("0", "0.0.0.0"),
    ] {
        assert_eq!(inet_aton(s), Some(ip.parse().unwrap()), "{s}");
    }
    for s in [
        "",
        "1.2.3.4.5",
        "256.1",
        "1.2.3.256",
        "1..2",
        "08",
        "+1",
        "a.b",
    ] {
        assert_eq!(inet_aton(s), None, "{s}");
    }
}
