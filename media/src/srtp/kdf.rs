//! SRTP key derivation (RFC 3711 §4.3 with the AES-CM PRF; RFC 6188 §5 for AES-256; RFC 7714
//! §11 for GCM's 12-byte master salt). The key derivation rate is 0: one derivation per
//! master key (SDES `|KDR` other than 0 is not supported).

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::cm::AesEnc;
use super::keys::SrtpKeys;

/// Labels of RFC 3711 §4.3.2 (RTP) and §4.3.2 (RTCP = RTP + 3).
const LABEL_ENCRYPTION: u8 = 0x00;
const LABEL_AUTH: u8 = 0x01;
const LABEL_SALT: u8 = 0x02;
const RTCP_LABEL_OFFSET: u8 = 0x03;

/// Which session a set of keys protects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Session {
    /// SRTP.
    Rtp,
    /// SRTCP.
    Rtcp,
}

/// Session keys derived from one master key for one session (RTP or RTCP).
#[derive(Zeroize, ZeroizeOnDrop)]
pub(crate) struct SessionKeys {
    encryption: [u8; 32],
    encryption_len: usize,
    salt: [u8; 14],
    auth: [u8; 20],
}

impl SessionKeys {
    /// Session encryption key (16 or 32 bytes).
    pub(crate) fn encryption(&self) -> &[u8] {
        self.encryption
            .get(..self.encryption_len)
            .unwrap_or_default()
    }

    /// Session salt, 14 bytes (the GCM suites use the first 12).
    pub(crate) fn salt(&self) -> &[u8; 14] {
        &self.salt
    }

    /// Session salt truncated to the 12 bytes GCM uses.
    pub(crate) fn salt12(&self) -> [u8; 12] {
        let mut salt = [0; 12];
        salt.copy_from_slice(&self.salt[..12]);
        salt
    }

    /// Session authentication key (160 bits; unused by GCM).
    pub(crate) fn auth(&self) -> &[u8; 20] {
        &self.auth
    }

    /// Session keys given directly (the RFC 7714 vectors are stated this way).
    #[cfg(test)]
    pub(crate) fn from_parts(encryption: &[u8], salt: &[u8], auth: &[u8]) -> Self {
        let mut keys = Self {
            encryption: [0; 32],
            encryption_len: encryption.len(),
            salt: [0; 14],
            auth: [0; 20],
        };
        keys.encryption[..encryption.len()].copy_from_slice(encryption);
        keys.salt[..salt.len()].copy_from_slice(salt);
        keys.auth[..auth.len()].copy_from_slice(auth);
        keys
    }
}

/// Derives the session keys of `session` from the master key and salt.
pub(crate) fn derive(keys: &SrtpKeys, session: Session) -> Option<SessionKeys> {
    let prf = AesEnc::new(keys.master_key())?;
    let offset = match session {
        Session::Rtp => 0,
        Session::Rtcp => RTCP_LABEL_OFFSET,
    };
    let salt_len = keys.master_salt().len();
    let mut out = SessionKeys {
        encryption: [0; 32],
        encryption_len: keys.master_key().len(),
        salt: [0; 14],
        auth: [0; 20],
    };
    let master_salt = keys.master_salt();
    let encryption_len = out.encryption_len;
    prf_fill(
        &prf,
        master_salt,
        LABEL_ENCRYPTION + offset,
        out.encryption.get_mut(..encryption_len)?,
    );
    prf_fill(
        &prf,
        master_salt,
        LABEL_SALT + offset,
        out.salt.get_mut(..salt_len)?,
    );
    prf_fill(&prf, master_salt, LABEL_AUTH + offset, &mut out.auth);
    Some(out)
}

/// The AES-CM PRF: keystream at IV = ((label · 2^48) XOR master_salt) · 2^16, with a 12-byte
/// master salt left-aligned in the 14-byte field (RFC 7714 §11).
fn prf_fill(prf: &AesEnc, master_salt: &[u8], label: u8, out: &mut [u8]) {
    let mut iv = [0; 16];
    for (dst, src) in iv.iter_mut().zip(master_salt) {
        *dst = *src;
    }
    iv[7] ^= label;
    out.fill(0);
    prf.xor_keystream(&iv, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::srtp::SrtpSuite;
    use crate::srtp::test_util::hex;

    fn check(suite: SrtpSuite, master: &str, encryption: &str, salt: &str, auth: &str) {
        let keys = SrtpKeys::new(suite, &hex(master)).unwrap();
        let session = derive(&keys, Session::Rtp).unwrap();
        assert_eq!(session.encryption(), &hex(encryption)[..]);
        assert_eq!(session.salt()[..], hex(salt)[..]);
        assert_eq!(session.auth()[..], hex(auth)[..]);
    }

    /// RFC 3711 Appendix B.3.
    #[test]
    fn rfc3711_b3_key_derivation() {
        check(
            SrtpSuite::AesCm128HmacSha1_80,
            "E1F97A0D3E018BE0D64FA32C06DE41390EC675AD498AFEEBB6960B3AABE6",
            "C61E7A93744F39EE10734AFE3FF7A087",
            "30CBBC08863D8C85D49DB34A9AE1",
            "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4",
        );
    }

    /// RFC 6188 §7.2 (AES_256_CM_PRF).
    #[test]
    fn rfc6188_aes256_key_derivation() {
        check(
            SrtpSuite::AesCm256HmacSha1_80,
            "f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b63b04803de51ee7c96423ab5b78d2",
            "5ba1064e30ec51613cad926c5a28ef731ec7fb397f70a960653caf06554cd8c4",
            "fa31791685ca444a9e07c6c64e93",
            "fd9c32d39ed5fbb5a9dc96b30818454d1313dc05",
        );
    }

    #[test]
    fn rtcp_uses_other_labels() {
        let keys = SrtpKeys::new(SrtpSuite::AeadAes128Gcm, &[9; 28]).unwrap();
        let rtp = derive(&keys, Session::Rtp).unwrap();
        let rtcp = derive(&keys, Session::Rtcp).unwrap();
        assert_ne!(rtp.encryption(), rtcp.encryption());
        assert_ne!(rtp.salt12(), rtcp.salt12());
        assert_eq!(rtp.encryption().len(), 16);
    }
}
