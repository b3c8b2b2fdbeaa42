//! Socket options with libzmq 4.3.4's defaults, value checks and sizes, and
//! the helpers that read and write option values the way
//! `zmq_setsockopt`/`zmq_getsockopt` pass them.
//!
//! `capi-tests/test_option_defaults.c` prints every option of every socket
//! type; its output on Debian's libzmq is the reference we are compared with.

use std::collections::BTreeMap;
use std::net::IpAddr;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::socket::kind;
use crate::transport::filter::{AcceptFilters, TcpFilter};
use crate::zmtp::{CurveKeys, Mechanism, PlainCredentials};

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
    pub const IPV4ONLY: i32 = 31;
    pub const TCP_ACCEPT_FILTER: i32 = 38;
    pub const IPV6: i32 = 42;
    pub const MECHANISM: i32 = 43;
    pub const PLAIN_SERVER: i32 = 44;
    pub const PLAIN_USERNAME: i32 = 45;
    pub const PLAIN_PASSWORD: i32 = 46;
    pub const CURVE_SERVER: i32 = 47;
    pub const CURVE_PUBLICKEY: i32 = 48;
    pub const CURVE_SECRETKEY: i32 = 49;
    pub const CURVE_SERVERKEY: i32 = 50;
    pub const PROBE_ROUTER: i32 = 51;
    pub const REQ_CORRELATE: i32 = 52;
    pub const REQ_RELAXED: i32 = 53;
    pub const CONFLATE: i32 = 54;
    pub const ZAP_DOMAIN: i32 = 55;
    pub const ROUTER_HANDOVER: i32 = 56;
    pub const TOS: i32 = 57;
    pub const IPC_FILTER_PID: i32 = 58;
    pub const IPC_FILTER_UID: i32 = 59;
    pub const IPC_FILTER_GID: i32 = 60;
    pub const CONNECT_ROUTING_ID: i32 = 61;
    pub const HANDSHAKE_IVL: i32 = 66;
    pub const SOCKS_PROXY: i32 = 68;
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
    /// A draft option in zmq.h, which libzmq 4.3.4 takes in every build.
    pub const ZAP_ENFORCE_DOMAIN: i32 = 93;
    /// Draft options libzmq 4.3.4 takes in every build (Windows and
    /// multicast transports only: stored and read back, no effect here).
    pub const LOOPBACK_FASTPATH: i32 = 94;
    /// Draft, taken in every build: an application property for READY.
    pub const METADATA: i32 = 95;
    pub const MULTICAST_LOOP: i32 = 96;
    /// Draft, taken in every build: credentials for the SOCKS5 proxy.
    pub const SOCKS_USERNAME: i32 = 99;
    pub const SOCKS_PASSWORD: i32 = 100;
    /// A draft option zmq.h hides, which libzmq 4.3.4 takes in every build.
    pub const RECONNECT_STOP: i32 = 109;
}

/// `ZMQ_MECHANISM` values.
pub mod mechanism {
    pub const NULL: i32 = 0;
    pub const PLAIN: i32 = 1;
    pub const CURVE: i32 = 2;
}

