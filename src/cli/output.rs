//! Printing events: one human-readable line, or one JSON object per line.

use std::io::Write;

use lockphone::ua::Event;

/// Prints one event on stdout. A closed stdout (`lockphone … | head`) is not an error: the
/// line is dropped, never a panic.
pub(crate) fn print_event(event: &Event, json: bool) {
    let line = if json {
        match serde_json::to_string(event) {
            Ok(line) => line,
            Err(e) => {
                eprintln!("lockphone: cannot encode event: {e}");
                return;
            }
        }
    } else {
        describe(event)
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}").and_then(|()| out.flush());
}

/// A one-line description of an event for people.
pub(crate) fn describe(event: &Event) -> String {
    match event {
        Event::Registering { registrar, aor } => format!("registering {aor} at {registrar}"),
        Event::Connected { peer, security } => match &security.tls_version {
            Some(version) => {
                format!(
                    "connected to {peer}: {version}, {}, server certificate verified for `{}`{}",
                    security.cipher_suite.as_deref().unwrap_or("?"),
                    security.verified_name.as_deref().unwrap_or("?"),
                    if security.client_certificate_presented {
                        ", client certificate presented"
                    } else {
                        ""
                    }
                ) + if security.fips { " [FIPS]" } else { "" }
            }
            None => format!(
                "connected to {peer} over {} (not encrypted)",
                security.transport
            ),
        },
        Event::Registered {
            expires_secs,
            contact,
        } => {
            format!("registered for {expires_secs} s as {contact}")
        }
        Event::RefreshScheduled { in_secs } => format!("refresh in {in_secs} s"),
        Event::Unregistered => "unregistered".to_owned(),
        Event::RegistrationFailed { reason, .. } => format!("registration failed: {reason}"),
        Event::TrustDecisionRequired {
            server,
            certificate,
        } => format!(
            "the certificate of {server} is not trusted: {}\n  subject  {}\n  issuer   {}\n  valid    {} .. {}\n  names    {}\n  sha256   {}\n  to trust it: lockphone trust import --identity {server} CERT.pem, or pin the sha256 in tls.pinned_sha256",
            certificate.reason,
            certificate.subject,
            certificate.issuer,
            certificate.not_before,
            certificate.not_after,
            certificate.subject_alt_names.join(", "),
            certificate.sha256
        ),
        Event::ConnectionLost { reason } => format!("connection lost ({reason}); re-registering"),
        Event::TokenRefreshed { expires_in_secs } => format!(
            "OAuth access token renewed (valid {} s); re-registering",
            expires_in_secs.unwrap_or(0)
        ),
        Event::LoginRequired { reason, .. } => format!("log in again: {reason}"),
        other => format!("{other:?}"),
    }
}
