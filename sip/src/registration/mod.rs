//! The REGISTER state machine (RFC 3261 §10), sans-IO.
//!
//! A [`Registration`] builds REGISTER requests (one Call-ID, increasing CSeq, stable From
//! tag), answers 401/407 challenges through an [`Authenticator`] (once per challenge, never in
//! a loop), follows 423 Interval Too Brief, learns the lifetime the registrar granted, and
//! refreshes before it runs out. After a lost connection or an unanswered refresh it
//! re-registers with a growing back-off. The driver passes each [`Registration::poll_request`]
//! to a client transaction and feeds the final responses back.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use lockphone_sip::auth::{Authenticator, Credentials};
//! use lockphone_sip::message::{Message, Response, StatusCode, Transport};
//! use lockphone_sip::registration::{Registration, RegistrationConfig, RegistrationEvent};
//! use rand::SeedableRng;
//! # #[allow(clippy::disallowed_methods)] fn base() -> Instant { Instant::now() }
//!
//! let config = RegistrationConfig::new(
//!     "sip:example.test".parse().unwrap(),
//!     "sip:alice@example.test".parse().unwrap(),
//!     "sip:alice@192.0.2.10:5061;transport=tls".parse().unwrap(),
//!     Transport::Tls,
//! );
//! let rng = rand::rngs::StdRng::seed_from_u64(7);
//! let mut registration = Registration::new(config, Authenticator::new(Credentials::None), rng);
//! let now = base();
//! registration.register(now);
//! let request = registration.poll_request().unwrap();
//! let ok = Response::for_request(&request, StatusCode::OK, None);
//! registration.handle_response(now, &ok);
//! assert!(matches!(registration.poll_event(), Some(RegistrationEvent::Registered { .. })));
//! assert!(registration.is_registered());
//! ```

mod error;
mod request;
#[cfg(test)]
mod tests;

pub use error::RegistrationError;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;

use crate::auth::{AuthError, Authenticator, ChallengeOutcome, Credentials};
use crate::message::{Request, Response, StatusCode, Transport, Uri};

/// What a registration is configured with.
#[derive(Debug, Clone)]
pub struct RegistrationConfig {
    /// The Request-URI: the registrar's domain (`sip:example.test`).
    pub registrar: Uri,
    /// The address of record, put in From and To.
    pub aor: Uri,
    /// Our contact address.
    pub contact: Uri,
    /// The transport named in `Via`.
    pub transport: Transport,
    /// The `Via` sent-by (host[:port]); defaults to the contact's host and port.
    pub via_sent_by: Option<String>,
    /// The lifetime asked for (seconds).
    pub expires: u32,
    /// The display name in `From`.
    pub display_name: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// An RFC 5626 instance ID (`urn:uuid:…`) put in `+sip.instance` on the contact.
    pub instance_id: Option<String>,
}

impl RegistrationConfig {
    /// A configuration asking for 3600 s, the RFC 3261 default.
    pub fn new(registrar: Uri, aor: Uri, contact: Uri, transport: Transport) -> RegistrationConfig {
        RegistrationConfig {
            registrar,
            aor,
            contact,
            transport,
            via_sent_by: None,
            expires: 3600,
            display_name: None,
            user_agent: None,
            instance_id: None,
        }
    }
}

/// What a registration reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RegistrationEvent {
    /// The registrar accepted the binding for this long.
    Registered {
        /// The lifetime granted.
        expires: Duration,
        /// Our contact as the registrar holds it.
        contact: String,
    },
    /// The next refresh is due after this delay.
    RefreshScheduled {
        /// Delay until the refresh REGISTER.
        after: Duration,
    },
    /// The binding was removed.
    Unregistered,
    /// The registrar rejected the Bearer token (`error="invalid_token"`): obtain a new one and
    /// call [`Registration::retry_with_credentials`] once.
    TokenRejected {
        /// The registrar's `error_description`.
        description: Option<String>,
    },
    /// A REGISTER will be retried after this delay (lost connection, no answer, 5xx).
    Retrying {
        /// Delay until the retry.
        after: Duration,
        /// What went wrong.
        reason: String,
    },
    /// Registration failed and will not be retried by itself.
    Failed(RegistrationError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    Registering,
    Registered,
    Unregistering,
    WaitingForToken,
    Failed,
}

