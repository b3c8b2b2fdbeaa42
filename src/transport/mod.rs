//! Transports over the network stack: addresses, listeners and streams
//! for tcp and ipc, behind one `Stream`/`Listener` pair so sessions do not
//! care which they run on.

pub mod filter;
pub mod ipc;
pub mod nic;
pub mod socks;
pub mod tcp;

use std::io::{self, IoSlice, Read, Write};
use std::os::fd::{AsFd, AsRawFd, RawFd};

use mio::event::Source;
use mio::{Interest, Registry, Token};

use crate::error::{Error, Result};
use crate::options::Options;

/// A connected byte stream.
pub enum Stream {
    Tcp(mio::net::TcpStream),
    Ipc(mio::net::UnixStream),
}

/// What one `Listener::accept` brought.
pub enum Accepted {
    Stream(Stream),
    /// A connection the accept filters refused; it is closed already.
    Refused,
    /// None was waiting.
    Nothing,
}

/// A bound, listening endpoint.
pub enum Listener {
    Tcp(mio::net::TcpListener, tcp::Tuning),
    Ipc(mio::net::UnixListener, ipc::Cleanup),
}

impl Stream {
    pub fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.read(buf),
            Stream::Ipc(s) => s.read(buf),
        }
    }

    pub fn write_vectored(&mut self, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
        match self {
            Stream::Tcp(s) => s.write_vectored(bufs),
            Stream::Ipc(s) => s.write_vectored(bufs),
        }
    }

    /// The descriptor, as monitor events report it.
    pub fn fd(&self) -> RawFd {
        match self {
            Stream::Tcp(s) => s.as_raw_fd(),
            Stream::Ipc(s) => s.as_raw_fd(),
        }
    }

    /// Our end as libzmq names it in monitor events: `tcp://ip:port`,
    /// `ipc://path` (`ipc://@name` abstract, `ipc://` unnamed).
    pub fn local_endpoint(&self) -> String {
        match self {
            Stream::Tcp(s) => s.local_addr().map(tcp_endpoint).unwrap_or_default(),
            Stream::Ipc(s) => s.local_addr().map(|a| ipc_endpoint(&a)).unwrap_or_default(),
        }
    }

    /// The peer's end, named as `local_endpoint` names ours.
    pub fn peer_endpoint(&self) -> String {
        match self {
            Stream::Tcp(s) => s.peer_addr().map(tcp_endpoint).unwrap_or_default(),
            Stream::Ipc(s) => s.peer_addr().map(|a| ipc_endpoint(&a)).unwrap_or_default(),
        }
    }

    /// The peer's address as `zmq_msg_gets("Peer-Address")` reports it:
    /// the numeric host, and over ipc, where libzmq's getnameinfo call
    /// names every unix socket "localhost", the peer's ":uid:gid:pid".
    pub fn peer_address(&self) -> String {
        match self {
            Stream::Tcp(s) => s
                .peer_addr()
                .map(|a| a.ip().to_string())
                .unwrap_or_default(),
            // libzmq names no peer it cannot getpeername.
            Stream::Ipc(s) if s.peer_addr().is_err() => String::new(),
            Stream::Ipc(s) => match crate::ffi::sys::peer_credentials(s.as_fd()) {
                Ok((uid, gid, pid)) => format!("localhost:{uid}:{gid}:{pid}"),
                Err(_) => "localhost".to_string(),
            },
        }
    }

    /// For a connect in progress: true once connected, Err if it failed.
    pub fn connect_result(&self) -> io::Result<bool> {
        match self {
            Stream::Tcp(s) => {
                if let Some(e) = s.take_error()? {
                    return Err(e);
                }
                match s.peer_addr() {
                    Ok(_) => Ok(true),
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(false),
                    Err(e) => Err(e),
                }
            }
            Stream::Ipc(s) => {
                if let Some(e) = s.take_error()? {
                    return Err(e);
                }
                Ok(true)
            }
        }
    }
}

impl Source for Stream {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.register(r, t, i),
            Stream::Ipc(s) => s.register(r, t, i),
        }
    }
    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.reregister(r, t, i),
            Stream::Ipc(s) => s.reregister(r, t, i),
        }
    }
    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            Stream::Tcp(s) => s.deregister(r),
            Stream::Ipc(s) => s.deregister(r),
        }
    }
}

fn tcp_endpoint(a: std::net::SocketAddr) -> String {
    // SocketAddr prints IPv6 in brackets, as libzmq does.
    format!("tcp://{a}")
}

fn ipc_endpoint(a: &std::os::unix::net::SocketAddr) -> String {
    use std::os::linux::net::SocketAddrExt;
    if let Some(p) = a.as_pathname() {
        format!("ipc://{}", p.display())
    } else if let Some(name) = a.as_abstract_name() {
        format!("ipc://@{}", String::from_utf8_lossy(name))
    } else {
        "ipc://".to_string()
    }
}

