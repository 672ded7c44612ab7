//! The messages of the control protocol and the parsing of a client's line.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::call::CallId;
use crate::ua::{Event, PhoneStatus};

/// The protocol version the daemon announces in its `hello`.
pub const PROTOCOL_VERSION: u32 = 1;

/// The longest line a client may send (64 KiB, without the newline); a longer one is
/// answered with [`ErrorCode::LineTooLong`] and skipped.
pub const MAX_LINE: usize = 64 * 1024;

/// The identifier a client puts on a command, echoed in the answer: a number or a string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// A non-negative integer.
    Number(u64),
    /// Any string.
    Text(String),
}

/// A secret (the TCP token): deserialized like a string, never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Token(String);

impl Token {
    /// Wraps a secret.
    pub fn new(secret: String) -> Token {
        Token(secret)
    }

    /// Compares with `other` in time independent of where they differ (lengths may leak).
    pub fn matches(&self, other: &Token) -> bool {
        let (a, b) = (self.0.as_bytes(), other.0.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

/// What to do about a server certificate that needs a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TrustChoice {
    /// Trust it from now on (stored in the trust store).
    Always,
    /// Trust it for this session only.
    Continue,
    /// Do not trust it.
    Cancel,
}

/// One command of a client. On the wire: an object with `command` naming the variant in
/// kebab-case, its fields beside it, and an optional `id`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "command", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Command {
    /// Authenticates a TCP connection (its first line must be this); accepted and ignored on
    /// the Unix socket.
    Auth {
        /// The daemon's token.
        token: Token,
    },
    /// Registers the account (and keeps it registered).
    Register,
    /// Removes the registration.
    Unregister,
    /// Places a call.
    Call {
        /// Whom to call.
        uri: String,
        /// What to send: `tone:HZ`, `silence`, `file:PATH` (WAV) or `device[:NAME]`.
        #[serde(default)]
        play: Option<String>,
        /// Where the received audio goes: `file:PATH` (WAV) or `device[:NAME]`; none by default.
        #[serde(default)]
        record: Option<String>,
    },
    /// Answers an incoming call that is ringing.
    Answer {
        /// The call.
        call: CallId,
        /// As for `call`.
        #[serde(default)]
        play: Option<String>,
        /// As for `call`.
        #[serde(default)]
        record: Option<String>,
    },
    /// Refuses an incoming call that is ringing.
    Reject {
        /// The call.
        call: CallId,
        /// The refusal (4xx–6xx); 603 Decline by default.
        #[serde(default)]
        status: Option<u16>,
    },
    /// Hangs up (CANCEL, BYE or decline, whichever fits).
    Hangup {
        /// The call.
        call: CallId,
    },
    /// Puts an answered call on hold.
    Hold {
        /// The call.
        call: CallId,
    },
    /// Resumes a held call.
    Resume {
        /// The call.
        call: CallId,
    },
    /// Mutes or unmutes our audio (encoded silence is sent while muted).
    Mute {
        /// The call.
        call: CallId,
        /// `true` to mute (the default), `false` to unmute.
        #[serde(default = "yes")]
        on: bool,
    },
    /// Sends DTMF digits (RFC 4733).
    Dtmf {
        /// The call.
        call: CallId,
        /// `0-9`, `*`, `#`, `A-D`.
        digits: String,
    },
    /// Blind transfer: asks the far end to call `target` (REFER).
    Transfer {
        /// The call.
        call: CallId,
        /// Whom the far end should call.
        target: String,
    },
    /// Decides about a server certificate after a `trust-decision-required` event.
    Trust {
        /// The server, as the event named it.
        server: String,
        /// The decision.
        decision: TrustChoice,
    },
    /// A snapshot of the phone.
    Status,
    /// Starts sending this client the phone's events.
    Subscribe {
        /// Whether to include the `call-stats` ticks (every second per call); default true.
        #[serde(default = "yes")]
        stats: bool,
    },
    /// Stops sending events.
    Unsubscribe,
    /// Stops the daemon (hangs up, un-registers).
    Shutdown,
}

fn yes() -> bool {
    true
}

/// The names of every command, as on the wire.
pub const COMMANDS: &[&str] = &[
    "auth",
    "register",
    "unregister",
    "call",
    "answer",
    "reject",
    "hangup",
    "hold",
    "resume",
    "mute",
    "dtmf",
    "transfer",
    "trust",
    "status",
    "subscribe",
    "unsubscribe",
    "shutdown",
];

impl Command {
    /// The command's name on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Auth { .. } => "auth",
            Command::Register => "register",
            Command::Unregister => "unregister",
            Command::Call { .. } => "call",
            Command::Answer { .. } => "answer",
            Command::Reject { .. } => "reject",
            Command::Hangup { .. } => "hangup",
            Command::Hold { .. } => "hold",
            Command::Resume { .. } => "resume",
            Command::Mute { .. } => "mute",
            Command::Dtmf { .. } => "dtmf",
            Command::Transfer { .. } => "transfer",
            Command::Trust { .. } => "trust",
            Command::Status => "status",
            Command::Subscribe { .. } => "subscribe",
            Command::Unsubscribe => "unsubscribe",
            Command::Shutdown => "shutdown",
        }
    }
}

