//! Matching of responses (§17.1.3) and requests (§17.2.3), ACK and CANCEL, the API's errors,
//! and input that must not make the layer panic.

use super::*;
use crate::message::Method;
use crate::transaction::{BRANCH_MAGIC_COOKIE, new_branch};

/// Starts client transactions for `requests`, returning their ids and the requests as sent.
fn start_clients(
    layer: &mut Layer,
    start: Instant,
    requests: Vec<Request>,
) -> Vec<(TransactionId, Request)> {
    let mut rng = rng();
    let ids: Vec<TransactionId> = requests
        .into_iter()
        .map(|r| {
            layer
                .send_request(start, r, Transport::Udp, "proxy", &mut rng)
                .unwrap()
        })
        .collect();
    let sent = transmits(layer);
    assert_eq!(sent.len(), ids.len());
    ids.into_iter()
        .zip(sent.iter().map(|t| sent_request(t).clone()))
        .collect()
}

/// Feeds `request` from "alice" and returns the new server transaction's id.
fn new_server(
    layer: &mut Layer,
    now: Instant,
    request: &Request,
    transport: Transport,
) -> TransactionId {
    layer.handle_request(now, request.clone(), transport, "alice");
    match layer.poll_event() {
        Some(TransactionEvent::Request { id: Some(id), .. }) => id,
        other => panic!("expected a new server transaction, got {other:?}"),
    }
}

/// Moves everything `from` wants to send into `to`, through bytes on the wire.
fn wire(from: &mut Layer, to: &mut Layer, now: Instant, source: &'static str) -> Vec<Message> {
    let mut delivered = Vec::new();
    for transmit in transmits(from) {
        let message = Message::parse(&transmit.message.to_bytes()).expect("sent messages parse");
        delivered.push(message.clone());
        match message {
            Message::Request(request) => to.handle_request(now, request, Transport::Udp, source),
            Message::Response(response) => to.handle_response(now, response),
        }
    }
    delivered
}

#[test]
fn responses_match_by_branch_and_cseq_method() {
    let mut layer = layer();
    let start = base();
    let clients = start_clients(
        &mut layer,
        start,
        vec![
            request("OPTIONS", "a", 1, None),
            request("OPTIONS", "b", 1, None),
            request("INVITE", "c", 1, None),
        ],
    );
    let (b, b_request) = &clients[1];
    layer.handle_response(start + ms(100), response(b_request, 200, Some("x")));
    assert_eq!(events(&mut layer), [format!("response {} 200", b.0)]);

    // The right branch with another CSeq method is another transaction: none here.
    let mut other_method = response(&clients[0].1, 200, Some("x"));
    other_method.headers.set(HeaderName::CSeq, "1 INVITE");
    layer.handle_response(start + ms(110), other_method);
    // An unknown branch, a branch-less Via and an unrelated Call-ID with a known branch.
    let mut unknown = response(&clients[0].1, 200, Some("x"));
    unknown.headers.set(
        HeaderName::Via,
        "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKnobody;rport",
    );
    layer.handle_response(start + ms(120), unknown.clone());
    unknown
        .headers
        .set(HeaderName::Via, "SIP/2.0/UDP 192.0.2.1:5060");
    layer.handle_response(start + ms(130), unknown);
    assert_eq!(events(&mut layer), ["stray 200", "stray 200", "stray 200"]);

    // The branch decides, not the Call-ID (which a proxy never changes anyway).
    let mut moved = response(&clients[2].1, 180, Some("y"));
    moved.headers.set(HeaderName::CallId, "something-else");
    layer.handle_response(start + ms(140), moved);
    assert_eq!(
        events(&mut layer),
        [format!("response {} 180", clients[2].0.0)]
    );

    // The others are untouched: the first OPTIONS still retransmits at T1.
    let fired = run_timers(&mut layer, start, ms(500));
    let retransmitted: Vec<Option<TransactionId>> = fired
        .iter()
        .flat_map(|f| &f.transmits)
        .map(|t| t.id)
        .collect();
    assert_eq!(retransmitted, [Some(clients[0].0)]);
}

