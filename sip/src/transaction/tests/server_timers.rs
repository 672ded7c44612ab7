//! Server transactions: 100 Trying, timers G, H and I (INVITE), J (non-INVITE), and L
//! (RFC 6026 Accepted).

use super::*;
use crate::message::Method;

const BRANCH: &str = "z9hG4bKserver1";

/// A request from "alice" arriving over `transport`; returns the layer, the start instant, the
/// new server transaction's id and the request.
fn start_server(transport: Transport, method: &str) -> (Layer, Instant, TransactionId, Request) {
    let mut layer = layer();
    let start = base();
    let request = request(method, "call-1", 7, Some(BRANCH));
    layer.handle_request(start, request.clone(), transport, "alice");
    let id = match layer.poll_event() {
        Some(TransactionEvent::Request {
            id: Some(id),
            request: got,
            source,
        }) => {
            assert_eq!((&got, source), (&request, "alice"));
            id
        }
        other => panic!("expected a new server transaction, got {other:?}"),
    };
    assert!(events(&mut layer).is_empty());
    assert_eq!(layer.server_request(id), Some(&request));
    (layer, start, id, request)
}

/// The ACK a UAC sends for a non-2xx final: same branch, To from the response.
fn ack_for(request: &Request, final_response: &Response) -> Request {
    let mut ack = request.clone();
    ack.method = Method::Ack;
    ack.headers.set(HeaderName::CSeq, "7 ACK");
    let to = final_response.headers.get(&HeaderName::To).unwrap();
    ack.headers.set(HeaderName::To, to);
    ack
}

#[test]
fn an_invite_server_sends_100_trying_at_once_and_repeats_the_last_provisional() {
    let (mut layer, start, id, invite) = start_server(Transport::Udp, "INVITE");
    let sent = transmits(&mut layer);
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].id, sent[0].destination), (Some(id), "alice"));
    let trying = sent_response(&sent[0]).clone();
    assert_eq!(trying.status, StatusCode::TRYING);
    assert_eq!(trying.vias().unwrap(), invite.vias().unwrap());
    assert_eq!(trying.to_header().unwrap().tag(), None, "no To-tag on 100");
    assert_eq!(trying.cseq().unwrap(), invite.cseq().unwrap());
    assert_eq!(trying.call_id().unwrap(), "call-1");
    assert_eq!(
        layer.poll_timeout(),
        None,
        "Proceeding runs no timer: the TU answers"
    );

    layer.handle_request(start + secs(1), invite.clone(), Transport::Udp, "alice");
    let again = transmits(&mut layer);
    assert_eq!(again.len(), 1);
    assert_eq!(sent_response(&again[0]), &trying);
    assert!(
        events(&mut layer).is_empty(),
        "a retransmission is not a new request"
    );

    let ringing = response(&invite, 180, Some("bob"));
    layer.respond(start + secs(2), id, ringing.clone()).unwrap();
    assert_eq!(sent_response(&transmits(&mut layer)[0]), &ringing);
    layer.handle_request(start + secs(3), invite, Transport::Udp, "alice");
    let again = transmits(&mut layer);
    assert_eq!(again.len(), 1);
    assert_eq!(sent_response(&again[0]), &ringing);
    assert!(events(&mut layer).is_empty());
    assert_eq!(layer.len(), 1);
}

#[test]
fn timer_g_retransmits_a_non_2xx_final_doubling_to_t2_and_timer_h_gives_up() {
    let (mut layer, start, id, invite) = start_server(Transport::Udp, "INVITE");
    transmits(&mut layer);
    let busy = response(&invite, 486, Some("bob"));
    let answered = start + secs(1);
    layer.respond(answered, id, busy.clone()).unwrap();
    assert_eq!(sent_response(&transmits(&mut layer)[0]), &busy);

    let fired = run_timers(&mut layer, answered, secs(60));
    // T1, 2·T1, 4·T1, then T2 = 4 s between retransmissions.
    assert_eq!(
        transmit_times(&fired),
        millis(&[
            500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500
        ])
    );
    for transmit in fired.iter().flat_map(|f| &f.transmits) {
        assert_eq!(sent_response(transmit), &busy);
        assert_eq!((transmit.id, transmit.destination), (Some(id), "alice"));
    }
    assert_eq!(
        timed_events(&fired),
        [
            (secs(32), format!("ack timeout {}", id.0)),
            (secs(32), format!("terminated {}", id.0)),
        ]
    );
    assert_eq!(layer.len(), 0);
}

