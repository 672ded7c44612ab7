//! Our answers to offers.

use super::*;

fn answer_to(
    policy: SrtpPolicy,
    offer: &SessionDescription,
) -> Result<(SessionDescription, Negotiated), NegotiationError> {
    let mut rng = rng();
    OfferAnswer::new(local(policy), &mut rng).receive_offer(offer, &mut rng)
}

fn crypto(tag: u32, suite: &str, key: &str) -> String {
    format!("a=crypto:{tag} {suite} inline:{key}\r\n")
}

#[test]
fn baresip_offer_is_answered_with_its_codec_tag_and_a_fresh_key() {
    let offer = baresip_offer("RTP/SAVP", &crypto(1, "AES_CM_128_HMAC_SHA1_80", KEY_30));
    let (answer, negotiated) = answer_to(SrtpPolicy::Mandatory, &offer).unwrap();
    let audio = &answer.media[0];
    assert_eq!(audio.proto, "RTP/SAVP");
    assert_eq!(audio.port, 40000);
    // Opus comes first in the offer; its telephone-event would have to be at 48 kHz.
    assert_eq!(audio.formats, ["96"]);
    assert!(has_attribute(&answer, "rtpmap:96 opus/48000/2"));
    assert!(has_attribute(&answer, "rtcp-mux"));
    assert_eq!(direction_attribute(&answer, 0), Some(Direction::SendRecv));
    let lines = crypto_lines(&answer);
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].tag, 1);
    assert_eq!(lines[0].suite, SdesSuite::AesCm128HmacSha1_80);
    assert_eq!(lines[0].key().unwrap().len(), 30);
    assert_ne!(lines[0].key().unwrap().to_base64().as_str(), KEY_30);

    assert_eq!(negotiated.codec, AudioCodec::Opus);
    assert_eq!(
        (negotiated.payload_type, negotiated.receive_payload_type),
        (96, 96)
    );
    assert_eq!(negotiated.clock_rate, 48_000);
    assert_eq!(negotiated.telephone_event, None);
    assert_eq!(negotiated.remote_rtp, addr("198.51.100.7:10000"));
    assert!(negotiated.rtcp_mux);
    assert_eq!(negotiated.remote_rtcp, negotiated.remote_rtp);
    assert_eq!(negotiated.local_direction, Direction::SendRecv);
    assert_eq!(negotiated.profile, "RTP/SAVP");
    let srtp = negotiated.srtp.unwrap();
    assert_eq!(srtp.tag, 1);
    assert_eq!(srtp.remote_key.to_base64().as_str(), KEY_30);
    assert_eq!(Some(&srtp.local_key), lines[0].key());
}

#[test]
fn codec_follows_the_offers_order_and_telephone_event_its_clock() {
    let offer = peer_sdp(
        "198.51.100.7",
        "m=audio 10000 RTP/AVP 18 8 0 101 102\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=fmtp:101 0-15\r\n\
a=rtpmap:102 telephone-event/48000\r\n",
    );
    let (answer, negotiated) = answer_to(SrtpPolicy::Off, &offer).unwrap();
    assert_eq!(negotiated.codec, AudioCodec::Pcma);
    assert_eq!(negotiated.payload_type, 8);
    assert_eq!(negotiated.clock_rate, 8000);
    assert_eq!(negotiated.telephone_event, Some(101));
    assert_eq!(negotiated.receive_telephone_event, Some(101));
    assert_eq!(negotiated.srtp, None);
    assert_eq!(answer.media[0].formats, ["8", "101"]);
    assert!(
        has_attribute(&answer, "fmtp:101 0-15"),
        "echoes the offered events"
    );
    // No a=rtcp-mux offered: none answered, RTCP to the next port.
    assert!(!negotiated.rtcp_mux);
    assert!(!has_attribute(&answer, "rtcp-mux"));
    assert_eq!(negotiated.remote_rtcp, addr("198.51.100.7:10001"));
}

#[test]
fn telephone_event_is_not_answered_when_disabled() {
    let offer = baresip_offer("RTP/AVP", "");
    let mut rng = rng();
    let mut media = local(SrtpPolicy::Off);
    media.codecs = vec![AudioCodec::Pcmu];
    media.telephone_event = false;
    let (answer, negotiated) = OfferAnswer::new(media, &mut rng)
        .receive_offer(&offer, &mut rng)
        .unwrap();
    assert_eq!(negotiated.codec, AudioCodec::Pcmu);
    assert_eq!(negotiated.telephone_event, None);
    assert_eq!(answer.media[0].formats, ["0"]);
}