/// The first delay of the retry back-off; it doubles up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_secs(1);
/// The longest delay between retries.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// One account's registration. See the [module docs](self).
#[derive(Debug)]
pub struct Registration {
    config: RegistrationConfig,
    authenticator: Authenticator,
    rng: StdRng,
    call_id: String,
    from_tag: String,
    cseq: u32,
    state: State,
    /// The CSeq of the REGISTER in flight, if any.
    in_flight: Option<u32>,
    /// Whether the request in flight removes the binding.
    in_flight_unregister: bool,
    /// The lifetime asked for next (raised by 423).
    expires: u32,
    /// When the binding runs out, once registered.
    registered_until: Option<Instant>,
    refresh_at: Option<Instant>,
    retry_at: Option<Instant>,
    backoff: Duration,
    token_retry_used: bool,
    /// Set once registered: from then on, failures to reach the registrar are retried
    /// (with back-off) instead of ending the registration.
    keep_retrying: bool,
    requests: VecDeque<Request>,
    events: VecDeque<RegistrationEvent>,
}

impl Registration {
    /// A registration that has not sent anything yet. `rng` makes the Call-ID, tags and
    /// digest cnonces (seed it from the OS in production, from a constant in tests).
    pub fn new(config: RegistrationConfig, authenticator: Authenticator, mut rng: StdRng) -> Self {
        let call_id = format!("{}@lockphone", request::random_token(&mut rng, 24));
        let from_tag = request::random_token(&mut rng, 12);
        let expires = config.expires;
        Registration {
            config,
            authenticator,
            rng,
            call_id,
            from_tag,
            cseq: 0,
            state: State::Idle,
            in_flight: None,
            in_flight_unregister: false,
            expires,
            registered_until: None,
            refresh_at: None,
            retry_at: None,
            backoff: FIRST_BACKOFF,
            token_retry_used: false,
            keep_retrying: false,
            requests: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Whether the registrar currently holds our binding.
    pub fn is_registered(&self) -> bool {
        self.state == State::Registered
    }

    /// The Call-ID used for every REGISTER of this registration.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Starts (or restarts) registering.
    pub fn register(&mut self, now: Instant) {
        let _ = now;
        self.retry_at = None;
        self.refresh_at = None;
        self.state = State::Registering;
        self.send(false);
    }

    /// Removes the binding (`expires=0` on our contact).
    pub fn unregister(&mut self, now: Instant) {
        let _ = now;
        self.retry_at = None;
        self.refresh_at = None;
        self.state = State::Unregistering;
        self.keep_retrying = false;
        self.send(true);
    }

    /// Our contact (and Via) changed, e.g. a new connection after a lost one. Takes effect
    /// with the next REGISTER.
    pub fn update_contact(&mut self, contact: Uri, via_sent_by: Option<String>) {
        self.config.contact = contact;
        self.config.via_sent_by = via_sent_by;
    }

    /// The connection to the registrar was lost: re-register after the back-off.
    pub fn connection_lost(&mut self, now: Instant) {
        if matches!(self.state, State::Registered | State::Registering) {
            self.in_flight = None;
            self.schedule_retry(now, "connection to the registrar lost".to_owned());
        }
    }

    /// The REGISTER in flight got no final response (timer F) or could not be sent.
    pub fn transaction_failed(&mut self, now: Instant) {
        if self.in_flight.take().is_none() {
            return;
        }
        match self.state {
            State::Registered | State::Registering if self.keep_retrying => {
                self.schedule_retry(now, "the registrar did not answer".to_owned());
            }
            State::Unregistering => {
                self.state = State::Idle;
                self.events
                    .push_back(RegistrationEvent::Failed(RegistrationError::NoAnswer));
            }
            _ => self.fail(RegistrationError::NoAnswer),
        }
    }

    /// After [`RegistrationEvent::TokenRejected`]: retry once with fresh credentials.
    pub fn retry_with_credentials(&mut self, now: Instant, credentials: Credentials) {
        self.authenticator.set_credentials(credentials);
        if self.state == State::WaitingForToken {
            self.register(now);
        }
    }

    /// Handles the response to one of our REGISTERs (others are ignored).
    pub fn handle_response(&mut self, now: Instant, response: &Response) {
        let Ok(cseq) = response.headers.cseq() else {
            return;
        };
        if Some(cseq.seq) != self.in_flight || response.status.is_provisional() {
            return;
        }
        self.in_flight = None;
        let status = response.status;
        if status.is_success() {
            self.on_success(now, response);
        } else if status == StatusCode::UNAUTHORIZED || status == StatusCode::PROXY_AUTH_REQUIRED {
            self.on_challenge(response);
        } else if status == StatusCode::INTERVAL_TOO_BRIEF {
            self.on_interval_too_brief(response);
        } else if status.0 >= 500 && self.keep_retrying {
            self.schedule_retry(
                now,
                format!("registrar answered {} {}", status.0, response.reason),
            );
        } else {
            self.fail(RegistrationError::Refused {
                status: status.0,
                reason: response.reason.clone(),
            });
        }
    }

    /// Fires the refresh or retry timer when due.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.refresh_at.is_some_and(|at| now >= at) {
            self.refresh_at = None;
            if self.in_flight.is_none() {
                self.send(false);
            }
        }
        if self.retry_at.is_some_and(|at| now >= at) {
            self.retry_at = None;
            self.state = State::Registering;
            self.send(false);
        }
    }

