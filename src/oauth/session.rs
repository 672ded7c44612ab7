//! The OAuth side of a running account: which token the engine sends, renewing it a quarter
//! of its lifetime before it expires and when the registrar rejects it (`invalid_token`),
//! storing rotated refresh tokens, and telling the user to log in again when the refresh
//! token is refused.
//!
//! The HTTP work runs in its own task (the agent), so the engine's loop never waits for the
//! authorization server; the engine only forwards two registration events and applies the
//! [`TokenUpdate`]s it gets back.

use std::time::Duration;

use lockphone_sip::auth::{AuthError, Authenticator, Credentials, Secret};
use lockphone_sip::registration::{Registration, RegistrationError, RegistrationEvent};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::client::OAuthClient;
use super::login::{oauth_config, token_store};
use super::metadata::discover;
use super::store::{TokenSet, TokenStore};
use super::{OAuthError, tls};
use crate::config::{AccountConfig, AuthConfig, OAuthConfig, TransportKind};
use crate::oauth::http::HttpClient;
use crate::ua::Event;

/// A token rejected this soon after a refresh is answered with the same (new) token instead
/// of refreshing again: the rejection was about the old one.
const FRESH_WINDOW: Duration = Duration::from_secs(5);

/// What the agent tells the engine.
#[derive(Debug)]
pub(crate) enum TokenUpdate {
    /// A new access token to use from now on.
    Fresh {
        token: Secret,
        expires_in: Option<Duration>,
    },
    /// Only a new login can help.
    LoginRequired {
        reason: String,
        authz_server: Option<String>,
    },
}

#[derive(Debug)]
enum AgentCommand {
    /// The registrar rejected the token (`invalid_token`).
    Rejected { description: Option<String> },
    /// The registrar asked for a token and none was sent.
    Required { authz_server: Option<String> },
}