impl Listener {
    /// The descriptor, as monitor events report it.
    pub fn fd(&self) -> RawFd {
        match self {
            Listener::Tcp(l, _) => l.as_raw_fd(),
            Listener::Ipc(l, _) => l.as_raw_fd(),
        }
    }

    /// Removes what the bind made on the file system (`ipc://*`'s file and
    /// directory); the error is what libzmq reports as CLOSE_FAILED. The
    /// descriptor closes when the listener is dropped.
    pub fn remove_files(&mut self) -> io::Result<()> {
        match self {
            Listener::Tcp(..) => Ok(()),
            Listener::Ipc(_, cleanup) => cleanup.remove(),
        }
    }

    /// Accepts one connection and holds it to `filters`; a refused one is
    /// dropped (closed) before it is tuned or handed to a session.
    pub fn accept(&mut self, filters: &filter::AcceptFilters) -> io::Result<Accepted> {
        let r = match self {
            Listener::Tcp(l, tuning) => l.accept().map(|(s, peer)| {
                if !filters.admits_tcp(peer.ip()) {
                    return Accepted::Refused;
                }
                tuning.apply(socket2::SockRef::from(&s));
                Accepted::Stream(Stream::Tcp(s))
            }),
            Listener::Ipc(l, _) => l.accept().map(|(s, _)| match filters.admits_ipc(&s) {
                true => Accepted::Stream(Stream::Ipc(s)),
                false => Accepted::Refused,
            }),
        };
        match r {
            Ok(a) => Ok(a),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(Accepted::Nothing),
            Err(e) => Err(e),
        }
    }
}

impl Source for Listener {
    fn register(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Listener::Tcp(l, _) => l.register(r, t, i),
            Listener::Ipc(l, _) => l.register(r, t, i),
        }
    }
    fn reregister(&mut self, r: &Registry, t: Token, i: Interest) -> io::Result<()> {
        match self {
            Listener::Tcp(l, _) => l.reregister(r, t, i),
            Listener::Ipc(l, _) => l.reregister(r, t, i),
        }
    }
    fn deregister(&mut self, r: &Registry) -> io::Result<()> {
        match self {
            Listener::Tcp(l, _) => l.deregister(r),
            Listener::Ipc(l, _) => l.deregister(r),
        }
    }
}

/// Where a connect goes: checked for syntax at `zmq_connect`, resolved at
/// each connect attempt.
#[derive(Clone, Debug)]
pub enum Target {
    Tcp(tcp::ConnectAddress),
    Ipc(ipc::Path),
}

/// A target resolved for one connect attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolved {
    Tcp(tcp::Resolved),
    Ipc,
}

impl Target {
    pub fn parse(proto: &str, address: &str, options: &Options) -> Result<Target> {
        match proto {
            "tcp" => Ok(Target::Tcp(tcp::ConnectAddress::parse(
                address,
                &tcp::Tuning::from_options(options),
            )?)),
            "ipc" => Ok(Target::Ipc(ipc::Path::parse(address)?)),
            _ => Err(Error::ProtoNoSupport),
        }
    }

    /// Whether resolving may block on a name lookup (DNS), so it must not
    /// run on an I/O thread.
    pub fn needs_lookup(&self) -> bool {
        match self {
            Target::Tcp(a) => a.needs_lookup(),
            Target::Ipc(_) => false,
        }
    }

    pub fn resolve(&self, lookup: &tcp::Lookup) -> io::Result<Resolved> {
        match self {
            Target::Tcp(a) => a.resolve(lookup).map(Resolved::Tcp),
            Target::Ipc(_) => Ok(Resolved::Ipc),
        }
    }

    /// Starts a non-blocking connect to what `resolve` found; says whether
    /// it is still in progress. On failure `closed` gets the descriptor of
    /// the socket made for the attempt, if any (libzmq's monitor reports it
    /// closed).
    pub fn start(&self, to: &Resolved, closed: &mut Option<RawFd>) -> io::Result<(Stream, bool)> {
        match (self, to) {
            (Target::Tcp(a), Resolved::Tcp(r)) => {
                a.start(r, closed).map(|(s, p)| (Stream::Tcp(s), p))
            }
            (Target::Ipc(p), _) => p.start(closed).map(|(s, p)| (Stream::Ipc(s), p)),
            (Target::Tcp(_), Resolved::Ipc) => Err(io::ErrorKind::InvalidInput.into()),
        }
    }
}

/// Binds `address` for `proto`; returns the listener and the endpoint to
/// report as `ZMQ_LAST_ENDPOINT` (wildcards resolved).
///
/// When the bind fails after its socket was made, `closed` gets that
/// socket's descriptor: libzmq's monitor reports it closed.
pub fn bind(
    proto: &str,
    address: &str,
    options: &Options,
    closed: &mut Option<RawFd>,
) -> Result<(Listener, String)> {
    match proto {
        "tcp" => tcp::bind_noting(address, &tcp::Tuning::from_options(options), closed),
        "ipc" => ipc::bind_noting(address, options.backlog, closed),
        _ => Err(Error::ProtoNoSupport),
    }
}
