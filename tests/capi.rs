//! Builds each `capi-tests/test_*.c` program and runs it against our cdylib.
//!
//! The programs are first proven against Debian's libzmq (they are written to
//! its documented behavior), so a failure here is a difference between
//! ferrozmq and libzmq 4.3. Two builds are exercised:
//! - against our `include/zmq.h`, linked to our `libzmq.so` (one #[test] each);
//! - against Debian's `/usr/include/zmq.h` and `-lzmq`, then run with our
//!   library put in front through `LD_LIBRARY_PATH`: the drop-in property.

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// A program that has not exited by then is hung: it is killed and fails.
/// test_monitor alone waits about 30 s for quiet periods and timeouts.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

mod common;
use common::{c_compiler as cc_at, link_our_library, make_scratch_dir, repo_root};

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

/// Builds `name` for `flavor` once per run: several tests run the same
/// program (with other arguments), and one rebuilding the binary while
/// another runs ldd on it made that ldd fail.
fn compile(name: &str, flavor: &Flavor) -> Result<PathBuf, String> {
    type Built = Arc<OnceLock<Result<PathBuf, String>>>;
    static BUILT: OnceLock<Mutex<HashMap<String, Built>>> = OnceLock::new();
    let key = format!("{name}-{}", matches!(flavor, Flavor::Ours));
    let cell = Arc::clone(
        BUILT
            .get_or_init(Default::default)
            .lock()
            .unwrap()
            .entry(key)
            .or_default(),
    );
    cell.get_or_init(|| build(name, flavor)).clone()
}

fn build(name: &str, flavor: &Flavor) -> Result<PathBuf, String> {
    let src = repo_root().join("capi-tests").join(format!("{name}.c"));
    let (suffix, extra): (&str, Vec<String>) = match flavor {
        Flavor::Ours => {
            let lib = our_lib_dir();
            (
                "ours",
                vec![
                    format!("-I{}", repo_root().join("include").display()),
                    // The fresh build (deps/), not target/<profile>/libzmq.so,
                    // which cargo test does not refresh, nor the system's.
                    format!("-L{}", lib.display()),
                    "-lzmq".into(),
                    format!("-Wl,-rpath,{}", lib.display()),
                ],
            )
        }
        Flavor::Debian => ("debian", vec!["-lzmq".into()]),
    };
    let out = scratch_dir().join(format!("{name}-{suffix}"));
    let mut cmd = c_compiler();
    if matches!(flavor, Flavor::Ours) && cfg!(feature = "draft") && DRAFT_PROGRAMS.contains(&name) {
        cmd.arg("-DZMQ_BUILD_DRAFT_API");
    }
    cmd.arg("-Wall")
        .arg(&src)
        .arg("-o")
        .arg(&out)
        .args(&extra)
        .arg("-lpthread");
    common::compile(&mut cmd, name)?;
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
    run_args(bin, ld_path, &[])
}

/// As [`run`], passing `args` (the test programs take a transport).
fn run_args(bin: &Path, ld_path: Option<&Path>, args: &[&str]) -> Result<String, String> {
    // One log per run: tests may run the same program at the same time.
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let log = match args {
        [] => bin.with_extension(format!("{n}.log")),
        _ => bin.with_extension(format!("{}.{n}.log", args.join("-"))),
    };
    let file = fs::File::create(&log).unwrap();
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file);
    match ld_path {
        Some(p) => cmd.env("LD_LIBRARY_PATH", p),
        None => cmd.env_remove("LD_LIBRARY_PATH"),
    };
    let mut child = cmd.spawn().map_err(|e| format!("spawn: {e}"))?;
    let status = common::wait_or_kill(&mut child, RUN_TIMEOUT);
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
    run_ours_args(name, &[]);
}

fn run_ours_args(name: &str, args: &[&str]) {
    let bin = compile(name, &Flavor::Ours).unwrap_or_else(|e| panic!("{e}"));
    let lib = resolved_libzmq(&bin, None);
    assert!(
        lib.contains(our_lib_dir().to_str().unwrap()),
        "{name} would load the wrong libzmq: {lib}"
    );
    match run_args(&bin, None, args) {
        Ok(out) => print!("{out}"),
        Err(e) => panic!("{name} {args:?} against ferrozmq failed:\n{e}"),
    }
}

/// The ZMQ_FD epoll loops over the wire transports too (the programs
/// default to inproc).
#[test]
fn test_epoll_tcp() {
    run_ours_args("test_epoll", &["tcp"]);
}

#[test]
fn test_epoll_ipc() {
    run_ours_args("test_epoll", &["ipc"]);
}

