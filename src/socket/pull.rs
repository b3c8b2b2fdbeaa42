//! PULL: fair-queues messages from its peers; never sends. GATHER is PULL
//! for single-part messages: a peer's multipart message is dropped whole.

use super::fq::FairQueue;
use super::{Pattern, Pipes};
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::Options;
use crate::pipe::PipeId;

#[derive(Default)]
pub struct Pull {
    fq: FairQueue,
    single_part: bool,
}

impl Pull {
    pub fn gather() -> Pull {
        Pull {
            single_part: true,
            ..Pull::default()
        }
    }
}

impl Pattern for Pull {
    fn attach(&mut self, id: PipeId, _pipes: &mut Pipes, _opts: &Options) {
        self.fq.attach(id);
    }
    fn terminated(&mut self, id: PipeId, _pipes: &mut Pipes) {
        self.fq.terminated(id);
    }
    fn send(&mut self, _msg: &mut Msg, _pipes: &mut Pipes, _opts: &Options) -> Result<()> {
        Err(Error::NotSup)
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
    fn has_out(&mut self, _pipes: &mut Pipes, _opts: &Options) -> bool {
        false
    }
}
