//! ipc endpoints: `ipc://path`, abstract `ipc://@name`, and `ipc://*`
//! (a fresh path in a private temporary directory). A bound path is
//! removed when its listener goes (unbind or close).

use std::ffi::OsStr;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use socket2::{Domain, SockAddr, Socket, Type};

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

    fn socket_addr(&self) -> std::io::Result<SockAddr> {
        match self {
            Path::File(p) => SockAddr::unix(p),
            Path::Abstract(name) => {
                // A leading NUL names the abstract namespace.
                let mut bytes = Vec::with_capacity(name.len() + 1);
                bytes.push(0);
                bytes.extend_from_slice(name);
                SockAddr::unix(OsStr::from_bytes(&bytes))
            }
        }
    }

    /// A non-blocking connect, as libzmq's: says whether it is still in
    /// progress; on failure `closed` gets the descriptor of the socket made
    /// for it, which libzmq's monitor reports closed.
    pub fn start(
        &self,
        closed: &mut Option<RawFd>,
    ) -> std::io::Result<(mio::net::UnixStream, bool)> {
        let addr = self.socket_addr()?;
        let sock = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        let start = |sock: &Socket| -> std::io::Result<bool> {
            sock.set_nonblocking(true)?;
            match sock.connect(&addr) {
                Ok(()) => Ok(false),
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(true),
                Err(e) => Err(e),
            }
        };
        match start(&sock) {
            Ok(in_progress) => {
                let std: std::os::unix::net::UnixStream = sock.into();
                Ok((mio::net::UnixStream::from_std(std), in_progress))
            }
            Err(e) => {
                *closed = Some(sock.as_raw_fd());
                Err(e)
            }
        }
    }
}

/// Removes a bound socket file (and the directory `ipc://*` made).
#[derive(Debug, Default)]
pub struct Cleanup {
    file: Option<PathBuf>,
    dir: Option<PathBuf>,
}

impl Cleanup {
    /// Removes them now. Only for `ipc://*` does a failure count, as in
    /// libzmq (whose monitor reports it as CLOSE_FAILED); the file of an
    /// explicit path is removed on a best-effort basis.
    pub fn remove(&mut self) -> std::io::Result<()> {
        let file = self.file.take();
        let Some(dir) = self.dir.take() else {
            if let Some(f) = file {
                let _ = std::fs::remove_file(f);
            }
            return Ok(());
        };
        let removed = match file {
            Some(f) => std::fs::remove_file(f),
            None => Ok(()),
        };
        match removed {
            Ok(()) => std::fs::remove_dir(dir),
            Err(e) => {
                // Still tidy up what can be.
                let _ = std::fs::remove_dir(dir);
                Err(e)
            }
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = self.remove();
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

pub fn bind(address: &str, backlog: i32) -> Result<(Listener, String)> {
    bind_noting(address, backlog, &mut None)
}

/// As `bind`; when the bind fails after its socket was made, `closed` gets
/// that socket's descriptor, which libzmq's monitor reports closed.
pub fn bind_noting(
    address: &str,
    backlog: i32,
    closed: &mut Option<RawFd>,
) -> Result<(Listener, String)> {
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
    let sock = Socket::new(Domain::UNIX, Type::STREAM, None).map_err(Error::from)?;
    let listen = |sock: &Socket| -> std::io::Result<()> {
        sock.bind(&addr)?;
        sock.listen(backlog.max(1))?;
        sock.set_nonblocking(true)
    };
    if let Err(e) = listen(&sock) {
        *closed = Some(sock.as_raw_fd());
        return Err(match e.kind() {
            std::io::ErrorKind::AddrInUse => Error::AddrInUse,
            std::io::ErrorKind::NotFound => Error::NoEnt,
            _ => Error::from(e),
        });
    }
    let listener: std::os::unix::net::UnixListener = sock.into();
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
