//! Whole exchanges between two instances, key crossing, change detection and redaction.

use super::*;

fn party(address: &str, port: u16, suites: Vec<SdesSuite>) -> LocalMedia {
    let mut media = local(SrtpPolicy::Mandatory);
    media.address = ip(address);
    media.rtp_port = port;
    media.suites = suites;
    media
}

#[test]
fn every_suite_round_trips_with_crossed_keys() {
    for suite in default_suites() {
        let mut rng = rng();
        let mut alice = OfferAnswer::new(party("192.0.2.1", 40000, vec![suite.clone()]), &mut rng);
        let mut bob = OfferAnswer::new(party("192.0.2.2", 50000, default_suites()), &mut rng);
        let offer = parse(&alice.create_offer(&mut rng).unwrap().to_string());
        let (answer, bob_view) = bob.receive_offer(&offer, &mut rng).unwrap();
        let answer = parse(&answer.to_string());
        let alice_view = alice.receive_answer(&answer).unwrap();

        let (a, b) = (
            alice_view.srtp.clone().unwrap(),
            bob_view.srtp.clone().unwrap(),
        );
        assert_eq!(a.suite, suite);
        assert_eq!(b.suite, suite);
        assert_eq!(a.tag, b.tag);
        assert_eq!(a.local_key, b.remote_key, "{suite}");
        assert_eq!(a.remote_key, b.local_key, "{suite}");
        assert_ne!(a.local_key, a.remote_key);
        assert_eq!(Some(a.local_key.len()), suite.master_len());
        assert_eq!(Some(b.local_key.len()), suite.master_len());

        assert_eq!(alice_view.remote_rtp, addr("192.0.2.2:50000"));
        assert_eq!(bob_view.remote_rtp, addr("192.0.2.1:40000"));
        assert!(alice_view.rtcp_mux && bob_view.rtcp_mux);
        assert_eq!(alice_view.codec, AudioCodec::Opus);
        assert_eq!(bob_view.codec, AudioCodec::Opus);
        assert_eq!(alice_view.payload_type, bob_view.receive_payload_type);
        assert_eq!(bob_view.payload_type, alice_view.receive_payload_type);
        assert_eq!(alice_view.telephone_event, Some(110));
        assert_eq!(bob_view.telephone_event, Some(110));
        assert_eq!(alice_view.profile, "RTP/SAVP");
        assert_eq!(answer.origin.session_version, 1);
    }
}

#[test]
fn answering_a_reoffer_keeps_our_key_unless_we_moved() {
    let mut rng = rng();
    let mut alice = OfferAnswer::new(party("192.0.2.1", 40000, default_suites()), &mut rng);
    let mut bob = OfferAnswer::new(party("192.0.2.2", 50000, default_suites()), &mut rng);
    let offer = alice.create_offer(&mut rng).unwrap();
    let (_, first) = bob.receive_offer(&offer, &mut rng).unwrap();
    let reoffer = alice.create_offer(&mut rng).unwrap();
    assert_eq!(reoffer.origin.session_version, 2);
    let (answer, second) = bob.receive_offer(&reoffer, &mut rng).unwrap();
    assert_eq!(answer.origin.session_version, 2);
    assert!(!second.keys_changed(&first));

    bob.local_mut().rtp_port = 50002;
    let (_, third) = bob.receive_offer(&reoffer, &mut rng).unwrap();
    assert!(third.keys_changed(&second), "a new port gets a new key");
    assert_eq!(
        third.srtp.as_ref().unwrap().remote_key,
        second.srtp.as_ref().unwrap().remote_key
    );

    // Alice moves: her re-offer has new keys, so Bob's view changes keys and address.
    alice.local_mut().address = ip("192.0.2.77");
    let moved = alice.create_offer(&mut rng).unwrap();
    let (_, fourth) = bob.receive_offer(&moved, &mut rng).unwrap();
    assert!(fourth.keys_changed(&third));
    assert!(fourth.address_changed(&third));
    assert_eq!(fourth.remote_rtp, addr("192.0.2.77:40000"));
}

#[test]
fn change_detection() {
    let mut rng = rng();
    let mut alice = OfferAnswer::new(party("192.0.2.1", 40000, default_suites()), &mut rng);
    let mut bob = OfferAnswer::new(party("192.0.2.2", 50000, default_suites()), &mut rng);
    let (_, base) = bob
        .receive_offer(&alice.create_offer(&mut rng).unwrap(), &mut rng)
        .unwrap();
    assert!(!base.keys_changed(&base));
    assert!(!base.address_changed(&base));
    let mut plain = base.clone();
    plain.srtp = None;
    assert!(plain.keys_changed(&base));
    assert!(base.keys_changed(&plain));
    assert!(!plain.keys_changed(&plain));
    let mut suite = base.clone();
    if let Some(s) = suite.srtp.as_mut() {
        s.suite = SdesSuite::AeadAes128Gcm;
    }
    assert!(suite.keys_changed(&base));
    let mut moved = base.clone();
    moved.remote_rtcp = addr("192.0.2.1:40009");
    assert!(moved.address_changed(&base));
    assert!(!moved.keys_changed(&base));
    let mut unmuxed = base.clone();
    unmuxed.rtcp_mux = false;
    assert!(unmuxed.address_changed(&base));
}

#[test]
fn keys_never_show_in_debug_or_errors() {
    let mut rng = rng();
    let mut alice = OfferAnswer::new(party("192.0.2.1", 40000, default_suites()), &mut rng);
    let mut bob = OfferAnswer::new(party("192.0.2.2", 50000, default_suites()), &mut rng);
    let offer = alice.create_offer(&mut rng).unwrap();
    let (answer, bob_view) = bob.receive_offer(&offer, &mut rng).unwrap();
    let alice_view = alice.receive_answer(&answer).unwrap();
    let srtp = alice_view.srtp.clone().unwrap();
    let secrets = [
        srtp.local_key.to_base64().to_string(),
        srtp.remote_key.to_base64().to_string(),
    ];
    let outputs = [
        format!("{alice_view:?}"),
        format!("{bob_view:?}"),
        format!("{:?} {:#?}", srtp, alice_view.srtp),
        format!("{alice:?}"),
        format!("{bob:?}"),
        offer.redacted(),
        answer.redacted(),
    ];
    for output in &outputs {
        for secret in &secrets {
            assert!(!output.contains(secret.as_str()), "key in: {output}");
        }
        // Nor the raw bytes as a Debug list.
        let bytes = format!("{:?}", srtp.local_key.as_bytes());
        assert!(
            !output.contains(&bytes[1..bytes.len() - 1]),
            "raw key in: {output}"
        );
    }
    assert!(outputs[0].contains("AEAD_AES_256_GCM") || outputs[0].contains("AeadAes256Gcm"));
    // The written SDP does carry them (that is what goes on the wire).
    assert!(answer.to_string().contains(secrets[1].as_str()));

    // Errors about an answer carrying a key.
    let mut rng2 = rng;
    alice.create_offer(&mut rng2).unwrap();
    let bad = peer_sdp(
        "198.51.100.7",
        &format!("m=audio 10000 RTP/SAVP 0\r\na=crypto:9 AEAD_AES_256_GCM inline:{KEY_44}\r\n"),
    );
    let err = alice.receive_answer(&bad).unwrap_err();
    for text in [format!("{err:?}"), err.to_string()] {
        assert!(!text.contains(KEY_44), "{text}");
        assert!(!text.contains(&KEY_44[..20]), "{text}");
    }
}
