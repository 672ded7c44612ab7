//! [`Secret`] and [`Credentials`]: passwords and tokens that never print.

use std::fmt;

use zeroize::Zeroize;

/// A password or token. Zeroized when dropped; `Debug` and `Display` print `<redacted>`.
#[derive(Clone, Default)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }

    /// The secret itself, for computing a credential.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// What an account authenticates with.
#[derive(Debug, Clone, Default)]
pub enum Credentials {
    /// Digest: a username and password.
    Digest {
        /// The username (not secret).
        username: String,
        /// The password.
        password: Secret,
    },
    /// An OAuth 2.0 access token (RFC 8898).
    Bearer {
        /// The access token.
        token: Secret,
    },
    /// No credentials: challenges cannot be answered.
    #[default]
    None,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_print() {
        let secret = Secret::new("hunter2");
        assert_eq!(secret.expose(), "hunter2");
        assert_eq!(format!("{secret} {secret:?}"), "<redacted> <redacted>");
        let creds = Credentials::Digest {
            username: "alice".into(),
            password: secret.clone(),
        };
        let debug = format!(
            "{creds:?} {:?}",
            Credentials::Bearer {
                token: Secret::new("eyJtoken")
            }
        );
        assert!(debug.contains("alice"));
        assert!(!debug.contains("hunter2") && !debug.contains("eyJtoken"));
    }
}
