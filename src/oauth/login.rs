//! Logging in (device grant or browser + PKCE) and out (RFC 7009 revocation), storing the
//! tokens of an account. The CLI's `lockphone login`/`logout` are thin users of this.

use std::time::Duration;

use serde::Serialize;

use super::client::OAuthClient;
use super::loopback::RedirectListener;
use super::metadata::discover;
use super::store::{TokenSet, TokenStore};
use super::{OAuthError, tls};
use crate::config::{AccountConfig, AuthConfig, OAuthConfig, OAuthFlow};

/// What a login or logout reports while it runs. Serializes to JSON with an `event` tag. Never
/// carries a token (the user code and authorization URL are not secrets of the account).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
#[non_exhaustive]
pub enum LoginEvent {
    /// The authorization server's metadata was read.
    Discovered {
        /// The issuer.
        issuer: String,
        /// Whether it offers the device authorization grant.
        device_flow: bool,
        /// Whether it offers the authorization code flow.
        browser_flow: bool,
        /// Whether it can revoke tokens (RFC 7009).
        revocation: bool,
    },
    /// Device flow: the user must visit `verification_uri` and enter `user_code`.
    DeviceCode {
        /// Where to go.
        verification_uri: String,
        /// The same with the code filled in, if the server gave one.
        verification_uri_complete: Option<String>,
        /// The code to enter.
        user_code: String,
        /// How long the code stays valid.
        expires_in_secs: u64,
        /// How often Lockphone asks whether the user approved.
        interval_secs: u64,
    },
    /// Browser flow: open this URL to log in; the answer comes to `redirect_uri`.
    AuthorizationUrl {
        /// The authorization request.
        url: String,
        /// The loopback redirect URI Lockphone listens on.
        redirect_uri: String,
    },
    /// A browser was started with the authorization URL.
    BrowserOpened,
    /// Logged in: tokens stored.
    LoggedIn {
        /// The issuer.
        issuer: String,
        /// The access token's lifetime, seconds.
        expires_in_secs: Option<u64>,
        /// The scope granted.
        scope: Option<String>,
        /// Whether a refresh token was issued (renewal without a new login).
        refresh_token: bool,
        /// The encrypted token file.
        store: String,
    },
    /// Logged out: tokens deleted.
    LoggedOut {
        /// Whether tokens were stored.
        deleted: bool,
        /// Whether the refresh token was revoked at the server.
        revoked: bool,
        /// Why revocation failed or was skipped, if it was.
        revocation_note: Option<String>,
    },
}

/// How to log in.
#[derive(Debug, Clone)]
pub struct LoginOptions {
    /// Device code or browser.
    pub flow: OAuthFlow,
    /// Start a browser for the browser flow when a display is available.
    pub open_browser: bool,
    /// The longest the user may take.
    pub timeout: Duration,
}

/// The OAuth settings of `account`, or why it has none.
pub fn oauth_config(account: &AccountConfig) -> Result<&OAuthConfig, OAuthError> {
    match &account.auth {
        AuthConfig::OAuth(config) => Ok(config),
        _ => Err(OAuthError::NotConfigured {
            account: account.name.clone(),
        }),
    }
}

/// The token store of `account` (configured, or the default location).
pub fn token_store(account: &AccountConfig) -> Result<TokenStore, OAuthError> {
    let config = oauth_config(account)?;
    match &config.token_store {
        Some(path) => Ok(TokenStore::new(path.clone())),
        None => TokenStore::default_for(&account.name),
    }
}

/// The issuer to log in with, if known without asking the registrar: the configured one, or
/// the one of the stored tokens.
pub fn known_issuer(account: &AccountConfig) -> Result<Option<String>, OAuthError> {
    let config = oauth_config(account)?;
    if let Some(issuer) = &config.issuer {
        return Ok(Some(issuer.clone()));
    }
    Ok(token_store(account)?
        .load()
        .ok()
        .flatten()
        .map(|t| t.issuer))
}

