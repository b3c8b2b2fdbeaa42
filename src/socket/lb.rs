//! Load-balancing: each message goes whole to the next pipe that has room,
//! round-robin (libzmq's `lb`).

use super::Pipes;
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::pipe::PipeId;

#[derive(Default)]
pub struct LoadBalancer {
    pipes: Vec<PipeId>,
    next: usize,
    /// Mid-message: the rest of the frames go to `pipes[next]`.
    more: bool,
    /// Mid-message to a pipe that ended: the rest of the frames are dropped.
    dropping: bool,
}

impl LoadBalancer {
    pub fn attach(&mut self, id: PipeId) {
        self.pipes.push(id);
    }

    pub fn terminated(&mut self, id: PipeId) {
        if let Some(pos) = self.pipes.iter().position(|p| *p == id) {
            if self.more && pos == self.next {
                self.more = false;
                self.dropping = true;
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

    /// Sends a frame; `sent_to` tells which pipe took it.
    pub fn send_to(&mut self, msg: &mut Msg, pipes: &mut Pipes) -> Result<Option<PipeId>> {
        if self.dropping {
            self.dropping = msg.more();
            msg.take();
            return Ok(None);
        }
        if self.more {
            let Some(&id) = self.pipes.get(self.next) else {
                self.more = false;
                self.dropping = msg.more();
                msg.take();
                return Ok(None);
            };
            let more = msg.more();
            if let Some(p) = pipes.get_mut(&id) {
                p.write(msg.take());
            }
            if !more {
                self.more = false;
                self.next = (self.next + 1) % self.pipes.len().max(1);
            }
            return Ok(Some(id));
        }
        let n = self.pipes.len();
        for i in 0..n {
            let idx = (self.next + i) % n;
            let id = self.pipes[idx];
            let Some(p) = pipes.get_mut(&id) else {
                continue;
            };
            if !p.can_write() {
                continue;
            }
            let more = msg.more();
            p.write(msg.take());
            if more {
                self.more = true;
                self.next = idx;
            } else {
                self.next = (idx + 1) % n;
            }
            return Ok(Some(id));
        }
        Err(Error::Again)
    }

    pub fn send(&mut self, msg: &mut Msg, pipes: &mut Pipes) -> Result<()> {
        self.send_to(msg, pipes).map(|_| ())
    }

    pub fn has_out(&self, pipes: &mut Pipes) -> bool {
        if self.more || self.dropping {
            return true;
        }
        self.pipes
            .iter()
            .any(|id| pipes.get(id).is_some_and(|p| p.can_write()))
    }
}