/// Per-socket settings, with libzmq 4.3.4's defaults.
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
    /// `ZMQ_RECONNECT_STOP`: when a connecter gives up rather than retry.
    pub reconnect_stop: i32,
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
    /// `ZMQ_ZAP_ENFORCE_DOMAIN`: a missing ZAP handler fails the handshake.
    pub zap_enforce_domain: bool,
    pub loopback_fastpath: bool,
    pub multicast_loop: bool,
    /// `ZMQ_METADATA` properties ("X-name" to value), sent after the
    /// basic ones in READY/INITIATE, in the byte order of their names (as
    /// libzmq's map); the first value set for a name stays.
    pub app_metadata: BTreeMap<Vec<u8>, Vec<u8>>,
    /// `ZMQ_MECHANISM`, as the PLAIN and CURVE options set it.
    pub mechanism: i32,
    /// The mechanism's server role (`ZMQ_PLAIN_SERVER`/`ZMQ_CURVE_SERVER`).
    pub as_server: bool,
    pub plain: PlainCredentials,
    /// CURVE keys; the secret one is zeroed on drop.
    pub curve: CurveKeys,
    pub multicast_maxtpdu: i32,
    pub use_fd: i32,
    pub bindtodevice: Vec<u8>,
    /// `ZMQ_SOCKS_PROXY` ("host:port"): tcp connects go through it.
    pub socks_proxy: Vec<u8>,
    pub socks_username: Vec<u8>,
    pub socks_password: Zeroizing<Vec<u8>>,
    pub last_endpoint: String,
    pub invert_matching: bool,
    /// STREAM sockets hand an empty frame to the application when a
    /// connection comes and goes.
    pub stream_notify: bool,
    /// `ZMQ_TCP_ACCEPT_FILTER` and `ZMQ_IPC_FILTER_*`, for the listeners
    /// bound from now on.
    pub accept_filters: AcceptFilters,
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
            // Subscriptions not yet sent are worth nothing once the
            // subscriber is gone, so libzmq's SUB and XSUB never linger.
            linger: if matches!(socket_type, kind::SUB | kind::XSUB) {
                0
            } else {
                -1
            },
            connect_timeout: 0,
            tcp_maxrt: 0,
            reconnect_ivl: 100,
            reconnect_ivl_max: 0,
            reconnect_stop: 0,
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
            zap_enforce_domain: false,
            loopback_fastpath: false,
            multicast_loop: true,
            app_metadata: BTreeMap::new(),
            mechanism: mechanism::NULL,
            as_server: false,
            plain: PlainCredentials::default(),
            curve: CurveKeys::default(),
            multicast_maxtpdu: 1500,
            use_fd: -1,
            bindtodevice: Vec::new(),
            socks_proxy: Vec::new(),
            socks_username: Vec::new(),
            socks_password: Zeroizing::new(Vec::new()),
            last_endpoint: String::new(),
            invert_matching: false,
            stream_notify: true,
            accept_filters: AcceptFilters::default(),
        }
    }

    /// The security mechanism the options configure, with its settings,
    /// for a new connection.
    pub fn security(&self) -> Mechanism {
        match self.mechanism {
            mechanism::PLAIN => Mechanism::Plain(self.plain.clone()),
            mechanism::CURVE => Mechanism::Curve(self.curve.clone()),
            _ => Mechanism::Null,
        }
    }

    /// Applies a generic option. `value` is `None` for a NULL buffer of
    /// length 0, which libzmq takes as "clear" for some string options and
    /// refuses for others. `Ok(false)` means the option is not a generic
    /// one (the socket type may know it).
    ///
    /// The security options follow libzmq's rules: the last one set picks
    /// the mechanism (a PLAIN username or password makes a PLAIN client, a
    /// CURVE key makes CURVE, a server key a CURVE client, `*_SERVER` 1 a
    /// server and 0 NULL).
    pub fn set(&mut self, option: i32, value: Option<&[u8]>) -> Result<bool> {
        use id::*;
        let null = value.is_none();
        let value = value.unwrap_or(&[]);
        match option {
            SNDHWM => self.sndhwm = int_at_least(value, 0)?,
            RCVHWM => self.rcvhwm = int_at_least(value, 0)?,
            AFFINITY => self.affinity = u64_value(value)?,
            ROUTING_ID => {
                // On the wire its length is one byte, and empty means
                // "let the peer make one up".
                if value.is_empty() || value.len() > 255 {
                    return Err(Error::Inval);
                }
                self.routing_id = value.to_vec();
            }
            // It names the peer on our side only (never sent), so libzmq
            // takes any non-empty value, on the routing socket types.
            CONNECT_ROUTING_ID if routes_by_id(self.socket_type) => {
                if value.is_empty() {
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
            // Any int, as libzmq: bits it does not know are kept and ignored.
            RECONNECT_STOP => self.reconnect_stop = int_value(value)?,
            BACKLOG => self.backlog = int_at_least(value, 0)?,
            // Any value: libzmq treats every negative one as "no limit".
            MAXMSGSIZE => self.maxmsgsize = i64_value(value)?,
            MULTICAST_HOPS => self.multicast_hops = int_at_least(value, 1)?,
            RCVTIMEO => self.rcvtimeo = int_at_least(value, -1)?,
            SNDTIMEO => self.sndtimeo = int_at_least(value, -1)?,
            IPV6 => self.ipv6 = bool_value(value)?,
            // The deprecated inverse of IPV6.
            IPV4ONLY => self.ipv6 = !bool_value(value)?,
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
                // Sent in deciseconds in a 16-bit field; libzmq truncates
                // towards zero first, so -99..=99 all mean 0.
                let ds = int_value(value)? / 100;
                if !(0..=i32::from(u16::MAX)).contains(&ds) {
                    return Err(Error::Inval);
                }
                self.heartbeat_ttl = ds * 100;
            }
            // Only the default (-1) means "as HEARTBEAT_IVL".
            HEARTBEAT_TIMEOUT => self.heartbeat_timeout = int_at_least(value, 0)?,
            ZAP_DOMAIN => {
                if value.is_empty() || value.len() > 255 {
                    return Err(Error::Inval);
                }
                self.zap_domain = value.to_vec();
            }
            MULTICAST_MAXTPDU => self.multicast_maxtpdu = int_at_least(value, 1)?,
            USE_FD => self.use_fd = int_at_least(value, -1)?,
            BINDTODEVICE => {
                // An interface name, at most IFNAMSIZ (16) bytes; NULL
                // clears it.
                if !null && (value.is_empty() || value.len() > 16) {
                    return Err(Error::Inval);
                }
                self.bindtodevice = value.to_vec();
            }
            INVERT_MATCHING => self.invert_matching = int_value(value)? != 0,
            STREAM_NOTIFY if self.socket_type == kind::STREAM => {
                self.stream_notify = bool_value(value)?
            }
            ZAP_ENFORCE_DOMAIN => self.zap_enforce_domain = bool_value(value)?,
            // libzmq stores any int as `value != 0` for these two.
            LOOPBACK_FASTPATH => self.loopback_fastpath = int_value(value)? != 0,
            MULTICAST_LOOP => self.multicast_loop = int_value(value)? != 0,
            METADATA => {
                let (name, value) = app_property(value)?;
                self.app_metadata
                    .entry(name.to_vec())
                    .or_insert_with(|| value.to_vec());
            }
            PLAIN_SERVER | CURVE_SERVER => {
                let on = bool_value(value)?;
                let which = if option == PLAIN_SERVER {
                    mechanism::PLAIN
                } else {
                    mechanism::CURVE
                };
                self.as_server = on;
                self.mechanism = if on { which } else { mechanism::NULL };
            }
            PLAIN_USERNAME | PLAIN_PASSWORD => {
                if null {
                    // libzmq: clearing either goes back to NULL (the
                    // stored name and password stay).
                    self.mechanism = mechanism::NULL;
                } else {
                    if value.is_empty() || value.len() > 255 {
                        return Err(Error::Inval);
                    }
                    if option == PLAIN_USERNAME {
                        self.plain.username = value.to_vec();
                    } else {
                        self.plain.password = Zeroizing::new(value.to_vec());
                    }
                    self.as_server = false;
                    self.mechanism = mechanism::PLAIN;
                }
            }
            CURVE_PUBLICKEY | CURVE_SECRETKEY | CURVE_SERVERKEY => {
                let key = Zeroizing::new(curve_key(value)?);
                match option {
                    CURVE_PUBLICKEY => self.curve.public_key = *key,
                    CURVE_SECRETKEY => self.curve.secret_key = key,
                    _ => {
                        self.curve.server_key = *key;
                        self.as_server = false;
                    }
                }
                self.mechanism = mechanism::CURVE;
            }
            // NULL clears it; "" is refused; any length goes.
            SOCKS_PROXY => {
                if !null && value.is_empty() {
                    return Err(Error::Inval);
                }
                self.socks_proxy = value.to_vec();
            }
            // Unlike the proxy, "" clears these too (libzmq).
            SOCKS_USERNAME | SOCKS_PASSWORD => {
                if value.len() > 255 {
                    return Err(Error::Inval);
                }
                if option == SOCKS_USERNAME {
                    self.socks_username = value.to_vec();
                } else {
                    self.socks_password = Zeroizing::new(value.to_vec());
                }
            }
            // Each value adds one; NULL clears the list.
            TCP_ACCEPT_FILTER => {
                if null {
                    self.accept_filters.tcp.clear();
                } else {
                    let filter = accept_filter(value, self.ipv6)?;
                    self.accept_filters.tcp.push(filter);
                }
            }
            IPC_FILTER_PID | IPC_FILTER_UID | IPC_FILTER_GID => {
                let ipc = &mut self.accept_filters.ipc;
                match (option, null) {
                    (IPC_FILTER_PID, true) => ipc.pids.clear(),
                    (IPC_FILTER_UID, true) => ipc.uids.clear(),
                    (_, true) => ipc.gids.clear(),
                    // A pid_t, uid_t or gid_t: an int's size on Linux; the
                    // ids are unsigned, so -1 means the largest, as in C.
                    (IPC_FILTER_PID, false) => {
                        ipc.pids.insert(int_value(value)?);
                    }
                    (IPC_FILTER_UID, false) => {
                        ipc.uids.insert(int_value(value)? as u32);
                    }
                    (_, false) => {
                        ipc.gids.insert(int_value(value)? as u32);
                    }
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Reads a generic option; `None` when it is not one, or cannot be
    /// read (libzmq's set-only options: subscriptions, filters, the
    /// type-specific switches).
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
            RECONNECT_STOP => OptionValue::Int(self.reconnect_stop),
            BACKLOG => OptionValue::Int(self.backlog),
            MAXMSGSIZE => OptionValue::I64(self.maxmsgsize),
            MULTICAST_HOPS => OptionValue::Int(self.multicast_hops),
            RCVTIMEO => OptionValue::Int(self.rcvtimeo),
            SNDTIMEO => OptionValue::Int(self.sndtimeo),
            IPV6 => OptionValue::Int(self.ipv6 as i32),
            IPV4ONLY => OptionValue::Int(!self.ipv6 as i32),
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
            MECHANISM => OptionValue::Int(self.mechanism),
            PLAIN_SERVER => {
                OptionValue::Int((self.as_server && self.mechanism == mechanism::PLAIN) as i32)
            }
            CURVE_SERVER => {
                OptionValue::Int((self.as_server && self.mechanism == mechanism::CURVE) as i32)
            }
            PLAIN_USERNAME => OptionValue::Str(self.plain.username.clone()),
            PLAIN_PASSWORD => OptionValue::Str(self.plain.password.to_vec()),
            SOCKS_PROXY => OptionValue::Str(self.socks_proxy.clone()),
            SOCKS_USERNAME => OptionValue::Str(self.socks_username.clone()),
            SOCKS_PASSWORD => OptionValue::Str(self.socks_password.to_vec()),
            CURVE_PUBLICKEY => OptionValue::Key(self.curve.public_key),
            CURVE_SECRETKEY => OptionValue::Key(*self.curve.secret_key),
            CURVE_SERVERKEY => OptionValue::Key(self.curve.server_key),
            ZAP_ENFORCE_DOMAIN => OptionValue::Int(self.zap_enforce_domain as i32),
            LOOPBACK_FASTPATH => OptionValue::Int(self.loopback_fastpath as i32),
            MULTICAST_LOOP => OptionValue::Int(self.multicast_loop as i32),
            THREAD_SAFE => OptionValue::SocketInt(kind::thread_safe(self.socket_type) as i32),
            _ => return None,
        })
    }
}

/// A `ZMQ_METADATA` value split as libzmq splits it: "name:value" at the
/// first colon, both sides non-empty, the name starting with "X-" and at
/// most 255 bytes. libzmq takes any 4-byte value for an int, so refuses
/// those too ("X-:v" would be the only one otherwise valid).
fn app_property(value: &[u8]) -> Result<(&[u8], &[u8])> {
    if value.len() == 4 {
        return Err(Error::Inval);
    }
    let colon = value.iter().position(|&b| b == b':').ok_or(Error::Inval)?;
    let (name, rest) = (&value[..colon], &value[colon + 1..]);
    if rest.is_empty() || !name.starts_with(b"X-") || name.len() > 255 {
        return Err(Error::Inval);
    }
    Ok((name, rest))
}

/// The types that route by peer routing id, and so take
/// `ZMQ_CONNECT_ROUTING_ID` (REP is a ROUTER inside).
fn routes_by_id(socket_type: i32) -> bool {
    matches!(socket_type, kind::ROUTER | kind::REP | kind::STREAM)
}

/// A CURVE key as libzmq takes it: 32 bytes, or 40 characters of Z85
/// (41 with the terminating NUL), read up to the first NUL as a C string.
fn curve_key(value: &[u8]) -> Result<[u8; 32]> {
    match value.len() {
        32 => value.try_into().map_err(|_| Error::Inval),
        40 | 41 => {
            let text = value.split(|&b| b == 0).next().unwrap_or(&[]);
            let key = z85::decode(text)?;
            key.as_slice().try_into().map_err(|_| Error::Inval)
        }
        _ => Err(Error::Inval),
    }
}

/// Checks a `ZMQ_TCP_ACCEPT_FILTER` value as libzmq does: a numeric
/// address (IPv6 only on an IPV6 socket, `[...]` allowed), then optionally
/// `/` and a prefix length read as C's `strtol` reads it (none: the whole
/// address).
fn accept_filter(value: &[u8], ipv6: bool) -> Result<TcpFilter> {
    if value.is_empty() || value.len() > 255 || value[0] == 0 {
        return Err(Error::Inval);
    }
    // libzmq reads the buffer as a C string.
    let value = value.split(|&b| b == 0).next().unwrap_or(&[]);
    let text = std::str::from_utf8(value).map_err(|_| Error::Inval)?;
    let (addr, mask) = match text.rfind('/') {
        Some(i) => (&text[..i], Some(&text[i + 1..])),
        None => (text, None),
    };
    let addr = addr
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(addr);
    let v4 = parse_inet_aton(addr).map(std::net::Ipv4Addr::from);
    let v6 = match v4 {
        Some(_) => None,
        None => {
            // A scope (`%eth0`) may follow a link-local address; the
            // filter compares address bits only.
            let (bare, scope) = match addr.split_once('%') {
                Some((b, s)) => (b, Some(s)),
                None => (addr, None),
            };
            if scope.is_some_and(str::is_empty) {
                return Err(Error::Inval);
            }
            Some(
                bare.parse::<std::net::Ipv6Addr>()
                    .map_err(|_| Error::Inval)?,
            )
        }
    };
    // An IPV6 socket reads every address as IPv6 (IPv4 ones mapped); an
    // IPv4 one takes IPv4 addresses, also written as mapped IPv6 ones.
    let net = match (ipv6, v4, v6) {
        (true, Some(a), _) => IpAddr::V6(a.to_ipv6_mapped()),
        (true, None, Some(a)) => IpAddr::V6(a),
        (false, Some(a), _) => IpAddr::V4(a),
        (false, None, Some(a)) => IpAddr::V4(a.to_ipv4_mapped().ok_or(Error::Inval)?),
        (_, None, None) => return Err(Error::Inval),
    };
    let bits = if net.is_ipv6() { 128 } else { 32 };
    let prefix = match mask {
        None => bits,
        Some("0") => 0,
        Some(m) => {
            let n = strtol(m);
            if n < 1 || n > i64::from(bits) {
                return Err(Error::Inval);
            }
            n as u32
        }
    };
    Ok(TcpFilter::new(net, prefix))
}

/// An IPv4 address in any form C's `inet_aton` takes (which libzmq's
/// numeric resolver accepts): one to four numbers, each decimal, octal
/// (leading 0) or hex (0x), the last filling the remaining bytes.
fn parse_inet_aton(s: &str) -> Option<u32> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 4 {
        return None;
    }
    let mut nums = Vec::with_capacity(parts.len());
    for p in &parts {
        let (digits, radix) = if let Some(h) = p.strip_prefix("0x").or(p.strip_prefix("0X")) {
            (h, 16)
        } else if p.len() > 1 && p.starts_with('0') {
            (&p[1..], 8)
        } else {
            (*p, 10)
        };
        if digits.is_empty() && radix != 16 {
            return None;
        }
        let n = if digits.is_empty() {
            0
        } else {
            u32::from_str_radix(digits, radix).ok()?
        };
        nums.push(n);
    }
    let (last, head) = nums.split_last()?;
    if head.iter().any(|&n| n > 255) {
        return None;
    }
    let rest_bits = 8 * (4 - head.len() as u32);
    if rest_bits < 32 && u64::from(*last) >= 1u64 << rest_bits {
        return None;
    }
    let mut v: u32 = 0;
    for (i, &n) in head.iter().enumerate() {
        v |= n << (24 - 8 * i as u32);
    }
    Some(v | last)
}

