//! Behaviour of whole contexts: published vectors, round trips, refusals, ROC handling, and
//! webrtc-srtp as an independent oracle in both directions.

use super::kdf::SessionKeys;
use super::test_util::hex;
use super::*;
use crate::rtp::{Packetizer, RtpPacket};

const SSRC: u32 = 0xcafe_babe;

fn keys(suite: SrtpSuite) -> SrtpKeys {
    let master: Vec<u8> = (0..suite.master_len() as u8)
        .map(|i| i.wrapping_mul(37) ^ 0x5a)
        .collect();
    SrtpKeys::new(suite, &master).unwrap()
}

fn pair(suite: SrtpSuite) -> (SrtpContext, SrtpContext) {
    let keys = keys(suite);
    (
        SrtpContext::new(&keys).unwrap(),
        SrtpContext::new(&keys).unwrap(),
    )
}

fn rtp(seq: u16, payload_len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let payload: Vec<u8> = (0..payload_len).map(|i| (i as u8) ^ (seq as u8)).collect();
    Packetizer::from_parts(SSRC, 111, seq, u32::from(seq) * 960)
        .next_packet(&payload, 960, false, &mut out);
    out
}

fn rtcp_sr(ssrc: u32, extra: u8) -> Vec<u8> {
    let mut p = vec![0x80, 200, 0, 6];
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(&[extra; 20]);
    p
}

// ---- published vectors -------------------------------------------------------------------

const RFC7714_KEY_128: &str = "000102030405060708090a0b0c0d0e0f";
const RFC7714_KEY_256: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const RFC7714_SALT: &str = "517569642070726f2071756f";
const RFC7714_RTP: &str = "8040f17b8041f8d35501a0b247616c6c696120657374206f6d6e697320646976\
                           69736120696e207061727465732074726573";
const RFC7714_RTCP: &str = "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61\
                            deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

fn rfc7714_context(suite: SrtpSuite, key: &str) -> SrtpContext {
    let session = SessionKeys::from_parts(&hex(key), &hex(RFC7714_SALT), &[]);
    SrtpContext::for_session_keys(suite, &session, &session)
}

fn rfc7714_rtp(suite: SrtpSuite, key: &str, protected: &str) {
    let (plain, protected) = (hex(RFC7714_RTP), hex(protected));
    let mut out = Vec::new();
    rfc7714_context(suite, key)
        .protect_rtp(&plain, &mut out)
        .unwrap();
    assert_eq!(out, protected, "{suite} protect");
    rfc7714_context(suite, key)
        .unprotect_rtp(&protected, &mut out)
        .unwrap();
    assert_eq!(out, plain, "{suite} unprotect");
}

fn rfc7714_rtcp(suite: SrtpSuite, key: &str, protected: &str) {
    let (plain, protected) = (hex(RFC7714_RTCP), hex(protected));
    let mut out = Vec::new();
    let mut tx = rfc7714_context(suite, key);
    tx.set_next_srtcp_index(0x4d61_7273, 0x5d4);
    tx.protect_rtcp(&plain, &mut out).unwrap();
    assert_eq!(out, protected, "{suite} protect");
    rfc7714_context(suite, key)
        .unprotect_rtcp(&protected, &mut out)
        .unwrap();
    assert_eq!(out, plain, "{suite} unprotect");
}

/// RFC 7714 §16.1.1 / §16.1.2.
#[test]
fn rfc7714_16_1_srtp_aes_128_gcm() {
    rfc7714_rtp(
        SrtpSuite::AeadAes128Gcm,
        RFC7714_KEY_128,
        "8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf\
         8833899d7f27beb16a9152cf765ee4390cce",
    );
}

/// RFC 7714 §16.2.1 / §16.2.2.
#[test]
fn rfc7714_16_2_srtp_aes_256_gcm() {
    rfc7714_rtp(
        SrtpSuite::AeadAes256Gcm,
        RFC7714_KEY_256,
        "8040f17b8041f8d35501a0b232b1de78a822fe12ef9f78fa332e33aab18012389a58e2f3b50b2a0276ffae0f1ba63799\
         b87b7aa3db36dfffd6b0f9bb7878d7a76c13",
    );
}

