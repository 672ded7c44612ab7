//! The verdict rules: levels per part, minimum, padlock, reasons, downgrades.

use lockphone_sip::message::Transport;
use lockphone_sip::offer_answer::{LocalMedia, OfferAnswer, SrtpPolicy};
use lockphone_sip::sdp::SdesSuite;
use rand::SeedableRng;

use super::*;
use crate::tls::{ConnectionSecurity, TrustBasis};

fn tls(trusted_by: Option<TrustBasis>) -> ConnectionSecurity {
    ConnectionSecurity {
        transport: Transport::Tls,
        tls_version: Some("TLSv1_3".into()),
        cipher_suite: Some("TLS13_AES_256_GCM_SHA384".into()),
        peer_verified: trusted_by.is_some(),
        trusted_by,
        verified_name: trusted_by.map(|_| "pbx.example.com".into()),
        peer_certificate_sha256: Some("AA:BB".into()),
        client_certificate_presented: false,
        fips: false,
        revocation: crate::tls::revocation::RevocationStatus::NotChecked,
        common_criteria: false,
    }
}

fn ca() -> ConnectionSecurity {
    tls(Some(TrustBasis::CertificateAuthority))
}

fn srtp(suite: SdesSuite) -> MediaFacts {
    MediaFacts {
        srtp_suite: Some(suite),
        profile: "RTP/SAVP".into(),
        peer_answered: true,
        keys_crossed_other_leg: false,
    }
}

fn rtp(peer_answered: bool) -> MediaFacts {
    MediaFacts {
        srtp_suite: None,
        profile: "RTP/AVP".into(),
        peer_answered,
        keys_crossed_other_leg: false,
    }
}

const DIRECT: RemoteFacts = RemoteFacts {
    call_info: None,
    direct: true,
};
const PROXY_SILENT: RemoteFacts = RemoteFacts {
    call_info: None,
    direct: false,
};

fn reported(level: SecurityLevel) -> RemoteFacts {
    RemoteFacts {
        call_info: Some(level),
        direct: false,
    }
}

use SecurityLevel::*;

#[test]
fn verified_tls_and_srtp_direct_is_encrypted_with_the_lock() {
    let v = Verdict::compute(&ca(), Some(&srtp(SdesSuite::AeadAes256Gcm)), DIRECT);
    assert_eq!(
        (v.level, v.signalling, v.media),
        (Encrypted, Encrypted, Encrypted)
    );
    assert_eq!(v.remote, RemoteSecurity::Known(Encrypted));
    assert!(v.lock);
    assert!(v.reasons.is_empty(), "{:?}", v.reasons);
    assert_eq!(v.srtp_suite.as_deref(), Some("AEAD_AES_256_GCM"));
    assert_eq!(
        v.to_string(),
        "Encrypted 🔒 — AEAD_AES_256_GCM over TLSv1.3 verified by CA"
    );
}

#[test]
fn user_trust_and_pins_stay_encrypted_with_a_reason() {
    let v = Verdict::compute(
        &tls(Some(TrustBasis::UserTrustStore)),
        Some(&srtp(SdesSuite::AesCm128HmacSha1_80)),
        DIRECT,
    );
    assert_eq!(v.level, Encrypted);
    assert!(v.lock);
    assert_eq!(
        v.reasons,
        ["server certificate accepted by user, not by a CA"]
    );
    assert_eq!(
        v.to_string(),
        "Encrypted 🔒 — AES_CM_128_HMAC_SHA1_80 over TLSv1.3 trusted by user; server certificate accepted by user, not by a CA"
    );
    let v = Verdict::compute(
        &tls(Some(TrustBasis::PinnedFingerprint)),
        Some(&srtp(SdesSuite::AeadAes128Gcm)),
        DIRECT,
    );
    assert_eq!(v.level, Encrypted);
    assert_eq!(
        v.reasons,
        ["server certificate pinned by fingerprint, not verified by a CA"]
    );
}

#[test]
fn unverified_tls_is_not_secure_and_so_are_its_keys() {
    let v = Verdict::compute(&tls(None), Some(&srtp(SdesSuite::AeadAes256Gcm)), DIRECT);
    assert_eq!(
        (v.level, v.signalling, v.media),
        (NotSecure, NotSecure, NotSecure)
    );
    assert_eq!(v.remote, RemoteSecurity::Known(NotSecure));
    assert!(!v.lock);
    assert!(
        v.reasons
            .contains(&"signalling is TLS but the server certificate was not verified".to_owned())
    );
    assert!(
        v.reasons
            .iter()
            .any(|r| r.starts_with("media is SRTP but its keys crossed"))
    );
    assert!(!v.to_string().contains("🔒"));
}

