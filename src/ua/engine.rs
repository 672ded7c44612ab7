//! The engine: one tokio task per account, the "thin loop" around the sans-IO cores.
//!
//! After any input — a message or connection event from the transport, a command from the
//! [`Phone`](super::Phone), or a timer — it drains every `poll_*` of the transaction layer and
//! the registration, sends what they produced, and sleeps until the earliest `poll_timeout`.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lockphone_sip::auth::Authenticator;
use lockphone_sip::message::{
    HeaderName, Host, Message, Method, Param, Request, Response, StatusCode, Uri,
};
use lockphone_sip::registration::{Registration, RegistrationConfig, RegistrationEvent};
use lockphone_sip::transaction::{TimerConfig, TransactionEvent, TransactionId, TransactionLayer};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::calls::Calls;
use super::event::{Event, FailureKind};
use super::status::RegistrationStatus;
use super::{Command, UaError, setup};
use crate::config::AccountConfig;
use crate::oauth::session::{OAuthSession, TokenUpdate};
use crate::tls::{CertificateSummary, ConnectionSecurity, TlsError};
use crate::transport::{ConnectionId, Target, TransportError, TransportEvent, TransportLayer};
use crate::trust::TrustDecision;

/// Where a message goes: a target, and for responses the connection the request came on.
#[derive(Debug, Clone)]
pub(super) struct Route {
    pub(super) target: Target,
    pub(super) connection: Option<ConnectionId>,
    /// For a received request: what its connection established, and our address on it.
    pub(super) arrival: Option<(Arc<ConnectionSecurity>, SocketAddr)>,
}

/// What the engine owns.
pub(super) struct Engine {
    pub(super) account: AccountConfig,
    pub(super) aor: Uri,
    pub(super) registrar_uri: Uri,
    pub(super) target: Target,
    pub(super) transport: TransportLayer,
    transport_events: mpsc::UnboundedReceiver<TransportEvent>,
    events: mpsc::UnboundedSender<Event>,
    pub(super) transactions: TransactionLayer<Route>,
    pub(super) calls: Calls,
    /// The account's credentials, for the calls' own authenticators.
    pub(super) credentials: lockphone_sip::auth::Credentials,
    /// Where we listen for direct incoming calls, once listening.
    pub(super) listen_addr: Option<SocketAddr>,
    /// When live call statistics are published next.
    stats_at: Option<std::time::Instant>,
    registration: Option<Registration>,
    registration_transactions: HashSet<TransactionId>,
    authenticator: Option<Authenticator>,
    /// The OAuth token agent of an `method = "oauth"` account.
    pub(super) oauth: Option<OAuthSession>,
    pub(super) rng: StdRng,
    /// The local address of the registrar connection the current contact was built for.
    local: Option<SocketAddr>,
    /// The registration as reported (for [`Phone::status`](super::Phone::status)), kept by
    /// [`Engine::emit_registration`].
    registration_status: RegistrationStatus,
    /// Registrar servers whose certificate waits for the user's decision (by lower-case
    /// name): the registration is paused, not retried, until `decide_trust`.
    awaiting_trust: HashMap<String, CertificateSummary>,
    shutting_down: bool,
    stop: bool,
    /// Stop at this time (a short linger after a shutdown with nothing to un-register).
    stop_at: Option<std::time::Instant>,
}