#[test]
fn test_poller_tcp() {
    run_ours_args("test_poller", &["tcp"]);
}

#[test]
fn test_client_server_tcp() {
    run_ours_args("test_client_server", &["tcp"]);
}

#[test]
fn test_client_server_ipc() {
    run_ours_args("test_client_server", &["ipc"]);
}

/// `zmq_poller_event_t` in our header has the layout of Debian's (draft)
/// declaration: a program compiled against either sees the same offsets.
#[test]
fn poller_event_layout_matches_debian() {
    let src = scratch_dir().join("poller_layout.c");
    fs::write(
        &src,
        "#include <stdio.h>\n#include <stddef.h>\n#include <zmq.h>\nint main (void) {\n\
         printf (\"%zu %zu %zu %zu %zu %zu\\n\", sizeof (zmq_poller_event_t),\n\
         _Alignof (zmq_poller_event_t), offsetof (zmq_poller_event_t, socket),\n\
         offsetof (zmq_poller_event_t, fd), offsetof (zmq_poller_event_t, user_data),\n\
         offsetof (zmq_poller_event_t, events));\n return 0;\n}\n",
    )
    .unwrap();
    let layout = |include: &Path, tag: &str| -> String {
        let bin = scratch_dir().join(format!("poller_layout-{tag}"));
        let mut cmd = c_compiler();
        cmd.args(["-std=c11", "-DZMQ_BUILD_DRAFT_API", "-I"])
            .arg(include)
            .arg(&src)
            .arg("-o")
            .arg(&bin);
        let out = cmd.output().expect("run C compiler");
        assert!(
            out.status.success(),
            "{tag}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        run(&bin, None).unwrap_or_else(|e| panic!("{e}"))
    };
    let ours = layout(&repo_root().join("include"), "ours");
    assert_eq!(ours.trim(), "32 8 0 8 16 24", "our zmq_poller_event_t");
    if !Path::new("/usr/include/zmq.h").exists() {
        println!("skipped: /usr/include/zmq.h missing (apt-get install libzmq3-dev)");
        return;
    }
    assert_eq!(ours, layout(Path::new("/usr/include"), "debian"));
}

#[test]
fn test_poll_tcp() {
    run_ours_args("test_poll", &["tcp"]);
}

#[test]
fn test_poll_ipc() {
    run_ours_args("test_poll", &["ipc"]);
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

        /// A new program must be listed above (or in `OWN_TESTS`), or it
        /// would never run.
        #[test]
        fn every_program_is_listed() {
            let listed = [$(stringify!($name)),*];
            for p in all_programs() {
                assert!(
                    listed.contains(&p.as_str()) || OWN_TESTS.contains(&p.as_str()),
                    "capi-tests/{p}.c is not listed in tests/capi.rs"
                );
            }
        }
    };
}

/// Programs of the draft API: built with `ZMQ_BUILD_DRAFT_API` when ours
/// has it (`--features draft`); otherwise they only say they were skipped.
const DRAFT_PROGRAMS: &[&str] = &["test_client_server", "test_pipes_stats", "test_poller"];

/// Programs whose output is compared with a reference by a test of their
/// own (below) rather than just run.
const OWN_TESTS: &[&str] = &[
    "test_option_defaults",
    "test_api_facts",
    "test_monitor",
    "test_reconnect_stop",
];