/// RFC 7714 §17.1 and §17.2 (SRTCP, index 0x5d4).
#[test]
fn rfc7714_17_srtcp_gcm() {
    rfc7714_rtcp(
        SrtpSuite::AeadAes128Gcm,
        RFC7714_KEY_128,
        "81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded\
         0bb9275bc84aa45896cf4d2fc5abf87245d9eade800005d4",
    );
    rfc7714_rtcp(
        SrtpSuite::AeadAes256Gcm,
        RFC7714_KEY_256,
        "81c8000d4d617273d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1110555be8415f658c61de047\
         6f1b6fad1d1eb30c4446839f57ff6f6cb26ac3be800005d4",
    );
}

/// RFC 7714 §17.3: SRTCP with the E flag clear (authenticated, not encrypted) is accepted.
#[test]
fn rfc7714_17_3_srtcp_tag_only() {
    let tagged = hex(
        "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeef\
         deadbeef841dd9683dd78ec92ae58790125f62b3000005d4",
    );
    let mut out = Vec::new();
    let mut rx = rfc7714_context(SrtpSuite::AeadAes128Gcm, RFC7714_KEY_128);
    rx.unprotect_rtcp(&tagged, &mut out).unwrap();
    assert_eq!(out, hex(RFC7714_RTCP));
    let mut tampered = tagged.clone();
    tampered[20] ^= 1;
    assert!(matches!(
        rfc7714_context(SrtpSuite::AeadAes128Gcm, RFC7714_KEY_128)
            .unprotect_rtcp(&tampered, &mut out),
        Err(SrtpError::AuthenticationFailed { .. })
    ));
}

/// AES-256-CM with the RFC 6188 §7.2 master key: libsrtp's AES-256-CM test packet.
#[test]
fn aes_256_cm_packet_with_rfc6188_master_key() {
    let master = hex(
        "f0f04914b513f2763a1b1fa130f10e2998f6f6e43e4309d1e622a0e332b9f1b63b04803de51ee7c96423ab5b78d2",
    );
    let keys = SrtpKeys::new(SrtpSuite::AesCm256HmacSha1_80, &master).unwrap();
    let plain = hex(&format!("800f1234decafbadcafebabe{}", "ab".repeat(16)));
    let mut out = Vec::new();
    SrtpContext::new(&keys)
        .unwrap()
        .protect_rtp(&plain, &mut out)
        .unwrap();
    assert_eq!(
        out,
        hex("800f1234decafbadcafebabef1d9de17ff251ff1aa007774b0b4b40da08d9d9a5b3a55d8873b")
    );
}

// ---- behaviour -----------------------------------------------------------------------------

#[test]
fn round_trip_every_suite_across_a_sequence_wrap() {
    for suite in SrtpSuite::ALL {
        let (mut tx, mut rx) = pair(suite);
        let (mut srtp, mut back) = (Vec::new(), Vec::new());
        for i in 0..100u16 {
            let seq = 65500u16.wrapping_add(i);
            let plain = rtp(seq, 160);
            tx.protect_rtp(&plain, &mut srtp).unwrap();
            assert_eq!(srtp.len(), plain.len() + suite.rtp_tag_len());
            assert_ne!(
                srtp[12..plain.len()],
                plain[12..],
                "{suite}: payload encrypted"
            );
            rx.unprotect_rtp(&srtp, &mut back).unwrap();
            assert_eq!(back, plain, "{suite} seq {seq}");
        }
        assert_eq!((tx.roc(SSRC), rx.roc(SSRC)), (Some(1), Some(1)), "{suite}");
        assert_eq!(rx.counters().unprotected, 100);
        assert_eq!(tx.counters().protected, 100);
    }
}

#[test]
fn reordered_packets_around_the_wrap_are_accepted_once() {
    let (mut tx, mut rx) = pair(SrtpSuite::AesCm128HmacSha1_80);
    let protected: Vec<Vec<u8>> = (65530u16..=65535)
        .chain(0..6)
        .map(|seq| {
            let mut out = Vec::new();
            tx.protect_rtp(&rtp(seq, 20), &mut out).unwrap();
            out
        })
        .collect();
    let mut back = Vec::new();
    for i in [0, 1, 7, 6, 2, 8, 3, 11, 4, 5, 9, 10] {
        rx.unprotect_rtp(&protected[i], &mut back).unwrap();
    }
    for packet in &protected {
        assert!(matches!(
            rx.unprotect_rtp(packet, &mut back),
            Err(SrtpError::Replay { .. })
        ));
    }
    assert_eq!((rx.counters().unprotected, rx.counters().replays), (12, 12));
    assert_eq!(rx.roc(SSRC), Some(1));
}

