//! Offer/answer: arbitrary bytes parsed as SDP, then used as an offer (answered under every
//! SRTP policy, with and without verified TLS) and as the answer to our offer. Must never
//! panic; an accepted offer's answer must parse back and keep the offer's section count, and
//! every accepted SRTP key must have its suite's length.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockphone_sip::offer_answer::{LocalMedia, Negotiated, OfferAnswer, SrtpPolicy, parse_sdp};
use lockphone_sip::sdp::SessionDescription;
use rand::SeedableRng;

fn check(negotiated: &Negotiated) {
    if let Some(srtp) = &negotiated.srtp {
        assert_eq!(Some(srtp.local_key.len()), srtp.suite.master_len());
        assert_eq!(Some(srtp.remote_key.len()), srtp.suite.master_len());
    }
    let _ = format!("{negotiated:?}");
}

fuzz_target!(|data: &[u8]| {
    let Ok(sdp) = parse_sdp(data) else {
        return;
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    for policy in [SrtpPolicy::Off, SrtpPolicy::Optional, SrtpPolicy::Mandatory] {
        for sdes_allowed in [false, true] {
            let mut local = LocalMedia::new([192, 0, 2, 1].into(), 40000);
            local.policy = policy;
            local.sdes_allowed = sdes_allowed;

            // As an offer.
            let mut answerer = OfferAnswer::new(local.clone(), &mut rng);
            match answerer.receive_offer(&sdp, &mut rng) {
                Ok((answer, negotiated)) => {
                    check(&negotiated);
                    let written = answer.to_string();
                    let again: SessionDescription = match written.parse() {
                        Ok(again) => again,
                        Err(err) => panic!("our answer does not parse: {err}\n{}", answer.redacted()),
                    };
                    assert_eq!(again.media.len(), sdp.media.len());
                    let _ = answer.redacted();
                }
                Err(err) => {
                    let _ = (err.status_code(), err.to_string());
                }
            }

            // As the answer to our offer.
            let mut offerer = OfferAnswer::new(local, &mut rng);
            if offerer.create_offer(&mut rng).is_ok() {
                match offerer.receive_answer(&sdp) {
                    Ok(negotiated) => check(&negotiated),
                    Err(err) => {
                        let _ = (err.status_code(), err.to_string());
                    }
                }
            }
        }
    }
});
