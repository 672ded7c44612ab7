//! SDP (RFC 8866, formerly 4566) as a parsed model, and SDES `a=crypto` (RFC 4568).
//!
//! [`SessionDescription`] parses with `FromStr` (CRLF or LF line ends) and writes with `Display`
//! (CRLF). Lines and attributes it does not model are kept verbatim, so parsing and writing a
//! well-formed SDP gives the same text back; the exceptions are whitespace inside typed fields
//! (`o=`, `c=`, `t=`, `m=`, `a=crypto`), which is normalised to single spaces, base64 keys, which
//! are always written padded, and lines out of RFC order, which are written in RFC order.
//!
//! `Display` writes SDES keys in clear, as they go on the wire; for logs use
//! [`SessionDescription::redacted`].
//!
//! ```
//! use lockphone_sip::sdp::{Direction, SessionDescription};
//!
//! let offer: SessionDescription = "v=0\r\n\
//!     o=- 1 1 IN IP4 192.0.2.1\r\n\
//!     s=-\r\n\
//!     c=IN IP4 192.0.2.1\r\n\
//!     t=0 0\r\n\
//!     m=audio 4000 RTP/SAVP 0\r\n\
//!     a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n\
//!     a=sendonly\r\n"
//!     .parse()?;
//! let audio = &offer.media[0];
//! assert_eq!(offer.direction(audio), Direction::SendOnly);
//! assert_eq!(offer.connection_address(audio), Some("192.0.2.1"));
//! assert_eq!(audio.crypto().count(), 1);
//! assert!(offer.redacted().contains("inline:<redacted>"));
//! # Ok::<(), lockphone_sip::sdp::SdpError>(())
//! ```

mod crypto;
mod error;
mod media;
mod session;

pub use crypto::{CryptoAttribute, CryptoError, KeyParam, Lifetime, Mki, SdesKey, SdesSuite};
pub use error::SdpError;
pub use media::{Attribute, Direction, Fmtp, MediaDescription, RtpMap};
pub use session::{Bandwidth, Connection, Line, Origin, SessionDescription, Timing};

#[cfg(test)]
mod tests;