#[test]
fn replay_is_rejected_and_counted() {
    for suite in SrtpSuite::ALL {
        let (mut tx, mut rx) = pair(suite);
        let (mut srtp, mut back) = (Vec::new(), Vec::new());
        tx.protect_rtp(&rtp(1000, 80), &mut srtp).unwrap();
        rx.unprotect_rtp(&srtp, &mut back).unwrap();
        let err = rx.unprotect_rtp(&srtp, &mut back).unwrap_err();
        assert_eq!(
            err,
            SrtpError::Replay {
                ssrc: SSRC,
                index: 1000
            }
        );
        assert!(back.is_empty());
        assert_eq!(rx.counters().replays, 1);
        // Too old: more than 128 behind.
        let mut old = Vec::new();
        tx.protect_rtp(&rtp(1001, 80), &mut old).unwrap();
        tx.protect_rtp(&rtp(1200, 80), &mut srtp).unwrap();
        rx.unprotect_rtp(&srtp, &mut back).unwrap();
        assert!(matches!(
            rx.unprotect_rtp(&old, &mut back),
            Err(SrtpError::Replay { .. })
        ));
    }
}

#[test]
fn tampering_is_rejected_and_does_not_poison_the_context() {
    for suite in SrtpSuite::ALL {
        let (mut tx, mut rx) = pair(suite);
        let (mut srtp, mut back) = (Vec::new(), Vec::new());
        tx.protect_rtp(&rtp(7, 160), &mut srtp).unwrap();
        for at in [1, 12, srtp.len() - 1] {
            let mut bad = srtp.clone();
            bad[at] ^= 0x40;
            let err = rx.unprotect_rtp(&bad, &mut back).unwrap_err();
            assert!(
                matches!(err, SrtpError::AuthenticationFailed { .. }),
                "{suite}: {err}"
            );
        }
        // The genuine packet (same index) still goes through, and so does the next one.
        rx.unprotect_rtp(&srtp, &mut back).unwrap();
        tx.protect_rtp(&rtp(8, 160), &mut srtp).unwrap();
        rx.unprotect_rtp(&srtp, &mut back).unwrap();
        assert_eq!(back, rtp(8, 160));
        assert_eq!(
            (rx.counters().auth_failures, rx.counters().unprotected),
            (3, 2),
            "{suite}"
        );
    }
}

#[test]
fn cleartext_and_short_packets_are_refused() {
    for suite in SrtpSuite::ALL {
        let (_, mut rx) = pair(suite);
        let mut back = Vec::new();
        let plain = rtp(10, 160);
        assert!(matches!(
            rx.unprotect_rtp(&plain, &mut back),
            Err(SrtpError::AuthenticationFailed { .. })
        ));
        assert!(matches!(
            rx.unprotect_rtp(&plain[..12 + suite.rtp_tag_len() - 1], &mut back),
            Err(SrtpError::TooShort { .. })
        ));
        assert!(matches!(
            rx.unprotect_rtp(&plain[..5], &mut back),
            Err(SrtpError::Rtp(_))
        ));
        assert_eq!(
            rx.unprotect_rtcp(&rtcp_sr(1, 0), &mut back),
            Err(SrtpError::Cleartext)
        );
        assert!(matches!(
            rx.unprotect_rtcp(&[0x80, 200, 0, 1, 0, 0], &mut back),
            Err(SrtpError::TooShort { .. })
        ));
        let c = rx.counters();
        assert_eq!(
            (c.auth_failures, c.malformed, c.cleartext, c.unprotected),
            (1, 3, 1, 0),
            "{suite}"
        );
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"auth_failures\":1"), "{json}");
    }
}

