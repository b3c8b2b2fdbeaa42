//! The C examples in `examples/`, run the way `make demo` runs them.
//!
//! Each example is compiled once against our `include/zmq.h` and linked to
//! the library this `cargo test` built; then every example runs in every
//! mode through `examples/run.sh` (given the binaries with `EXAMPLES_BIN`):
//! all its parties as threads of one process over inproc, tcp and ipc, and
//! one process per party over tcp and ipc. The script checks that every
//! process exits with 0 (each party checks what it receives); this test also
//! checks the lines that prove the messages went where they should.
//!
//! Runs are independent of each other: tcp binds `127.0.0.1:*`, and ipc
//! paths live in a directory made per run.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

mod common;
use common::{c_compiler, link_our_library, make_scratch_dir, repo_root};

const EXAMPLES: [&str; 4] = ["pair", "pubsub", "pipeline", "rrbroker"];

/// run.sh gives each process 30 s (`timeout`); a healthy run of one
/// example in one mode takes well under a second.
const RUN_TIMEOUT: Duration = Duration::from_secs(90);

fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| make_scratch_dir("examples-test"))
}

/// The four examples, compiled against our header and library, with an
/// rpath that finds our `libzmq.so.5`.
fn bin_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let lib = link_our_library(scratch_dir());
        let bin = scratch_dir().join("bin");
        fs::create_dir_all(&bin).unwrap();
        let root = repo_root();
        for ex in EXAMPLES {
            let out = bin.join(ex);
            let mut cmd = c_compiler(2);
            cmd.arg("-Wall")
                .arg(root.join("examples").join(format!("{ex}.c")))
                .arg("-o")
                .arg(&out)
                .arg(format!("-I{}", root.join("include").display()))
                .arg(format!("-L{}", lib.display()))
                .arg("-lzmq")
                .arg(format!("-Wl,-rpath,{}", lib.display()))
                .arg("-lpthread");
            let output = cmd.output().expect("run the C compiler");
            assert!(
                output.status.success(),
                "compiling {ex} failed: {cmd:?}\n{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            // Which libzmq.so.5 the loader picks, so a run can't silently
            // test Debian's library instead of ours. cargo puts
            // target/<profile> on LD_LIBRARY_PATH; only the rpath may decide.
            let ldd = Command::new("ldd")
                .arg(&out)
                .env_remove("LD_LIBRARY_PATH")
                .output()
                .expect("run ldd");
            let ldd = String::from_utf8_lossy(&ldd.stdout);
            let resolved = ldd.lines().find(|l| l.contains("libzmq.so")).unwrap_or("");
            assert!(
                resolved.contains(lib.to_str().unwrap()),
                "{ex} would load the wrong libzmq: {resolved}"
            );
        }
        bin
    })
}

/// Runs `sh examples/run.sh ARGS... EXAMPLE` on the compiled examples and
/// returns its output; panics with the output when it fails or hangs.
fn run_sh(example: &str, args: &[&str]) -> String {
    let log = scratch_dir().join(format!("{example}-{}.log", args.join("-")));
    let file = fs::File::create(&log).unwrap();
    let mut child = Command::new("sh")
        .arg(repo_root().join("examples").join("run.sh"))
        .args(args)
        .arg(example)
        .env("EXAMPLES_BIN", bin_dir())
        .env_remove("LD_LIBRARY_PATH")
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .expect("run sh examples/run.sh");
    let status = common::wait_or_kill(&mut child, RUN_TIMEOUT);
    let output = fs::read_to_string(&log).unwrap_or_default();
    let what = format!("sh examples/run.sh {} {example}", args.join(" "));
    match status {
        Some(st) if st.success() => output,
        Some(st) => panic!("{what} exited with {st}\n{output}"),
        None => panic!("{what} killed after {RUN_TIMEOUT:?} (hung)\n{output}"),
    }
}

