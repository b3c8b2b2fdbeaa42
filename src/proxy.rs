//! `zmq_proxy` and `zmq_proxy_steerable`: shuttles messages between two
//! sockets, optionally copying each frame to a capture socket, and obeys
//! PAUSE, RESUME, TERMINATE and STATISTICS on a control socket.
//!
//! As libzmq 4.3.4's proxy, it forwards from a socket only while the other
//! side can take a message (`ZMQ_POLLOUT`), so a backend that cannot send
//! holds messages back instead of blocking the loop, and the control socket
//! is still obeyed meanwhile. A message is moved in bursts of at most
//! [`BURST`] messages, so one busy direction cannot starve the other.
//!
//! Returns `Ok` on TERMINATE and an error otherwise: `ETERM` when the
//! context ends, `EINTR` when a signal handler runs in the proxy's thread.

use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::signaler::MultiWaiter;
use crate::socket::{Socket, DONTWAIT, POLLIN, POLLOUT, SNDMORE};

/// Messages moved in one direction before the other gets its turn
/// (libzmq's `proxy_burst_size`).
const BURST: usize = 1000;

/// What STATISTICS reports for one socket: messages (a multipart message
/// counts once, as in libzmq 4.3) and bytes, received and sent.
#[derive(Default, Clone, Copy)]
struct Counters {
    msgs_in: u64,
    bytes_in: u64,
    msgs_out: u64,
    bytes_out: u64,
}

/// Sends a frame to the capture socket, if any, sharing its payload.
fn capture(capture: Option<&Socket>, msg: &mut Msg, more: bool) -> Result<()> {
    if let Some(cap) = capture {
        let mut copy = msg.share();
        cap.send(&mut copy, if more { SNDMORE } else { 0 })?;
    }
    Ok(())
}

/// Moves up to [`BURST`] whole messages from `from` to `to` (copying each
/// frame to `capture`). Stops early when `from` has nothing more; sending
/// blocks as the destination's `ZMQ_SNDTIMEO` says, as in libzmq.
fn forward(
    from: &Socket,
    to: &Socket,
    capture_socket: Option<&Socket>,
    from_stats: &mut Counters,
    to_stats: &mut Counters,
) -> Result<()> {
    for _ in 0..BURST {
        let mut size = 0u64;
        let mut first = true;
        loop {
            let mut msg = match from.recv(DONTWAIT) {
                Ok(m) => m,
                // Nothing (more) to take: the burst ends. A message is
                // atomic, so this only happens before its first frame.
                Err(Error::Again) if first => return Ok(()),
                Err(e) => return Err(e),
            };
            first = false;
            let more = msg.more();
            size += msg.len() as u64;
            capture(capture_socket, &mut msg, more)?;
            to.send(&mut msg, if more { SNDMORE } else { 0 })?;
            if !more {
                break;
            }
        }
        from_stats.msgs_in += 1;
        from_stats.bytes_in += size;
        to_stats.msgs_out += 1;
        to_stats.bytes_out += size;
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Active,
    Paused,
    Terminated,
}

/// Handles one control command. Every command is copied to the capture
/// socket first, as libzmq does. STATISTICS is answered with eight 64-bit
/// counters (frontend in/out, then backend). libzmq aborts on an unknown
/// command and fails on a multipart one; both are ignored here.
fn control(
    ctl: &Socket,
    capture_socket: Option<&Socket>,
    state: State,
    front: &Counters,
    back: &Counters,
) -> Result<State> {
    let mut cmd = ctl.recv(DONTWAIT)?;
    if cmd.more() {
        while ctl.recv(DONTWAIT)?.more() {}
        return Ok(state);
    }
    capture(capture_socket, &mut cmd, false)?;
    Ok(match cmd.data() {
        b"PAUSE" => State::Paused,
        b"RESUME" => State::Active,
        b"TERMINATE" => State::Terminated,
        b"STATISTICS" => {
            let values = [
                front.msgs_in,
                front.bytes_in,
                front.msgs_out,
                front.bytes_out,
                back.msgs_in,
                back.bytes_in,
                back.msgs_out,
                back.bytes_out,
            ];
            for (i, v) in values.iter().enumerate() {
                let mut m = Msg::from_slice(&v.to_ne_bytes());
                ctl.send(&mut m, if i + 1 < values.len() { SNDMORE } else { 0 })?;
            }
            state
        }
        _ => state,
    })
}

/// Runs until TERMINATE (`Ok`) or an error (`ETERM` when the context ends,
/// `EINTR` on a signal).
pub fn proxy(
    frontend: &Socket,
    backend: &Socket,
    capture_socket: Option<&Socket>,
    control_socket: Option<&Socket>,
) -> Result<()> {
    let same = std::ptr::eq(frontend, backend);
    let mut fds = vec![frontend.fd()];
    // epoll refuses a descriptor registered twice (EEXIST): one socket on
    // both sides, or also as the control socket, is watched once.
    for s in [Some(backend), control_socket].into_iter().flatten() {
        if !fds.contains(&s.fd()) {
            fds.push(s.fd());
        }
    }
    let mut waiter = MultiWaiter::new(&fds).map_err(Error::from)?;
    let (mut front, mut back) = (Counters::default(), Counters::default());
    let mut state = State::Active;
    loop {
        // Each look at ZMQ_EVENTS drains that socket's doorbell first, so a
        // change after the look wakes the wait below: nothing is missed and
        // an idle proxy sleeps.
        let mut busy = false;
        if let Some(ctl) = control_socket {
            if ctl.events()? & POLLIN != 0 {
                state = control(ctl, capture_socket, state, &front, &back)?;
                busy = true;
                if state == State::Terminated {
                    return Ok(());
                }
            }
        }
        if state == State::Active {
            let front_ev = frontend.events()?;
            let back_ev = if same { front_ev } else { backend.events()? };
            // One socket on both sides: what it receives goes back out
            // through it, whatever ZMQ_POLLOUT says (as libzmq).
            if front_ev & POLLIN != 0 && (same || back_ev & POLLOUT != 0) {
                forward(frontend, backend, capture_socket, &mut front, &mut back)?;
                busy = true;
            }
            if !same && back_ev & POLLIN != 0 && front_ev & POLLOUT != 0 {
                forward(backend, frontend, capture_socket, &mut back, &mut front)?;
                busy = true;
            }
        }
        if !busy {
            waiter.wait(None)?;
        }
    }
}