#[test]
fn requests_match_by_branch_sent_by_and_method() {
    let mut layer = layer();
    let start = base();
    let invite = request("INVITE", "c", 1, Some("z9hG4bKsame"));
    let first = new_server(&mut layer, start, &invite, Transport::Udp);
    transmits(&mut layer);

    // Same branch from another sent-by (host or port), or with another method: new
    // transactions (a proxy may reuse branches across hops only with distinct sent-by).
    let other_host = request_from("192.0.2.99:5060", "INVITE", "c", 1, Some("z9hG4bKsame"));
    let other_port = request_from("192.0.2.1:5070", "INVITE", "c", 1, Some("z9hG4bKsame"));
    let other_method = request("OPTIONS", "c", 2, Some("z9hG4bKsame"));
    let ids: Vec<TransactionId> = [other_host, other_port, other_method]
        .iter()
        .map(|r| new_server(&mut layer, start + ms(10), r, Transport::Udp))
        .collect();
    assert!(!ids.contains(&first));
    assert_eq!(layer.len(), 4);

    // The exact retransmission matches the first one.
    transmits(&mut layer);
    layer.handle_request(start + ms(500), invite, Transport::Udp, "alice");
    assert!(events(&mut layer).is_empty());
    let again = transmits(&mut layer);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, Some(first));
}

#[test]
fn an_ack_from_another_sent_by_does_not_stop_the_invite_transaction() {
    let mut layer = layer();
    let start = base();
    let invite = request("INVITE", "c", 1, Some("z9hG4bKinv"));
    let id = new_server(&mut layer, start, &invite, Transport::Udp);
    layer
        .respond(start, id, response(&invite, 486, Some("b")))
        .unwrap();
    transmits(&mut layer);
    let mut ack = request_from("192.0.2.66:5060", "ACK", "c", 1, Some("z9hG4bKinv"));
    ack.headers
        .set(HeaderName::To, "<sip:bob@example.test>;tag=b");
    layer.handle_request(start + ms(100), ack, Transport::Udp, "mallory");
    assert_eq!(
        events(&mut layer),
        ["request - ACK"],
        "not this transaction's ACK"
    );
    let fired = run_timers(&mut layer, start, ms(500));
    assert_eq!(transmit_times(&fired), millis(&[500]), "timer G still runs");
}

#[test]
fn a_cancel_matching_a_pending_invite_is_answered_200_and_reported() {
    let mut layer = layer();
    let start = base();
    let invite = request("INVITE", "c", 7, Some("z9hG4bKcancelme"));
    let invite_id = new_server(&mut layer, start, &invite, Transport::Udp);
    transmits(&mut layer);

    let cancel = request("CANCEL", "c", 7, Some("z9hG4bKcancelme"));
    layer.handle_request(start + secs(1), cancel.clone(), Transport::Udp, "alice");
    assert_eq!(events(&mut layer), [format!("cancelled {}", invite_id.0)]);
    let sent = transmits(&mut layer);
    assert_eq!(sent.len(), 1);
    let ok = sent_response(&sent[0]);
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(ok.cseq().unwrap().method, Method::Cancel);
    assert_eq!(ok.top_via().unwrap().branch(), Some("z9hG4bKcancelme"));
    let to_tag = ok.to_header().unwrap().tag().map(str::to_owned);
    assert!(
        to_tag.is_some(),
        "a generated response carries a To-tag (RFC 3261 §8.2.6.2)"
    );
    assert_eq!(sent[0].destination, "alice");
    let cancel_id = sent[0].id.unwrap();
    assert_ne!(cancel_id, invite_id);

    // The TU ends the INVITE with 487.
    layer
        .respond(
            start + secs(1),
            invite_id,
            response(&invite, 487, Some("b")),
        )
        .unwrap();
    assert_eq!(
        sent_response(&transmits(&mut layer)[0]).status,
        StatusCode(487)
    );

    // A retransmitted CANCEL gets the 200 again and is not reported twice.
    layer.handle_request(start + secs(2), cancel, Transport::Udp, "alice");
    let again = transmits(&mut layer);
    assert_eq!(again.len(), 1);
    assert_eq!(
        (again[0].id, sent_response(&again[0]).status),
        (Some(cancel_id), StatusCode::OK)
    );
    let again_tag = sent_response(&again[0])
        .to_header()
        .unwrap()
        .tag()
        .map(str::to_owned);
    assert_eq!(
        again_tag, to_tag,
        "the retransmitted answer is the same answer"
    );
    assert!(events(&mut layer).is_empty());
}

