//! Socket options with libzmq's defaults, and the helpers that read and
//! write option values the way `zmq_setsockopt`/`zmq_getsockopt` pass them.

use crate::error::{Error, Result};

/// Option numbers from zmq.h that the core handles itself.
pub mod id {
    pub const AFFINITY: i32 = 4;
    pub const ROUTING_ID: i32 = 5;
    pub const SUBSCRIBE: i32 = 6;
    pub const UNSUBSCRIBE: i32 = 7;
    pub const RATE: i32 = 8;
    pub const RECOVERY_IVL: i32 = 9;
    pub const SNDBUF: i32 = 11;
    pub const RCVBUF: i32 = 12;
    pub const RCVMORE: i32 = 13;
    pub const FD: i32 = 14;
    pub const EVENTS: i32 = 15;
    pub const TYPE: i32 = 16;
    pub const LINGER: i32 = 17;
    pub const RECONNECT_IVL: i32 = 18;
    pub const BACKLOG: i32 = 19;
    pub const RECONNECT_IVL_MAX: i32 = 21;
    pub const MAXMSGSIZE: i32 = 22;
    pub const SNDHWM: i32 = 23;
    pub const RCVHWM: i32 = 24;
    pub const MULTICAST_HOPS: i32 = 25;
    pub const RCVTIMEO: i32 = 27;
    pub const SNDTIMEO: i32 = 28;
    pub const LAST_ENDPOINT: i32 = 32;
    pub const ROUTER_MANDATORY: i32 = 33;
    pub const TCP_KEEPALIVE: i32 = 34;
    pub const TCP_KEEPALIVE_CNT: i32 = 35;
    pub const TCP_KEEPALIVE_IDLE: i32 = 36;
    pub const TCP_KEEPALIVE_INTVL: i32 = 37;
    pub const IMMEDIATE: i32 = 39;
    pub const XPUB_VERBOSE: i32 = 40;
    pub const ROUTER_RAW: i32 = 41;
    pub const IPV6: i32 = 42;
    pub const MECHANISM: i32 = 43;
    pub const PROBE_ROUTER: i32 = 51;
    pub const REQ_CORRELATE: i32 = 52;
    pub const REQ_RELAXED: i32 = 53;
    pub const CONFLATE: i32 = 54;
    pub const ZAP_DOMAIN: i32 = 55;
    pub const ROUTER_HANDOVER: i32 = 56;
    pub const TOS: i32 = 57;
    pub const CONNECT_ROUTING_ID: i32 = 61;
    pub const HANDSHAKE_IVL: i32 = 66;
    pub const XPUB_NODROP: i32 = 69;
    pub const BLOCKY: i32 = 70;
    pub const XPUB_MANUAL: i32 = 71;
    pub const XPUB_WELCOME_MSG: i32 = 72;
    pub const STREAM_NOTIFY: i32 = 73;
    pub const INVERT_MATCHING: i32 = 74;
    pub const HEARTBEAT_IVL: i32 = 75;
    pub const HEARTBEAT_TTL: i32 = 76;
    pub const HEARTBEAT_TIMEOUT: i32 = 77;
    pub const XPUB_VERBOSER: i32 = 78;
    pub const CONNECT_TIMEOUT: i32 = 79;
    pub const TCP_MAXRT: i32 = 80;
    pub const THREAD_SAFE: i32 = 81;
    pub const MULTICAST_MAXTPDU: i32 = 84;
    pub const USE_FD: i32 = 89;
    pub const BINDTODEVICE: i32 = 92;
}

