//! The context: the sockets it made, its options, and the table of inproc
//! endpoints (with the connects waiting for a bind).
//!
//! Every method is safe to call from any thread. `terminate` marks the
//! context, wakes every blocked call (which then fails with `ETERM`), and
//! waits until every socket is closed.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::{Condvar, Mutex};

use crate::error::{Error, Result};
use crate::io::thread::IoThreads;
use crate::options::Options;
use crate::pipe::{pipe_pair, pipe_pair_with, PipeEnd, SideConfig};
use crate::socket::mailbox::{Command, Mailbox};
use crate::socket::Socket;
use crate::transport::tcp::{system_lookup, Lookup};

/// Context option numbers, as zmq.h defines them.
pub mod opt {
    pub const IO_THREADS: i32 = 1;
    pub const MAX_SOCKETS: i32 = 2;
    pub const SOCKET_LIMIT: i32 = 3;
    pub const THREAD_PRIORITY: i32 = 3;
    pub const THREAD_SCHED_POLICY: i32 = 4;
    pub const MAX_MSGSZ: i32 = 5;
    pub const MSG_T_SIZE: i32 = 6;
    pub const THREAD_AFFINITY_CPU_ADD: i32 = 7;
    pub const THREAD_AFFINITY_CPU_REMOVE: i32 = 8;
    pub const THREAD_NAME_PREFIX: i32 = 9;
    pub const IPV6: i32 = 42;
    pub const BLOCKY: i32 = 70;
    pub const ZERO_COPY_RECV: i32 = 10;
}

/// libzmq's socket limit: the most `ZMQ_MAX_SOCKETS` may be set to.
const SOCKET_LIMIT: i32 = 65535;

struct Settings {
    io_threads: i32,
    /// `io_threads` as the first socket found it: libzmq sizes its pool
    /// then, and later changes have no effect.
    io_threads_fixed: Option<i32>,
    max_sockets: i32,
    max_msgsz: i32,
    ipv6: bool,
    blocky: bool,
    zero_copy_recv: bool,
    thread_priority: i32,
    thread_sched_policy: i32,
    thread_name_prefix: i32,
    /// CPUs named by THREAD_AFFINITY_CPU_ADD (and not removed since).
    affinity_cpus: Vec<i32>,
}

/// A bound inproc endpoint.
struct Endpoint {
    socket_id: u64,
    mailbox: Arc<Mailbox>,
    config: SideConfig,
    routing_id: Vec<u8>,
}

/// A connect made before the bind: the binder's end of the pipe waits here.
pub struct Pending {
    pub pipe: PipeEnd,
    pub connector: SideConfig,
    pub connector_routing_id: Vec<u8>,
    connector_id: u64,
}

#[derive(Default)]
struct Inproc {
    endpoints: HashMap<String, Endpoint>,
    pending: HashMap<String, Vec<Pending>>,
}

/// Where a session finds the ZAP handler: the socket bound at
/// `inproc://zeromq.zap.01` in its context. The I/O threads hold this
/// (not the context, which owns them): the inproc table, weakly, and only
/// this one use of it.
#[derive(Clone, Default)]
pub(crate) struct ZapConnector(Weak<Mutex<Inproc>>);

impl ZapConnector {
    /// A pipe to the handler, whose other end is attached to it (as an
    /// inproc connect would be), owned by `mailbox`; None if nothing is
    /// bound there. Without high-water marks, as libzmq's ZAP pipe.
    pub(crate) fn connect(&self, mailbox: &Arc<Mailbox>) -> Option<PipeEnd> {
        let table = self.0.upgrade()?;
        let inproc = table.lock();
        let ep = inproc.endpoints.get("zeromq.zap.01")?;
        let (mine, mut theirs) = pipe_pair_with(0, 0, false);
        mine.set_owner(mailbox);
        theirs.endpoint = "inproc://zeromq.zap.01".to_string();
        ep.mailbox.post(Command::Attach(theirs));
        Some(mine)
    }
}

pub struct Ctx {
    settings: Mutex<Settings>,
    sockets: Mutex<HashMap<u64, Arc<Mailbox>>>,
    all_closed: Condvar,
    terminating: AtomicBool,
    inproc: Arc<Mutex<Inproc>>,
    /// Started by the first tcp or ipc bind/connect.
    io: Mutex<Option<Arc<IoThreads>>>,
    /// How connects resolve names (a stand-in in tests).
    lookup: Mutex<Lookup>,
}

