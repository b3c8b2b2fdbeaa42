//! Wire interop against real libzmq: two processes, one per side, over tcp
//! and ipc.
//!
//! `interop/peer.c` is built twice: against our `include/zmq.h` + our
//! `libzmq.so` ("ours"), and against Debian's `/usr/include/zmq.h` + `-lzmq`
//! ("libzmq"). Every scenario is one socket-type pair, one message shape, one
//! transport, one binding side and one assignment of implementations to the
//! sides: ours↔libzmq both ways, libzmq↔libzmq (the control, which validates
//! the harness) and ours↔ours. Each side checks every byte, frame count and
//! the order of what it receives (see the comment at the top of peer.c).
//!
//! Security: every scenario also runs under PLAIN with a ZAP handler, CURVE
//! with a ZAP handler and CURVE without one (names end in `:plain+zap`,
//! `:curve+zap`, `:curve`), and the `sizes` ones under NULL with a ZAP
//! domain (`:null+zap`); connect-before-bind, for four pairs. Side B is the
//! mechanism's server, side A its client; the handler runs in B's process
//! and B checks that every payload frame carries the User-Id it set.
//!
//! Scenarios involving ours are skipped, loudly, for a transport our library
//! answers ENOTSUP to (one probe per transport); as soon as it works they run.
//!
//! Environment:
//! - `INTEROP_FILTER="tcp REQ(ours"`: only scenarios whose name contains
//!   every whitespace-separated word (names are printed on failure and with
//!   `INTEROP_VERBOSE=1`).
//! - `INTEROP_JOBS=4`: scenarios run at once.
//! - `INTEROP_VERBOSE=1`: one line per scenario.
//! - `INTEROP_BUDGET_S=180`: scenarios not started by then are not run.
//!
//! A broken implementation can't make the suite run for long: each peer has
//! an 8 s watchdog, the other side is killed shortly after one fails, and a
//! class or pair that keeps failing has its remaining scenarios marked "not
//! run" (counted as failed).
//!
//! Summary and skip notices go straight to stderr, so they show without
//! `--nocapture`.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A scenario whose processes have not both exited by then is killed; the
/// peers' own watchdog (`timeout=`) fires first and says where they hung.
/// A healthy scenario takes well under a second.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(16);
const PEER_WATCHDOG_S: u32 = 8;
/// The first process must announce its endpoint (or its connect) this soon.
const READY_TIMEOUT: Duration = Duration::from_secs(5);
/// Once one side has failed, the other gets this long before it is killed
/// (it is usually blocked waiting for the failed one).
const GRACE_AFTER_FAILURE: Duration = Duration::from_millis(400);
/// Bounds on a broken implementation's cost (a hang costs the watchdog):
/// after this many hung scenarios in one class (implementations and
/// transport), the rest of that class is not run...
const HANGS_BEFORE_GIVING_UP: usize = 3;
/// ...and after this many failures of one socket-type pair in one class,
/// the rest of that pair in that class. Not run is counted as failed.
const FAILURES_BEFORE_GIVING_UP: usize = 4;
const DEFAULT_JOBS: usize = 4;
/// Scenarios not started by then are not run (counted as failed); a healthy
/// run takes a fraction of it. `INTEROP_BUDGET_S` overrides.
const DEFAULT_BUDGET_S: u64 = 180;
/// Failures reported with both command lines and outputs; later ones get
/// their verdict lines only (rerun them with INTEROP_FILTER for the rest).
const FULL_REPORTS: usize = 40;

mod common;
use common::peer::{Impl, Peer};
use common::{link_our_library, make_scratch_dir};

fn loud(msg: &str) {
    let _ = writeln!(std::io::stderr(), "{msg}");
}

fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| make_scratch_dir("interop"))
}

fn our_lib_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| link_our_library(scratch_dir()))
}

fn build_peer(which: Impl) -> Result<Peer, String> {
    let peer = common::peer::build(which, scratch_dir(), our_lib_dir())?;
    loud(&format!(
        "interop: peer-{} loads {}",
        which.name(),
        peer.loads
    ));
    Ok(peer)
}

// ------------------------------------------------------------- scenarios

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Transport {
    Tcp,
    Ipc,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Ipc => "ipc",
        }
    }
}

/// One side of a pair: socket type, role (see peer.c) and its own options.
#[derive(Clone)]
struct Side {
    ty: &'static str,
    role: &'static str,
    opts: &'static [&'static str],
}

