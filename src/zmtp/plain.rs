//! PLAIN (RFC 24): a username and password in clear, checked by the
//! server's ZAP handler. As in libzmq 4.3, the client sends HELLO, the
//! server asks its handler and answers WELCOME (or ERROR with the status
//! code), the client sends INITIATE with its metadata and the server READY
//! with its own. A PLAIN server without a handler refuses every client.

use super::command::{self, Command};
use super::mechanism::{check_properties, Handshake, PlainCredentials, Setup, Status, ZapState};
use super::zap;
use super::{code, ProtocolError};

fn fail(code: u32, what: &'static str) -> ProtocolError {
    ProtocolError::Handshake { code, what }
}

/// The command's name, if the body is long enough to hold the name its
/// first byte announces (libzmq's basic structure check: a name length
/// past the frame is malformed).
fn name_of(body: &[u8]) -> Result<&[u8], ProtocolError> {
    let n = usize::from(*body.first().unwrap_or(&0));
    if body.len() <= 1 || body.len() <= n {
        return Err(fail(
            code::ZMTP_MALFORMED_COMMAND_UNSPECIFIED,
            "malformed command",
        ));
    }
    Ok(&body[1..1 + n])
}

/// Metadata after a command's name; a Socket-Type must suit ours.
fn metadata(
    setup: &Setup,
    body: &[u8],
    name_len: usize,
) -> Result<Vec<(String, Vec<u8>)>, ProtocolError> {
    let props = command::parse_properties(&body[1 + name_len..])
        .map_err(|_| fail(code::ZMTP_INVALID_METADATA, "malformed metadata"))?;
    check_properties(setup.socket_type, &props)?;
    Ok(props)
}

/// The name libzmq 4.3.4's PLAIN gives its ERROR command.
const LIBZMQ_434_ERROR: &[u8] = b"\x5eRROR";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientState {
    SendHello,
    WaitWelcome,
    SendInitiate,
    WaitReady,
    Ready,
}

pub(crate) struct Client {
    setup: Setup,
    creds: PlainCredentials,
    state: ClientState,
    props: Vec<(String, Vec<u8>)>,
}

impl Client {
    pub(crate) fn new(setup: Setup, creds: &PlainCredentials) -> Client {
        Client {
            setup,
            creds: creds.clone(),
            state: ClientState::SendHello,
            props: Vec::new(),
        }
    }

    fn hello(&self) -> Vec<u8> {
        // The options refuse names and passwords over 255 bytes; cut them
        // anyway rather than send a length that lies.
        let user = &self.creds.username[..self.creds.username.len().min(255)];
        let pass = &self.creds.password[..self.creds.password.len().min(255)];
        let mut out = Vec::with_capacity(8 + user.len() + pass.len());
        out.extend_from_slice(b"\x05HELLO");
        out.push(user.len() as u8);
        out.extend_from_slice(user);
        out.push(pass.len() as u8);
        out.extend_from_slice(pass);
        out
    }
}

impl Handshake for Client {
    fn next_command(&mut self) -> Result<Option<Vec<u8>>, ProtocolError> {
        Ok(match self.state {
            ClientState::SendHello => {
                self.state = ClientState::WaitWelcome;
                Some(self.hello())
            }
            ClientState::SendInitiate => {
                self.state = ClientState::WaitReady;
                let mut out = b"\x08INITIATE".to_vec();
                command::encode_properties(&mut out, &self.setup.properties());
                Some(out)
            }
            _ => None,
        })
    }

    fn process_command(&mut self, body: &[u8]) -> Result<(), ProtocolError> {
        match (body, self.state) {
            (b"\x07WELCOME", ClientState::WaitWelcome) => {
                self.state = ClientState::SendInitiate;
                Ok(())
            }
            (_, ClientState::WaitWelcome) if body.starts_with(b"\x07WELCOME") => Err(fail(
                code::ZMTP_MALFORMED_COMMAND_WELCOME,
                "WELCOME with a body",
            )),
            (_, ClientState::WaitReady) if body.starts_with(b"\x05READY") => {
                self.props = metadata(&self.setup, body, 5)?;
                self.state = ClientState::Ready;
                Ok(())
            }
            (_, ClientState::WaitWelcome | ClientState::WaitReady)
                if body.starts_with(b"\x05ERROR") =>
            {
                Err(zap::peer_error(body))
            }
            // libzmq 4.3.4's PLAIN server names its ERROR "\x5eRROR" (its
            // "\x05E" escape reads as one byte) and its client reads that
            // name; so do we, to report the refusal's status as it does.
            (_, ClientState::WaitWelcome | ClientState::WaitReady)
                if body.starts_with(LIBZMQ_434_ERROR) =>
            {
                Err(zap::peer_error(
                    &[&b"\x05ERROR"[..], &body[LIBZMQ_434_ERROR.len()..]].concat(),
                ))
            }
            _ => Err(ProtocolError::UnexpectedCommand("PLAIN client")),
        }
    }

