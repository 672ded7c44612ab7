//! SRTP/SRTCP with fixed keys for a counter-mode and a GCM suite. The first byte picks what
//! to do with the rest: unprotect it as SRTP or SRTCP (must fail cleanly or succeed), or
//! protect it as RTP or RTCP and check that unprotecting gives it back. With bit 2 set, the
//! receiver has been rekeyed with a grace period (`rekey_with_grace`): it holds other keys
//! and the sender's only as its previous ones, so everything goes through the fallback.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockphone_media::srtp::{SrtpContext, SrtpKeys, SrtpSuite};

fn contexts(suite: SrtpSuite) -> (SrtpContext, SrtpContext) {
    let master: Vec<u8> = (0..suite.master_len() as u8).collect();
    let keys = SrtpKeys::new(suite, &master).expect("fixed key length");
    (
        SrtpContext::new(&keys).expect("context"),
        SrtpContext::new(&keys).expect("context"),
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    for suite in [SrtpSuite::AesCm128HmacSha1_80, SrtpSuite::AeadAes128Gcm] {
        let (mut tx, mut rx) = contexts(suite);
        let grace = mode & 4 != 0;
        if grace {
            let other = SrtpKeys::new(suite, &vec![0xA5; suite.master_len()]).expect("length");
            rx.rekey_with_grace(&other).expect("rekey");
        }
        let (mut out, mut back) = (Vec::new(), Vec::new());
        match mode % 4 {
            0 => {
                let _ = rx.unprotect_rtp(rest, &mut out);
                // Twice: the second is a replay or fails the same way; never a panic.
                let _ = rx.unprotect_rtp(rest, &mut out);
            }
            1 => {
                let _ = rx.unprotect_rtcp(rest, &mut out);
                let _ = rx.unprotect_rtcp(rest, &mut out);
            }
            2 => {
                if tx.protect_rtp(rest, &mut out).is_ok() {
                    rx.unprotect_rtp(&out, &mut back)
                        .expect("own SRTP unprotects");
                    assert_eq!(back, rest);
                }
            }
            _ => {
                if tx.protect_rtcp(rest, &mut out).is_ok() {
                    rx.unprotect_rtcp(&out, &mut back)
                        .expect("own SRTCP unprotects");
                    assert_eq!(back, rest);
                }
            }
        }
        let counters = rx.counters();
        assert!(counters.unprotected <= 2);
        assert!(counters.previous_key <= counters.unprotected);
        if !grace {
            assert_eq!(counters.previous_key, 0);
        } else if mode % 4 >= 2 {
            assert_eq!(counters.previous_key, counters.unprotected);
        }
    }
});
