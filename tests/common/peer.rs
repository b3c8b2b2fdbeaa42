//! `interop/peer.c` built against either library: ours (our `include/zmq.h`
//! and freshly built `libzmq.so`) or Debian's (`/usr/include/zmq.h`,
//! `-lzmq`), with the environment that makes each load its own.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{c_compiler, repo_root};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub enum Impl {
    Ours,
    Libzmq,
}

impl Impl {
    pub fn name(self) -> &'static str {
        match self {
            Impl::Ours => "ours",
            Impl::Libzmq => "libzmq",
        }
    }
}

/// A built peer and the environment that makes it load the right library.
pub struct Peer {
    pub bin: PathBuf,
    /// `Some(dir)`: run with LD_LIBRARY_PATH=dir; `None`: with it removed
    /// (`cargo test` puts target/<profile> on it, where ours lives).
    pub ld_path: Option<PathBuf>,
    /// ldd's line for the libzmq.so.5 it loads.
    pub loads: String,
}

impl Peer {
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.bin);
        match &self.ld_path {
            Some(p) => cmd.env("LD_LIBRARY_PATH", p),
            None => cmd.env_remove("LD_LIBRARY_PATH"),
        };
        cmd
    }

    /// For the reproduction lines printed on failure.
    pub fn shell_prefix(&self) -> String {
        match &self.ld_path {
            Some(p) => format!("LD_LIBRARY_PATH={} {}", p.display(), self.bin.display()),
            None => format!("env -u LD_LIBRARY_PATH {}", self.bin.display()),
        }
    }
}

/// Compiles peer.c into `scratch` for `which`; `our_lib` is the directory
/// from `link_our_library`. Checks with ldd which libzmq.so.5 it loads, so
/// a run can't silently test the wrong library.
pub fn build(which: Impl, scratch: &Path, our_lib: &Path) -> Result<Peer, String> {
    let src = repo_root().join("interop").join("peer.c");
    let out = scratch.join(format!("peer-{}", which.name()));
    let mut cmd = c_compiler(1);
    cmd.arg("-Wall").arg(&src).arg("-o").arg(&out);
    let ld_path = match which {
        Impl::Ours => {
            cmd.arg(format!("-I{}", repo_root().join("include").display()))
                .arg(format!("-L{}", our_lib.display()))
                .arg("-lzmq")
                .arg(format!("-Wl,-rpath,{}", our_lib.display()));
            Some(our_lib.to_path_buf())
        }
        Impl::Libzmq => {
            // Debian's header and library only: no -I to ours, no rpath.
            cmd.arg("-I/usr/include").arg("-lzmq");
            None
        }
    };
    super::compile(&mut cmd, &format!("peer ({})", which.name()))?;
    let mut ldd = Command::new("ldd");
    ldd.arg(&out);
    match &ld_path {
        Some(p) => ldd.env("LD_LIBRARY_PATH", p),
        None => ldd.env_remove("LD_LIBRARY_PATH"),
    };
    let ldd_out = ldd.output().map_err(|e| format!("ldd: {e}"))?;
    let line = String::from_utf8_lossy(&ldd_out.stdout)
        .lines()
        .find(|l| l.contains("libzmq.so"))
        .map(|l| l.trim().to_string())
        .unwrap_or_default();
    let ours_dir = our_lib.to_str().unwrap_or("?").to_string();
    let ok = match which {
        Impl::Ours => line.contains(&ours_dir),
        Impl::Libzmq => {
            line.contains("=> /") && !line.contains(&ours_dir) && !line.contains("/target/")
        }
    };
    if !ok {
        return Err(format!(
            "peer-{} would load the wrong libzmq: {line:?}",
            which.name()
        ));
    }
    Ok(Peer {
        bin: out,
        ld_path,
        loads: line,
    })
}
