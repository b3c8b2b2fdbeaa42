//! Builds each `capi-tests/test_*.c` program and runs it against our cdylib.
//!
//! The programs are first proven against Debian's libzmq (they are written to
//! its documented behavior), so a failure here is a difference between
//! ferrozmq and libzmq 4.3. Two builds are exercised:
//! - against our `include/zmq.h`, linked to our `libzmq.so` (one #[test] each);
//! - against Debian's `/usr/include/zmq.h` and `-lzmq`, then run with our
//!   library put in front through `LD_LIBRARY_PATH`: the drop-in property.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A program that has not exited by then is hung: it is killed and fails.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);

mod common;
use common::{c_compiler as cc_at, link_our_library, make_scratch_dir, profile_dir, repo_root};

fn our_lib_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| link_our_library(scratch_dir()))
}

fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| make_scratch_dir("capi-tests"))
}

fn c_compiler() -> Command {
    cc_at(0)
}

enum Flavor {
    /// Our header, linked to our library.
    Ours,
    /// Debian's header and library; run with ours preloaded by path.
    Debian,
}

fn compile(name: &str, flavor: &Flavor) -> Result<PathBuf, String> {
    let src = repo_root().join("capi-tests").join(format!("{name}.c"));
    let (suffix, extra): (&str, Vec<String>) = match flavor {
        Flavor::Ours => {
            let lib = our_lib_dir();
            (
                "ours",
                vec![
                    format!("-I{}", repo_root().join("include").display()),
                    format!("-L{}", profile_dir().display()),
                    "-lzmq".into(),
                    format!("-Wl,-rpath,{}", lib.display()),
                ],
            )
        }
        Flavor::Debian => ("debian", vec!["-lzmq".into()]),
    };
    let out = scratch_dir().join(format!("{name}-{suffix}"));
    let mut cmd = c_compiler();
    cmd.arg("-Wall")
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .args(&extra)
        .arg("-lpthread");
    let output = cmd
        .output()
        .map_err(|e| format!("cannot run C compiler: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "compiling {name} failed: {:?}\n{}{}",
            cmd,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(out)
}

/// Which libzmq.so.5 the loader picks for `bin`, so a run can't silently
/// test Debian's library instead of ours.
fn resolved_libzmq(bin: &Path, ld_path: Option<&Path>) -> String {
    let mut cmd = Command::new("ldd");
    cmd.arg(bin);
    // cargo puts target/<profile> on LD_LIBRARY_PATH for tests; only the
    // rpath (or the path given here) may decide which libzmq loads.
    match ld_path {
        Some(p) => cmd.env("LD_LIBRARY_PATH", p),
        None => cmd.env_remove("LD_LIBRARY_PATH"),
    };
    let out = cmd.output().expect("run ldd");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.contains("libzmq.so"))
        .map(|l| l.trim().to_string())
        .unwrap_or_default()
}

fn run(bin: &Path, ld_path: Option<&Path>) -> Result<String, String> {
    let log = bin.with_extension("log");
    let file = fs::File::create(&log).unwrap();
    let mut cmd = Command::new(bin);
    cmd.stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file);
    match ld_path {
        Some(p) => cmd.env("LD_LIBRARY_PATH", p),
        None => cmd.env_remove("LD_LIBRARY_PATH"),
    };
    let mut child = cmd.spawn().map_err(|e| format!("spawn: {e}"))?;
    let start = Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break Some(st);
        }
        if start.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let output = fs::read_to_string(&log).unwrap_or_default();
    match status {
        Some(st) if st.success() => Ok(output),
        Some(st) => Err(format!("{} exited with {st}\n{output}", bin.display())),
        None => Err(format!(
            "{} killed after {:?} (hung)\n{output}",
            bin.display(),
            RUN_TIMEOUT
        )),
    }
}

fn run_ours(name: &str) {
    let bin = compile(name, &Flavor::Ours).unwrap_or_else(|e| panic!("{e}"));
    let lib = resolved_libzmq(&bin, None);
    assert!(
        lib.contains(our_lib_dir().to_str().unwrap()),
        "{name} would load the wrong libzmq: {lib}"
    );
    match run(&bin, None) {
        Ok(out) => print!("{out}"),
        Err(e) => panic!("{name} against ferrozmq failed:\n{e}"),
    }
}

/// Every `capi-tests/test_*.c`, sorted.
fn all_programs() -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(repo_root().join("capi-tests"))
        .unwrap()
        .filter_map(|e| {
            let n = e.ok()?.file_name().into_string().ok()?;
            let stem = n.strip_suffix(".c")?;
            stem.starts_with("test_").then(|| stem.to_string())
        })
        .collect();
    v.sort();
    v
}

macro_rules! capi_tests {
    ($($name:ident),* $(,)?) => {
        $(
            #[test]
            fn $name() {
                run_ours(stringify!($name));
            }
        )*

        /// A new program must be listed above, or it would never run.
        #[test]
        fn every_program_is_listed() {
            let listed = [$(stringify!($name)),*];
            for p in all_programs() {
                assert!(
                    listed.contains(&p.as_str()),
                    "capi-tests/{p}.c is not listed in tests/capi.rs"
                );
            }
        }
    };
}

capi_tests!(
    test_connect_before_bind,
    test_ctx,
    test_dealer,
    test_epoll,
    test_lifecycle,
    test_msg,
    test_multipart,
    test_options,
    test_pair,
    test_patterns,
    test_pipeline,
    test_poll,
    test_proxy,
    test_pubsub,
    test_reqrep,
    test_router,
    test_stress,
    test_tcp_names,
    test_threads,
    test_wire_life,
);

/// Binaries built for Debian's libzmq run unchanged on ours.
#[test]
fn drop_in_debian_header() {
    if !Path::new("/usr/include/zmq.h").exists() {
        println!("skipped: /usr/include/zmq.h missing (apt-get install libzmq3-dev)");
        return;
    }
    let lib_dir = our_lib_dir();
    let mut failures = Vec::new();
    let programs = all_programs();
    for name in &programs {
        let result = compile(name, &Flavor::Debian).and_then(|bin| {
            let lib = resolved_libzmq(&bin, Some(lib_dir));
            if !lib.contains(lib_dir.to_str().unwrap()) {
                return Err(format!("LD_LIBRARY_PATH did not select ours: {lib}"));
            }
            run(&bin, Some(lib_dir))
        });
        match result {
            Ok(_) => println!("drop-in {name}: ok"),
            Err(e) => {
                println!("drop-in {name}: FAILED\n{e}");
                failures.push(name.clone());
            }
        }
    }
    println!(
        "drop-in: {} passed, {} failed",
        programs.len() - failures.len(),
        failures.len()
    );
    assert!(failures.is_empty(), "drop-in failures: {failures:?}");
}
