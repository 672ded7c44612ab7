//! AES-GCM for the AEAD suites (RFC 7714) on ring: 12-byte IVs built from the session salt,
//! sealing and opening in place with a separate 16-byte tag.

use ring::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use zeroize::Zeroize;

/// Length of the GCM tag.
pub(crate) const GCM_TAG_LEN: usize = 16;

/// The GCM transform of one session (RTP or RTCP). The salt is wiped on drop; ring's
/// `LessSafeKey` does not zeroize its expanded key (a known ring limitation).
pub(crate) struct GcmTransform {
    key: LessSafeKey,
    /// The 12-byte salt as the low 96 bits of a big-endian integer, so an IV is built with
    /// a few integer operations instead of a byte loop.
    salt: u128,
}

impl Drop for GcmTransform {
    fn drop(&mut self) {
        self.salt.zeroize();
    }
}

impl GcmTransform {
    /// Builds the transform from a 16- or 32-byte session key; `None` for other lengths.
    pub(crate) fn new(key: &[u8], salt: &[u8; 12]) -> Option<Self> {
        let algorithm = match key.len() {
            16 => &AES_128_GCM,
            32 => &AES_256_GCM,
            _ => return None,
        };
        let key = LessSafeKey::new(UnboundKey::new(algorithm, key).ok()?);
        let mut wide = [0u8; 16];
        wide[4..].copy_from_slice(salt);
        let transform = Self {
            key,
            salt: u128::from_be_bytes(wide),
        };
        wide.zeroize();
        Some(transform)
    }

    /// The nonce of the 96-bit IV `iv` (before the salt), as an integer.
    fn nonce(&self, iv: u128) -> Nonce {
        let bytes = (iv ^ self.salt).to_be_bytes();
        let mut nonce = [0u8; 12];
        nonce.copy_from_slice(&bytes[4..]);
        Nonce::assume_unique_for_key(nonce)
    }

    /// RFC 7714 §8.1: IV = (0x0000 ‖ SSRC ‖ ROC ‖ SEQ) XOR salt; this is the part before the
    /// salt, as a 96-bit integer.
    pub(crate) fn rtp_iv(&self, ssrc: u32, roc: u32, seq: u16) -> u128 {
        u128::from(ssrc) << 48 | u128::from(roc) << 16 | u128::from(seq)
    }

    /// RFC 7714 §9.1: IV = (0x0000 ‖ SSRC ‖ 0x0000 ‖ 0 ‖ SRTCP index) XOR salt, before the
    /// salt.
    pub(crate) fn rtcp_iv(&self, ssrc: u32, index: u32) -> u128 {
        u128::from(ssrc) << 48 | u128::from(index & 0x7fff_ffff)
    }

    /// Encrypts `data` in place and returns the tag.
    pub(crate) fn seal(&self, iv: u128, aad: &[u8], data: &mut [u8]) -> Option<[u8; GCM_TAG_LEN]> {
        let tag = self
            .key
            .seal_in_place_separate_tag(self.nonce(iv), Aad::from(aad), data)
            .ok()?;
        tag.as_ref().try_into().ok()
    }

    /// Authenticates and decrypts `data` (ciphertext followed by the tag) in place; returns
    /// the plaintext length, or `None` when the tag does not verify.
    pub(crate) fn open(&self, iv: u128, aad: &[u8], data: &mut [u8]) -> Option<usize> {
        self.key
            .open_in_place(self.nonce(iv), Aad::from(aad), data)
            .ok()
            .map(|plain| plain.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srtp::test_util::hex;

    /// The IVs printed in RFC 7714 §16 and §17.
    #[test]
    fn rfc7714_ivs() {
        let salt: [u8; 12] = hex("517569642070726f2071756f").try_into().unwrap();
        let gcm = GcmTransform::new(&[0; 16], &salt).unwrap();
        let xor = |iv: u128| (iv ^ gcm.salt).to_be_bytes()[4..].to_vec();
        assert_eq!(
            xor(gcm.rtp_iv(0x5501_a0b2, 0, 0xf17b)),
            hex("51753c6580c2726f20718414")
        );
        assert_eq!(
            xor(gcm.rtcp_iv(0x4d61_7273, 0x5d4)),
            hex("517524055203726f207170bb")
        );
        assert!(GcmTransform::new(&[0; 24], &salt).is_none());
    }
}
