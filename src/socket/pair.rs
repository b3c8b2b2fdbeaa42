//! PAIR: one peer, both directions. A second peer is refused. CHANNEL is
//! PAIR for single-part messages (`SNDMORE` is `EINVAL`; a peer's multipart
//! message is dropped whole).

use super::{single_part, Pattern, Pipes};
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::Options;
use crate::pipe::PipeId;

#[derive(Default)]
pub struct Pair {
    pipe: Option<PipeId>,
    single_part: bool,
}

impl Pair {
    pub fn channel() -> Pair {
        Pair {
            single_part: true,
            ..Pair::default()
        }
    }

    fn read_into(&mut self, pipes: &mut Pipes, out: &mut Msg) -> bool {
        self.pipe
            .and_then(|id| pipes.get_mut(&id))
            .is_some_and(|p| p.read_into(out))
    }
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
        if self.single_part {
            single_part(msg)?;
        }
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

    fn recv(&mut self, pipes: &mut Pipes, opts: &Options) -> Result<Msg> {
        super::recv_by_into(self, pipes, opts)
    }

    fn recv_into(&mut self, pipes: &mut Pipes, _opts: &Options, out: &mut Msg) -> Result<()> {
        if !self.single_part {
            return if self.read_into(pipes, out) {
                Ok(())
            } else {
                Err(Error::Again)
            };
        }
        let mut frame = Msg::new();
        loop {
            if !self.read_into(pipes, &mut frame) {
                return Err(Error::Again);
            }
            if !frame.more() {
                *out = frame;
                return Ok(());
            }
            // The rest is already in the pipe: writers publish whole messages.
            while frame.more() && self.read_into(pipes, &mut frame) {}
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