/// C's `strtol` in base 10: leading white space, a sign, then as many
/// digits as there are (none gives 0), saturating.
fn strtol(s: &str) -> i64 {
    let s = s.trim_start_matches([' ', '\t', '\n', '\r', '\x0b', '\x0c']);
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut n: i64 = 0;
    for b in digits.bytes().take_while(u8::is_ascii_digit) {
        n = n.saturating_mul(10).saturating_add(i64::from(b - b'0'));
    }
    if neg {
        -n
    } else {
        n
    }
}

/// An option's value, before it is written into the caller's buffer.
#[derive(Debug, Clone, PartialEq)]
pub enum OptionValue {
    /// An `int` option: the buffer must be exactly an `int`.
    Int(i32),
    /// An `int` the socket itself answers (`ZMQ_RCVMORE`, `ZMQ_EVENTS`,
    /// `ZMQ_FD`, `ZMQ_THREAD_SAFE`): libzmq takes any buffer at least an
    /// `int` long for these, and reports an `int`'s size.
    SocketInt(i32),
    I64(i64),
    U64(u64),
    /// Raw bytes, written as they are, into a buffer at least as long.
    Bytes(Vec<u8>),
    /// A string, written with its terminating NUL (and counted with it).
    Str(Vec<u8>),
    /// A CURVE key: 32 bytes into a 32-byte buffer, or 40 characters of
    /// Z85 and a NUL into a 41-byte one.
    Key([u8; 32]),
}

