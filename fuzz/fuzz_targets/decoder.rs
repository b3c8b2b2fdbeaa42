#![no_main]
//! Frame decoder for every version, fed in the chunking the first byte picks.
use libfuzzer_sys::fuzz_target;
use zmq::zmtp::frame::Decoder;
use zmq::zmtp::Version;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let version = [Version::V1_0, Version::V2_0, Version::V3_0, Version::V3_1][sel as usize & 3];
    let chunk = 1 + (sel as usize >> 2);
    let mut d = Decoder::new(version, 1 << 20);
    for piece in rest.chunks(chunk) {
        let mut p = piece;
        while !p.is_empty() {
            match d.decode(p) {
                Ok((used, _)) => p = &p[used..],
                Err(_) => return,
            }
        }
    }
});
