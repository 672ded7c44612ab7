//! The phone operations that are not a plain method call: answering, rejecting, muting,
//! transfer and the trust decision (from the Phone API), and the OAuth login.

use tokio::sync::mpsc::UnboundedSender;

use super::input::{ContactHit, Input};
use crate::call::{CallId, CallOptions};
use crate::config::AccountConfig;
use crate::contacts::Directory;
use crate::oauth::LoginOptions;
use crate::oauth::login::{known_issuer, login as oauth_login, oauth_config};
use crate::trust::TrustDecision;
use crate::ua::Phone;

/// Answers a ringing call (muted first when asked, so that it starts muted).
pub(super) async fn answer(
    phone: &Phone,
    call: CallId,
    muted: bool,
    options: CallOptions,
) -> Result<(), String> {
    if muted {
        phone
            .mute(call, true)
            .await
            .map_err(|e| format!("cannot mute call {call}: {e}"))?;
    }
    phone
        .answer(call, options)
        .await
        .map_err(|e| format!("cannot answer call {call}: {e}"))
}

/// Rejects a ringing call with 486 Busy Here.
pub(super) async fn reject(phone: &Phone, call: CallId) -> Result<(), String> {
    phone
        .reject(call, 486)
        .await
        .map_err(|e| format!("cannot reject call {call}: {e}"))
}

/// Mutes or unmutes a call.
pub(super) async fn mute(phone: &Phone, call: CallId, mute: bool) -> Result<(), String> {
    phone
        .mute(call, mute)
        .await
        .map_err(|e| format!("cannot mute call {call}: {e}"))
}

/// Transfers a call (blind REFER).
pub(super) async fn transfer(phone: &Phone, call: CallId, target: &str) -> Result<(), String> {
    phone
        .transfer(call, target)
        .await
        .map_err(|e| format!("cannot transfer call {call} to {target}: {e}"))
}

/// Passes the user's answer to the trust prompt on.
pub(super) fn decide_trust(
    phone: &Phone,
    server: &str,
    decision: TrustDecision,
) -> Result<(), String> {
    phone
        .decide_trust(server, decision)
        .map_err(|e| format!("trust decision for {server}: {e}"))
}

/// Searches the contacts; entries without anything to dial are left out. `domain` makes a
/// phone number dialable (`sip:NUMBER@domain;user=phone`).
pub(super) async fn search(
    directory: Option<&Directory>,
    text: &str,
    domain: &str,
) -> Result<Vec<ContactHit>, String> {
    let Some(directory) = directory else {
        return Err(
            "no contacts configured ([[account.contacts]] or [account.directory])".to_owned(),
        );
    };
    let found = directory.search(text).await.map_err(|e| e.to_string())?;
    Ok(found
        .into_iter()
        .filter_map(|contact| {
            Some(ContactHit {
                sip_uri: contact.dial_target(domain)?,
                name: contact.name,
                phone: contact.phone,
            })
        })
        .collect())
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
