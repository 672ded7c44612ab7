//! The REGISTER state machine (RFC 3261 §10), sans-IO.
//!
//! A [`Registration`] builds REGISTER requests (one Call-ID, increasing CSeq, stable From
//! tag, §10.2.4), answers 401/407 challenges through an [`Authenticator`] (once per challenge,
//! never in a loop: a wrong password fails once; `stale=true` is retried with the new nonce; a
//! rejected Bearer token is [`RegistrationEvent::TokenRejected`], answered once with
//! [`Registration::retry_with_credentials`]), follows 423 Interval Too Brief, learns the
//! lifetime the registrar granted (our contact's `expires`, else `Expires`), and refreshes
//! before it runs out ([`refresh_delay`]). Once registered, a lost connection, an unanswered
//! refresh or a 5xx is retried with a back-off of 1, 2, 4 … 60 s (at least the `Retry-After`);
//! if the binding runs out meanwhile, [`RegistrationEvent::Expired`] says so. Other final
//! refusals are [`RegistrationError`]s carrying the status and reason.
//!
//! The driver (the "thin loop") passes each [`Registration::poll_request`] to a new client
//! transaction, feeds its final response to [`Registration::handle_response`] and a timeout or
//! transport error to [`Registration::transaction_failed`], and calls
//! [`Registration::handle_timeout`] at [`Registration::poll_timeout`].
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

mod config;
mod error;
mod event;
mod refresh;
mod request;
#[cfg(test)]
mod tests;

pub use config::RegistrationConfig;
pub use error::RegistrationError;
pub use event::RegistrationEvent;
pub use refresh::refresh_delay;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;

use crate::auth::{AuthError, Authenticator, ChallengeOutcome, Credentials};
use crate::message::{Request, Response, StatusCode, Uri};
use refresh::Backoff;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Nothing sent yet, or unregistered.
    Idle,
    /// Asking for a binding we do not hold (yet, or any more).
    Registering,
    /// The registrar holds our binding (a refresh or retry may be under way).
    Registered,
    /// Removing the binding.
    Unregistering,
    /// The Bearer token was rejected; waiting for [`Registration::retry_with_credentials`].
    WaitingForToken,
    /// Given up; [`Registration::register`] starts again.
    Failed,
}

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
    /// When the binding runs out, while registered.
    registered_until: Option<Instant>,
    refresh_at: Option<Instant>,
    retry_at: Option<Instant>,
    backoff: Backoff,
    token_retry_used: bool,
    /// Set once registered: from then on, failures to reach the registrar are retried
    /// (with back-off) instead of ending the registration.
    keep_retrying: bool,
    /// REGISTERs decided but not yet polled: their CSeq and whether they remove the binding.
    /// Each is built when polled, so a contact updated in between (a new connection after a
    /// lost one) is the one it carries.
    pending: VecDeque<(u32, bool)>,
    events: VecDeque<RegistrationEvent>,
}