#[test]
fn first_offered_crypto_we_accept_wins() {
    let lines = format!(
        "{}{}{}",
        crypto(1, "F8_128_HMAC_SHA1_80", KEY_30),
        crypto(2, "AES_CM_128_HMAC_SHA1_32", KEY_30),
        crypto(3, "AEAD_AES_256_GCM", KEY_44),
    );
    let offer = baresip_offer("RTP/SAVP", &lines);
    let (answer, negotiated) = answer_to(SrtpPolicy::Mandatory, &offer).unwrap();
    let srtp = negotiated.srtp.unwrap();
    assert_eq!((srtp.tag, srtp.suite), (2, SdesSuite::AesCm128HmacSha1_32));
    assert_eq!(crypto_lines(&answer)[0].tag, 2);

    // Restricted to GCM-256 by configuration: tag 3.
    let mut rng = rng();
    let mut media = local(SrtpPolicy::Mandatory);
    media.suites = vec![SdesSuite::AeadAes256Gcm];
    let (answer, negotiated) = OfferAnswer::new(media, &mut rng)
        .receive_offer(&offer, &mut rng)
        .unwrap();
    let srtp = negotiated.srtp.unwrap();
    assert_eq!(
        (srtp.tag, srtp.suite.clone()),
        (3, SdesSuite::AeadAes256Gcm)
    );
    assert_eq!(srtp.local_key.len(), 44);
    assert_eq!(crypto_lines(&answer)[0].key().unwrap().len(), 44);
}

#[test]
fn lines_with_mki_or_session_parameters_are_skipped() {
    let lines = format!(
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}|2^20|1:4\r\n\
a=crypto:2 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30} UNENCRYPTED_SRTP\r\n\
a=crypto:3 AES_256_CM_HMAC_SHA1_80 inline:{KEY_46}|2^31 WSH=128\r\n"
    );
    let (_, negotiated) =
        answer_to(SrtpPolicy::Mandatory, &baresip_offer("RTP/SAVP", &lines)).unwrap();
    assert_eq!(negotiated.srtp.unwrap().tag, 3);
    // SIPp's offer: four lines, all with an MKI.
    let sipp = format!(
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}|2^20|1:4\r\n\
a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:{KEY_30}|2^20|1:4\r\n"
    );
    let err = answer_to(SrtpPolicy::Mandatory, &baresip_offer("RTP/SAVP", &sipp)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "no supported SRTP crypto suite offered (offered: AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32)"
    );
}

#[test]
fn refusals_with_status_and_reason() {
    let good = crypto(1, "AES_CM_128_HMAC_SHA1_80", KEY_30);
    let cases: Vec<(SrtpPolicy, SessionDescription, NegotiationError, &str)> = vec![
        (
            SrtpPolicy::Mandatory,
            baresip_offer("RTP/AVP", ""),
            NegotiationError::PlainRtpOffered,
            "plain RTP offered, SRTP is mandatory for this account",
        ),
        (
            SrtpPolicy::Off,
            baresip_offer("RTP/SAVP", &good),
            NegotiationError::SrtpDisabled,
            "SRTP offered, but SRTP is off for this account",
        ),
        (
            SrtpPolicy::Mandatory,
            baresip_offer("RTP/SAVP", ""),
            NegotiationError::SavpWithoutCrypto("RTP/SAVP".into()),
            "RTP/SAVP without any a=crypto: no SRTP keys",
        ),
        (
            SrtpPolicy::Mandatory,
            baresip_offer("RTP/SAVP", &crypto(1, "F8_128_HMAC_SHA1_80", KEY_30)),
            NegotiationError::NoSupportedSuite {
                offered: "F8_128_HMAC_SHA1_80".into(),
            },
            "no supported SRTP crypto suite offered (offered: F8_128_HMAC_SHA1_80)",
        ),
        (
            SrtpPolicy::Optional,
            baresip_offer("UDP/TLS/RTP/SAVPF", ""),
            NegotiationError::DtlsSrtp("UDP/TLS/RTP/SAVPF".into()),
            "DTLS-SRTP (UDP/TLS/RTP/SAVPF) is not supported, only SDES keys in SDP over TLS",
        ),
        (
            SrtpPolicy::Optional,
            peer_sdp("198.51.100.7", "m=audio 10000 udp 0\r\n"),
            NegotiationError::UnsupportedProtocol("udp".into()),
            "media transport udp is not supported (RTP/AVP, RTP/AVPF, RTP/SAVP or RTP/SAVPF only)",
        ),
        (
            SrtpPolicy::Optional,
            peer_sdp("198.51.100.7", "m=audio 10000 RTP/AVP 18 9\r\n"),
            NegotiationError::NoCommonCodec {
                supported: "opus, PCMU, PCMA".into(),
            },
            "no common audio codec (we support opus, PCMU, PCMA)",
        ),
        (
            SrtpPolicy::Optional,
            peer_sdp("198.51.100.7", "m=audio 0 RTP/AVP 0\r\n"),
            NegotiationError::StreamRejected,
            "the audio stream is rejected (port 0)",
        ),
        (
            SrtpPolicy::Optional,
            peer_sdp("198.51.100.7", "m=video 9000 RTP/AVP 96\r\n"),
            NegotiationError::NoAudio,
            "no audio stream offered",
        ),
        (
            SrtpPolicy::Optional,
            peer_sdp("pbx.example.com", "m=audio 10000 RTP/AVP 0\r\n"),
            NegotiationError::ConnectionNotIp("pbx.example.com".into()),
            "the audio connection address \"pbx.example.com\" is not an IP address",
        ),
    ];
    for (policy, offer, expected, reason) in cases {
        let err = answer_to(policy, &offer).unwrap_err();
        assert_eq!(err, expected, "{}", offer.redacted());
        assert_eq!(err.to_string(), reason);
        assert_eq!(err.status_code(), 488, "{reason}");
    }
}