impl OptionValue {
    /// Writes the value into `out` as libzmq does, returning the length to
    /// report. A buffer of the wrong size gives `EINVAL`.
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize> {
        match self {
            OptionValue::Int(v) => put(out, &v.to_ne_bytes()),
            OptionValue::SocketInt(v) => put_prefix(out, &v.to_ne_bytes()),
            OptionValue::I64(v) => put(out, &v.to_ne_bytes()),
            OptionValue::U64(v) => put(out, &v.to_ne_bytes()),
            OptionValue::Bytes(b) => put_prefix(out, b),
            OptionValue::Str(b) => {
                if out.len() < b.len() + 1 {
                    return Err(Error::Inval);
                }
                out[..b.len()].copy_from_slice(b);
                out[b.len()] = 0;
                Ok(b.len() + 1)
            }
            OptionValue::Key(k) => match out.len() {
                32 => put(out, k),
                41 => {
                    let text = z85::encode(k)?;
                    out[..40].copy_from_slice(&text);
                    out[40] = 0;
                    Ok(41)
                }
                _ => Err(Error::Inval),
            },
        }
    }
}

/// Exactly `bytes.len()` bytes.
fn put(out: &mut [u8], bytes: &[u8]) -> Result<usize> {
    if out.len() != bytes.len() {
        return Err(Error::Inval);
    }
    out.copy_from_slice(bytes);
    Ok(bytes.len())
}

