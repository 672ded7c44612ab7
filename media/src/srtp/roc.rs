//! Rollover-counter estimation, RFC 3711 Appendix A.

/// Guesses the ROC of a packet with sequence number `seq`, given the stream's ROC and highest
/// sequence number `s_l` (none before the first packet). `None` when the guess would need a
/// ROC beyond 2^32 − 1 (the 48-bit index is used up).
pub(crate) fn estimate(roc: u32, s_l: Option<u16>, seq: u16) -> Option<u32> {
    let Some(s_l) = s_l else { return Some(roc) };
    if s_l < 0x8000 {
        if seq > s_l && seq - s_l > 0x8000 {
            // From the previous cycle; a stream cannot precede ROC 0, so keep 0 there.
            Some(roc.saturating_sub(1))
        } else {
            Some(roc)
        }
    } else if s_l - 0x8000 > seq {
        roc.checked_add(1)
    } else {
        Some(roc)
    }
}

/// The 48-bit packet index of (ROC, SEQ).
pub(crate) fn index(roc: u32, seq: u16) -> u64 {
    u64::from(roc) << 16 | u64::from(seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appendix_a_guesses() {
        assert_eq!(estimate(5, None, 10), Some(5));
        assert_eq!(estimate(0, Some(65530), 3), Some(1));
        assert_eq!(estimate(1, Some(3), 65530), Some(0));
        assert_eq!(estimate(1, Some(100), 50), Some(1));
        assert_eq!(estimate(1, Some(40000), 40100), Some(1));
        assert_eq!(estimate(1, Some(40000), 7232), Some(1));
        assert_eq!(estimate(1, Some(40000), 7231), Some(2));
        assert_eq!(estimate(0, Some(10), 60000), Some(0));
        assert_eq!(estimate(u32::MAX, Some(65535), 0), None);
        assert_eq!(index(u32::MAX, u16::MAX), (1 << 48) - 1);
    }
}