#[test]
fn keys_over_unverified_signalling_are_refused_unless_srtp_is_off() {
    let good = crypto(1, "AES_CM_128_HMAC_SHA1_80", KEY_30);
    for (policy, proto) in [
        (SrtpPolicy::Optional, "RTP/AVP"),
        (SrtpPolicy::Optional, "RTP/SAVP"),
        (SrtpPolicy::Mandatory, "RTP/AVP"),
        (SrtpPolicy::Mandatory, "RTP/SAVP"),
    ] {
        let mut rng = rng();
        let mut media = local(policy);
        media.sdes_allowed = false;
        let err = OfferAnswer::new(media, &mut rng)
            .receive_offer(&baresip_offer(proto, &good), &mut rng)
            .unwrap_err();
        assert_eq!(err, NegotiationError::SdesNotAllowed, "{policy:?} {proto}");
        assert_eq!(
            err.to_string(),
            "SDES keys offered over a connection that is not verified TLS"
        );
        assert_eq!(err.status_code(), 488);
    }
    // Policy off: the keys are ignored and the answer is plain.
    let mut rng = rng();
    let mut media = local(SrtpPolicy::Off);
    media.sdes_allowed = false;
    let (answer, negotiated) = OfferAnswer::new(media, &mut rng)
        .receive_offer(&baresip_offer("RTP/AVP", &good), &mut rng)
        .unwrap();
    assert_eq!(negotiated.srtp, None);
    assert!(crypto_lines(&answer).is_empty());
    assert_eq!(answer.media[0].proto, "RTP/AVP");
    // A plain offer without keys stays fine under Optional on an unverified path.
    let mut media = local(SrtpPolicy::Optional);
    media.sdes_allowed = false;
    let (_, negotiated) = OfferAnswer::new(media, &mut rng)
        .receive_offer(&baresip_offer("RTP/AVP", ""), &mut rng)
        .unwrap();
    assert_eq!(negotiated.srtp, None);
}

#[test]
fn optional_accepts_keys_in_avp_and_plain_avp() {
    let offer = baresip_offer("RTP/AVP", &crypto(7, "AEAD_AES_256_GCM", KEY_44));
    let (answer, negotiated) = answer_to(SrtpPolicy::Optional, &offer).unwrap();
    assert_eq!(answer.media[0].proto, "RTP/AVP");
    assert_eq!(negotiated.srtp.unwrap().tag, 7);
    assert_eq!(crypto_lines(&answer)[0].tag, 7);
    // Mandatory takes SRTP in an RTP/AVP offer too (baresip's `mediaenc=srtp`).
    let (_, negotiated) = answer_to(SrtpPolicy::Mandatory, &offer).unwrap();
    assert!(negotiated.srtp.is_some());
    let (answer, negotiated) =
        answer_to(SrtpPolicy::Optional, &baresip_offer("RTP/AVP", "")).unwrap();
    assert_eq!(negotiated.srtp, None);
    assert!(crypto_lines(&answer).is_empty());
    // Optional with only unusable keys in RTP/AVP: plain.
    let unusable = baresip_offer("RTP/AVP", &crypto(1, "F8_128_HMAC_SHA1_80", KEY_30));
    let (_, negotiated) = answer_to(SrtpPolicy::Optional, &unusable).unwrap();
    assert_eq!(negotiated.srtp, None);
}

