//! Detecting a verdict that went down, and what the account does about it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::{RemoteSecurity, SecurityLevel, UnknownName, Verdict};

/// A part of the verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VerdictPart {
    /// The signalling leg.
    Signalling,
    /// The media.
    Media,
    /// The far end.
    Remote,
}

impl fmt::Display for VerdictPart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VerdictPart::Signalling => "signalling",
            VerdictPart::Media => "media",
            VerdictPart::Remote => "remote side",
        })
    }
}

/// One part that went down, with its levels in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartChange {
    /// Which part.
    pub part: VerdictPart,
    /// Its level before (`Encrypted`, `unknown`, …).
    pub from: String,
    /// Its level now.
    pub to: String,
}

impl fmt::Display for PartChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} went from {} to {}", self.part, self.from, self.to)
    }
}

/// A later verdict that is lower than the earlier one. `Display` says what went down in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Downgrade {
    /// The call level before.
    pub from: SecurityLevel,
    /// The call level now.
    pub to: SecurityLevel,
    /// Whether the padlock was shown and no longer is.
    pub lock_lost: bool,
    /// The parts that went down.
    pub parts: Vec<PartChange>,
    /// The new verdict's reasons.
    pub reasons: Vec<String>,
}

impl fmt::Display for Downgrade {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.from != self.to {
            write!(f, "security lowered from {} to {}", self.from, self.to)?;
        } else {
            write!(f, "security lowered within {}", self.to)?;
        }
        if self.lock_lost {
            f.write_str(" (padlock lost)")?;
        }
        let parts: Vec<String> = self.parts.iter().map(ToString::to_string).collect();
        if !parts.is_empty() {
            write!(f, ": {}", parts.join(", "))?;
        }
        Ok(())
    }
}

/// Whether `new` is lower than `old`: the call level, the padlock, or any part went down.
/// A remote side that was known and is now unknown counts as down; one that becomes known
/// counts only if it lowers the call.
///
/// ```
/// use lockphone::tls::ConnectionSecurity;
/// use lockphone::verdict::{RemoteFacts, Verdict, compare};
/// use lockphone_sip::message::Transport;
///
/// let udp = Verdict::compute(&ConnectionSecurity::plain(Transport::Udp), None, RemoteFacts::default());
/// assert!(compare(&udp, &udp).is_none());
/// ```
pub fn compare(old: &Verdict, new: &Verdict) -> Option<Downgrade> {
    let mut parts = Vec::new();
    let mut part = |part: VerdictPart, from: String, to: String| {
        parts.push(PartChange { part, from, to });
    };
    if new.signalling < old.signalling {
        part(
            VerdictPart::Signalling,
            old.signalling.to_string(),
            new.signalling.to_string(),
        );
    }
    if new.media < old.media {
        part(
            VerdictPart::Media,
            old.media.to_string(),
            new.media.to_string(),
        );
    }
    let remote_down = match (old.remote, new.remote) {
        (RemoteSecurity::Known(before), RemoteSecurity::Known(now)) => now < before,
        (RemoteSecurity::Known(_), RemoteSecurity::Unknown) => true,
        (RemoteSecurity::Unknown, RemoteSecurity::Known(now)) => now < old.level,
        (RemoteSecurity::Unknown, RemoteSecurity::Unknown) => false,
    };
    if remote_down {
        part(
            VerdictPart::Remote,
            old.remote.to_string(),
            new.remote.to_string(),
        );
    }
    let lock_lost = old.lock && !new.lock;
    if parts.is_empty() && new.level >= old.level && !lock_lost {
        return None;
    }
    Some(Downgrade {
        from: old.level,
        to: new.level,
        lock_lost,
        parts,
        reasons: new.reasons.clone(),
    })
}

/// What an account does when a later offer or answer lowers the verdict (an event is sent
/// in every case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DowngradePolicy {
    /// Tell the user and go on.
    #[default]
    Alert,
    /// Hang up the call.
    Hangup,
    /// Refuse the re-INVITE or UPDATE that lowers it (488); hang up if it came in an answer.
    Refuse,
}

impl DowngradePolicy {
    /// The configuration name (`alert`, `hangup`, `refuse`).
    pub fn as_str(self) -> &'static str {
        match self {
            DowngradePolicy::Alert => "alert",
            DowngradePolicy::Hangup => "hangup",
            DowngradePolicy::Refuse => "refuse",
        }
    }
}

impl fmt::Display for DowngradePolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DowngradePolicy {
    type Err = UnknownName;

    /// `alert`, `hangup` or `refuse`, case-insensitively.
    fn from_str(s: &str) -> Result<DowngradePolicy, UnknownName> {
        [
            DowngradePolicy::Alert,
            DowngradePolicy::Hangup,
            DowngradePolicy::Refuse,
        ]
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
        .ok_or_else(|| UnknownName {
            kind: "downgrade policy",
            value: s.chars().take(40).collect(),
            expected: "alert, hangup, refuse",
        })
    }
}
