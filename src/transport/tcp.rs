//! tcp endpoints, resolved as libzmq's ip_resolver does. A bind takes `*`,
//! a numeric address or an interface name (never a DNS name) and resolves
//! at once. A connect is only checked for syntax at `zmq_connect`; its
//! address is resolved at each connect attempt, names through a
//! [`Lookup`] that the I/O side runs off its threads (`crate::io::resolver`).
//! The source part of `src;dst` resolves like a bind address.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV6, ToSocketAddrs};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use socket2::{Domain, Protocol, SockRef, Socket, TcpKeepalive, Type};

use super::{nic, Listener};
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

/// Name to addresses (all families, in getaddrinfo's order): the system
/// resolver, or a stand-in that tests inject.
pub type Lookup = Arc<dyn Fn(&str) -> io::Result<Vec<IpAddr>> + Send + Sync>;

/// getaddrinfo, through std.
pub fn system_lookup() -> Lookup {
    Arc::new(|host: &str| Ok((host, 0).to_socket_addrs()?.map(|a| a.ip()).collect()))
}

/// What an address is resolved for: bindable ones (a bind, a connect's
/// source) take `*` and interface names but no DNS; a connect's peer takes
/// DNS names only.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Bind,
    Peer,
}

/// C's atoi: leading blanks, a sign, digits; the rest is ignored.
pub(super) fn atoi(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut v: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        v = (v * 10 + i64::from(b - b'0')).min(i64::from(u32::MAX));
    }
    if neg {
        -v
    } else {
        v
    }
}

/// glibc's inet_aton, which numeric getaddrinfo uses for IPv4: one to four
/// parts, each decimal, octal (leading 0) or hex (0x), the last filling
/// the remaining bytes (`127.1`, `0x7f000001`).
fn inet_aton(s: &str) -> Option<Ipv4Addr> {
    let parts: Vec<u32> = s.split('.').map(aton_part).collect::<Option<_>>()?;
    let (last, head) = parts.split_last()?;
    if head.len() > 3 || head.iter().any(|v| *v > 255) {
        return None;
    }
    let room = 32 - 8 * head.len() as u32;
    if room < 32 && *last >> room != 0 {
        return None;
    }
    let mut ip = *last;
    for (i, v) in head.iter().enumerate() {
        ip |= v << (24 - 8 * i);
    }
    Some(Ipv4Addr::from(ip))
}

