//! `zmq_proxy` and `zmq_proxy_steerable`: shuttles messages between two
//! sockets, optionally copying each frame to a capture socket, and obeys
//! PAUSE, RESUME, TERMINATE and STATISTICS on a control socket.
//! Returns `Ok` on TERMINATE and an error otherwise (`ETERM` when the
//! context ends).

use crate::error::{Error, Result};
use crate::msg::Msg;
use crate::signaler::MultiWaiter;
use crate::socket::{Socket, DONTWAIT, POLLIN, SNDMORE};

/// Messages and bytes that went through one side, as STATISTICS reports.
#[derive(Default, Clone, Copy)]
struct Counters {
    msgs_in: u64,
    bytes_in: u64,
    msgs_out: u64,
    bytes_out: u64,
}

/// Moves every frame of one message from `from` to `to` (and `capture`).
fn forward(
    from: &Socket,
    to: &Socket,
    capture: Option<&Socket>,
    from_stats: &mut Counters,
    to_stats: &mut Counters,
) -> Result<()> {
    loop {
        let mut msg = from.recv(DONTWAIT)?;
        let more = msg.more();
        let size = msg.len() as u64;
        let flags = if more { SNDMORE } else { 0 };
        if let Some(cap) = capture {
            let mut copy = msg.share();
            cap.send(&mut copy, flags)?;
        }
        to.send(&mut msg, flags)?;
        // libzmq counts a message per frame.
        from_stats.msgs_in += 1;
        from_stats.bytes_in += size;
        to_stats.msgs_out += 1;
        to_stats.bytes_out += size;
        if !more {
            return Ok(());
        }
    }
}

enum Control {
    Run,
    Pause,
    Terminate,
}

/// Reads one control command; answers STATISTICS with eight 64-bit
/// counters (frontend in/out, then backend), as libzmq does. Unknown
/// commands are ignored where libzmq aborts.
fn control(ctl: &Socket, state: Control, front: Counters, back: Counters) -> Result<Control> {
    let mut cmd = ctl.recv(DONTWAIT)?;
    while cmd.more() {
        cmd = ctl.recv(DONTWAIT)?;
    }
    Ok(match cmd.data() {
        b"PAUSE" => Control::Pause,
        b"RESUME" => Control::Run,
        b"TERMINATE" => Control::Terminate,
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
                ctl.send(&mut m, if i < 7 { SNDMORE } else { 0 })?;
            }
            state
        }
        _ => state,
    })
}

/// Runs until TERMINATE (`Ok`) or an error (`ETERM` when the context ends).
pub fn proxy(
    frontend: &Socket,
    backend: &Socket,
    capture: Option<&Socket>,
    control_socket: Option<&Socket>,
) -> Result<()> {
    let mut fds = vec![frontend.fd(), backend.fd()];
    if let Some(c) = control_socket {
        fds.push(c.fd());
    }
    let mut waiter = MultiWaiter::new(&fds).map_err(Error::from)?;
    let same = std::ptr::eq(frontend, backend);
    let (mut front, mut back) = (Counters::default(), Counters::default());
    let mut state = Control::Run;
    loop {
        let mut busy = false;
        if let Some(ctl) = control_socket {
            if ctl.events()? & POLLIN != 0 {
                state = control(ctl, state, front, back)?;
                busy = true;
                if matches!(state, Control::Terminate) {
                    return Ok(());
                }
            }
        }
        if matches!(state, Control::Run) {
            if frontend.events()? & POLLIN != 0 {
                let stats = if same { None } else { Some(&mut back) };
                let mut scratch = Counters::default();
                match forward(
                    frontend,
                    backend,
                    capture,
                    &mut front,
                    stats.unwrap_or(&mut scratch),
                ) {
                    Ok(()) => busy = true,
                    Err(Error::Again) => {}
                    Err(e) => return Err(e),
                }
            }
            if !same && backend.events()? & POLLIN != 0 {
                match forward(backend, frontend, capture, &mut back, &mut front) {
                    Ok(()) => busy = true,
                    Err(Error::Again) => {}
                    Err(e) => return Err(e),
                }
            }
        }
        if !busy {
            waiter.wait(None);
        }
    }
}
