//! Where the crypto goes in an SRTP or SRTCP packet, per suite family: what is encrypted, what
//! is authenticated, where the tag and the SRTCP index live (RFC 3711 §3.1 and §3.4, RFC 7714
//! §8 and §9). Stateless: the caller supplies SSRC, ROC, sequence number and SRTCP index.

use super::SrtpSuite;
use super::cm::CmTransform;
use super::gcm::{GCM_TAG_LEN, GcmTransform};
use super::kdf::{Session, SessionKeys};
use super::roc;

/// Length of the fixed RTCP header that stays in clear (V/P/RC, PT, length, SSRC).
pub(crate) const RTCP_CLEAR_LEN: usize = 8;
/// Length of the E flag + SRTCP index word.
pub(crate) const SRTCP_INDEX_LEN: usize = 4;
/// The E flag in the SRTCP index word.
const E_FLAG: u32 = 0x8000_0000;

/// The transform of one session (SRTP or SRTCP) of one context.
#[allow(clippy::large_enum_variant)] // see `AesEnc`: kept inline for the hot path
pub(crate) enum Transform {
    /// AES-CM + HMAC-SHA1.
    Cm(CmTransform),
    /// AES-GCM.
    Gcm(GcmTransform),
}

impl Transform {
    /// Builds the transform of `session` from its session keys.
    pub(crate) fn new(suite: SrtpSuite, keys: &SessionKeys, session: Session) -> Option<Self> {
        if suite.is_aead() {
            return GcmTransform::new(keys.encryption(), &keys.salt12()).map(Self::Gcm);
        }
        let tag_len = match session {
            Session::Rtp => suite.rtp_tag_len(),
            Session::Rtcp => suite.rtcp_tag_len(),
        };
        CmTransform::new(keys.encryption(), keys.salt(), keys.auth(), tag_len).map(Self::Cm)
    }

    /// Bytes of tag appended to each packet.
    pub(crate) fn tag_len(&self) -> usize {
        match self {
            Self::Cm(cm) => cm.tag_len(),
            Self::Gcm(_) => GCM_TAG_LEN,
        }
    }

    /// Encrypts the payload of the RTP packet in `packet` and appends the tag.
    pub(crate) fn protect_rtp(
        &self,
        packet: &mut Vec<u8>,
        header_len: usize,
        ssrc: u32,
        roc: u32,
        seq: u16,
    ) -> Option<()> {
        match self {
            Self::Cm(cm) => {
                cm.crypt(ssrc, roc::index(roc, seq), packet.get_mut(header_len..)?);
                cm.append_tag(packet, &roc.to_be_bytes());
            }
            Self::Gcm(gcm) => {
                let (header, payload) = packet.split_at_mut_checked(header_len)?;
                let tag = gcm.seal(gcm.rtp_iv(ssrc, roc, seq), header, payload)?;
                packet.extend_from_slice(&tag);
            }
        }
        Some(())
    }

    /// Authenticates and decrypts an SRTP packet in place; returns the RTP packet's length,
    /// or `None` when authentication fails. The caller checked `header_len + tag_len <= len`.
    pub(crate) fn unprotect_rtp(
        &self,
        packet: &mut [u8],
        header_len: usize,
        ssrc: u32,
        roc: u32,
        seq: u16,
    ) -> Option<usize> {
        let body_len = packet.len().checked_sub(self.tag_len())?;
        match self {
            Self::Cm(cm) => {
                let (body, tag) = packet.split_at_mut_checked(body_len)?;
                if !cm.verify(body, &roc.to_be_bytes(), tag) {
                    return None;
                }
                cm.crypt(ssrc, roc::index(roc, seq), body.get_mut(header_len..)?);
                Some(body_len)
            }
            Self::Gcm(gcm) => {
                let (header, sealed) = packet.split_at_mut_checked(header_len)?;
                let plain = gcm.open(gcm.rtp_iv(ssrc, roc, seq), header, sealed)?;
                Some(header_len + plain)
            }
        }
    }