fn aton_part(p: &str) -> Option<u32> {
    let (digits, radix) = match p.strip_prefix("0x").or_else(|| p.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None if p.len() > 1 && p.starts_with('0') => (&p[1..], 8),
        None => (p, 10),
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u32::from_str_radix(digits, radix).ok()
}

/// A numeric address as getaddrinfo(AI_NUMERICHOST) reads it: IPv4 only
/// without `ZMQ_IPV6`; with it IPv6, or IPv4 mapped into IPv6. None: not a
/// literal; `Some(None)`: an IPv6 literal without `ZMQ_IPV6`, which no
/// lookup could resolve either.
fn numeric(host: &str, ipv6: bool) -> Option<Option<IpAddr>> {
    if let Ok(v6) = host.parse::<Ipv6Addr>() {
        return Some(ipv6.then_some(IpAddr::V6(v6)));
    }
    let v4 = inet_aton(host)?;
    Some(Some(if ipv6 {
        IpAddr::V6(v4.to_ipv6_mapped())
    } else {
        IpAddr::V4(v4)
    }))
}

fn unspecified(ipv6: bool) -> IpAddr {
    if ipv6 {
        IpAddr::V6(Ipv6Addr::UNSPECIFIED)
    } else {
        IpAddr::V4(Ipv4Addr::UNSPECIFIED)
    }
}

/// The address getaddrinfo would put first: IPv4 without `ZMQ_IPV6`; with
/// it IPv6, else IPv4 mapped (AI_V4MAPPED).
fn pick(addrs: &[IpAddr], ipv6: bool) -> Option<IpAddr> {
    let v4 = addrs.iter().find_map(|a| match a {
        IpAddr::V4(v4) => Some(*v4),
        IpAddr::V6(_) => None,
    });
    if !ipv6 {
        return v4.map(IpAddr::V4);
    }
    addrs
        .iter()
        .find(|a| a.is_ipv6())
        .copied()
        .or_else(|| v4.map(|v4| IpAddr::V6(v4.to_ipv6_mapped())))
}

/// libzmq's ip_resolver_t::resolve for `host:port`. `lookup` is asked only
/// for a peer that is neither numeric nor bracketed numeric.
fn resolve(
    name: &str,
    ipv6: bool,
    role: Role,
    lookup: &dyn Fn(&str) -> io::Result<Vec<IpAddr>>,
) -> Result<SocketAddr> {
    let bindable = role == Role::Bind;
    let (host, port) = name.rsplit_once(':').ok_or(Error::Inval)?;
    let port = match port {
        "*" if bindable => 0,
        "*" => return Err(Error::Inval),
        "0" => 0,
        // As libzmq: atoi, truncated to 16 bits, 0 refused.
        p => match atoi(p) as u16 {
            0 => return Err(Error::Inval),
            p => p,
        },
    };
    let host = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(inner) => inner,
        None => host,
    };
    let (host, zone) = match host.rsplit_once('%') {
        Some((h, z)) => {
            let id = if z.starts_with(|c: char| c.is_ascii_alphabetic()) {
                nic::index_of(z).unwrap_or(0)
            } else {
                atoi(z) as u32
            };
            if id == 0 {
                return Err(Error::Inval);
            }
            (h, id)
        }
        None => (host, 0),
    };
    // libzmq tries an interface name before a numeric address; numbers go
    // first here so a plain bind costs no interface dump (no interface is
    // named like an address).
    let literal = numeric(host, ipv6);
    let ip = if bindable && host == "*" {
        unspecified(ipv6)
    } else if let Some(Some(ip)) = literal {
        ip
    } else if bindable {
        nic::address_of(host, ipv6).ok_or(Error::NoDev)?
    } else if literal.is_some() {
        return Err(Error::Inval);
    } else {
        let addrs = lookup(host).map_err(|_| Error::Inval)?;
        pick(&addrs, ipv6).ok_or(Error::Inval)?
    };
    Ok(match ip {
        IpAddr::V4(v4) => SocketAddr::new(IpAddr::V4(v4), port),
        IpAddr::V6(v6) => SocketAddr::V6(SocketAddrV6::new(v6, port, 0, zone)),
    })
}

/// For bindable addresses, which never look a name up.
fn no_lookup(_: &str) -> io::Result<Vec<IpAddr>> {
    Err(io::ErrorKind::NotFound.into())
}

fn endpoint_of(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("tcp://{}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("tcp://[{}]:{}", a.ip(), a.port()),
    }
}

pub fn bind(address: &str, tuning: &Tuning) -> Result<(Listener, String)> {
    bind_noting(address, tuning, &mut None)
}

/// As `bind`; when the bind fails after its socket was made, `closed` gets
/// that socket's descriptor, which libzmq's monitor reports closed.
pub fn bind_noting(
    address: &str,
    tuning: &Tuning,
    closed: &mut Option<RawFd>,
) -> Result<(Listener, String)> {
    let addr = resolve(address, tuning.ipv6, Role::Bind, &no_lookup)?;
    let map = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::AddrInUse => Error::AddrInUse,
        std::io::ErrorKind::AddrNotAvailable => Error::AddrNotAvail,
        _ if e.raw_os_error() == Some(libc::ENODEV) => Error::NoDev,
        _ => Error::from(e),
    };
    let sock = tuning.new_socket(&addr).map_err(map)?;
    let listen = |sock: &Socket| -> std::io::Result<()> {
        sock.set_reuse_address(true)?;
        if addr.is_ipv6() {
            // `*` with ZMQ_IPV6 takes IPv4 peers too, as libzmq's does.
            let _ = sock.set_only_v6(false);
        }
        sock.bind(&addr.into())?;
        sock.listen(tuning.backlog.max(1))?;
        sock.set_nonblocking(true)
    };
    if let Err(e) = listen(&sock) {
        *closed = Some(sock.as_raw_fd());
        return Err(map(e));
    }
    let std: std::net::TcpListener = sock.into();
    let local = std.local_addr().map_err(Error::from)?;
    let listener = mio::net::TcpListener::from_std(std);
    Ok((Listener::Tcp(listener, tuning.clone()), endpoint_of(local)))
}

