//! `lockphone login` and `lockphone logout`: OAuth 2.0 for SIP accounts with
//! `method = "oauth"`.

use std::time::Duration;

use lockphone::config::{AccountConfig, OAuthFlow, TransportKind};
use lockphone::oauth::login::{self, known_issuer, oauth_config};
use lockphone::oauth::{LoginEvent, LoginOptions, OAuthError};
use lockphone::ua::{Event, Phone};

use super::output::{print_event, print_line};
use super::start::{fail, load_account};
use super::{AccountArgs, EXIT_CONFIG, EXIT_OK, EXIT_REFUSED, EXIT_UNREACHABLE};

/// Arguments of `lockphone login`.
#[derive(Debug, clap::Args)]
pub(crate) struct LoginArgs {
    #[command(flatten)]
    account: AccountArgs,
    /// Use the device authorization grant: enter a code on another device (RFC 8628).
    #[arg(long, conflicts_with = "browser")]
    device_code: bool,
    /// Use the browser: authorization code + PKCE with a loopback redirect (RFC 8252); opens a
    /// browser when a display is available (unless --no-open).
    #[arg(long)]
    browser: bool,
    /// Only print the authorization URL, never start a browser.
    #[arg(long)]
    no_open: bool,
    /// Give up after this many seconds (default 600).
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

/// Arguments of `lockphone logout`.
#[derive(Debug, clap::Args)]
pub(crate) struct LogoutArgs {
    #[command(flatten)]
    account: AccountArgs,
}

fn exit_code(error: &OAuthError) -> u8 {
    match error {
        OAuthError::Http { .. } | OAuthError::Discovery { .. } => EXIT_UNREACHABLE,
        OAuthError::NotConfigured { .. }
        | OAuthError::NoIssuer
        | OAuthError::BadUrl { .. }
        | OAuthError::InsecureUrl { .. }
        | OAuthError::Tls(_)
        | OAuthError::Store { .. } => EXIT_CONFIG,
        _ => EXIT_REFUSED,
    }
}

fn print_login_event(event: &LoginEvent, json: bool) {
    let line = if json {
        serde_json::to_string(event).unwrap_or_default()
    } else {
        match event {
            LoginEvent::Discovered { issuer, .. } => format!("authorization server {issuer}"),
            LoginEvent::DeviceCode {
                verification_uri,
                verification_uri_complete,
                user_code,
                expires_in_secs,
                ..
            } => format!(
                "to log in, visit {verification_uri} and enter the code {user_code} (valid {expires_in_secs} s){}",
                verification_uri_complete
                    .as_deref()
                    .map(|u| format!("\n  or open {u}"))
                    .unwrap_or_default()
            ),
            LoginEvent::AuthorizationUrl { url, .. } => {
                format!("to log in, open this URL in a browser:\n  {url}")
            }
            LoginEvent::BrowserOpened => "a browser was opened".to_owned(),
            LoginEvent::LoggedIn {
                issuer,
                expires_in_secs,
                refresh_token,
                ..
            } => format!(
                "logged in at {issuer}: access token valid {} s{}",
                expires_in_secs.unwrap_or(0),
                if *refresh_token {
                    ", renewed automatically"
                } else {
                    ", no refresh token (log in again when it expires)"
                }
            ),
            LoginEvent::LoggedOut {
                deleted,
                revoked,
                revocation_note,
            } => format!(
                "logged out: tokens {}, refresh token {}{}",
                if *deleted {
                    "deleted"
                } else {
                    "were not stored"
                },
                if *revoked { "revoked" } else { "not revoked" },
                revocation_note
                    .as_deref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default()
            ),
            other => format!("{other:?}"),
        }
    };
    print_line(&line);
}

/// Runs `lockphone login`; returns the exit code.
pub(crate) async fn run_login(args: LoginArgs) -> u8 {
    let json = args.account.json;
    let account = match load_account(&args.account.config, args.account.account.as_deref()) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let oauth = match oauth_config(&account) {
        Ok(o) => o,
        Err(e) => return fail(&e.to_string(), exit_code(&e)),
    };
    let flow = if args.browser {
        OAuthFlow::Browser
    } else if args.device_code {
        OAuthFlow::DeviceCode
    } else {
        oauth.flow
    };
    let issuer = match known_issuer(&account) {
        Ok(Some(issuer)) => issuer,
        Ok(None) => match issuer_from_registrar(&account, json).await {
            Ok(issuer) => issuer,
            Err(code) => return code,
        },
        Err(e) => return fail(&e.to_string(), exit_code(&e)),
    };
    let options = LoginOptions {
        flow,
        open_browser: args.browser && !args.no_open,
        timeout: Duration::from_secs(args.timeout),
    };
    match login::login(&account, &issuer, &options, |e| print_login_event(&e, json)).await {
        Ok(_) => EXIT_OK,
        Err(e) => fail(&format!("login failed: {e}"), exit_code(&e)),
    }
}

/// Asks the registrar (over TLS only) which authorization server it trusts: a REGISTER
/// without a token gets a Bearer challenge naming it (`authz_server`, RFC 8898).
async fn issuer_from_registrar(account: &AccountConfig, json: bool) -> Result<String, u8> {
    if account.transport != TransportKind::Tls {
        return Err(fail(&OAuthError::NoIssuer.to_string(), EXIT_CONFIG));
    }
    let mut phone = Phone::start(account)
        .await
        .map_err(|e| fail(&e.to_string(), EXIT_CONFIG))?;
    phone.register();
    let found = tokio::time::timeout(Duration::from_secs(40), async {
        while let Some(event) = phone.next_event().await {
            match event {
                Event::LoginRequired {
                    authz_server: Some(server),
                    ..
                } => return Ok(server),
                Event::LoginRequired { .. } | Event::Registered { .. } => break,
                Event::RegistrationFailed { reason, .. } => {
                    return Err(fail(&reason, EXIT_UNREACHABLE));
                }
                other => print_event(&other, json),
            }
        }
        Err(fail(&OAuthError::NoIssuer.to_string(), EXIT_CONFIG))
    })
    .await;
    phone.shutdown().await;
    found.unwrap_or_else(|_| {
        Err(fail(
            "the registrar did not answer within 40 s",
            EXIT_UNREACHABLE,
        ))
    })
}

/// Runs `lockphone logout`; returns the exit code.
pub(crate) async fn run_logout(args: LogoutArgs) -> u8 {
    let json = args.account.json;
    let account = match load_account(&args.account.config, args.account.account.as_deref()) {
        Ok(a) => a,
        Err(code) => return code,
    };
    match login::logout(&account, |e| print_login_event(&e, json)).await {
        Ok(()) => EXIT_OK,
        Err(e) => fail(&format!("logout failed: {e}"), exit_code(&e)),
    }
}
