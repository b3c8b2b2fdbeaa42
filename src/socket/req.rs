//! REQ: a DEALER that strictly alternates send and receive. Each request
//! goes out behind an empty delimiter (and a request id with
//! `ZMQ_REQ_CORRELATE`); only the reply from the peer that got the request
//! is accepted. `ZMQ_REQ_RELAXED` allows a new request before the reply.

use super::dealer::Dealer;
use super::{Pattern, Pipes};
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::{flag_value, id, Options};
use crate::pipe::PipeId;

pub struct Req {
    dealer: Dealer,
    receiving_reply: bool,
    message_begins: bool,
    reply_pipe: Option<PipeId>,
    request_id: u32,
    correlate: bool,
    relaxed: bool,
}

impl Default for Req {
    fn default() -> Self {
        Req {
            dealer: Dealer::default(),
            receiving_reply: false,
            message_begins: true,
            reply_pipe: None,
            // libzmq starts from a random id; any start works for matching.
            request_id: std::process::id().wrapping_mul(2_654_435_761),
            correlate: false,
            relaxed: false,
        }
    }
}

impl Req {
    /// Reads and drops the rest of a message already started.
    fn skip_rest(&mut self, mut last: Msg, pipes: &mut Pipes) {
        while last.more() {
            match self.dealer.fq.recv(pipes) {
                Ok(m) => last = m,
                Err(_) => break,
            }
        }
    }
}

impl Pattern for Req {
    fn attach(&mut self, id: PipeId, pipes: &mut Pipes, opts: &Options) {
        self.dealer.attach(id, pipes, opts);
    }

    fn terminated(&mut self, id: PipeId, pipes: &mut Pipes) {
        if self.reply_pipe == Some(id) {
            self.reply_pipe = None;
        }
        self.dealer.terminated(id, pipes);
    }

    fn send(&mut self, msg: &mut Msg, pipes: &mut Pipes, _opts: &Options) -> Result<()> {
        if self.receiving_reply {
            if !self.relaxed {
                return Err(Error::Fsm);
            }
            self.receiving_reply = false;
            self.message_begins = true;
        }
        if self.message_begins {
            let mut first = if self.correlate {
                let next = self.request_id.wrapping_add(1);
                let mut m = Msg::from_slice(&next.to_ne_bytes());
                m.set_more(true);
                m
            } else {
                let mut m = Msg::new();
                m.set_more(true);
                m
            };
            let pipe = self.dealer.lb.send_to(&mut first, pipes)?;
            if self.correlate {
                self.request_id = self.request_id.wrapping_add(1);
                let mut bottom = Msg::new();
                bottom.set_more(true);
                self.dealer.lb.send(&mut bottom, pipes)?;
            }
            self.reply_pipe = pipe;
            self.message_begins = false;
        }
        let more = msg.more();
        self.dealer.lb.send(msg, pipes)?;
        if !more {
            self.receiving_reply = true;
            self.message_begins = true;
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> Result<Msg> {
        if !self.receiving_reply {
            return Err(Error::Fsm);
        }
        while self.message_begins {
            let (first, from) = self.dealer.fq.recv_from(pipes)?;
            // Only the peer that got the request may answer it; if that
            // peer is gone, no reply can be the right one.
            if self.reply_pipe != Some(from) || !first.more() {
                self.skip_rest(first, pipes);
                continue;
            }
            if self.correlate {
                if first.data() != self.request_id.to_ne_bytes() {
                    self.skip_rest(first, pipes);
                    continue;
                }
                let bottom = self.dealer.fq.recv(pipes)?;
                if !bottom.is_empty() || !bottom.more() {
                    self.skip_rest(bottom, pipes);
                    continue;
                }
            } else if !first.is_empty() {
                self.skip_rest(first, pipes);
                continue;
            }
            self.message_begins = false;
        }
        let frame = self.dealer.fq.recv(pipes)?;
        if !frame.more() {
            self.receiving_reply = false;
            self.message_begins = true;
        }
        Ok(frame)
    }

    fn has_in(&mut self, pipes: &mut Pipes, opts: &Options) -> bool {
        self.receiving_reply && self.dealer.has_in(pipes, opts)
    }

    fn has_out(&mut self, pipes: &mut Pipes, opts: &Options) -> bool {
        (!self.receiving_reply || self.relaxed) && self.dealer.has_out(pipes, opts)
    }

    fn set_option(&mut self, opt: i32, value: &[u8], pipes: &mut Pipes) -> Result<bool> {
        match opt {
            id::REQ_CORRELATE => self.correlate = flag_value(value)?,
            id::REQ_RELAXED => self.relaxed = flag_value(value)?,
            _ => return self.dealer.set_option(opt, value, pipes),
        }
        Ok(true)
    }
}