#[test]
fn the_ack_stops_timer_g_and_timer_i_absorbs_ack_retransmissions_for_t4() {
    let (mut layer, start, id, invite) = start_server(Transport::Udp, "INVITE");
    transmits(&mut layer);
    let busy = response(&invite, 486, Some("bob"));
    layer.respond(start, id, busy.clone()).unwrap();
    transmits(&mut layer);
    let fired = run_timers(&mut layer, start, ms(600));
    assert_eq!(transmit_times(&fired), millis(&[500]));

    let ack = ack_for(&invite, &busy);
    layer.handle_request(start + ms(800), ack.clone(), Transport::Udp, "alice");
    assert_eq!(
        events(&mut layer),
        [format!("acked {}", id.0)],
        "the ACK of a non-2xx stays in the transaction; only the fact is reported"
    );
    assert!(transmits(&mut layer).is_empty());
    assert_eq!(layer.poll_timeout(), Some(start + ms(5800)), "timer I = T4");

    // Confirmed: ACK and INVITE retransmissions are absorbed, nothing is resent.
    layer.handle_request(start + secs(1), ack.clone(), Transport::Udp, "alice");
    layer.handle_request(start + secs(2), invite.clone(), Transport::Udp, "alice");
    assert!(events(&mut layer).is_empty());
    assert!(transmits(&mut layer).is_empty());

    let fired = run_timers(&mut layer, start, secs(60));
    assert!(transmit_times(&fired).is_empty(), "timer G stopped");
    assert_eq!(
        timed_events(&fired),
        [(ms(5800), format!("terminated {}", id.0))]
    );
    assert_eq!(layer.len(), 0);
}

#[test]
fn over_tcp_there_is_no_timer_g_timer_h_still_runs_and_timer_i_is_zero() {
    for transport in [Transport::Tcp, Transport::Tls] {
        let (mut layer, start, id, invite) = start_server(transport, "INVITE");
        assert_eq!(transmits(&mut layer).len(), 1, "100 Trying");
        let busy = response(&invite, 480, Some("bob"));
        layer.respond(start, id, busy.clone()).unwrap();
        transmits(&mut layer);
        assert_eq!(layer.poll_timeout(), Some(start + secs(32)), "only timer H");
        layer.handle_request(start + secs(1), ack_for(&invite, &busy), transport, "alice");
        assert_eq!(
            events(&mut layer),
            [format!("acked {}", id.0), format!("terminated {}", id.0)]
        );
        assert_eq!(layer.len(), 0, "{transport}");
    }

    let (mut layer, start, id, invite) = start_server(Transport::Tcp, "INVITE");
    layer
        .respond(start, id, response(&invite, 480, Some("bob")))
        .unwrap();
    transmits(&mut layer);
    let fired = run_timers(&mut layer, start, secs(60));
    assert!(transmit_times(&fired).is_empty());
    assert_eq!(
        timed_events(&fired),
        [
            (secs(32), format!("ack timeout {}", id.0)),
            (secs(32), format!("terminated {}", id.0)),
        ]
    );
}

