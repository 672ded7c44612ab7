//! The six SRTP protection profiles Lockphone speaks, with their SDES names and sizes.

use std::fmt;

use serde::Serialize;

/// An SRTP crypto suite (RFC 4568 SDES names; RFC 3711, RFC 6188, RFC 7714).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum SrtpSuite {
    /// AES-128 counter mode, HMAC-SHA1 tag of 80 bits.
    #[serde(rename = "AES_CM_128_HMAC_SHA1_80")]
    AesCm128HmacSha1_80,
    /// AES-128 counter mode, HMAC-SHA1 tag of 32 bits on RTP (80 on RTCP).
    #[serde(rename = "AES_CM_128_HMAC_SHA1_32")]
    AesCm128HmacSha1_32,
    /// AES-256 counter mode (RFC 6188), HMAC-SHA1 tag of 80 bits.
    #[serde(rename = "AES_256_CM_HMAC_SHA1_80")]
    AesCm256HmacSha1_80,
    /// AES-256 counter mode (RFC 6188), HMAC-SHA1 tag of 32 bits on RTP (80 on RTCP).
    #[serde(rename = "AES_256_CM_HMAC_SHA1_32")]
    AesCm256HmacSha1_32,
    /// AES-128 in Galois/Counter Mode (RFC 7714), 16-byte tag.
    #[serde(rename = "AEAD_AES_128_GCM")]
    AeadAes128Gcm,
    /// AES-256 in Galois/Counter Mode (RFC 7714), 16-byte tag.
    #[serde(rename = "AEAD_AES_256_GCM")]
    AeadAes256Gcm,
}

impl SrtpSuite {
    /// Every suite, strongest-first in the order CUCM prefers them (GCM before CM on a tie).
    pub const ALL: [SrtpSuite; 6] = [
        SrtpSuite::AeadAes256Gcm,
        SrtpSuite::AeadAes128Gcm,
        SrtpSuite::AesCm256HmacSha1_80,
        SrtpSuite::AesCm256HmacSha1_32,
        SrtpSuite::AesCm128HmacSha1_80,
        SrtpSuite::AesCm128HmacSha1_32,
    ];

    /// The suite for an SDES `a=crypto` suite name (exact, case-sensitive as RFC 4568 defines
    /// the tokens). `AES_CM_256_*` is accepted as the alias some peers send for `AES_256_CM_*`.
    pub fn from_sdes_name(name: &str) -> Option<Self> {
        Some(match name {
            "AES_CM_128_HMAC_SHA1_80" => Self::AesCm128HmacSha1_80,
            "AES_CM_128_HMAC_SHA1_32" => Self::AesCm128HmacSha1_32,
            "AES_256_CM_HMAC_SHA1_80" | "AES_CM_256_HMAC_SHA1_80" => Self::AesCm256HmacSha1_80,
            "AES_256_CM_HMAC_SHA1_32" | "AES_CM_256_HMAC_SHA1_32" => Self::AesCm256HmacSha1_32,
            "AEAD_AES_128_GCM" => Self::AeadAes128Gcm,
            "AEAD_AES_256_GCM" => Self::AeadAes256Gcm,
            _ => return None,
        })
    }

    /// The SDES name (RFC 4568 / RFC 6188 / RFC 7714 registry spelling).
    pub fn sdes_name(self) -> &'static str {
        match self {
            Self::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Self::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            Self::AesCm256HmacSha1_80 => "AES_256_CM_HMAC_SHA1_80",
            Self::AesCm256HmacSha1_32 => "AES_256_CM_HMAC_SHA1_32",
            Self::AeadAes128Gcm => "AEAD_AES_128_GCM",
            Self::AeadAes256Gcm => "AEAD_AES_256_GCM",
        }
    }

    /// Master key length in bytes (16 or 32).
    pub fn key_len(self) -> usize {
        match self {
            Self::AesCm128HmacSha1_80 | Self::AesCm128HmacSha1_32 | Self::AeadAes128Gcm => 16,
            Self::AesCm256HmacSha1_80 | Self::AesCm256HmacSha1_32 | Self::AeadAes256Gcm => 32,
        }
    }

    /// Master salt length in bytes (14 for counter mode, 12 for GCM).
    pub fn salt_len(self) -> usize {
        if self.is_aead() { 12 } else { 14 }
    }

    /// Master key plus salt, the length of the SDES `inline:` material: 30, 30, 46, 46, 28, 44.
    pub fn master_len(self) -> usize {
        self.key_len() + self.salt_len()
    }

    /// Authentication tag appended to SRTP packets: 10, 4 or 16 bytes.
    pub fn rtp_tag_len(self) -> usize {
        match self {
            Self::AesCm128HmacSha1_80 | Self::AesCm256HmacSha1_80 => 10,
            Self::AesCm128HmacSha1_32 | Self::AesCm256HmacSha1_32 => 4,
            Self::AeadAes128Gcm | Self::AeadAes256Gcm => 16,
        }
    }

    /// Authentication tag appended to SRTCP packets: 10 bytes for every counter-mode suite
    /// (RFC 3711 §5.2: the `_32` suites still use 80 bits on RTCP), 16 for GCM.
    pub fn rtcp_tag_len(self) -> usize {
        if self.is_aead() { 16 } else { 10 }
    }

    /// True for the AEAD (GCM) suites.
    pub fn is_aead(self) -> bool {
        matches!(self, Self::AeadAes128Gcm | Self::AeadAes256Gcm)
    }
}

impl fmt::Display for SrtpSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.sdes_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_sizes_match_the_rfcs() {
        let expected = [
            (44, 16, 16),
            (28, 16, 16),
            (46, 10, 10),
            (46, 4, 10),
            (30, 10, 10),
            (30, 4, 10),
        ];
        for (suite, (master, rtp_tag, rtcp_tag)) in SrtpSuite::ALL.into_iter().zip(expected) {
            assert_eq!(SrtpSuite::from_sdes_name(suite.sdes_name()), Some(suite));
            assert_eq!(suite.to_string(), suite.sdes_name());
            assert_eq!(
                (
                    suite.master_len(),
                    suite.rtp_tag_len(),
                    suite.rtcp_tag_len()
                ),
                (master, rtp_tag, rtcp_tag)
            );
        }
        assert_eq!(
            SrtpSuite::from_sdes_name("AES_CM_256_HMAC_SHA1_80"),
            Some(SrtpSuite::AesCm256HmacSha1_80)
        );
        assert_eq!(SrtpSuite::from_sdes_name("AEAD_AES_128_GCM_8"), None);
        assert_eq!(SrtpSuite::from_sdes_name("aes_cm_128_hmac_sha1_80"), None);
    }
}