capi_tests!(
    test_accept_filters,
    test_client_server,
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
    test_pipes_stats,
    test_poll,
    test_poller,
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

/// `capi-tests/test_option_defaults.c` prints, one fact per line, every
/// option's default for every socket type, which settings each type takes
/// and which it refuses (with the errno), context options, and the utilities.
/// Its output on Debian's libzmq 4.3.4 is checked in as the reference,
/// `capi-tests/expected/option_defaults.txt`; ours must print the same lines,
/// except those `capi-tests/expected/option_defaults.allowed` explains.
#[test]
fn option_defaults_match_libzmq() {
    matches_reference("test_option_defaults", "option_defaults", |expected| {
        if cfg!(feature = "draft") {
            // The reference is a stable build; ours then says it has the
            // draft API.
            expected.replace("zmq_has(\"draft\") = 0", "zmq_has(\"draft\") = 1")
        } else {
            expected
        }
    });
}

/// The reference must be what Debian's libzmq prints with the program as it
/// is now: a change to the program comes with its new expected output.
#[test]
fn option_defaults_reference_is_current() {
    reference_is_current("test_option_defaults", "option_defaults");
}

/// `capi-tests/test_api_facts.c` prints what zmq_poll, ZMQ_FD/ZMQ_EVENTS,
/// signals (EINTR), ETERM, the proxies and message properties do, one fact
/// per line. Compared with Debian's output as the option defaults are, with
/// `capi-tests/expected/api_facts.{txt,allowed}`.
#[test]
fn api_facts_match_libzmq() {
    matches_reference("test_api_facts", "api_facts", |expected| expected);
}

#[test]
fn api_facts_reference_is_current() {
    reference_is_current("test_api_facts", "api_facts");
}

/// `capi-tests/test_monitor.c` prints the events `zmq_socket_monitor`
/// reports, one per line (descriptors, errnos, ports and paths as stable
/// facts), for the call's own errors, tcp and ipc on both sides, reconnects,
/// bind failures, unbind and close, and failed handshakes. Its output on
/// Debian's libzmq is `capi-tests/expected/monitor.txt`; ours must match it,
/// except what `capi-tests/expected/monitor.allowed` explains.
#[test]
fn monitor_matches_libzmq() {
    matches_reference("test_monitor", "monitor", |expected| expected);
}

#[test]
fn monitor_reference_is_current() {
    reference_is_current("test_monitor", "monitor");
}

/// `capi-tests/test_reconnect_stop.c`: what each `ZMQ_RECONNECT_STOP` bit
/// does to a tcp connecter (events, retries, the endpoint, its queue). Its
/// output on Debian's libzmq is `capi-tests/expected/reconnect_stop.txt`.
#[test]
fn reconnect_stop_matches_libzmq() {
    matches_reference("test_reconnect_stop", "reconnect_stop", |expected| expected);
}

#[test]
fn reconnect_stop_reference_is_current() {
    reference_is_current("test_reconnect_stop", "reconnect_stop");
}

/// Runs `capi-tests/<program>.c` on ours and diffs its output against
/// `capi-tests/expected/<reference>.txt` (passed through `adjust`): every
/// differing line must match an allowance in `<reference>.allowed`, and
/// every allowance must still match a difference.
fn matches_reference(program: &str, reference: &str, adjust: impl Fn(String) -> String) {
    let expected_path = repo_root().join(format!("capi-tests/expected/{reference}.txt"));
    let expected = fs::read_to_string(&expected_path)
        .unwrap_or_else(|e| panic!("{}: {e}", expected_path.display()));
    let expected = adjust(expected);
    let allowed_path = repo_root().join(format!("capi-tests/expected/{reference}.allowed"));
    let allowed = Allowances::load(&allowed_path);

    let bin = compile(program, &Flavor::Ours).unwrap_or_else(|e| panic!("{e}"));
    let lib = resolved_libzmq(&bin, None);
    assert!(
        lib.contains(our_lib_dir().to_str().unwrap()),
        "{program} would load the wrong libzmq: {lib}"
    );
    let ours =
        run(&bin, None).unwrap_or_else(|e| panic!("{program} against ferrozmq failed:\n{e}"));

    let expected: Vec<&str> = expected.lines().collect();
    let ours: Vec<&str> = ours.lines().collect();
    let (same, only_ref, only_ours) = line_diff(&expected, &ours);
    let mut unexplained = Vec::new();
    let mut used = vec![false; allowed.entries.len()];
    for (side, lines) in [(Side::Ref, &only_ref), (Side::Ours, &only_ours)] {
        for line in lines.iter() {
            match allowed.find(side, line) {
                Some(i) => used[i] = true,
                None => unexplained.push(format!("{} {line}", side.marker())),
            }
        }
    }
    println!(
        "{reference}: {} reference lines, {same} printed the same by ours; allowed \
         differences: {} reference lines, {} lines of ours",
        expected.len(),
        only_ref.len(),
        only_ours.len()
    );
    let stale: Vec<String> = allowed
        .entries
        .iter()
        .zip(&used)
        .filter(|(_, &u)| !u)
        .map(|(e, _)| format!("{} {} (line {})", e.side.marker(), e.pattern, e.line))
        .collect();
    assert!(
        unexplained.is_empty(),
        "lines differing from libzmq's (< reference only, > ours only), not in {}:\n{}",
        allowed_path.display(),
        unexplained.join("\n")
    );
    assert!(
        stale.is_empty(),
        "allowances in {} that no longer match a difference (remove them):\n{}",
        allowed_path.display(),
        stale.join("\n")
    );
}

/// Builds `program` against Debian's libzmq and checks that it prints
/// exactly `capi-tests/expected/<reference>.txt`.
fn reference_is_current(program: &str, reference: &str) {
    if !Path::new("/usr/include/zmq.h").exists() {
        println!("skipped: /usr/include/zmq.h missing (apt-get install libzmq3-dev)");
        return;
    }
    let bin = compile(program, &Flavor::Debian).unwrap_or_else(|e| panic!("{e}"));
    let lib = resolved_libzmq(&bin, None);
    assert!(
        !lib.contains(our_lib_dir().to_str().unwrap()),
        "{program} should load Debian's libzmq here: {lib}"
    );
    let out = run(&bin, None).unwrap_or_else(|e| panic!("{program} against Debian's libzmq: {e}"));
    let path = repo_root().join(format!("capi-tests/expected/{reference}.txt"));
    let expected = fs::read_to_string(&path).unwrap_or_default();
    if out != expected {
        let (_, only_ref, only_new) = line_diff(
            &expected.lines().collect::<Vec<_>>(),
            &out.lines().collect::<Vec<_>>(),
        );
        panic!(
            "{} is not what Debian's libzmq prints now; regenerate it:\n  cc \
             capi-tests/{program}.c -lzmq -lpthread -o /tmp/{program} && /tmp/{program} > {}\n\
             checked in only:\n{}\nprinted only:\n{}",
            path.display(),
            path.display(),
            only_ref.join("\n"),
            only_new.join("\n")
        );
    }
}

/// Which output a differing line comes from.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Side {
    /// The reference (Debian's libzmq) only.
    Ref,
    /// Ours only.
    Ours,
}

