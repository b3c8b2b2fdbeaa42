#![no_main]
//! Greeting decoder, byte by byte or whole, plus command parsing.
use libfuzzer_sys::fuzz_target;
use zmq::zmtp::command;
use zmq::zmtp::greeting::GreetingDecoder;

fuzz_target!(|data: &[u8]| {
    let mut d = GreetingDecoder::default();
    let _ = d.feed(data);
    let mut d = GreetingDecoder::default();
    for b in data {
        if d.feed(std::slice::from_ref(b)).is_err() {
            break;
        }
    }
    let _ = command::parse(data);
});