/// A parsed line: the command and the id to echo.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The client's id, if it gave one.
    pub id: Option<RequestId>,
    /// The command.
    pub command: Command,
}

/// A line that is not a valid command: the error to answer, with the id if it was readable.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejected {
    /// The client's id, if it could be read.
    pub id: Option<RequestId>,
    /// What is wrong.
    pub error: ControlError,
}

/// Why a command failed, in a form scripts can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorCode {
    /// The line is not JSON.
    BadJson,
    /// The line is JSON but not a command object (not an object, no `command`, a bad `id`).
    InvalidRequest,
    /// `command` names no command.
    UnknownCommand,
    /// A field is missing, unknown or of the wrong type, or a value is unusable.
    InvalidArguments,
    /// The line is longer than 64 KiB.
    LineTooLong,
    /// A TCP client did not authenticate first, or with a wrong token.
    Unauthorized,
    /// No such call: it has ended or never existed.
    NoSuchCall,
    /// The call is not in a state that allows the command.
    WrongState,
    /// This build cannot do it.
    NotSupported,
    /// The phone tried and failed (unreachable server, TLS refusal…).
    Failed,
    /// The phone has stopped.
    Stopped,
    /// Events were dropped because this client did not read them fast enough.
    EventsLost,
}

/// An error answer: a code and a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct ControlError {
    /// What kind of failure.
    pub code: ErrorCode,
    /// What failed and what to do.
    pub message: String,
}

impl ControlError {
    /// An error with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> ControlError {
        ControlError {
            code,
            message: message.into(),
        }
    }
}

/// What a successful command returns.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum CommandResult {
    /// `call`: the new call's id.
    Call {
        /// The call.
        call: CallId,
    },
    /// `status`: the snapshot.
    Status(Box<PhoneStatus>),
    /// Every other command: done (or, for hold/resume/transfer, sent; the outcome follows
    /// as an event).
    Done {},
}

/// One line from the daemon.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ServerMessage {
    /// The first line on every connection.
    Hello {
        /// The protocol version.
        protocol: u32,
        /// Whether the first command must be `auth` (TCP).
        authenticate: bool,
    },
    /// A command succeeded.
    Reply {
        /// The command's `id`, if it had one.
        id: Option<RequestId>,
        /// What it returned.
        result: CommandResult,
    },
    /// A command failed (or a line was not a command).
    Error {
        /// The command's `id`, if it could be read.
        id: Option<RequestId>,
        /// Why.
        error: ControlError,
    },
    /// An event of the phone (to subscribed clients): the `Event` fields, `event` naming it.
    Event(Event),
}

impl ServerMessage {
    /// The message as one line of JSON (without the newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| {
            // Only a serializer bug gets here; the client still gets a well-formed line.
            format!(
                r#"{{"type":"error","id":null,"error":{{"code":"failed","message":"cannot encode the answer: {}"}}}}"#,
                e.to_string().replace(['"', '\\'], "'")
            )
        })
    }
}

