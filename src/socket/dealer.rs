//! DEALER: load-balances out, fair-queues in (libzmq's dealer is one `lb`
//! plus one `fq`). With `ZMQ_PROBE_ROUTER` it greets each new peer with an
//! empty message. CLIENT is DEALER for single-part messages (`SNDMORE` is
//! `EINVAL`, a peer's multipart message is dropped) without that option.

use super::fq::FairQueue;
use super::lb::LoadBalancer;
use super::{single_part, Pattern, Pipes};
use crate::error::Result;
use crate::msg::Msg;
use crate::options::{flag_value, id, Options};
use crate::pipe::PipeId;

#[derive(Default)]
pub struct Dealer {
    pub(super) lb: LoadBalancer,
    pub(super) fq: FairQueue,
    probe_router: bool,
    single_part: bool,
}

impl Dealer {
    pub(super) fn client() -> Dealer {
        Dealer {
            single_part: true,
            ..Dealer::default()
        }
    }

    pub(super) fn probe(&self, id: PipeId, pipes: &mut Pipes) {
        if self.probe_router {
            if let Some(p) = pipes.get_mut(&id) {
                p.write(Msg::new());
            }
        }
    }
}

impl Pattern for Dealer {
    fn attach(&mut self, id: PipeId, pipes: &mut Pipes, _opts: &Options) {
        self.probe(id, pipes);
        self.lb.attach(id);
        self.fq.attach(id);
    }
    fn terminated(&mut self, id: PipeId, _pipes: &mut Pipes) {
        self.lb.terminated(id);
        self.fq.terminated(id);
    }
    fn send(&mut self, msg: &mut Msg, pipes: &mut Pipes, _opts: &Options) -> Result<()> {
        if self.single_part {
            single_part(msg)?;
        }
        self.lb.send(msg, pipes)
    }
    fn recv(&mut self, pipes: &mut Pipes, opts: &Options) -> Result<Msg> {
        super::recv_by_into(self, pipes, opts)
    }
    fn recv_into(&mut self, pipes: &mut Pipes, _opts: &Options, out: &mut Msg) -> Result<()> {
        self.fq.recv_frame(pipes, out, self.single_part)
    }
    fn has_in(&mut self, pipes: &mut Pipes, _opts: &Options) -> bool {
        self.fq.has_in(pipes)
    }
    fn has_out(&mut self, pipes: &mut Pipes, _opts: &Options) -> bool {
        self.lb.has_out(pipes)
    }
    fn set_option(&mut self, opt: i32, value: &[u8], _pipes: &mut Pipes) -> Result<bool> {
        if opt == id::PROBE_ROUTER && !self.single_part {
            self.probe_router = flag_value(value)?;
            return Ok(true);
        }
        Ok(false)
    }
}
