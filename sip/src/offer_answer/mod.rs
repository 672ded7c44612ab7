//! SDP offer/answer for one audio stream (RFC 3264) with SDES-SRTP keys (RFC 4568), sans-IO.
//!
//! [`OfferAnswer`] is one call's state: it writes our offers and answers from [`LocalMedia`]
//! (codecs, direction, [`SrtpPolicy`], suites, whether SDES keys may cross the signalling
//! path), checks the peer's, and hands back a [`Negotiated`] outcome for the media layer.
//! Every refusal is a [`NegotiationError`] with the SIP status to answer with and a reason in
//! plain words; no error or `Debug` output ever holds key material (log SDP with
//! [`SessionDescription::redacted`](crate::sdp::SessionDescription::redacted)).
//!
//! Rules:
//! - the answerer takes the first offered codec it has, and the first offered `a=crypto`
//!   whose suite it accepts, echoing its tag with its own fresh key;
//! - the offerer accepts exactly one answered `a=crypto` whose tag and suite are those of an
//!   offered line; a suite that was not offered is refused (baresip 1.0 answers
//!   `AES_CM_128_HMAC_SHA1_80` to an `AES_256_CM_HMAC_SHA1_80`-only offer);
//! - SDES keys are neither offered nor accepted unless [`LocalMedia::sdes_allowed`]
//!   (the dialog runs on verified TLS);
//! - hold: `sendonly`/`recvonly`/`inactive` either way, and `c=0.0.0.0`, set
//!   [`Negotiated::local_direction`];
//! - a re-offer from the same address and port keeps its keys and tags (the SRTP rollover
//!   counter carries on); a new address or port gets new keys (RFC 4568 section 7.1.4).

mod build;
mod codec;
mod crypto;
mod error;
mod exchange;
mod local;
mod negotiated;
mod remote;

pub use codec::AudioCodec;
pub use error::NegotiationError;
pub use exchange::OfferAnswer;
pub use local::{LocalMedia, SrtpPolicy, default_suites};
pub use negotiated::{Negotiated, NegotiatedSrtp};

use crate::sdp::SessionDescription;

/// Parses a received SDP body; the error maps to 400 (not text, not SDP) or 488 (a bad
/// `a=crypto`, such as a key of the wrong length).
///
/// ```
/// use lockphone_sip::offer_answer::parse_sdp;
/// assert_eq!(parse_sdp(b"v=0\r\n").unwrap_err().status_code(), 400);
/// ```
pub fn parse_sdp(body: &[u8]) -> Result<SessionDescription, NegotiationError> {
    let text = std::str::from_utf8(body).map_err(|_| NegotiationError::NotUtf8)?;
    Ok(text.parse::<SessionDescription>()?)
}

#[cfg(test)]
mod tests;