#[derive(Clone)]
struct Pair {
    /// Side A initiates: it is the sender, publisher or client.
    a: Side,
    b: Side,
    pubsub: bool,
    /// Also run the heartbeat variants.
    heartbeat: bool,
}

fn side(ty: &'static str, role: &'static str, opts: &'static [&'static str]) -> Side {
    Side { ty, role, opts }
}

fn pairs() -> Vec<Pair> {
    let p = |a, b| Pair {
        a,
        b,
        pubsub: false,
        heartbeat: false,
    };
    let ps = |a, b| Pair {
        a,
        b,
        pubsub: true,
        heartbeat: false,
    };
    let hb = |a, b| Pair {
        a,
        b,
        pubsub: false,
        heartbeat: true,
    };
    vec![
        p(
            side("PAIR", "client", &["window=8"]),
            side("PAIR", "server", &[]),
        ),
        p(side("PUSH", "send", &[]), side("PULL", "recv", &[])),
        ps(
            side("PUB", "send", &["sync=stdin"]),
            side("SUB", "recv", &["sync=hello"]),
        ),
        ps(
            side("XPUB", "send", &["sync=xpub"]),
            side("SUB", "recv", &[]),
        ),
        ps(
            side("PUB", "send", &["sync=stdin"]),
            side("XSUB", "recv", &["sync=hello"]),
        ),
        ps(
            side("XPUB", "send", &["sync=xpub"]),
            side("XSUB", "recv", &[]),
        ),
        hb(side("REQ", "client", &[]), side("REP", "server", &[])),
        p(
            side("REQ", "client", &["id=req-client"]),
            side("ROUTER", "server", &["delim=1", "peer=req-client"]),
        ),
        p(
            side("DEALER", "client", &["delim=1", "window=8"]),
            side("REP", "server", &[]),
        ),
        // Routing ids generated by the ROUTER.
        hb(
            side("DEALER", "client", &["window=8"]),
            side("ROUTER", "server", &[]),
        ),
        // The ROUTER speaks first, to a DEALER with a set routing id.
        p(
            side("ROUTER", "client", &["peer=dealer-srv", "window=8"]),
            side("DEALER", "server", &["id=dealer-srv"]),
        ),
        p(
            side("DEALER", "client", &["window=8"]),
            side("DEALER", "server", &[]),
        ),
        p(
            side(
                "ROUTER",
                "client",
                &["id=rr-client", "peer=rr-server", "window=8"],
            ),
            side("ROUTER", "server", &["id=rr-server", "peer=rr-client"]),
        ),
    ]
}

/// Message shapes, given to both sides. Sizes cycle over frames and
/// messages (frame j of message i has sizes[(i + j + direction) % n]).
struct Variant {
    name: &'static str,
    opts: &'static [&'static str],
    /// Only for side A, only for side B.
    a_opts: &'static [&'static str],
    b_opts: &'static [&'static str],
    only: Only,
}

#[derive(PartialEq)]
enum Only {
    All,
    PubSub,
    Heartbeat,
}

impl Only {
    fn admits(&self, p: &Pair) -> bool {
        match self {
            Only::All => true,
            Only::PubSub => p.pubsub,
            Only::Heartbeat => p.heartbeat,
        }
    }
}

const VARIANTS: &[Variant] = &[
    Variant {
        name: "sizes",
        opts: &["sizes=0,1,255,256,8192,65536", "count=120"],
        a_opts: &[],
        b_opts: &[],
        only: Only::All,
    },
    Variant {
        name: "1MiB",
        opts: &["sizes=1048576", "count=6"],
        a_opts: &[],
        b_opts: &[],
        only: Only::All,
    },
    Variant {
        name: "multipart",
        opts: &["sizes=0,1,255,256,8192", "frames=3,50", "count=40"],
        a_opts: &[],
        b_opts: &[],
        only: Only::All,
    },
    Variant {
        name: "topic",
        opts: &["sizes=0,1,255,256", "frames=1,3", "count=60", "topic=topic"],
        a_opts: &[],
        b_opts: &[],
        only: Only::PubSub,
    },
    // ZMTP 3.1 PING/PONG: one side heartbeats (20 ms, timeout 100 ms), the
    // server holds a reply back for 300 ms of silence. If the other side
    // does not answer PINGs the link is dropped, the reply lost, and the
    // client hangs.
    Variant {
        name: "heartbeat-by-A",
        opts: &["sizes=0,1,255,256", "count=10", "pause=5:300"],
        a_opts: &["hb=20"],
        b_opts: &[],
        only: Only::Heartbeat,
    },
    Variant {
        name: "heartbeat-by-B",
        opts: &["sizes=0,1,255,256", "count=10", "pause=5:300"],
        a_opts: &[],
        b_opts: &["hb=20"],
        only: Only::Heartbeat,
    },
];