#[test]
fn wrong_key_length_is_a_crypto_error_with_488() {
    // 42 bytes for GCM-256, the baresip#1233 trap: the parser already refuses it.
    let key_42 = "Kk90mb7jCC1Sd5zB5gswVXqfxOkOM1h9osfsETZbgKXK7xQ5XoOozfIX";
    let text = baresip_offer("RTP/SAVP", "").to_string()
        + &format!("a=crypto:1 AEAD_AES_256_GCM inline:{key_42}\r\n");
    let err = parse_sdp(text.as_bytes()).unwrap_err();
    assert!(
        matches!(
            err,
            NegotiationError::Crypto(crate::sdp::CryptoError::KeyLength {
                expected: 44,
                actual: 42,
                ..
            })
        ),
        "{err}"
    );
    assert_eq!(err.status_code(), 488);
    assert!(!err.to_string().contains(key_42));
    // A description built in code with a short key is refused by the negotiation too.
    let mut offer = baresip_offer("RTP/SAVP", &crypto(1, "AEAD_AES_256_GCM", KEY_44));
    for attribute in &mut offer.media[0].attributes {
        if let crate::sdp::Attribute::Crypto(c) = attribute {
            c.key_params[0].key = crate::sdp::SdesKey::new(vec![7; 42]);
        }
    }
    let err = answer_to(SrtpPolicy::Mandatory, &offer).unwrap_err();
    assert!(matches!(err, NegotiationError::Crypto(_)), "{err}");
    assert_eq!(err.status_code(), 488);
}

#[test]
fn unparsable_bodies_are_400() {
    assert_eq!(
        parse_sdp(b"v=0\r\no=broken\r\n").unwrap_err().status_code(),
        400
    );
    assert_eq!(
        parse_sdp(&[0xff, 0xfe]).unwrap_err(),
        NegotiationError::NotUtf8
    );
    let err = answer_to(
        SrtpPolicy::Off,
        &parse("v=0\r\no=- 1 1 IN IP4 192.0.2.9\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n"),
    )
    .unwrap_err();
    assert_eq!(err, NegotiationError::MissingConnection);
    assert_eq!(err.status_code(), 400);
}

#[test]
fn other_sections_are_rejected_with_port_zero() {
    let offer = peer_sdp(
        "198.51.100.7",
        "m=video 9000 RTP/AVP 96 97\r\na=rtpmap:96 VP8/90000\r\n\
m=audio 0 RTP/AVP 0\r\n\
m=audio 10000 RTP/AVP 0\r\n",
    );
    let (answer, negotiated) = answer_to(SrtpPolicy::Off, &offer).unwrap();
    assert_eq!(answer.media.len(), 3);
    assert_eq!(
        (answer.media[0].media.as_str(), answer.media[0].port),
        ("video", 0)
    );
    assert_eq!(answer.media[0].formats, ["96"]);
    assert_eq!(answer.media[1].port, 0);
    assert_eq!(answer.media[2].port, 40000);
    assert_eq!(negotiated.remote_rtp, addr("198.51.100.7:10000"));
    assert_eq!(wire(&answer), answer);
}

#[test]
fn rtcp_attribute_and_media_level_connection() {
    let offer = peer_sdp(
        "198.51.100.7",
        "m=audio 10000 RTP/AVP 0\r\nc=IN IP4 203.0.113.5\r\na=rtcp:53001 IN IP4 203.0.113.9\r\n",
    );
    let (_, negotiated) = answer_to(SrtpPolicy::Off, &offer).unwrap();
    assert_eq!(negotiated.remote_rtp, addr("203.0.113.5:10000"));
    assert_eq!(negotiated.remote_rtcp, addr("203.0.113.9:53001"));
    let offer = peer_sdp(
        "198.51.100.7",
        "m=audio 10000 RTP/AVP 0\r\na=rtcp:10005\r\n",
    );
    let (_, negotiated) = answer_to(SrtpPolicy::Off, &offer).unwrap();
    assert_eq!(negotiated.remote_rtcp, addr("198.51.100.7:10005"));
}

#[test]
fn a_refused_offer_changes_nothing() {
    let mut rng = rng();
    let mut oa = OfferAnswer::new(local(SrtpPolicy::Mandatory), &mut rng);
    let offer = oa.create_offer(&mut rng).unwrap();
    assert!(
        oa.receive_offer(&baresip_offer("RTP/AVP", ""), &mut rng)
            .is_err()
    );
    assert_eq!(oa.session_version(), 1);
    assert!(oa.has_pending_offer());
    assert!(oa.current().is_none());
    let next = oa.create_offer(&mut rng).unwrap();
    assert_eq!(crypto_lines(&next), crypto_lines(&offer));
}
