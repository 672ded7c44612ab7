//! Computing a call's verdict from what the connection and the SDP exchange really
//! established.

use std::fmt;

use lockphone_sip::message::Transport;
use lockphone_sip::offer_answer::Negotiated;
use lockphone_sip::sdp::SdesSuite;
use serde::Serialize;

use super::{RemoteSecurity, SecurityLevel};
use crate::tls::{ConnectionSecurity, TrustBasis};

/// The media facts of a call, from the last offer/answer exchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaFacts {
    /// The SRTP suite protecting both directions, or `None` for plain RTP.
    pub srtp_suite: Option<SdesSuite>,
    /// The stream's transport protocol (`RTP/SAVP`, `RTP/AVP`, …).
    pub profile: String,
    /// Whether the peer answered our offer (true) or we answered the peer's (false); only
    /// changes the words of the reasons.
    pub peer_answered: bool,
    /// Whether an SDP carrying the current SDES keys also travelled on a connection other
    /// than the dialog's verified TLS one (for example before a reconnection). The dialog's
    /// own connection is checked by [`Verdict::compute`].
    pub keys_crossed_other_leg: bool,
}

impl MediaFacts {
    /// The facts of a negotiated stream whose keys travelled only on the dialog's connection.
    pub fn from_negotiated(negotiated: &Negotiated, peer_answered: bool) -> MediaFacts {
        MediaFacts {
            srtp_suite: negotiated.srtp.as_ref().map(|s| s.suite.clone()),
            profile: negotiated.profile.clone(),
            peer_answered,
            keys_crossed_other_leg: false,
        }
    }
}

/// What we know of the far end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RemoteFacts {
    /// The level CUCM reported in `Call-Info` (see
    /// [`parse_remote_call_info`](super::parse_remote_call_info)), latest message first.
    pub call_info: Option<SecurityLevel>,
    /// Whether the dialog's connection goes straight to the far end (a direct call to the
    /// verified TLS peer), so that the far end's level is that connection's.
    pub direct: bool,
}

/// One call's security verdict. `Display` is one human line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The call's level: the minimum of signalling, media and the remote side when known.
    pub level: SecurityLevel,
    /// The signalling leg's level.
    pub signalling: SecurityLevel,
    /// The media's level.
    pub media: SecurityLevel,
    /// The far end's level.
    pub remote: RemoteSecurity,
    /// Whether to show the padlock: `Encrypted` with a known remote side.
    pub lock: bool,
    /// Why the verdict is not a plain `Encrypted` by a CA, in words.
    pub reasons: Vec<String>,
    /// The SRTP suite in use, if any.
    pub srtp_suite: Option<String>,
    /// The signalling transport (`TLS`, `TCP`, `UDP`).
    pub transport: String,
    /// The TLS version (`TLSv1.3`), for TLS.
    pub tls_version: Option<String>,
    /// How the server certificate was trusted, when it was.
    pub trusted_by: Option<TrustBasis>,
}

impl Verdict {
    /// The verdict from the record of the connection the dialog really uses, the media facts
    /// (`None` before any media is negotiated) and what the far end reported.
    ///
    /// ```
    /// use lockphone::tls::ConnectionSecurity;
    /// use lockphone::verdict::{RemoteFacts, SecurityLevel, Verdict};
    /// use lockphone_sip::message::Transport;
    ///
    /// let verdict = Verdict::compute(
    ///     &ConnectionSecurity::plain(Transport::Udp),
    ///     None,
    ///     RemoteFacts::default(),
    /// );
    /// assert_eq!(verdict.level, SecurityLevel::NotSecure);
    /// assert!(!verdict.lock);
    /// ```
    pub fn compute(
        signalling: &ConnectionSecurity,
        media: Option<&MediaFacts>,
        remote: RemoteFacts,
    ) -> Verdict {
        let mut reasons = Vec::new();
        let signalling_level = signalling_level(signalling, &mut reasons);
        let media_level = media_level(signalling_level, media, &mut reasons);
        let remote = remote_security(signalling_level, remote, &mut reasons);
        let mut level = signalling_level.min(media_level);
        if let Some(remote_level) = remote.level() {
            level = level.min(remote_level);
        }
        Verdict {
            level,
            signalling: signalling_level,
            media: media_level,
            remote,
            lock: level == SecurityLevel::Encrypted && remote.level().is_some(),
            reasons,
            srtp_suite: media
                .and_then(|m| m.srtp_suite.as_ref())
                .map(|s| s.as_str().to_owned()),
            transport: signalling.transport.as_str().to_owned(),
            tls_version: signalling.tls_version.as_deref().map(tls_version_words),
            trusted_by: signalling.trusted_by,
        }
    }
}