impl Ctx {
    pub fn new() -> Arc<Ctx> {
        Arc::new(Ctx {
            settings: Mutex::new(Settings {
                io_threads: 1,
                io_threads_fixed: None,
                max_sockets: 1023,
                max_msgsz: i32::MAX,
                ipv6: false,
                blocky: true,
                zero_copy_recv: true,
                thread_priority: -1,
                thread_sched_policy: -1,
                thread_name_prefix: 0,
                affinity_cpus: Vec::new(),
            }),
            sockets: Mutex::new(HashMap::new()),
            all_closed: Condvar::new(),
            terminating: AtomicBool::new(false),
            inproc: Arc::new(Mutex::new(Inproc::default())),
            io: Mutex::new(None),
            lookup: Mutex::new(system_lookup()),
        })
    }

    pub fn set(&self, option: i32, value: i32) -> Result<()> {
        let mut s = self.settings.lock();
        match option {
            opt::IO_THREADS if value >= 0 => s.io_threads = value,
            // No upper bound: libzmq takes any count, its table grows.
            opt::MAX_SOCKETS if value >= 1 => s.max_sockets = value,
            opt::MAX_MSGSZ if value >= 0 => s.max_msgsz = value,
            opt::IPV6 if value >= 0 => s.ipv6 = value != 0,
            opt::BLOCKY if value >= 0 => s.blocky = value != 0,
            opt::ZERO_COPY_RECV if value >= 0 => s.zero_copy_recv = value != 0,
            opt::THREAD_PRIORITY if value >= 0 => s.thread_priority = value,
            opt::THREAD_SCHED_POLICY if value >= 0 => s.thread_sched_policy = value,
            opt::THREAD_NAME_PREFIX => s.thread_name_prefix = value,
            // Kept for libzmq's answers; threads are not pinned.
            opt::THREAD_AFFINITY_CPU_ADD if value >= 0 => {
                if !s.affinity_cpus.contains(&value) {
                    s.affinity_cpus.push(value);
                }
            }
            opt::THREAD_AFFINITY_CPU_REMOVE if s.affinity_cpus.contains(&value) => {
                s.affinity_cpus.retain(|c| *c != value);
            }
            _ => return Err(Error::Inval),
        }
        Ok(())
    }

    pub fn get(&self, option: i32) -> Result<i32> {
        let s = self.settings.lock();
        Ok(match option {
            opt::IO_THREADS => s.io_threads,
            opt::MAX_SOCKETS => s.max_sockets,
            opt::SOCKET_LIMIT => SOCKET_LIMIT,
            opt::MAX_MSGSZ => s.max_msgsz,
            opt::MSG_T_SIZE => 64,
            opt::IPV6 => s.ipv6 as i32,
            opt::BLOCKY => s.blocky as i32,
            opt::ZERO_COPY_RECV => s.zero_copy_recv as i32,
            opt::THREAD_SCHED_POLICY => s.thread_sched_policy,
            opt::THREAD_NAME_PREFIX => s.thread_name_prefix,
            _ => return Err(Error::Inval),
        })
    }

    pub fn ipv6(&self) -> bool {
        self.settings.lock().ipv6
    }

    pub fn is_terminating(&self) -> bool {
        self.terminating.load(Ordering::Acquire)
    }

    /// Makes a socket (`zmq_socket`).
    pub fn socket(self: &Arc<Self>, socket_type: i32) -> Result<Arc<Socket>> {
        if self.is_terminating() {
            return Err(Error::Term);
        }
        let max = {
            let mut s = self.settings.lock();
            let io_threads = s.io_threads;
            s.io_threads_fixed.get_or_insert(io_threads);
            s.max_sockets
        };
        let socket = Arc::new(Socket::new(Arc::clone(self), socket_type)?);
        let mut sockets = self.sockets.lock();
        if sockets.len() >= max as usize {
            return Err(Error::MFile);
        }
        sockets.insert(socket.id, Arc::clone(socket.mailbox()));
        Ok(socket)
    }

    pub(crate) fn socket_closed(&self, id: u64) {
        let mut sockets = self.sockets.lock();
        sockets.remove(&id);
        if sockets.is_empty() {
            self.all_closed.notify_all();
        }
    }

    /// `zmq_ctx_shutdown`: blocked calls return `ETERM`, new ones too.
    pub fn shutdown(&self) {
        self.terminating.store(true, Ordering::Release);
        for mailbox in self.sockets.lock().values() {
            mailbox.ring();
        }
    }

