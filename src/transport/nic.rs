//! Interface names in tcp endpoints (`tcp://eth0:5555`, `tcp://lo:0;...`):
//! the interface's first address of the wanted family, as libzmq takes it
//! from getifaddrs. The list comes from an rtnetlink dump, which is what
//! glibc's getifaddrs reads too (so the order is the same), and which
//! needs no `unsafe` here.

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

const NLMSG_HDRLEN: usize = 16;
const IFADDRMSG_LEN: usize = 8;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const IFA_LABEL: u16 = 3;

struct IfAddr {
    index: u32,
    label: Option<String>,
    addr: IpAddr,
}

/// The address libzmq would bind for interface `name`: IPv6 only with
/// `ZMQ_IPV6`, IPv4 only without. None if there is no such interface or it
/// has no address of that family (libzmq's `ENODEV` either way).
pub fn address_of(name: &str, ipv6: bool) -> Option<IpAddr> {
    let family = if ipv6 { libc::AF_INET6 } else { libc::AF_INET };
    let addrs = dump(family as u8).ok()?;
    // getifaddrs names an IPv4 address by its label (aliases such as
    // "eth0:1" have their own) and the others by their link's name.
    let mut index = None;
    addrs
        .into_iter()
        .find(|a| match &a.label {
            Some(label) => label == name,
            None => *index.get_or_insert_with(|| index_of(name)) == Some(a.index),
        })
        .map(|a| a.addr)
}

/// The index of interface `name` (what if_nametoindex answers), from
/// sysfs; None for a name that cannot be an interface's.
pub fn index_of(name: &str) -> Option<u32> {
    let path_like = name.contains('/') || name == "." || name == "..";
    if name.is_empty() || name.len() >= libc::IFNAMSIZ || path_like {
        return None;
    }
    std::fs::read_to_string(format!("/sys/class/net/{name}/ifindex"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// Every address of `family` (RTM_GETADDR dump), in the kernel's order.
fn dump(family: u8) -> std::io::Result<Vec<IfAddr>> {
    let sock = Socket::new(
        Domain::from(libc::AF_NETLINK),
        Type::RAW,
        Some(Protocol::from(libc::NETLINK_ROUTE)),
    )?;
    // The kernel answers a dump at once; the bound only guards against a
    // sandbox that never does.
    sock.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut req = Vec::with_capacity(NLMSG_HDRLEN + IFADDRMSG_LEN);
    req.extend_from_slice(&((NLMSG_HDRLEN + IFADDRMSG_LEN) as u32).to_ne_bytes());
    req.extend_from_slice(&libc::RTM_GETADDR.to_ne_bytes());
    req.extend_from_slice(&((libc::NLM_F_REQUEST | libc::NLM_F_DUMP) as u16).to_ne_bytes());
    req.extend_from_slice(&1u32.to_ne_bytes());
    req.extend_from_slice(&0u32.to_ne_bytes());
    req.extend_from_slice(&[family, 0, 0, 0]);
    req.extend_from_slice(&0u32.to_ne_bytes());
    // Unaddressed netlink messages go to the kernel.
    sock.send(&req)?;
    let bad = || std::io::Error::from(std::io::ErrorKind::InvalidData);
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = (&sock).read(&mut buf)?;
        if n == 0 {
            return Err(bad());
        }
        let mut off = 0;
        while off + NLMSG_HDRLEN <= n {
            let len = u32_at(&buf, off).ok_or_else(bad)? as usize;
            let kind = u16_at(&buf, off + 4).ok_or_else(bad)?;
            if len < NLMSG_HDRLEN || off + len > n {
                return Err(bad());
            }
            match kind as i32 {
                libc::NLMSG_DONE => return Ok(out),
                libc::NLMSG_ERROR => return Err(bad()),
                _ if kind == libc::RTM_NEWADDR => {
                    if let Some(a) = parse_addr(&buf[off + NLMSG_HDRLEN..off + len], family) {
                        out.push(a);
                    }
                }
                _ => {}
            }
            off += align4(len);
        }
    }
}

/// One RTM_NEWADDR payload: ifaddrmsg, then attributes. The address is
/// IFA_LOCAL when there is one (IFA_ADDRESS is then the peer's, on
/// point-to-point links), as getifaddrs takes it.
fn parse_addr(msg: &[u8], family: u8) -> Option<IfAddr> {
    if *msg.first()? != family {
        return None;
    }
    let index = u32_at(msg, 4)?;
    let (mut local, mut address, mut label) = (None, None, None);
    let mut off = IFADDRMSG_LEN;
    while off + 4 <= msg.len() {
        let len = u16_at(msg, off)? as usize;
        let kind = u16_at(msg, off + 2)?;
        if len < 4 || off + len > msg.len() {
            break;
        }
        let data = &msg[off + 4..off + len];
        match kind {
            IFA_LOCAL => local = ip_of(data),
            IFA_ADDRESS => address = ip_of(data),
            IFA_LABEL => {
                let s = data.split(|b| *b == 0).next().unwrap_or_default();
                label = String::from_utf8(s.to_vec()).ok();
            }
            _ => {}
        }
        off += align4(len);
    }
    Some(IfAddr {
        index,
        label,
        addr: local.or(address)?,
    })
}

fn ip_of(data: &[u8]) -> Option<IpAddr> {
    match data.len() {
        4 => Some(IpAddr::V4(Ipv4Addr::from(<[u8; 4]>::try_from(data).ok()?))),
        16 => Some(IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(data).ok()?))),
        _ => None,
    }
}