impl Engine {
    /// Prepares the engine of `account` (TLS configuration, credentials, registrar address).
    pub(super) async fn new(
        account: &AccountConfig,
        events: mpsc::UnboundedSender<Event>,
    ) -> Result<Engine, UaError> {
        account.validate()?;
        let aor = account.aor_uri()?;
        let registrar_uri = account.registrar_uri()?;
        let (oauth, credentials) =
            match OAuthSession::start(account).map_err(|e| UaError::Config(e.to_string()))? {
                Some((session, credentials)) => (Some(session), credentials),
                None => (None, setup::credentials(account, &aor)?),
            };
        let client_tls = setup::client_tls(account)?;
        let target = setup::registrar_target(account, &registrar_uri).await?;
        let (transport, transport_events) = TransportLayer::new(client_tls, account.keepalive());
        Ok(Engine {
            account: account.clone(),
            aor,
            registrar_uri,
            target,
            transport,
            transport_events,
            events,
            transactions: TransactionLayer::new(TimerConfig::default()),
            registration: None,
            registration_transactions: HashSet::new(),
            authenticator: Some(Authenticator::new(credentials.clone())),
            credentials,
            oauth,
            calls: Calls::default(),
            listen_addr: None,
            stats_at: None,
            rng: StdRng::from_os_rng(),
            local: None,
            registration_status: RegistrationStatus::default(),
            awaiting_trust: HashMap::new(),
            shutting_down: false,
            stop: false,
            stop_at: None,
        })
    }

    /// Runs until shut down or the phone is dropped.
    pub(super) async fn run(mut self, mut commands: mpsc::UnboundedReceiver<Command>) {
        while !self.stop {
            let wake = self.next_wake();
            tokio::select! {
                command = commands.recv() => match command {
                    Some(command) => self.handle_command(command).await,
                    None => self.stop = true,
                },
                Some(event) = self.transport_events.recv() => self.handle_transport(event),
                () = sleep_until(wake) => self.handle_timeout(),
                update = OAuthSession::next_update(&mut self.oauth) => self.apply_token(update),
            }
            self.drain().await;
        }
        // A last response (e.g. the 488 that ended the last call) may still be queued.
        self.transport.flush(Duration::from_secs(1)).await;
    }

    pub(super) fn now() -> std::time::Instant {
        Instant::now().into_std()
    }

    /// Reports `event` to the [`Phone`](super::Phone); a registration event goes through
    /// [`Engine::emit_registration`] instead.
    pub(super) fn emit(&self, event: Event) {
        debug_assert!(
            !RegistrationStatus::default().observe(&event),
            "a registration event is emitted with emit_registration"
        );
        let _ = self.events.send(event);
    }

    /// Reports a registration event, and keeps the registration status it tells.
    fn emit_registration(&mut self, event: Event) {
        self.registration_status.observe(&event);
        let _ = self.events.send(event);
    }

    /// What the registration came to, as the events told it.
    pub(super) fn registration_status(&self) -> RegistrationStatus {
        RegistrationStatus {
            registrar: self.registrar_uri.to_string(),
            ..self.registration_status.clone()
        }
    }

    fn next_wake(&self) -> Option<std::time::Instant> {
        let t = self.transactions.poll_timeout();
        let r = self
            .registration
            .as_ref()
            .and_then(Registration::poll_timeout);
        [t, r, self.next_call_timeout(), self.stats_at, self.stop_at]
            .into_iter()
            .flatten()
            .min()
    }

    async fn handle_command(&mut self, command: Command) {
        match command {
            Command::Register => self.register().await,
            Command::TrustDecided { server, decision } => {
                self.trust_decided(&server, decision).await;
            }
            Command::Unregister => {
                if let Some(registration) = &mut self.registration {
                    registration.unregister(Engine::now());
                }
            }
            Command::Dial {
                uri,
                options,
                reply,
            } => {
                let result = self.dial(&uri, options).await;
                if result.is_ok() && self.stats_at.is_none() {
                    self.stats_at = Some(Engine::now() + STATS_INTERVAL);
                }
                let _ = reply.send(result);
            }
            Command::AutoAnswer(options) => self.calls.auto_answer = options,
            Command::Act {
                call,
                action,
                reply,
            } => {
                // Nobody waits for the answer of a fire-and-forget hangup, hold or DTMF.
                if let Err(Err(e)) = reply.send(self.act(call, action)) {
                    tracing::info!(error = %e, "call action not done");
                }
            }
            Command::Status { reply } => {
                let _ = reply.send(self.status());
            }
            Command::Listen { reply } => {
                let result = self.listen().await;
                let _ = reply.send(result);
            }
            Command::Shutdown => {
                self.shutting_down = true;
                let calls: Vec<_> = self.calls.active.keys().copied().collect();
                for call in calls {
                    self.hangup(call);
                }
                match &mut self.registration {
                    Some(registration) if registration.is_registered() => {
                        registration.unregister(Engine::now());
                    }
                    // Linger briefly so that the last answers and ACKs (to a 488 we just
                    // sent, to our BYE) still cross before the connections close.
                    _ => self.stop_at = Some(Engine::now() + SHUTDOWN_LINGER),
                }
            }
        }
    }

