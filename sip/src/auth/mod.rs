//! SIP authentication: Digest (RFC 3261 §22, RFC 7616, RFC 8760: MD5, SHA-256, SHA-512/256 and
//! their `-sess` forms) and Bearer (RFC 8898) challenges and credentials.
//!
//! [`parse_challenges`] and [`challenges_in`] read `WWW-Authenticate`/`Proxy-Authenticate`;
//! [`Authenticator`] is the sans-IO client side: it learns from 401/407 responses and adds
//! `Authorization`/`Proxy-Authorization` to the requests that follow.
//!
//! ```
//! use lockphone_sip::auth::{Authenticator, ChallengeOutcome, Credentials, Secret};
//! use lockphone_sip::message::{HeaderName, Method, Request, Response, StatusCode};
//!
//! let mut auth = Authenticator::new(Credentials::Digest {
//!     username: "alice".into(),
//!     password: Secret::new("Circle of Life"),
//! });
//! let mut challenge = Response::new(StatusCode::UNAUTHORIZED, None);
//! challenge.headers.push(
//!     HeaderName::WwwAuthenticate,
//!     r#"Digest realm="example.test", nonce="n1", qop="auth", algorithm=SHA-256"#,
//! );
//! assert_eq!(auth.on_challenge(&challenge).unwrap(), ChallengeOutcome::Retry);
//!
//! let mut register = Request::new(Method::Register, "sips:example.test".parse().unwrap());
//! auth.authorize(&mut register, &mut rand::rng());
//! let header = register.headers.get(&HeaderName::Authorization).unwrap();
//! assert!(header.starts_with(r#"Digest username="alice", realm="example.test""#));
//! assert!(!format!("{auth:?}").contains("Circle"));
//! ```
//!
//! Secrets live in [`Secret`], which is zeroized on drop and prints as `<redacted>`; they
//! appear nowhere but in the computed header.

mod authenticator;
mod challenge;
mod digest;
mod error;
mod params;
mod secret;

pub use authenticator::{Authenticator, ChallengeOutcome};
pub use challenge::{
    BearerChallenge, Challenge, ChallengeOrigin, DigestChallenge, challenges_in, parse_challenges,
};
pub use digest::DigestAlgorithm;
pub use error::AuthError;
pub use secret::{Credentials, Secret};