#[test]
fn srtcp_round_trip_replay_and_tamper() {
    for suite in SrtpSuite::ALL {
        let (mut tx, mut rx) = pair(suite);
        let (mut srtcp, mut back) = (Vec::new(), Vec::new());
        let mut sent = Vec::new();
        for i in 0..5u8 {
            let plain = rtcp_sr(SSRC, i);
            tx.protect_rtcp(&plain, &mut srtcp).unwrap();
            assert_eq!(srtcp.len(), plain.len() + 4 + suite.rtcp_tag_len());
            assert_ne!(srtcp[8..plain.len()], plain[8..]);
            sent.push(srtcp.clone());
            rx.unprotect_rtcp(&srtcp, &mut back).unwrap();
            assert_eq!(back, plain, "{suite}");
        }
        assert!(matches!(
            rx.unprotect_rtcp(&sent[2], &mut back),
            Err(SrtpError::Replay { index: 3, .. })
        ));
        let mut bad = sent[4].clone();
        bad[9] ^= 1;
        assert!(matches!(
            rx.unprotect_rtcp(&bad, &mut back),
            Err(SrtpError::Replay { .. })
        ));
        tx.protect_rtcp(&rtcp_sr(SSRC, 9), &mut srtcp).unwrap();
        let mut bad = srtcp.clone();
        bad[9] ^= 1;
        assert!(matches!(
            rx.unprotect_rtcp(&bad, &mut back),
            Err(SrtpError::AuthenticationFailed { index: 6, .. })
        ));
        rx.unprotect_rtcp(&srtcp, &mut back).unwrap();
        assert_eq!(rx.counters().unprotected, 6);
    }
}

#[test]
fn receiver_joining_mid_stream_needs_the_seeded_roc() {
    for suite in SrtpSuite::ALL {
        let (mut tx, _) = pair(suite);
        tx.set_roc(SSRC, 5).unwrap();
        let mut srtp = Vec::new();
        tx.protect_rtp(&rtp(300, 160), &mut srtp).unwrap();
        let mut back = Vec::new();
        let (_, mut unseeded) = pair(suite);
        assert!(matches!(
            unseeded.unprotect_rtp(&srtp, &mut back),
            Err(SrtpError::AuthenticationFailed { .. })
        ));
        let (_, mut seeded) = pair(suite);
        seeded.set_roc(SSRC, 5).unwrap();
        seeded.unprotect_rtp(&srtp, &mut back).unwrap();
        assert_eq!(back, rtp(300, 160));
        assert_eq!(seeded.roc(SSRC), Some(5));
    }
}

#[test]
fn protect_refuses_index_reuse_and_index_wrap() {
    let (mut tx, _) = pair(SrtpSuite::AeadAes128Gcm);
    let mut srtp = Vec::new();
    tx.protect_rtp(&rtp(9, 10), &mut srtp).unwrap();
    assert_eq!(
        tx.protect_rtp(&rtp(9, 10), &mut srtp),
        Err(SrtpError::IndexReused {
            ssrc: SSRC,
            index: 9
        })
    );
    tx.set_roc(SSRC, u32::MAX).unwrap();
    tx.protect_rtp(&rtp(65535, 10), &mut srtp).unwrap();
    assert_eq!(
        tx.protect_rtp(&rtp(0, 10), &mut srtp),
        Err(SrtpError::KeyLifetimeExhausted { ssrc: SSRC })
    );
    let mut in_place = rtp(0, 10);
    assert!(tx.protect_rtp_in_place(&mut in_place).is_err());
    assert_eq!(in_place, rtp(0, 10), "left unchanged on error");
}

#[test]
fn rekey_resets_roc_and_replay_state() {
    let (mut tx, mut rx) = pair(SrtpSuite::AesCm128HmacSha1_32);
    let (mut srtp, mut back) = (Vec::new(), Vec::new());
    for seq in [65535, 0, 1] {
        tx.protect_rtp(&rtp(seq, 40), &mut srtp).unwrap();
        rx.unprotect_rtp(&srtp, &mut back).unwrap();
    }
    assert_eq!(rx.roc(SSRC), Some(1));
    let new_keys = keys(SrtpSuite::AeadAes256Gcm);
    tx.rekey(&new_keys).unwrap();
    rx.rekey(&new_keys).unwrap();
    assert_eq!((rx.roc(SSRC), rx.suite()), (None, SrtpSuite::AeadAes256Gcm));
    tx.protect_rtp(&rtp(1, 40), &mut srtp).unwrap();
    rx.unprotect_rtp(&srtp, &mut back).unwrap();
    assert_eq!(rx.roc(SSRC), Some(0));
    assert_eq!(rx.counters().unprotected, 4, "counters survive a rekey");
}

