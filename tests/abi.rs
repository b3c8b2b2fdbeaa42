//! Holds our `include/zmq.h` and `libzmq.so` against Debian's libzmq 4.3.4
//! (`/usr/include/zmq.h`, `libzmq.so.5`), which a program built for libzmq
//! must not be able to tell apart from ours:
//!
//! - every integer, string and marker macro of Debian's header exists in
//!   ours with the same value, with and without `ZMQ_BUILD_DRAFT_API`;
//! - every function has a compatible prototype: Debian's declarations
//!   (from `gcc -aux-info`) are repeated after including our header, and C
//!   rejects a conflicting redeclaration; the function sets are equal;
//! - `zmq_msg_t` and `zmq_pollitem_t` have the same size, alignment and
//!   field offsets;
//! - our cdylib exports every function Debian's exports, with SONAME
//!   `libzmq.so.5`;
//! - `capi-tests/bad_input.c` passes against ours and, for the inputs
//!   libzmq survives, against Debian's libzmq (which validates the errno
//!   it expects).
//!
//! Without Debian's header or library the comparisons are skipped, loudly.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const DEBIAN_HEADER: &str = "/usr/include/zmq.h";
const DEBIAN_LIB: &str = "/usr/lib/x86_64-linux-gnu/libzmq.so.5";

/// Draft macros libzmq declares that we knowingly lack (none now: the
/// draft poller, which `ZMQ_HAVE_POLLER` promises, exists).
const DRAFT_ABSENT: &[&str] = &[];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn have_debian_header() -> bool {
    if Path::new(DEBIAN_HEADER).exists() {
        return true;
    }
    eprintln!("\n*** SKIPPED: {DEBIAN_HEADER} is missing (install libzmq3-dev) ***\n");
    false
}

/// The C compiler the `cc` crate would use for this target.
fn cc() -> Command {
    let target = env!("FERRO_TARGET");
    cc::Build::new()
        .target(target)
        .host(target)
        .opt_level(0)
        .cargo_metadata(false)
        .get_compiler()
        .to_command()
}

fn run(mut cmd: Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Where our `libzmq.so` is: `cargo test` builds the cdylib next to the
/// test binaries (`target/<profile>/deps`) without copying it up to
/// `target/<profile>`, so that copy may be stale; we build it if neither
/// exists.
fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap().to_path_buf();
    if deps.join("libzmq.so").exists() {
        return deps;
    }
    let dir = deps.parent().unwrap().to_path_buf();
    if !dir.join("libzmq.so").exists() {
        let mut build = Command::new(env!("CARGO"));
        build.arg("build").current_dir(repo());
        if dir.ends_with("release") {
            build.arg("--release");
        }
        run(build);
    }
    assert!(
        dir.join("libzmq.so").exists(),
        "no libzmq.so in {}",
        dir.display()
    );
    dir
}

/// A directory holding `libzmq.so.5` -> our library, for the loader.
fn soname_dir() -> PathBuf {
    let dir = scratch("soname");
    let link = dir.join("libzmq.so.5");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(lib_dir().join("libzmq.so"), &link).unwrap();
    dir
}

// ---------------------------------------------------------------- macros

/// `NAME -> body` of every macro a translation unit ends up with.
fn macros(source: &str, defines: &[&str]) -> BTreeMap<String, String> {
    let mut cmd = cc();
    cmd.args(["-E", "-dM", "-x", "c", "-"]).args(defines);
    cmd.stdin(std::process::Stdio::piped());
    cmd.stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(source.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("#define "))
        .map(|l| {
            // Function-like macros keep their parameter list in the name.
            let split = match (l.find('('), l.find(' ')) {
                (Some(p), Some(s)) if p < s => l[p..].find(')').map(|e| p + e + 1).unwrap_or(s),
                (_, Some(s)) => s,
                (_, None) => l.len(),
            };
            let (name, body) = l.split_at(split);
            (name.to_string(), body.trim().to_string())
        })
        .collect()
}

/// The macros Debian's zmq.h adds on top of the system headers it includes.
fn debian_macros(defines: &[&str]) -> BTreeMap<String, String> {
    let system = macros(
        "#include <errno.h>\n#include <stddef.h>\n#include <stdio.h>\n#include <stdint.h>\n",
        defines,
    );
    macros(&format!("#include \"{DEBIAN_HEADER}\"\n"), defines)
        .into_iter()
        .filter(|(name, _)| !system.contains_key(name))
        .collect()
}

