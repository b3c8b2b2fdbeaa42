//! A Python asyncio loop on `ZMQ_FD` (`tests/asyncio_fd.py`, stdlib only:
//! ctypes and asyncio) receives 100k messages over inproc, tcp and ipc with
//! no miss and no busy spin: the integration pyzmq's asyncio support and
//! other event loops rely on.
//!
//! The same script runs against Debian's libzmq, which proves the test asks
//! only what libzmq gives, and against ours. Each run prints its wake-up
//! counts, for comparison.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod common;
use common::{our_library, repo_root};

const DEBIAN_LIB: &str = "/usr/lib/x86_64-linux-gnu/libzmq.so.5";
const TRANSPORTS: [&str; 3] = ["inproc", "tcp", "ipc"];
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// One run at a time: two loops competing for the 2 CPUs of a CI machine
/// would make each other's wake-up counts meaningless.
static SERIAL: Mutex<()> = Mutex::new(());

fn python() -> Option<&'static str> {
    let ok = Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Some("python3")
    } else {
        eprintln!("\n*** SKIPPED: python3 is missing ***\n");
        None
    }
}

/// Runs the script on `lib` for `transport`; returns its summary line.
fn run(python: &str, lib: &Path, transport: &str) -> String {
    let script = repo_root().join("tests/asyncio_fd.py");
    let mut child = Command::new(python)
        .arg(&script)
        .arg("--lib")
        .arg(lib)
        .args(["--transport", transport])
        // The library is loaded by path; nothing else may choose it.
        .env_remove("LD_LIBRARY_PATH")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn python3");
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for python3") {
            break Some(st);
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = child.wait_with_output().expect("python3 output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match status {
        Some(st) if st.success() => {}
        Some(st) => panic!(
            "asyncio {transport} on {} failed ({st}):\n{text}",
            lib.display()
        ),
        None => panic!("asyncio {transport} on {} hung:\n{text}", lib.display()),
    }
    let real = std::fs::canonicalize(lib).unwrap_or_else(|_| lib.to_path_buf());
    assert!(
        text.contains(&format!("libzmq {}", real.display())),
        "the script loaded another libzmq than {}:\n{text}",
        real.display()
    );
    text.trim().to_string()
}

fn run_all(lib: &Path) {
    let Some(py) = python() else { return };
    let _one_at_a_time = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for t in TRANSPORTS {
        println!("{}", run(py, lib, t));
    }
}

#[test]
fn asyncio_zmq_fd_on_ferrozmq() {
    let lib: PathBuf = our_library();
    run_all(&lib);
}

/// The test itself, checked against libzmq 4.3.4.
#[test]
fn asyncio_zmq_fd_on_libzmq() {
    if !Path::new(DEBIAN_LIB).exists() {
        eprintln!("\n*** SKIPPED: {DEBIAN_LIB} is missing (install libzmq5) ***\n");
        return;
    }
    run_all(Path::new(DEBIAN_LIB));
}
