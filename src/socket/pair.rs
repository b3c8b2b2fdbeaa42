//! PAIR: one peer, both directions. A second peer is refused.

use super::{Pattern, Pipes};
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::Options;
use crate::pipe::PipeId;

#[derive(Default)]
pub struct Pair {
    pipe: Option<PipeId>,
}

impl Pattern for Pair {
    fn attach(&mut self, id: PipeId, _pipes: &mut Pipes, _opts: &Options) {
        if self.pipe.is_none() {
            self.pipe = Some(id);
        }
    }

    fn accepts_pipe(&self) -> bool {
        self.pipe.is_none()
    }

    fn terminated(&mut self, id: PipeId, _pipes: &mut Pipes) {
        if self.pipe == Some(id) {
            self.pipe = None;
        }
    }

    fn send(&mut self, msg: &mut Msg, pipes: &mut Pipes, _opts: &Options) -> Result<()> {
        let p = self
            .pipe
            .and_then(|id| pipes.get_mut(&id))
            .ok_or(Error::Again)?;
        if !p.can_write() {
            return Err(Error::Again);
        }
        p.write(msg.take());
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, _opts: &Options) -> Result<Msg> {
        self.pipe
            .and_then(|id| pipes.get_mut(&id))
            .and_then(|p| p.read())
            .ok_or(Error::Again)
    }

    fn recv_into(&mut self, pipes: &mut Pipes, _opts: &Options, out: &mut Msg) -> Result<()> {
        let read = self
            .pipe
            .and_then(|id| pipes.get_mut(&id))
            .is_some_and(|p| p.read_into(out));
        if read {
            Ok(())
        } else {
            Err(Error::Again)
        }
    }

    fn has_in(&mut self, pipes: &mut Pipes, _opts: &Options) -> bool {
        self.pipe
            .and_then(|id| pipes.get(&id))
            .is_some_and(|p| p.has_msg())
    }

    fn has_out(&mut self, pipes: &mut Pipes, _opts: &Options) -> bool {
        self.pipe
            .and_then(|id| pipes.get(&id))
            .is_some_and(|p| p.can_write())
    }
}