impl Registration {
    /// A registration that has not sent anything yet. `rng` makes the Call-ID, tags and
    /// digest cnonces (seed it from the OS in production, from a constant in tests).
    pub fn new(config: RegistrationConfig, authenticator: Authenticator, mut rng: StdRng) -> Self {
        let call_id = format!("{}@lockphone", crate::random::random_token(&mut rng, 24));
        let from_tag = crate::random::random_token(&mut rng, 12);
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
            backoff: Backoff::default(),
            token_retry_used: false,
            keep_retrying: false,
            pending: VecDeque::new(),
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

    /// Starts (or restarts) registering: a REGISTER is queued at once.
    pub fn register(&mut self, now: Instant) {
        let _ = now;
        self.retry_at = None;
        self.refresh_at = None;
        if self.state != State::Registered {
            self.state = State::Registering;
        }
        self.send(false);
    }

    /// Removes the binding (`expires=0` on our contact, `Expires: 0`); stops refreshing.
    pub fn unregister(&mut self, now: Instant) {
        let _ = now;
        self.retry_at = None;
        self.refresh_at = None;
        self.state = State::Unregistering;
        self.keep_retrying = false;
        self.send(true);
    }

    /// Our contact (and Via) changed, e.g. a new connection after a lost one. Takes effect
    /// with the next REGISTER polled, including one already decided (see
    /// [`has_request`](Self::has_request)).
    pub fn update_contact(&mut self, contact: Uri, via_sent_by: Option<String>) {
        self.config.contact = contact;
        self.config.via_sent_by = via_sent_by;
    }

    /// The connection to the registrar was lost: re-register after the back-off (1 s the
    /// first time, doubling to 60 s while it keeps failing).
    pub fn connection_lost(&mut self, now: Instant) {
        if matches!(self.state, State::Registered | State::Registering) {
            self.in_flight = None;
            self.schedule_retry(now, "connection to the registrar lost".to_owned(), None);
        }
    }

    /// The REGISTER in flight got no final response (timer F) or could not be sent. Once
    /// registered this is retried with back-off; before, it is
    /// [`RegistrationError::NoAnswer`].
    pub fn transaction_failed(&mut self, now: Instant) {
        if self.in_flight.take().is_none() {
            return;
        }
        match self.state {
            State::Registered | State::Registering if self.keep_retrying => {
                self.schedule_retry(now, "the registrar did not answer".to_owned(), None);
            }
            State::Unregistering => {
                self.state = State::Idle;
                self.events
                    .push_back(RegistrationEvent::Failed(RegistrationError::NoAnswer));
            }
            _ => self.fail(RegistrationError::NoAnswer),
        }
    }

    /// After [`RegistrationEvent::TokenRejected`]: retry once with fresh credentials. At
    /// other times it only replaces the credentials for the next REGISTER.
    pub fn retry_with_credentials(&mut self, now: Instant, credentials: Credentials) {
        self.authenticator.set_credentials(credentials);
        if self.state == State::WaitingForToken {
            self.register(now);
        }
    }

    /// Replaces the credentials (a refreshed or newly obtained OAuth token, say) and, once
    /// registering has started — registered, registering, waiting for a token or failed —
    /// sends a REGISTER with them at once, so the registrar sees the new token. Before
    /// [`register`](Self::register), or while un-registering, it only replaces them.
    pub fn renew_credentials(&mut self, now: Instant, credentials: Credentials) {
        self.authenticator.set_credentials(credentials);
        if !matches!(self.state, State::Idle | State::Unregistering) {
            self.register(now);
        }
    }

    /// Handles a response to one of our REGISTERs; provisional responses and answers to
    /// superseded requests (another CSeq) are ignored.
    pub fn handle_response(&mut self, now: Instant, response: &Response) {
        let Ok(cseq) = response.headers.cseq() else {
            return;
        };
        if Some(cseq.seq) != self.in_flight || response.status.is_provisional() {
            return;
        }
        self.in_flight = None;
        let status = response.status;
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::PROXY_AUTH_REQUIRED {
            self.on_challenge(response);
            return;
        }
        // Any other final answer means the credentials sent (if any) were accepted.
        self.authenticator.on_success();
        if status.is_success() {
            self.on_success(now, response);
        } else if status == StatusCode::INTERVAL_TOO_BRIEF {
            self.on_interval_too_brief(response);
        } else if status.0 >= 500 && self.keep_retrying {
            let reason = format!("registrar answered {} {}", status.0, response.reason);
            self.schedule_retry(now, reason, request::retry_after(response));
        } else {
            self.fail(RegistrationError::Refused {
                status: status.0,
                reason: response.reason.clone(),
            });
        }
    }

    /// Fires the timers due at `now`: the binding running out, the refresh, the retry.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == State::Registered && self.registered_until.is_some_and(|at| at <= now) {
            self.registered_until = None;
            self.state = State::Registering;
            self.events.push_back(RegistrationEvent::Expired);
        }
        if self.refresh_at.is_some_and(|at| at <= now) {
            self.refresh_at = None;
            // With a REGISTER already in flight, its answer schedules the next refresh.
            if self.in_flight.is_none() {
                self.send(false);
            }
        }
        if self.retry_at.is_some_and(|at| at <= now) {
            self.retry_at = None;
            if self.state != State::Registered {
                self.state = State::Registering;
            }
            self.send(false);
        }
    }

    /// Whether a REGISTER is waiting to be polled (so a driver can reconnect and
    /// [`update_contact`](Self::update_contact) before polling it).
    pub fn has_request(&self) -> bool {
        !self.pending.is_empty()
    }

    /// The next REGISTER to send as a new client transaction, built now from the current
    /// contact and credentials.
    pub fn poll_request(&mut self) -> Option<Request> {
        let (cseq, unregister) = self.pending.pop_front()?;
        let expires = if unregister { 0 } else { self.expires };
        let mut request = request::build_register(
            &self.config,
            &self.call_id,
            &self.from_tag,
            cseq,
            expires,
            &mut self.rng,
        );
        self.authenticator.authorize(&mut request, &mut self.rng);
        Some(request)
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<RegistrationEvent> {
        self.events.pop_front()
    }

    /// When [`handle_timeout`](Self::handle_timeout) should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let lapse = self
            .registered_until
            .filter(|_| self.state == State::Registered);
        [self.refresh_at, self.retry_at, lapse]
            .into_iter()
            .flatten()
            .min()
    }

    fn send(&mut self, unregister: bool) {
        self.cseq = self.cseq.wrapping_add(1);
        self.in_flight = Some(self.cseq);
        self.in_flight_unregister = unregister;
        self.pending.push_back((self.cseq, unregister));
    }

    fn on_success(&mut self, now: Instant, response: &Response) {
        self.backoff.reset();
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
        let after = refresh_delay(lifetime, self.config.refresh_margin);
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
            Err(AuthError::InvalidToken { description }) if !self.token_retry_used => {
                self.token_retry_used = true;
                self.state = State::WaitingForToken;
                self.refresh_at = None;
                self.retry_at = None;
                self.events
                    .push_back(RegistrationEvent::TokenRejected { description });
            }
            Err(error) => self.fail(RegistrationError::Auth(error)),
        }
    }

    fn on_interval_too_brief(&mut self, response: &Response) {
        match request::min_expires(response) {
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

    fn schedule_retry(&mut self, now: Instant, reason: String, server_asked: Option<Duration>) {
        let after = self.backoff.next_delay(server_asked);
        self.refresh_at = None;
        self.retry_at = Some(now + after);
        self.events
            .push_back(RegistrationEvent::Retrying { after, reason });
    }

    fn fail(&mut self, error: RegistrationError) {
        self.state = State::Failed;
        self.refresh_at = None;
        self.retry_at = None;
        self.registered_until = None;
        self.events.push_back(RegistrationEvent::Failed(error));
    }
}