#[test]
fn rekey_with_grace_accepts_old_keys_once_until_the_grace_ends() {
    for suite in [SrtpSuite::AesCm128HmacSha1_80, SrtpSuite::AeadAes128Gcm] {
        let (mut old_tx, mut rx) = pair(suite);
        let new_keys = SrtpKeys::new(suite, &vec![0x77; suite.master_len()]).unwrap();
        let mut new_tx = SrtpContext::new(&new_keys).unwrap();
        let (mut srtp, mut back) = (Vec::new(), Vec::new());
        for seq in 10..13 {
            old_tx.protect_rtp(&rtp(seq, 40), &mut srtp).unwrap();
            rx.unprotect_rtp(&srtp, &mut back).unwrap();
        }
        rx.rekey_with_grace(&new_keys).unwrap();
        assert!(rx.in_grace());
        // New keys pass; an old-key packet sent before the far end switched passes too,
        // under the old context (RTP and RTCP), counted apart; its replay does not.
        new_tx.protect_rtp(&rtp(14, 40), &mut srtp).unwrap();
        rx.unprotect_rtp(&srtp, &mut back).unwrap();
        old_tx.protect_rtp(&rtp(13, 40), &mut srtp).unwrap();
        rx.unprotect_rtp(&srtp, &mut back).unwrap();
        assert_eq!(back, rtp(13, 40), "{suite:?}");
        assert!(matches!(
            rx.unprotect_rtp(&srtp, &mut back),
            Err(SrtpError::AuthenticationFailed { .. })
        ));
        let mut srtcp = Vec::new();
        old_tx.protect_rtcp(&rtcp_sr(SSRC, 1), &mut srtcp).unwrap();
        rx.unprotect_rtcp(&srtcp, &mut back).unwrap();
        let c = rx.counters();
        assert_eq!((c.unprotected, c.previous_key, c.auth_failures), (6, 2, 1));
        // After the grace the old keys are refused like any other.
        rx.end_grace();
        old_tx.protect_rtp(&rtp(15, 40), &mut srtp).unwrap();
        assert!(matches!(
            rx.unprotect_rtp(&srtp, &mut back),
            Err(SrtpError::AuthenticationFailed { .. })
        ));
        assert_eq!(rx.counters().auth_failures, 2);
        // The in-place path falls back too.
        rx.rekey_with_grace(&keys(suite)).unwrap();
        new_tx.protect_rtp(&rtp(16, 40), &mut srtp).unwrap();
        let len = rx.unprotect_rtp_in_place(&mut srtp).unwrap();
        assert_eq!(&srtp[..len], &rtp(16, 40)[..]);
    }
}

/// Fuzz finding (media_srtp, crash-866c4380…): under AES_CM_128_HMAC_SHA1_80 this 18-byte
/// RTCP packet, protected with the old keys, is 32 bytes long — what its length field claims —
/// so it parses as plain RTCP: the new keys refused it as `Cleartext`, and the previous keys
/// were never tried.
#[test]
fn grace_fallback_also_covers_protected_rtcp_that_looks_plain() {
    let rtcp = hex("81c90007 ffffffff ffffff00 00000060 0000");
    for suite in [SrtpSuite::AesCm128HmacSha1_80, SrtpSuite::AeadAes128Gcm] {
        let master: Vec<u8> = (0..suite.master_len() as u8).collect();
        let keys = SrtpKeys::new(suite, &master).unwrap();
        let (mut tx, mut rx) = (
            SrtpContext::new(&keys).unwrap(),
            SrtpContext::new(&keys).unwrap(),
        );
        let other = SrtpKeys::new(suite, &vec![0xA5; suite.master_len()]).unwrap();
        rx.rekey_with_grace(&other).unwrap();
        let (mut out, mut back) = (Vec::new(), Vec::new());
        tx.protect_rtcp(&rtcp, &mut out).unwrap();
        rx.unprotect_rtcp(&out, &mut back).unwrap();
        assert_eq!(back, rtcp, "{suite:?}");
        assert_eq!(rx.counters().previous_key, 1);
    }
}

#[test]
fn in_place_paths_match_the_copying_ones() {
    let (mut tx, mut rx) = pair(SrtpSuite::AesCm256HmacSha1_80);
    let plain = rtp(42, 80);
    let mut buf = Vec::with_capacity(200);
    buf.extend_from_slice(&plain);
    tx.protect_rtp_in_place(&mut buf).unwrap();
    let len = rx.unprotect_rtp_in_place(&mut buf).unwrap();
    assert_eq!(&buf[..len], &plain[..]);
    assert_eq!(RtpPacket::parse(&buf[..len]).unwrap().payload().len(), 80);
}