#[test]
fn udp_and_tcp_are_not_secure() {
    for (transport, reason) in [
        (Transport::Udp, "signalling is UDP: not encrypted"),
        (Transport::Tcp, "signalling is TCP: not encrypted"),
    ] {
        let v = Verdict::compute(
            &ConnectionSecurity::plain(transport),
            Some(&srtp(SdesSuite::AeadAes256Gcm)),
            DIRECT,
        );
        assert_eq!(
            (v.level, v.signalling, v.media),
            (NotSecure, NotSecure, NotSecure)
        );
        assert_eq!(v.reasons[0], reason);
        assert!(!v.lock);
    }
    let v = Verdict::compute(
        &ConnectionSecurity::plain(Transport::Udp),
        Some(&rtp(true)),
        DIRECT,
    );
    assert_eq!(
        v.to_string(),
        "Not secure — RTP over UDP; signalling is UDP: not encrypted; media is RTP: peer answered RTP/AVP"
    );
}

#[test]
fn plain_media_lowers_the_call() {
    let v = Verdict::compute(&ca(), Some(&rtp(true)), DIRECT);
    assert_eq!(
        (v.signalling, v.media, v.level),
        (Encrypted, NotSecure, NotSecure)
    );
    assert_eq!(v.reasons, ["media is RTP: peer answered RTP/AVP"]);
    assert!(!v.lock);
    assert_eq!(v.srtp_suite, None);
    let v = Verdict::compute(&ca(), Some(&rtp(false)), DIRECT);
    assert_eq!(v.reasons, ["media is RTP: peer offered RTP/AVP"]);
    let v = Verdict::compute(&ca(), None, DIRECT);
    assert_eq!((v.media, v.level), (NotSecure, NotSecure));
    assert_eq!(v.reasons, ["no media negotiated yet"]);
}

#[test]
fn keys_that_crossed_another_leg_are_not_secure() {
    let mut media = srtp(SdesSuite::AeadAes256Gcm);
    media.keys_crossed_other_leg = true;
    let v = Verdict::compute(&ca(), Some(&media), DIRECT);
    assert_eq!((v.signalling, v.media), (Encrypted, NotSecure));
    assert!(!v.lock);
}

#[test]
fn tls_without_confidentiality_is_authenticated() {
    let mut record = ca();
    record.cipher_suite = Some("TLS_RSA_WITH_NULL_SHA256".into());
    let v = Verdict::compute(&record, Some(&rtp(true)), DIRECT);
    assert_eq!(v.signalling, Authenticated);
    assert_eq!(v.remote, RemoteSecurity::Known(Authenticated));
    assert_eq!(v.level, NotSecure);
    let v = Verdict::compute(&record, Some(&srtp(SdesSuite::AeadAes128Gcm)), DIRECT);
    assert_eq!(v.media, NotSecure, "keys readable on the wire");
}

#[test]
fn remote_side_from_call_info_direct_or_unknown() {
    let media = srtp(SdesSuite::AeadAes256Gcm);
    // CUCM says the far end is encrypted: lock through a proxy.
    let v = Verdict::compute(&ca(), Some(&media), reported(Encrypted));
    assert_eq!((v.level, v.lock), (Encrypted, true));
    assert!(v.reasons.is_empty());
    // CUCM says authenticated: the call is authenticated, no lock.
    let v = Verdict::compute(&ca(), Some(&media), reported(Authenticated));
    assert_eq!(v.remote, RemoteSecurity::Known(Authenticated));
    assert_eq!((v.level, v.lock), (Authenticated, false));
    assert_eq!(v.reasons, ["remote side reports security=Authenticated"]);
    let v = Verdict::compute(&ca(), Some(&media), reported(NotSecure));
    assert_eq!(v.level, NotSecure);
    assert_eq!(v.reasons, ["remote side reports security=NotAuthenticated"]);
    // Call-Info wins over the direct rule.
    let v = Verdict::compute(
        &ca(),
        Some(&media),
        RemoteFacts {
            call_info: Some(Authenticated),
            direct: true,
        },
    );
    assert_eq!(v.remote, RemoteSecurity::Known(Authenticated));
    // A proxy that says nothing: unknown, does not lower the level, but no lock.
    let v = Verdict::compute(&ca(), Some(&media), PROXY_SILENT);
    assert_eq!(v.remote, RemoteSecurity::Unknown);
    assert_eq!((v.level, v.lock), (Encrypted, false));
    assert_eq!(
        v.reasons,
        ["remote side unknown: proxy sent no Call-Info security"]
    );
    assert_eq!(
        v.to_string(),
        "Encrypted — AEAD_AES_256_GCM over TLSv1.3 verified by CA; remote side unknown: proxy sent no Call-Info security"
    );
}

