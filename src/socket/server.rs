//! SERVER: each peer's pipe gets a non-zero 32-bit routing id. A received
//! message carries its sender's id (`zmq_msg_routing_id`); a message sent
//! goes to the pipe its id names (`zmq_msg_set_routing_id`), `EHOSTUNREACH`
//! if none. Single-part messages only. PEER is the same socket, whose
//! `zmq_connect_peer` tells the id of the pipe it connects.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use super::fq::FairQueue;
use super::{single_part, Pattern, Pipes};
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::Options;
use crate::pipe::{PipeId, PipeMap};

pub struct Server {
    fq: FairQueue,
    by_id: HashMap<u32, PipeId>,
    ids: PipeMap<u32>,
    next_id: u32,
}

impl Default for Server {
    fn default() -> Self {
        Server {
            fq: FairQueue::default(),
            by_id: HashMap::new(),
            ids: PipeMap::default(),
            // A random start, as libzmq: a client that reconnects to a new
            // socket is unlikely to be given an id a stale reply still names.
            next_id: RandomState::new().hash_one(std::process::id()) as u32,
        }
    }
}

impl Pattern for Server {
    fn attach(&mut self, pid: PipeId, _pipes: &mut Pipes, _opts: &Options) {
        let rid = loop {
            let candidate = self.next_id;
            self.next_id = self.next_id.wrapping_add(1);
            // Zero means "no routing id" on a message; after wrapping, an id
            // may still be in use by a long-lived peer.
            if candidate != 0 && !self.by_id.contains_key(&candidate) {
                break candidate;
            }
        };
        self.by_id.insert(rid, pid);
        self.ids.insert(pid, rid);
        self.fq.attach(pid);
    }

    fn terminated(&mut self, pid: PipeId, _pipes: &mut Pipes) {
        if let Some(rid) = self.ids.remove(&pid) {
            self.by_id.remove(&rid);
        }
        self.fq.terminated(pid);
    }

    fn send(&mut self, msg: &mut Msg, pipes: &mut Pipes, _opts: &Options) -> Result<()> {
        single_part(msg)?;
        let pipe = self
            .by_id
            .get(&msg.routing_id())
            .and_then(|pid| pipes.get_mut(pid))
            .ok_or(Error::HostUnreach)?;
        if !pipe.can_write() {
            return Err(Error::Again);
        }
        let mut frame = msg.take();
        // An inproc peer would otherwise see our id for it on the message.
        frame.set_routing_id(0);
        pipe.write(frame);
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, opts: &Options) -> Result<Msg> {
        super::recv_by_into(self, pipes, opts)
    }

    fn recv_into(&mut self, pipes: &mut Pipes, _opts: &Options, out: &mut Msg) -> Result<()> {
        let pid = self.fq.recv_single(pipes, out)?;
        out.set_routing_id(self.routing_id_of(pid));
        Ok(())
    }

    fn has_in(&mut self, pipes: &mut Pipes, _opts: &Options) -> bool {
        self.fq.has_in(pipes)
    }

    fn routing_id_of(&self, id: PipeId) -> u32 {
        self.ids.get(&id).copied().unwrap_or(0)
    }

    fn has_out(&mut self, _pipes: &mut Pipes, _opts: &Options) -> bool {
        // Whether a send succeeds depends on the pipe it names.
        true
    }
}