/// Per-socket settings, with libzmq 4.3's defaults.
#[derive(Debug, Clone)]
pub struct Options {
    pub socket_type: i32,
    pub sndhwm: i32,
    pub rcvhwm: i32,
    pub affinity: u64,
    pub routing_id: Vec<u8>,
    pub rate: i32,
    pub recovery_ivl: i32,
    pub sndbuf: i32,
    pub rcvbuf: i32,
    pub tos: i32,
    pub linger: i32,
    pub connect_timeout: i32,
    pub tcp_maxrt: i32,
    pub reconnect_ivl: i32,
    pub reconnect_ivl_max: i32,
    pub backlog: i32,
    pub maxmsgsize: i64,
    pub multicast_hops: i32,
    pub rcvtimeo: i32,
    pub sndtimeo: i32,
    pub ipv6: bool,
    pub immediate: bool,
    pub tcp_keepalive: i32,
    pub tcp_keepalive_cnt: i32,
    pub tcp_keepalive_idle: i32,
    pub tcp_keepalive_intvl: i32,
    pub conflate: bool,
    pub handshake_ivl: i32,
    pub heartbeat_ivl: i32,
    pub heartbeat_ttl: i32,
    pub heartbeat_timeout: i32,
    pub connect_routing_id: Option<Vec<u8>>,
    pub zap_domain: Vec<u8>,
    pub multicast_maxtpdu: i32,
    pub use_fd: i32,
    pub bindtodevice: Vec<u8>,
    pub last_endpoint: String,
    pub invert_matching: bool,
    /// STREAM sockets hand an empty frame to the application when a
    /// connection comes and goes.
    pub stream_notify: bool,
}

impl Options {
    pub fn new(socket_type: i32) -> Options {
        Options {
            socket_type,
            sndhwm: 1000,
            rcvhwm: 1000,
            affinity: 0,
            routing_id: Vec::new(),
            rate: 100,
            recovery_ivl: 10000,
            sndbuf: -1,
            rcvbuf: -1,
            tos: 0,
            linger: -1,
            connect_timeout: 0,
            tcp_maxrt: 0,
            reconnect_ivl: 100,
            reconnect_ivl_max: 0,
            backlog: 100,
            maxmsgsize: -1,
            multicast_hops: 1,
            rcvtimeo: -1,
            sndtimeo: -1,
            ipv6: false,
            immediate: false,
            tcp_keepalive: -1,
            tcp_keepalive_cnt: -1,
            tcp_keepalive_idle: -1,
            tcp_keepalive_intvl: -1,
            conflate: false,
            handshake_ivl: 30000,
            heartbeat_ivl: 0,
            heartbeat_ttl: 0,
            heartbeat_timeout: -1,
            connect_routing_id: None,
            zap_domain: Vec::new(),
            multicast_maxtpdu: 1500,
            use_fd: -1,
            bindtodevice: Vec::new(),
            last_endpoint: String::new(),
            invert_matching: false,
            stream_notify: true,
        }
    }