#[test]
fn timer_j_keeps_a_non_invite_answer_for_retransmissions_for_64_t1_over_udp() {
    let (mut layer, start, id, options) = start_server(Transport::Udp, "OPTIONS");
    assert!(
        transmits(&mut layer).is_empty(),
        "no automatic 100 for non-INVITE"
    );
    assert_eq!(layer.poll_timeout(), None);
    // Trying: nothing to repeat yet.
    layer.handle_request(start + ms(500), options.clone(), Transport::Udp, "alice");
    assert!(transmits(&mut layer).is_empty());
    assert!(events(&mut layer).is_empty());

    let ok = response(&options, 200, Some("bob"));
    layer.respond(start + secs(1), id, ok.clone()).unwrap();
    assert_eq!(sent_response(&transmits(&mut layer)[0]), &ok);
    assert_eq!(layer.poll_timeout(), Some(start + secs(33)));
    for at in [2, 10, 30] {
        layer.handle_request(start + secs(at), options.clone(), Transport::Udp, "alice");
        let again = transmits(&mut layer);
        assert_eq!(again.len(), 1, "at {at} s");
        assert_eq!(sent_response(&again[0]), &ok);
        assert_eq!(again[0].destination, "alice");
    }
    assert!(events(&mut layer).is_empty());
    assert_eq!(
        layer.respond(start + secs(31), id, response(&options, 500, Some("bob"))),
        Err(TransactionError::AlreadyAnswered(id))
    );

    let fired = run_timers(&mut layer, start, secs(60));
    assert!(
        transmit_times(&fired).is_empty(),
        "non-INVITE answers are not retransmitted on a timer"
    );
    assert_eq!(
        timed_events(&fired),
        [(secs(33), format!("terminated {}", id.0))]
    );
    assert_eq!(
        layer.respond(start + secs(40), id, ok),
        Err(TransactionError::NoSuchTransaction(id))
    );
}

#[test]
fn a_non_invite_in_proceeding_repeats_its_provisional() {
    let (mut layer, start, id, message) = start_server(Transport::Udp, "MESSAGE");
    let trying = response(&message, 100, None);
    layer.respond(start, id, trying.clone()).unwrap();
    assert_eq!(sent_response(&transmits(&mut layer)[0]), &trying);
    layer.handle_request(start + secs(1), message.clone(), Transport::Udp, "alice");
    let again = transmits(&mut layer);
    assert_eq!(again.len(), 1);
    assert_eq!(sent_response(&again[0]), &trying);
    // The final is still allowed after a provisional.
    layer
        .respond(start + secs(2), id, response(&message, 202, Some("b")))
        .unwrap();
    assert_eq!(
        sent_response(&transmits(&mut layer)[0]).status,
        StatusCode(202)
    );
}

#[test]
fn timer_j_is_zero_over_tcp() {
    let (mut layer, start, id, options) = start_server(Transport::Tcp, "OPTIONS");
    layer
        .respond(start, id, response(&options, 200, Some("bob")))
        .unwrap();
    assert_eq!(transmits(&mut layer).len(), 1);
    assert_eq!(events(&mut layer), [format!("terminated {}", id.0)]);
    assert_eq!(layer.len(), 0);
}

#[test]
fn accepted_absorbs_invite_retransmissions_and_passes_2xx_retransmissions_until_timer_l() {
    let (mut layer, start, id, invite) = start_server(Transport::Udp, "INVITE");
    transmits(&mut layer);
    let ok = response(&invite, 200, Some("bob"));
    layer.respond(start + ms(500), id, ok.clone()).unwrap();
    assert_eq!(sent_response(&transmits(&mut layer)[0]), &ok);
    assert_eq!(layer.poll_timeout(), Some(start + ms(32_500)), "timer L");

    // INVITE retransmissions: neither answered by the transaction nor passed to the TU.
    layer.handle_request(start + secs(1), invite.clone(), Transport::Udp, "alice");
    assert!(transmits(&mut layer).is_empty());
    assert!(events(&mut layer).is_empty());

    // The TU retransmits its 2xx (§13.3.1.4) through the transaction (RFC 6026 §8.7).
    layer.respond(start + secs(1), id, ok.clone()).unwrap();
    let again = transmits(&mut layer);
    assert_eq!(again.len(), 1);
    assert_eq!(
        (sent_response(&again[0]), again[0].destination),
        (&ok, "alice")
    );
    // But not a different final.
    assert_eq!(
        layer.respond(start + secs(1), id, response(&invite, 486, Some("bob"))),
        Err(TransactionError::AlreadyAnswered(id))
    );

    // The ACK to a 2xx has its own branch: no transaction, straight to the TU.
    let mut ack = ack_for(&invite, &ok);
    ack.headers.set(
        HeaderName::Via,
        "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKack2xx",
    );
    layer.handle_request(start + secs(2), ack.clone(), Transport::Udp, "alice");
    match layer.poll_event() {
        Some(TransactionEvent::Request {
            id: None,
            request,
            source,
        }) => assert_eq!((request, source), (ack, "alice")),
        other => panic!("expected the ACK for the TU, got {other:?}"),
    }

    let fired = run_timers(&mut layer, start, secs(60));
    assert!(
        transmit_times(&fired).is_empty(),
        "the transaction never retransmits a 2xx itself"
    );
    assert_eq!(
        timed_events(&fired),
        [(ms(32_500), format!("terminated {}", id.0))]
    );
}

