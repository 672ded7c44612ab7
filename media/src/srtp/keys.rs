//! SRTP master keys: length-checked per suite, redacted in `Debug`, zeroized on drop.

use std::fmt;

use zeroize::Zeroize;

use super::{SrtpError, SrtpSuite};

/// Longest master key + salt of any suite (AES-256-CM: 32 + 14).
const MAX_MASTER_LEN: usize = 46;

/// The master key and master salt of one SRTP direction, as carried in an SDES `inline:`
/// parameter (key followed by salt).
///
/// ```
/// use lockphone_media::srtp::{SrtpKeys, SrtpSuite};
///
/// let err = SrtpKeys::new(SrtpSuite::AeadAes256Gcm, &[0; 42]).unwrap_err();
/// assert_eq!(err.to_string(), "AEAD_AES_256_GCM needs 44 bytes of key+salt (32+12), got 42");
/// let keys = SrtpKeys::new(SrtpSuite::AeadAes256Gcm, &[7; 44]).unwrap();
/// assert!(!format!("{keys:?}").contains('7'));
/// ```
#[derive(Clone)]
pub struct SrtpKeys {
    suite: SrtpSuite,
    material: [u8; MAX_MASTER_LEN],
}

impl SrtpKeys {
    /// Checks that `master` (key followed by salt) has exactly the suite's length.
    pub fn new(suite: SrtpSuite, master: &[u8]) -> Result<Self, SrtpError> {
        if master.len() != suite.master_len() {
            return Err(SrtpError::KeyLength {
                suite,
                expected: suite.master_len(),
                key_len: suite.key_len(),
                salt_len: suite.salt_len(),
                got: master.len(),
            });
        }
        let mut material = [0; MAX_MASTER_LEN];
        material[..master.len()].copy_from_slice(master);
        Ok(Self { suite, material })
    }

    /// Fresh random keys for an offer or answer, from a cryptographically secure RNG.
    pub fn generate(suite: SrtpSuite, rng: &mut impl rand::CryptoRng) -> Self {
        let mut material = [0; MAX_MASTER_LEN];
        rng.fill_bytes(&mut material[..suite.master_len()]);
        Self { suite, material }
    }

    /// The suite these keys are for.
    pub fn suite(&self) -> SrtpSuite {
        self.suite
    }

    /// Key followed by salt, for encoding into SDES. Handle with care: this is the secret.
    pub fn master(&self) -> &[u8] {
        &self.material[..self.suite.master_len()]
    }

    /// The master key alone.
    pub fn master_key(&self) -> &[u8] {
        &self.material[..self.suite.key_len()]
    }

    /// The master salt alone.
    pub fn master_salt(&self) -> &[u8] {
        &self.material[self.suite.key_len()..self.suite.master_len()]
    }
}

impl PartialEq for SrtpKeys {
    /// Constant-time comparison (used to tell whether a re-INVITE changed the keys).
    fn eq(&self, other: &Self) -> bool {
        let diff = self
            .material
            .iter()
            .zip(&other.material)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        self.suite == other.suite && diff == 0
    }
}

impl Eq for SrtpKeys {}

impl fmt::Debug for SrtpKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpKeys")
            .field("suite", &self.suite)
            .field("master", &"<redacted>")
            .finish()
    }
}

impl Drop for SrtpKeys {
    fn drop(&mut self) {
        self.material.zeroize();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_suite_rejects_every_wrong_length() {
        for suite in SrtpSuite::ALL {
            for len in [0, 12, 28, 30, 38, 42, 44, 46, 47] {
                let result = SrtpKeys::new(suite, &vec![1; len]);
                if len == suite.master_len() {
                    assert!(result.is_ok(), "{suite} {len}");
                } else {
                    let err = result.unwrap_err();
                    let message = err.to_string();
                    assert!(message.starts_with(suite.sdes_name()), "{message}");
                    assert!(message.ends_with(&format!("got {len}")), "{message}");
                }
            }
        }
        let err = SrtpKeys::new(SrtpSuite::AesCm128HmacSha1_80, &[0; 28]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AES_CM_128_HMAC_SHA1_80 needs 30 bytes of key+salt (16+14), got 28"
        );
    }

    #[test]
    fn key_and_salt_split_and_debug_is_redacted() {
        let master: Vec<u8> = (0..44).collect();
        let keys = SrtpKeys::new(SrtpSuite::AeadAes256Gcm, &master).unwrap();
        assert_eq!(keys.master(), &master[..]);
        assert_eq!(keys.master_key(), &master[..32]);
        assert_eq!(keys.master_salt(), &master[32..]);
        let debug = format!("{keys:?}");
        assert!(
            debug.contains("<redacted>") && !debug.contains("31"),
            "{debug}"
        );
        assert_eq!(keys.clone(), keys);
        assert_ne!(
            SrtpKeys::new(SrtpSuite::AeadAes256Gcm, &[0; 44]).unwrap(),
            keys
        );
    }
}
