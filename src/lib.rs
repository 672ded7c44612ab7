//! Lockphone: a secure SIP softphone, as a library.
//!
//! The user agent on top of [`lockphone_sip`] (sans-IO SIP) and [`lockphone_media`] (the
//! media engine): accounts and their configuration, TLS with strict verification, the tokio
//! transport drivers, registration, calls with SDES-SRTP, an honest security [`Verdict`] per
//! call, and the `lockphone` command. The `lockphone` command, its `daemon` and its terminal
//! UI are built on the public API below and nothing else.
//!
//! # The main types
//!
//! | What | Type |
//! |------|------|
//! | The configuration file (TOML, every account) | [`Config`]: [`Config::load`], [`Config::from_toml`], [`Config::account`] |
//! | One account's settings | [`AccountConfig`] (with [`CallsConfig`], [`TlsConfig`], [`AuthConfig`]) |
//! | A running user agent for one account | [`Phone`]: [`Phone::start`], [`Phone::register`], [`Phone::dial`], [`Phone::answer`], [`Phone::hangup`], [`Phone::next_event`], [`Phone::shutdown`] |
//! | What a call plays and records | [`CallOptions`] (with [`AudioIn`] and [`AudioOut`]) |
//! | A call's identifier | [`CallId`] |
//! | What the phone reports | [`Event`] (serializes to JSON with an `event` tag) |
//! | A call's security | [`Verdict`]: a [`SecurityLevel`] and the reasons it is not better |
//! | A call's outcome | [`CallSummary`] in [`Event::CallEnded`], with its [`MediaReport`] / [`MediaStats`] |
//! | A snapshot of everything | [`PhoneStatus`] from [`Phone::status`] |
//! | Why something failed | [`UaError`], [`ConfigError`] |
//! | The server certificate is not trusted yet | [`Event::TrustDecisionRequired`], answered with [`Phone::decide_trust`] and a [`TrustDecision`] |
//! | Contacts (config file and LDAP) | [`contacts::Directory`], [`contacts::Contact`] |
//! | The JSON-lines control protocol and daemon | [`control::parse_request`], [`control::execute`], [`control::Command`], [`control::ServerMessage`], [`daemon::run`] |
//!
//! A [`Phone`] is driven by methods that return at once (or after the engine has checked
//! the request) and reports everything else as a stream of [`Event`]s read with
//! [`Phone::next_event`] (or [`Phone::next_event_shared`] when the phone is shared in an
//! `Arc`). Nothing a call does is hidden from that stream: ringing, answer, each verdict
//! change, downgrade alarms, statistics every second, and the summary at the end.
//!
//! # Placing a secure call
//!
//! Load the configuration, start the phone of an account, register, call, and read events
//! until the call has ended; then print its verdict. (Not run here: it needs the servers of
//! `lockphone.toml`. The runnable example below needs none.)
//!
//! ```no_run
//! use lockphone::call::CallOptions;
//! use lockphone::config::Config;
//! use lockphone::ua::{Event, Phone};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let config = Config::load("lockphone.toml".as_ref())?;
//! let account = config.account(Some("alice"))?; // `None`: the first account
//! let mut phone = Phone::start(account).await?;
//!
//! phone.register();
//! loop {
//!     match phone.next_event().await {
//!         Some(Event::Registered { expires_secs, .. }) => {
//!             println!("registered for {expires_secs} s");
//!             break;
//!         }
//!         Some(Event::RegistrationFailed { kind, reason }) => {
//!             return Err(format!("registration failed ({kind:?}): {reason}").into());
//!         }
//!         Some(_) => {}
//!         None => return Err("the user agent stopped".into()),
//!     }
//! }
//!
//! let call = phone.dial("sips:bob@example.com", CallOptions::tone(440.0)).await?;
//! while let Some(event) = phone.next_event().await {
//!     match event {
//!         // Every change of the call's security, with its reasons.
//!         Event::CallSecurity { call: c, verdict } if c == call => println!("now: {verdict}"),
//!         // Hang up after ten seconds of conversation.
//!         Event::CallStats { call: c, stats } if c == call && stats.elapsed_ms > 10_000.0 => {
//!             phone.hangup(call);
//!         }
//!         Event::CallEnded { call: c, summary } if c == call => {
//!             match &summary.verdict {
//!                 Some(verdict) => {
//!                     println!("final verdict: {} (padlock: {})", verdict.level, verdict.lock);
//!                     for reason in &verdict.reasons {
//!                         println!("  because {reason}");
//!                     }
//!                 }
//!                 None => println!("not answered: {}", summary.end_reason),
//!             }
//!             break;
//!         }
//!         _ => {}
//!     }
//! }
//! phone.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! # A whole call, runnable
//!
//! Two phones on the loopback interface, no server: Bob listens for direct calls and answers
//! automatically, Alice calls him. The call runs over UDP with plain RTP, so the verdict is
//! honest about it: `Not secure`, with the reasons.
//!
//! ```
//! use lockphone::call::CallOptions;
//! use lockphone::config::Config;
//! use lockphone::ua::{Event, Phone};
//! use lockphone::verdict::SecurityLevel;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # tokio::time::timeout(std::time::Duration::from_secs(30), async {
//! let config = Config::from_toml(r#"
//!     [[account]]
//!     name = "alice"
//!     aor = "sip:alice@127.0.0.1"
//!     transport = "udp"
//!     register = false
//!     [account.calls]
//!     srtp = "off"
//!
//!     [[account]]
//!     name = "bob"
//!     aor = "sip:bob@127.0.0.1"
//!     transport = "udp"
//!     register = false
//!     [account.calls]
//!     srtp = "off"
//!     listen = "127.0.0.1:0"
//! "#)?;
//! let bob = Phone::start(config.account(Some("bob"))?).await?;
//! bob.auto_answer(Some(CallOptions::silence()));
//! let bob_addr = bob.listen().await?;
//!
//! let mut alice = Phone::start(config.account(Some("alice"))?).await?;
//! let call = alice
//!     .dial(&format!("sip:bob@{bob_addr};transport=udp"), CallOptions::tone(440.0))
//!     .await?;
//! let summary = loop {
//!     match alice.next_event().await.ok_or("alice stopped")? {
//!         Event::CallAnswered { call: c, codec, .. } if c == call => {
//!             println!("answered, {codec}");
//!             alice.hangup(call);
//!         }
//!         Event::CallEnded { call: c, summary } if c == call => break summary,
//!         _ => {}
//!     }
//! };
//! let verdict = summary.verdict.as_ref().ok_or("the call was not answered")?;
//! assert_eq!(verdict.level, SecurityLevel::NotSecure);
//! assert!(!verdict.lock);
//! assert!(!verdict.reasons.is_empty());
//! println!("{verdict}");
//! alice.shutdown().await;
//! bob.shutdown().await;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).await?
//! # }
//! ```
//!
//! # Modules
//!
//! - [`config`]: the configuration file; [`ua`]: the [`Phone`] and its [`Event`]s;
//!   [`call`]: [`CallId`], [`CallOptions`], [`CallSummary`]; [`verdict`]: the security
//!   verdict; [`media`]: a call's audio session, [`AudioIn`]/[`AudioOut`], statistics.
//! - [`trust`]: trust decisions and the "Always trust" store; [`tls`]: TLS configurations
//!   and what a connection established ([`tls::ConnectionSecurity`]); [`oauth`]: OAuth
//!   login and tokens; [`capf`]: Cisco CAPF certificate enrollment.
//! - [`contacts`]: contacts from the file and LDAP; [`control`] and [`daemon`]: the
//!   JSON-lines control API (`docs/control-api.md`).
//! - [`transport`]: the SIP transport drivers (most integrators only meet its
//!   [`transport::TransportError`] inside [`UaError`]); [`redact`], [`user_files`]: helpers
//!   for logs and private files.
//! - [`lockphone_sip`] and [`lockphone_media`] are re-exported: some of their types appear in
//!   this API (the negotiated codec in [`MediaStats`], the transport in
//!   [`tls::ConnectionSecurity`], the SRTP suites in [`CallsConfig`]).
//!
//! [`Config`]: config::Config
//! [`Config::load`]: config::Config::load
//! [`Config::from_toml`]: config::Config::from_toml
//! [`Config::account`]: config::Config::account
//! [`ConfigError`]: config::ConfigError
//! [`AccountConfig`]: config::AccountConfig
//! [`CallsConfig`]: config::CallsConfig
//! [`TlsConfig`]: config::TlsConfig
//! [`AuthConfig`]: config::AuthConfig
//! [`Phone`]: ua::Phone
//! [`Phone::start`]: ua::Phone::start
//! [`Phone::register`]: ua::Phone::register
//! [`Phone::dial`]: ua::Phone::dial
//! [`Phone::answer`]: ua::Phone::answer
//! [`Phone::hangup`]: ua::Phone::hangup
//! [`Phone::next_event`]: ua::Phone::next_event
//! [`Phone::next_event_shared`]: ua::Phone::next_event_shared
//! [`Phone::shutdown`]: ua::Phone::shutdown
//! [`Phone::status`]: ua::Phone::status
//! [`Phone::decide_trust`]: ua::Phone::decide_trust
//! [`PhoneStatus`]: ua::PhoneStatus
//! [`UaError`]: ua::UaError
//! [`Event`]: ua::Event
//! [`Event::CallEnded`]: ua::Event::CallEnded
//! [`Event::TrustDecisionRequired`]: ua::Event::TrustDecisionRequired
//! [`CallOptions`]: call::CallOptions
//! [`CallId`]: call::CallId
//! [`CallSummary`]: call::CallSummary
//! [`AudioIn`]: media::AudioIn
//! [`AudioOut`]: media::AudioOut
//! [`MediaStats`]: media::MediaStats
//! [`MediaReport`]: media::MediaReport
//! [`Verdict`]: verdict::Verdict
//! [`SecurityLevel`]: verdict::SecurityLevel
//! [`TrustDecision`]: trust::TrustDecision
#![forbid(unsafe_code)]
#![deny(rustdoc::broken_intra_doc_links)]
#![warn(rustdoc::private_intra_doc_links, rustdoc::bare_urls)]

/// The media engine this crate is built on, re-exported so that the types of it in this API
/// (`Codec`, `StatsSnapshot`, impairment specs…) can be named without a separate dependency
/// of a matching version.
pub use lockphone_media;
/// The SIP core this crate is built on, re-exported so that the types of it in this API
/// (`Transport`, `Uri`, `SdesSuite`, `AudioCodec`…) can be named without a separate
/// dependency of a matching version.
pub use lockphone_sip;

pub mod call;
pub mod capf;
pub mod config;
pub mod contacts;
pub mod control;
pub mod daemon;
pub mod harness;
mod http1;
pub mod media;
pub mod oauth;
pub mod redact;
pub mod tls;
pub mod transport;
pub mod trust;
pub mod tui;
pub mod ua;
pub mod user_files;
pub mod verdict;