/// The security of a scenario: side B is the mechanism's server (and runs
/// the ZAP handler), side A its client.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Security {
    Null,
    /// NULL with a ZAP domain on side B: its handler is asked.
    NullZap,
    PlainZap,
    CurveZap,
    Curve,
}

impl Security {
    const SECURED: [Security; 4] = [
        Security::NullZap,
        Security::PlainZap,
        Security::CurveZap,
        Security::Curve,
    ];

    fn name(self) -> &'static str {
        match self {
            Security::Null => "",
            Security::NullZap => ":null+zap",
            Security::PlainZap => ":plain+zap",
            Security::CurveZap => ":curve+zap",
            Security::Curve => ":curve",
        }
    }

    /// peer.c options for side A (client) or B (server).
    fn opts(self, a: bool) -> &'static [&'static str] {
        match (self, a) {
            (Security::Null, _) | (Security::NullZap, true) => &[],
            (Security::NullZap, false) => &["domain=test", "zap=1", "user=null-user"],
            (Security::PlainZap, true) => &["sec=plain-client"],
            (Security::PlainZap, false) => &["sec=plain-server", "zap=1", "user=admin"],
            (Security::CurveZap, true) | (Security::Curve, true) => &["sec=curve-client"],
            (Security::CurveZap, false) => &["sec=curve-server", "zap=1", "user=curve-client"],
            (Security::Curve, false) => &["sec=curve-server"],
        }
    }
}

const ASSIGNMENTS: &[(Impl, Impl)] = &[
    (Impl::Libzmq, Impl::Libzmq),
    (Impl::Ours, Impl::Libzmq),
    (Impl::Libzmq, Impl::Ours),
    (Impl::Ours, Impl::Ours),
];

struct Scenario {
    index: usize,
    transport: Transport,
    pair: Pair,
    variant: &'static Variant,
    a_binds: bool,
    /// ipc only: the connecting side starts, and returns from zmq_connect,
    /// before the other side binds (reconnection).
    connect_first: bool,
    impl_a: Impl,
    impl_b: Impl,
    security: Security,
}

impl Scenario {
    fn name(&self) -> String {
        let (ma, mb) = if self.a_binds {
            ("bind", "connect")
        } else {
            ("connect", "bind")
        };
        format!(
            "{}:{}({},{})-{}({},{}):{}{}{}",
            self.transport.name(),
            self.pair.a.ty,
            self.impl_a.name(),
            ma,
            self.pair.b.ty,
            self.impl_b.name(),
            mb,
            self.variant.name,
            if self.connect_first {
                ":connect-first"
            } else {
                ""
            },
            self.security.name()
        )
    }

    /// libzmq-libzmq, ours-libzmq, ... (A's implementation first).
    fn class(&self) -> String {
        format!("{}->{}", self.impl_a.name(), self.impl_b.name())
    }

    fn involves(&self, i: Impl) -> bool {
        self.impl_a == i || self.impl_b == i
    }

    fn bind_endpoint(&self) -> String {
        match self.transport {
            Transport::Tcp => "tcp://127.0.0.1:*".into(),
            Transport::Ipc => format!("ipc://{}", self.ipc_path().display()),
        }
    }

    fn ipc_path(&self) -> PathBuf {
        PathBuf::from(format!(
            "/tmp/ferrozmq-interop-{}-{}.sock",
            std::process::id(),
            self.index
        ))
    }

    /// argv after the program name for side A (`a == true`) or B.
    fn args(&self, a: bool, endpoint: &str) -> Vec<String> {
        let s = if a { &self.pair.a } else { &self.pair.b };
        let mode = if a == self.a_binds { "bind" } else { "connect" };
        let mut v: Vec<String> = vec![
            s.role.into(),
            s.ty.into(),
            mode.into(),
            endpoint.into(),
            format!("seed={}", 1000 + self.index),
            format!("timeout={PEER_WATCHDOG_S}"),
        ];
        v.extend(self.variant.opts.iter().map(|o| o.to_string()));
        v.extend(s.opts.iter().map(|o| o.to_string()));
        let own = if a {
            self.variant.a_opts
        } else {
            self.variant.b_opts
        };
        v.extend(own.iter().map(|o| o.to_string()));
        v.extend(self.security.opts(a).iter().map(|o| o.to_string()));
        v
    }
}

