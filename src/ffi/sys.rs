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

/// The largest buffer the user and group lookups grow to: a group with
/// thousands of members still fits, a broken NSS module cannot make us
/// allocate without bound.
const MAX_LOOKUP_BUFFER: usize = 1 << 20;

/// Runs a reentrant NSS lookup (`getpwuid_r`, `getgrgid_r`) with a buffer
/// that grows while the call answers ERANGE; `read` copies what is wanted
/// out of the entry found, while the buffer its strings point into lives.
///
/// # Safety
/// `call` must be such a lookup: it writes at most `len` bytes at `buf`,
/// fills the entry it is given and sets `*found` to it, or sets NULL.
unsafe fn nss_lookup<E, R>(
    call: impl Fn(*mut E, *mut libc::c_char, usize, *mut *mut E) -> libc::c_int,
    read: impl FnOnce(&E) -> R,
) -> Option<R> {
    let mut entry = std::mem::MaybeUninit::<E>::uninit();
    let mut buf: Vec<libc::c_char> = vec![0; 1024];
    loop {
        let mut found: *mut E = std::ptr::null_mut();
        match call(entry.as_mut_ptr(), buf.as_mut_ptr(), buf.len(), &mut found) {
            // SAFETY: the call filled the entry `found` points to, and
            // `buf`, which holds its strings, is unchanged since.
            0 if !found.is_null() => return Some(read(unsafe { &*found })),
            libc::ERANGE if buf.len() < MAX_LOOKUP_BUFFER => buf.resize(buf.len() * 2, 0),
            _ => return None,
        }
    }
}

/// Copies a C string of an NSS entry.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string that outlives the call.
unsafe fn c_bytes(p: *const libc::c_char) -> Vec<u8> {
    if p.is_null() {
        return Vec::new();
    }
    // SAFETY: non-NULL and NUL-terminated, as the caller promises.
    unsafe { std::ffi::CStr::from_ptr(p) }.to_bytes().to_vec()
}

/// The login name of `uid` in the user database, as `getpwuid` finds it.
pub(crate) fn user_name(uid: u32) -> Option<Vec<u8>> {
    // SAFETY: getpwuid_r is a lookup as `nss_lookup` wants; a found entry's
    // `pw_name` is a C string in the lookup's buffer.
    unsafe {
        nss_lookup(
            |pw, buf, len, found| libc::getpwuid_r(uid, pw, buf, len, found),
            |pw: &libc::passwd| c_bytes(pw.pw_name),
        )
    }
}

/// The member names the group database lists for `gid` (`gr_mem` of
/// `getgrgid`).
pub(crate) fn group_members(gid: u32) -> Option<Vec<Vec<u8>>> {
    // SAFETY: getgrgid_r is a lookup as `nss_lookup` wants; a found entry's
    // `gr_mem` is a NULL-terminated array of C strings in its buffer, and
    // the walk stops at the NULL.
    unsafe {
        nss_lookup(
            |gr, buf, len, found| libc::getgrgid_r(gid, gr, buf, len, found),
            |gr: &libc::group| {
                let mut members = Vec::new();
                let mut m = gr.gr_mem;
                while !m.is_null() && !(*m).is_null() {
                    members.push(c_bytes(*m));
                    m = m.add(1);
                }
                members
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_and_group_lookups() {
        // uid 0 and gid 0 are root on every Linux system.
        assert_eq!(user_name(0).as_deref(), Some(&b"root"[..]));
        assert!(group_members(0).is_some());
        assert_eq!(group_members(0x7fff_fff0), None);
        assert_eq!(user_name(0x7fff_fff0), None);
    }
}
