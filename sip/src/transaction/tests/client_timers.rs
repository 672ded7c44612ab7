//! Client transactions: timers A and B (INVITE), D (ACK for a non-2xx), E and F
//! (non-INVITE), K, and M (RFC 6026 Accepted).

use super::*;
use crate::message::Method;

#[test]
fn timer_a_doubles_from_t1_and_timer_b_times_out_an_invite_over_udp() {
    let (mut layer, start, id, sent) = start_client(Transport::Udp, "INVITE");
    assert_eq!(layer.poll_timeout(), Some(start + ms(500)));
    let fired = run_timers(&mut layer, start, secs(60));
    // Intervals 0.5, 1, 2, 4, 8, 16 s; the next (32 s) would come after timer B.
    assert_eq!(
        transmit_times(&fired),
        millis(&[500, 1500, 3500, 7500, 15500, 31500])
    );
    for transmit in fired.iter().flat_map(|f| &f.transmits) {
        assert_eq!(
            sent_request(transmit),
            &sent,
            "a retransmission is the same request"
        );
        assert_eq!((transmit.id, transmit.destination), (Some(id), "proxy"));
    }
    assert_eq!(
        timed_events(&fired),
        [
            (secs(32), format!("timeout {}", id.0)),
            (secs(32), format!("terminated {}", id.0)),
        ]
    );
    assert_eq!(layer.len(), 0);
    assert_eq!(layer.poll_timeout(), None);
}

#[test]
fn an_invite_over_a_reliable_transport_is_not_retransmitted_but_timer_b_still_runs() {
    for transport in [Transport::Tcp, Transport::Tls] {
        let (mut layer, start, id, _) = start_client(transport, "INVITE");
        assert_eq!(layer.poll_timeout(), Some(start + secs(32)), "{transport}");
        let fired = run_timers(&mut layer, start, secs(60));
        assert!(transmit_times(&fired).is_empty(), "{transport}");
        assert_eq!(
            timed_events(&fired),
            [
                (secs(32), format!("timeout {}", id.0)),
                (secs(32), format!("terminated {}", id.0)),
            ],
            "{transport}"
        );
        assert_eq!(layer.len(), 0, "{transport}");
    }
}

#[test]
fn a_provisional_response_stops_timers_a_and_b() {
    let (mut layer, start, id, sent) = start_client(Transport::Udp, "INVITE");
    let fired = run_timers(&mut layer, start, ms(700));
    assert_eq!(transmit_times(&fired), millis(&[500]));

    layer.handle_response(start + ms(700), response(&sent, 100, None));
    assert_eq!(events(&mut layer), [format!("response {} 100", id.0)]);
    assert!(transmits(&mut layer).is_empty());
    // Proceeding: no retransmission and no timeout, however long the answer takes.
    assert_eq!(layer.poll_timeout(), None);
    layer.handle_timeout(start + secs(120));
    assert!(transmits(&mut layer).is_empty());
    assert!(events(&mut layer).is_empty());
    assert_eq!(layer.len(), 1);

    // Further provisionals and the final still reach the TU.
    layer.handle_response(start + secs(150), response(&sent, 180, Some("b1")));
    layer.handle_response(start + secs(160), response(&sent, 200, Some("b1")));
    assert_eq!(
        events(&mut layer),
        [
            format!("response {} 180", id.0),
            format!("response {} 200", id.0)
        ]
    );
}

#[test]
fn timer_d_acks_a_non_2xx_final_and_absorbs_its_retransmissions_over_udp() {
    let (mut layer, start, id, sent) = start_client(Transport::Udp, "INVITE");
    let busy = response(&sent, 486, Some("bob-486"));
    layer.handle_response(start + ms(300), busy.clone());
    assert_eq!(events(&mut layer), [format!("response {} 486", id.0)]);
    let acks = transmits(&mut layer);
    assert_eq!(acks.len(), 1);
    assert_eq!((acks[0].id, acks[0].destination), (Some(id), "proxy"));
    let ack = sent_request(&acks[0]).clone();

    // §17.1.1.3: Request-URI, top Via (so the branch), From, Call-ID and Route of the INVITE,
    // To of the response, CSeq number with method ACK.
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.uri, sent.uri);
    assert_eq!(ack.vias().unwrap(), [sent.top_via().unwrap()]);
    assert!(
        ack.top_via()
            .unwrap()
            .branch()
            .unwrap()
            .starts_with("z9hG4bK")
    );
    assert_eq!(ack.to_header().unwrap().tag(), Some("bob-486"));
    assert_eq!(ack.to_header().unwrap(), busy.to_header().unwrap());
    assert_eq!(ack.from_header().unwrap(), sent.from_header().unwrap());
    assert_eq!(ack.call_id().unwrap(), "call-1");
    let cseq = ack.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (1, Method::Ack));
    assert_eq!(ack.routes().unwrap(), sent.routes().unwrap());
    assert_eq!(ack.routes().unwrap().len(), 2);
    assert!(ack.headers.contains(&HeaderName::MaxForwards));

    // Timer D: 32 s from the final response; no INVITE retransmission meanwhile.
    assert_eq!(layer.poll_timeout(), Some(start + ms(300) + secs(32)));

    // A retransmitted final gets the same ACK again and is not passed up.
    layer.handle_response(start + secs(2), busy.clone());
    let again = transmits(&mut layer);
    assert_eq!(again.len(), 1);
    assert_eq!(sent_request(&again[0]), &ack);
    assert!(events(&mut layer).is_empty());
    // A late provisional is ignored.
    layer.handle_response(start + secs(3), response(&sent, 180, Some("bob-486")));
    assert!(transmits(&mut layer).is_empty());
    assert!(events(&mut layer).is_empty());

    let fired = run_timers(&mut layer, start, secs(60));
    assert!(transmit_times(&fired).is_empty());
    assert_eq!(
        timed_events(&fired),
        [(ms(32_300), format!("terminated {}", id.0))]
    );
    assert_eq!(layer.len(), 0);

    // Once terminated, the response matches nothing.
    layer.handle_response(start + secs(40), busy);
    assert_eq!(events(&mut layer), ["stray 486"]);
    assert!(transmits(&mut layer).is_empty());
}