    /// Encrypts the RTCP packet in `packet` past its first 8 bytes and appends the SRTCP
    /// index word (E set) and the tag in the suite's order.
    pub(crate) fn protect_rtcp(&self, packet: &mut Vec<u8>, ssrc: u32, index: u32) -> Option<()> {
        let word = (E_FLAG | index).to_be_bytes();
        match self {
            Self::Cm(cm) => {
                cm.crypt(ssrc, u64::from(index), packet.get_mut(RTCP_CLEAR_LEN..)?);
                packet.extend_from_slice(&word);
                cm.append_tag(packet, &[]);
            }
            Self::Gcm(gcm) => {
                let (header, payload) = packet.split_at_mut_checked(RTCP_CLEAR_LEN)?;
                let aad = rtcp_aad(header, word)?;
                let tag = gcm.seal(gcm.rtcp_iv(ssrc, index), &aad, payload)?;
                packet.extend_from_slice(&tag);
                packet.extend_from_slice(&word);
            }
        }
        Some(())
    }

    /// Bytes SRTCP adds to an RTCP packet (index word and tag).
    pub(crate) fn rtcp_overhead(&self) -> usize {
        SRTCP_INDEX_LEN + self.tag_len()
    }

    /// The E flag and the 31-bit SRTCP index of an SRTCP packet.
    pub(crate) fn rtcp_trailer(&self, packet: &[u8]) -> Option<(bool, u32)> {
        let at = match self {
            Self::Cm(cm) => packet.len().checked_sub(cm.tag_len() + SRTCP_INDEX_LEN)?,
            Self::Gcm(_) => packet.len().checked_sub(SRTCP_INDEX_LEN)?,
        };
        let word = crate::rtp::be32(packet, at)?;
        Some((word & E_FLAG != 0, word & !E_FLAG))
    }

    /// Authenticates (and, when `encrypted`, decrypts) an SRTCP packet in place; returns the
    /// RTCP packet's length, or `None` when authentication fails.
    pub(crate) fn unprotect_rtcp(
        &self,
        packet: &mut [u8],
        ssrc: u32,
        encrypted: bool,
        index: u32,
    ) -> Option<usize> {
        let plain_len = packet.len().checked_sub(self.rtcp_overhead())?;
        match self {
            Self::Cm(cm) => {
                let body_len = plain_len + SRTCP_INDEX_LEN;
                let (body, tag) = packet.split_at_mut_checked(body_len)?;
                if !cm.verify(body, &[], tag) {
                    return None;
                }
                if encrypted {
                    cm.crypt(
                        ssrc,
                        u64::from(index),
                        body.get_mut(RTCP_CLEAR_LEN..plain_len)?,
                    );
                }
            }
            Self::Gcm(gcm) => {
                let iv = gcm.rtcp_iv(ssrc, index);
                let word = (if encrypted { E_FLAG } else { 0 } | index).to_be_bytes();
                if encrypted {
                    let (header, rest) = packet.split_at_mut_checked(RTCP_CLEAR_LEN)?;
                    let aad = rtcp_aad(header, word)?;
                    let sealed =
                        rest.get_mut(..plain_len.checked_sub(RTCP_CLEAR_LEN)? + GCM_TAG_LEN)?;
                    gcm.open(iv, &aad, sealed)?;
                } else {
                    // RFC 7714 §9.2, E = 0: the whole packet and the index word are AAD. Move
                    // the word before the tag so the AAD is contiguous.
                    packet.get_mut(plain_len..)?.rotate_right(SRTCP_INDEX_LEN);
                    let (aad, tag) = packet.split_at_mut_checked(plain_len + SRTCP_INDEX_LEN)?;
                    gcm.open(iv, aad, tag)?;
                }
            }
        }
        Some(plain_len)
    }
}

/// The 12-byte SRTCP AAD for GCM with encryption: first 8 header bytes and the index word.
fn rtcp_aad(header: &[u8], word: [u8; 4]) -> Option<[u8; 12]> {
    let mut aad = [0; 12];
    aad[..RTCP_CLEAR_LEN].copy_from_slice(header.get(..RTCP_CLEAR_LEN)?);
    aad[RTCP_CLEAR_LEN..].copy_from_slice(&word);
    Some(aad)
}
