//! Checking the answers to our offers.

use super::*;

/// Our offer with `suites`, and the instance waiting for its answer.
fn offerer(policy: SrtpPolicy, suites: Vec<SdesSuite>) -> (OfferAnswer, SessionDescription) {
    let mut rng = rng();
    let mut media = local(policy);
    media.suites = suites;
    let mut oa = OfferAnswer::new(media, &mut rng);
    let offer = oa.create_offer(&mut rng).unwrap();
    (oa, offer)
}

fn answer(proto: &str, formats: &str, extra: &str) -> SessionDescription {
    peer_sdp(
        "198.51.100.7",
        &format!("m=audio 10000 {proto} {formats}\r\na=rtpmap:96 opus/48000/2\r\n{extra}"),
    )
}

#[test]
fn baresip_1_0_answering_a_suite_we_did_not_offer_is_refused() {
    let (mut oa, offer) = offerer(SrtpPolicy::Mandatory, vec![SdesSuite::Aes256CmHmacSha1_80]);
    let lines = crypto_lines(&offer);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].suite, SdesSuite::Aes256CmHmacSha1_80);
    let reply = answer(
        "RTP/SAVP",
        "0",
        &format!("a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}\r\n"),
    );
    let err = oa.receive_answer(&reply).unwrap_err();
    assert_eq!(
        err,
        NegotiationError::SuiteNotOffered {
            suite: "AES_CM_128_HMAC_SHA1_80".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "the answer picked crypto suite AES_CM_128_HMAC_SHA1_80, which was not offered"
    );
    assert_eq!(err.status_code(), 488);
    assert!(oa.current().is_none());
    assert!(!oa.has_pending_offer(), "the exchange is over");
    assert_eq!(
        oa.receive_answer(&reply).unwrap_err(),
        NegotiationError::NoOfferPending
    );
}

#[test]
fn tag_must_be_the_offered_one() {
    let (mut oa, offer) = offerer(SrtpPolicy::Mandatory, default_suites());
    let gcm = &crypto_lines(&offer)[0];
    assert_eq!((gcm.tag, &gcm.suite), (1, &SdesSuite::AeadAes256Gcm));
    let reply = answer(
        "RTP/SAVP",
        "0",
        &format!("a=crypto:2 AEAD_AES_256_GCM inline:{KEY_44}\r\n"),
    );
    let err = oa.receive_answer(&reply).unwrap_err();
    assert_eq!(
        err,
        NegotiationError::TagMismatch {
            tag: 2,
            suite: "AEAD_AES_256_GCM".into()
        }
    );
}

#[test]
fn exactly_one_crypto_line() {
    let (mut oa, _) = offerer(SrtpPolicy::Mandatory, default_suites());
    let reply = answer(
        "RTP/SAVP",
        "0",
        &format!(
            "a=crypto:1 AEAD_AES_256_GCM inline:{KEY_44}\r\na=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}\r\n"
        ),
    );
    assert_eq!(
        oa.receive_answer(&reply).unwrap_err(),
        NegotiationError::SeveralCryptoLines(2)
    );
}

#[test]
fn mandatory_refuses_answers_without_keys() {
    let (mut oa, _) = offerer(SrtpPolicy::Mandatory, default_suites());
    let err = oa.receive_answer(&answer("RTP/SAVP", "0", "")).unwrap_err();
    assert_eq!(err, NegotiationError::NoCryptoInAnswer);
    assert_eq!(
        err.to_string(),
        "the answer has no a=crypto, SRTP is mandatory for this account"
    );
    let (mut oa, _) = offerer(SrtpPolicy::Mandatory, default_suites());
    let err = oa.receive_answer(&answer("RTP/AVP", "0", "")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "peer answered RTP/AVP to an offer of RTP/SAVP"
    );
    // Even with keys, RTP/AVP is not an answer to RTP/SAVP.
    let (mut oa, _) = offerer(SrtpPolicy::Mandatory, default_suites());
    let err = oa
        .receive_answer(&answer(
            "RTP/AVP",
            "0",
            &format!("a=crypto:1 AEAD_AES_256_GCM inline:{KEY_44}\r\n"),
        ))
        .unwrap_err();
    assert!(
        matches!(err, NegotiationError::ProfileMismatch { .. }),
        "{err}"
    );
}

#[test]
fn optional_accepts_a_plain_answer_and_a_keyed_one() {
    let (mut oa, _) = offerer(SrtpPolicy::Optional, default_suites());
    let negotiated = oa.receive_answer(&answer("RTP/AVP", "0", "")).unwrap();
    assert_eq!(negotiated.srtp, None);
    assert_eq!(negotiated.profile, "RTP/AVP");
    assert_eq!(oa.current(), Some(&negotiated));

    let (mut oa, offer) = offerer(SrtpPolicy::Optional, default_suites());
    let ours = crypto_lines(&offer)[3].clone();
    assert_eq!(ours.suite, SdesSuite::AesCm128HmacSha1_80);
    let negotiated = oa
        .receive_answer(&answer(
            "RTP/AVP",
            "0",
            &format!("a=crypto:4 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}\r\n"),
        ))
        .unwrap();
    let srtp = negotiated.srtp.unwrap();
    assert_eq!(srtp.tag, 4);
    assert_eq!(Some(&srtp.local_key), ours.key());
    assert_eq!(srtp.remote_key.to_base64().as_str(), KEY_30);

    // RTP/SAVP without keys is never an answer.
    let (mut oa, _) = offerer(SrtpPolicy::Optional, default_suites());
    assert_eq!(
        oa.receive_answer(&answer("RTP/SAVP", "0", "")).unwrap_err(),
        NegotiationError::SavpWithoutCrypto("RTP/SAVP".into())
    );
}