#[test]
fn csrcs_and_header_extensions_are_authenticated_not_encrypted() {
    use crate::rtp::{HeaderExtension, RtpHeader, packetize};
    for suite in SrtpSuite::ALL {
        let (mut tx, mut rx) = pair(suite);
        let header = RtpHeader {
            sequence: 5,
            ssrc: SSRC,
            csrcs: vec![1, 2],
            extension: Some(HeaderExtension {
                profile: 0xbede,
                data: vec![0x10, 0x7f, 0, 0],
            }),
            ..RtpHeader::default()
        };
        let mut plain = Vec::new();
        packetize(&header, b"payload!", &mut plain);
        let (mut srtp, mut back) = (Vec::new(), Vec::new());
        tx.protect_rtp(&plain, &mut srtp).unwrap();
        assert_eq!(srtp[..28], plain[..28]);
        let mut bad = srtp.clone();
        bad[25] ^= 1;
        assert!(rx.unprotect_rtp(&bad, &mut back).is_err());
        rx.unprotect_rtp(&srtp, &mut back).unwrap();
        assert_eq!(back, plain);
    }
}

// ---- webrtc-srtp as an oracle --------------------------------------------------------------

fn oracle_profile(suite: SrtpSuite) -> webrtc_srtp::protection_profile::ProtectionProfile {
    use webrtc_srtp::protection_profile::ProtectionProfile as P;
    match suite {
        SrtpSuite::AesCm128HmacSha1_80 => P::Aes128CmHmacSha1_80,
        SrtpSuite::AesCm128HmacSha1_32 => P::Aes128CmHmacSha1_32,
        SrtpSuite::AesCm256HmacSha1_80 => P::Aes256CmHmacSha1_80,
        SrtpSuite::AesCm256HmacSha1_32 => P::Aes256CmHmacSha1_32,
        SrtpSuite::AeadAes128Gcm => P::AeadAes128Gcm,
        SrtpSuite::AeadAes256Gcm => P::AeadAes256Gcm,
    }
}

fn oracle(keys: &SrtpKeys) -> webrtc_srtp::context::Context {
    use webrtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
    webrtc_srtp::context::Context::new(
        keys.master_key(),
        keys.master_salt(),
        oracle_profile(keys.suite()),
        Some(srtp_replay_protection(128)),
        Some(srtcp_replay_protection(128)),
    )
    .unwrap()
}

#[test]
fn webrtc_srtp_agrees_in_both_directions_for_every_suite() {
    for suite in SrtpSuite::ALL {
        let keys = keys(suite);
        let (mut ours_tx, mut ours_rx) = (
            SrtpContext::new(&keys).unwrap(),
            SrtpContext::new(&keys).unwrap(),
        );
        let (mut theirs_tx, mut theirs_rx) = (oracle(&keys), oracle(&keys));
        let (mut srtp, mut back) = (Vec::new(), Vec::new());
        for i in 0..300u16 {
            let plain = rtp(65400u16.wrapping_add(i), 20 + usize::from(i % 150));
            ours_tx.protect_rtp(&plain, &mut srtp).unwrap();
            let theirs = theirs_rx.decrypt_rtp(&srtp).unwrap();
            assert_eq!(
                &theirs[..],
                &plain[..],
                "{suite}: ours -> webrtc-srtp, packet {i}"
            );
            let theirs = theirs_tx.encrypt_rtp(&plain).unwrap();
            assert_eq!(
                &theirs[..],
                &srtp[..],
                "{suite}: identical ciphertext, packet {i}"
            );
            ours_rx.unprotect_rtp(&theirs, &mut back).unwrap();
            assert_eq!(back, plain, "{suite}: webrtc-srtp -> ours, packet {i}");
        }
        assert_eq!(ours_rx.roc(SSRC), Some(1));
        for i in 0..20u8 {
            let plain = rtcp_sr(SSRC, i);
            ours_tx.protect_rtcp(&plain, &mut srtp).unwrap();
            let theirs = theirs_rx.decrypt_rtcp(&srtp).unwrap();
            assert_eq!(
                &theirs[..],
                &plain[..],
                "{suite}: SRTCP ours -> webrtc-srtp"
            );
            let theirs = theirs_tx.encrypt_rtcp(&plain).unwrap();
            assert_eq!(&theirs[..], &srtp[..], "{suite}: identical SRTCP");
            ours_rx.unprotect_rtcp(&theirs, &mut back).unwrap();
            assert_eq!(back, plain, "{suite}: SRTCP webrtc-srtp -> ours");
        }
    }
}
