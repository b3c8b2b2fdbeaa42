//! XPUB (and PUB, which is XPUB that keeps subscriptions to itself):
//! fans each message out to the peers subscribed to a prefix of its first
//! frame, and hands subscription messages to the application.

use std::collections::VecDeque;

use super::dist::Distributor;
use super::trie::MultiTrie;
use super::{Pattern, Pipes};
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::{flag_value, id, Options};
use crate::pipe::PipeId;

pub struct XPub {
    is_pub: bool,
    subs: MultiTrie,
    dist: Distributor,
    pipes: Vec<PipeId>,
    /// Subscription messages for the application, with the pipe they came
    /// from (for `ZMQ_XPUB_MANUAL`).
    pending: VecDeque<(Msg, PipeId)>,
    /// The pipe of the last subscription handed out, for manual mode.
    last_pipe: Option<PipeId>,
    verbose_subs: bool,
    verbose_unsubs: bool,
    manual: bool,
    nodrop: bool,
    welcome: Option<Vec<u8>>,
    /// Mid-message on the receive side (multipart upstream messages).
    more_in: bool,
}

impl XPub {
    pub fn new(is_pub: bool) -> XPub {
        XPub {
            is_pub,
            subs: MultiTrie::default(),
            dist: Distributor::default(),
            pipes: Vec::new(),
            pending: VecDeque::new(),
            last_pipe: None,
            verbose_subs: false,
            verbose_unsubs: false,
            manual: false,
            nodrop: false,
            welcome: None,
            more_in: false,
        }
    }

    /// Reads what subscribers sent: subscriptions, cancellations, and
    /// (for XPUB) any other upstream message.
    fn read_upstream(&mut self, pipes: &mut Pipes) {
        for &pid in &self.pipes {
            let Some(p) = pipes.get_mut(&pid) else {
                continue;
            };
            while p.has_msg() {
                let first = !p.reading;
                let Some(msg) = p.read() else { break };
                let data = msg.data();
                let kind = if first && !msg.more() && !data.is_empty() && data[0] <= 1 {
                    Some(data[0] == 1)
                } else {
                    None
                };
                match kind {
                    Some(subscribe) if !self.manual => {
                        let topic = &data[1..];
                        let unique = if subscribe {
                            self.subs.add(topic, pid)
                        } else {
                            self.subs.remove(topic, pid)
                        };
                        let verbose = if subscribe {
                            self.verbose_subs
                        } else {
                            self.verbose_unsubs
                        };
                        if !self.is_pub && (unique || verbose) {
                            self.pending.push_back((msg, pid));
                        }
                    }
                    _ => {
                        if !self.is_pub {
                            self.pending.push_back((msg, pid));
                        }
                    }
                }
            }
        }
    }

    fn targets(&self, data: &[u8], opts: &Options) -> Vec<PipeId> {
        let mut matched = Vec::new();
        self.subs.matching(data, |p| matched.push(p));
        matched.sort_unstable();
        matched.dedup();
        if opts.invert_matching {
            self.pipes
                .iter()
                .copied()
                .filter(|p| matched.binary_search(p).is_err())
                .collect()
        } else {
            matched
        }
    }
}

impl Pattern for XPub {
    fn attach(&mut self, pid: PipeId, pipes: &mut Pipes, _opts: &Options) {
        self.pipes.push(pid);
        if let (Some(welcome), Some(p)) = (&self.welcome, pipes.get_mut(&pid)) {
            p.write(Msg::from_slice(welcome));
        }
    }

    fn terminated(&mut self, pid: PipeId, pipes: &mut Pipes) {
        // Subscriptions sent just before the peer left still count.
        self.read_upstream(pipes);
        self.pipes.retain(|p| *p != pid);
        self.dist.terminated(pid);
        let gone = self.subs.remove_pipe(pid);
        if !self.is_pub && !self.manual {
            // A cancel per topic nobody holds now; per topic the pipe held
            // at all under XPUB_VERBOSER.
            let verbose = self.verbose_unsubs;
            for (topic, _) in gone.into_iter().filter(|(_, last)| *last || verbose) {
                let mut m = Vec::with_capacity(topic.len() + 1);
                m.push(0);
                m.extend_from_slice(&topic);
                self.pending.push_back((Msg::from_vec(m), pid));
            }
        }
        if self.last_pipe == Some(pid) {
            self.last_pipe = None;
        }
    }

    fn send(&mut self, msg: &mut Msg, pipes: &mut Pipes, opts: &Options) -> Result<()> {
        if !self.dist.in_message() {
            self.read_upstream(pipes);
            let targets = self.targets(msg.data(), opts);
            if self.nodrop && !Distributor::all_writable(targets.iter().copied(), pipes) {
                return Err(Error::Again);
            }
            self.dist.begin(targets.into_iter(), pipes);
        }
        self.dist.send(msg.take(), pipes);
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> Result<Msg> {
        if self.is_pub {
            return Err(Error::NotSup);
        }
        self.read_upstream(pipes);
        let (msg, pid) = self.pending.pop_front().ok_or(Error::Again)?;
        if !self.more_in {
            self.last_pipe = Some(pid);
        }
        self.more_in = msg.more();
        Ok(msg)
    }

    fn has_in(&mut self, pipes: &mut Pipes, _opts: &Options) -> bool {
        if self.is_pub {
            return false;
        }
        self.read_upstream(pipes);
        !self.pending.is_empty()
    }

    fn has_out(&mut self, _pipes: &mut Pipes, _opts: &Options) -> bool {
        true
    }

    fn set_option(&mut self, opt: i32, value: &[u8], pipes: &mut Pipes) -> Result<bool> {
        match opt {
            id::XPUB_VERBOSE => self.verbose_subs = flag_value(value)?,
            id::XPUB_VERBOSER => {
                let v = flag_value(value)?;
                self.verbose_subs = v;
                self.verbose_unsubs = v;
            }
            id::XPUB_MANUAL => self.manual = flag_value(value)?,
            id::XPUB_NODROP => self.nodrop = flag_value(value)?,
            id::XPUB_WELCOME_MSG => {
                self.welcome = (!value.is_empty()).then(|| value.to_vec());
            }
            id::SUBSCRIBE | id::UNSUBSCRIBE if self.manual && !self.is_pub => {
                self.read_upstream(pipes);
                let Some(pid) = self.last_pipe else {
                    return Ok(true);
                };
                if opt == id::SUBSCRIBE {
                    self.subs.add(value, pid);
                } else {
                    self.subs.remove(value, pid);
                }
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}