/// `TLSv1_3` (rustls' Debug name) → `TLSv1.3`.
fn tls_version_words(version: &str) -> String {
    version.replace('_', ".")
}

fn signalling_level(record: &ConnectionSecurity, reasons: &mut Vec<String>) -> SecurityLevel {
    if record.transport != Transport::Tls {
        reasons.push(format!(
            "signalling is {}: not encrypted",
            record.transport.as_str()
        ));
        return SecurityLevel::NotSecure;
    }
    if !record.peer_verified {
        reasons.push("signalling is TLS but the server certificate was not verified".to_owned());
        return SecurityLevel::NotSecure;
    }
    match record.trusted_by {
        Some(TrustBasis::UserTrustStore | TrustBasis::UserContinued) => {
            reasons.push("server certificate accepted by user, not by a CA".to_owned());
        }
        Some(TrustBasis::PinnedFingerprint) => {
            reasons
                .push("server certificate pinned by fingerprint, not verified by a CA".to_owned());
        }
        Some(TrustBasis::CertificateAuthority) | None => {}
    }
    let cipher = record.cipher_suite.as_deref().unwrap_or_default();
    if cipher.is_empty() || cipher.to_ascii_uppercase().contains("NULL") {
        let shown = if cipher.is_empty() { "unknown" } else { cipher };
        reasons.push(format!(
            "signalling TLS cipher suite {shown} gives no confidentiality"
        ));
        return SecurityLevel::Authenticated;
    }
    SecurityLevel::Encrypted
}

fn media_level(
    signalling: SecurityLevel,
    media: Option<&MediaFacts>,
    reasons: &mut Vec<String>,
) -> SecurityLevel {
    let Some(media) = media else {
        reasons.push("no media negotiated yet".to_owned());
        return SecurityLevel::NotSecure;
    };
    let profile: String = media.profile.chars().take(32).collect();
    if media.srtp_suite.is_none() {
        let who = if media.peer_answered {
            "answered"
        } else {
            "offered"
        };
        reasons.push(format!("media is RTP: peer {who} {profile}"));
        return SecurityLevel::NotSecure;
    }
    if signalling != SecurityLevel::Encrypted {
        reasons.push(
            "media is SRTP but its keys crossed signalling that is not encrypted and verified"
                .to_owned(),
        );
        return SecurityLevel::NotSecure;
    }
    if media.keys_crossed_other_leg {
        reasons.push(
            "media is SRTP but its keys also crossed a connection that is not verified TLS"
                .to_owned(),
        );
        return SecurityLevel::NotSecure;
    }
    SecurityLevel::Encrypted
}

fn remote_security(
    signalling: SecurityLevel,
    remote: RemoteFacts,
    reasons: &mut Vec<String>,
) -> RemoteSecurity {
    if let Some(level) = remote.call_info {
        if level < SecurityLevel::Encrypted {
            reasons.push(format!(
                "remote side reports security={}",
                level.cucm_name()
            ));
        }
        return RemoteSecurity::Known(level);
    }
    if remote.direct {
        return RemoteSecurity::Known(signalling);
    }
    reasons.push("remote side unknown: proxy sent no Call-Info security".to_owned());
    RemoteSecurity::Unknown
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.level)?;
        if self.lock {
            f.write_str(" 🔒")?;
        }
        f.write_str(" — ")?;
        f.write_str(self.srtp_suite.as_deref().unwrap_or("RTP"))?;
        write!(
            f,
            " over {}",
            self.tls_version.as_deref().unwrap_or(&self.transport)
        )?;
        if self.signalling > SecurityLevel::NotSecure {
            f.write_str(match self.trusted_by {
                Some(TrustBasis::CertificateAuthority) => " verified by CA",
                Some(TrustBasis::UserTrustStore) => " trusted by user",
                Some(TrustBasis::UserContinued) => " accepted by user for this session",
                Some(TrustBasis::PinnedFingerprint) => " with pinned certificate",
                None => " verified",
            })?;
        }
        if !self.reasons.is_empty() {
            write!(f, "; {}", self.reasons.join("; "))?;
        }
        Ok(())
    }
}