    fn status(&self) -> Status {
        if self.state == ClientState::Ready {
            Status::Ready
        } else {
            Status::Handshaking
        }
    }

    fn peer_properties(&mut self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut self.props)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ServerState {
    WaitHello,
    WaitZap,
    SendWelcome,
    WaitInitiate,
    SendReady,
    Ready,
    /// Refused: the ERROR (if any) is queued, then the connection closes.
    Refused,
}

pub(crate) struct Server {
    setup: Setup,
    state: ServerState,
    props: Vec<(String, Vec<u8>)>,
    zap: ZapState,
}

impl Server {
    pub(crate) fn new(setup: Setup) -> Server {
        Server {
            setup,
            state: ServerState::WaitHello,
            props: Vec::new(),
            zap: ZapState::default(),
        }
    }

    fn hello(&mut self, body: &[u8]) -> Result<(), ProtocolError> {
        let malformed = || fail(code::ZMTP_MALFORMED_COMMAND_HELLO, "malformed HELLO");
        let rest = &body[6..];
        let (&ulen, rest) = rest.split_first().ok_or_else(malformed)?;
        let user = rest.get(..usize::from(ulen)).ok_or_else(malformed)?;
        let rest = &rest[usize::from(ulen)..];
        let (&plen, pass) = rest.split_first().ok_or_else(malformed)?;
        if pass.len() != usize::from(plen) {
            return Err(malformed());
        }
        let setup = self.setup.clone();
        self.zap.ask(&setup, "PLAIN", &[user, pass]);
        self.state = ServerState::WaitZap;
        Ok(())
    }
}

impl Handshake for Server {
    fn next_command(&mut self) -> Result<Option<Vec<u8>>, ProtocolError> {
        Ok(match self.state {
            ServerState::SendWelcome => {
                self.state = ServerState::WaitInitiate;
                Some(b"\x07WELCOME".to_vec())
            }
            ServerState::SendReady => {
                self.state = ServerState::Ready;
                Some(command::encode(&Command::Ready(self.setup.properties())))
            }
            ServerState::Refused => self.zap.error_command.take(),
            _ => None,
        })
    }

    fn process_command(&mut self, body: &[u8]) -> Result<(), ProtocolError> {
        name_of(body)?;
        match self.state {
            ServerState::WaitHello if body.starts_with(b"\x05HELLO") => self.hello(body),
            ServerState::WaitInitiate if body.starts_with(b"\x08INITIATE") => {
                self.props = metadata(&self.setup, body, 8)?;
                self.state = ServerState::SendReady;
                Ok(())
            }
            ServerState::WaitHello | ServerState::WaitInitiate => {
                Err(ProtocolError::UnexpectedCommand("PLAIN server"))
            }
            // A command while we wait for the handler or after our READY.
            _ => Err(fail(code::ZMTP_UNSPECIFIED, "PLAIN command out of turn")),
        }
    }

    fn status(&self) -> Status {
        match self.state {
            ServerState::Ready => Status::Ready,
            ServerState::Refused => Status::Error,
            _ => Status::Handshaking,
        }
    }

    fn error(&self) -> Option<ProtocolError> {
        self.zap.refusal()
    }

    fn peer_properties(&mut self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut self.props)
    }

    fn take_zap_request(&mut self) -> Option<Vec<Vec<u8>>> {
        self.zap.wait.take()
    }

    fn zap_outcome(&mut self, outcome: zap::Outcome) -> Result<(), ProtocolError> {
        match outcome {
            // There is no point to PLAIN without a handler to check the
            // password: libzmq refuses the client.
            zap::Outcome::NoHandler => Err(ProtocolError::NoZapHandler),
            zap::Outcome::Reply(r) => {
                self.state = if self.zap.reply(r)? {
                    ServerState::SendWelcome
                } else {
                    ServerState::Refused
                };
                Ok(())
            }
        }
    }

    fn zap_properties(&mut self) -> Vec<(String, Vec<u8>)> {
        std::mem::take(&mut self.zap.properties)
    }
}
