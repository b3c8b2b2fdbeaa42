//! XSUB (and SUB): fair-queues messages from publishers, keeping those
//! that match a subscription, and sends subscriptions upstream to every
//! publisher (again to each new one).

use super::dist::Distributor;
use super::fq::FairQueue;
use super::trie::Trie;
use super::{Pattern, Pipes};
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::{id, Options};
use crate::pipe::PipeId;

pub struct XSub {
    is_sub: bool,
    fq: FairQueue,
    dist: Distributor,
    pipes: Vec<PipeId>,
    subs: Trie,
    /// A matching message read ahead by `has_in`.
    prefetched: Option<Msg>,
    more_in: bool,
    more_out: bool,
}

impl XSub {
    pub fn new(is_sub: bool) -> XSub {
        XSub {
            is_sub,
            fq: FairQueue::default(),
            dist: Distributor::default(),
            pipes: Vec::new(),
            subs: Trie::default(),
            prefetched: None,
            more_in: false,
            more_out: false,
        }
    }

    fn matches(&self, data: &[u8], opts: &Options) -> bool {
        self.subs.matches(data) != opts.invert_matching
    }

    /// Sends one frame upstream, applying (un)subscriptions on the way.
    fn send_upstream(&mut self, msg: &mut Msg, pipes: &mut Pipes) -> Result<()> {
        if !self.more_out {
            let data = msg.data();
            if !msg.more() && !data.is_empty() && data[0] <= 1 {
                if data[0] == 1 {
                    self.subs.add(&data[1..]);
                } else if !self.subs.remove(&data[1..]) {
                    // Not the last one of this topic: publishers keep it.
                    msg.take();
                    return Ok(());
                }
            }
            self.dist.begin(self.pipes.iter().copied(), pipes);
        }
        self.more_out = msg.more();
        self.dist.send(msg.take(), pipes);
        Ok(())
    }

    /// The next frame of a matching message.
    fn next(&mut self, pipes: &mut Pipes, opts: &Options) -> Result<Msg> {
        if let Some(m) = self.prefetched.take() {
            self.more_in = m.more();
            return Ok(m);
        }
        loop {
            let msg = self.fq.recv(pipes)?;
            if self.more_in || self.matches(msg.data(), opts) {
                self.more_in = msg.more();
                return Ok(msg);
            }
            let mut last = msg;
            while last.more() {
                last = self.fq.recv(pipes)?;
            }
        }
    }
}

impl Pattern for XSub {
    fn attach(&mut self, pid: PipeId, pipes: &mut Pipes, opts: &Options) {
        self.fq.attach(pid);
        self.pipes.push(pid);
        self.hiccup(pid, pipes);
        let _ = opts;
    }

    fn hiccup(&mut self, pid: PipeId, pipes: &mut Pipes) {
        if let Some(p) = pipes.get_mut(&pid) {
            for topic in self.subs.prefixes() {
                let mut m = Vec::with_capacity(topic.len() + 1);
                m.push(1);
                m.extend_from_slice(&topic);
                p.write(Msg::from_vec(m));
            }
        }
    }

    fn terminated(&mut self, pid: PipeId, _pipes: &mut Pipes) {
        self.fq.terminated(pid);
        self.dist.terminated(pid);
        self.pipes.retain(|p| *p != pid);
    }

    fn send(&mut self, msg: &mut Msg, pipes: &mut Pipes, _opts: &Options) -> Result<()> {
        if self.is_sub {
            return Err(Error::NotSup);
        }
        self.send_upstream(msg, pipes)
    }

    fn recv(&mut self, pipes: &mut Pipes, opts: &Options) -> Result<Msg> {
        self.next(pipes, opts)
    }

    fn has_in(&mut self, pipes: &mut Pipes, opts: &Options) -> bool {
        if self.more_in || self.prefetched.is_some() {
            return true;
        }
        match self.next(pipes, opts) {
            Ok(m) => {
                self.more_in = false;
                self.prefetched = Some(m);
                true
            }
            Err(_) => false,
        }
    }

    fn has_out(&mut self, _pipes: &mut Pipes, _opts: &Options) -> bool {
        !self.is_sub
    }

    fn set_option(&mut self, opt: i32, value: &[u8], pipes: &mut Pipes) -> Result<bool> {
        if !self.is_sub || (opt != id::SUBSCRIBE && opt != id::UNSUBSCRIBE) {
            return Ok(false);
        }
        let mut m = Vec::with_capacity(value.len() + 1);
        m.push((opt == id::SUBSCRIBE) as u8);
        m.extend_from_slice(value);
        self.send_upstream(&mut Msg::from_vec(m), pipes)?;
        Ok(true)
    }
}
