//! AES counter mode (RFC 3711 §4.1.1, RFC 6188) and the HMAC-SHA1 tag (RFC 3711 §4.2) on
//! RustCrypto primitives. The AES key schedule and the HMAC inner/outer pads are computed once
//! per session key; each packet costs only the block encryptions and two SHA-1 runs.

use aes::cipher::consts::U16;
use aes::cipher::{
    BlockCipher, BlockEncryptMut, BlockSizeUser, InnerIvInit, KeyInit, StreamCipher,
    StreamCipherCoreWrapper,
};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use zeroize::Zeroize;

/// AES encryption with a 128- or 256-bit key.
// One per session key and used on every packet: boxing the larger variant would add an
// indirection to the hot path for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub(crate) enum AesEnc {
    /// AES-128.
    A128(aes::Aes128Enc),
    /// AES-256.
    A256(aes::Aes256Enc),
}

impl AesEnc {
    /// The cipher for a 16- or 32-byte key; `None` for any other length.
    pub(crate) fn new(key: &[u8]) -> Option<Self> {
        match key.len() {
            16 => aes::Aes128Enc::new_from_slice(key).ok().map(Self::A128),
            32 => aes::Aes256Enc::new_from_slice(key).ok().map(Self::A256),
            _ => None,
        }
    }

    /// XORs `data` with the AES-CM keystream that starts at counter block `iv` (the counter
    /// is the whole block read as a big-endian integer, incremented per block). The expanded
    /// key is copied, not recomputed.
    pub(crate) fn xor_keystream(&self, iv: &[u8; 16], data: &mut [u8]) {
        match self {
            Self::A128(cipher) => ctr_xor(cipher.clone(), iv, data),
            Self::A256(cipher) => ctr_xor(cipher.clone(), iv, data),
        }
    }
}

/// AES-CTR with a 128-bit big-endian counter (the `ctr` crate, eight blocks in parallel).
fn ctr_xor<C>(cipher: C, iv: &[u8; 16], data: &mut [u8])
where
    C: BlockEncryptMut + BlockCipher + BlockSizeUser<BlockSize = U16>,
{
    let core = ctr::CtrCore::<C, ctr::flavors::Ctr128BE>::inner_iv_init(cipher, iv.into());
    StreamCipherCoreWrapper::from_core(core).apply_keystream(data);
}

/// The counter-mode transform of one session (RTP or RTCP): cipher, salt and keyed HMAC.
///
/// The AES round keys are wiped on drop by `aes` (its `zeroize` feature) and the salt by
/// [`Drop`] here; the pre-keyed HMAC-SHA1 state is not wiped (`hmac`/`sha1` 0.x offer no
/// zeroize support).
pub(crate) struct CmTransform {
    aes: AesEnc,
    salt: [u8; 14],
    mac: Hmac<Sha1>,
    tag_len: usize,
}

impl Drop for CmTransform {
    fn drop(&mut self) {
        self.salt.zeroize();
    }
}

impl CmTransform {
    /// Builds the transform from session keys; `None` if the key length is not 16 or 32.
    pub(crate) fn new(
        key: &[u8],
        salt: &[u8; 14],
        auth_key: &[u8],
        tag_len: usize,
    ) -> Option<Self> {
        let mac = <Hmac<Sha1> as KeyInit>::new_from_slice(auth_key).ok()?;
        Some(Self {
            aes: AesEnc::new(key)?,
            salt: *salt,
            mac,
            tag_len,
        })
    }

    /// Length of the tag this transform appends.
    pub(crate) fn tag_len(&self) -> usize {
        self.tag_len
    }

    /// RFC 3711 §4.1.1: IV = (salt · 2^16) XOR (SSRC · 2^64) XOR (index · 2^16).
    pub(crate) fn iv(&self, ssrc: u32, index: u64) -> [u8; 16] {
        let mut iv = [0; 16];
        iv[..14].copy_from_slice(&self.salt);
        for (dst, src) in iv[4..8].iter_mut().zip(ssrc.to_be_bytes()) {
            *dst ^= src;
        }
        for (dst, src) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
            *dst ^= src;
        }
        iv
    }

    /// Encrypts or decrypts `data` for the packet with this SSRC and index.
    pub(crate) fn crypt(&self, ssrc: u32, index: u64, data: &mut [u8]) {
        self.aes.xor_keystream(&self.iv(ssrc, index), data);
    }

    fn keyed(&self, authenticated: &[u8], suffix: &[u8]) -> Hmac<Sha1> {
        let mut mac = self.mac.clone();
        mac.update(authenticated);
        mac.update(suffix);
        mac
    }

    /// Appends the truncated HMAC-SHA1 of `authenticated ‖ suffix` to `out`.
    pub(crate) fn append_tag(&self, out: &mut Vec<u8>, suffix: &[u8]) {
        let tag = self.keyed(out, suffix).finalize().into_bytes();
        out.extend_from_slice(tag.get(..self.tag_len).unwrap_or_default());
    }

    /// Checks (in constant time) that `tag` is the truncated HMAC of `authenticated ‖ suffix`.
    pub(crate) fn verify(&self, authenticated: &[u8], suffix: &[u8], tag: &[u8]) -> bool {
        tag.len() == self.tag_len
            && self
                .keyed(authenticated, suffix)
                .verify_truncated_left(tag)
                .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srtp::test_util::hex;

    /// RFC 3711 Appendix B.2: the AES-CM keystream for a contrived salt, SSRC 0, index 0.
    #[test]
    fn rfc3711_b2_keystream() {
        let aes = AesEnc::new(&hex("2B7E151628AED2A6ABF7158809CF4F3C")).unwrap();
        let salt: [u8; 14] = hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD").try_into().unwrap();
        let cm = CmTransform {
            aes,
            salt,
            mac: <Hmac<Sha1> as KeyInit>::new_from_slice(&[0; 20]).unwrap(),
            tag_len: 10,
        };
        assert_eq!(
            cm.iv(0, 0).to_vec(),
            hex("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000")
        );
        let mut stream = vec![0u8; 0xff02 * 16];
        cm.crypt(0, 0, &mut stream);
        assert_eq!(
            stream[..48],
            hex(
                "E03EAD0935C95E80E166B16DD92B4EB4D23513162B02D0F72A43A2FE4A5F97AB41E95B3BB0A2E8DD477901E4FCA894C0"
            )
        );
        assert_eq!(
            stream[0xfeff * 16..],
            hex(
                "EC8CDF7398607CB0F2D21675EA9EA1E4362B7C3C6773516318A077D7FC5073AE6A2CC3787889374FBEB4C81B17BA6C44"
            )
        );
    }

    #[test]
    fn iv_mixes_ssrc_and_index() {
        let cm = CmTransform::new(&[0; 16], &[0; 14], &[0; 20], 10).unwrap();
        assert_eq!(
            cm.iv(0x1122_3344, 0x0000_5566_7788_99aa).to_vec(),
            hex("00000000112233445566778899aa0000")
        );
    }

    #[test]
    fn tags_verify_and_truncate() {
        let cm = CmTransform::new(&[1; 32], &[2; 14], &[3; 20], 4).unwrap();
        let mut packet = b"header+payload".to_vec();
        cm.append_tag(&mut packet, &[0, 0, 0, 1]);
        assert_eq!(packet.len(), 14 + 4);
        let (body, tag) = packet.split_at(14);
        assert!(cm.verify(body, &[0, 0, 0, 1], tag));
        assert!(!cm.verify(body, &[0, 0, 0, 2], tag));
        assert!(!cm.verify(body, &[0, 0, 0, 1], &tag[..3]));
    }
}