#[test]
fn off_refuses_keys_and_srtp_in_the_answer() {
    let (mut oa, _) = offerer(SrtpPolicy::Off, default_suites());
    let err = oa
        .receive_answer(&answer(
            "RTP/AVP",
            "0",
            &format!("a=crypto:1 AEAD_AES_256_GCM inline:{KEY_44}\r\n"),
        ))
        .unwrap_err();
    assert_eq!(err, NegotiationError::UnexpectedCrypto);
    let (mut oa, _) = offerer(SrtpPolicy::Off, default_suites());
    let err = oa
        .receive_answer(&answer(
            "RTP/SAVP",
            "0",
            &format!("a=crypto:1 AEAD_AES_256_GCM inline:{KEY_44}\r\n"),
        ))
        .unwrap_err();
    assert!(
        matches!(err, NegotiationError::ProfileMismatch { .. }),
        "{err}"
    );
}

#[test]
fn answered_key_of_the_wrong_length_or_with_mki_is_refused() {
    let (mut oa, _) = offerer(SrtpPolicy::Mandatory, default_suites());
    let mut reply = answer(
        "RTP/SAVP",
        "0",
        &format!("a=crypto:1 AEAD_AES_256_GCM inline:{KEY_44}\r\n"),
    );
    for attribute in &mut reply.media[0].attributes {
        if let crate::sdp::Attribute::Crypto(c) = attribute {
            c.key_params[0].key = crate::sdp::SdesKey::new(vec![1; 42]);
        }
    }
    let err = oa.receive_answer(&reply).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid a=crypto: AEAD_AES_256_GCM needs 44 bytes of key+salt, got 42"
    );
    let (mut oa, _) = offerer(SrtpPolicy::Mandatory, default_suites());
    let err = oa
        .receive_answer(&answer(
            "RTP/SAVP",
            "0",
            &format!("a=crypto:1 AEAD_AES_256_GCM inline:{KEY_44}|2^31|1:4\r\n"),
        ))
        .unwrap_err();
    assert_eq!(err, NegotiationError::UnsupportedCryptoParams);
}

#[test]
fn codec_must_be_one_we_offered_and_its_number_may_differ() {
    let (mut oa, _) = offerer(SrtpPolicy::Off, default_suites());
    let err = oa.receive_answer(&answer("RTP/AVP", "18", "")).unwrap_err();
    assert_eq!(err, NegotiationError::CodecNotOffered);

    let (mut oa, _) = offerer(SrtpPolicy::Off, default_suites());
    let negotiated = oa
        .receive_answer(&answer(
            "RTP/AVP",
            "18 96 120",
            "a=rtpmap:120 telephone-event/48000\r\na=rtcp-mux\r\n",
        ))
        .unwrap();
    assert_eq!(negotiated.codec, AudioCodec::Opus);
    assert_eq!(
        negotiated.payload_type, 96,
        "we send with the peer's number"
    );
    assert_eq!(negotiated.receive_payload_type, 111, "we receive on ours");
    assert_eq!(negotiated.telephone_event, Some(120));
    assert_eq!(negotiated.receive_telephone_event, Some(110));
    assert!(negotiated.rtcp_mux);
    assert_eq!(negotiated.remote_rtcp, addr("198.51.100.7:10000"));
}

#[test]
fn answer_shape_errors() {
    let (mut oa, _) = offerer(SrtpPolicy::Off, default_suites());
    let err = oa.receive_answer(&answer("RTP/AVP", "0", "m=video 0 RTP/AVP 96\r\n"));
    assert_eq!(
        err.unwrap_err(),
        NegotiationError::MediaCountMismatch {
            offer: 1,
            answer: 2
        }
    );
    let (mut oa, _) = offerer(SrtpPolicy::Off, default_suites());
    let rejected = peer_sdp("198.51.100.7", "m=audio 0 RTP/AVP 0\r\n");
    assert_eq!(
        oa.receive_answer(&rejected).unwrap_err(),
        NegotiationError::StreamRejected
    );
}

#[test]
fn a_failed_answer_keeps_the_previous_outcome() {
    let (mut oa, _) = offerer(SrtpPolicy::Off, default_suites());
    let first = oa.receive_answer(&answer("RTP/AVP", "0", "")).unwrap();
    let mut rng = rng();
    oa.create_offer(&mut rng).unwrap();
    assert!(oa.receive_answer(&answer("RTP/AVP", "18", "")).is_err());
    assert_eq!(oa.current(), Some(&first));
}