    /// Connects to the registrar and (re-)registers; a certificate waiting for the user's
    /// decision pauses it (no failure, no retry) until [`Engine::trust_decided`].
    async fn register(&mut self) {
        if let Err(failure) = self.connect_registrar().await {
            if !self.awaiting_registrar_trust() {
                self.emit_registration(failure);
            }
            return;
        }
        if let Some(registration) = &mut self.registration {
            registration.register(Engine::now());
        }
    }

    /// The registrar's server identity (what its certificate is checked against).
    fn registrar_server(&self) -> String {
        server_identity(&self.target)
    }

    fn awaiting_registrar_trust(&self) -> bool {
        self.awaiting_trust
            .contains_key(&self.registrar_server().to_ascii_lowercase())
    }

    /// The user decided about `server`'s certificate (already applied to the verifier by
    /// [`Phone::decide_trust`](super::Phone::decide_trust)): resume or fail the paused
    /// registration.
    async fn trust_decided(&mut self, server: &str, decision: TrustDecision) {
        let Some(certificate) = self.awaiting_trust.remove(&server.to_ascii_lowercase()) else {
            return;
        };
        match decision {
            TrustDecision::AlwaysTrust | TrustDecision::Continue => self.register().await,
            TrustDecision::Cancel => {
                // Nothing retries a refused server: register again to be asked again.
                self.registration = None;
                self.local = None;
                self.emit_registration(Event::RegistrationFailed {
                    kind: FailureKind::Tls,
                    reason: format!(
                        "the certificate of {server} was not trusted (decision: cancel; sha256 {}; {}): not connected",
                        certificate.sha256, certificate.reason
                    ),
                });
            }
        }
    }

    /// Connects to the registrar and makes sure the registration's contact names this
    /// connection's local address (a new connection after a lost one has a new port).
    async fn connect_registrar(&mut self) -> Result<(), Event> {
        if self.registration.is_none() {
            self.emit_registration(Event::Registering {
                registrar: self.registrar_uri.to_string(),
                aor: self.aor.to_string(),
            });
        }
        if self.awaiting_registrar_trust() {
            return Err(Event::RegistrationFailed {
                kind: FailureKind::Tls,
                reason: format!(
                    "waiting for a trust decision about the certificate of {}",
                    self.registrar_server()
                ),
            });
        }
        let info = match self.transport.connect(&self.target).await {
            Ok(info) => info,
            Err(error) => {
                if let Some(certificate) = self.announce_trust_decision(&error) {
                    self.awaiting_trust
                        .insert(self.registrar_server().to_ascii_lowercase(), certificate);
                }
                return Err(failure_for(error));
            }
        };
        if self.local == Some(info.local) {
            return Ok(());
        }
        self.emit(Event::Connected {
            peer: self.target.addr.to_string(),
            security: (*info.security).clone(),
        });
        self.local = Some(info.local);
        let contact = self.contact_for(info.local);
        let sent_by = Some(sent_by(info.local));
        match &mut self.registration {
            Some(registration) => registration.update_contact(contact, sent_by),
            None => {
                let mut config = RegistrationConfig::new(
                    self.registrar_uri.clone(),
                    self.aor.clone(),
                    contact,
                    self.target.transport,
                );
                config.via_sent_by = sent_by;
                config.expires = self.account.expires;
                config.display_name = self.account.display_name.clone();
                config.user_agent = Some(user_agent());
                let authenticator = self
                    .authenticator
                    .take()
                    .unwrap_or_else(|| Authenticator::new(lockphone_sip::auth::Credentials::None));
                let rng = StdRng::from_rng(&mut self.rng);
                self.registration = Some(Registration::new(config, authenticator, rng));
            }
        }
        Ok(())
    }

