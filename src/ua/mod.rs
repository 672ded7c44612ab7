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

mod actions;
mod calls;
mod engine;
mod event;
pub(crate) mod setup;
mod status;

pub use event::{Event, FailureKind, TransferState};
pub use status::{CallPhase, CallStatus, PhoneStatus, RegistrationState, RegistrationStatus};

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
    /// No such call: it has ended, or never existed.
    #[error("no call {0}: it has ended or never existed")]
    NoSuchCall(CallId),
    /// The call is not in a state that allows this.
    #[error("{0}")]
    CallState(String),
    /// An argument is unusable (a malformed URI, a status that is not a refusal).
    #[error("{0}")]
    Invalid(String),
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
    Act {
        call: CallId,
        action: CallAction,
        reply: oneshot::Sender<Result<(), UaError>>,
    },
    Status {
        reply: oneshot::Sender<PhoneStatus>,
    },
    Listen {
        reply: oneshot::Sender<Result<std::net::SocketAddr, UaError>>,
    },
    Shutdown,
}

/// What the user does to a call that already exists (checked by the engine).
#[derive(Debug)]
enum CallAction {
    Answer(CallOptions),
    Reject(u16),
    Mute(bool),
    Transfer(String),
    Hangup,
    Hold(bool),
    Dtmf(String),
}

/// A running user agent for one account.
#[derive(Debug)]
pub struct Phone {
    commands: mpsc::UnboundedSender<Command>,
    events: tokio::sync::Mutex<mpsc::UnboundedReceiver<Event>>,
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
            events: tokio::sync::Mutex::new(events),
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

    /// [`Phone::hangup`], with an answer: [`UaError::NoSuchCall`] when the call has ended or
    /// never existed.
    pub async fn try_hangup(&self, call: CallId) -> Result<(), UaError> {
        self.act(call, CallAction::Hangup).await
    }

    /// [`Phone::hold`], with an answer: [`UaError::CallState`] when the call is not answered
    /// or a re-offer cannot be sent now (one is under way). A [`Event::CallHold`] follows.
    pub async fn try_hold(&self, call: CallId, hold: bool) -> Result<(), UaError> {
        self.act(call, CallAction::Hold(hold)).await
    }

    /// [`Phone::send_dtmf`], with an answer: [`UaError::CallState`] when the call is not
    /// answered, has no media, or a digit is refused.
    pub async fn try_send_dtmf(&self, call: CallId, digits: &str) -> Result<(), UaError> {
        self.act(call, CallAction::Dtmf(digits.to_owned())).await
    }

    /// Answers an incoming call that is ringing (see [`Phone::auto_answer`]) with these
    /// options: our SDP answer in a 200 (or a 488 with the reason when the offer is not
    /// acceptable). Errors with [`UaError::NoSuchCall`] for an unknown or ended call and
    /// [`UaError::CallState`] when it is not an incoming call still ringing.
    ///
    /// ```no_run
    /// # use lockphone::ua::{Event, Phone};
    /// # use lockphone::call::CallOptions;
    /// # async fn demo(mut phone: Phone) -> Result<(), lockphone::ua::UaError> {
    /// phone.auto_answer(None); // incoming calls ring until answered
    /// while let Some(event) = phone.next_event().await {
    ///     if let Event::CallStarted { call, direction, .. } = event
    ///         && direction == "incoming"
    ///     {
    ///         phone.answer(call, CallOptions::default()).await?;
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn answer(&self, call: CallId, options: CallOptions) -> Result<(), UaError> {
        self.act(call, CallAction::Answer(options)).await
    }

    /// Refuses an incoming call that is ringing with `status`: 486 Busy Here, 603 Decline,
    /// 480 Temporarily Unavailable… (any 4xx–6xx). The call ends with a `call-ended` event.
    ///
    /// ```no_run
    /// # use lockphone::ua::Phone;
    /// # async fn demo(phone: Phone, call: lockphone::call::CallId) -> Result<(), lockphone::ua::UaError> {
    /// phone.reject(call, 486).await?; // Busy Here
    /// # Ok(())
    /// # }
    /// ```
    pub async fn reject(&self, call: CallId, status: u16) -> Result<(), UaError> {
        if !(400..700).contains(&status) {
            return Err(UaError::Invalid(format!(
                "cannot reject with {status}: a refusal is a status from 400 to 699 (486 busy, 603 decline)"
            )));
        }
        self.act(call, CallAction::Reject(status)).await
    }

