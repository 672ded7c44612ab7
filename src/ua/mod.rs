//! The user agent: one [`Phone`] per account, driven by an async engine around the sans-IO
//! cores of `lockphone-sip`, reporting through a stream of [`Event`]s.
//!
//! ```no_run
//! use lockphone::config::Config;
//! use lockphone::ua::{Event, Phone};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::load("lockphone.toml".as_ref())?;
//! let mut phone = Phone::start(config.account(None)?).await?;
//! phone.register();
//! while let Some(event) = phone.next_event().await {
//!     println!("{}", serde_json::to_string(&event)?);
//!     if matches!(event, Event::Registered { .. }) {
//!         break;
//!     }
//! }
//! phone.shutdown().await;
//! # Ok(())
//! # }
//! ```

mod calls;
mod engine;
mod event;
pub(crate) mod setup;

pub use event::{Event, FailureKind};

use tokio::sync::{mpsc, oneshot};

use crate::call::{CallId, CallOptions};

use crate::config::{AccountConfig, ConfigError};
use crate::tls::TlsError;
use crate::transport::TransportError;

/// Why the user agent could not start or act.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UaError {
    /// The account configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The server could not be reached.
    #[error("{0}")]
    Unreachable(String),
    /// A transport failure.
    #[error(transparent)]
    Transport(#[from] TransportError),
    /// The engine has stopped.
    #[error("the user agent has stopped")]
    Stopped,
}

impl From<ConfigError> for UaError {
    fn from(e: ConfigError) -> UaError {
        UaError::Config(e.to_string())
    }
}

/// A command to the engine.
#[derive(Debug)]
enum Command {
    Register,
    Unregister,
    Dial {
        uri: String,
        options: CallOptions,
        reply: oneshot::Sender<Result<CallId, UaError>>,
    },
    Hangup(CallId),
    Hold(CallId, bool),
    Dtmf(CallId, String),
    AutoAnswer(Option<CallOptions>),
    Listen {
        reply: oneshot::Sender<Result<std::net::SocketAddr, UaError>>,
    },
    Shutdown,
}

/// A running user agent for one account.
#[derive(Debug)]
pub struct Phone {
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::UnboundedReceiver<Event>,
    engine: tokio::task::JoinHandle<()>,
}

impl Phone {
    /// Starts the user agent of `account`: loads its TLS trust anchors and credentials and
    /// starts the engine task. Nothing is sent until [`Phone::register`].
    pub async fn start(account: &AccountConfig) -> Result<Phone, UaError> {
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (event_tx, events) = mpsc::unbounded_channel();
        let engine = engine::Engine::new(account, event_tx).await?;
        let engine = tokio::spawn(engine.run(command_rx));
        Ok(Phone {
            commands,
            events,
            engine,
        })
    }

    /// Registers (and keeps the registration refreshed).
    pub fn register(&self) {
        let _ = self.commands.send(Command::Register);
    }

    /// Removes the registration.
    pub fn unregister(&self) {
        let _ = self.commands.send(Command::Unregister);
    }

    /// Calls `uri` (through the registrar when the account registers, else directly), playing
    /// and recording as `options` say. Progress comes as `Call…` events for the returned id.
    pub async fn dial(&self, uri: &str, options: CallOptions) -> Result<CallId, UaError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Dial {
                uri: uri.to_owned(),
                options,
                reply,
            })
            .map_err(|_| UaError::Stopped)?;
        answer.await.map_err(|_| UaError::Stopped)?
    }

    /// Hangs up a call (CANCEL, BYE or decline, whichever fits its state).
    pub fn hangup(&self, call: CallId) {
        let _ = self.commands.send(Command::Hangup(call));
    }

    /// Puts a call on hold (`true`) or resumes it (`false`) with a re-INVITE.
    pub fn hold(&self, call: CallId, hold: bool) {
        let _ = self.commands.send(Command::Hold(call, hold));
    }

    /// Sends DTMF digits (RFC 4733) on a call.
    pub fn send_dtmf(&self, call: CallId, digits: &str) {
        let _ = self.commands.send(Command::Dtmf(call, digits.to_owned()));
    }

    /// Answers every incoming call automatically with these options (`None`: ring only).
    pub fn auto_answer(&self, options: Option<CallOptions>) {
        let _ = self.commands.send(Command::AutoAnswer(options));
    }

    /// Starts listening for direct incoming calls on the account's `calls.listen` address;
    /// returns the bound address.
    pub async fn listen(&self) -> Result<std::net::SocketAddr, UaError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Listen { reply })
            .map_err(|_| UaError::Stopped)?;
        answer.await.map_err(|_| UaError::Stopped)?
    }

    /// The next event; `None` once the engine has stopped.
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.recv().await
    }

    /// Un-registers if registered (waiting up to 5 s for the answer) and stops the engine.
    pub async fn shutdown(self) {
        let _ = self.commands.send(Command::Shutdown);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(6), self.engine).await;
    }
}
