//! SRTP and SRTCP (RFC 3711) for the six SDES suites: AES-128/256 counter mode with
//! HMAC-SHA1-80/32 (RFC 3711, RFC 6188) and AEAD AES-128/256-GCM (RFC 7714).
//!
//! [`SrtpKeys`] holds a length-checked master key; [`SrtpContext`] protects or unprotects one
//! direction, keeping per-SSRC rollover counters and replay windows, and counting what it
//! did in [`SrtpCounters`].
//!
//! # Why our own transform
//!
//! The crates.io candidates, webrtc-srtp 0.17.2 and rtc-srtp 0.21.1, cannot seed a receiver's
//! ROC (both keep `set_roc` private), reject a non-zero KDR, and webrtc-srtp leaves replay
//! protection off unless asked, parses the header and allocates an output buffer per packet,
//! and reaches only about 30 % of ring's raw AES-GCM seal (shared/reference/performance.md
//! §4.1). This module is a small transform over well-kept primitives instead: ring's AES-GCM
//! (seal/open in place, RTP header as AAD) for the AEAD suites, and RustCrypto `aes` (key
//! schedule built once, counter blocks encrypted eight at a time) with a pre-keyed
//! `hmac`/`sha1` state for the counter-mode suites. webrtc-srtp stays as a test-only oracle:
//! the tests cross-check every suite in both directions, SRTCP included, across a ROC
//! rollover, besides the published vectors (RFC 3711 B.2/B.3, RFC 6188 §7.2, RFC 7714 §16/§17).
//!
//! Measured with `cargo bench -p lockphone-media --bench srtp` (one thread's CPU time —
//! `CLOCK_THREAD_CPUTIME_ID`, so a machine loaded by other builds preempts the thread without
//! skewing the figure — packets per second, protect / unprotect with replay protection on;
//! "raw" is the bare primitive on the same buffer in the same run: ring seal/open with a
//! 12-byte AAD for GCM, AES-CTR + HMAC-SHA1-80 for CM):
//!
//! | suite | payload | ours | raw primitive | webrtc-srtp | ours ÷ raw |
//! |---|---|---|---|---|---|
//! | AEAD_AES_128_GCM | 160 B | 11.0M / 10.8M | 11.7M / 10.8M | 3.4M / 3.4M | 0.95 / 1.00 |
//! | AEAD_AES_256_GCM | 160 B | 10.6M / 10.5M | 11.0M / 10.8M | 3.3M / 3.2M | 0.96 / 0.98 |
//! | AES_CM_128_HMAC_SHA1_80 | 160 B | 4.62M / 4.54M | 4.64M / 4.31M | 3.19M / 3.11M | 0.99 / 1.05 |
//! | AES_256_CM_HMAC_SHA1_80 | 160 B | 4.41M / 4.38M | 4.52M / 4.25M | 2.50M / 2.63M | 0.97 / 1.03 |
//! | AEAD_AES_128_GCM | 80 B | 12.4M / 11.4M | 13.4M / 12.5M | 4.4M / 4.0M | 0.93 / 0.91 |
//! | AEAD_AES_256_GCM | 80 B | 12.1M / 11.5M | 12.6M / 12.6M | 4.3M / 3.8M | 0.96 / 0.91 |
//! | AES_CM_128_HMAC_SHA1_80 | 80 B | 5.57M / 5.46M | 5.72M / 5.39M | 3.64M / 3.59M | 0.97 / 1.01 |
//! | AES_256_CM_HMAC_SHA1_80 | 80 B | 5.40M / 5.31M | 5.69M / 5.30M | 2.81M / 2.98M | 0.95 / 1.00 |
//!
//! (The `_32` suites match their `_80` twins within 3 %.) Instructions counted by callgrind
//! (`media/benches/srtp_instructions.sh`) tell where the rest goes: our SRTP bookkeeping
//! (header parse, stream lookup, ROC guess, replay window, IV) costs about 165 instructions
//! per protect and 240 per unprotect, against ~1000 for GCM's crypto at 160 B and ~6600 for
//! CM's, so raw ÷ ours in *instructions* is 0.85 / 0.82 (GCM, 160 B), 0.82 / 0.79 (GCM, 80 B)
//! and 0.95–0.96 / 0.94–0.95 (CM); the bookkeeping is cheap scalar work beside AES-NI and
//! carry-less multiplies, hence the ≥ 0.9 in time. rtc-srtp 0.21.1 was not rebuilt here;
//! performance.md §4.1 puts its ring GCM at 3.5 M/s at 160 B, a third of ring's raw seal,
//! and it has the same missing ROC setter.
//!
//! Key hygiene: [`SrtpKeys`] is zeroized on drop and prints `<redacted>`; derived session
//! keys are zeroized once the transforms are built, and the AES round keys on drop (the `aes`
//! crate's `zeroize` feature). ring's GCM key schedule and the HMAC inner/outer states are
//! not wiped by those crates.
//!
//! MKI and key-derivation rates other than 0 are not supported (SDES `|KDR` / `|MKI:`
//! parameters must be refused by the offer/answer layer).