impl Side {
    fn marker(self) -> &'static str {
        match self {
            Side::Ref => "<",
            Side::Ours => ">",
        }
    }
}

struct Allowance {
    side: Side,
    pattern: String,
    /// Its line in the file, for messages.
    line: usize,
}

/// The allowed differences: `ref: <pattern>` and `ours: <pattern>` lines,
/// each under the `#` comment that gives its reason.
struct Allowances {
    entries: Vec<Allowance>,
}

impl Allowances {
    fn load(path: &Path) -> Allowances {
        let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut entries = Vec::new();
        let mut reason = false;
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim_end();
            if line.is_empty() {
                reason = false;
            } else if line.starts_with('#') {
                reason = true;
            } else {
                let (side, pattern) = if let Some(p) = line.strip_prefix("ref: ") {
                    (Side::Ref, p)
                } else if let Some(p) = line.strip_prefix("ours: ") {
                    (Side::Ours, p)
                } else {
                    panic!("{}:{}: expected `ref: ` or `ours: `", path.display(), i + 1);
                };
                assert!(
                    reason,
                    "{}:{}: an allowance needs a `#` reason above it",
                    path.display(),
                    i + 1
                );
                entries.push(Allowance {
                    side,
                    pattern: pattern.to_string(),
                    line: i + 1,
                });
            }
        }
        Allowances { entries }
    }

    fn find(&self, side: Side, line: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|e| e.side == side && glob_match(e.pattern.as_bytes(), line.as_bytes()))
    }
}

/// `*` matches any run of bytes; everything else matches itself, and the
/// pattern must cover the whole line.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// A line diff (longest common subsequence): how many lines both have in
/// the same order, then the lines only `a` has and those only `b` has.
fn line_diff<'a>(a: &[&'a str], b: &[&'a str]) -> (usize, Vec<&'a str>, Vec<&'a str>) {
    let n = a.len();
    let m = b.len();
    // lcs[i][j]: the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] = if a[i] == b[j] {
                lcs[at(i + 1, j + 1)] + 1
            } else {
                lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let (mut only_a, mut only_b) = (Vec::new(), Vec::new());
    while i < n && j < m {
        if a[i] == b[j] {
            i += 1;
            j += 1;
        } else if lcs[at(i + 1, j)] >= lcs[at(i, j + 1)] {
            only_a.push(a[i]);
            i += 1;
        } else {
            only_b.push(b[j]);
            j += 1;
        }
    }
    only_a.extend_from_slice(&a[i..]);
    only_b.extend_from_slice(&b[j..]);
    (lcs[0] as usize, only_a, only_b)
}

#[test]
fn glob_and_diff_helpers() {
    assert!(glob_match(
        b"* set ZMQ_PLAIN_*(*) -> ok",
        b"PUB set ZMQ_PLAIN_SERVER(1) -> ok"
    ));
    assert!(!glob_match(
        b"* set ZMQ_PLAIN_*(*) -> ok",
        b"PUB set ZMQ_PLAIN_SERVER(1) -> okay"
    ));
    assert!(glob_match(b"zmq_has(\"pgm\") = 1", b"zmq_has(\"pgm\") = 1"));
    assert!(glob_match(b"*", b""));
    let (same, a, b) = line_diff(&["x", "y", "z"], &["x", "q", "z", "w"]);
    assert_eq!((same, a, b), (2, vec!["y"], vec!["q", "w"]));
}