    /// After a TLS refusal the user may override, tells the user what to decide about;
    /// returns the certificate waiting for the decision.
    fn announce_trust_decision(&self, error: &TransportError) -> Option<CertificateSummary> {
        self.announce_trust_decision_for(&self.target, error)
    }

    /// The same, for a connection to `target`. A stored server presenting another
    /// certificate first raises the [`Event::CertificateChanged`] alarm. Only a refusal the
    /// user may override raises a question, and only about the certificate it refused (not
    /// an older one still waiting for a decision).
    pub(super) fn announce_trust_decision_for(
        &self,
        target: &Target,
        error: &TransportError,
    ) -> Option<CertificateSummary> {
        let TransportError::Tls { source, .. } = error else {
            return None;
        };
        if !source.is_overridable() {
            return None;
        }
        let server = server_identity(target);
        if let TlsError::CertificateChanged(changed) = source {
            self.emit(Event::CertificateChanged {
                server: server.clone(),
                stored_sha256: changed.stored.clone(),
                presented: changed.presented.clone(),
            });
        }
        let certificate = self.transport.client_tls()?.question_for(&server)?;
        self.emit(Event::TrustDecisionRequired {
            server,
            certificate: Box::new(certificate.clone()),
        });
        Some(certificate)
    }

    /// Our registration contact on a connection with this local address.
    fn contact_for(&self, local: SocketAddr) -> Uri {
        contact_uri(&self.aor, local, self.registrar_uri.params.clone())
    }

    fn handle_transport(&mut self, event: TransportEvent) {
        let now = Engine::now();
        match event {
            TransportEvent::Message(incoming) => match incoming.message {
                Message::Response(response) => {
                    tracing::debug!(
                        status = response.status.0,
                        from = %incoming.source,
                        "received response"
                    );
                    self.transactions.handle_response(now, response);
                }
                Message::Request(request) => {
                    tracing::debug!(method = %request.method, from = %incoming.source, "received request");
                    let transport = incoming.security.transport;
                    let route = Route {
                        target: Target {
                            transport,
                            addr: incoming.source,
                            server_name: None,
                        },
                        connection: incoming.connection,
                        arrival: Some((incoming.security.clone(), incoming.local)),
                    };
                    self.transactions
                        .handle_request(now, request, transport, route);
                }
            },
            TransportEvent::ConnectionClosed { peer, reason, .. } => {
                if peer == self.target.addr && !self.shutting_down {
                    self.local = None;
                    self.emit(Event::ConnectionLost { reason });
                    if let Some(registration) = &mut self.registration {
                        registration.connection_lost(now);
                    }
                }
            }
            TransportEvent::Dropped { peer, reason } => {
                tracing::info!(%peer, %reason, "malformed message dropped");
            }
        }
    }

    fn handle_timeout(&mut self) {
        let now = Engine::now();
        self.transactions.handle_timeout(now);
        if let Some(registration) = &mut self.registration {
            registration.handle_timeout(now);
        }
        self.handle_call_timeouts(now);
        if self.stop_at.is_some_and(|at| at <= now) {
            self.stop = true;
        }
        if self.stats_at.is_some_and(|at| at <= now) {
            self.emit_call_stats();
            self.stats_at = (!self.calls.active.is_empty()).then(|| now + STATS_INTERVAL);
        }
    }

