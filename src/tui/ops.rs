//! The phone operations that are not a plain method call: answering, rejecting, muting,
//! transfer and the trust decision (from the Phone API), and the OAuth login.

use tokio::sync::mpsc::UnboundedSender;

use super::action::TrustChoice;
use super::input::Input;
use crate::call::{CallId, CallOptions};
use crate::config::AccountConfig;
use crate::oauth::LoginOptions;
use crate::oauth::login::{known_issuer, login as oauth_login, oauth_config};
use crate::ua::Phone;

/// Answers a ringing call.
pub(super) async fn answer(
    _phone: &Phone,
    call: CallId,
    _muted: bool,
    _options: CallOptions,
) -> Result<(), String> {
    Err(format!("cannot answer call {call}: not in this build yet"))
}

/// Rejects a ringing call.
pub(super) async fn reject(_phone: &Phone, call: CallId) -> Result<(), String> {
    Err(format!("cannot reject call {call}: not in this build yet"))
}

/// Mutes or unmutes a call.
pub(super) async fn mute(_phone: &Phone, call: CallId, _mute: bool) -> Result<(), String> {
    Err(format!("cannot mute call {call}: not in this build yet"))
}

/// Transfers a call (blind REFER).
pub(super) async fn transfer(_phone: &Phone, call: CallId, target: &str) -> Result<(), String> {
    Err(format!(
        "cannot transfer call {call} to {target}: not in this build yet"
    ))
}

/// Passes the user's answer to the trust prompt on.
pub(super) async fn decide_trust(
    _phone: &Phone,
    server: &str,
    _choice: TrustChoice,
) -> Result<(), String> {
    Err(format!(
        "cannot record the decision for {server}: not in this build yet"
    ))
}

/// Logs the account in with OAuth (the configured flow; device code shows the code and the
/// URI), reporting each step to the UI.
pub(super) async fn login(
    account: &AccountConfig,
    issuer: Option<String>,
    tx: &UnboundedSender<Input>,
) -> Result<(), String> {
    let config = oauth_config(account).map_err(|e| e.to_string())?;
    let issuer = match issuer {
        Some(issuer) => issuer,
        None => known_issuer(account)
            .map_err(|e| e.to_string())?
            .ok_or("no authorization server known: set [account.auth] issuer, or register first so the registrar names one")?,
    };
    let options = LoginOptions {
        flow: config.flow,
        open_browser: false,
        timeout: std::time::Duration::from_secs(600),
    };
    oauth_login(account, &issuer, &options, |event| {
        let _ = tx.send(Input::Login(event));
    })
    .await
    .map(|_| ())
    .map_err(|e| e.to_string())
}