/// Parses one line from a client. Never panics; every failure is an answer for the client.
pub fn parse_request(line: &str) -> Result<Request, Rejected> {
    let reject = |id: Option<RequestId>, code, message: String| Rejected {
        id,
        error: ControlError::new(code, message),
    };
    let value: Value = serde_json::from_str(line)
        .map_err(|e| reject(None, ErrorCode::BadJson, format!("not JSON: {e}")))?;
    let Value::Object(mut object) = value else {
        return Err(reject(
            None,
            ErrorCode::InvalidRequest,
            "a command is a JSON object with a \"command\" field".to_owned(),
        ));
    };
    let id = match object.remove("id") {
        None | Some(Value::Null) => None,
        Some(value) => Some(serde_json::from_value::<RequestId>(value).map_err(|_| {
            reject(
                None,
                ErrorCode::InvalidRequest,
                "\"id\" must be a non-negative integer or a string".to_owned(),
            )
        })?),
    };
    let name = match object.get("command") {
        Some(Value::String(name)) => name.clone(),
        Some(_) => {
            return Err(reject(
                id,
                ErrorCode::InvalidRequest,
                "\"command\" must be a string".to_owned(),
            ));
        }
        None => {
            return Err(reject(
                id,
                ErrorCode::InvalidRequest,
                "no \"command\" field".to_owned(),
            ));
        }
    };
    if !COMMANDS.contains(&name.as_str()) {
        let shown: String = name.chars().take(40).collect();
        return Err(reject(
            id,
            ErrorCode::UnknownCommand,
            format!(
                "unknown command `{shown}`; the commands are {}",
                COMMANDS.join(", ")
            ),
        ));
    }
    let command = serde_json::from_value::<Command>(Value::Object(object)).map_err(|e| {
        reject(
            id.clone(),
            ErrorCode::InvalidArguments,
            format!("`{name}`: {e}"),
        )
    })?;
    Ok(Request { id, command })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(line: &str) -> ErrorCode {
        parse_request(line).unwrap_err().error.code
    }

    #[test]
    fn commands_parse_with_their_ids_and_defaults() {
        let r = parse_request(r#"{"command":"register"}"#).unwrap();
        assert_eq!((r.id, r.command), (None, Command::Register));
        let r = parse_request(r#"{"id":"a1","command":"reject","call":2}"#).unwrap();
        assert_eq!(r.id, Some(RequestId::Text("a1".to_owned())));
        assert_eq!(
            r.command,
            Command::Reject {
                call: CallId(2),
                status: None
            }
        );
        let r = parse_request(r#"{"id":9,"command":"subscribe"}"#).unwrap();
        assert_eq!(r.command, Command::Subscribe { stats: true });
        let r = parse_request(r#"{"command":"mute","call":1}"#).unwrap();
        assert_eq!(
            r.command,
            Command::Mute {
                call: CallId(1),
                on: true
            }
        );
        let r = parse_request(r#"{"command":"trust","server":"pbx","decision":"always"}"#).unwrap();
        assert_eq!(r.command.name(), "trust");
    }

    #[test]
    fn malformed_lines_get_the_right_code_and_keep_the_id_when_readable() {
        assert_eq!(code("{"), ErrorCode::BadJson);
        assert_eq!(code("[1,2]"), ErrorCode::InvalidRequest);
        assert_eq!(code(r#"{"id":1}"#), ErrorCode::InvalidRequest);
        assert_eq!(code(r#"{"command":5}"#), ErrorCode::InvalidRequest);
        assert_eq!(
            code(r#"{"id":-1,"command":"status"}"#),
            ErrorCode::InvalidRequest
        );
        assert_eq!(code(r#"{"command":"fly"}"#), ErrorCode::UnknownCommand);
        assert_eq!(code(r#"{"command":"hangup"}"#), ErrorCode::InvalidArguments);
        assert_eq!(
            code(r#"{"command":"hangup","call":"one"}"#),
            ErrorCode::InvalidArguments
        );
        assert_eq!(
            code(r#"{"command":"hangup","call":1,"force":true}"#),
            ErrorCode::InvalidArguments
        );
        assert_eq!(
            code(r#"{"command":"trust","server":"s","decision":"maybe"}"#),
            ErrorCode::InvalidArguments
        );
        let rejected = parse_request(r#"{"id":4,"command":"dtmf","call":1}"#).unwrap_err();
        assert_eq!(rejected.id, Some(RequestId::Number(4)));
        assert!(rejected.error.message.contains("digits"), "{rejected:?}");
    }

    #[test]
    fn every_command_name_is_listed_and_parses() {
        for name in COMMANDS {
            let r = parse_request(&format!(r#"{{"command":"{name}"}}"#));
            // Either it parses (no required fields) or it misses arguments: never unknown.
            match r {
                Ok(request) => assert_eq!(request.command.name(), *name),
                Err(rejected) => {
                    assert_eq!(rejected.error.code, ErrorCode::InvalidArguments, "{name}");
                }
            }
        }
    }

    #[test]
    fn tokens_compare_whole_and_never_show() {
        let token = Token::new("s3cret".to_owned());
        assert!(token.matches(&Token::new("s3cret".to_owned())));
        assert!(!token.matches(&Token::new("s3creT".to_owned())));
        assert!(!token.matches(&Token::new("s3cre".to_owned())));
        let r = parse_request(r#"{"command":"auth","token":"s3cret"}"#).unwrap();
        assert!(!format!("{r:?}").contains("s3cret"));
    }

    #[test]
    fn server_messages_are_tagged_lines() {
        let reply = ServerMessage::Reply {
            id: Some(RequestId::Number(1)),
            result: CommandResult::Call { call: CallId(3) },
        };
        assert_eq!(
            reply.to_line(),
            r#"{"type":"reply","id":1,"result":{"call":3}}"#
        );
        let done = ServerMessage::Reply {
            id: None,
            result: CommandResult::Done {},
        };
        assert_eq!(done.to_line(), r#"{"type":"reply","id":null,"result":{}}"#);
        let event = ServerMessage::Event(Event::CallRinging { call: CallId(3) });
        assert_eq!(
            event.to_line(),
            r#"{"type":"event","event":"call-ringing","call":3}"#
        );
    }
}