    /// Mutes (`true`) or unmutes our audio on a call. While muted, encoded silence is sent in
    /// place of the captured audio: RTP keeps flowing at the same rate (no comfort-noise
    /// negotiation needed), so neither end's media timeout ends the call. Allowed in any
    /// state; a call muted before it is answered starts muted.
    ///
    /// ```no_run
    /// # use lockphone::ua::Phone;
    /// # async fn demo(phone: Phone, call: lockphone::call::CallId) -> Result<(), lockphone::ua::UaError> {
    /// phone.mute(call, true).await?;
    /// phone.mute(call, false).await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn mute(&self, call: CallId, mute: bool) -> Result<(), UaError> {
        self.act(call, CallAction::Mute(mute)).await
    }

    /// Blind transfer (RFC 3515): asks the far end of an answered call to call `target`
    /// instead, with an in-dialog REFER. Progress comes as [`Event::CallTransfer`] events
    /// (`accepted`, `trying`, then `succeeded` or `failed`); after `succeeded` we hang up.
    /// Errors at once when the URI is malformed, the call is not answered, or a transfer is
    /// already under way.
    ///
    /// ```no_run
    /// # use lockphone::ua::{Event, Phone, TransferState};
    /// # async fn demo(mut phone: Phone, call: lockphone::call::CallId) -> Result<(), lockphone::ua::UaError> {
    /// phone.transfer(call, "sips:carol@example.com").await?;
    /// while let Some(event) = phone.next_event().await {
    ///     if let Event::CallTransfer { state: TransferState::Succeeded | TransferState::Failed, .. } = event {
    ///         break;
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn transfer(&self, call: CallId, target_uri: &str) -> Result<(), UaError> {
        self.act(call, CallAction::Transfer(target_uri.to_owned()))
            .await
    }

    /// A snapshot of the phone: account, registration, and every call with its state,
    /// verdict and latest statistics. Serializes to JSON.
    ///
    /// ```no_run
    /// # use lockphone::ua::Phone;
    /// # async fn demo(phone: Phone) -> Result<(), Box<dyn std::error::Error>> {
    /// let status = phone.status().await?;
    /// println!("{} is {:?}", status.account, status.registration.state);
    /// for call in &status.calls {
    ///     println!("call {}: {:?} with {}", call.call, call.state, call.peer);
    /// }
    /// println!("{}", serde_json::to_string(&status)?);
    /// # Ok(())
    /// # }
    /// ```
    pub async fn status(&self) -> Result<PhoneStatus, UaError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Status { reply })
            .map_err(|_| UaError::Stopped)?;
        answer.await.map_err(|_| UaError::Stopped)
    }

    async fn act(&self, call: CallId, action: CallAction) -> Result<(), UaError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Act {
                call,
                action,
                reply,
            })
            .map_err(|_| UaError::Stopped)?;
        answer.await.map_err(|_| UaError::Stopped)?
    }

    /// Answers every incoming call automatically with these options (`None`, the default:
    /// incoming calls ring, with 180, until [`Phone::answer`] or [`Phone::reject`]).
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
        self.events.get_mut().recv().await
    }

    /// The next event, for a phone shared between tasks (in an `Arc`): one task reports
    /// while others act through `&self`. With several tasks waiting, each event goes to one.
    pub async fn next_event_shared(&self) -> Option<Event> {
        self.events.lock().await.recv().await
    }

    /// Un-registers if registered (waiting up to 5 s for the answer) and stops the engine.
    pub async fn shutdown(self) {
        let _ = self.commands.send(Command::Shutdown);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(6), self.engine).await;
    }
}
