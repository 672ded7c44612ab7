//! Why a registration failed.

use crate::auth::AuthError;

/// Why a registration failed; the message says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// Authentication failed (wrong password, rejected token, no usable challenge).
    #[error("authentication failed: {0}")]
    Auth(AuthError),
    /// The registrar refused with a final status.
    #[error("the registrar refused: {status} {reason}")]
    Refused {
        /// The status code.
        status: u16,
        /// The reason phrase.
        reason: String,
    },
    /// No final response (timer F) or the request could not be sent.
    #[error(
        "the registrar did not answer (no response within 32 s, or the request could not be sent)"
    )]
    NoAnswer,
    /// The registrar answered 200 but holds no binding for our contact.
    #[error("the registrar answered 200 but did not keep our contact (expires=0)")]
    NotBound,
}

impl RegistrationError {
    /// Whether the failure is about our credentials (password or token).
    pub fn is_credentials(&self) -> bool {
        matches!(
            self,
            RegistrationError::Auth(
                AuthError::Rejected { .. }
                    | AuthError::InvalidToken { .. }
                    | AuthError::NoCredentials
                    | AuthError::TokenRequired { .. }
            )
        )
    }
}