/// libzmq's quick check of a connect address at `zmq_connect`: a host of
/// letters, digits and `.-:%;[]_*` not starting with a sign, and a port
/// starting with a digit. Anything else waits for resolution, which fails
/// (and is retried) at each connect attempt.
fn check_connect_syntax(address: &str) -> Result<()> {
    let b = address.as_bytes();
    let mut end = 0;
    if b.first()
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'[' || *c == b':')
    {
        end = 1 + b[1..]
            .iter()
            .take_while(|c| c.is_ascii_alphanumeric() || b".-:%;[]_*".contains(c))
            .count();
    }
    if end != b.len() {
        return Err(Error::Inval);
    }
    let (_, port) = address.rsplit_once(':').ok_or(Error::Inval)?;
    if !port.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        return Err(Error::Inval);
    }
    Ok(())
}

/// Where a connect attempt goes, once resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolved {
    pub peer: SocketAddr,
    pub source: Option<SocketAddr>,
}

/// A connect's address as given (`[src;]host:port`), resolved anew at
/// each attempt, so a name follows its DNS record across reconnects.
#[derive(Clone, Debug)]
pub struct ConnectAddress {
    address: String,
    tuning: Tuning,
}

impl ConnectAddress {
    pub fn parse(address: &str, tuning: &Tuning) -> Result<ConnectAddress> {
        check_connect_syntax(address)?;
        Ok(ConnectAddress {
            address: address.to_string(),
            tuning: tuning.clone(),
        })
    }

    fn parts(&self) -> (Option<&str>, &str) {
        match self.address.rsplit_once(';') {
            Some((src, dst)) => (Some(src), dst),
            None => (None, &self.address),
        }
    }

    /// Whether resolving asks `Lookup` (a name, which may block); numeric
    /// peers and interface-name sources resolve at once.
    pub fn needs_lookup(&self) -> bool {
        let asked = std::cell::Cell::new(false);
        let probe = |_: &str| {
            asked.set(true);
            Err(io::ErrorKind::WouldBlock.into())
        };
        let _ = resolve(self.parts().1, self.tuning.ipv6, Role::Peer, &probe);
        asked.get()
    }

    /// Resolves the peer (asking `lookup` for a name) and the source.
    pub fn resolve(&self, lookup: &Lookup) -> io::Result<Resolved> {
        let (src, dst) = self.parts();
        let unresolved = |_| io::Error::from(io::ErrorKind::NotFound);
        let source = match src {
            Some(s) => {
                Some(resolve(s, self.tuning.ipv6, Role::Bind, &no_lookup).map_err(unresolved)?)
            }
            None => None,
        };
        let peer = resolve(dst, self.tuning.ipv6, Role::Peer, &**lookup).map_err(unresolved)?;
        Ok(Resolved { peer, source })
    }

    /// Starts a non-blocking connect with the socket's tcp options.
    pub fn connect(&self, to: &Resolved) -> io::Result<mio::net::TcpStream> {
        self.start(to, &mut None).map(|(s, _)| s)
    }

    /// As `connect`, also telling whether the connect is still in progress
    /// (EINPROGRESS); on failure, `closed` gets the descriptor of the
    /// socket made for it, if any, which libzmq's monitor reports closed.
    pub fn start(
        &self,
        to: &Resolved,
        closed: &mut Option<RawFd>,
    ) -> io::Result<(mio::net::TcpStream, bool)> {
        let sock = self.tuning.new_socket(&to.peer)?;
        let start = |sock: &Socket| -> io::Result<bool> {
            if to.peer.is_ipv6() {
                // A mapped IPv4 peer needs it, as libzmq's connecter sets it.
                let _ = sock.set_only_v6(false);
            }
            self.tuning.apply(SockRef::from(sock));
            if let Some(src) = to.source {
                sock.set_reuse_address(true)?;
                sock.bind(&src.into())?;
            }
            sock.set_nonblocking(true)?;
            match sock.connect(&to.peer.into()) {
                Ok(()) => Ok(false),
                Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => Ok(true),
                Err(e) => Err(e),
            }
        };
        match start(&sock) {
            Ok(in_progress) => {
                let std: std::net::TcpStream = sock.into();
                Ok((mio::net::TcpStream::from_std(std), in_progress))
            }
            Err(e) => {
                *closed = Some(sock.as_raw_fd());
                Err(e)
            }
        }
    }
}

#[cfg(test)]
#[path = "tcp_tests.rs"]
mod tests;
