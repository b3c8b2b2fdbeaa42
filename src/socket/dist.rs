//! Fan-out: a message goes to every chosen pipe; pipes at their
//! high-water mark miss it (libzmq's `dist`).

use super::Pipes;
use crate::msg::Msg;
use crate::pipe::PipeId;

#[derive(Default)]
pub struct Distributor {
    /// The pipes taking the current message, fixed by its first frame.
    targets: Vec<PipeId>,
    more: bool,
}

impl Distributor {
    pub fn in_message(&self) -> bool {
        self.more
    }

    /// Starts a message to `candidates`; those without room are skipped
    /// for the whole message.
    pub fn begin(&mut self, candidates: impl Iterator<Item = PipeId>, pipes: &mut Pipes) {
        self.targets.clear();
        for id in candidates {
            if pipes.get(&id).is_some_and(|p| p.can_write()) {
                self.targets.push(id);
            }
        }
    }

    /// True when every candidate has room (for `XPUB_NODROP`).
    pub fn all_writable(candidates: impl Iterator<Item = PipeId>, pipes: &mut Pipes) -> bool {
        let mut ok = true;
        for id in candidates {
            if let Some(p) = pipes.get(&id) {
                ok &= p.can_write();
            }
        }
        ok
    }

    pub fn send(&mut self, mut msg: Msg, pipes: &mut Pipes) {
        self.more = msg.more();
        if let Some((last, rest)) = self.targets.split_last() {
            for id in rest {
                if let Some(p) = pipes.get_mut(id) {
                    p.write(msg.share());
                }
            }
            if let Some(p) = pipes.get_mut(last) {
                p.write(msg);
            }
        }
    }

    pub fn terminated(&mut self, id: PipeId) {
        self.targets.retain(|p| *p != id);
    }
}