#[test]
fn a_cancel_matching_no_invite_is_answered_481() {
    let mut layer = layer();
    let start = base();
    let invite = request("INVITE", "c", 7, Some("z9hG4bKreal"));
    new_server(&mut layer, start, &invite, Transport::Udp);
    transmits(&mut layer);
    for cancel in [
        request("CANCEL", "c", 7, Some("z9hG4bKother")),
        request_from("192.0.2.77:5060", "CANCEL", "c", 7, Some("z9hG4bKreal")),
    ] {
        layer.handle_request(start + ms(10), cancel, Transport::Udp, "alice");
        let sent = transmits(&mut layer);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent_response(&sent[0]).status, StatusCode::NO_TRANSACTION);
        assert!(events(&mut layer).is_empty(), "no Cancelled, no Request");
    }
}

#[test]
fn a_cancel_after_the_final_response_is_answered_200_without_effect() {
    // §9.2: a CANCEL matching a transaction is answered 200 even when the INVITE already
    // has its final response; it just changes nothing.
    for status in [200, 486] {
        let mut layer = layer();
        let start = base();
        let invite = request("INVITE", "c", 7, Some("z9hG4bKdone"));
        let id = new_server(&mut layer, start, &invite, Transport::Udp);
        layer
            .respond(start, id, response(&invite, status, Some("b")))
            .unwrap();
        transmits(&mut layer);
        let cancel = request("CANCEL", "c", 7, Some("z9hG4bKdone"));
        layer.handle_request(start + ms(100), cancel, Transport::Udp, "alice");
        let sent = transmits(&mut layer);
        assert_eq!(sent.len(), 1, "after {status}");
        assert_eq!(
            sent_response(&sent[0]).status,
            StatusCode::OK,
            "after {status}"
        );
        assert!(events(&mut layer).is_empty(), "after {status}");
    }
}

#[test]
fn the_client_cancels_an_invite_end_to_end() {
    let mut alice = layer();
    let mut bob = layer();
    let start = base();
    let invite_id = alice
        .send_request(
            start,
            request("INVITE", "c", 4, None),
            Transport::Udp,
            "bob",
            &mut rng(),
        )
        .unwrap();
    assert_eq!(
        alice.cancel(start, invite_id),
        Err(TransactionError::NotCancellable(invite_id)),
        "§9.1: no CANCEL before a provisional response"
    );
    wire(&mut alice, &mut bob, start + ms(10), "alice");
    let bob_invite = match bob.poll_event() {
        Some(TransactionEvent::Request { id: Some(id), .. }) => id,
        other => panic!("expected the INVITE, got {other:?}"),
    };
    wire(&mut bob, &mut alice, start + ms(20), "bob");
    assert_eq!(
        events(&mut alice),
        [format!("response {} 100", invite_id.0)]
    );

    let cancel_id = alice.cancel(start + ms(30), invite_id).unwrap();
    assert_eq!(
        alice.cancel(start + ms(30), invite_id),
        Err(TransactionError::BranchInUse),
        "one CANCEL per INVITE"
    );
    let sent_invite = alice.client_request(invite_id).unwrap().clone();
    let cancel = alice.client_request(cancel_id).unwrap().clone();
    assert_eq!(cancel.method, Method::Cancel);
    assert_eq!(cancel.uri, sent_invite.uri);
    assert_eq!(cancel.vias().unwrap(), [sent_invite.top_via().unwrap()]);
    let cseq = cancel.cseq().unwrap();
    assert_eq!((cseq.seq, cseq.method), (4, Method::Cancel));
    for name in [HeaderName::From, HeaderName::To, HeaderName::CallId] {
        assert_eq!(cancel.headers.get(&name), sent_invite.headers.get(&name));
    }
    assert_eq!(cancel.routes().unwrap(), sent_invite.routes().unwrap());

    wire(&mut alice, &mut bob, start + ms(40), "alice");
    assert_eq!(events(&mut bob), [format!("cancelled {}", bob_invite.0)]);
    let invite_at_bob = bob.server_request(bob_invite).unwrap().clone();
    bob.respond(
        start + ms(40),
        bob_invite,
        response(&invite_at_bob, 487, Some("b")),
    )
    .unwrap();
    wire(&mut bob, &mut alice, start + ms(50), "bob");
    assert_eq!(
        events(&mut alice),
        [
            format!("response {} 200", cancel_id.0),
            format!("response {} 487", invite_id.0)
        ]
    );
    // The transaction ACKs the 487; bob's transaction takes it and stops retransmitting.
    let acks = wire(&mut alice, &mut bob, start + ms(60), "alice");
    assert!(matches!(&acks[..], [Message::Request(ack)] if ack.method == Method::Ack));
    assert_eq!(events(&mut bob), [format!("acked {}", bob_invite.0)]);
    assert!(transmits(&mut bob).is_empty());
    assert_eq!(
        bob.poll_timeout(),
        Some(start + ms(60) + secs(5)),
        "timer I"
    );

    assert_eq!(
        alice.cancel(start + ms(70), invite_id),
        Err(TransactionError::NotCancellable(invite_id)),
        "nothing to cancel after the final response"
    );
    assert_eq!(
        alice.cancel(start + ms(70), cancel_id),
        Err(TransactionError::NotCancellable(cancel_id)),
        "only an INVITE can be cancelled"
    );
    let gone = TransactionId(999);
    assert_eq!(
        alice.cancel(start + ms(70), gone),
        Err(TransactionError::NoSuchTransaction(gone))
    );
}

