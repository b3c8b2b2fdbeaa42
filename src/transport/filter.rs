//! Accept filters: which peers a listener lets in (`ZMQ_TCP_ACCEPT_FILTER`,
//! `ZMQ_IPC_FILTER_PID/UID/GID`). A listener takes the filters the socket
//! had when it bound, as libzmq's copies its options then; a peer they refuse
//! is closed right after accept, before any handshake.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::os::fd::AsFd;

/// One `ZMQ_TCP_ACCEPT_FILTER` entry: a network and its prefix length.
/// The family is fixed when it is set (IPv6, IPv4 ones mapped, on a
/// `ZMQ_IPV6` socket) and must be the peer's: libzmq compares families
/// before bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpFilter {
    net: IpAddr,
    prefix: u32,
}

impl TcpFilter {
    /// `prefix` beyond the address's width counts as the whole address.
    pub fn new(net: IpAddr, prefix: u32) -> TcpFilter {
        TcpFilter { net, prefix }
    }

    pub fn admits(&self, peer: IpAddr) -> bool {
        match (self.net, peer) {
            (IpAddr::V4(n), IpAddr::V4(p)) => same_prefix(&n.octets(), &p.octets(), self.prefix),
            (IpAddr::V6(n), IpAddr::V6(p)) => same_prefix(&n.octets(), &p.octets(), self.prefix),
            _ => false,
        }
    }
}

fn same_prefix(a: &[u8], b: &[u8], bits: u32) -> bool {
    let bits = (bits as usize).min(a.len() * 8);
    let (whole, rest) = (bits / 8, bits % 8);
    if a.get(..whole) != b.get(..whole) {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    match (a.get(whole), b.get(whole)) {
        (Some(x), Some(y)) => x & mask == y & mask,
        _ => false,
    }
}

/// The ipc filters: a peer whose `SO_PEERCRED` pid, uid or gid is listed
/// gets in, and so does one whose user the group database lists as a
/// member of a listed group (libzmq looks up supplementary groups by name,
/// not the peer's own group list).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IpcFilters {
    pub pids: BTreeSet<i32>,
    pub uids: BTreeSet<u32>,
    pub gids: BTreeSet<u32>,
}

impl IpcFilters {
    fn is_empty(&self) -> bool {
        self.pids.is_empty() && self.uids.is_empty() && self.gids.is_empty()
    }

    fn admits(&self, uid: u32, gid: u32, pid: i32) -> bool {
        if self.uids.contains(&uid) || self.gids.contains(&gid) || self.pids.contains(&pid) {
            return true;
        }
        if self.gids.is_empty() {
            return false;
        }
        let Some(user) = crate::ffi::sys::user_name(uid) else {
            return false;
        };
        self.gids.iter().any(|&g| {
            crate::ffi::sys::group_members(g).is_some_and(|members| members.contains(&user))
        })
    }
}

/// Every filter a listener applies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AcceptFilters {
    pub tcp: Vec<TcpFilter>,
    pub ipc: IpcFilters,
}

impl AcceptFilters {
    /// Whether a tcp peer at `peer` may stay.
    pub fn admits_tcp(&self, peer: IpAddr) -> bool {
        self.tcp.is_empty() || self.tcp.iter().any(|f| f.admits(peer))
    }

    /// Whether an ipc peer may stay; one whose credentials cannot be read
    /// is refused, as libzmq does.
    pub fn admits_ipc(&self, stream: &mio::net::UnixStream) -> bool {
        if self.ipc.is_empty() {
            return true;
        }
        match crate::ffi::sys::peer_credentials(stream.as_fd()) {
            Ok((uid, gid, pid)) => self.ipc.admits(uid, gid, pid),
            Err(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn v4(s: &str) -> IpAddr {
        IpAddr::V4(s.parse::<Ipv4Addr>().unwrap_or(Ipv4Addr::UNSPECIFIED))
    }

    fn v6(s: &str) -> IpAddr {
        IpAddr::V6(s.parse::<Ipv6Addr>().unwrap_or(Ipv6Addr::UNSPECIFIED))
    }

    #[test]
    fn prefixes_match_bitwise() {
        let f = TcpFilter::new(v4("10.1.128.0"), 17);
        assert!(f.admits(v4("10.1.200.3")));
        assert!(!f.admits(v4("10.1.127.3")));
        assert!(TcpFilter::new(v4("10.0.0.1"), 32).admits(v4("10.0.0.1")));
        assert!(!TcpFilter::new(v4("10.0.0.1"), 32).admits(v4("10.0.0.2")));
        // /0 takes every peer of the family, and only of the family.
        assert!(TcpFilter::new(v4("1.2.3.4"), 0).admits(v4("9.9.9.9")));
        assert!(!TcpFilter::new(v4("127.0.0.1"), 0).admits(v6("::ffff:127.0.0.1")));
        assert!(!TcpFilter::new(v6("::ffff:127.0.0.1"), 128).admits(v4("127.0.0.1")));
        assert!(TcpFilter::new(v6("::ffff:0.0.0.0"), 96).admits(v6("::ffff:127.0.0.1")));
        assert!(TcpFilter::new(v6("fe80::"), 10).admits(v6("febf::1")));
        assert!(!TcpFilter::new(v6("fe80::"), 10).admits(v6("fec0::1")));
    }

    #[test]
    fn ipc_filters_match_any_listed_credential() {
        let mut f = IpcFilters::default();
        assert!(f.is_empty());
        f.uids.insert(1000);
        f.pids.insert(42);
        assert!(f.admits(1000, 5, 7));
        assert!(f.admits(1, 5, 42));
        assert!(!f.admits(1, 5, 7));
        f.gids.insert(5);
        assert!(f.admits(1, 5, 7));
    }
}
