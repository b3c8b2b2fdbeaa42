//! tcp endpoints: `tcp://host:port` for connect, `tcp://*:port`,
//! `tcp://*:*`, `tcp://127.0.0.1:port` and `tcp://[::1]:port` for bind.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs};

use super::Listener;
use crate::error::{Error, Result};

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
        return if wildcard_ok { Ok(0) } else { Err(Error::Inval) };
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

pub fn bind(address: &str, ipv6: bool, _backlog: i32) -> Result<(Listener, String)> {
    let (host, port) = split_host_port(address)?;
    let port = parse_port(port, true)?;
    let ip = resolve_local(host, ipv6)?;
    let listener = mio::net::TcpListener::bind(SocketAddr::new(ip, port)).map_err(|e| {
        match e.kind() {
            std::io::ErrorKind::AddrInUse => Error::AddrInUse,
            std::io::ErrorKind::AddrNotAvailable => Error::AddrNotAvail,
            _ => Error::from(e),
        }
    })?;
    let local = listener.local_addr().map_err(Error::from)?;
    Ok((Listener::Tcp(listener), endpoint_of(local)))
}

/// A connect's destination, kept by name so reconnects resolve again.
#[derive(Clone, Debug)]
pub struct ConnectAddress {
    host: String,
    port: u16,
    ipv6: bool,
}

impl ConnectAddress {
    pub fn parse(address: &str, ipv6: bool) -> Result<ConnectAddress> {
        if address.contains(';') {
            // `src;dst`: binding the source address is not offered yet.
            return Err(Error::NotSup);
        }
        let (host, port) = split_host_port(address)?;
        let port = parse_port(port, false)?;
        if host == "*" {
            return Err(Error::Inval);
        }
        let a = ConnectAddress {
            host: host.to_string(),
            port,
            ipv6,
        };
        // An unresolvable name is refused now, as libzmq does.
        a.resolve()?;
        Ok(a)
    }

    fn resolve(&self) -> Result<SocketAddr> {
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, self.port));
        }
        resolve(&self.host, self.port, self.ipv6)
    }

    pub fn connect(&self) -> std::io::Result<mio::net::TcpStream> {
        let addr = self
            .resolve()
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::NotFound))?;
        let s = mio::net::TcpStream::connect(addr)?;
        let _ = s.set_nodelay(true);
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_like_libzmq() {
        assert!(split_host_port("127.0.0.1").is_err());
        assert_eq!(split_host_port("[::1]:5").unwrap(), ("::1", "5"));
        assert_eq!(parse_port("*", true).unwrap(), 0);
        assert!(parse_port("*", false).is_err());
        assert!(parse_port("99999", true).is_err());
        assert!(ConnectAddress::parse("127.0.0.1:0", false).is_err());
        let (_l, ep) = bind("127.0.0.1:*", false, 100).unwrap();
        assert!(ep.starts_with("tcp://127.0.0.1:"));
    }
}