#[test]
fn send_request_sets_a_fresh_branch_and_rport_over_udp_only() {
    let mut layer = layer();
    let start = base();
    let mut rng = rng();
    let mut original = request("OPTIONS", "c", 1, Some("z9hG4bKfromtheapp"));
    original.headers.push(
        HeaderName::Via,
        "SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bKsecond",
    );
    let udp = layer
        .send_request(start, original.clone(), Transport::Udp, "proxy", &mut rng)
        .unwrap();
    let tcp = layer
        .send_request(start, original.clone(), Transport::Tcp, "proxy", &mut rng)
        .unwrap();
    let sent = transmits(&mut layer);
    let (over_udp, over_tcp) = (sent_request(&sent[0]), sent_request(&sent[1]));
    assert_eq!(layer.client_request(udp), Some(over_udp));
    assert_eq!(layer.client_request(tcp), Some(over_tcp));

    let udp_vias = over_udp.vias().unwrap();
    let tcp_vias = over_tcp.vias().unwrap();
    let (udp_branch, tcp_branch) = (udp_vias[0].branch().unwrap(), tcp_vias[0].branch().unwrap());
    for branch in [udp_branch, tcp_branch] {
        assert!(branch.starts_with(BRANCH_MAGIC_COOKIE));
        assert_ne!(branch, "z9hG4bKfromtheapp");
    }
    assert_ne!(udp_branch, tcp_branch);
    assert_eq!(udp_vias[0].rport(), Some(None));
    assert_eq!(tcp_vias[0].rport(), None);
    let second = original.vias().unwrap()[1].clone();
    assert_eq!((udp_vias.len(), &udp_vias[1]), (2, &second));
    // Everything but the top Via is left alone.
    for name in [
        HeaderName::From,
        HeaderName::To,
        HeaderName::CallId,
        HeaderName::CSeq,
    ] {
        assert_eq!(over_udp.headers.get(&name), original.headers.get(&name));
    }
    assert_eq!(over_udp.routes().unwrap(), original.routes().unwrap());
}

#[test]
fn a_cancel_built_by_the_tu_keeps_the_invite_branch() {
    let mut layer = layer();
    let start = base();
    let mut rng = rng();
    let cancel = request("CANCEL", "c", 1, Some("z9hG4bKtheinvite"));
    layer
        .send_request(start, cancel, Transport::Udp, "proxy", &mut rng)
        .unwrap();
    let sent = transmits(&mut layer);
    assert_eq!(
        sent_request(&sent[0]).top_via().unwrap().branch(),
        Some("z9hG4bKtheinvite")
    );
    // Any other request with a branch gets a new one: it is a new transaction.
    let options = request("OPTIONS", "c", 2, Some("z9hG4bKtheinvite"));
    layer
        .send_request(start, options, Transport::Udp, "proxy", &mut rng)
        .unwrap();
    let sent = transmits(&mut layer);
    assert_ne!(
        sent_request(&sent[0]).top_via().unwrap().branch(),
        Some("z9hG4bKtheinvite")
    );
}

