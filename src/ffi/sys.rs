//! System calls the safe crates we use do not offer, for the rest of the
//! crate (which has no `unsafe`).

use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};

/// The credentials of a unix socket's peer (`SO_PEERCRED`): uid, gid, pid.
pub(crate) fn peer_credentials(fd: BorrowedFd<'_>) -> io::Result<(u32, u32, i32)> {
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: `cred` is `len` bytes and outlives the call; the borrowed fd is open.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&mut cred as *mut libc::ucred).cast(),
            &mut len,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((cred.uid, cred.gid, cred.pid))
}
