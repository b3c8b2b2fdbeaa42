fn main() {
    // libzmq's SONAME, so binaries linked against Debian's libzmq.so.5 load ours.
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libzmq.so.5");
    // The C tests need the target triple to drive the `cc` crate.
    println!(
        "cargo:rustc-env=FERRO_TARGET={}",
        std::env::var("TARGET").unwrap_or_default()
    );
    println!("cargo:rerun-if-changed=build.rs");
}
