//! What the C-program harnesses share: where the build is, a scratch
//! directory per process, our freshly built library under the names the
//! loader asks for, and the C compiler.

#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

pub mod peer;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `target/<profile>`, found from the test binary (`target/<profile>/deps/*`),
/// so programs load the library built by the same `cargo test`.
pub fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("test binary lives in target/<profile>/deps")
        .to_path_buf()
}

/// A fresh `target/<tag>/<profile>/run-<pid>` directory, so concurrent
/// `cargo test` runs don't collide; runs whose process is gone are removed.
pub fn make_scratch_dir(tag: &str) -> PathBuf {
    let prof = profile_dir();
    let name = prof.file_name().expect("profile name").to_owned();
    let base = prof.parent().expect("target dir").join(tag).join(name);
    if let Ok(entries) = fs::read_dir(&base) {
        for e in entries.flatten() {
            let n = e.file_name().into_string().unwrap_or_default();
            if let Some(pid) = n.strip_prefix("run-") {
                if !Path::new("/proc").join(pid).exists() {
                    let _ = fs::remove_dir_all(e.path());
                }
            }
        }
    }
    let dir = base.join(format!("run-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// Our built library: `cargo test` rebuilds `deps/libzmq.so` but does not
/// copy it up to the profile directory, whose copy may be stale, so deps/
/// comes first; with neither, `cargo build` makes it.
pub fn our_library() -> PathBuf {
    let prof = profile_dir();
    let fresh = prof.join("deps").join("libzmq.so");
    if fresh.exists() {
        return fresh;
    }
    let so = prof.join("libzmq.so");
    if !so.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.arg("build").arg("--lib").current_dir(repo_root());
        if prof.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        assert!(
            cmd.status().expect("run cargo build").success(),
            "cargo build failed"
        );
    }
    assert!(so.exists(), "{} missing after cargo build", so.display());
    so
}

/// `dir/lib` holding `libzmq.so.5` and `libzmq.so` → our library: programs
/// ask the loader for the SONAME, and cargo writes only `libzmq.so`; without
/// the link an rpath would miss and Debian's libzmq would load.
pub fn link_our_library(dir: &Path) -> PathBuf {
    let so = our_library();
    let lib = dir.join("lib");
    fs::create_dir_all(&lib).expect("create lib dir");
    for name in ["libzmq.so.5", "libzmq.so"] {
        let link = lib.join(name);
        let _ = fs::remove_file(&link);
        std::os::unix::fs::symlink(&so, &link).expect("symlink libzmq");
    }
    lib
}

/// The C compiler the `cc` crate picks for our target.
pub fn c_compiler(opt_level: u32) -> Command {
    cc::Build::new()
        .target(env!("FERRO_TARGET"))
        .host(env!("FERRO_TARGET"))
        .opt_level(opt_level)
        .debug(true)
        .cargo_metadata(false)
        .warnings(false)
        .get_compiler()
        .to_command()
}

/// Runs a C compiler command; on failure, the command and its output.
pub fn compile(cmd: &mut Command, what: &str) -> Result<(), String> {
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run C compiler: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "compiling {what} failed: {:?}\n{}{}",
            cmd,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}

/// Waits for `child` at most `limit`; kills it past that (None: it hung).
#[allow(dead_code)]
pub fn wait_or_kill(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> Option<std::process::ExitStatus> {
    let start = std::time::Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status);
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Runs `f` in its own thread; fails the test if it takes over `secs`.
pub fn bounded<F: FnOnce() + Send + 'static>(secs: u64, f: F) {
    let (tx, rx) = std::sync::mpsc::channel();
    let h = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(std::time::Duration::from_secs(secs)) {
        Ok(()) => h.join().unwrap(),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(e) = h.join() {
                std::panic::resume_unwind(e)
            }
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("test hung: not done after {secs} s")
        }
    }
}