#[test]
fn call_level_is_the_minimum() {
    let media = srtp(SdesSuite::AeadAes256Gcm);
    for (remote, expected) in [
        (reported(Encrypted), Encrypted),
        (reported(Authenticated), Authenticated),
        (reported(NotSecure), NotSecure),
        (PROXY_SILENT, Encrypted),
    ] {
        assert_eq!(
            Verdict::compute(&ca(), Some(&media), remote).level,
            expected
        );
        // Plain media caps everything at NotSecure.
        assert_eq!(
            Verdict::compute(&ca(), Some(&rtp(true)), remote).level,
            NotSecure
        );
    }
}

#[test]
fn serializes_for_events_and_reports() {
    let v = Verdict::compute(&ca(), Some(&srtp(SdesSuite::AeadAes256Gcm)), PROXY_SILENT);
    let json: serde_json::Value = serde_json::to_value(&v).unwrap();
    assert_eq!(json["level"], "encrypted");
    assert_eq!(json["signalling"], "encrypted");
    assert_eq!(json["media"], "encrypted");
    assert_eq!(json["remote"], "unknown");
    assert_eq!(json["lock"], false);
    assert_eq!(json["srtp_suite"], "AEAD_AES_256_GCM");
    assert_eq!(json["trusted_by"], "certificate-authority");
    assert_eq!(json["tls_version"], "TLSv1.3");
    assert_eq!(
        json["reasons"][0],
        "remote side unknown: proxy sent no Call-Info security"
    );
}

#[test]
fn media_facts_from_a_real_exchange() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let mut ours = LocalMedia::new([192, 0, 2, 1].into(), 40000);
    ours.sdes_allowed = true;
    let mut theirs = LocalMedia::new([192, 0, 2, 2].into(), 50000);
    theirs.sdes_allowed = true;
    theirs.policy = SrtpPolicy::Optional;
    let mut alice = OfferAnswer::new(ours, &mut rng);
    let mut bob = OfferAnswer::new(theirs, &mut rng);
    let offer = alice.create_offer(&mut rng).unwrap();
    let (answer, _) = bob.receive_offer(&offer, &mut rng).unwrap();
    let negotiated = alice.receive_answer(&answer).unwrap();
    let facts = MediaFacts::from_negotiated(&negotiated, true);
    assert_eq!(facts.srtp_suite, Some(SdesSuite::AeadAes256Gcm));
    assert_eq!(facts.profile, "RTP/SAVP");
    assert!(!facts.keys_crossed_other_leg);
    assert!(Verdict::compute(&ca(), Some(&facts), DIRECT).lock);
}

#[test]
fn no_downgrade_for_the_same_or_a_better_verdict() {
    let good = Verdict::compute(
        &ca(),
        Some(&srtp(SdesSuite::AeadAes256Gcm)),
        reported(Encrypted),
    );
    let plain = Verdict::compute(&ca(), Some(&rtp(true)), reported(Encrypted));
    assert_eq!(compare(&good, &good), None);
    assert_eq!(
        compare(&plain, &good),
        None,
        "an upgrade is not a downgrade"
    );
    // Another suite at the same level is not a downgrade.
    let other = Verdict::compute(
        &ca(),
        Some(&srtp(SdesSuite::AesCm128HmacSha1_80)),
        reported(Encrypted),
    );
    assert_eq!(compare(&good, &other), None);
    // The remote side becoming known at Encrypted is not one either.
    let silent = Verdict::compute(&ca(), Some(&srtp(SdesSuite::AeadAes256Gcm)), PROXY_SILENT);
    assert_eq!(compare(&silent, &good), None);
}