    /// Applies a generic option. `Ok(false)` means the option is not a
    /// generic one (the socket type may know it).
    pub fn set(&mut self, option: i32, value: &[u8]) -> Result<bool> {
        use id::*;
        match option {
            SNDHWM => self.sndhwm = int_at_least(value, 0)?,
            RCVHWM => self.rcvhwm = int_at_least(value, 0)?,
            AFFINITY => self.affinity = u64_value(value)?,
            ROUTING_ID => {
                // libzmq: 1 to 255 bytes.
                if value.is_empty() || value.len() > 255 {
                    return Err(Error::Inval);
                }
                self.routing_id = value.to_vec();
            }
            CONNECT_ROUTING_ID => {
                if value.is_empty() || value.len() > 255 {
                    return Err(Error::Inval);
                }
                self.connect_routing_id = Some(value.to_vec());
            }
            RATE => self.rate = int_at_least(value, 1)?,
            RECOVERY_IVL => self.recovery_ivl = int_at_least(value, 0)?,
            SNDBUF => self.sndbuf = int_at_least(value, -1)?,
            RCVBUF => self.rcvbuf = int_at_least(value, -1)?,
            TOS => self.tos = int_at_least(value, 0)?,
            LINGER => self.linger = int_at_least(value, -1)?,
            CONNECT_TIMEOUT => self.connect_timeout = int_at_least(value, 0)?,
            TCP_MAXRT => self.tcp_maxrt = int_at_least(value, 0)?,
            RECONNECT_IVL => self.reconnect_ivl = int_at_least(value, -1)?,
            RECONNECT_IVL_MAX => self.reconnect_ivl_max = int_at_least(value, 0)?,
            BACKLOG => self.backlog = int_at_least(value, 0)?,
            MAXMSGSIZE => self.maxmsgsize = i64_at_least(value, -1)?,
            MULTICAST_HOPS => self.multicast_hops = int_at_least(value, 1)?,
            RCVTIMEO => self.rcvtimeo = int_at_least(value, -1)?,
            SNDTIMEO => self.sndtimeo = int_at_least(value, -1)?,
            IPV6 => self.ipv6 = bool_value(value)?,
            IMMEDIATE => self.immediate = bool_value(value)?,
            TCP_KEEPALIVE => {
                let v = int_value(value)?;
                if !(-1..=1).contains(&v) {
                    return Err(Error::Inval);
                }
                self.tcp_keepalive = v;
            }
            TCP_KEEPALIVE_CNT => self.tcp_keepalive_cnt = int_at_least(value, -1)?,
            TCP_KEEPALIVE_IDLE => self.tcp_keepalive_idle = int_at_least(value, -1)?,
            TCP_KEEPALIVE_INTVL => self.tcp_keepalive_intvl = int_at_least(value, -1)?,
            CONFLATE => self.conflate = bool_value(value)?,
            HANDSHAKE_IVL => self.handshake_ivl = int_at_least(value, 0)?,
            HEARTBEAT_IVL => self.heartbeat_ivl = int_at_least(value, 0)?,
            HEARTBEAT_TTL => {
                let v = int_value(value)?;
                // Sent in deciseconds in a 16-bit field.
                if !(0..=6_553_599).contains(&v) {
                    return Err(Error::Inval);
                }
                self.heartbeat_ttl = v / 100 * 100;
            }
            HEARTBEAT_TIMEOUT => self.heartbeat_timeout = int_at_least(value, -1)?,
            ZAP_DOMAIN => {
                if value.len() > 255 {
                    return Err(Error::Inval);
                }
                self.zap_domain = value.to_vec();
            }
            MULTICAST_MAXTPDU => self.multicast_maxtpdu = int_at_least(value, 1)?,
            USE_FD => self.use_fd = int_at_least(value, -1)?,
            BINDTODEVICE => {
                if value.len() > 16 {
                    return Err(Error::Inval);
                }
                self.bindtodevice = value.to_vec();
            }
            INVERT_MATCHING => self.invert_matching = bool_value(value)?,
            STREAM_NOTIFY => self.stream_notify = bool_value(value)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Reads a generic option into `out`; `Ok(None)` when not generic.
    pub fn get(&self, option: i32) -> Option<OptionValue> {
        use id::*;
        Some(match option {
            SNDHWM => OptionValue::Int(self.sndhwm),
            RCVHWM => OptionValue::Int(self.rcvhwm),
            AFFINITY => OptionValue::U64(self.affinity),
            ROUTING_ID => OptionValue::Bytes(self.routing_id.clone()),
            RATE => OptionValue::Int(self.rate),
            RECOVERY_IVL => OptionValue::Int(self.recovery_ivl),
            SNDBUF => OptionValue::Int(self.sndbuf),
            RCVBUF => OptionValue::Int(self.rcvbuf),
            TOS => OptionValue::Int(self.tos),
            TYPE => OptionValue::Int(self.socket_type),
            LINGER => OptionValue::Int(self.linger),
            CONNECT_TIMEOUT => OptionValue::Int(self.connect_timeout),
            TCP_MAXRT => OptionValue::Int(self.tcp_maxrt),
            RECONNECT_IVL => OptionValue::Int(self.reconnect_ivl),
            RECONNECT_IVL_MAX => OptionValue::Int(self.reconnect_ivl_max),
            BACKLOG => OptionValue::Int(self.backlog),
            MAXMSGSIZE => OptionValue::I64(self.maxmsgsize),
            MULTICAST_HOPS => OptionValue::Int(self.multicast_hops),
            RCVTIMEO => OptionValue::Int(self.rcvtimeo),
            SNDTIMEO => OptionValue::Int(self.sndtimeo),
            IPV6 => OptionValue::Int(self.ipv6 as i32),
            IMMEDIATE => OptionValue::Int(self.immediate as i32),
            TCP_KEEPALIVE => OptionValue::Int(self.tcp_keepalive),
            TCP_KEEPALIVE_CNT => OptionValue::Int(self.tcp_keepalive_cnt),
            TCP_KEEPALIVE_IDLE => OptionValue::Int(self.tcp_keepalive_idle),
            TCP_KEEPALIVE_INTVL => OptionValue::Int(self.tcp_keepalive_intvl),
            HANDSHAKE_IVL => OptionValue::Int(self.handshake_ivl),
            HEARTBEAT_IVL => OptionValue::Int(self.heartbeat_ivl),
            HEARTBEAT_TTL => OptionValue::Int(self.heartbeat_ttl),
            HEARTBEAT_TIMEOUT => OptionValue::Int(self.heartbeat_timeout),
            ZAP_DOMAIN => OptionValue::Str(self.zap_domain.clone()),
            MULTICAST_MAXTPDU => OptionValue::Int(self.multicast_maxtpdu),
            USE_FD => OptionValue::Int(self.use_fd),
            BINDTODEVICE => OptionValue::Str(self.bindtodevice.clone()),
            LAST_ENDPOINT => OptionValue::Str(self.last_endpoint.as_bytes().to_vec()),
            INVERT_MATCHING => OptionValue::Int(self.invert_matching as i32),
            CONFLATE => OptionValue::Int(self.conflate as i32),
            MECHANISM => OptionValue::Int(0),
            THREAD_SAFE => OptionValue::Int(0),
            _ => return None,
        })
    }
}

/// An option's value, before it is written into the caller's buffer.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    Int(i32),
    I64(i64),
    U64(u64),
    /// Raw bytes, written as they are.
    Bytes(Vec<u8>),
    /// A string, written with its terminating NUL (and counted with it).
    Str(Vec<u8>),
    /// A descriptor (`ZMQ_FD`), an `int` on Linux.
    Fd(i32),
}

impl OptionValue {
    /// Writes the value into `out` as libzmq does, returning the length to
    /// report. A buffer of the wrong size gives `EINVAL`.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize> {
        match self {
            OptionValue::Int(v) => put(out, &v.to_ne_bytes()),
            // libzmq takes any buffer at least as large as a descriptor.
            OptionValue::Fd(v) => {
                let b = v.to_ne_bytes();
                if out.len() < b.len() {
                    return Err(Error::Inval);
                }
                out[..b.len()].copy_from_slice(&b);
                Ok(b.len())
            }
            OptionValue::I64(v) => put(out, &v.to_ne_bytes()),
            OptionValue::U64(v) => put(out, &v.to_ne_bytes()),
            OptionValue::Bytes(b) => {
                if out.len() < b.len() {
                    return Err(Error::Inval);
                }
                out[..b.len()].copy_from_slice(b);
                Ok(b.len())
            }
            OptionValue::Str(b) => {
                if out.len() < b.len() + 1 {
                    return Err(Error::Inval);
                }
                out[..b.len()].copy_from_slice(b);
                out[b.len()] = 0;
                Ok(b.len() + 1)
            }
        }
    }
}

