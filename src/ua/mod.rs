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
use crate::tls::{ClientTls, TlsError, TrustStoreUnavailable};
use crate::transport::TransportError;
use crate::trust::{TrustDecision, TrustDecisionError};

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
    /// A trust decision could not be applied.
    #[error(transparent)]
    Trust(#[from] TrustDecisionError),
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
    TrustDecided {
        server: String,
        decision: TrustDecision,
    },
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
    /// The verifier's side of the TLS configuration, where trust decisions are applied.
    tls: Option<ClientTls>,
}

impl Phone {
    /// Starts the user agent of `account`: loads its TLS trust anchors and credentials and
    /// starts the engine task. Nothing is sent until [`Phone::register`].
    pub async fn start(account: &AccountConfig) -> Result<Phone, UaError> {
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (event_tx, events) = mpsc::unbounded_channel();
        let engine = engine::Engine::new(account, event_tx).await?;
        let tls = engine.transport.client_tls().cloned();
        let engine = tokio::spawn(engine.run(command_rx));
        Ok(Phone {
            commands,
            events,
            engine,
            tls,
        })
    }

    /// Answers an [`Event::TrustDecisionRequired`] for `server` (its `server` field):
    /// [`TrustDecision::AlwaysTrust`] stores the certificate for `server` in the trust store
    /// (atomically, mode 0600) and resumes the paused registration;
    /// [`TrustDecision::Continue`] accepts it for the life of this phone only;
    /// [`TrustDecision::Cancel`] stores nothing and fails the registration
    /// ([`Event::RegistrationFailed`], kind `tls`). A refused call attempt is not resumed:
    /// dial again after deciding.
    ///
    /// Errors: FIPS mode refuses `AlwaysTrust` and `Continue`
    /// ([`TrustDecisionError::FipsForbidsOverride`]); nothing waiting for `server`
    /// ([`TrustDecisionError::NothingPending`]); the store cannot be written.
    pub fn decide_trust(&self, server: &str, decision: TrustDecision) -> Result<(), UaError> {
        if crate::tls::fips_mode() && decision != TrustDecision::Cancel {
            return Err(TrustDecisionError::FipsForbidsOverride {
                server: server.to_owned(),
            }
            .into());
        }
        let nothing = || TrustDecisionError::NothingPending {
            server: server.to_owned(),
        };
        let tls = self.tls.as_ref().ok_or_else(nothing)?;
        let certificate = tls.pending_decision(server).ok_or_else(nothing)?;
        match decision {
            TrustDecision::AlwaysTrust => {
                tls.trust_always(server, &certificate)
                    .map_err(|e| match e {
                        TrustStoreUnavailable::Store(e) => TrustDecisionError::Store(e),
                        _ => TrustDecisionError::NoStore,
                    })?;
            }
            TrustDecision::Continue => tls.trust_for_session(server, &certificate.sha256),
            TrustDecision::Cancel => tls.forget_pending(server),
        }
        self.commands
            .send(Command::TrustDecided {
                server: server.to_owned(),
                decision,
            })
            .map_err(|_| UaError::Stopped)
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