/// A C program printing every macro of `names` as `NAME value`, or
/// `NAME MISSING`; built with `include` first on the include path.
fn print_macros(
    names: &BTreeMap<String, String>,
    include: &Path,
    defines: &[&str],
    tag: &str,
) -> String {
    let mut c = String::from("#include <stdio.h>\n#include \"zmq.h\"\nint main (void)\n{\n");
    for (name, body) in names {
        if let Some(base) = name.strip_suffix(')').and_then(|n| n.split('(').next()) {
            // Only ZMQ_MAKE_VERSION is function-like; try it on sample values.
            c += &format!(
                "#ifdef {base}\n printf (\"{base}(1,2,3) %lld\\n\", (long long) {base} (1, 2, 3));\n#else\n puts (\"{base} MISSING\");\n#endif\n"
            );
            continue;
        }
        let show = if body.is_empty() {
            format!(" puts (\"{name} defined\");")
        } else if body.starts_with('"') {
            format!(" printf (\"{name} \\\"%s\\\"\\n\", {name});")
        } else {
            format!(" printf (\"{name} %lld\\n\", (long long) ({name}));")
        };
        c += &format!("#ifdef {name}\n{show}\n#else\n puts (\"{name} MISSING\");\n#endif\n");
    }
    c += " return 0;\n}\n";
    let dir = scratch(&format!("macros-{tag}"));
    std::fs::write(dir.join("print.c"), c).unwrap();
    let exe = dir.join("print");
    let mut build = cc();
    build
        .arg("-I")
        .arg(include)
        .args(defines)
        .arg(dir.join("print.c"))
        .arg("-o")
        .arg(&exe);
    run(build);
    run(Command::new(exe))
}

fn compare_macros(draft: bool) {
    if !have_debian_header() {
        return;
    }
    let defines: &[&str] = if draft {
        &["-DZMQ_BUILD_DRAFT_API"]
    } else {
        &[]
    };
    let tag = if draft { "draft" } else { "stable" };
    let names = debian_macros(defines);
    assert!(
        names.len() > 150,
        "too few macros found in {DEBIAN_HEADER}: {}",
        names.len()
    );
    let theirs = print_macros(
        &names,
        Path::new("/usr/include"),
        defines,
        &format!("{tag}-debian"),
    );
    let ours = print_macros(
        &names,
        &repo().join("include"),
        defines,
        &format!("{tag}-ours"),
    );
    let mut diffs = Vec::new();
    for (t, o) in theirs.lines().zip(ours.lines()) {
        let name = t.split(' ').next().unwrap();
        if t != o && !(draft && DRAFT_ABSENT.contains(&name)) {
            diffs.push(format!("  Debian: {t}\n  ours:   {o}"));
        }
    }
    assert_eq!(theirs.lines().count(), ours.lines().count());
    assert!(
        diffs.is_empty(),
        "{tag} macros differ:\n{}",
        diffs.join("\n")
    );
}

#[test]
fn constants_match_debian() {
    compare_macros(false);
}

#[test]
fn draft_constants_match_debian() {
    compare_macros(true);
}

// ------------------------------------------------------------ prototypes

/// The function declarations `gcc -aux-info` finds in `header`, by name.
fn prototypes(header: &Path, defines: &[&str], tag: &str) -> BTreeMap<String, String> {
    let dir = scratch(&format!("protos-{tag}"));
    let info = dir.join("aux-info.txt");
    let mut cmd = cc();
    cmd.arg("-aux-info")
        .arg(&info)
        .args(["-fsyntax-only", "-x", "c"])
        .args(defines)
        .arg(header);
    run(cmd);
    let text = std::fs::read_to_string(&info).unwrap();
    let marker = format!("{}:", header.display());
    text.lines()
        .filter(|l| l.contains(&marker))
        .filter_map(|l| l.split_once("*/").map(|(_, decl)| decl.trim().to_string()))
        .map(|decl| {
            let name = decl.split('(').next().unwrap().trim_end();
            let name = name.rsplit([' ', '*']).next().unwrap().to_string();
            (name, decl)
        })
        .collect()
}

fn gcc_available() -> bool {
    // `cc --version` names the distribution ("cc (Debian 12.2.0-14) ..."),
    // not the compiler; `cc -v` says "gcc version" for gcc alone.
    let out = cc().arg("-v").output().unwrap();
    let v = String::from_utf8_lossy(&out.stderr);
    if v.contains("clang") || !v.contains("gcc version") {
        eprintln!("\n*** SKIPPED: prototype check needs gcc's -aux-info ***\n");
        return false;
    }
    true
}

