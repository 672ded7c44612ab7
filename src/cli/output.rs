//! Printing events: one human-readable line, or one JSON object per line.

use std::io::Write;

use lockphone::tls::CertificateSummary;
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
    print_line(&line);
}

/// Prints one line on stdout and flushes it; a closed stdout drops the line.
pub(crate) fn print_line(line: &str) {
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
                ) + &format!("; revocation: {}", security.revocation.describe())
                    + if security.common_criteria {
                        " [Common Criteria]"
                    } else {
                        ""
                    }
                    + if security.fips { " [FIPS]" } else { "" }
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
        Event::RegistrationExpired => {
            "registration expired: not reachable until re-registered (retrying)".to_owned()
        }
        Event::Unregistered => "unregistered".to_owned(),
        Event::RegistrationFailed { reason, .. } => format!("registration failed: {reason}"),
        Event::TrustDecisionRequired {
            server,
            certificate,
        } => format!(
            "the certificate of {server} is not trusted: {}{}\n  to trust it: lockphone trust import --identity {server} CERT.pem, or pin the sha256 in tls.pinned_sha256",
            certificate.reason,
            certificate_lines(certificate),
        ),
        Event::CertificateChanged {
            server,
            stored_sha256,
            presented,
        } => format!(
            "ALARM: the certificate of {server} CHANGED since you trusted it (was {stored_sha256}, now {}, issued by {}): refused until you decide again",
            presented.sha256, presented.issuer
        ),
        Event::ConnectionLost { reason } => format!("connection lost ({reason}); re-registering"),
        Event::CallStarted {
            call,
            direction,
            peer,
            security,
        } => format!(
            "call {call}: {direction} {} {peer} over {}{}",
            if direction == "incoming" {
                "from"
            } else {
                "to"
            },
            security
                .tls_version
                .as_deref()
                .unwrap_or(&security.transport.to_string()),
            if security.is_verified_tls() {
                ", peer verified"
            } else {
                ", peer NOT verified"
            }
        ),
        Event::CallRinging { call } => format!("call {call}: ringing"),
        Event::CallAnswered {
            call,
            codec,
            srtp_suite,
        } => format!(
            "call {call}: answered, {codec}, {}",
            srtp_suite.as_deref().unwrap_or("plain RTP (not encrypted)")
        ),
        Event::CallSecurity { call, verdict } => format!("call {call}: security {verdict}"),
        Event::CallDowngrade { call, what, action } => {
            format!("call {call}: SECURITY DOWNGRADE: {what} (policy: {action:?})")
        }
        Event::CallFailed { call, reason } => format!("call {call}: failed: {reason}"),
        Event::CallStats { call, stats } => format!(
            "call {call}: sent {} / received {} packets, lost {}, jitter {:.1} ms, rtt {}, MOS {}",
            stats.packets_sent,
            stats.packets_received,
            stats.lost,
            stats.jitter_ms,
            stats
                .rtt_ms
                .map_or("-".to_owned(), |r| format!("{r:.1} ms")),
            stats.mos.map_or("-".to_owned(), |m| format!("{m:.2}")),
        ),
        Event::CallEnded { call, summary } => describe_summary(*call, summary),
        Event::TokenRefreshed { expires_in_secs } => format!(
            "OAuth access token renewed (valid {} s); re-registering",
            expires_in_secs.unwrap_or(0)
        ),
        Event::LoginRequired { reason, .. } => format!("log in again: {reason}"),
        other => format!("{other:?}"),
    }
}

/// A certificate in indented lines (subject, issuer, validity, names, fingerprint), each
/// starting with a newline: what events, the trust question and `contacts` show.
pub(crate) fn certificate_lines(c: &CertificateSummary) -> String {
    format!(
        "\n  subject  {}\n  issuer   {}\n  valid    {} .. {}\n  names    {}\n  sha256   {}",
        c.subject,
        c.issuer,
        c.not_before,
        c.not_after,
        if c.subject_alt_names.is_empty() {
            "(none)".to_owned()
        } else {
            c.subject_alt_names.join(", ")
        },
        c.sha256
    )
}

/// The end-of-call summary, several lines.
fn describe_summary(
    call: lockphone::call::CallId,
    summary: &lockphone::call::CallSummary,
) -> String {
    let mut text = format!(
        "call {call}: ended ({}) after {:.1} s with {}",
        summary.end_reason, summary.duration_secs, summary.peer
    );
    match &summary.verdict {
        Some(verdict) => text.push_str(&format!("\n  security  {verdict}")),
        None => text.push_str("\n  security  (never answered)"),
    }
    if let Some(codec) = &summary.codec {
        text.push_str(&format!(
            "\n  media     {codec}, {}",
            summary.srtp_suite.as_deref().unwrap_or("plain RTP")
        ));
    }
    if let Some(report) = &summary.media {
        let s = &report.stats;
        text.push_str(&format!(
            "\n  packets   sent {}, received {}, lost {}, late {}, SRTP failures {} (auth {}, replay {}, cleartext {})",
            s.packets_sent,
            s.packets_received,
            s.lost,
            s.late,
            s.srtp_auth_failures + s.srtp_replays + s.srtp_cleartext,
            s.srtp_auth_failures,
            s.srtp_replays,
            s.srtp_cleartext
        ));
        text.push_str(&format!(
            "\n  quality   jitter {:.1} ms, rtt {}, MOS {}",
            s.jitter_ms,
            s.rtt_ms.map_or("-".to_owned(), |r| format!("{r:.1} ms")),
            s.mos.map_or("-".to_owned(), |m| format!("{m:.2}"))
        ));
        text.push_str(&format!(
            "\n  received  {} frames of audio, level {:.3}, dominant {}",
            s.audio.frames_audio,
            s.audio.rms,
            s.audio
                .dominant_frequency_hz
                .map_or("-".to_owned(), |f| format!("{f:.0} Hz"))
        ));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trust_question_shows_the_certificate_lines() {
        let certificate = CertificateSummary {
            subject: "CN=sip.example.test".to_owned(),
            issuer: "CN=Example CA".to_owned(),
            not_before: "Jan 1 2025".to_owned(),
            not_after: "Jan 1 2026".to_owned(),
            sha256: "AB:CD".to_owned(),
            subject_alt_names: vec!["DNS:sip.example.test".to_owned(), "IP:192.0.2.7".to_owned()],
            reason: "unknown issuer".to_owned(),
        };
        let text = describe(&Event::TrustDecisionRequired {
            server: "sip.example.test:5061".to_owned(),
            certificate: Box::new(certificate),
        });
        assert_eq!(
            text,
            "the certificate of sip.example.test:5061 is not trusted: unknown issuer\n  \
             subject  CN=sip.example.test\n  issuer   CN=Example CA\n  \
             valid    Jan 1 2025 .. Jan 1 2026\n  \
             names    DNS:sip.example.test, IP:192.0.2.7\n  sha256   AB:CD\n  \
             to trust it: lockphone trust import --identity sip.example.test:5061 CERT.pem, \
             or pin the sha256 in tls.pinned_sha256"
        );
    }
}