fn put(out: &mut [u8], bytes: &[u8]) -> Result<usize> {
    if out.len() != bytes.len() {
        return Err(Error::Inval);
    }
    out.copy_from_slice(bytes);
    Ok(bytes.len())
}

pub fn int_value(value: &[u8]) -> Result<i32> {
    let arr: [u8; 4] = value.try_into().map_err(|_| Error::Inval)?;
    Ok(i32::from_ne_bytes(arr))
}

pub fn int_at_least(value: &[u8], min: i32) -> Result<i32> {
    let v = int_value(value)?;
    if v < min {
        return Err(Error::Inval);
    }
    Ok(v)
}

pub fn bool_value(value: &[u8]) -> Result<bool> {
    let v = int_value(value)?;
    match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Error::Inval),
    }
}

fn i64_at_least(value: &[u8], min: i64) -> Result<i64> {
    let arr: [u8; 8] = value.try_into().map_err(|_| Error::Inval)?;
    let v = i64::from_ne_bytes(arr);
    if v < min {
        return Err(Error::Inval);
    }
    Ok(v)
}

fn u64_value(value: &[u8]) -> Result<u64> {
    let arr: [u8; 8] = value.try_into().map_err(|_| Error::Inval)?;
    Ok(u64::from_ne_bytes(arr))
}