#[test]
fn timer_d_is_zero_over_tcp_and_tls() {
    for transport in [Transport::Tcp, Transport::Tls] {
        let (mut layer, start, id, sent) = start_client(transport, "INVITE");
        layer.handle_response(start + ms(300), response(&sent, 603, Some("x")));
        let acks = transmits(&mut layer);
        assert_eq!(acks.len(), 1, "{transport}");
        assert_eq!(sent_request(&acks[0]).method, Method::Ack, "{transport}");
        assert_eq!(
            events(&mut layer),
            [
                format!("response {} 603", id.0),
                format!("terminated {}", id.0)
            ],
            "{transport}"
        );
        assert_eq!(layer.len(), 0, "{transport}");
        assert_eq!(layer.poll_timeout(), None, "{transport}");
    }
}

#[test]
fn timer_e_doubles_to_t2_and_timer_f_times_out_a_non_invite_over_udp() {
    let (mut layer, start, id, sent) = start_client(Transport::Udp, "OPTIONS");
    let fired = run_timers(&mut layer, start, secs(60));
    assert_eq!(
        transmit_times(&fired),
        millis(&[
            500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500
        ])
    );
    for transmit in fired.iter().flat_map(|f| &f.transmits) {
        assert_eq!(sent_request(transmit), &sent);
    }
    assert_eq!(
        timed_events(&fired),
        [
            (secs(32), format!("timeout {}", id.0)),
            (secs(32), format!("terminated {}", id.0)),
        ]
    );
    assert_eq!(layer.len(), 0);
}

#[test]
fn after_a_provisional_timer_e_fires_every_t2_and_timer_f_still_applies() {
    let (mut layer, start, id, sent) = start_client(Transport::Udp, "REGISTER");
    let fired = run_timers(&mut layer, start, ms(700));
    assert_eq!(transmit_times(&fired), millis(&[500]));
    layer.handle_response(start + ms(700), response(&sent, 100, None));
    assert_eq!(events(&mut layer), [format!("response {} 100", id.0)]);

    let fired = run_timers(&mut layer, start, secs(60));
    // The pending retransmission (1.5 s) still fires; from then on every T2 = 4 s.
    assert_eq!(
        transmit_times(&fired),
        millis(&[1500, 5500, 9500, 13_500, 17_500, 21_500, 25_500, 29_500])
    );
    assert_eq!(
        timed_events(&fired),
        [
            (secs(32), format!("timeout {}", id.0)),
            (secs(32), format!("terminated {}", id.0)),
        ]
    );
}

#[test]
fn a_non_invite_over_tcp_is_not_retransmitted_but_times_out_with_timer_f() {
    let (mut layer, start, id, _) = start_client(Transport::Tcp, "OPTIONS");
    let fired = run_timers(&mut layer, start, secs(60));
    assert!(transmit_times(&fired).is_empty());
    assert_eq!(
        timed_events(&fired),
        [
            (secs(32), format!("timeout {}", id.0)),
            (secs(32), format!("terminated {}", id.0)),
        ]
    );
}

#[test]
fn timer_k_lingers_t4_after_the_final_over_udp_absorbing_retransmissions() {
    let (mut layer, start, id, sent) = start_client(Transport::Udp, "OPTIONS");
    let ok = response(&sent, 200, Some("b"));
    layer.handle_response(start + secs(1), ok.clone());
    assert_eq!(events(&mut layer), [format!("response {} 200", id.0)]);
    assert!(transmits(&mut layer).is_empty(), "no ACK for non-INVITE");
    assert_eq!(layer.poll_timeout(), Some(start + secs(6)));

    layer.handle_response(start + secs(2), ok.clone());
    layer.handle_response(start + secs(3), response(&sent, 500, Some("b")));
    assert!(
        events(&mut layer).is_empty(),
        "retransmissions are absorbed"
    );
    assert!(transmits(&mut layer).is_empty());

    let fired = run_timers(&mut layer, start, secs(60));
    assert!(
        transmit_times(&fired).is_empty(),
        "no retransmission once Completed"
    );
    assert_eq!(
        timed_events(&fired),
        [(secs(6), format!("terminated {}", id.0))]
    );
    layer.handle_response(start + secs(7), ok);
    assert_eq!(events(&mut layer), ["stray 200"]);
}