mod cm;
mod context;
mod gcm;
mod kdf;
mod keys;
mod replay;
mod roc;
mod suite;
mod transform;

#[cfg(test)]
mod test_util;
#[cfg(test)]
mod tests;

use serde::Serialize;
use thiserror::Error;

pub use context::{MAX_STREAMS, SrtpContext};
pub use keys::SrtpKeys;
pub use suite::SrtpSuite;

use crate::rtp::RtpError;

/// Why SRTP or SRTCP processing refused a packet or a key. Key material never appears here.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SrtpError {
    /// The master key + salt has the wrong length for the suite.
    #[error("{suite} needs {expected} bytes of key+salt ({key_len}+{salt_len}), got {got}")]
    KeyLength {
        /// The suite.
        suite: SrtpSuite,
        /// Key + salt length the suite needs.
        expected: usize,
        /// Key length.
        key_len: usize,
        /// Salt length.
        salt_len: usize,
        /// Length supplied.
        got: usize,
    },
    /// The packet is shorter than its header plus the SRTP trailer.
    #[error("packet too short: {len} bytes, at least {min} needed")]
    TooShort {
        /// Packet length.
        len: usize,
        /// Minimum length.
        min: usize,
    },
    /// The RTP header is malformed.
    #[error("malformed RTP: {0}")]
    Rtp(#[from] RtpError),
    /// The RTCP header is malformed.
    #[error("malformed RTCP: {reason}")]
    MalformedRtcp {
        /// What is wrong.
        reason: &'static str,
    },
    /// The tag did not verify (wrong key, tampering, or plain RTP: an unprotected RTP packet
    /// cannot be told from a forged one).
    #[error("authentication failed for SSRC {ssrc:#010x} index {index}")]
    AuthenticationFailed {
        /// SSRC of the packet.
        ssrc: u32,
        /// Packet index it was checked under.
        index: u64,
    },
    /// A plain (unprotected) RTCP packet arrived where SRTCP was expected.
    #[error("plain RTCP received on an SRTCP session")]
    Cleartext,
    /// The packet index was already received or is older than the replay window.
    #[error("replayed or too old: SSRC {ssrc:#010x} index {index}")]
    Replay {
        /// SSRC of the packet.
        ssrc: u32,
        /// Its packet index.
        index: u64,
    },
    /// Protecting would reuse an index (same sequence number twice, or a jump back beyond the
    /// window), which would reuse keystream.
    #[error("SSRC {ssrc:#010x} index {index} was already protected with this key")]
    IndexReused {
        /// SSRC of the packet.
        ssrc: u32,
        /// The index.
        index: u64,
    },
    /// The master key's lifetime is over (2^48 SRTP or 2^31 SRTCP packets): rekey.
    #[error("key lifetime exhausted for SSRC {ssrc:#010x}: the SRTP/SRTCP index would wrap; rekey")]
    KeyLifetimeExhausted {
        /// The SSRC.
        ssrc: u32,
    },
    /// More SSRCs than one context tracks.
    #[error("more than {limit} SSRCs on one SRTP context")]
    TooManyStreams {
        /// The limit.
        limit: usize,
    },
    /// A cryptographic primitive refused its input (not expected with checked key lengths).
    #[error("cryptographic primitive failure")]
    Crypto,
}

/// What a context did: successes and each kind of refusal. Refusals never change the state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SrtpCounters {
    /// Packets protected (RTP and RTCP).
    pub protected: u64,
    /// Packets unprotected successfully.
    pub unprotected: u64,
    /// Packets whose tag did not verify.
    pub auth_failures: u64,
    /// Packets refused as replays (or older than the window).
    pub replays: u64,
    /// Packets too short or with a malformed header.
    pub malformed: u64,
    /// Plain RTCP packets received where SRTCP was expected.
    pub cleartext: u64,
    /// Packets accepted under the keys before a rekey, during its grace period (included
    /// in `unprotected`).
    pub previous_key: u64,
}

impl SrtpCounters {
    fn record(&mut self, result: &Result<usize, SrtpError>) {
        let counter = match result {
            Ok(_) => &mut self.unprotected,
            Err(SrtpError::AuthenticationFailed { .. }) => &mut self.auth_failures,
            Err(SrtpError::Replay { .. }) => &mut self.replays,
            Err(SrtpError::Cleartext) => &mut self.cleartext,
            Err(
                SrtpError::TooShort { .. } | SrtpError::Rtp(_) | SrtpError::MalformedRtcp { .. },
            ) => &mut self.malformed,
            Err(_) => return,
        };
        *counter += 1;
    }
}
