//! Name lookups for connects, off the I/O threads. getaddrinfo blocks (for
//! seconds, when a DNS server does not answer), and an I/O thread serves
//! every socket placed on it, so a session that needs a name hands the
//! lookup here and waits in a "resolving" state; the answer comes back to
//! its I/O thread as `IoCommand::Resolved`.
//!
//! Workers are started on demand, at most `MAX_WORKERS` per context, and
//! exit as soon as the queue is empty, so an idle context has none and a
//! DNS outage cannot pile threads up: lookups beyond that wait their turn.
//! A session dropped while its lookup waits or runs (close, linger,
//! disconnect, term) drops its [`Ticket`]; a queued lookup is then skipped
//! and a late answer discarded.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use super::thread::Shared;
use super::IoCommand;
use crate::transport::tcp::Lookup;
use crate::transport::Target;

const MAX_WORKERS: usize = 4;

/// Held by a session while its lookup is pending; the id tells its answer
/// from a stale one (a slot may hold another session by then).
pub struct Ticket {
    id: u64,
}

impl Ticket {
    pub fn id(&self) -> u64 {
        self.id
    }
}

struct Job {
    target: Target,
    ticket: Weak<Ticket>,
    reply: Arc<Shared>,
    slot: usize,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    workers: usize,
}

pub struct Resolver {
    lookup: Lookup,
    queue: Mutex<Queue>,
}

static NEXT_TICKET: AtomicU64 = AtomicU64::new(1);

impl Resolver {
    pub fn new(lookup: Lookup) -> Arc<Resolver> {
        Arc::new(Resolver {
            lookup,
            queue: Mutex::new(Queue::default()),
        })
    }

    pub fn lookup(&self) -> &Lookup {
        &self.lookup
    }

    /// Resolves `target` for the session in `slot` of the I/O thread
    /// `reply`. None when no worker can be started to serve it.
    pub fn submit(
        self: &Arc<Self>,
        target: Target,
        reply: Arc<Shared>,
        slot: usize,
    ) -> Option<Arc<Ticket>> {
        let ticket = Arc::new(Ticket {
            id: NEXT_TICKET.fetch_add(1, Ordering::Relaxed),
        });
        let mut q = self.queue.lock();
        q.jobs.push_back(Job {
            target,
            ticket: Arc::downgrade(&ticket),
            reply,
            slot,
        });
        if q.workers < MAX_WORKERS {
            let me = Arc::clone(self);
            let started = std::thread::Builder::new()
                .name("ZMQbg/Resolver".into())
                .spawn(move || me.work());
            match started {
                Ok(_) => q.workers += 1,
                // Nobody would ever serve the job: give up on it now (the
                // session retries after its reconnect interval).
                Err(_) if q.workers == 0 => {
                    q.jobs.pop_back();
                    return None;
                }
                Err(_) => {}
            }
        }
        Some(ticket)
    }

    fn work(self: Arc<Self>) {
        loop {
            let job = {
                let mut q = self.queue.lock();
                match q.jobs.pop_front() {
                    Some(job) => job,
                    None => {
                        q.workers -= 1;
                        return;
                    }
                }
            };
            if job.ticket.strong_count() == 0 {
                continue;
            }
            let result = job.target.resolve(&self.lookup);
            if let Some(ticket) = job.ticket.upgrade() {
                job.reply.send(IoCommand::Resolved {
                    slot: job.slot,
                    ticket: ticket.id,
                    result,
                });
            }
        }
    }
}
