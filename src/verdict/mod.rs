//! TEMPORARY stand-in for the per-call security verdict (replaced by the full module).

use std::fmt;

use serde::Serialize;

use crate::tls::ConnectionSecurity;

/// CUCM's security levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityLevel {
    /// No protection.
    NotSecure,
    /// Authenticated, not encrypted.
    Authenticated,
    /// Authenticated and encrypted.
    Encrypted,
}

/// Inputs.
#[derive(Debug)]
pub struct VerdictInputs<'a> {
    /// Signalling connection.
    pub signalling: &'a ConnectionSecurity,
    /// SRTP suite.
    pub srtp_suite: Option<String>,
    /// Media profile.
    pub media_profile: String,
    /// Keys over verified TLS.
    pub keys_over_verified_tls: bool,
    /// Call-Info level.
    pub remote_call_info: Option<SecurityLevel>,
    /// Direct call.
    pub direct: bool,
}

/// The verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// Level.
    pub level: SecurityLevel,
    /// Lock.
    pub lock: bool,
    /// Reasons.
    pub reasons: Vec<String>,
}

impl Verdict {
    /// Assess.
    pub fn assess(i: &VerdictInputs<'_>) -> Verdict {
        let mut reasons = Vec::new();
        let sig = if i.signalling.is_verified_tls() {
            SecurityLevel::Encrypted
        } else {
            reasons.push("signalling not verified TLS".to_owned());
            SecurityLevel::NotSecure
        };
        let media = if i.srtp_suite.is_some() && i.keys_over_verified_tls {
            SecurityLevel::Encrypted
        } else {
            reasons.push(format!("media is RTP: {}", i.media_profile));
            SecurityLevel::NotSecure
        };
        let remote = match (i.remote_call_info, i.direct) {
            (Some(l), _) => Some(l),
            (None, true) => Some(sig),
            (None, false) => {
                reasons.push("remote side unknown".to_owned());
                None
            }
        };
        let level = sig
            .min(media)
            .min(remote.unwrap_or(SecurityLevel::Encrypted));
        Verdict {
            level,
            lock: level == SecurityLevel::Encrypted && remote.is_some(),
            reasons,
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} {}", self.level, self.reasons.join("; "))
    }
}

/// A downgrade.
#[derive(Debug, Clone)]
pub struct Downgrade(String);

impl fmt::Display for Downgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Compare.
pub fn compare(old: &Verdict, new: &Verdict) -> Option<Downgrade> {
    (new.level < old.level).then(|| Downgrade(format!("{:?} -> {:?}", old.level, new.level)))
}

/// Parse Call-Info.
pub fn parse_remote_call_info<'a>(values: impl Iterator<Item = &'a str>) -> Option<SecurityLevel> {
    for v in values {
        if let Some(rest) = v.to_ascii_lowercase().split("security=").nth(1) {
            let word = rest.trim_matches(|c: char| !c.is_ascii_alphabetic());
            return Some(match word {
                w if w.starts_with("encrypted") => SecurityLevel::Encrypted,
                w if w.starts_with("authenticated") => SecurityLevel::Authenticated,
                _ => SecurityLevel::NotSecure,
            });
        }
    }
    None
}
