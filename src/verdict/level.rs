//! Security levels, ordered as CUCM orders them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How secure a part of a call is: `NotSecure < Authenticated < Encrypted`.
///
/// ```
/// use lockphone::verdict::SecurityLevel;
/// assert!(SecurityLevel::NotSecure < SecurityLevel::Authenticated);
/// assert_eq!(serde_json::to_string(&SecurityLevel::NotSecure).unwrap(), "\"not_secure\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SecurityLevel {
    /// No protection (or protection that cannot be trusted).
    NotSecure,
    /// Integrity and peer authentication, no confidentiality.
    Authenticated,
    /// Confidentiality, integrity and peer authentication.
    Encrypted,
}

impl SecurityLevel {
    /// The level's name in words (`Not secure`, `Authenticated`, `Encrypted`).
    pub fn as_words(self) -> &'static str {
        match self {
            SecurityLevel::NotSecure => "Not secure",
            SecurityLevel::Authenticated => "Authenticated",
            SecurityLevel::Encrypted => "Encrypted",
        }
    }

    /// CUCM's name, as in `Call-Info: …;security=NAME` (`NotAuthenticated`, `Authenticated`,
    /// `Encrypted`).
    pub fn cucm_name(self) -> &'static str {
        match self {
            SecurityLevel::NotSecure => "NotAuthenticated",
            SecurityLevel::Authenticated => "Authenticated",
            SecurityLevel::Encrypted => "Encrypted",
        }
    }

    /// The level of a CUCM name, case-insensitively; `None` for anything else.
    ///
    /// ```
    /// use lockphone::verdict::SecurityLevel;
    /// assert_eq!(SecurityLevel::from_cucm_name("notauthenticated"), Some(SecurityLevel::NotSecure));
    /// assert_eq!(SecurityLevel::from_cucm_name("not_secure"), None);
    /// ```
    pub fn from_cucm_name(name: &str) -> Option<SecurityLevel> {
        [
            SecurityLevel::NotSecure,
            SecurityLevel::Authenticated,
            SecurityLevel::Encrypted,
        ]
        .into_iter()
        .find(|level| level.cucm_name().eq_ignore_ascii_case(name))
    }

    /// The serde name (`not_secure`, `authenticated`, `encrypted`).
    pub fn as_str(self) -> &'static str {
        match self {
            SecurityLevel::NotSecure => "not_secure",
            SecurityLevel::Authenticated => "authenticated",
            SecurityLevel::Encrypted => "encrypted",
        }
    }
}

impl fmt::Display for SecurityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_words())
    }
}

/// What we know of the far end's security.
///
/// Serializes as the level's name, or `"unknown"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RemoteSecurity {
    /// Reported by the far end (CUCM `Call-Info`) or known because the far end is the
    /// verified TLS peer itself.
    Known(SecurityLevel),
    /// Nobody told us.
    Unknown,
}

impl RemoteSecurity {
    /// The level, if known.
    pub fn level(self) -> Option<SecurityLevel> {
        match self {
            RemoteSecurity::Known(level) => Some(level),
            RemoteSecurity::Unknown => None,
        }
    }

    /// The serde name: a level's name or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            RemoteSecurity::Known(level) => level.as_str(),
            RemoteSecurity::Unknown => "unknown",
        }
    }
}

impl fmt::Display for RemoteSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RemoteSecurity::Known(level) => level.fmt(f),
            RemoteSecurity::Unknown => f.write_str("unknown"),
        }
    }
}

impl Serialize for RemoteSecurity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// A downgrade policy or level name that is not one of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}: expected one of {expected}")]
pub struct UnknownName {
    /// What was being parsed.
    pub kind: &'static str,
    /// The text given (at most 40 characters).
    pub value: String,
    /// The accepted names.
    pub expected: &'static str,
}

impl FromStr for SecurityLevel {
    type Err = UnknownName;

    /// Accepts the serde names and CUCM's (`NotAuthenticated`, `Authenticated`, `Encrypted`),
    /// case-insensitively.
    fn from_str(s: &str) -> Result<SecurityLevel, UnknownName> {
        let trimmed = s.trim();
        if let Some(level) = SecurityLevel::from_cucm_name(trimmed) {
            return Ok(level);
        }
        match trimmed.to_ascii_lowercase().as_str() {
            "not_secure" | "notsecure" | "non_secure" => Ok(SecurityLevel::NotSecure),
            _ => Err(UnknownName {
                kind: "security level",
                value: s.chars().take(40).collect(),
                expected: "not_secure, authenticated, encrypted",
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_names_and_serde() {
        use SecurityLevel::*;
        let mut levels = [Encrypted, NotSecure, Authenticated];
        levels.sort();
        assert_eq!(levels, [NotSecure, Authenticated, Encrypted]);
        assert_eq!(NotSecure.min(Encrypted), NotSecure);
        for level in levels {
            let json = serde_json::to_string(&level).unwrap();
            assert_eq!(json, format!("\"{}\"", level.as_str()));
            assert_eq!(serde_json::from_str::<SecurityLevel>(&json).unwrap(), level);
            assert_eq!(level.as_str().parse::<SecurityLevel>().unwrap(), level);
        }
        assert_eq!(
            "NotAuthenticated".parse::<SecurityLevel>().unwrap(),
            NotSecure
        );
        assert!("secure".parse::<SecurityLevel>().is_err());
        assert_eq!(NotSecure.to_string(), "Not secure");
    }

    #[test]
    fn remote_serializes_as_a_name() {
        assert_eq!(
            serde_json::to_string(&RemoteSecurity::Known(SecurityLevel::Authenticated)).unwrap(),
            "\"authenticated\""
        );
        assert_eq!(
            serde_json::to_string(&RemoteSecurity::Unknown).unwrap(),
            "\"unknown\""
        );
        assert_eq!(RemoteSecurity::Unknown.level(), None);
        assert_eq!(
            RemoteSecurity::Known(SecurityLevel::Encrypted).level(),
            Some(SecurityLevel::Encrypted)
        );
    }
}
