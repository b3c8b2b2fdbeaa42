//! tcp endpoints: `tcp://host:port` for connect, `tcp://*:port`,
//! `tcp://*:*`, `tcp://127.0.0.1:port` and `tcp://[::1]:port` for bind.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};

use super::Listener;
use crate::error::{Error, Result};
use crate::options::Options;

/// The socket options libzmq applies to its tcp sockets.
#[derive(Clone, Debug, Default)]
pub struct Tuning {
    keepalive: i32,
    keepalive_cnt: i32,
    keepalive_idle: i32,
    keepalive_intvl: i32,
    tos: i32,
    sndbuf: i32,
    rcvbuf: i32,
    maxrt: i32,
    device: Vec<u8>,
    backlog: i32,
    ipv6: bool,
}

impl Tuning {
    pub fn from_options(o: &Options) -> Tuning {
        Tuning {
            keepalive: o.tcp_keepalive,
            keepalive_cnt: o.tcp_keepalive_cnt,
            keepalive_idle: o.tcp_keepalive_idle,
            keepalive_intvl: o.tcp_keepalive_intvl,
            tos: o.tos,
            sndbuf: o.sndbuf,
            rcvbuf: o.rcvbuf,
            maxrt: o.tcp_maxrt,
            device: o.bindtodevice.clone(),
            backlog: o.backlog,
            ipv6: o.ipv6,
        }
    }

    /// Applies the per-connection options; -1 leaves the OS default, as
    /// in libzmq. Failures are ignored there too (best effort).
    pub fn apply(&self, sock: SockRef<'_>) {
        let _ = sock.set_tcp_nodelay(true);
        if self.keepalive == 0 {
            let _ = sock.set_keepalive(false);
        } else if self.keepalive == 1 {
            let mut ka = TcpKeepalive::new();
            if self.keepalive_idle > 0 {
                ka = ka.with_time(Duration::from_secs(self.keepalive_idle as u64));
            }
            if self.keepalive_intvl > 0 {
                ka = ka.with_interval(Duration::from_secs(self.keepalive_intvl as u64));
            }
            if self.keepalive_cnt > 0 {
                ka = ka.with_retries(self.keepalive_cnt as u32);
            }
            let _ = sock.set_tcp_keepalive(&ka);
        }
        if self.tos > 0 {
            let _ = sock.set_tos_v4(self.tos as u32);
        }
        if self.sndbuf >= 0 {
            let _ = sock.set_send_buffer_size(self.sndbuf as usize);
        }
        if self.rcvbuf >= 0 {
            let _ = sock.set_recv_buffer_size(self.rcvbuf as usize);
        }
        if self.maxrt > 0 {
            let _ = sock.set_tcp_user_timeout(Some(Duration::from_millis(self.maxrt as u64)));
        }
    }

    fn new_socket(&self, addr: &SocketAddr) -> std::io::Result<Socket> {
        let sock = Socket::new(
            Domain::for_address(*addr),
            Type::STREAM,
            Some(Protocol::TCP),
        )?;
        if !self.device.is_empty() {
            sock.bind_device(Some(&self.device))?;
        }
        Ok(sock)
    }
}

/// Splits `host:port`, taking IPv6 brackets off the host.
fn split_host_port(address: &str) -> Result<(&str, &str)> {
    let (host, port) = address.rsplit_once(':').ok_or(Error::Inval)?;
    let host = match host.strip_prefix('[') {
        Some(inner) => inner.strip_suffix(']').ok_or(Error::Inval)?,
        None => host,
    };
    if host.is_empty() {
        return Err(Error::Inval);
    }
    Ok((host, port))
}

fn parse_port(port: &str, wildcard_ok: bool) -> Result<u16> {
    if port == "*" {
        return if wildcard_ok {
            Ok(0)
        } else {
            Err(Error::Inval)
        };
    }
    let p: u16 = port.parse().map_err(|_| Error::Inval)?;
    if p == 0 && !wildcard_ok {
        return Err(Error::Inval);
    }
    Ok(p)
}

