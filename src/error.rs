//! Errors inside the library. `src/ffi/` turns each into libzmq's errno.

/// libzmq's own errno base, for codes the platform may lack.
pub const ZMQ_HAUSNUMERO: i32 = 156_384_712;
pub const EFSM: i32 = ZMQ_HAUSNUMERO + 51;
pub const ENOCOMPATPROTO: i32 = ZMQ_HAUSNUMERO + 52;
pub const ETERM: i32 = ZMQ_HAUSNUMERO + 53;
pub const EMTHREAD: i32 = ZMQ_HAUSNUMERO + 54;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("resource temporarily unavailable")]
    Again,
    #[error("invalid argument")]
    Inval,
    #[error("bad address")]
    Fault,
    #[error("not a socket")]
    NotSock,
    #[error("operation not supported")]
    NotSup,
    #[error("protocol not supported")]
    ProtoNoSupport,
    #[error("operation cannot be accomplished in current state")]
    Fsm,
    #[error("context was terminated")]
    Term,
    #[error("host unreachable")]
    HostUnreach,
    #[error("address in use")]
    AddrInUse,
    #[error("address not available")]
    AddrNotAvail,
    #[error("connection refused")]
    ConnRefused,
    #[error("no such file or directory")]
    NoEnt,
    #[error("too many open files")]
    MFile,
    #[error("interrupted system call")]
    Intr,
    #[error("no thread available")]
    MThread,
    #[error("the protocol is not compatible with the socket type")]
    NoCompatProto,
    #[error("no such device")]
    NoDev,
    #[error("out of memory")]
    NoMem,
    #[error("message too long")]
    MsgSize,
    #[error("file name too long")]
    NameTooLong,
    #[error("os error {0}")]
    Os(i32),
}

impl Error {
    /// The errno value libzmq reports for this error.
    pub fn errno(self) -> i32 {
        match self {
            Error::Again => libc::EAGAIN,
            Error::Inval => libc::EINVAL,
            Error::Fault => libc::EFAULT,
            Error::NotSock => libc::ENOTSOCK,
            Error::NotSup => libc::ENOTSUP,
            Error::ProtoNoSupport => libc::EPROTONOSUPPORT,
            Error::Fsm => EFSM,
            Error::Term => ETERM,
            Error::HostUnreach => libc::EHOSTUNREACH,
            Error::AddrInUse => libc::EADDRINUSE,
            Error::AddrNotAvail => libc::EADDRNOTAVAIL,
            Error::ConnRefused => libc::ECONNREFUSED,
            Error::NoEnt => libc::ENOENT,
            Error::MFile => libc::EMFILE,
            Error::Intr => libc::EINTR,
            Error::MThread => EMTHREAD,
            Error::NoCompatProto => ENOCOMPATPROTO,
            Error::NoDev => libc::ENODEV,
            Error::NoMem => libc::ENOMEM,
            Error::MsgSize => libc::EMSGSIZE,
            Error::NameTooLong => libc::ENAMETOOLONG,
            Error::Os(e) => e,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        match e.raw_os_error() {
            Some(code) if code == libc::EAGAIN => Error::Again,
            Some(code) if code == libc::EINTR => Error::Intr,
            Some(code) => Error::Os(code),
            None => Error::Os(libc::EIO),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;