#[test]
fn remote_encrypted_to_authenticated_by_a_later_update() {
    let media = srtp(SdesSuite::AeadAes256Gcm);
    // 200 OK said Encrypted; a later UPDATE's Call-Info says Authenticated.
    let values_200 = ["<urn:X-cisco-remotecc:callinfo>;security=Encrypted;orientation=to"];
    let values_update = ["<urn:X-cisco-remotecc:callinfo>; security=Authenticated"];
    let before = Verdict::compute(
        &ca(),
        Some(&media),
        RemoteFacts {
            call_info: parse_remote_call_info(values_200),
            direct: false,
        },
    );
    let after = Verdict::compute(
        &ca(),
        Some(&media),
        RemoteFacts {
            call_info: parse_remote_call_info(values_update),
            direct: false,
        },
    );
    let downgrade = compare(&before, &after).unwrap();
    assert_eq!((downgrade.from, downgrade.to), (Encrypted, Authenticated));
    assert!(downgrade.lock_lost);
    assert_eq!(
        downgrade.parts,
        [PartChange {
            part: VerdictPart::Remote,
            from: "Encrypted".into(),
            to: "Authenticated".into(),
        }]
    );
    assert_eq!(
        downgrade.to_string(),
        "security lowered from Encrypted to Authenticated (padlock lost): remote side went from Encrypted to Authenticated"
    );
    assert_eq!(
        downgrade.reasons,
        ["remote side reports security=Authenticated"]
    );
}

#[test]
fn media_and_signalling_downgrades() {
    let before = Verdict::compute(&ca(), Some(&srtp(SdesSuite::AeadAes256Gcm)), DIRECT);
    // A re-INVITE answered with RTP/AVP.
    let plain = Verdict::compute(&ca(), Some(&rtp(true)), DIRECT);
    let downgrade = compare(&before, &plain).unwrap();
    assert_eq!(
        downgrade.parts.iter().map(|p| p.part).collect::<Vec<_>>(),
        [VerdictPart::Media]
    );
    assert_eq!(
        downgrade.to_string(),
        "security lowered from Encrypted to Not secure (padlock lost): media went from Encrypted to Not secure"
    );
    // The dialog moved to a UDP connection: every part goes down.
    let udp = Verdict::compute(
        &ConnectionSecurity::plain(Transport::Udp),
        Some(&srtp(SdesSuite::AeadAes256Gcm)),
        DIRECT,
    );
    let downgrade = compare(&before, &udp).unwrap();
    assert_eq!(
        downgrade.parts.iter().map(|p| p.part).collect::<Vec<_>>(),
        [
            VerdictPart::Signalling,
            VerdictPart::Media,
            VerdictPart::Remote
        ]
    );
}

#[test]
fn remote_side_lost_or_revealed_low() {
    let media = srtp(SdesSuite::AeadAes256Gcm);
    let known = Verdict::compute(&ca(), Some(&media), reported(Encrypted));
    let unknown = Verdict::compute(&ca(), Some(&media), PROXY_SILENT);
    let downgrade = compare(&known, &unknown).unwrap();
    assert_eq!((downgrade.from, downgrade.to), (Encrypted, Encrypted));
    assert!(downgrade.lock_lost);
    assert_eq!(downgrade.parts[0].to, "unknown");
    assert_eq!(
        downgrade.to_string(),
        "security lowered within Encrypted (padlock lost): remote side went from Encrypted to unknown"
    );
    let low = Verdict::compute(&ca(), Some(&media), reported(NotSecure));
    let downgrade = compare(&unknown, &low).unwrap();
    assert_eq!(downgrade.parts[0].from, "unknown");
    assert_eq!(downgrade.parts[0].to, "Not secure");
    assert!(!downgrade.lock_lost);
}

#[test]
fn downgrade_policy_names() {
    assert_eq!(DowngradePolicy::default(), DowngradePolicy::Alert);
    for (policy, name) in [
        (DowngradePolicy::Alert, "alert"),
        (DowngradePolicy::Hangup, "hangup"),
        (DowngradePolicy::Refuse, "refuse"),
    ] {
        assert_eq!(policy.to_string(), name);
        assert_eq!(name.parse::<DowngradePolicy>().unwrap(), policy);
        assert_eq!(
            name.to_uppercase().parse::<DowngradePolicy>().unwrap(),
            policy
        );
        assert_eq!(
            serde_json::to_string(&policy).unwrap(),
            format!("\"{name}\"")
        );
        assert_eq!(
            serde_json::from_str::<DowngradePolicy>(&format!("\"{name}\"")).unwrap(),
            policy
        );
    }
    let err = "ignore".parse::<DowngradePolicy>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown downgrade policy \"ignore\": expected one of alert, hangup, refuse"
    );
    assert!(serde_json::from_str::<DowngradePolicy>("\"Alert\"").is_err());
}
