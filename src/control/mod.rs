//! The control protocol of `lockphone daemon`: JSON lines over a Unix socket (or TCP on
//! 127.0.0.1 with a token). The schema, with an example of every message, is
//! `docs/control-api.md`.
//!
//! A client sends one [`Command`] per line, each with an optional `id` echoed in its answer;
//! the daemon answers every line with one [`ServerMessage::Reply`] or
//! [`ServerMessage::Error`], and sends subscribed clients the phone's
//! [`Event`](crate::ua::Event)s as [`ServerMessage::Event`].
//!
//! ```
//! use lockphone::control::{Command, parse_request};
//!
//! let request = parse_request(r#"{"id": 7, "command": "hangup", "call": 3}"#).unwrap();
//! assert_eq!(request.id, Some(lockphone::control::RequestId::Number(7)));
//! assert!(matches!(request.command, Command::Hangup { call } if call.0 == 3));
//!
//! let refused = parse_request(r#"{"id": "x", "command": "fly"}"#).unwrap_err();
//! assert_eq!(refused.error.code, lockphone::control::ErrorCode::UnknownCommand);
//! ```

#[cfg(test)]
mod doc_tests;
mod execute;
mod message;

pub use execute::{audio_in, audio_out, execute};
pub use message::{
    COMMANDS, Command, CommandResult, ControlError, ErrorCode, MAX_LINE, PROTOCOL_VERSION,
    Rejected, Request, RequestId, ServerMessage, Token, TrustChoice, parse_request,
};
