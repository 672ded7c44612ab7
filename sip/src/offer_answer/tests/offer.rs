//! Our offers.

use super::*;

#[test]
fn mandatory_offer_lists_codecs_events_and_one_crypto_per_suite() {
    let mut rng = rng();
    let mut oa = OfferAnswer::new(local(SrtpPolicy::Mandatory), &mut rng);
    let offer = oa.create_offer(&mut rng).unwrap();
    assert_eq!(offer.media.len(), 1);
    let audio = &offer.media[0];
    assert_eq!(audio.media, "audio");
    assert_eq!(audio.port, 40000);
    assert_eq!(audio.proto, "RTP/SAVP");
    assert_eq!(audio.formats, ["111", "0", "8", "110", "101"]);
    assert_eq!(offer.connection_address(audio), Some("192.0.2.1"));
    assert_eq!(offer.origin.addr_type, "IP4");
    assert_eq!(offer.origin.session_id, oa.session_id());
    assert_eq!(offer.origin.session_version, 1);
    for line in [
        "rtpmap:111 opus/48000/2",
        "fmtp:111 useinbandfec=1",
        "rtpmap:0 PCMU/8000",
        "rtpmap:8 PCMA/8000",
        "rtpmap:110 telephone-event/48000",
        "fmtp:110 0-16",
        "rtpmap:101 telephone-event/8000",
        "fmtp:101 0-16",
        "ptime:20",
        "rtcp-mux",
        "sendrecv",
    ] {
        assert!(
            has_attribute(&offer, line),
            "missing a={line}\n{}",
            offer.redacted()
        );
    }
    let crypto = crypto_lines(&offer);
    let expected = [
        ("AEAD_AES_256_GCM", 32, 12),
        ("AEAD_AES_128_GCM", 16, 12),
        ("AES_256_CM_HMAC_SHA1_80", 32, 14),
        ("AES_CM_128_HMAC_SHA1_80", 16, 14),
        ("AES_256_CM_HMAC_SHA1_32", 32, 14),
        ("AES_CM_128_HMAC_SHA1_32", 16, 14),
    ];
    assert_eq!(crypto.len(), expected.len());
    for (index, (line, (name, key, salt))) in crypto.iter().zip(expected).enumerate() {
        assert_eq!(line.tag as usize, index + 1);
        assert_eq!(line.suite.as_str(), name);
        let (k, s) = line.key().unwrap().split(&line.suite).unwrap();
        assert_eq!((k.len(), s.len()), (key, salt), "{name}");
        assert_eq!(line.key_params.len(), 1);
        assert!(line.session_params.is_empty());
    }
    // Every key is different.
    for (i, a) in crypto.iter().enumerate() {
        for b in &crypto[i + 1..] {
            assert_ne!(a.key().unwrap().as_bytes(), b.key().unwrap().as_bytes());
        }
    }
    assert!(oa.has_pending_offer());
    // What we write parses back to the same description.
    assert_eq!(wire(&offer), offer);
}

#[test]
fn optional_offers_avp_with_crypto_and_off_offers_avp_without() {
    let mut rng = rng();
    let optional = OfferAnswer::new(local(SrtpPolicy::Optional), &mut rng)
        .create_offer(&mut rng)
        .unwrap();
    assert_eq!(optional.media[0].proto, "RTP/AVP");
    assert_eq!(crypto_lines(&optional).len(), 6);
    let off = OfferAnswer::new(local(SrtpPolicy::Off), &mut rng)
        .create_offer(&mut rng)
        .unwrap();
    assert_eq!(off.media[0].proto, "RTP/AVP");
    assert!(crypto_lines(&off).is_empty());
}

#[test]
fn configured_suite_order_and_unknown_suites() {
    let mut rng = rng();
    let mut media = local(SrtpPolicy::Mandatory);
    media.suites = vec![
        SdesSuite::AesCm128HmacSha1_32,
        SdesSuite::Unknown("F8_128_HMAC_SHA1_80".into()),
        SdesSuite::AeadAes128Gcm,
        SdesSuite::AesCm128HmacSha1_32,
    ];
    let offer = OfferAnswer::new(media, &mut rng)
        .create_offer(&mut rng)
        .unwrap();
    let suites: Vec<(u32, String)> = crypto_lines(&offer)
        .iter()
        .map(|c| (c.tag, c.suite.to_string()))
        .collect();
    assert_eq!(
        suites,
        [
            (1, "AES_CM_128_HMAC_SHA1_32".to_owned()),
            (2, "AEAD_AES_128_GCM".to_owned())
        ]
    );
}

#[test]
fn no_keys_over_unverified_signalling() {
    let mut rng = rng();
    for policy in [SrtpPolicy::Optional, SrtpPolicy::Mandatory] {
        let mut media = local(policy);
        media.sdes_allowed = false;
        let mut oa = OfferAnswer::new(media, &mut rng);
        let err = oa.create_offer(&mut rng).unwrap_err();
        assert_eq!(err, NegotiationError::SdesNotAllowedLocal, "{policy:?}");
        assert_eq!(err.status_code(), 488);
        assert!(!oa.has_pending_offer());
        assert_eq!(oa.session_version(), 0, "a refused offer writes no version");
    }
    let mut media = local(SrtpPolicy::Off);
    media.sdes_allowed = false;
    assert!(
        OfferAnswer::new(media, &mut rng)
            .create_offer(&mut rng)
            .is_ok()
    );
}

