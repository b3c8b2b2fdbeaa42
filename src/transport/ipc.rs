//! ipc endpoints: `ipc://path`, abstract `ipc://@name`, and `ipc://*`
//! (a fresh path in a private temporary directory). A bound path is
//! removed when its listener goes (unbind or close).

use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::SocketAddr;
use std::path::PathBuf;

use super::Listener;
use crate::error::{Error, Result};

/// Linux's limit on a socket path (sun_path), with its NUL.
const MAX_PATH: usize = 107;

#[derive(Clone, Debug)]
pub enum Path {
    File(PathBuf),
    Abstract(Vec<u8>),
}

impl Path {
    pub fn parse(address: &str) -> Result<Path> {
        if address.len() > MAX_PATH {
            return Err(Error::NameTooLong);
        }
        Ok(match address.strip_prefix('@') {
            Some(name) => Path::Abstract(name.as_bytes().to_vec()),
            None => Path::File(PathBuf::from(address)),
        })
    }

    fn socket_addr(&self) -> std::io::Result<SocketAddr> {
        match self {
            Path::File(p) => SocketAddr::from_pathname(p),
            Path::Abstract(name) => SocketAddr::from_abstract_name(name),
        }
    }

    pub fn connect(&self) -> std::io::Result<mio::net::UnixStream> {
        let s = std::os::unix::net::UnixStream::connect_addr(&self.socket_addr()?)?;
        s.set_nonblocking(true)?;
        Ok(mio::net::UnixStream::from_std(s))
    }
}

/// Removes a bound socket file (and the directory `ipc://*` made).
#[derive(Debug, Default)]
pub struct Cleanup {
    file: Option<PathBuf>,
    dir: Option<PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Some(f) = &self.file {
            let _ = std::fs::remove_file(f);
        }
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir(d);
        }
    }
}

fn wildcard_dir() -> Result<PathBuf> {
    let base = std::env::temp_dir();
    for attempt in 0..100u32 {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        let dir = base.join(format!(
            "ferrozmq-{}-{:08x}-{attempt}",
            std::process::id(),
            nanos
        ));
        if std::fs::create_dir(&dir).is_ok() {
            return Ok(dir);
        }
    }
    Err(Error::AddrInUse)
}

pub fn bind(address: &str, _backlog: i32) -> Result<(Listener, String)> {
    let mut cleanup = Cleanup::default();
    let path = if address == "*" {
        let dir = wildcard_dir()?;
        let file = dir.join("socket");
        cleanup.dir = Some(dir);
        Path::File(file)
    } else {
        Path::parse(address)?
    };
    if let Path::File(p) = &path {
        // A file left by an earlier run would refuse the bind; libzmq
        // removes it first, and so do we.
        let _ = std::fs::remove_file(p);
    }
    let addr = path.socket_addr().map_err(|_| Error::Inval)?;
    let listener =
        std::os::unix::net::UnixListener::bind_addr(&addr).map_err(|e| match e.kind() {
            std::io::ErrorKind::AddrInUse => Error::AddrInUse,
            std::io::ErrorKind::NotFound => Error::NoEnt,
            _ => Error::from(e),
        })?;
    listener.set_nonblocking(true).map_err(Error::from)?;
    let endpoint = match &path {
        Path::File(p) => {
            cleanup.file = Some(p.clone());
            format!("ipc://{}", p.display())
        }
        Path::Abstract(name) => format!("ipc://@{}", String::from_utf8_lossy(name)),
    };
    Ok((
        Listener::Ipc(mio::net::UnixListener::from_std(listener), cleanup),
        endpoint,
    ))
}