    /// Moves everything the cores produced until none of them has anything left.
    async fn drain(&mut self) {
        loop {
            let mut progressed = self.send_registration_requests().await;
            while let Some(transmit) = self.transactions.poll_transmit() {
                progressed = true;
                let bytes = transmit.message.to_bytes();
                log_outgoing(&bytes);
                let route = &transmit.destination;
                let sent = match route.connection {
                    Some(connection) => self.transport.send_on(connection, bytes),
                    None => self.transport.send(&route.target, bytes).await,
                };
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "send failed");
                    if let Some(id) = transmit.id {
                        self.transactions.handle_transport_error(id);
                    }
                }
            }
            while let Some(event) = self.transactions.poll_event() {
                progressed = true;
                self.handle_transaction_event(event).await;
            }
            let calls: Vec<_> = self.calls.active.keys().copied().collect();
            for call in calls {
                progressed |= self.drain_call_events(call).await;
                // A new call's INVITE (or any other output) must go out now, not at the
                // next wake-up.
                progressed |= self.flush_call(call);
            }
            self.reap_calls();
            if let Some(registration) = &mut self.registration {
                let events: Vec<RegistrationEvent> =
                    std::iter::from_fn(|| registration.poll_event()).collect();
                for event in events {
                    progressed = true;
                    self.handle_registration_event(event);
                }
            }
            if !progressed {
                break;
            }
        }
    }

    /// Starts a client transaction for every REGISTER the registration produced; reconnects
    /// first when the connection to the registrar was lost (a REGISTER is built when polled,
    /// so it then carries the new connection's contact and Via).
    async fn send_registration_requests(&mut self) -> bool {
        if !self
            .registration
            .as_ref()
            .is_some_and(Registration::has_request)
        {
            return false;
        }
        let now = Engine::now();
        if self.local.is_none()
            && let Err(failure) = self.connect_registrar().await
        {
            if self.awaiting_registrar_trust() {
                // Paused until the user decides: no retry, no new question.
                if let Some(registration) = &mut self.registration {
                    while registration.poll_request().is_some() {}
                }
                return true;
            }
            match failure {
                Event::RegistrationFailed { reason, .. } => {
                    tracing::info!(%reason, "registrar still unreachable");
                }
                other => self.emit_registration(other),
            }
            if let Some(registration) = &mut self.registration {
                while registration.poll_request().is_some() {}
                registration.transaction_failed(now);
            }
            return true;
        }
        while let Some(request) = self
            .registration
            .as_mut()
            .and_then(Registration::poll_request)
        {
            let route = Route {
                target: self.target.clone(),
                connection: None,
                arrival: None,
            };
            match self.transactions.send_request(
                now,
                request,
                self.target.transport,
                route,
                &mut self.rng,
            ) {
                Ok(id) => {
                    self.registration_transactions.insert(id);
                }
                Err(e) => tracing::error!(error = %e, "cannot start the REGISTER transaction"),
            }
        }
        true
    }

    async fn handle_transaction_event(&mut self, event: TransactionEvent<Route>) {
        let now = Engine::now();
        match event {
            TransactionEvent::Response { id, response } => {
                if self.registration_transactions.contains(&id)
                    && let Some(registration) = &mut self.registration
                {
                    registration.handle_response(now, &response);
                } else if let Some(call) = self
                    .calls
                    .transactions
                    .get(&id)
                    .and_then(|t| self.calls.active.get_mut(&t.call))
                {
                    call.sip.handle_response(now, &response);
                }
            }
            TransactionEvent::StrayResponse { response } => {
                if let Some(call) = self
                    .calls
                    .for_response(&response)
                    .and_then(|id| self.calls.active.get_mut(&id))
                {
                    call.sip.handle_response(now, &response);
                }
            }
            TransactionEvent::Timeout { id } | TransactionEvent::TransportError { id } => {
                if self.registration_transactions.remove(&id)
                    && let Some(registration) = &mut self.registration
                {
                    registration.transaction_failed(now);
                }
                self.call_transaction_failed(id);
            }
            TransactionEvent::Terminated { id } => {
                self.registration_transactions.remove(&id);
                self.calls.transactions.remove(&id);
            }
            TransactionEvent::Cancelled { invite } => {
                if let Some(call) = self
                    .calls
                    .invites
                    .remove(&invite)
                    .and_then(|id| self.calls.active.get_mut(&id))
                {
                    call.sip.handle_cancelled();
                }
            }
            TransactionEvent::Request {
                id,
                request,
                source,
            } => {
                self.incoming_request(now, id, request, source).await;
            }
            other => tracing::debug!(event = ?other, "transaction event ignored"),
        }
    }

    /// A request from the far end: for a call, a new call, or answered out of dialog.
    async fn incoming_request(
        &mut self,
        now: std::time::Instant,
        id: Option<TransactionId>,
        request: Request,
        source: Route,
    ) {
        if let Some(call) = self
            .calls
            .for_request(&request)
            .and_then(|call| self.calls.active.get_mut(&call))
        {
            call.sip.handle_request(now, id, request);
            return;
        }
        let Some(id) = id else {
            return;
        };
        let has_to_tag = request
            .headers
            .to_header()
            .is_ok_and(|to| to.tag().is_some());
        if request.method == Method::Invite && !has_to_tag && !self.shutting_down {
            let Some((security, local)) = source.arrival.clone() else {
                return;
            };
            if self.stats_at.is_none() {
                self.stats_at = Some(now + STATS_INTERVAL);
            }
            self.incoming_invite(id, request, source, security, local)
                .await;
            return;
        }
        let response = answer_out_of_dialog(&request);
        if let Err(e) = self.transactions.respond(now, id, response) {
            tracing::debug!(error = %e, "cannot answer request");
        }
    }

    /// Starts the account's listener for direct incoming calls.
    async fn listen(&mut self) -> Result<SocketAddr, UaError> {
        if let Some(addr) = self.listen_addr {
            return Ok(addr);
        }
        let addr = self.account.calls.listen.ok_or_else(|| {
            UaError::Config("calls.listen is not set: no address to listen on".to_owned())
        })?;
        let bound = match self.target.transport {
            lockphone_sip::message::Transport::Tls => {
                let config = setup::listener_tls(&self.account)?;
                self.transport.listen_tls(addr, config).await?
            }
            lockphone_sip::message::Transport::Tcp => self.transport.listen_tcp(addr).await?,
            _ => self.transport.bind_udp(addr).await?,
        };
        self.listen_addr = Some(bound);
        Ok(bound)
    }

    /// A new OAuth token (or the need to log in again) from the account's token agent.
    fn apply_token(&mut self, update: TokenUpdate) {
        if let Some(oauth) = &mut self.oauth {
            let event = oauth.apply(
                update,
                Engine::now(),
                self.registration.as_mut(),
                self.authenticator.as_mut(),
            );
            // Calls answer their next challenge with the new token too.
            self.credentials = oauth.credentials();
            for call in self.calls.active.values_mut() {
                call.sip.set_credentials(self.credentials.clone());
            }
            self.emit(event);
        }
    }

    fn handle_registration_event(&mut self, event: RegistrationEvent) {
        if self.oauth.as_ref().is_some_and(|o| o.take_over(&event)) {
            return;
        }
        match event {
            RegistrationEvent::Registered { expires, contact } => {
                self.emit_registration(Event::Registered {
                    expires_secs: expires.as_secs(),
                    contact,
                });
            }
            RegistrationEvent::RefreshScheduled { after } => {
                self.emit(Event::RefreshScheduled {
                    in_secs: after.as_secs(),
                });
            }
            RegistrationEvent::Expired => self.emit_registration(Event::RegistrationExpired),
            RegistrationEvent::Unregistered => {
                self.emit_registration(Event::Unregistered);
                if self.shutting_down {
                    self.stop = true;
                }
            }
            RegistrationEvent::Retrying { after, reason } => {
                tracing::info!(%reason, after_secs = after.as_secs(), "registration will be retried");
            }
            RegistrationEvent::TokenRejected { description } => {
                self.emit_registration(Event::RegistrationFailed {
                    kind: FailureKind::Credentials,
                    reason: format!(
                        "the registrar rejected the bearer token ({}); obtain a new token",
                        description.unwrap_or_default()
                    ),
                });
            }
            RegistrationEvent::Failed(error) => {
                let kind = if error.is_credentials() {
                    FailureKind::Credentials
                } else if matches!(
                    error,
                    lockphone_sip::registration::RegistrationError::NoAnswer
                ) {
                    FailureKind::Unreachable
                } else {
                    FailureKind::Refused
                };
                let hint = if kind == FailureKind::Credentials {
                    " (check the user name and password)"
                } else {
                    ""
                };
                self.emit_registration(Event::RegistrationFailed {
                    kind,
                    reason: format!("{error}{hint}"),
                });
                if self.shutting_down {
                    self.stop = true;
                }
            }
            other => tracing::debug!(event = ?other, "registration event"),
        }
    }
}