#[test]
fn new_branch_is_the_cookie_and_20_alphanumerics_from_the_rng() {
    let mut a = rng();
    let first = new_branch(&mut a);
    let second = new_branch(&mut a);
    for branch in [&first, &second] {
        assert_eq!(branch.len(), BRANCH_MAGIC_COOKIE.len() + 20);
        let tail = branch.strip_prefix(BRANCH_MAGIC_COOKIE).unwrap();
        assert!(tail.bytes().all(|b| b.is_ascii_alphanumeric()), "{branch}");
    }
    assert_ne!(first, second);
    assert_eq!(new_branch(&mut rng()), first, "seeded RNG, same branch");
}

#[test]
fn misuse_of_the_api_is_an_error_not_a_transaction() {
    let mut layer = layer();
    let start = base();
    let mut rng = rng();
    let mut send = |layer: &mut Layer, request: Request| {
        layer.send_request(start, request, Transport::Udp, "proxy", &mut rng)
    };
    assert_eq!(
        send(&mut layer, request("ACK", "c", 1, None)),
        Err(TransactionError::AckIsNotATransaction)
    );
    let mut no_cseq = request("OPTIONS", "c", 1, None);
    no_cseq.headers.remove(&HeaderName::CSeq);
    assert_eq!(send(&mut layer, no_cseq), Err(TransactionError::NoCSeq));
    let mut bad_cseq = request("OPTIONS", "c", 1, None);
    bad_cseq.headers.set(HeaderName::CSeq, "one OPTIONS");
    assert_eq!(send(&mut layer, bad_cseq), Err(TransactionError::NoCSeq));
    let mut no_via = request("OPTIONS", "c", 1, None);
    no_via.headers.remove(&HeaderName::Via);
    assert_eq!(send(&mut layer, no_via), Err(TransactionError::NoVia));
    let mut bad_via = request("OPTIONS", "c", 1, None);
    bad_via.headers.set(HeaderName::Via, "not a via");
    assert_eq!(send(&mut layer, bad_via), Err(TransactionError::NoVia));
    assert_eq!(layer.len(), 0);
    assert!(transmits(&mut layer).is_empty());

    let nobody = TransactionId(42);
    assert_eq!(
        layer.respond(start, nobody, Response::new(StatusCode::OK, None)),
        Err(TransactionError::NoSuchTransaction(nobody))
    );
    assert_eq!(layer.server_request(nobody), None);
    assert_eq!(layer.client_request(nobody), None);
}

#[test]
fn weird_input_never_panics_and_leaves_the_layer_working() {
    let mut layer = layer();
    let start = base();
    let clients = start_clients(&mut layer, start, vec![request("INVITE", "c", 1, None)]);
    let (client, sent) = &clients[0];

    // Responses the layer cannot match: without Via, with a broken Via, without or with a
    // broken CSeq, for ACK. All stray, none panics.
    let good = response(sent, 200, Some("b"));
    let mut broken = Vec::new();
    for (name, value) in [
        (HeaderName::Via, None),
        (HeaderName::Via, Some(";;;")),
        (HeaderName::Via, Some("SIP/2.0/UDP")),
        (HeaderName::CSeq, None),
        (HeaderName::CSeq, Some("x y z")),
        (HeaderName::CSeq, Some("1 ACK")),
    ] {
        let mut response = good.clone();
        match value {
            Some(value) => response.headers.set(name, value),
            None => response.headers.remove(&name),
        }
        broken.push(response);
    }
    broken.push(Response::new(StatusCode(200), None));
    let count = broken.len();
    for response in broken {
        layer.handle_response(start + ms(1), response);
    }
    assert_eq!(events(&mut layer), vec!["stray 200".to_owned(); count]);
    assert!(transmits(&mut layer).is_empty());

    // The transaction was not disturbed: the real answer still matches.
    assert_eq!(layer.len(), 1);
    layer.handle_response(start + ms(3), good);
    assert_eq!(events(&mut layer), [format!("response {} 200", client.0)]);

    // Requests: without Via (dropped: nothing to answer to), with a broken Via (dropped),
    // without CSeq, From or Call-ID (a transaction all the same), bare ACK and CANCEL.
    let mut server = self::layer();
    let mut no_via = request("INVITE", "s", 1, Some("z9hG4bKs1"));
    no_via.headers.remove(&HeaderName::Via);
    server.handle_request(start, no_via, Transport::Udp, "x");
    let mut bad_via = request("INVITE", "s", 1, Some("z9hG4bKs1"));
    bad_via.headers.set(HeaderName::Via, "garbage");
    server.handle_request(start, bad_via, Transport::Udp, "x");
    assert!(events(&mut server).is_empty());
    assert!(transmits(&mut server).is_empty());
    assert_eq!(server.len(), 0);

    let mut sparse = request("INVITE", "s", 1, None);
    for name in [
        HeaderName::CSeq,
        HeaderName::From,
        HeaderName::CallId,
        HeaderName::To,
    ] {
        sparse.headers.remove(&name);
    }
    let id = new_server(&mut server, start, &sparse, Transport::Udp);
    assert_eq!(
        sent_response(&transmits(&mut server)[0]).status,
        StatusCode::TRYING
    );
    server
        .respond(start, id, Response::new(StatusCode(500), None))
        .unwrap();
    assert_eq!(transmits(&mut server).len(), 1);
    for method in [Method::Ack, Method::Cancel, Method::Extension("FOO".into())] {
        let mut bare = Request::new(method, sparse.uri.clone());
        bare.headers.push(HeaderName::Via, "SIP/2.0/UDP 192.0.2.3");
        server.handle_request(start, bare, Transport::Udp, "x");
    }
    server.handle_transport_error(TransactionId(12345));
    let mut kinds = Vec::new();
    while let Some(event) = server.poll_event() {
        kinds.push(describe(&event));
        if let TransactionEvent::Request { id: Some(id), .. } = event {
            let response =
                Response::for_request(server.server_request(id).unwrap(), StatusCode::OK, None);
            server.respond(start, id, response).unwrap();
        }
    }
    let foo = id.0 + 2; // after the INVITE and the CANCEL's own transaction
    assert_eq!(
        kinds,
        ["request - ACK".to_owned(), format!("request {foo} FOO")]
    );
    let answers: Vec<u16> = transmits(&mut server)
        .iter()
        .map(|t| sent_response(t).status.0)
        .collect();
    assert_eq!(answers, [481, 200], "CANCEL without INVITE, then FOO");
    server.handle_timeout(start + secs(100));
    assert_eq!(server.len(), 0, "every transaction ended on its timers");
}