fn compare_prototypes(draft: bool) {
    if !have_debian_header() || !gcc_available() {
        return;
    }
    let defines: &[&str] = if draft {
        &["-DZMQ_BUILD_DRAFT_API"]
    } else {
        &[]
    };
    let tag = if draft { "draft" } else { "stable" };
    let theirs = prototypes(Path::new(DEBIAN_HEADER), defines, &format!("{tag}-debian"));
    let ours_header = repo().join("include/zmq.h");
    let ours = prototypes(&ours_header, defines, &format!("{tag}-ours"));
    assert!(theirs.len() >= 70, "too few prototypes in {DEBIAN_HEADER}");

    let their_names: BTreeSet<_> = theirs.keys().collect();
    let our_names: BTreeSet<_> = ours.keys().collect();
    let extra: Vec<_> = our_names.difference(&their_names).collect();
    assert!(
        extra.is_empty(),
        "functions libzmq does not declare: {extra:?}"
    );
    let missing: Vec<_> = their_names.difference(&our_names).collect();
    if draft {
        if !missing.is_empty() {
            eprintln!("note: draft functions not provided yet: {missing:?}");
        }
    } else {
        assert!(
            missing.is_empty(),
            "functions missing from our zmq.h: {missing:?}"
        );
    }

    // Debian's declarations, repeated after ours: C accepts a redeclaration
    // only if the types are compatible.
    let mut c = String::from("#include \"zmq.h\"\n");
    for (name, decl) in &theirs {
        if ours.contains_key(name) {
            c += decl;
            c += "\n";
        }
    }
    let dir = scratch(&format!("protos-{tag}"));
    std::fs::write(dir.join("redeclare.c"), c).unwrap();
    let mut cmd = cc();
    cmd.args([
        "-fsyntax-only",
        "-Wall",
        "-Wextra",
        "-Werror",
        "-pedantic",
        "-std=c99",
    ])
    .args(defines)
    .arg("-I")
    .arg(repo().join("include"))
    .arg(dir.join("redeclare.c"));
    run(cmd);
}

#[test]
fn prototypes_match_debian() {
    compare_prototypes(false);
}

#[test]
fn draft_prototypes_match_debian() {
    compare_prototypes(true);
}

/// Our header also has to be clean C++ (the `extern "C"` guards).
#[test]
fn header_compiles_as_cxx_and_strict_c() {
    let dir = scratch("strict");
    let src = dir.join("use.c");
    std::fs::write(
        &src,
        "#include \"zmq.h\"\n#include \"zmq.h\"\nint main (void) { zmq_msg_t m; return zmq_msg_init (&m); }\n",
    )
    .unwrap();
    for std in ["-std=c99", "-std=c11", "-std=gnu89"] {
        for draft in [None, Some("-DZMQ_BUILD_DRAFT_API")] {
            let mut cmd = cc();
            cmd.args(["-fsyntax-only", "-Wall", "-Wextra", "-Werror", std])
                .args(draft)
                .arg("-I")
                .arg(repo().join("include"))
                .arg(&src);
            if std != "-std=gnu89" {
                cmd.arg("-pedantic");
            }
            run(cmd);
        }
    }
    let cxx = if cc().get_program().to_string_lossy().contains("clang") {
        "clang++"
    } else {
        "g++"
    };
    if Command::new(cxx).arg("--version").output().is_ok() {
        let mut cmd = Command::new(cxx);
        cmd.args(["-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-x", "c++"])
            .arg("-I")
            .arg(repo().join("include"))
            .arg(&src);
        run(cmd);
    } else {
        eprintln!("\n*** SKIPPED: no {cxx} for the C++ check ***\n");
    }
}

// ---------------------------------------------------------------- layout

fn layout(include: &Path, tag: &str) -> String {
    let dir = scratch(&format!("layout-{tag}"));
    let exe = dir.join("layout");
    let mut cmd = cc();
    cmd.args(["-std=c11", "-I"])
        .arg(include)
        .arg(repo().join("capi-tests/abi/layout.c"))
        .arg("-o")
        .arg(&exe);
    run(cmd);
    run(Command::new(exe))
}

#[test]
fn layouts_match_debian() {
    let ours = layout(&repo().join("include"), "ours");
    // The Rust side of the same types.
    use zmq::ffi::message::zmq_msg_t;
    use zmq::ffi::poll::zmq_pollitem_t;
    let rust = format!(
        "sizeof (zmq_msg_t) {}\nalignof (zmq_msg_t) {}\nsizeof (zmq_pollitem_t) {}\nalignof (zmq_pollitem_t) {}\n\
         offsetof (zmq_pollitem_t, socket) {}\noffsetof (zmq_pollitem_t, fd) {}\n\
         offsetof (zmq_pollitem_t, events) {}\noffsetof (zmq_pollitem_t, revents) {}\n",
        std::mem::size_of::<zmq_msg_t>(),
        std::mem::align_of::<zmq_msg_t>(),
        std::mem::size_of::<zmq_pollitem_t>(),
        std::mem::align_of::<zmq_pollitem_t>(),
        std::mem::offset_of!(zmq_pollitem_t, socket),
        std::mem::offset_of!(zmq_pollitem_t, fd),
        std::mem::offset_of!(zmq_pollitem_t, events),
        std::mem::offset_of!(zmq_pollitem_t, revents),
    );
    assert!(
        ours.starts_with(&rust),
        "Rust and C layouts differ:\nC:\n{ours}\nRust:\n{rust}"
    );
    if !have_debian_header() {
        return;
    }
    let theirs = layout(Path::new("/usr/include"), "debian");
    assert_eq!(theirs, ours, "struct layouts differ from Debian's");
}

