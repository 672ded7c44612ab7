//! The per-call security verdict (design "The security verdict").
//!
//! One [`Verdict`] per call, recomputed on every signalling or media change from what was
//! really established — the [`ConnectionSecurity`](crate::tls::ConnectionSecurity) record of
//! the connection the dialog uses, the negotiated media ([`MediaFacts`]), and what the far end
//! reported ([`RemoteFacts`], from [`parse_remote_call_info`]) — never from URI text.
//!
//! - signalling: `Encrypted` only on TLS with an encrypting cipher and a verified peer (by a
//!   CA, or explicitly trusted by the user, which adds a reason); anything else `NotSecure`;
//! - media: `Encrypted` only with SRTP both ways whose SDES keys crossed only that verified
//!   TLS leg;
//! - remote: CUCM's `Call-Info … ;security=`; the verified peer itself on a direct call;
//!   otherwise unknown;
//! - call: the minimum; the padlock only for `Encrypted` with a known remote side.
//!
//! [`compare`] tells whether a later verdict is a [`Downgrade`]; the account's
//! [`DowngradePolicy`] decides what follows.

mod call_info;
mod compute;
mod downgrade;
mod level;

pub use call_info::parse_remote_call_info;
pub use compute::{MediaFacts, RemoteFacts, Verdict};
pub use downgrade::{Downgrade, DowngradePolicy, PartChange, VerdictPart, compare};
pub use level::{RemoteSecurity, SecurityLevel, UnknownName};

#[cfg(test)]
mod tests;
