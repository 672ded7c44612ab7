//! Short lines for the log pane.

use super::action::AudioChoice;
use crate::oauth::LoginEvent;
use crate::ua::Event;

/// The log line of a phone event (`None` for the frequent ones: statistics, refreshes).
pub fn event(event: &Event) -> Option<String> {
    Some(match event {
        Event::Registering { registrar, .. } => format!("registering at {registrar}"),
        Event::Connected { peer, security } => format!(
            "connected to {peer} over {}{}",
            security
                .tls_version
                .as_deref()
                .map_or(security.transport.as_str().to_owned(), |v| v
                    .replace('_', ".")),
            if security.is_verified_tls() {
                ", server verified"
            } else {
                ", server NOT verified"
            }
        ),
        Event::Registered { expires_secs, .. } => format!("registered for {expires_secs} s"),
        Event::RegistrationExpired => "registration expired; retrying".to_owned(),
        Event::Unregistered => "unregistered".to_owned(),
        Event::RegistrationFailed { reason, .. } => format!("registration failed: {reason}"),
        Event::TrustDecisionRequired {
            server,
            certificate,
        } => {
            format!(
                "the certificate of {server} is not trusted: {}",
                certificate.reason
            )
        }
        Event::CertificateChanged {
            server,
            stored_sha256,
            presented,
        } => format!(
            "the certificate of {server} CHANGED: trusted {stored_sha256}, presented {}",
            presented.sha256
        ),
        Event::CallHold { call, on_hold, .. } => {
            format!(
                "call {call}: {}",
                if *on_hold { "on hold" } else { "resumed" }
            )
        }
        Event::CallTransfer {
            call,
            state,
            status,
            reason,
        } => format!(
            "call {call}: transfer {state:?}{}{}",
            status.map(|s| format!(" ({s})")).unwrap_or_default(),
            reason
                .as_deref()
                .map(|r| format!(": {r}"))
                .unwrap_or_default()
        ),
        Event::ConnectionLost { reason } => format!("connection lost ({reason})"),
        Event::CallStarted {
            call,
            direction,
            peer,
            ..
        } => format!("call {call}: {direction} {peer}"),
        Event::CallRinging { call } => format!("call {call}: ringing"),
        Event::CallAnswered {
            call,
            codec,
            srtp_suite,
        } => format!(
            "call {call}: answered, {codec}, {}",
            srtp_suite.as_deref().unwrap_or("plain RTP")
        ),
        Event::CallSecurity { call, verdict } => format!("call {call}: {}", verdict.level),
        Event::CallDowngrade { call, what, .. } => format!("call {call}: DOWNGRADE: {what}"),
        Event::CallFailed { call, reason } => format!("call {call}: failed: {reason}"),
        Event::CallEnded { call, summary } => format!(
            "call {call}: ended ({}) after {:.0} s",
            summary.end_reason, summary.duration_secs
        ),
        Event::TokenRefreshed { .. } => "OAuth token renewed".to_owned(),
        Event::LoginRequired { reason, .. } => format!("log in again (press l): {reason}"),
        Event::CallStats { .. } | Event::RefreshScheduled { .. } => return None,
        // Variants added later by other parts of the crate still get a line.
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    })
}

/// The log line of an OAuth login step.
pub fn login_event(event: &LoginEvent) -> String {
    match event {
        LoginEvent::Discovered { issuer, .. } => format!("authorization server {issuer}"),
        LoginEvent::DeviceCode {
            verification_uri,
            user_code,
            expires_in_secs,
            ..
        } => format!(
            "To log in, visit {verification_uri}\nand enter the code: {user_code}   (valid {expires_in_secs} s)"
        ),
        LoginEvent::AuthorizationUrl { url, .. } => format!("To log in, open {url}"),
        LoginEvent::BrowserOpened => "a browser was opened".to_owned(),
        LoginEvent::LoggedIn { issuer, .. } => format!("logged in at {issuer}"),
        LoginEvent::LoggedOut { .. } => "logged out".to_owned(),
        // Variants added later by other parts of the crate still get a line.
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

/// The audio choice in words.
pub fn audio(choice: &AudioChoice) -> String {
    match choice {
        AudioChoice::Device(name) => format!("sound card {name}"),
        AudioChoice::Tone => "test tone".to_owned(),
        AudioChoice::Silence => "silence".to_owned(),
    }
}