    /// The next REGISTER to send as a new client transaction.
    pub fn poll_request(&mut self) -> Option<Request> {
        self.requests.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<RegistrationEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        [self.refresh_at, self.retry_at].into_iter().flatten().min()
    }

    fn send(&mut self, unregister: bool) {
        self.cseq += 1;
        let expires = if unregister { 0 } else { self.expires };
        let mut request = request::build_register(
            &self.config,
            &self.call_id,
            &self.from_tag,
            self.cseq,
            expires,
            &mut self.rng,
        );
        self.authenticator.authorize(&mut request, &mut self.rng);
        self.in_flight = Some(self.cseq);
        self.in_flight_unregister = unregister;
        self.requests.push_back(request);
    }

    fn on_success(&mut self, now: Instant, response: &Response) {
        self.authenticator.on_success();
        self.backoff = FIRST_BACKOFF;
        self.token_retry_used = false;
        if self.in_flight_unregister {
            self.state = State::Idle;
            self.registered_until = None;
            self.events.push_back(RegistrationEvent::Unregistered);
            return;
        }
        let granted =
            request::granted_expires(response, &self.config.contact).unwrap_or(self.expires);
        if granted == 0 {
            self.fail(RegistrationError::NotBound);
            return;
        }
        let lifetime = Duration::from_secs(u64::from(granted));
        self.state = State::Registered;
        self.keep_retrying = true;
        self.registered_until = Some(now + lifetime);
        let after = refresh_delay(lifetime);
        self.refresh_at = Some(now + after);
        self.events.push_back(RegistrationEvent::Registered {
            expires: lifetime,
            contact: self.config.contact.to_string(),
        });
        self.events
            .push_back(RegistrationEvent::RefreshScheduled { after });
    }

    fn on_challenge(&mut self, response: &Response) {
        match self.authenticator.on_challenge(response) {
            Ok(ChallengeOutcome::Retry) => {
                let unregister = self.in_flight_unregister;
                self.send(unregister);
            }
            Err(AuthError::InvalidToken { description }) => {
                if self.token_retry_used {
                    self.fail(RegistrationError::Auth(AuthError::InvalidToken {
                        description,
                    }));
                } else {
                    self.token_retry_used = true;
                    self.state = State::WaitingForToken;
                    self.events
                        .push_back(RegistrationEvent::TokenRejected { description });
                }
            }
            Err(error) => self.fail(RegistrationError::Auth(error)),
        }
    }

    fn on_interval_too_brief(&mut self, response: &Response) {
        let min = response
            .headers
            .get(&crate::message::HeaderName::MinExpires)
            .and_then(|v| v.trim().parse::<u32>().ok());
        match min {
            Some(min) if min > self.expires => {
                self.expires = min;
                self.send(false);
            }
            _ => self.fail(RegistrationError::Refused {
                status: response.status.0,
                reason: "Interval Too Brief without a larger Min-Expires".to_owned(),
            }),
        }
    }

    fn schedule_retry(&mut self, now: Instant, reason: String) {
        let after = self.backoff;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
        self.refresh_at = None;
        self.retry_at = Some(now + after);
        self.events
            .push_back(RegistrationEvent::Retrying { after, reason });
    }

    fn fail(&mut self, error: RegistrationError) {
        self.state = State::Failed;
        self.refresh_at = None;
        self.retry_at = None;
        self.events.push_back(RegistrationEvent::Failed(error));
    }
}

/// When to refresh a binding of `lifetime`: at 80 % of it or 30 s before it ends, whichever
/// is earlier, but never before half of it has passed.
pub fn refresh_delay(lifetime: Duration) -> Duration {
    let eighty = lifetime.mul_f64(0.8);
    let margin = lifetime.saturating_sub(Duration::from_secs(30));
    eighty.min(margin).max(lifetime / 2)
}