    /// `zmq_ctx_term`: shuts down, waits for every socket to close, then
    /// for the I/O threads to deliver what lingers.
    pub fn terminate(&self) {
        self.shutdown();
        let mut sockets = self.sockets.lock();
        while !sockets.is_empty() {
            self.all_closed.wait(&mut sockets);
        }
        drop(sockets);
        let io = self.io.lock().take();
        if let Some(io) = io {
            io.stop();
        }
    }

    /// The I/O threads, started on first use.
    pub(crate) fn io_thread(&self) -> Result<Arc<IoThreads>> {
        self.io_thread_for(0)
    }

    /// The I/O threads for a socket with `ZMQ_AFFINITY` `affinity`:
    /// `EMTHREAD` when it names none of them (or there are none,
    /// `ZMQ_IO_THREADS` 0), as libzmq's bind and connect answer.
    pub(crate) fn io_thread_for(&self, affinity: u64) -> Result<Arc<IoThreads>> {
        let mut io = self.io.lock();
        let threads = match io.as_ref() {
            Some(t) => Arc::clone(t),
            None => {
                let count = {
                    let s = self.settings.lock();
                    s.io_threads_fixed.unwrap_or(s.io_threads)
                };
                if count <= 0 {
                    return Err(Error::MThread);
                }
                let lookup = Arc::clone(&*self.lookup.lock());
                let zap = ZapConnector(Arc::downgrade(&self.inproc));
                let t = Arc::new(
                    IoThreads::start(count as usize, lookup, zap).map_err(|_| Error::MThread)?,
                );
                *io = Some(Arc::clone(&t));
                t
            }
        };
        if !threads.serves(affinity) {
            return Err(Error::MThread);
        }
        Ok(threads)
    }

    /// Replaces name resolution for connects made after the I/O threads
    /// start (so before the first tcp bind or connect).
    #[cfg(test)]
    pub(crate) fn set_lookup(&self, lookup: Lookup) {
        *self.lookup.lock() = lookup;
    }

    /// Binds an inproc name; returns the connects that were waiting for it.
    pub(crate) fn register_endpoint(
        &self,
        address: &str,
        socket: &Socket,
        options: &Options,
    ) -> Result<Vec<Pending>> {
        let mut inproc = self.inproc.lock();
        if inproc.endpoints.contains_key(address) {
            return Err(Error::AddrInUse);
        }
        inproc.endpoints.insert(
            address.to_string(),
            Endpoint {
                socket_id: socket.id,
                mailbox: Arc::clone(socket.mailbox()),
                config: Socket::side_config(options),
                routing_id: options.routing_id.clone(),
            },
        );
        Ok(inproc.pending.remove(address).unwrap_or_default())
    }

    pub(crate) fn unregister_endpoint(&self, address: &str, socket_id: u64) {
        let mut inproc = self.inproc.lock();
        if inproc.endpoints.get(address).map(|e| e.socket_id) == Some(socket_id) {
            inproc.endpoints.remove(address);
        }
    }

    /// Connects to an inproc name, bound or not yet: returns our end of
    /// the pipe; the other end goes to the binder now or at its bind.
    pub(crate) fn connect_inproc(
        &self,
        address: &str,
        socket: &Socket,
        options: &Options,
    ) -> Result<PipeEnd> {
        let me = Socket::side_config(options);
        let mut inproc = self.inproc.lock();
        if let Some(ep) = inproc.endpoints.get(address) {
            let (mut mine, mut theirs) = pipe_pair(me, ep.config);
            mine.peer_routing_id = ep.routing_id.clone();
            theirs.peer_routing_id = options.routing_id.clone();
            theirs.endpoint = format!("inproc://{address}");
            ep.mailbox.post(Command::Attach(theirs));
            return Ok(mine);
        }
        let (mine, theirs) = pipe_pair(me, me);
        inproc
            .pending
            .entry(address.to_string())
            .or_default()
            .push(Pending {
                pipe: theirs,
                connector: me,
                connector_routing_id: options.routing_id.clone(),
                connector_id: socket.id,
            });
        Ok(mine)
    }

    /// A closing socket's connects that never met a bind are dropped.
    pub(crate) fn drop_pending_of(&self, socket_id: u64) {
        let mut inproc = self.inproc.lock();
        for list in inproc.pending.values_mut() {
            list.retain(|p| p.connector_id != socket_id);
        }
        inproc.pending.retain(|_, list| !list.is_empty());
    }
}