/// How a user agent with no dialogs yet answers a request: OPTIONS 200 with what we allow,
/// anything else 501.
fn answer_out_of_dialog(request: &Request) -> Response {
    match request.method {
        Method::Options => {
            let mut response = Response::for_request(request, StatusCode::OK, None);
            response
                .headers
                .push(HeaderName::Allow, lockphone_sip::call::ALLOW);
            response
        }
        // A request for a dialog we do not know (a BYE after we forgot the call, say).
        _ if request
            .headers
            .to_header()
            .is_ok_and(|to| to.tag().is_some()) =>
        {
            Response::for_request(request, StatusCode::NO_TRANSACTION, None)
        }
        _ => Response::for_request(request, StatusCode(501), None),
    }
}

/// Logs (redacted) what is about to be sent, from the bytes already serialized for the wire;
/// nothing is formatted unless debug logging is on.
fn log_outgoing(bytes: &[u8]) {
    if tracing::enabled!(tracing::Level::DEBUG) {
        let text = crate::redact::redact_wire(bytes);
        tracing::debug!(message = %text, "sending");
    }
}

/// How long a shutdown lingers for the last answers and ACKs when nothing needs un-registering.
const SHUTDOWN_LINGER: Duration = Duration::from_millis(500);

/// How often live call statistics are published.
const STATS_INTERVAL: Duration = Duration::from_secs(1);