// --------------------------------------------------------------- symbols

fn exported_functions(lib: &Path) -> BTreeSet<String> {
    let mut cmd = Command::new("nm");
    cmd.args(["-D", "--defined-only"]).arg(lib);
    run(cmd)
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (_, kind, name) = (f.next()?, f.next()?, f.next()?);
            (kind == "T").then(|| name.to_string())
        })
        .collect()
}

#[test]
fn exports_and_soname_match_debian() {
    let ours_path = lib_dir().join("libzmq.so");
    let mut readelf = Command::new("readelf");
    readelf.arg("-d").arg(&ours_path);
    let dynamic = run(readelf);
    assert!(
        dynamic
            .lines()
            .any(|l| l.contains("(SONAME)") && l.contains("[libzmq.so.5]")),
        "SONAME is not libzmq.so.5:\n{dynamic}"
    );
    let ours = exported_functions(&ours_path);
    if !Path::new(DEBIAN_LIB).exists() {
        eprintln!("\n*** SKIPPED: {DEBIAN_LIB} is missing (install libzmq5) ***\n");
        return;
    }
    let theirs = exported_functions(Path::new(DEBIAN_LIB));
    assert!(theirs.len() >= 70);
    let missing: Vec<_> = theirs.difference(&ours).collect();
    assert!(
        missing.is_empty(),
        "functions Debian's libzmq exports and ours does not: {missing:?}"
    );
    let extra: Vec<_> = ours
        .iter()
        .filter(|n| n.starts_with("zmq_") && !theirs.contains(*n))
        .collect();
    if !extra.is_empty() {
        eprintln!("note: zmq_ functions only we export: {extra:?}");
    }
}

// ------------------------------------------------------------- bad input

fn build_bad_input(include: &Path, ours: bool) -> PathBuf {
    let tag = if ours { "ours" } else { "debian" };
    let dir = scratch(&format!("bad-input-{tag}"));
    let exe = dir.join("bad_input");
    let mut cmd = cc();
    cmd.args(["-std=gnu99", "-Wall", "-Werror", "-I"])
        .arg(include)
        .arg(repo().join("capi-tests/bad_input.c"))
        .arg("-o")
        .arg(&exe);
    if ours {
        let so = soname_dir();
        cmd.arg("-DFERROZMQ")
            .arg("-L")
            .arg(lib_dir())
            .arg(format!("-Wl,-rpath,{}", so.display()));
    }
    cmd.args(["-lzmq", "-lpthread", "-ldl"]);
    run(cmd);
    exe
}

fn run_bad_input(exe: &Path, lib: Option<&Path>) -> String {
    let mut cmd = Command::new(exe);
    // cargo puts target/<profile> on LD_LIBRARY_PATH for tests, where a
    // libzmq.so.5 link to a stale build of ours may sit: only the caller's
    // choice (or the binary's own rpath) may pick the library.
    match lib {
        Some(dir) => cmd.env("LD_LIBRARY_PATH", dir),
        None => cmd.env_remove("LD_LIBRARY_PATH"),
    };
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{} failed ({:?}):\n{text}",
        exe.display(),
        out.status
    );
    text
}

#[test]
fn bad_input_against_ours() {
    let exe = build_bad_input(&repo().join("include"), true);
    let text = run_bad_input(&exe, Some(&soname_dir()));
    // The library that ran must be ours, not Debian's.
    let so = soname_dir();
    assert!(
        text.contains(&format!("library: {}", so.display())),
        "{text}"
    );
}

/// The same expectations, on libzmq itself: where it does not crash, it
/// must give the errno we assert.
#[test]
fn bad_input_against_debian() {
    if !have_debian_header() || !Path::new(DEBIAN_LIB).exists() {
        return;
    }
    let exe = build_bad_input(Path::new("/usr/include"), false);
    let text = run_bad_input(&exe, None);
    assert!(
        text.contains("library: /") && !text.contains("soname"),
        "{text}"
    );
}