/// Logs `account` in at `issuer` and stores the tokens.
pub async fn login(
    account: &AccountConfig,
    issuer: &str,
    options: &LoginOptions,
    mut on_event: impl FnMut(LoginEvent),
) -> Result<TokenSet, OAuthError> {
    let config = oauth_config(account)?;
    let store = token_store(account)?;
    let http = tls::http_client(account)?;
    let metadata = discover(&http, issuer).await?;
    on_event(LoginEvent::Discovered {
        issuer: metadata.issuer.clone(),
        device_flow: metadata.device_authorization_endpoint.is_some(),
        browser_flow: metadata.authorization_endpoint.is_some(),
        revocation: metadata.revocation_endpoint.is_some(),
    });
    let client = OAuthClient::new(metadata, &config.client_id, &config.scopes, http)?;
    let flow = async {
        match options.flow {
            OAuthFlow::DeviceCode => device_flow(&client, &mut on_event).await,
            OAuthFlow::Browser => {
                browser_flow(&client, config.redirect_port, options, &mut on_event).await
            }
        }
    };
    let tokens = tokio::time::timeout(options.timeout, flow)
        .await
        .map_err(|_| OAuthError::TimedOut {
            secs: options.timeout.as_secs(),
        })??;
    store.save(&tokens)?;
    tracing::info!(issuer = %tokens.issuer, "logged in; tokens stored");
    on_event(LoginEvent::LoggedIn {
        issuer: tokens.issuer.clone(),
        expires_in_secs: tokens.lifetime_secs,
        scope: tokens.scope.clone(),
        refresh_token: tokens.refresh_token.is_some(),
        store: store.path().display().to_string(),
    });
    Ok(tokens)
}

async fn device_flow(
    client: &OAuthClient,
    on_event: &mut impl FnMut(LoginEvent),
) -> Result<TokenSet, OAuthError> {
    let details = client.start_device().await?;
    on_event(LoginEvent::DeviceCode {
        verification_uri: details.verification_uri().to_string(),
        verification_uri_complete: details
            .verification_uri_complete()
            .map(|u| u.secret().clone()),
        user_code: details.user_code().secret().clone(),
        expires_in_secs: details.expires_in().as_secs(),
        interval_secs: details.interval().as_secs(),
    });
    client.poll_device(&details).await
}

async fn browser_flow(
    client: &OAuthClient,
    port: u16,
    options: &LoginOptions,
    on_event: &mut impl FnMut(LoginEvent),
) -> Result<TokenSet, OAuthError> {
    let listener = RedirectListener::bind(port).await?;
    let redirect_uri = listener.redirect_uri();
    let request = client.authorization_request(&redirect_uri)?;
    on_event(LoginEvent::AuthorizationUrl {
        url: request.url.clone(),
        redirect_uri: redirect_uri.clone(),
    });
    if options.open_browser && open_browser(&request.url) {
        on_event(LoginEvent::BrowserOpened);
    }
    let code = listener
        .wait(
            request.state.secret(),
            &client.metadata().issuer,
            options.timeout,
        )
        .await?;
    client
        .exchange_code(code, request.verifier, &redirect_uri)
        .await
}

/// Starts the desktop's browser when a display is available; whether it started.
fn open_browser(url: &str) -> bool {
    let display = ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|v| !v.is_empty()));
    display
        && std::process::Command::new("xdg-open")
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .is_ok()
}

/// Revokes the refresh token when the server supports it (RFC 7009) and deletes the stored
/// tokens. A failed revocation is reported, and the tokens are deleted all the same.
pub async fn logout(
    account: &AccountConfig,
    mut on_event: impl FnMut(LoginEvent),
) -> Result<(), OAuthError> {
    let config = oauth_config(account)?;
    let store = token_store(account)?;
    let tokens = store.load();
    let mut revoked = false;
    let note = match &tokens {
        Ok(Some(tokens)) => match &tokens.refresh_token {
            Some(refresh) => match revoke(account, config, tokens, refresh).await {
                Ok(true) => {
                    revoked = true;
                    None
                }
                Ok(false) => Some("the server has no revocation endpoint".to_owned()),
                Err(e) => Some(e.to_string()),
            },
            None => Some("no refresh token was stored".to_owned()),
        },
        Ok(None) => None,
        Err(e) => Some(format!("stored tokens unreadable ({e})")),
    };
    let deleted = store.delete()?;
    on_event(LoginEvent::LoggedOut {
        deleted,
        revoked,
        revocation_note: note,
    });
    Ok(())
}

async fn revoke(
    account: &AccountConfig,
    config: &OAuthConfig,
    tokens: &TokenSet,
    refresh: &lockphone_sip::auth::Secret,
) -> Result<bool, OAuthError> {
    let http = tls::http_client(account)?;
    let metadata = discover(&http, &tokens.issuer).await?;
    let client = OAuthClient::new(metadata, &config.client_id, &config.scopes, http)?;
    client.revoke(refresh).await
}
