//! Hold and resume: direction attributes both ways, and `c=0.0.0.0`.

use super::*;

fn pair() -> (OfferAnswer, OfferAnswer, ChaCha8Rng) {
    let mut rng = rng();
    let alice = OfferAnswer::new(local(SrtpPolicy::Mandatory), &mut rng);
    let mut bob_media = local(SrtpPolicy::Mandatory);
    bob_media.address = ip("192.0.2.2");
    bob_media.rtp_port = 50000;
    let bob = OfferAnswer::new(bob_media, &mut rng);
    (alice, bob, rng)
}

/// One exchange alice → bob over the wire; returns (alice's view, bob's view, bob's answer).
fn exchange(
    alice: &mut OfferAnswer,
    bob: &mut OfferAnswer,
    rng: &mut ChaCha8Rng,
) -> (Negotiated, Negotiated, SessionDescription) {
    let offer = wire(&alice.create_offer(rng).unwrap());
    let (answer, bob_view) = bob.receive_offer(&offer, rng).unwrap();
    let answer = wire(&answer);
    (alice.receive_answer(&answer).unwrap(), bob_view, answer)
}

#[test]
fn hold_and_resume_keep_the_keys() {
    let (mut alice, mut bob, mut rng) = pair();
    let (a0, b0, _) = exchange(&mut alice, &mut bob, &mut rng);
    assert_eq!(a0.local_direction, Direction::SendRecv);

    alice.local_mut().direction = Direction::SendOnly;
    let (a1, b1, answer) = exchange(&mut alice, &mut bob, &mut rng);
    assert_eq!(direction_attribute(&answer, 0), Some(Direction::RecvOnly));
    assert_eq!(a1.local_direction, Direction::SendOnly);
    assert_eq!(b1.local_direction, Direction::RecvOnly);
    assert!(!a1.keys_changed(&a0), "hold keeps our SRTP contexts");
    assert!(!b1.keys_changed(&b0));
    assert!(!a1.address_changed(&a0));

    alice.local_mut().direction = Direction::SendRecv;
    let (a2, b2, _) = exchange(&mut alice, &mut bob, &mut rng);
    assert_eq!(a2.local_direction, Direction::SendRecv);
    assert_eq!(b2.local_direction, Direction::SendRecv);
    assert!(!a2.keys_changed(&a0));
    assert!(!b2.keys_changed(&b0));
}

#[test]
fn every_direction_pair() {
    use Direction::*;
    // (what the offerer wants, what the answerer wants) -> (offerer does, answerer does)
    let cases = [
        ((SendRecv, SendRecv), (SendRecv, SendRecv)),
        ((SendOnly, SendRecv), (SendOnly, RecvOnly)),
        ((RecvOnly, SendRecv), (RecvOnly, SendOnly)),
        ((Inactive, SendRecv), (Inactive, Inactive)),
        ((SendRecv, SendOnly), (RecvOnly, SendOnly)),
        ((SendOnly, SendOnly), (Inactive, Inactive)),
        ((SendRecv, Inactive), (Inactive, Inactive)),
    ];
    for ((offerer, answerer), (offerer_does, answerer_does)) in cases {
        let (mut alice, mut bob, mut rng) = pair();
        alice.local_mut().direction = offerer;
        bob.local_mut().direction = answerer;
        let (a, b, answer) = exchange(&mut alice, &mut bob, &mut rng);
        assert_eq!(
            (a.local_direction, b.local_direction),
            (offerer_does, answerer_does),
            "{offerer:?}/{answerer:?}"
        );
        assert_eq!(direction_attribute(&answer, 0), Some(answerer_does));
    }
}

#[test]
fn zero_address_in_an_offer_is_hold() {
    let mut rng = rng();
    let mut oa = OfferAnswer::new(local(SrtpPolicy::Off), &mut rng);
    let offer = peer_sdp("0.0.0.0", "m=audio 10000 RTP/AVP 0\r\n");
    let (answer, negotiated) = oa.receive_offer(&offer, &mut rng).unwrap();
    assert!(negotiated.remote_address_is_hold());
    assert_eq!(negotiated.local_direction, Direction::RecvOnly);
    assert_eq!(direction_attribute(&answer, 0), Some(Direction::RecvOnly));
    // Old-style hold plus sendonly: nothing flows.
    let offer = peer_sdp("0.0.0.0", "m=audio 10000 RTP/AVP 0\r\na=recvonly\r\n");
    let (_, negotiated) = oa.receive_offer(&offer, &mut rng).unwrap();
    assert_eq!(negotiated.local_direction, Direction::Inactive);
}

#[test]
fn zero_address_in_an_answer_is_hold() {
    let mut rng = rng();
    let mut oa = OfferAnswer::new(local(SrtpPolicy::Off), &mut rng);
    oa.create_offer(&mut rng).unwrap();
    let negotiated = oa
        .receive_answer(&peer_sdp("0.0.0.0", "m=audio 10000 RTP/AVP 0\r\n"))
        .unwrap();
    assert_eq!(negotiated.local_direction, Direction::RecvOnly);
    assert_eq!(negotiated.remote_rtp, addr("0.0.0.0:10000"));
}

#[test]
fn session_level_direction_applies() {
    let mut rng = rng();
    let mut oa = OfferAnswer::new(local(SrtpPolicy::Off), &mut rng);
    let offer = parse(
        "v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\na=sendonly\r\nm=audio 10000 RTP/AVP 0\r\n",
    );
    let (_, negotiated) = oa.receive_offer(&offer, &mut rng).unwrap();
    assert_eq!(negotiated.local_direction, Direction::RecvOnly);
}