/// The engine's handle on the OAuth agent of its account.
#[derive(Debug)]
pub(crate) struct OAuthSession {
    commands: mpsc::UnboundedSender<AgentCommand>,
    updates: mpsc::UnboundedReceiver<TokenUpdate>,
    current: Option<Secret>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for OAuthSession {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl OAuthSession {
    /// For an OAuth account, starts its agent and returns it with the credentials to start
    /// with (the stored access token, or none); `None` for other accounts.
    pub(crate) fn start(
        account: &AccountConfig,
    ) -> Result<Option<(OAuthSession, Credentials)>, OAuthError> {
        if !matches!(account.auth, AuthConfig::OAuth(_)) {
            return Ok(None);
        }
        let config = oauth_config(account)?.clone();
        let store = token_store(account)?;
        let http = tls::http_client(account)?;
        let (tokens, problem) = match store.load() {
            Ok(Some(t)) if !same_issuer(config.issuer.as_deref(), &t.issuer) => (
                None,
                Some(format!(
                    "the stored tokens are from {} but the account names another issuer: log in again",
                    t.issuer
                )),
            ),
            Ok(Some(t)) if t.client_id != config.client_id => (
                None,
                Some("the stored tokens belong to another client_id: log in again".to_owned()),
            ),
            Ok(Some(t)) => (Some(t), None),
            Ok(None) => (None, None),
            Err(e) => (None, Some(e.to_string())),
        };
        let current = tokens.as_ref().map(|t| t.access_token.clone());
        let credentials = match &current {
            Some(token) => Credentials::Bearer {
                token: token.clone(),
            },
            None => Credentials::None,
        };
        let refresh_at = tokens
            .as_ref()
            .and_then(|t| t.refresh_due(TokenSet::unix_now()))
            .map(|d| Instant::now() + d);
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (update_tx, updates) = mpsc::unbounded_channel();
        let agent = Agent {
            account: account.name.clone(),
            trust_challenge: account.transport == TransportKind::Tls,
            config,
            store,
            http,
            tokens,
            problem,
            client: None,
            updates: update_tx,
            last_refresh: None,
            backoff: Duration::from_secs(2),
        };
        let task = tokio::spawn(agent.run(command_rx, refresh_at));
        Ok(Some((
            OAuthSession {
                commands,
                updates,
                current,
                task,
            },
            credentials,
        )))
    }

    /// The current access token as SIP credentials (for requests other than REGISTER, e.g.
    /// a call's INVITE challenged with Bearer).
    pub(crate) fn credentials(&self) -> Credentials {
        match &self.current {
            Some(token) => Credentials::Bearer {
                token: token.clone(),
            },
            None => Credentials::None,
        }
    }

    /// A request other than REGISTER (a call's INVITE, say) had its token rejected with
    /// `error="invalid_token"`: renew it; the new token comes back as a
    /// [`TokenUpdate::Fresh`] (a token renewed in the last 5 s is sent again instead).
    pub(crate) fn token_rejected(&self, description: Option<String>) {
        let _ = self.commands.send(AgentCommand::Rejected { description });
    }

    /// Takes over the registration events that are about the token; `true` if it did (the
    /// engine then does nothing else with the event).
    pub(crate) fn take_over(&self, event: &RegistrationEvent) -> bool {
        let command = match event {
            RegistrationEvent::TokenRejected { description } => AgentCommand::Rejected {
                description: description.clone(),
            },
            RegistrationEvent::Failed(RegistrationError::Auth(AuthError::TokenRequired {
                challenge,
            })) => AgentCommand::Required {
                authz_server: challenge.authz_server.clone(),
            },
            _ => return false,
        };
        self.commands.send(command).is_ok()
    }

    /// The next update of `session`; never resolves without a session.
    pub(crate) async fn next_update(session: &mut Option<OAuthSession>) -> TokenUpdate {
        match session {
            Some(s) => match s.updates.recv().await {
                Some(update) => update,
                None => std::future::pending().await,
            },
            None => std::future::pending().await,
        }
    }

    /// Applies an update: a new token re-REGISTERs at once (the registration keeps its
    /// binding meanwhile, calls are not touched). Returns the event for the user.
    pub(crate) fn apply(
        &mut self,
        update: TokenUpdate,
        now: std::time::Instant,
        registration: Option<&mut Registration>,
        authenticator: Option<&mut Authenticator>,
    ) -> Event {
        match update {
            TokenUpdate::Fresh { token, expires_in } => {
                self.current = Some(token.clone());
                let credentials = Credentials::Bearer { token };
                match (registration, authenticator) {
                    (Some(registration), _) => registration.renew_credentials(now, credentials),
                    (None, Some(authenticator)) => authenticator.set_credentials(credentials),
                    (None, None) => {}
                }
                Event::TokenRefreshed {
                    expires_in_secs: expires_in.map(|d| d.as_secs()),
                }
            }
            TokenUpdate::LoginRequired {
                reason,
                authz_server,
            } => Event::LoginRequired {
                reason,
                authz_server,
            },
        }
    }
}

fn same_issuer(configured: Option<&str>, stored: &str) -> bool {
    configured.is_none_or(|c| c.trim_end_matches('/') == stored.trim_end_matches('/'))
}

/// The task that talks to the authorization server.
struct Agent {
    account: String,
    /// Whether a challenge's `authz_server` may be passed on (it came over verified TLS).
    trust_challenge: bool,
    config: OAuthConfig,
    store: TokenStore,
    http: HttpClient,
    tokens: Option<TokenSet>,
    /// Why the stored tokens could not be used, if they could not.
    problem: Option<String>,
    client: Option<OAuthClient>,
    updates: mpsc::UnboundedSender<TokenUpdate>,
    last_refresh: Option<Instant>,
    backoff: Duration,
}

impl Agent {
    async fn run(
        mut self,
        mut commands: mpsc::UnboundedReceiver<AgentCommand>,
        mut refresh_at: Option<Instant>,
    ) {
        loop {
            tokio::select! {
                command = commands.recv() => match command {
                    None => return,
                    Some(AgentCommand::Rejected { description }) => {
                        tracing::info!(
                            description = description.as_deref().unwrap_or(""),
                            "the registrar rejected the access token; renewing it"
                        );
                        refresh_at = self.renew_or_resend().await.or(refresh_at);
                    }
                    Some(AgentCommand::Required { authz_server }) => {
                        if self.tokens.as_ref().is_some_and(|t| t.refresh_token.is_some()) {
                            refresh_at = self.renew_or_resend().await.or(refresh_at);
                        } else {
                            let reason = self.problem.take().unwrap_or_else(|| {
                                format!("not logged in: run `lockphone login --account {}`", self.account)
                            });
                            let authz_server = authz_server.filter(|_| self.trust_challenge);
                            self.login_required(reason, authz_server);
                        }
                    }
                },
                () = sleep_until(refresh_at) => {
                    tracing::debug!("access token due for renewal");
                    refresh_at = self.refresh().await;
                }
            }
        }
    }

    /// After a rejection: a token renewed moments ago is sent again, otherwise renew.
    async fn renew_or_resend(&mut self) -> Option<Instant> {
        let recent = self
            .last_refresh
            .is_some_and(|at| at.elapsed() < FRESH_WINDOW);
        match &self.tokens {
            Some(tokens) if recent => {
                let _ = self.updates.send(TokenUpdate::Fresh {
                    token: tokens.access_token.clone(),
                    expires_in: tokens.remaining(TokenSet::unix_now()),
                });
                None
            }
            _ => self.refresh().await,
        }
    }

    fn login_required(&mut self, reason: String, authz_server: Option<String>) {
        tracing::warn!(%reason, "OAuth login required");
        let _ = self.updates.send(TokenUpdate::LoginRequired {
            reason,
            authz_server,
        });
    }

    async fn client(&mut self, issuer: &str) -> Result<OAuthClient, OAuthError> {
        if let Some(client) = &self.client {
            return Ok(client.clone());
        }
        let metadata = discover(&self.http, issuer).await?;
        let client = OAuthClient::new(
            metadata,
            &self.config.client_id,
            &self.config.scopes,
            self.http.clone(),
        )?;
        self.client = Some(client.clone());
        Ok(client)
    }

    /// Renews the access token; returns when to renew next (or retry).
    async fn refresh(&mut self) -> Option<Instant> {
        let Some(tokens) = self.tokens.clone() else {
            let reason = format!(
                "not logged in: run `lockphone login --account {}`",
                self.account
            );
            self.login_required(reason, None);
            return None;
        };
        if tokens.refresh_token.is_none() {
            self.login_required(
                "the access token can no longer be used and no refresh token was issued: log in again with `lockphone login`".to_owned(),
                None,
            );
            return None;
        }
        let result = match self.client(&tokens.issuer).await {
            Ok(client) => client.refresh(&tokens).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(new) => {
                if let Err(e) = self.store.save(&new) {
                    tracing::warn!(error = %e, "renewed tokens could not be stored");
                }
                let now = TokenSet::unix_now();
                tracing::info!(
                    expires_in_secs = new.remaining(now).map(|d| d.as_secs()),
                    rotated = new.refresh_token.as_ref().map(Secret::expose)
                        != tokens.refresh_token.as_ref().map(Secret::expose),
                    "access token renewed"
                );
                self.backoff = Duration::from_secs(2);
                self.last_refresh = Some(Instant::now());
                let _ = self.updates.send(TokenUpdate::Fresh {
                    token: new.access_token.clone(),
                    expires_in: new.remaining(now),
                });
                let due = new.refresh_due(now).map(|d| Instant::now() + d);
                self.tokens = Some(new);
                due
            }
            Err(e) if e.needs_login() || is_final(&e) => {
                let _ = self.store.delete();
                self.tokens = None;
                self.login_required(e.to_string(), None);
                None
            }
            Err(e) => {
                let after = self.backoff;
                self.backoff = (self.backoff * 2).min(Duration::from_secs(60));
                tracing::warn!(error = %e, retry_in_secs = after.as_secs(), "token renewal failed; will retry");
                Some(Instant::now() + after)
            }
        }
    }
}

/// An OAuth error answer other than a temporary one: renewing again will not help.
fn is_final(error: &OAuthError) -> bool {
    matches!(error, OAuthError::Server { error, .. }
        if error != "temporarily_unavailable" && error != "server_error")
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