/// At least `bytes.len()` bytes; the rest of the buffer is left alone.
fn put_prefix(out: &mut [u8], bytes: &[u8]) -> Result<usize> {
    if out.len() < bytes.len() {
        return Err(Error::Inval);
    }
    out[..bytes.len()].copy_from_slice(bytes);
    Ok(bytes.len())
}

pub fn int_value(value: &[u8]) -> Result<i32> {
    let arr: [u8; 4] = value.try_into().map_err(|_| Error::Inval)?;
    Ok(i32::from_ne_bytes(arr))
}

impl Options {
    /// `ZMQ_RECONNECT_STOP_CONN_REFUSED`: a refused tcp connect drops the
    /// endpoint.
    pub fn stop_on_refusal(&self) -> bool {
        self.reconnect_stop & 0x1 != 0
    }

    /// `ZMQ_RECONNECT_STOP_HANDSHAKE_FAILED`: a connection lost or timed out
    /// before its handshake completed is not retried.
    pub fn stop_on_handshake_failure(&self) -> bool {
        self.reconnect_stop & 0x2 != 0
    }
}

pub fn int_at_least(value: &[u8], min: i32) -> Result<i32> {
    let v = int_value(value)?;
    if v < min {
        return Err(Error::Inval);
    }
    Ok(v)
}