#[test]
fn timer_k_is_zero_over_tcp_and_tls() {
    for transport in [Transport::Tcp, Transport::Tls] {
        let (mut layer, start, id, sent) = start_client(transport, "OPTIONS");
        layer.handle_response(start + secs(1), response(&sent, 404, Some("b")));
        assert_eq!(
            events(&mut layer),
            [
                format!("response {} 404", id.0),
                format!("terminated {}", id.0)
            ],
            "{transport}"
        );
        assert_eq!(layer.len(), 0, "{transport}");
    }
}

#[test]
fn timer_m_passes_every_2xx_up_until_it_fires() {
    let (mut layer, start, id, sent) = start_client(Transport::Udp, "INVITE");
    let ok = response(&sent, 200, Some("fork-1"));
    layer.handle_response(start + ms(300), ok.clone());
    assert_eq!(events(&mut layer), [format!("response {} 200", id.0)]);
    assert!(
        transmits(&mut layer).is_empty(),
        "the TU ACKs a 2xx, not the transaction"
    );
    assert_eq!(layer.poll_timeout(), Some(start + ms(32_300)));

    // Retransmissions and other forks' 2xx all reach the TU (which ACKs each).
    layer.handle_response(start + secs(1), ok.clone());
    layer.handle_response(start + secs(2), response(&sent, 200, Some("fork-2")));
    let mut tags = Vec::new();
    while let Some(event) = layer.poll_event() {
        match event {
            TransactionEvent::Response { id: got, response } => {
                assert_eq!(got, id);
                tags.push(response.to_header().unwrap().tag().unwrap().to_owned());
            }
            other => panic!("unexpected {}", describe(&other)),
        }
    }
    assert_eq!(tags, ["fork-1", "fork-2"]);
    // A late provisional or non-2xx is not passed up.
    layer.handle_response(start + secs(3), response(&sent, 180, Some("fork-1")));
    layer.handle_response(start + secs(3), response(&sent, 486, Some("fork-3")));
    assert!(events(&mut layer).is_empty());

    let fired = run_timers(&mut layer, start, secs(60));
    assert!(
        transmit_times(&fired).is_empty(),
        "no INVITE retransmission"
    );
    assert_eq!(
        timed_events(&fired),
        [(ms(32_300), format!("terminated {}", id.0))]
    );
    // After timer M a 2xx is stray: the core still sees it (and can ACK it).
    layer.handle_response(start + secs(40), ok);
    assert_eq!(events(&mut layer), ["stray 200"]);
}

#[test]
fn timers_follow_a_configured_t1_t2_and_t4_but_timer_d_stays_at_least_32_s() {
    let timers = TimerConfig {
        t1: ms(100),
        t2: ms(400),
        t4: secs(1),
    };
    let start = base();
    let mut layer: Layer = TransactionLayer::new(timers);
    let mut rng = rng();
    let options = layer
        .send_request(
            start,
            request("OPTIONS", "c1", 1, None),
            Transport::Udp,
            "proxy",
            &mut rng,
        )
        .unwrap();
    transmits(&mut layer);
    let fired = run_timers(&mut layer, start, secs(10));
    // 100, 200, 400, then every 400 ms; F = 64·T1 = 6.4 s.
    let expected: Vec<Duration> = [100, 300, 700]
        .into_iter()
        .chain((1..=14).map(|i| 700 + 400 * i))
        .map(ms)
        .collect();
    assert_eq!(transmit_times(&fired), expected);
    assert_eq!(
        timed_events(&fired),
        [
            (ms(6400), format!("timeout {}", options.0)),
            (ms(6400), format!("terminated {}", options.0))
        ]
    );

    let invite = layer
        .send_request(
            start,
            request("INVITE", "c2", 1, None),
            Transport::Udp,
            "proxy",
            &mut rng,
        )
        .unwrap();
    let sent = sent_request(&transmits(&mut layer)[0]).clone();
    layer.handle_response(start + ms(50), response(&sent, 486, Some("b")));
    transmits(&mut layer);
    events(&mut layer);
    assert_eq!(layer.poll_timeout(), Some(start + ms(50) + secs(32)));

    let register = layer
        .send_request(
            start,
            request("REGISTER", "c3", 1, None),
            Transport::Udp,
            "proxy",
            &mut rng,
        )
        .unwrap();
    let sent = sent_request(&transmits(&mut layer)[0]).clone();
    layer.handle_response(start + ms(50), response(&sent, 200, Some("b")));
    events(&mut layer);
    let fired = run_timers(&mut layer, start, secs(40));
    assert_eq!(
        timed_events(&fired),
        [
            (ms(1050), format!("terminated {}", register.0)),
            (ms(32_050), format!("terminated {}", invite.0))
        ]
    );
}