#[test]
fn local_configuration_errors() {
    let mut rng = rng();
    let mut media = local(SrtpPolicy::Mandatory);
    media.codecs.clear();
    let err = OfferAnswer::new(media, &mut rng)
        .create_offer(&mut rng)
        .unwrap_err();
    assert_eq!(err, NegotiationError::NoLocalCodecs);
    assert_eq!(err.status_code(), 500);
    let mut media = local(SrtpPolicy::Mandatory);
    media.suites = vec![SdesSuite::Unknown("F8_128_HMAC_SHA1_80".into())];
    let err = OfferAnswer::new(media, &mut rng)
        .create_offer(&mut rng)
        .unwrap_err();
    assert_eq!(err, NegotiationError::NoLocalSuites);
}

#[test]
fn pcm_only_offer_has_one_telephone_event_and_none_when_disabled() {
    let mut rng = rng();
    let mut media = local(SrtpPolicy::Off);
    media.codecs = vec![AudioCodec::Pcma, AudioCodec::Pcmu, AudioCodec::Pcma];
    let offer = OfferAnswer::new(media.clone(), &mut rng)
        .create_offer(&mut rng)
        .unwrap();
    assert_eq!(offer.media[0].formats, ["8", "0", "101"]);
    media.telephone_event = false;
    let offer = OfferAnswer::new(media, &mut rng)
        .create_offer(&mut rng)
        .unwrap();
    assert_eq!(offer.media[0].formats, ["8", "0"]);
}

#[test]
fn ipv6_address_is_written_as_ip6() {
    let mut rng = rng();
    let mut media = local(SrtpPolicy::Off);
    media.address = ip("2001:db8::7");
    let offer = OfferAnswer::new(media, &mut rng)
        .create_offer(&mut rng)
        .unwrap();
    assert_eq!(offer.origin.addr_type, "IP6");
    assert!(offer.to_string().contains("c=IN IP6 2001:db8::7\r\n"));
}

#[test]
fn reoffer_keeps_keys_and_tags_until_our_address_changes() {
    let mut rng = rng();
    let mut oa = OfferAnswer::new(local(SrtpPolicy::Mandatory), &mut rng);
    let first = oa.create_offer(&mut rng).unwrap();
    oa.cancel_offer();
    let second = oa.create_offer(&mut rng).unwrap();
    assert_eq!(second.origin.session_version, 2);
    assert_eq!(second.origin.session_id, first.origin.session_id);
    assert_eq!(crypto_lines(&second), crypto_lines(&first));

    // Hold does not change the keys either.
    oa.local_mut().direction = Direction::SendOnly;
    let hold = oa.create_offer(&mut rng).unwrap();
    assert_eq!(crypto_lines(&hold), crypto_lines(&first));
    assert_eq!(direction_attribute(&hold, 0), Some(Direction::SendOnly));

    // A new port: new keys for every suite, tags 1..n again.
    oa.local_mut().rtp_port = 40002;
    let moved = oa.create_offer(&mut rng).unwrap();
    assert_eq!(moved.origin.session_version, 4);
    let (old, new) = (crypto_lines(&first), crypto_lines(&moved));
    assert_eq!(new.len(), old.len());
    for (o, n) in old.iter().zip(&new) {
        assert_eq!((o.tag, &o.suite), (n.tag, &n.suite));
        assert_ne!(o.key(), n.key(), "{}", n.suite);
    }
    // A new address too.
    oa.local_mut().address = ip("192.0.2.99");
    let moved_again = oa.create_offer(&mut rng).unwrap();
    assert_ne!(crypto_lines(&moved_again)[0].key(), new[0].key());
}

#[test]
fn reoffer_after_answering_keeps_the_answered_key_and_tag() {
    let mut rng = rng();
    let mut oa = OfferAnswer::new(local(SrtpPolicy::Mandatory), &mut rng);
    let offer = baresip_offer(
        "RTP/SAVP",
        &format!("a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}\r\n"),
    );
    let (_, negotiated) = oa.receive_offer(&offer, &mut rng).unwrap();
    let srtp = negotiated.srtp.unwrap();
    let reoffer = oa.create_offer(&mut rng).unwrap();
    let lines = crypto_lines(&reoffer);
    let tags: Vec<u32> = lines.iter().map(|c| c.tag).collect();
    // Suites in our order; the current one keeps tag 3, the others take 1, 2, 4, 5, 6.
    assert_eq!(tags, [1, 2, 4, 3, 5, 6]);
    assert_eq!(lines[3].suite, SdesSuite::AesCm128HmacSha1_80);
    assert_eq!(lines[3].key(), Some(&srtp.local_key));
}