/// A generic on/off option: libzmq takes exactly 0 or 1.
pub fn bool_value(value: &[u8]) -> Result<bool> {
    let v = int_value(value)?;
    match v {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(Error::Inval),
    }
}

/// A socket type's own switch (`ZMQ_ROUTER_MANDATORY`, `ZMQ_XPUB_VERBOSE`,
/// ...): libzmq takes any non-negative int, and any non-zero one is on.
pub fn flag_value(value: &[u8]) -> Result<bool> {
    Ok(int_at_least(value, 0)? != 0)
}

fn i64_value(value: &[u8]) -> Result<i64> {
    let arr: [u8; 8] = value.try_into().map_err(|_| Error::Inval)?;
    Ok(i64::from_ne_bytes(arr))
}

fn u64_value(value: &[u8]) -> Result<u64> {
    let arr: [u8; 8] = value.try_into().map_err(|_| Error::Inval)?;
    Ok(u64::from_ne_bytes(arr))
}

/// Z85 (ZeroMQ RFC 32), the text form of CURVE keys; also behind
/// `zmq_z85_encode`/`zmq_z85_decode`.
pub mod z85 {
    use crate::error::{Error, Result};

    const ALPHABET: &[u8; 85] =
        b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

    fn digit(c: u8) -> Option<u32> {
        ALPHABET.iter().position(|&z| z == c).map(|p| p as u32)
    }

