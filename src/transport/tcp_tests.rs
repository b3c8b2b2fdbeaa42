//! Unit tests of `tcp`.

use super::*;

#[test]
fn parses_like_libzmq() {
    assert!(split_host_port("127.0.0.1").is_err());
    assert_eq!(split_host_port("[::1]:5").unwrap(), ("::1", "5"));
    assert_eq!(parse_port("*", true).unwrap(), 0);
    assert!(parse_port("*", false).is_err());
    assert!(parse_port("99999", true).is_err());
    let t = Tuning::from_options(&Options::new(0));
    assert!(ConnectAddress::parse("127.0.0.1:0", &t).is_err());
    assert!(ConnectAddress::parse("127.0.0.1:0;127.0.0.1:5555", &t).is_ok());
    let (_l, ep) = bind("127.0.0.1:*", &t).unwrap();
    assert!(ep.starts_with("tcp://127.0.0.1:"));
}