/// Resolves a host the way libzmq's bind does: `*`, a numeric address or
/// a name; interface names other than addresses are not supported yet.
fn resolve_local(host: &str, ipv6: bool) -> Result<IpAddr> {
    if host == "*" {
        return Ok(if ipv6 {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        } else {
            IpAddr::V4(Ipv4Addr::UNSPECIFIED)
        });
    }
    if let Ok(ip) = host.parse::<IpAddr>() {
        if ip.is_ipv6() && !ipv6 {
            return Err(Error::NoDev);
        }
        return Ok(ip);
    }
    resolve(host, 0, ipv6)
        .map(|a| a.ip())
        .map_err(|_| Error::NoDev)
}

fn resolve(host: &str, port: u16, ipv6: bool) -> Result<SocketAddr> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|_| Error::Inval)?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.iter().find(|a| ipv6 && a.is_ipv6()))
        .copied()
        .ok_or(Error::Inval)
}

fn endpoint_of(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("tcp://{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("tcp://[{}]:{}", a.ip(), a.port()),
    }
}

pub fn bind(address: &str, tuning: &Tuning) -> Result<(Listener, String)> {
    let (host, port) = split_host_port(address)?;
    let port = parse_port(port, true)?;
    let ip = resolve_local(host, tuning.ipv6)?;
    let addr = SocketAddr::new(ip, port);
    let map = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::AddrInUse => Error::AddrInUse,
        std::io::ErrorKind::AddrNotAvailable => Error::AddrNotAvail,
        _ if e.raw_os_error() == Some(libc::ENODEV) => Error::NoDev,
        _ => Error::from(e),
    };
    let sock = tuning.new_socket(&addr).map_err(map)?;
    sock.set_reuse_address(true).map_err(map)?;
    if addr.is_ipv6() {
        // `*` with ZMQ_IPV6 takes IPv4 peers too, as libzmq's does.
        let _ = sock.set_only_v6(false);
    }
    sock.bind(&addr.into()).map_err(map)?;
    sock.listen(tuning.backlog.max(1)).map_err(map)?;
    sock.set_nonblocking(true).map_err(map)?;
    let std: std::net::TcpListener = sock.into();
    let local = std.local_addr().map_err(Error::from)?;
    let listener = mio::net::TcpListener::from_std(std);
    Ok((Listener::Tcp(listener, tuning.clone()), endpoint_of(local)))
}

/// A connect's destination, kept by name so reconnects resolve again,
/// with an optional source address (`tcp://src;dst`).
#[derive(Clone, Debug)]
pub struct ConnectAddress {
    host: String,
    port: u16,
    source: Option<SocketAddr>,
    tuning: Tuning,
}

impl ConnectAddress {
    pub fn parse(address: &str, tuning: &Tuning) -> Result<ConnectAddress> {
        let (source, address) = match address.split_once(';') {
            Some((src, dst)) => {
                let (h, p) = split_host_port(src)?;
                let port = parse_port(p, true)?;
                let ip = resolve_local(h, tuning.ipv6)?;
                (Some(SocketAddr::new(ip, port)), dst)
            }
            None => (None, address),
        };
        let (host, port) = split_host_port(address)?;
        let port = parse_port(port, false)?;
        if host == "*" {
            return Err(Error::Inval);
        }
        let a = ConnectAddress {
            host: host.to_string(),
            port,
            source,
            tuning: tuning.clone(),
        };
        // An unresolvable name is refused now, as libzmq does.
        a.resolve()?;
        Ok(a)
    }

    fn resolve(&self) -> Result<SocketAddr> {
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            if ip.is_ipv6() && !self.tuning.ipv6 {
                return Err(Error::Inval);
            }
            return Ok(SocketAddr::new(ip, self.port));
        }
        resolve(&self.host, self.port, self.tuning.ipv6)
    }

    /// Starts a non-blocking connect with the socket's tcp options.
    pub fn connect(&self) -> std::io::Result<mio::net::TcpStream> {
        let addr = self
            .resolve()
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::NotFound))?;
        let sock = self.tuning.new_socket(&addr)?;
        self.tuning.apply(SockRef::from(&sock));
        if let Some(src) = self.source {
            sock.set_reuse_address(true)?;
            sock.bind(&src.into())?;
        }
        sock.set_nonblocking(true)?;
        match sock.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => return Err(e),
        }
        let std: std::net::TcpStream = sock.into();
        Ok(mio::net::TcpStream::from_std(std))
    }
}

#[cfg(test)]
#[path = "tcp_tests.rs"]
mod tests;
