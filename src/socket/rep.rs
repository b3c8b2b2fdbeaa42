//! REP: a ROUTER that strictly alternates receive and send. The request's
//! envelope (routing ids up to the empty delimiter) is kept and put back
//! in front of the reply; calling out of turn is `EFSM`.

use super::router::Router;
use super::{Pattern, Pipes};
use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::options::Options;
use crate::pipe::PipeId;

pub struct Rep {
    router: Router,
    sending_reply: bool,
    request_begins: bool,
}

impl Default for Rep {
    fn default() -> Self {
        Rep {
            router: Router::default(),
            sending_reply: false,
            request_begins: true,
        }
    }
}

impl Pattern for Rep {
    fn attach(&mut self, id: PipeId, pipes: &mut Pipes, opts: &Options) {
        self.router.attach(id, pipes, opts);
    }
    fn terminated(&mut self, id: PipeId, pipes: &mut Pipes) {
        self.router.terminated(id, pipes);
    }

    fn send(&mut self, msg: &mut Msg, pipes: &mut Pipes, opts: &Options) -> Result<()> {
        if !self.sending_reply {
            return Err(Error::Fsm);
        }
        let more = msg.more();
        self.router.send(msg, pipes, opts)?;
        if !more {
            self.sending_reply = false;
        }
        Ok(())
    }

    fn recv(&mut self, pipes: &mut Pipes, opts: &Options) -> Result<Msg> {
        if self.sending_reply {
            return Err(Error::Fsm);
        }
        if self.request_begins {
            // Move the envelope straight into the reply being built.
            loop {
                let mut frame = self.router.recv(pipes, opts)?;
                if frame.more() {
                    let bottom = frame.is_empty();
                    self.router.send(&mut frame, pipes, opts)?;
                    if bottom {
                        break;
                    }
                } else {
                    // No delimiter: not a request; drop it whole.
                    self.router.rollback(pipes);
                }
            }
            self.request_begins = false;
        }
        let frame = self.router.recv(pipes, opts)?;
        if !frame.more() {
            self.sending_reply = true;
            self.request_begins = true;
        }
        Ok(frame)
    }

    fn has_in(&mut self, pipes: &mut Pipes, opts: &Options) -> bool {
        !self.sending_reply && self.router.has_in(pipes, opts)
    }
    fn has_out(&mut self, pipes: &mut Pipes, opts: &Options) -> bool {
        self.sending_reply && self.router.has_out(pipes, opts)
    }
    fn set_option(&mut self, opt: i32, value: &[u8], pipes: &mut Pipes) -> Result<bool> {
        self.router.set_option(opt, value, pipes)
    }
}