/// A contact of ours: the AOR's user at this local address, with these URI parameters.
pub(super) fn contact_uri(aor: &Uri, local: SocketAddr, params: Vec<Param>) -> Uri {
    let mut contact = aor.clone();
    contact.host = match local.ip() {
        std::net::IpAddr::V4(ip) => Host::Ipv4(ip),
        std::net::IpAddr::V6(ip) => Host::Ipv6(ip),
    };
    contact.port = Some(local.port());
    contact.params = params;
    contact.headers.clear();
    contact
}

/// The `Via` sent-by of a local address.
pub(super) fn sent_by(local: SocketAddr) -> String {
    match local {
        SocketAddr::V4(v4) => format!("{}:{}", v4.ip(), v4.port()),
        SocketAddr::V6(v6) => format!("[{}]:{}", v6.ip(), v6.port()),
    }
}

/// Our `User-Agent`.
pub(super) fn user_agent() -> String {
    concat!("Lockphone/", env!("CARGO_PKG_VERSION")).to_owned()
}

/// The identity a target's certificate is checked against: its server name, else its IP.
pub(super) fn server_identity(target: &Target) -> String {
    target
        .server_name
        .clone()
        .unwrap_or_else(|| target.addr.ip().to_string())
}

fn failure_for(error: TransportError) -> Event {
    let kind = match &error {
        TransportError::Tls { .. } | TransportError::NoTlsConfig => FailureKind::Tls,
        _ => FailureKind::Unreachable,
    };
    Event::RegistrationFailed {
        kind,
        reason: error.to_string(),
    }
}

async fn sleep_until(deadline: Option<std::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}
