//! STREAM: raw tcp connections. Each connection is a peer with a routing
//! id, as with ROUTER: received data comes as [id][bytes], and a send is
//! [id][bytes], the bytes written as they are (an empty frame closes the
//! connection). With `ZMQ_STREAM_NOTIFY` (the default) an empty frame
//! announces each connection and disconnection. The raw framing itself
//! lives in the session (`io::wire::Raw`).

use super::router::Router;
use super::{Pattern, Pipes};
use crate::error::Result;
use crate::msg::Msg;
use crate::options::Options;
use crate::pipe::PipeId;

pub struct Stream {
    router: Router,
}

impl Default for Stream {
    fn default() -> Self {
        Stream {
            router: Router::mandatory(),
        }
    }
}

impl Pattern for Stream {
    fn attach(&mut self, id: PipeId, pipes: &mut Pipes, opts: &Options) {
        self.router.attach(id, pipes, opts);
    }

    fn terminated(&mut self, id: PipeId, pipes: &mut Pipes) {
        self.router.terminated(id, pipes);
    }

    fn send(&mut self, msg: &mut Msg, pipes: &mut Pipes, opts: &Options) -> Result<()> {
        if self.router.routing() {
            // Data frames are whole on their own: the stream has no frames.
            msg.set_more(false);
        }
        self.router.send(msg, pipes, opts)
    }

    fn recv(&mut self, pipes: &mut Pipes, opts: &Options) -> Result<Msg> {
        self.router.recv(pipes, opts)
    }

    fn has_in(&mut self, pipes: &mut Pipes, opts: &Options) -> bool {
        self.router.has_in(pipes, opts)
    }

    /// Always, as libzmq: whether a send succeeds depends on the routing
    /// id it names, which only the send can tell.
    fn has_out(&mut self, _pipes: &mut Pipes, _opts: &Options) -> bool {
        true
    }
}
