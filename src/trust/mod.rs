//! Certificate trust beyond the chain: the SIP identity rules (RFC 5922, RFC 9525).
//!
//! [`identity::check_identity`] decides whether a server certificate names the SIP domain we
//! meant to reach (the domain of the original URI, never an SRV target). It is the piece the
//! TLS verifier ([`crate::tls::verifier`]) will call instead of web-PKI name matching.

pub mod decision;
pub mod identity;
pub mod import;
pub mod kind;
pub mod store;

pub use decision::{TrustDecision, TrustDecisionError};
