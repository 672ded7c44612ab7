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
mod audio_files;
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
    /// The file a call was to play (`--play`, [`CallOptions::file`]) cannot be read, or the
    /// one to record into (`--record`, [`CallOptions::record_to`]) cannot be created: the
    /// call was not made or answered.
    #[error("the call's audio file {} {reason}: fix the path (--play/--record) and try again", path.display())]
    AudioFile {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong with it.
        reason: String,
    },
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
    /// starts the engine task. Nothing is sent until [`Phone::register`] (or a call).
    ///
    /// Must run inside a tokio runtime (the engine is a task on it). Fails when the account
    /// is unusable ([`UaError::Config`]), its TLS files cannot be loaded ([`UaError::Tls`]),
    /// or the registrar's name does not resolve ([`UaError::Unreachable`]).
    ///
    /// ```
    /// use lockphone::config::Config;
    /// use lockphone::ua::{Phone, RegistrationState};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = Config::from_toml(r#"
    ///     [[account]]
    ///     name = "alice"
    ///     aor = "sip:alice@127.0.0.1"
    ///     transport = "udp"
    ///     register = false
    /// "#)?;
    /// let phone = Phone::start(config.account(None)?).await?;
    /// let status = phone.status().await?;
    /// assert_eq!(status.account, "sip:alice@127.0.0.1");
    /// assert_eq!(status.registration.state, RegistrationState::Unregistered);
    /// phone.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
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

    /// Registers (and keeps the registration refreshed, re-registering after a lost
    /// connection). Returns at once; the outcome comes as events: [`Event::Registering`],
    /// [`Event::Connected`], then [`Event::Registered`] or [`Event::RegistrationFailed`] (or
    /// [`Event::TrustDecisionRequired`] when the server's certificate needs a decision).
    ///
    /// ```no_run
    /// # use lockphone::ua::{Event, Phone};
    /// # async fn demo(mut phone: Phone) -> Result<(), Box<dyn std::error::Error>> {
    /// phone.register();
    /// loop {
    ///     match phone.next_event().await.ok_or("the phone stopped")? {
    ///         Event::Registered { expires_secs, contact } => {
    ///             println!("registered as {contact} for {expires_secs} s");
    ///             break;
    ///         }
    ///         Event::RegistrationFailed { kind, reason } => {
    ///             return Err(format!("{kind:?}: {reason}").into());
    ///         }
    ///         _ => {}
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn register(&self) {
        let _ = self.commands.send(Command::Register);
    }

    /// Removes the registration (an un-REGISTER); [`Event::Unregistered`] follows.
    pub fn unregister(&self) {
        let _ = self.commands.send(Command::Unregister);
    }

    /// Calls `uri` (through the registrar when the account registers, else directly), playing
    /// and recording as `options` say. Progress comes as `Call…` events for the returned id:
    /// [`Event::CallStarted`], [`Event::CallRinging`], [`Event::CallAnswered`],
    /// [`Event::CallSecurity`] (the verdict, whenever it changes), [`Event::CallStats`] every
    /// second, and always [`Event::CallEnded`] with the [`CallSummary`](crate::call::CallSummary)
    /// last. Errors at once when `uri` is malformed or cannot be reached, or when the file to
    /// play cannot be read or the one to record into cannot be created ([`UaError::AudioFile`]).
    /// Audio that still cannot start once answered (a sound card gone, a file that is not
    /// WAV) fails the call: [`Event::CallFailed`] with the reason, then it is hung up.
    ///
    /// `uri` may name the transport and port of a direct call:
    /// `sip:bob@192.0.2.7:5061;transport=tls`, `sips:bob@example.com`. Here a direct call on
    /// the loopback interface to a second phone that answers:
    ///
    /// ```
    /// # use lockphone::call::CallOptions;
    /// # use lockphone::ua::{Event, Phone};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # tokio::time::timeout(std::time::Duration::from_secs(30), async {
    /// # let config = lockphone::config::Config::from_toml(r#"
    /// #     [[account]]
    /// #     name = "alice"
    /// #     aor = "sip:alice@127.0.0.1"
    /// #     transport = "udp"
    /// #     register = false
    /// #     calls.srtp = "off"
    /// #     [[account]]
    /// #     name = "bob"
    /// #     aor = "sip:bob@127.0.0.1"
    /// #     transport = "udp"
    /// #     register = false
    /// #     calls.srtp = "off"
    /// #     calls.listen = "127.0.0.1:0"
    /// # "#)?;
    /// # let bob = Phone::start(config.account(Some("bob"))?).await?;
    /// # bob.auto_answer(Some(CallOptions::silence()));
    /// # let bob_uri = format!("sip:bob@{};transport=udp", bob.listen().await?);
    /// # let mut phone = Phone::start(config.account(Some("alice"))?).await?;
    /// // bob_uri is like "sip:bob@127.0.0.1:40000;transport=udp"
    /// let call = phone.dial(&bob_uri, CallOptions::tone(440.0)).await?;
    /// loop {
    ///     match phone.next_event().await.ok_or("the phone stopped")? {
    ///         Event::CallAnswered { call: c, codec, srtp_suite } if c == call => {
    ///             println!("answered: {codec}, SRTP {srtp_suite:?}");
    ///             phone.hangup(call);
    ///         }
    ///         Event::CallEnded { call: c, summary } if c == call => {
    ///             println!("ended: {}", summary.end_reason);
    ///             break;
    ///         }
    ///         _ => {}
    ///     }
    /// }
    /// # phone.shutdown().await;
    /// # bob.shutdown().await;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).await?
    /// # }
    /// ```
    pub async fn dial(&self, uri: &str, options: CallOptions) -> Result<CallId, UaError> {
        audio_files::check_audio_files(&options)?;
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

    /// Hangs up a call (CANCEL, BYE or decline, whichever fits its state). Returns at once;
    /// [`Event::CallEnded`] follows. An unknown or ended call is ignored.
    ///
    /// ```
    /// # use lockphone::call::CallOptions;
    /// # use lockphone::ua::{Event, Phone};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # tokio::time::timeout(std::time::Duration::from_secs(30), async {
    /// # let config = lockphone::config::Config::from_toml(r#"
    /// #     [[account]]
    /// #     name = "alice"
    /// #     aor = "sip:alice@127.0.0.1"
    /// #     transport = "udp"
    /// #     register = false
    /// #     calls.srtp = "off"
    /// #     [[account]]
    /// #     name = "bob"
    /// #     aor = "sip:bob@127.0.0.1"
    /// #     transport = "udp"
    /// #     register = false
    /// #     calls.srtp = "off"
    /// #     calls.listen = "127.0.0.1:0"
    /// # "#)?;
    /// # let bob = Phone::start(config.account(Some("bob"))?).await?;
    /// # bob.auto_answer(Some(CallOptions::silence()));
    /// # let bob_uri = format!("sip:bob@{};transport=udp", bob.listen().await?);
    /// # let mut phone = Phone::start(config.account(Some("alice"))?).await?;
    /// # let call = phone.dial(&bob_uri, CallOptions::default()).await?;
    /// # while !matches!(phone.next_event().await, Some(Event::CallAnswered { .. }) | None) {}
    /// phone.hangup(call);
    /// let summary = loop {
    ///     if let Some(Event::CallEnded { call: c, summary }) = phone.next_event().await {
    ///         if c == call {
    ///             break summary;
    ///         }
    ///     }
    /// };
    /// assert_eq!(summary.call, call);
    /// println!("{} after {:.1} s", summary.end_reason, summary.duration_secs);
    /// # phone.shutdown().await;
    /// # bob.shutdown().await;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).await?
    /// # }
    /// ```
    pub fn hangup(&self, call: CallId) {
        self.act_unconfirmed(call, CallAction::Hangup);
    }

    /// Puts a call on hold (`true`) or resumes it (`false`) with a re-INVITE. Returns at
    /// once; [`Event::CallHold`] says how the far end answered (`refused` is set, and the call
    /// stays as it was, if it refused).
    ///
    /// ```
    /// # use lockphone::call::CallOptions;
    /// # use lockphone::ua::{Event, Phone};
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # tokio::time::timeout(std::time::Duration::from_secs(30), async {
    /// # let config = lockphone::config::Config::from_toml(r#"
    /// #     [[account]]
    /// #     name = "alice"
    /// #     aor = "sip:alice@127.0.0.1"
    /// #     transport = "udp"
    /// #     register = false
    /// #     calls.srtp = "off"
    /// #     [[account]]
    /// #     name = "bob"
    /// #     aor = "sip:bob@127.0.0.1"
    /// #     transport = "udp"
    /// #     register = false
    /// #     calls.srtp = "off"
    /// #     calls.listen = "127.0.0.1:0"
    /// # "#)?;
    /// # let bob = Phone::start(config.account(Some("bob"))?).await?;
    /// # bob.auto_answer(Some(CallOptions::silence()));
    /// # let bob_uri = format!("sip:bob@{};transport=udp", bob.listen().await?);
    /// # let mut phone = Phone::start(config.account(Some("alice"))?).await?;
    /// # let call = phone.dial(&bob_uri, CallOptions::default()).await?;
    /// # while !matches!(phone.next_event().await, Some(Event::CallAnswered { .. }) | None) {}
    /// phone.hold(call, true);
    /// loop {
    ///     if let Some(Event::CallHold { call: c, on_hold, refused }) = phone.next_event().await {
    ///         if c == call {
    ///             assert!(on_hold && refused.is_none());
    ///             break;
    ///         }
    ///     }
    /// }
    /// phone.hold(call, false); // resume
    /// # phone.shutdown().await;
    /// # bob.shutdown().await;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// # }).await?
    /// # }
    /// ```
    pub fn hold(&self, call: CallId, hold: bool) {
        self.act_unconfirmed(call, CallAction::Hold(hold));
    }

    /// Sends DTMF digits (RFC 4733 telephone-events: `0`–`9`, `*`, `#`, `A`–`D`) on an
    /// answered call, one after the other. Returns at once; the far end's digits show in
    /// [`MediaStats::dtmf_received`](crate::media::MediaStats::dtmf_received).
    ///
    /// ```no_run
    /// # use lockphone::ua::Phone;
    /// # fn demo(phone: Phone, call: lockphone::call::CallId) {
    /// phone.send_dtmf(call, "1234#");
    /// # }
    /// ```
    pub fn send_dtmf(&self, call: CallId, digits: &str) {
        self.act_unconfirmed(call, CallAction::Dtmf(digits.to_owned()));
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
    /// [`UaError::CallState`] when it is not an incoming call still ringing,
    /// [`UaError::AudioFile`] (the call still rings) when a play/record file is unusable.
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
        audio_files::check_audio_files(&options)?;
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

    /// [`Phone::act`] without waiting: the engine checks and runs `action` the same way and
    /// logs a refusal nobody is waiting for.
    fn act_unconfirmed(&self, call: CallId, action: CallAction) {
        let (reply, _) = oneshot::channel();
        let _ = self.commands.send(Command::Act {
            call,
            action,
            reply,
        });
    }

    /// Answers every incoming call automatically with these options (`None`, the default:
    /// incoming calls ring, with 180, until [`Phone::answer`] or [`Phone::reject`]).
    ///
    /// ```
    /// use lockphone::call::CallOptions;
    /// # use lockphone::ua::Phone;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let config = lockphone::config::Config::from_toml(r#"
    /// #     [[account]]
    /// #     name = "bob"
    /// #     aor = "sip:bob@127.0.0.1"
    /// #     transport = "udp"
    /// #     register = false
    /// # "#)?;
    /// # let phone = Phone::start(config.account(None)?).await?;
    /// // A headless answering machine: answer with silence, record every call.
    /// phone.auto_answer(Some(CallOptions::silence().record_to("/tmp/answered.wav")));
    /// assert!(phone.status().await?.auto_answer);
    /// phone.auto_answer(None); // ring again until answered
    /// assert!(!phone.status().await?.auto_answer);
    /// # phone.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub fn auto_answer(&self, options: Option<CallOptions>) {
        let _ = self.commands.send(Command::AutoAnswer(options));
    }

    /// Starts listening for direct incoming calls on the account's `calls.listen` address
    /// (with the account's transport; a TLS listener needs a certificate); returns the bound
    /// address, so port 0 picks a free one. Errors with [`UaError::Config`] when the account
    /// has no `calls.listen`.
    ///
    /// ```
    /// # use lockphone::ua::Phone;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let config = lockphone::config::Config::from_toml(r#"
    ///     [[account]]
    ///     name = "bob"
    ///     aor = "sip:bob@127.0.0.1"
    ///     transport = "udp"
    ///     register = false
    ///     [account.calls]
    ///     listen = "127.0.0.1:0"
    /// "#)?;
    /// let phone = Phone::start(config.account(None)?).await?;
    /// let addr = phone.listen().await?;
    /// assert!(addr.ip().is_loopback() && addr.port() != 0);
    /// println!("call me at sip:bob@{addr};transport=udp");
    /// # phone.shutdown().await;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn listen(&self) -> Result<std::net::SocketAddr, UaError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .send(Command::Listen { reply })
            .map_err(|_| UaError::Stopped)?;
        answer.await.map_err(|_| UaError::Stopped)?
    }

    /// The next event; `None` once the engine has stopped. Events are queued (unbounded)
    /// until read, so a slow reader loses none. Every [`Event`] serializes to one JSON object
    /// with an `event` tag, ready for a JSON-lines log:
    ///
    /// ```no_run
    /// # use lockphone::ua::{Event, Phone};
    /// # async fn demo(mut phone: Phone) -> Result<(), serde_json::Error> {
    /// while let Some(event) = phone.next_event().await {
    ///     println!("{}", serde_json::to_string(&event)?);
    ///     if let Event::CallEnded { summary, .. } = &event {
    ///         println!("verdict: {:?}", summary.verdict.as_ref().map(|v| v.level));
    ///     }
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn next_event(&mut self) -> Option<Event> {
        self.events.get_mut().recv().await
    }

    /// The next event, for a phone shared between tasks (in an `Arc`): one task reports
    /// while others act through `&self`. With several tasks waiting, each event goes to one.
    pub async fn next_event_shared(&self) -> Option<Event> {
        self.events.lock().await.recv().await
    }

    /// Un-registers if registered (waiting up to 5 s for the answer) and stops the engine;
    /// calls still up are ended. Returns once the engine has stopped (at most about 6 s).
    ///
    /// ```
    /// # use lockphone::ua::Phone;
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let config = lockphone::config::Config::from_toml(r#"
    /// #     [[account]]
    /// #     name = "alice"
    /// #     aor = "sip:alice@127.0.0.1"
    /// #     transport = "udp"
    /// #     register = false
    /// # "#)?;
    /// let phone = Phone::start(config.account(None)?).await?;
    /// phone.shutdown().await; // consumes the phone: nothing can use it afterwards
    /// # Ok(())
    /// # }
    /// ```
    pub async fn shutdown(self) {
        let _ = self.commands.send(Command::Shutdown);
        let _ = tokio::time::timeout(std::time::Duration::from_secs(6), self.engine).await;
    }
}
