//! PUSH: load-balances messages over its peers; never receives. SCATTER is
//! PUSH for single-part messages (`SNDMORE` is `EINVAL`).

use super::lb::LoadBalancer;
use super::{single_part, Pattern, Pipes};
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::Options;
use crate::pipe::PipeId;

#[derive(Default)]
pub struct Push {
    lb: LoadBalancer,
    single_part: bool,
}

impl Push {
    pub fn scatter() -> Push {
        Push {
            single_part: true,
            ..Push::default()
        }
    }
}

impl Pattern for Push {
    fn attach(&mut self, id: PipeId, _pipes: &mut Pipes, _opts: &Options) {
        self.lb.attach(id);
    }
    fn terminated(&mut self, id: PipeId, _pipes: &mut Pipes) {
        self.lb.terminated(id);
    }
    fn send(&mut self, msg: &mut Msg, pipes: &mut Pipes, _opts: &Options) -> Result<()> {
        if self.single_part {
            single_part(msg)?;
        }
        self.lb.send(msg, pipes)
    }
    fn recv(&mut self, _pipes: &mut Pipes, _opts: &Options) -> Result<Msg> {
        Err(Error::NotSup)
    }
    fn has_in(&mut self, _pipes: &mut Pipes, _opts: &Options) -> bool {
        false
    }
    fn has_out(&mut self, pipes: &mut Pipes, _opts: &Options) -> bool {
        self.lb.has_out(pipes)
    }
}
