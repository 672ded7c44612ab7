//! The engine: one tokio task per account, the "thin loop" around the sans-IO cores.
//!
//! After any input — a message or connection event from the transport, a command from the
//! [`Phone`](super::Phone), or a timer — it drains every `poll_*` of the transaction layer and
//! the registration, sends what they produced, and sleeps until the earliest `poll_timeout`.

use std::sync::Arc;
use std::time::Duration;

use lockphone_sip::auth::Authenticator;
use lockphone_sip::message::{Message, Uri};
use lockphone_sip::registration::{Registration, RegistrationConfig, RegistrationEvent};
use lockphone_sip::transaction::{TransactionEvent, TransactionLayer};
use rand::SeedableRng;
use rand::rngs::StdRng;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::event::{Event, FailureKind};
use super::{Command, UaError, setup};
use crate::config::AccountConfig;
use crate::tls::ConnectionSecurity;
use crate::transport::{Target, TransportError, TransportEvent, TransportLayer};

/// What the engine owns.
pub(super) struct Engine {
    account: AccountConfig,
    aor: Uri,
    registrar_uri: Uri,
    target: Target,
    transport: TransportLayer,
    transport_events: mpsc::UnboundedReceiver<TransportEvent>,
    events: mpsc::UnboundedSender<Event>,
    transactions: TransactionLayer,
    registration: Option<Registration>,
    authenticator: Option<Authenticator>,
    rng: StdRng,
    security: Option<Arc<ConnectionSecurity>>,
    shutting_down: bool,
    stop: bool,
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
        let credentials = setup::credentials(account, &aor)?;
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
            transactions: TransactionLayer::new(Default::default()),
            registration: None,
            authenticator: Some(Authenticator::new(credentials)),
            rng: StdRng::from_os_rng(),
            security: None,
            shutting_down: false,
            stop: false,
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
            }
            self.drain().await;
        }
    }

    fn now() -> std::time::Instant {
        Instant::now().into_std()
    }

    fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    fn next_wake(&self) -> Option<std::time::Instant> {
        let t = self.transactions.poll_timeout();
        let r = self.registration.as_ref().and_then(Registration::poll_timeout);
        match (t, r) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    async fn handle_command(&mut self, command: Command) {
        let now = Engine::now();
        match command {
            Command::Register => {
                if let Err(failure) = self.ensure_registration().await {
                    self.emit(failure);
                    return;
                }
                if let Some(registration) = &mut self.registration {
                    registration.register(now);
                }
            }
            Command::Unregister => {
                if let Some(registration) = &mut self.registration {
                    registration.unregister(now);
                }
            }
            Command::Shutdown => {
                self.shutting_down = true;
                match &mut self.registration {
                    Some(registration) if registration.is_registered() => {
                        registration.unregister(now);
                    }
                    _ => self.stop = true,
                }
            }
        }
    }

    /// Connects to the registrar (if needed) and creates the registration for that connection.
    async fn ensure_registration(&mut self) -> Result<(), Event> {
        if self.registration.is_some() {
            return Ok(());
        }
        self.emit(Event::Registering {
            registrar: self.registrar_uri.to_string(),
            aor: self.aor.to_string(),
        });
        let info = self.transport.connect(&self.target).await.map_err(failure_for)?;
        self.emit(Event::Connected {
            peer: self.target.addr.to_string(),
            security: (*info.security).clone(),
        });
        self.security = Some(info.security.clone());
        let mut contact = self.aor.clone();
        contact.host = match info.local.ip() {
            std::net::IpAddr::V4(ip) => lockphone_sip::message::Host::Ipv4(ip),
            std::net::IpAddr::V6(ip) => lockphone_sip::message::Host::Ipv6(ip),
        };
        contact.port = Some(info.local.port());
        contact.params = self.registrar_uri.params.clone();
        let config = RegistrationConfig {
            registrar: self.registrar_uri.clone(),
            aor: self.aor.clone(),
            contact,
            expires: self.account.expires,
            transport: self.target.transport,
            local_addr: info.local,
            display_name: self.account.display_name.clone(),
            user_agent: Some(concat!("Lockphone/", env!("CARGO_PKG_VERSION")).to_owned()),
            ..RegistrationConfig::default()
        };
        let authenticator = self.authenticator.take().ok_or_else(|| Event::RegistrationFailed {
            kind: FailureKind::Config,
            reason: "internal: credentials already used".to_owned(),
        })?;
        self.registration = Some(Registration::new(config, authenticator));
        Ok(())
    }

    fn handle_transport(&mut self, event: TransportEvent) {
        let now = Engine::now();
        match event {
            TransportEvent::Message(incoming) => match incoming.message {
                Message::Response(response) => {
                    tracing::debug!(status = response.status.0, "response from {}", incoming.source);
                    self.transactions.handle_response(now, response);
                }
                Message::Request(request) => {
                    tracing::debug!(method = %request.method, "request from {}", incoming.source);
                    self.transactions.handle_request(now, request);
                }
            },
            TransportEvent::ConnectionClosed { peer, reason, .. } => {
                if peer == self.target.addr && !self.shutting_down {
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
    }

    /// Moves everything the cores produced until none of them has anything left.
    async fn drain(&mut self) {
        loop {
            let mut progressed = false;
            let now = Engine::now();
            if let Some(registration) = &mut self.registration {
                while let Some(mut request) = registration.poll_request() {
                    progressed = true;
                    tracing::debug!(request = %String::from_utf8_lossy(&request.to_bytes()), "sending");
                    let _ = &mut request;
                    self.transactions.send_request(now, request, self.target.transport, &mut self.rng);
                }
            }
            while let Some(transmit) = self.transactions.poll_transmit() {
                progressed = true;
                let bytes = transmit.message.to_bytes();
                if let Err(e) = self.transport.send(&self.target, bytes).await {
                    tracing::warn!(error = %e, "send failed");
                    self.transactions.handle_transport_error(now, transmit.id);
                }
            }
            while let Some(event) = self.transactions.poll_event() {
                progressed = true;
                self.handle_transaction_event(now, event);
            }
            if let Some(registration) = &mut self.registration {
                while let Some(event) = registration.poll_event() {
                    progressed = true;
                    self.handle_registration_event(event);
                }
            }
            if !progressed {
                break;
            }
        }
    }

    fn handle_transaction_event(&mut self, now: std::time::Instant, event: TransactionEvent) {
        let Some(registration) = &mut self.registration else { return };
        match event {
            TransactionEvent::Final { response, .. } | TransactionEvent::Provisional { response, .. } => {
                registration.handle_response(now, response);
            }
            TransactionEvent::Timeout { .. } | TransactionEvent::TransportError { .. } => {
                registration.transaction_failed(now);
            }
            _ => {}
        }
    }

    fn handle_registration_event(&mut self, event: RegistrationEvent) {
        match event {
            RegistrationEvent::Registered { expires, contact } => {
                self.emit(Event::Registered { expires_secs: expires.as_secs(), contact });
            }
            RegistrationEvent::RefreshScheduled { after } => {
                self.emit(Event::RefreshScheduled { in_secs: after.as_secs() });
            }
            RegistrationEvent::Unregistered => {
                self.emit(Event::Unregistered);
                if self.shutting_down {
                    self.stop = true;
                }
            }
            RegistrationEvent::Failed(error) => {
                self.emit(Event::RegistrationFailed {
                    kind: if error.is_credentials() { FailureKind::Credentials } else { FailureKind::Refused },
                    reason: error.to_string(),
                });
                if self.shutting_down {
                    self.stop = true;
                }
            }
            _ => {}
        }
    }
}

fn failure_for(error: TransportError) -> Event {
    let kind = match &error {
        TransportError::Tls { .. } | TransportError::NoTlsConfig => FailureKind::Tls,
        _ => FailureKind::Unreachable,
    };
    Event::RegistrationFailed { kind, reason: error.to_string() }
}

async fn sleep_until(deadline: Option<std::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(Instant::from_std(at)).await,
        None => std::future::pending().await,
    }
}

#[allow(dead_code)]
const _: Duration = Duration::ZERO;
