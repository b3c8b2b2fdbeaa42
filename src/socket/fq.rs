//! Fair-queueing: messages are read from the pipes in turn, whole
//! (libzmq's `fq`).

use super::Pipes;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::pipe::PipeId;

#[derive(Default)]
pub struct FairQueue {
    pipes: Vec<PipeId>,
    next: usize,
    /// Mid-message: the rest comes from `pipes[next]`.
    more: bool,
}

impl FairQueue {
    pub fn attach(&mut self, id: PipeId) {
        self.pipes.push(id);
    }

    pub fn terminated(&mut self, id: PipeId) {
        if let Some(pos) = self.pipes.iter().position(|p| *p == id) {
            if self.more && pos == self.next {
                self.more = false;
            }
            self.pipes.remove(pos);
            if pos < self.next {
                self.next -= 1;
            }
            if self.next >= self.pipes.len() {
                self.next = 0;
            }
        }
    }

    /// Reads a frame and tells which pipe it came from.
    pub fn recv_from(&mut self, pipes: &mut Pipes) -> Result<(Msg, PipeId)> {
        let mut msg = Msg::new();
        let id = self.recv_into(pipes, &mut msg)?;
        Ok((msg, id))
    }

    pub fn recv(&mut self, pipes: &mut Pipes) -> Result<Msg> {
        let mut msg = Msg::new();
        self.recv_into(pipes, &mut msg)?;
        Ok(msg)
    }

    /// Reads a frame into `out` (untouched if there is none) and tells
    /// which pipe it came from.
    pub fn recv_into(&mut self, pipes: &mut Pipes, out: &mut Msg) -> Result<PipeId> {
        let n = self.pipes.len();
        if n == 0 {
            self.more = false;
            return Err(Error::Again);
        }
        let tries = if self.more { 1 } else { n };
        for i in 0..tries {
            let idx = (self.next + i) % n;
            let id = self.pipes[idx];
            let Some(p) = pipes.get_mut(&id) else {
                continue;
            };
            if p.read_into(out) {
                if out.more() {
                    self.more = true;
                    self.next = idx;
                } else {
                    self.more = false;
                    self.next = (idx + 1) % n;
                }
                return Ok(id);
            }
        }
        Err(Error::Again)
    }

    /// `recv_into` for the classic types, `recv_single` for the draft
    /// single-part ones built on them.
    pub fn recv_frame(
        &mut self,
        pipes: &mut Pipes,
        out: &mut Msg,
        single_part: bool,
    ) -> Result<()> {
        if single_part {
            self.recv_single(pipes, out).map(|_| ())
        } else {
            self.recv_into(pipes, out).map(|_| ())
        }
    }

    /// As `recv_into`, for the types that take single-part messages only:
    /// a multipart message from a peer is read and dropped whole.
    pub fn recv_single(&mut self, pipes: &mut Pipes, out: &mut Msg) -> Result<PipeId> {
        let mut frame = Msg::new();
        loop {
            let id = self.recv_into(pipes, &mut frame)?;
            if !frame.more() {
                *out = frame;
                return Ok(id);
            }
            // The rest is already in the pipe: writers publish whole messages.
            while self.more {
                self.recv_into(pipes, &mut frame)?;
            }
        }
    }

    pub fn has_in(&self, pipes: &Pipes) -> bool {
        if self.more {
            return true;
        }
        self.pipes
            .iter()
            .any(|id| pipes.get(id).is_some_and(|p| p.has_msg()))
    }
}