    /// Five characters for every four bytes; the length must be a
    /// multiple of 4.
    pub fn encode(data: &[u8]) -> Result<Vec<u8>> {
        if !data.len().is_multiple_of(4) {
            return Err(Error::Inval);
        }
        let mut out = Vec::with_capacity(data.len() / 4 * 5);
        for chunk in data.chunks_exact(4) {
            let mut v = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            let mut group = [0u8; 5];
            for slot in group.iter_mut().rev() {
                *slot = ALPHABET[(v % 85) as usize];
                v /= 85;
            }
            out.extend_from_slice(&group);
        }
        Ok(out)
    }

    /// Four bytes for every five characters. As libzmq, refuses text
    /// shorter than one group, a length not a multiple of 5, characters
    /// outside the alphabet, and groups above 2^32 - 1.
    pub fn decode(text: &[u8]) -> Result<Vec<u8>> {
        if text.len() < 5 || !text.len().is_multiple_of(5) {
            return Err(Error::Inval);
        }
        let mut out = Vec::with_capacity(text.len() / 5 * 4);
        for chunk in text.chunks_exact(5) {
            let mut v: u32 = 0;
            for &c in chunk {
                let d = digit(c).ok_or(Error::Inval)?;
                v = v
                    .checked_mul(85)
                    .and_then(|v| v.checked_add(d))
                    .ok_or(Error::Inval)?;
            }
            out.extend_from_slice(&v.to_be_bytes());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_filters_as_libzmq_reads_them() {
        for ok in [
            "10.0.0.0/8",
            "10",
            "127.1",
            "0x7f.0.0.1",
            "010.0.0.1",
            "10.0.0.1/ 8",
        ] {
            assert!(accept_filter(ok.as_bytes(), false).is_ok(), "{ok}");
        }
        for ok in ["10.0.0.1/+8", "10.0.0.0/0", "[10.0.0.1]", "::ffff:10.0.0.1"] {
            assert!(accept_filter(ok.as_bytes(), false).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "not an address",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.1/x",
        ] {
            assert_eq!(
                accept_filter(bad.as_bytes(), false),
                Err(Error::Inval),
                "{bad}"
            );
        }
        for bad in [
            "10.0.0.1/00",
            "::1",
            " 10.0.0.1",
            "10.0.0.1 ",
            "10.0.0.256",
            "*",
        ] {
            assert_eq!(
                accept_filter(bad.as_bytes(), false),
                Err(Error::Inval),
                "{bad}"
            );
        }
        for ok in [
            "::1",
            "[::1]",
            "::1/128",
            "::1/0",
            "fe80::1%lo",
            "::1/64x",
            "10.0.0.1/33",
        ] {
            assert!(accept_filter(ok.as_bytes(), true).is_ok(), "{ok}");
        }
        assert_eq!(accept_filter(b"::1/129", true), Err(Error::Inval));
    }

    #[test]
    fn accept_filters_keep_what_they_read() {
        use std::net::{Ipv4Addr, Ipv6Addr};
        let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
        let mapped = |a, b, c, d| IpAddr::V6(Ipv4Addr::new(a, b, c, d).to_ipv6_mapped());
        for (text, ipv6, net, prefix) in [
            ("10.0.0.0/8", false, v4(10, 0, 0, 0), 8),
            ("127.1", false, v4(127, 0, 0, 1), 32),
            ("::ffff:10.0.0.1", false, v4(10, 0, 0, 1), 32),
            ("10.0.0.1/0", false, v4(10, 0, 0, 1), 0),
            ("10.0.0.1", true, mapped(10, 0, 0, 1), 128),
            ("[::1]/64", true, IpAddr::V6(Ipv6Addr::LOCALHOST), 64),
        ] {
            assert_eq!(
                accept_filter(text.as_bytes(), ipv6),
                Ok(TcpFilter::new(net, prefix)),
                "{text}"
            );
        }
    }

    #[test]
    fn accept_filters_add_and_clear() {
        let mut o = Options::new(kind::PULL);
        assert_eq!(o.set(id::TCP_ACCEPT_FILTER, Some(b"10.0.0.1")), Ok(true));
        assert_eq!(o.set(id::TCP_ACCEPT_FILTER, Some(b"10.0.0.2")), Ok(true));
        assert_eq!(o.set(id::TCP_ACCEPT_FILTER, Some(b"")), Err(Error::Inval));
        assert_eq!(o.accept_filters.tcp.len(), 2);
        assert_eq!(o.set(id::TCP_ACCEPT_FILTER, None), Ok(true));
        assert!(o.accept_filters.tcp.is_empty());
        for opt in [id::IPC_FILTER_PID, id::IPC_FILTER_UID, id::IPC_FILTER_GID] {
            assert_eq!(o.set(opt, Some(&7i32.to_ne_bytes())), Ok(true));
            assert_eq!(o.set(opt, Some(&[7, 0])), Err(Error::Inval));
            assert_eq!(o.get(opt), None);
        }
        assert_eq!(
            o.set(id::IPC_FILTER_UID, Some(&(-1i32).to_ne_bytes())),
            Ok(true)
        );
        assert!(o.accept_filters.ipc.uids.contains(&u32::MAX));
        assert_eq!(o.set(id::IPC_FILTER_UID, None), Ok(true));
        assert!(o.accept_filters.ipc.uids.is_empty());
        assert!(o.accept_filters.ipc.pids.contains(&7));
        assert!(o.accept_filters.ipc.gids.contains(&7));
        assert_eq!(o.get(id::TCP_ACCEPT_FILTER), None);
    }

    /// As Debian's libzmq 4.3.4 answers (capi-tests/test_api_facts.c sets
    /// the option through the C API).
    #[test]
    fn metadata_as_libzmq_takes_it() {
        let mut o = Options::new(kind::DEALER);
        for ok in [
            "X-Color:red",
            "X-Color:blue",
            "X-a:b",
            "X-Pa:1:2",
            "X-n:a\0b",
        ] {
            assert_eq!(o.set(id::METADATA, Some(ok.as_bytes())), Ok(true), "{ok}");
        }
        for bad in ["x-low:a", "X-:b", "X-ab:", "Y-a:bb", ":v", "X-Color", ""] {
            assert_eq!(
                o.set(id::METADATA, Some(bad.as_bytes())),
                Err(Error::Inval),
                "{bad}"
            );
        }
        assert_eq!(o.set(id::METADATA, None), Err(Error::Inval));
        let long = format!("X-{}:v", "k".repeat(254));
        assert_eq!(
            o.set(id::METADATA, Some(long.as_bytes())),
            Err(Error::Inval)
        );
        let longest = format!("X-{}:v", "k".repeat(253));
        assert_eq!(o.set(id::METADATA, Some(longest.as_bytes())), Ok(true));
        // The first value of a name stays; names come out in byte order.
        assert_eq!(o.app_metadata.get(&b"X-Color"[..]), Some(&b"red".to_vec()));
        let names: Vec<_> = o.app_metadata.keys().take(3).cloned().collect();
        assert_eq!(names, [&b"X-Color"[..], b"X-Pa", b"X-a"]);
        assert_eq!(o.get(id::METADATA), None, "libzmq cannot read it back");
    }

    #[test]
    fn curve_keys_binary_or_z85() {
        let text = b"rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";
        let key = curve_key(text).unwrap();
        assert_eq!(z85::encode(&key).unwrap(), text.to_vec());
        let mut with_nul = text.to_vec();
        with_nul.push(0);
        assert_eq!(curve_key(&with_nul).unwrap(), key);
        assert_eq!(curve_key(&key).unwrap(), key);
        assert_eq!(curve_key(&text[..39]), Err(Error::Inval));
        assert_eq!(curve_key(&[b'~'; 40]), Err(Error::Inval));
        assert_eq!(curve_key(&[b'0'; 41]), Err(Error::Inval));
    }

    #[test]
    fn heartbeat_ttl_in_whole_deciseconds() {
        let mut o = Options::new(kind::DEALER);
        for (set, got) in [(1234, 1200), (-99, 0), (6_553_599, 6_553_500)] {
            o.set(id::HEARTBEAT_TTL, Some(&i32::to_ne_bytes(set)))
                .unwrap();
            assert_eq!(o.get(id::HEARTBEAT_TTL), Some(OptionValue::Int(got)));
        }
        assert_eq!(
            o.set(id::HEARTBEAT_TTL, Some(&i32::to_ne_bytes(6_553_600))),
            Err(Error::Inval)
        );
    }

    #[test]
    fn socket_ints_take_larger_buffers() {
        let mut buf = [0xAAu8; 8];
        assert_eq!(OptionValue::SocketInt(7).write_to(&mut buf), Ok(4));
        assert_eq!(OptionValue::Int(7).write_to(&mut buf), Err(Error::Inval));
        assert_eq!(
            OptionValue::SocketInt(7).write_to(&mut buf[..2]),
            Err(Error::Inval)
        );
    }
}
