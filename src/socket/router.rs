//! ROUTER: every peer has a routing id. Received messages are prefixed
//! with the sender's id; sent messages start with the id of the peer to
//! route to. Unknown ids are dropped, or refused with `EHOSTUNREACH` under
//! `ZMQ_ROUTER_MANDATORY`.

use std::collections::HashMap;

use super::fq::FairQueue;
use super::{Pattern, Pipes};
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::{flag_value, id, Options};
use crate::pipe::{PipeId, PipeMap};

#[derive(Default)]
pub struct Router {
    fq: FairQueue,
    by_id: HashMap<Vec<u8>, PipeId>,
    ids: PipeMap<Vec<u8>>,
    next_id: u32,
    /// A frame read ahead while the routing id frame is handed out.
    prefetched: Option<Msg>,
    /// Mid-message on the receive side.
    more_in: bool,
    /// Where the frames of the message being sent go (None: dropped).
    out: Option<PipeId>,
    more_out: bool,
    mandatory: bool,
    handover: bool,
    probe: bool,
    raw: bool,
}

impl Router {
    fn generate_id(&mut self) -> Vec<u8> {
        loop {
            self.next_id = self.next_id.wrapping_add(1);
            let mut id = vec![0u8];
            id.extend_from_slice(&self.next_id.to_be_bytes());
            if !self.by_id.contains_key(&id) {
                return id;
            }
        }
    }

    /// A router that refuses unknown routing ids (`EHOSTUNREACH`), as a
    /// STREAM socket always does.
    pub(super) fn mandatory() -> Router {
        Router {
            mandatory: true,
            ..Router::default()
        }
    }

    /// True between a routing id frame and the end of its message.
    pub(super) fn routing(&self) -> bool {
        self.more_out
    }

    /// Abandons the message being routed (REP on a malformed request).
    pub(super) fn rollback(&mut self, pipes: &mut Pipes) {
        if let Some(p) = self.out.and_then(|id| pipes.get_mut(&id)) {
            p.rollback();
        }
        self.out = None;
        self.more_out = false;
    }
}

impl Pattern for Router {
    fn attach(&mut self, pid: PipeId, pipes: &mut Pipes, _opts: &Options) {
        let wanted = pipes
            .get(&pid)
            .map(|p| p.peer_routing_id.clone())
            .unwrap_or_default();
        let rid = if wanted.is_empty() {
            self.generate_id()
        } else if let Some(&old) = self.by_id.get(&wanted) {
            if !self.handover {
                // libzmq refuses a second peer with a routing id in use.
                if let Some(mut p) = pipes.remove(&pid) {
                    p.close();
                }
                return;
            }
            // Handover: the new peer takes the id; the old one is dropped.
            self.by_id.remove(&wanted);
            self.ids.remove(&old);
            self.fq.terminated(old);
            if self.out == Some(old) {
                self.out = None;
            }
            if let Some(mut p) = pipes.remove(&old) {
                p.close();
            }
            wanted
        } else {
            wanted
        };
        if self.probe {
            if let Some(p) = pipes.get_mut(&pid) {
                p.write(Msg::new());
            }
        }
        self.by_id.insert(rid.clone(), pid);
        self.ids.insert(pid, rid);
        self.fq.attach(pid);
    }

    fn terminated(&mut self, pid: PipeId, _pipes: &mut Pipes) {
        if let Some(rid) = self.ids.remove(&pid) {
            self.by_id.remove(&rid);
        }
        self.fq.terminated(pid);
        if self.out == Some(pid) {
            self.out = None;
        }
    }

    fn send(&mut self, msg: &mut Msg, pipes: &mut Pipes, _opts: &Options) -> Result<()> {
        if !self.more_out {
            // The routing id frame.
            let target = self.by_id.get(msg.data()).copied();
            match target {
                Some(pid) => {
                    let writable = pipes.get(&pid).is_some_and(|p| p.can_write());
                    if !writable {
                        if self.mandatory {
                            return Err(Error::Again);
                        }
                        self.out = None;
                    } else {
                        self.out = Some(pid);
                    }
                }
                None => {
                    if self.mandatory {
                        return Err(Error::HostUnreach);
                    }
                    self.out = None;
                }
            }
            self.more_out = msg.more();
            msg.take();
            return Ok(());
        }
        let more = msg.more();
        let frame = msg.take();
        if let Some(p) = self.out.and_then(|pid| pipes.get_mut(&pid)) {
            p.write(frame);
        }
        if !more {
            self.more_out = false;
            self.out = None;
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> Result<Msg> {
        if let Some(m) = self.prefetched.take() {
            self.more_in = m.more();
            return Ok(m);
        }
        let (msg, pid) = self.fq.recv_from(pipes)?;
        if self.more_in {
            self.more_in = msg.more();
            return Ok(msg);
        }
        // First frame of a message: hand out the routing id first, with
        // the connection's properties as libzmq gives it.
        let rid = self.ids.get(&pid).cloned().unwrap_or_default();
        let mut id_frame = Msg::from_vec(rid);
        id_frame.set_metadata(msg.metadata().cloned());
        id_frame.set_more(true);
        self.prefetched = Some(msg);
        self.more_in = true;
        Ok(id_frame)
    }

    fn has_in(&mut self, pipes: &mut Pipes, _opts: &Options) -> bool {
        self.more_in || self.prefetched.is_some() || self.fq.has_in(pipes)
    }

    fn has_out(&mut self, pipes: &mut Pipes, _opts: &Options) -> bool {
        if !self.mandatory {
            return true;
        }
        self.ids
            .keys()
            .any(|pid| pipes.get(pid).is_some_and(|p| p.can_write()))
    }

    fn set_option(&mut self, opt: i32, value: &[u8], _pipes: &mut Pipes) -> Result<bool> {
        match opt {
            id::ROUTER_MANDATORY => self.mandatory = flag_value(value)?,
            id::ROUTER_HANDOVER => self.handover = flag_value(value)?,
            id::PROBE_ROUTER => self.probe = flag_value(value)?,
            id::ROUTER_RAW => self.raw = flag_value(value)?,
            _ => return Ok(false),
        }
        Ok(true)
    }
}