/// Lines (prefixes of lines) each example prints when its messages went
/// where they should, whichever way its parties run.
fn expected_lines(example: &str) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    match example {
        "pair" => {
            v.push("step2: got READY from step1".into());
            v.push("step3: got READY from step2, the chain is complete".into());
            for i in 1..=3 {
                v.push(format!("step3: ping {i} -> pong"));
            }
            v.push("step2: answered 3 pings, got STOP".into());
        }
        "pubsub" => {
            let a = "subscriber [weather.]";
            let b = "subscriber [sports. news.]";
            v.push(format!("{a}: got [weather.paris] sunny, 24C"));
            v.push(format!("{a}: got [weather.oslo] snow, -3C"));
            v.push(format!("{a}: received all 2 updates for its topics"));
            v.push(format!("{b}: got [sports.tennis] 6-4 6-3"));
            v.push(format!("{b}: got [news.local] bridge reopens"));
            v.push(format!("{b}: got [sports.chess] draw in 41"));
            v.push(format!("{b}: received all 3 updates for its topics"));
            v.push("publisher: sent 6 updates and END".into());
        }
        "pipeline" => {
            v.push("ventilator: sent tasks 1..30".into());
            v.push("sink: sum of squares 1..30 = 9455 (expected 9455)".into());
        }
        "rrbroker" => {
            for c in ["A", "B"] {
                for i in 1..=5 {
                    v.push(format!(
                        "client {c}: request {i} from client {c}, served by worker "
                    ));
                }
                v.push(format!("client {c}: got all 5 replies"));
            }
        }
        _ => unreachable!(),
    }
    v
}

/// Lines only the one-process-per-party runs print: every party's last
/// words, including the serving ones stopped by SIGTERM.
fn expected_process_lines(example: &str) -> Vec<String> {
    let mut v: Vec<String> = match example {
        "pair" => vec!["step3: done".into(), "step2: done".into()],
        "pubsub" => vec![
            "publisher: done".into(),
            "subscriber [weather.]: done".into(),
            "subscriber [sports. news.]: done".into(),
        ],
        "pipeline" => {
            let mut v = vec!["ventilator: done".into(), "sink: done".into()];
            v.extend((1..=3).map(|w| format!("worker {w}: done")));
            v
        }
        "rrbroker" => {
            let mut v = vec!["broker: stopped".into(), "broker: done".into()];
            v.extend((1..=3).map(|w| format!("worker {w}: done")));
            v.extend(["A", "B"].map(|c| format!("client {c}: done")));
            v
        }
        _ => unreachable!(),
    };
    v.push(format!("== {example}: every process exited with 0"));
    v
}

fn check(example: &str, transport: &str, processes: bool) {
    let mut args = vec![transport];
    let mut expected = expected_lines(example);
    if processes {
        args.push("2proc");
        expected.extend(expected_process_lines(example));
    } else {
        expected.push(format!("{example}: done"));
    }
    let output = run_sh(example, &args);
    print!("{output}");
    for want in &expected {
        assert!(
            output.lines().any(|l| l.starts_with(want.as_str())),
            "{example} over {transport} (2proc: {processes}): no line {want:?} in\n{output}"
        );
    }
    assert!(
        !output.contains("FAILED"),
        "{example} over {transport} (2proc: {processes}) failed:\n{output}"
    );
    if example == "pubsub" {
        assert!(
            !output.contains("got [finance."),
            "nobody subscribed to finance.:\n{output}"
        );
    }
}

macro_rules! modes {
    ($($name:ident: $example:literal, $transport:literal, $processes:literal;)*) => {
        $(
            #[test]
            fn $name() {
                check($example, $transport, $processes);
            }
        )*
    };
}

modes! {
    pair_inproc: "pair", "inproc", false;
    pair_tcp: "pair", "tcp", false;
    pair_ipc: "pair", "ipc", false;
    pair_tcp_processes: "pair", "tcp", true;
    pair_ipc_processes: "pair", "ipc", true;
    pubsub_inproc: "pubsub", "inproc", false;
    pubsub_tcp: "pubsub", "tcp", false;
    pubsub_ipc: "pubsub", "ipc", false;
    pubsub_tcp_processes: "pubsub", "tcp", true;
    pubsub_ipc_processes: "pubsub", "ipc", true;
    pipeline_inproc: "pipeline", "inproc", false;
    pipeline_tcp: "pipeline", "tcp", false;
    pipeline_ipc: "pipeline", "ipc", false;
    pipeline_tcp_processes: "pipeline", "tcp", true;
    pipeline_ipc_processes: "pipeline", "ipc", true;
    rrbroker_inproc: "rrbroker", "inproc", false;
    rrbroker_tcp: "rrbroker", "tcp", false;
    rrbroker_ipc: "rrbroker", "ipc", false;
    rrbroker_tcp_processes: "rrbroker", "tcp", true;
    rrbroker_ipc_processes: "rrbroker", "ipc", true;
}

/// A new example must be added to EXAMPLES (and run.sh), or it would never
/// run.
#[test]
fn every_example_is_listed() {
    for e in fs::read_dir(repo_root().join("examples")).unwrap() {
        let name = e.unwrap().file_name().into_string().unwrap();
        if let Some(stem) = name.strip_suffix(".c") {
            assert!(
                EXAMPLES.contains(&stem),
                "examples/{name} is not listed in tests/examples.rs"
            );
        }
    }
}