fn all_scenarios() -> Vec<Scenario> {
    let mut v = Vec::new();
    for security in [Security::Null].into_iter().chain(Security::SECURED) {
        for &(impl_a, impl_b) in ASSIGNMENTS {
            for transport in [Transport::Tcp, Transport::Ipc] {
                for pair in pairs() {
                    for variant in VARIANTS {
                        if !variant.only.admits(&pair) {
                            continue;
                        }
                        // NULL with ZAP: one shape is enough (the frames
                        // are NULL's; only the handshake differs).
                        if security == Security::NullZap && variant.name != "sizes" {
                            continue;
                        }
                        for a_binds in [false, true] {
                            // Connect before bind: ipc only (the path is
                            // known in advance, a tcp port * is not), one
                            // shape. Secured, four pairs: what it adds is
                            // the handshake after reconnecting (and a
                            // subscription resent), not the pattern.
                            let secured_pair = matches!(
                                (pair.a.ty, pair.b.ty),
                                ("PUSH", "PULL")
                                    | ("REQ", "REP")
                                    | ("DEALER", "ROUTER")
                                    | ("XPUB", "SUB")
                            );
                            let cf: &[bool] = if transport == Transport::Ipc
                                && variant.name == "sizes"
                                && (security == Security::Null || secured_pair)
                            {
                                &[false, true]
                            } else {
                                &[false]
                            };
                            for &connect_first in cf {
                                v.push(Scenario {
                                    index: v.len(),
                                    transport,
                                    pair: pair.clone(),
                                    variant,
                                    a_binds,
                                    connect_first,
                                    impl_a,
                                    impl_b,
                                    security,
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    v
}

// --------------------------------------------------------------- running

enum Outcome {
    Pass,
    /// The report, and whether the scenario hung (no side failed on its own
    /// before a watchdog or the harness stopped it).
    Fail(String, bool),
    Skip(String),
    /// Not run: its class already hung too often. Counted as failed.
    GaveUp(String),
}

/// One process's stdout/stderr, collected by reader threads.
struct Proc {
    label: String,
    cmdline: String,
    child: Child,
    out: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    status: Option<ExitStatus>,
    killed: bool,
}

/// Where "RELAY <line>" printed by one process goes: the other's stdin.
#[derive(Default)]
struct RelaySlot {
    stdin: Option<ChildStdin>,
    pending: Vec<String>,
}

impl RelaySlot {
    fn send(&mut self, line: &str) {
        match &mut self.stdin {
            Some(w) => {
                let _ = writeln!(w, "{line}");
                let _ = w.flush();
            }
            None => self.pending.push(line.to_string()),
        }
    }

    fn install(&mut self, mut w: ChildStdin) {
        for l in self.pending.drain(..) {
            let _ = writeln!(w, "{l}");
        }
        let _ = w.flush();
        self.stdin = Some(w);
    }
}

fn spawn(
    peer: &Peer,
    label: String,
    args: &[String],
    relay_to: Arc<Mutex<RelaySlot>>,
    ready: Option<(&'static str, mpsc::Sender<String>)>,
) -> Result<(Proc, ChildStdin), String> {
    let cmdline = format!("{} {}", peer.shell_prefix(), shell_join(args));
    let mut child = peer
        .command()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn {cmdline}: {e}"))?;
    let stdin = child.stdin.take().unwrap();
    let out = Arc::new(Mutex::new(String::new()));
    let stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let o1 = out.clone();
    let r1 = std::thread::spawn(move || {
        let mut ready = ready;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            o1.lock().unwrap().push_str(&format!("{line}\n"));
            if let Some((prefix, _)) = &ready {
                if let Some(ep) = line.strip_prefix(prefix) {
                    let _ = ready.take().unwrap().1.send(ep.to_string());
                    continue;
                }
            }
            if let Some(r) = line.strip_prefix("RELAY ") {
                relay_to.lock().unwrap().send(r);
            }
        }
        drop(ready);
    });
    let o2 = out.clone();
    let r2 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        if !s.is_empty() {
            o2.lock().unwrap().push_str(&format!("[stderr]\n{s}"));
        }
    });
    Ok((
        Proc {
            label,
            cmdline,
            child,
            out,
            readers: vec![r1, r2],
            status: None,
            killed: false,
        },
        stdin,
    ))
}

fn shell_join(args: &[String]) -> String {
    args.iter()
        .map(|a| {
            if a.chars().any(|c| " *'\"$&;()|<>".contains(c)) || a.is_empty() {
                format!("'{a}'")
            } else {
                a.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Waits for every process, then collects their output. Processes still
/// running at the deadline, or a grace period after another one failed, are
/// killed and named in the returned note.
fn finish(procs: &mut [Proc], deadline: Instant) -> Option<String> {
    let mut note = None;
    let mut first_failure: Option<Instant> = None;
    loop {
        let mut running = 0;
        for p in procs.iter_mut() {
            if p.status.is_none() {
                match p.child.try_wait() {
                    Ok(Some(st)) => {
                        if !st.success() && first_failure.is_none() {
                            first_failure = Some(Instant::now());
                        }
                        p.status = Some(st);
                    }
                    _ => running += 1,
                }
            }
        }
        if running == 0 {
            break;
        }
        let now = Instant::now();
        let why = if now > deadline {
            Some(format!("killed by the harness after {SCENARIO_TIMEOUT:?}"))
        } else if first_failure.is_some_and(|t| now - t > GRACE_AFTER_FAILURE) {
            Some(format!(
                "killed by the harness {GRACE_AFTER_FAILURE:?} after the other side failed"
            ))
        } else {
            None
        };
        if let Some(why) = why {
            for p in procs.iter_mut() {
                if p.status.is_none() {
                    let _ = p.child.kill();
                    p.status = p.child.wait().ok();
                    p.out.lock().unwrap().push_str(&format!("[{why}]\n"));
                    p.killed = true;
                }
            }
            note = Some(why);
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    for p in procs.iter_mut() {
        for r in p.readers.drain(..) {
            let _ = r.join();
        }
    }
    note
}

fn report(sc: &Scenario, why: &str, procs: &[Proc]) -> String {
    let mut s = format!("SCENARIO {}\n  {why}\n", sc.name());
    for p in procs {
        s.push_str(&format!(
            "  --- {} ({}): {}\n",
            p.label,
            match p.status {
                Some(st) => st.to_string(),
                None => "still running".into(),
            },
            p.cmdline
        ));
        for l in p.out.lock().unwrap().lines() {
            s.push_str(&format!("      | {l}\n"));
        }
    }
    s
}

fn run_scenario(sc: &Scenario, peers: &BTreeMap<Impl, Peer>) -> Outcome {
    let (Some(peer_a), Some(peer_b)) = (peers.get(&sc.impl_a), peers.get(&sc.impl_b)) else {
        return Outcome::Skip("peer not built".into());
    };
    let label = |a: bool| {
        let s = if a { &sc.pair.a } else { &sc.pair.b };
        let i = if a { sc.impl_a } else { sc.impl_b };
        let m = if a == sc.a_binds { "bind" } else { "connect" };
        format!("{} {} {} ({})", s.role, s.ty, m, i.name())
    };
    let ipc = (sc.transport == Transport::Ipc).then(|| sc.ipc_path());
    if let Some(p) = &ipc {
        let _ = fs::remove_file(p);
    }
    let deadline = Instant::now() + SCENARIO_TIMEOUT;

    // Normally the binder starts first and announces "ENDPOINT <resolved>";
    // with connect_first the connecter starts first and announces
    // "CONNECTING <endpoint>" once zmq_connect has returned.
    let first_is_a = sc.a_binds != sc.connect_first;
    let (first_peer, second_peer) = if first_is_a {
        (peer_a, peer_b)
    } else {
        (peer_b, peer_a)
    };
    let (ready, what) = if sc.connect_first {
        (
            "CONNECTING ",
            "the connecting side printed no CONNECTING line",
        )
    } else {
        ("ENDPOINT ", "the binding side printed no ENDPOINT line")
    };

    let to_first = Arc::new(Mutex::new(RelaySlot::default()));
    let to_second = Arc::new(Mutex::new(RelaySlot::default()));
    let (tx, rx) = mpsc::channel();
    let first_args = sc.args(first_is_a, &sc.bind_endpoint());
    let mut procs = Vec::new();
    match spawn(
        first_peer,
        label(first_is_a),
        &first_args,
        to_second.clone(),
        Some((ready, tx)),
    ) {
        Ok((p, stdin)) => {
            to_first.lock().unwrap().install(stdin);
            procs.push(p);
        }
        Err(e) => return Outcome::Fail(format!("SCENARIO {}\n  {e}\n", sc.name()), false),
    }
    let endpoint = match rx.recv_timeout(READY_TIMEOUT) {
        Ok(ep) => ep,
        Err(e) => {
            // Disconnected: it closed stdout, so it is exiting; give it a
            // moment to say why. Timeout: it is stuck.
            if e == mpsc::RecvTimeoutError::Timeout {
                let _ = procs[0].child.kill();
            }
            finish(&mut procs, Instant::now() + Duration::from_secs(2));
            cleanup(&ipc);
            let hung = procs[0].status.and_then(|s| s.code()) != Some(1);
            return Outcome::Fail(report(sc, what, &procs), hung);
        }
    };
    let second_args = sc.args(!first_is_a, &endpoint);
    match spawn(
        second_peer,
        label(!first_is_a),
        &second_args,
        to_first.clone(),
        None,
    ) {
        Ok((p, stdin)) => {
            to_second.lock().unwrap().install(stdin);
            procs.push(p);
        }
        Err(e) => {
            let _ = procs[0].child.kill();
            finish(&mut procs, deadline);
            cleanup(&ipc);
            return Outcome::Fail(report(sc, &e, &procs), false);
        }
    }
    let killed = finish(&mut procs, deadline);
    // Close the stdin pipes only now: a publisher waiting for GO must not
    // see EOF early.
    drop(to_first);
    drop(to_second);
    cleanup(&ipc);

    let ok = |p: &Proc| {
        p.status.is_some_and(|s| s.success())
            && p.out
                .lock()
                .unwrap()
                .lines()
                .last()
                .is_some_and(|l| l.starts_with("OK "))
    };
    if procs.iter().all(ok) {
        return Outcome::Pass;
    }
    // Hung: nobody failed by itself (exit 1); watchdogs (exit 3) or kills.
    let hung = !procs
        .iter()
        .any(|p| !p.killed && p.status.and_then(|s| s.code()) == Some(1));
    let why = match (&killed, hung) {
        (Some(k), true) => format!("hung ({k})"),
        (None, true) => "hung (watchdog)".to_string(),
        _ => "a side failed".to_string(),
    };
    Outcome::Fail(report(sc, &why, &procs), hung)
}

fn cleanup(ipc: &Option<PathBuf>) {
    if let Some(p) = ipc {
        let _ = fs::remove_file(p);
    }
}

/// Does `peer` do `transport`? `Err` carries a skip reason (ENOTSUP); any
/// other problem lets the scenarios run, and fail, so it gets seen.
fn probe(peer: &Peer, transport: Transport) -> Result<(), String> {
    let mut cmd = peer.command();
    cmd.arg("probe").arg(transport.name());
    if transport == Transport::Ipc {
        cmd.arg(format!(
            "ipc:///tmp/ferrozmq-interop-{}-probe.sock",
            std::process::id()
        ));
    }
    let out = cmd.output().map_err(|e| format!("probe: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let _ = fs::remove_file(format!(
        "/tmp/ferrozmq-interop-{}-probe.sock",
        std::process::id()
    ));
    match out.status.code() {
        Some(0) => Ok(()),
        Some(2) => Err(text),
        _ => {
            loud(&format!(
                "interop: probe of {} gave {:?}: {text}; running the scenarios anyway",
                transport.name(),
                out.status
            ));
            Ok(())
        }
    }
}

fn filter_matches(name: &str) -> bool {
    match std::env::var("INTEROP_FILTER") {
        Ok(f) => f.split_whitespace().all(|w| name.contains(w)),
        Err(_) => true,
    }
}

#[test]
fn interop_matrix() {
    let started = Instant::now();
    let mut peers = BTreeMap::new();
    let mut skip_impl: BTreeMap<Impl, String> = BTreeMap::new();
    // Ours must build: a failure here is a failure.
    peers.insert(
        Impl::Ours,
        build_peer(Impl::Ours).unwrap_or_else(|e| panic!("{e}")),
    );
    if Path::new("/usr/include/zmq.h").exists() {
        match build_peer(Impl::Libzmq) {
            Ok(p) => {
                peers.insert(Impl::Libzmq, p);
            }
            Err(e) => panic!("building the libzmq peer: {e}"),
        }
    } else {
        let why = "/usr/include/zmq.h missing (apt-get install libzmq3-dev)".to_string();
        loud(&format!(
            "interop: !!! SKIPPING every scenario with libzmq: {why}"
        ));
        skip_impl.insert(Impl::Libzmq, why);
    }

    // Transports our library does not offer yet.
    let mut skip_ours: BTreeMap<Transport, String> = BTreeMap::new();
    for t in [Transport::Tcp, Transport::Ipc] {
        if let Err(why) = probe(&peers[&Impl::Ours], t) {
            loud(&format!(
                "interop: !!! SKIPPING every scenario with ours over {}: our library says ENOTSUP ({why})",
                t.name()
            ));
            skip_ours.insert(t, why);
        }
        if let Some(lib) = peers.get(&Impl::Libzmq) {
            if let Err(why) = probe(lib, t) {
                panic!("Debian's libzmq does not do {}: {why}", t.name());
            }
        }
    }

    // Round-robin over the classes (implementations, transport), so a class
    // that hangs everywhere trips its breaker while the others make progress.
    let mut by_class: BTreeMap<(String, Transport), Vec<Scenario>> = BTreeMap::new();
    for sc in all_scenarios()
        .into_iter()
        .filter(|s| filter_matches(&s.name()))
    {
        by_class
            .entry((sc.class(), sc.transport))
            .or_default()
            .push(sc);
    }
    let mut scenarios: Vec<Scenario> = Vec::new();
    let mut lists: Vec<std::vec::IntoIter<Scenario>> =
        by_class.into_values().map(|v| v.into_iter()).collect();
    loop {
        let before = scenarios.len();
        for l in lists.iter_mut() {
            scenarios.extend(l.next());
        }
        if scenarios.len() == before {
            break;
        }
    }
    assert!(!scenarios.is_empty(), "INTEROP_FILTER matches no scenario");
    let jobs = std::env::var("INTEROP_JOBS")
        .ok()
        .and_then(|j| j.parse().ok())
        .unwrap_or(DEFAULT_JOBS)
        .max(1);
    let verbose = std::env::var("INTEROP_VERBOSE").is_ok_and(|v| v != "0");

    let budget = Duration::from_secs(
        std::env::var("INTEROP_BUDGET_S")
            .ok()
            .and_then(|j| j.parse().ok())
            .unwrap_or(DEFAULT_BUDGET_S),
    );
    let next = AtomicUsize::new(0);
    let reported = AtomicUsize::new(0);
    let hangs: Mutex<BTreeMap<(String, Transport), usize>> = Mutex::new(BTreeMap::new());
    let pair_failures: Mutex<BTreeMap<(String, Transport, String), usize>> =
        Mutex::new(BTreeMap::new());
    let results: Mutex<Vec<Option<Outcome>>> =
        Mutex::new((0..scenarios.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some(sc) = scenarios.get(i) else { break };
                let class = (sc.class(), sc.transport);
                let skip = [sc.impl_a, sc.impl_b]
                    .iter()
                    .find_map(|im| skip_impl.get(im).cloned())
                    .or_else(|| {
                        sc.involves(Impl::Ours)
                            .then(|| skip_ours.get(&sc.transport).cloned())
                            .flatten()
                    });
                let pair_key = (
                    class.0.clone(),
                    class.1,
                    format!("{}-{}", sc.pair.a.ty, sc.pair.b.ty),
                );
                let hung_before = hangs.lock().unwrap().get(&class).copied().unwrap_or(0);
                let failed_before = pair_failures
                    .lock()
                    .unwrap()
                    .get(&pair_key)
                    .copied()
                    .unwrap_or(0);
                let t0 = Instant::now();
                let outcome = match skip {
                    Some(why) => Outcome::Skip(why),
                    None if started.elapsed() > budget => {
                        Outcome::GaveUp(format!("the suite's time budget ({budget:?}) is spent"))
                    }
                    None if hung_before >= HANGS_BEFORE_GIVING_UP => Outcome::GaveUp(format!(
                        "{hung_before} scenarios of {} over {} hung already",
                        class.0,
                        class.1.name()
                    )),
                    None if failed_before >= FAILURES_BEFORE_GIVING_UP => Outcome::GaveUp(format!(
                        "{failed_before} scenarios of {} {} over {} failed already",
                        pair_key.2,
                        class.0,
                        class.1.name()
                    )),
                    None => run_scenario(sc, &peers),
                };
                if let Outcome::Fail(_, hung) = &outcome {
                    *pair_failures.lock().unwrap().entry(pair_key).or_insert(0) += 1;
                    if *hung {
                        *hangs.lock().unwrap().entry(class).or_insert(0) += 1;
                    }
                }
                let (tag, note) = match &outcome {
                    Outcome::Pass => ("ok", String::new()),
                    Outcome::Fail(..) => ("FAILED", String::new()),
                    Outcome::Skip(why) => ("skipped", format!(": {why}")),
                    Outcome::GaveUp(why) => ("NOT RUN", format!(": {why}")),
                };
                if verbose {
                    loud(&format!(
                        "interop: {} ... {tag} ({} ms){note}",
                        sc.name(),
                        t0.elapsed().as_millis()
                    ));
                }
                if let Outcome::Fail(r, _) = &outcome {
                    // Full reports for the first failures; then the
                    // scenario, the verdict and each side's last line.
                    if reported.fetch_add(1, Ordering::SeqCst) < FULL_REPORTS {
                        loud(&format!("interop: FAILED\n{r}"));
                    } else {
                        let short: Vec<&str> = r
                            .lines()
                            .filter(|l| {
                                l.starts_with("SCENARIO")
                                    || l.starts_with("  ")
                                        && !l.starts_with("  ---")
                                        && !l.contains("| ENDPOINT")
                                        && !l.contains("| CONNECTING")
                                        && !l.contains("| RELAY")
                            })
                            .collect();
                        loud(&format!(
                            "interop: FAILED (short report)\n{}",
                            short.join("\n")
                        ));
                    }
                }
                results.lock().unwrap()[i] = Some(outcome);
            });
        }
    });

    let results = results.into_inner().unwrap();
    // Per class (who plays A → who plays B) and transport: passed, failed,
    // skipped, not run.
    let mut table: BTreeMap<(String, &str), [usize; 4]> = BTreeMap::new();
    let (mut passed, mut failed, mut skipped, mut gave_up) = (0, 0, 0, 0);
    let mut failures = Vec::new();
    for (sc, r) in scenarios.iter().zip(&results) {
        let cell = table
            .entry((sc.class(), sc.transport.name()))
            .or_insert([0; 4]);
        match r.as_ref().expect("every scenario ran") {
            Outcome::Pass => {
                passed += 1;
                cell[0] += 1;
            }
            Outcome::Fail(..) => {
                failed += 1;
                cell[1] += 1;
                failures.push(sc.name());
            }
            Outcome::Skip(_) => {
                skipped += 1;
                cell[2] += 1;
            }
            Outcome::GaveUp(_) => {
                gave_up += 1;
                cell[3] += 1;
                failures.push(format!("{} (not run)", sc.name()));
            }
        }
    }
    loud("interop: class (A -> B: A is the sender, publisher or client)");
    for ((class, t), [p, f, s, g]) in &table {
        let g = if *g > 0 {
            format!(", {g} NOT RUN (too many failures or out of time)")
        } else {
            String::new()
        };
        loud(&format!(
            "interop: {class:>15} {t}: {p} passed, {f} failed, {s} skipped{g}"
        ));
    }
    if !failures.is_empty() {
        loud("interop: failed scenarios:");
        for f in &failures {
            loud(&format!("  {f}"));
        }
    }
    let g = if gave_up > 0 {
        format!(" (of which {gave_up} not run: too many failures before, or out of time)")
    } else {
        String::new()
    };
    loud(&format!(
        "interop: {passed} passed, {} failed, {skipped} skipped{g} ({:.1} s, {jobs} at once)",
        failed + gave_up,
        started.elapsed().as_secs_f64()
    ));
    for (t, why) in &skip_ours {
        loud(&format!(
            "interop: !!! {} scenarios with ours were SKIPPED: {why}",
            t.name()
        ));
    }
    assert!(
        failed + gave_up == 0,
        "{} interop scenarios failed: {failures:#?}",
        failed + gave_up
    );
}
