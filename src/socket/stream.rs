//! STREAM: raw tcp connections. It exists only over tcp, which comes with
//! the wire issue; over inproc it has nothing to talk to.

use super::{Pattern, Pipes};
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::Options;
use crate::pipe::PipeId;

pub struct Stream;

impl Pattern for Stream {
    fn attach(&mut self, _id: PipeId, _pipes: &mut Pipes, _opts: &Options) {}
    fn accepts_pipe(&self) -> bool {
        false
    }
    fn terminated(&mut self, _id: PipeId, _pipes: &mut Pipes) {}
    fn send(&mut self, _msg: &mut Msg, _pipes: &mut Pipes, _opts: &Options) -> Result<()> {
        Err(Error::NotSup)
    }
    fn recv(&mut self, _pipes: &mut Pipes, _opts: &Options) -> Result<Msg> {
        Err(Error::NotSup)
    }
    fn has_in(&mut self, _pipes: &mut Pipes, _opts: &Options) -> bool {
        false
    }
    fn has_out(&mut self, _pipes: &mut Pipes, _opts: &Options) -> bool {
        false
    }
}