#[test]
fn an_ack_matching_an_accepted_invite_goes_to_the_tu() {
    // RFC 2543 peers: no magic cookie, so the ACK to a 2xx has the INVITE's transaction key
    // (Call-ID, CSeq number, From tag). RFC 6026 §7.1: pass it to the TU, do not absorb it.
    let mut layer = layer();
    let start = base();
    let invite = request("INVITE", "old-call", 3, Some("1234"));
    layer.handle_request(start, invite.clone(), Transport::Udp, "alice");
    let id = match layer.poll_event() {
        Some(TransactionEvent::Request { id: Some(id), .. }) => id,
        other => panic!("expected a server transaction, got {other:?}"),
    };
    transmits(&mut layer);
    // A retransmission matches by the RFC 2543 rules.
    layer.handle_request(start + ms(200), invite.clone(), Transport::Udp, "alice");
    assert!(events(&mut layer).is_empty());
    assert_eq!(transmits(&mut layer).len(), 1, "100 Trying again");

    let ok = response(&invite, 200, Some("bob"));
    layer.respond(start + ms(300), id, ok.clone()).unwrap();
    transmits(&mut layer);
    let mut ack = invite.clone();
    ack.method = Method::Ack;
    ack.headers.set(HeaderName::CSeq, "3 ACK");
    ack.headers
        .set(HeaderName::To, ok.headers.get(&HeaderName::To).unwrap());
    for at in [400, 900] {
        layer.handle_request(start + ms(at), ack.clone(), Transport::Udp, "alice");
        assert_eq!(events(&mut layer), ["request - ACK"], "at {at} ms");
    }
    assert!(transmits(&mut layer).is_empty());
    assert_eq!(layer.len(), 1, "the transaction still waits for timer L");
}

#[test]
fn an_rfc_2543_ack_to_a_non_2xx_is_matched_to_its_invite() {
    let mut layer = layer();
    let start = base();
    let invite = request("INVITE", "old-call", 3, None);
    layer.handle_request(start, invite.clone(), Transport::Udp, "alice");
    let id = match layer.poll_event() {
        Some(TransactionEvent::Request { id: Some(id), .. }) => id,
        other => panic!("expected a server transaction, got {other:?}"),
    };
    let busy = response(&invite, 486, Some("bob"));
    layer.respond(start, id, busy.clone()).unwrap();
    transmits(&mut layer);
    let mut ack = invite.clone();
    ack.method = Method::Ack;
    ack.headers.set(HeaderName::CSeq, "3 ACK");
    ack.headers
        .set(HeaderName::To, busy.headers.get(&HeaderName::To).unwrap());
    layer.handle_request(start + ms(100), ack, Transport::Udp, "alice");
    assert_eq!(events(&mut layer), [format!("acked {}", id.0)]);
    assert_eq!(layer.poll_timeout(), Some(start + ms(5100)), "timer I");
}