#[test]
fn a_transport_error_fails_a_pending_request_and_ends_any_transaction() {
    let mut layer = layer();
    let start = base();
    let clients = start_clients(
        &mut layer,
        start,
        vec![
            request("OPTIONS", "a", 1, None),
            request("OPTIONS", "b", 1, None),
        ],
    );
    let (pending, answered) = (clients[0].0, clients[1].0);
    layer.handle_response(start, response(&clients[1].1, 200, Some("x")));
    events(&mut layer);

    layer.handle_transport_error(pending);
    assert_eq!(
        events(&mut layer),
        [
            format!("transport error {}", pending.0),
            format!("terminated {}", pending.0)
        ]
    );
    // Already answered: nothing failed for the TU, the transaction just ends.
    layer.handle_transport_error(answered);
    assert_eq!(events(&mut layer), [format!("terminated {}", answered.0)]);
    assert_eq!(layer.len(), 0);
    assert_eq!(layer.poll_timeout(), None);

    let invite = request("INVITE", "s", 1, Some("z9hG4bKs"));
    let server = new_server(&mut layer, start, &invite, Transport::Tcp);
    layer.handle_transport_error(server);
    assert_eq!(
        events(&mut layer),
        [
            format!("transport error {}", server.0),
            format!("terminated {}", server.0)
        ]
    );
    assert_eq!(layer.len(), 0);
}

#[test]
fn timers_due_together_fire_in_transaction_order() {
    // Reproducible runs: what is sent at one instant comes out in transaction order, not in
    // the order of some hash map.
    let mut layer = layer();
    let start = base();
    let requests = (0..40)
        .map(|i| request("OPTIONS", &format!("c{i}"), 1, None))
        .collect();
    let clients = start_clients(&mut layer, start, requests);
    for i in 0..40 {
        let invite = request("INVITE", &format!("s{i}"), 1, Some(&format!("z9hG4bKs{i}")));
        let id = new_server(&mut layer, start, &invite, Transport::Udp);
        layer
            .respond(start, id, response(&invite, 486, Some("b")))
            .unwrap();
    }
    transmits(&mut layer);
    layer.handle_timeout(start + ms(500));
    let order: Vec<TransactionId> = transmits(&mut layer)
        .iter()
        .map(|t| t.id.unwrap())
        .collect();
    assert_eq!(order.len(), 80);
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
    assert_eq!(order[0], clients[0].0);
}
