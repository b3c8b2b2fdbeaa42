//! What a session speaks on its stream: ZMTP (`zmtp::Connection`), or raw
//! bytes for STREAM sockets (`Raw`). Both are sans-I/O: bytes in, events
//! out, bytes to write.

use std::collections::VecDeque;
use std::io::IoSlice;
use std::sync::Arc;
use std::time::Instant;

use crate::msg::{Metadata, Msg};
use crate::zmtp::{Connection, Event, ProtocolError, Version};

/// A STREAM socket's connection: each read becomes one frame, each frame
/// from the socket is written as it is, and an empty frame from the socket
/// asks to close the connection. With `ZMQ_STREAM_NOTIFY` an empty frame
/// tells the socket of the connection (and the session adds one at the
/// disconnection).
pub struct Raw {
    events: VecDeque<Event>,
    out: VecDeque<Msg>,
    /// Bytes of `out.front()` already written.
    written: usize,
    /// Bytes in `out` not yet written.
    queued: usize,
    close_requested: bool,
}

impl Raw {
    pub fn new(notify: bool) -> Raw {
        let mut events = VecDeque::new();
        events.push_back(Event::Ready {
            version: Version::V3_1,
            peer_socket_type: -1,
            peer_routing_id: Vec::new(),
            metadata: Arc::new(Metadata::default()),
        });
        if notify {
            events.push_back(Event::Message(Msg::new()));
        }
        Raw {
            events,
            out: VecDeque::new(),
            written: 0,
            queued: 0,
            close_requested: false,
        }
    }
}

pub enum Wire {
    Zmtp(Box<Connection>),
    Raw(Raw),
}

impl Wire {
    /// Feeds `data`, which starts at byte `.1` of the read buffer `.0`
    /// when given (frames may then be slices of it).
    /// Data frames may go straight to `sink` (see
    /// `Connection::handle_input_into`).
    pub fn handle_input(
        &mut self,
        data: &[u8],
        source: Option<(&Msg, usize)>,
        now: Instant,
        sink: impl FnMut(Msg) -> Result<(), Msg>,
    ) -> Result<usize, ProtocolError> {
        match self {
            Wire::Zmtp(c) => c.handle_input_into(data, source, now, sink),
            Wire::Raw(r) => {
                // One frame at a time, like the ZMTP side: backpressure.
                if !r.events.is_empty() || data.is_empty() {
                    return Ok(0);
                }
                r.events.push_back(Event::Message(Msg::from_slice(data)));
                Ok(data.len())
            }
        }
    }

    /// See `Connection::direct_space` (raw streams have no frames).
    pub fn direct_space(&mut self, min: usize) -> Option<&mut [u8]> {
        match self {
            Wire::Zmtp(c) => c.direct_space(min),
            Wire::Raw(_) => None,
        }
    }

    pub fn direct_written(&mut self, n: usize, now: Instant) -> Result<(), ProtocolError> {
        match self {
            Wire::Zmtp(c) => c.direct_written(n, now),
            Wire::Raw(_) => Ok(()),
        }
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        match self {
            Wire::Zmtp(c) => c.poll_event(),
            Wire::Raw(r) => r.events.pop_front(),
        }
    }

    /// Queues a frame from the socket (after the handshake).
    pub fn send(&mut self, mut msg: Msg) {
        match self {
            Wire::Zmtp(c) => {
                // Only called once the handshake is done, so never refused.
                let _ = c.send(msg);
            }
            Wire::Raw(r) => {
                if msg.is_empty() {
                    r.close_requested = true;
                } else if !r.close_requested {
                    msg.set_more(false);
                    r.queued += msg.len();
                    r.out.push_back(msg);
                }
            }
        }
    }

    /// Fills `out` with the bytes waiting to be written, in order.
    pub fn transmit_slices<'a>(&'a self, out: &mut Vec<IoSlice<'a>>, max: usize) {
        match self {
            Wire::Zmtp(c) => out.extend(c.transmit_iter().take(max).map(IoSlice::new)),
            Wire::Raw(r) => {
                for (i, m) in r.out.iter().take(max).enumerate() {
                    let skip = if i == 0 { r.written } else { 0 };
                    out.push(IoSlice::new(&m.data()[skip..]));
                }
            }
        }
    }

    pub fn advance_transmit(&mut self, mut n: usize) {
        match self {
            Wire::Zmtp(c) => c.advance_transmit(n),
            Wire::Raw(r) => {
                r.queued = r.queued.saturating_sub(n);
                while n > 0 {
                    let Some(front) = r.out.front() else { return };
                    let left = front.len() - r.written;
                    if n >= left {
                        n -= left;
                        r.written = 0;
                        r.out.pop_front();
                    } else {
                        r.written += n;
                        n = 0;
                    }
                }
            }
        }
    }

    pub fn wants_transmit(&self) -> bool {
        match self {
            Wire::Zmtp(c) => c.wants_transmit(),
            Wire::Raw(r) => !r.out.is_empty(),
        }
    }

    pub fn transmit_len(&self) -> usize {
        match self {
            Wire::Zmtp(c) => c.transmit_len(),
            Wire::Raw(r) => r.queued,
        }
    }

    pub fn poll_timeout(&self) -> Option<Instant> {
        match self {
            Wire::Zmtp(c) => c.poll_timeout(),
            Wire::Raw(_) => None,
        }
    }

    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), ProtocolError> {
        match self {
            Wire::Zmtp(c) => c.handle_timeout(now),
            Wire::Raw(_) => Ok(()),
        }
    }

    pub fn is_ready(&self) -> bool {
        match self {
            Wire::Zmtp(c) => c.is_ready(),
            Wire::Raw(_) => true,
        }
    }

    /// The socket asked to close the connection (STREAM), or the handshake
    /// failed (ZMTP), and everything before that is written.
    pub fn close_requested(&self) -> bool {
        match self {
            Wire::Raw(r) => r.close_requested && r.out.is_empty(),
            Wire::Zmtp(c) => c.close_requested(),
        }
    }

    /// Why the ZMTP connection failed or is closing (a handshake refused,
    /// a protocol error), if it did: for the monitor events, through
    /// `ProtocolError::handshake_event`. None for raw streams.
    pub fn failure(&self) -> Option<&ProtocolError> {
        match self {
            Wire::Zmtp(c) => c.failure(),
            Wire::Raw(_) => None,
        }
    }

    /// The ZMTP connection, for what only it does (ZAP).
    pub fn zmtp(&mut self) -> Option<&mut Connection> {
        match self {
            Wire::Zmtp(c) => Some(c),
            Wire::Raw(_) => None,
        }
    }

    pub fn is_raw(&self) -> bool {
        matches!(self, Wire::Raw(_))
    }
}
