//! Two user agents wired together in memory through real transaction layers, in simulated
//! time: every message is serialized and parsed again on the way.

use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::auth::{Authenticator, Credentials};
use crate::message::{HeaderName, Message, StatusCode};
use crate::transaction::{TransactionEvent, TransactionLayer};

#[allow(clippy::disallowed_methods)]
fn start() -> Instant {
    Instant::now()
}

struct Side {
    name: &'static str,
    transport: Transport,
    layer: TransactionLayer<()>,
    call: Option<Call>,
    invite_transaction: Option<TransactionId>,
    events: Vec<CallEvent>,
    rng: StdRng,
    /// Drop every message this side sends while set.
    mute: bool,
    /// Answer a REFER with 202 here (a transferee), instead of letting the call refuse it.
    accept_refer: bool,
    sent: Vec<String>,
}

impl Side {
    fn new(name: &'static str, transport: Transport, seed: u64) -> Side {
        Side {
            name,
            transport,
            layer: TransactionLayer::new(TimerConfig::default()),
            call: None,
            invite_transaction: None,
            events: Vec::new(),
            rng: StdRng::seed_from_u64(seed),
            mute: false,
            accept_refer: false,
            sent: Vec::new(),
        }
    }

    fn config(&self) -> CallConfig {
        let host = if self.name == "alice" {
            "192.0.2.1"
        } else {
            "192.0.2.2"
        };
        let mut config = CallConfig::new(
            format!("sip:{}@example.test", self.name).parse().unwrap(),
            format!("sip:{}@{host}:5061;transport=tls", self.name)
                .parse()
                .unwrap(),
            self.transport,
        );
        config.user_agent = Some("test".to_owned());
        config
    }

    fn call(&mut self) -> &mut Call {
        self.call.as_mut().expect("a call exists")
    }

    /// Moves the call's outputs into the transaction layer.
    fn flush(&mut self, now: Instant) {
        let Some(call) = &mut self.call else { return };
        while let Some(output) = call.poll_output() {
            match output {
                CallOutput::Request(request) => {
                    let is_invite =
                        request.method == Method::Invite && call.state() < CallState::Confirmed;
                    let id = self
                        .layer
                        .send_request(now, request, self.transport, (), &mut self.rng)
                        .unwrap();
                    if is_invite {
                        self.invite_transaction = Some(id);
                    }
                }
                CallOutput::Ack(ack) => self.layer.send_stateless(Message::Request(ack), ()),
                CallOutput::CancelInvite => {
                    let id = self.invite_transaction.unwrap();
                    self.layer.cancel(now, id).unwrap();
                }
                CallOutput::Response {
                    transaction,
                    response,
                } => self.layer.respond(now, transaction, response).unwrap(),
                CallOutput::Retransmit(response) => {
                    self.layer.send_stateless(Message::Response(response), ());
                }
            }
        }
    }

    /// Hands the layer's events to the call (creating the callee's call on an INVITE).
    fn dispatch(&mut self, now: Instant) -> bool {
        let mut progressed = false;
        while let Some(event) = self.layer.poll_event() {
            progressed = true;
            match event {
                TransactionEvent::Request { id, request, .. } => match &mut self.call {
                    Some(call)
                        if self.accept_refer
                            && request.method == Method::Refer
                            && call.matches_request(&request) =>
                    {
                        let accepted = call.response_to(&request, 202, "Accepted");
                        self.layer.respond(now, id.unwrap(), accepted).unwrap();
                    }
                    Some(call) if call.matches_request(&request) => {
                        call.handle_request(now, id, request);
                    }
                    None if request.method == Method::Invite => {
                        let config = self.config();
                        let rng = StdRng::seed_from_u64(7);
                        let call = Call::incoming(config, id.unwrap(), request, rng, now).unwrap();
                        self.call = Some(call);
                    }
                    _ => {}
                },
                TransactionEvent::Response { response, .. }
                | TransactionEvent::StrayResponse { response } => {
                    if let Some(call) = &mut self.call
                        && call.matches_response(&response)
                    {
                        call.handle_response(now, &response);
                    }
                }
                TransactionEvent::Cancelled { .. } => self.call().handle_cancelled(),
                TransactionEvent::Timeout { id } | TransactionEvent::TransportError { id } => {
                    let request = self.layer.client_request(id).cloned();
                    if let (Some(call), Some(request)) = (&mut self.call, request)
                        && let Ok(cseq) = request.headers.cseq()
                    {
                        call.transaction_failed(now, &cseq.method, cseq.seq);
                    }
                }
                _ => {}
            }
        }
        if let Some(call) = &mut self.call {
            while let Some(event) = call.poll_event() {
                progressed = true;
                self.events.push(event);
            }
        }
        progressed
    }

    fn next_timeout(&self) -> Option<Instant> {
        let call = self.call.as_ref().and_then(Call::poll_timeout);
        [call, self.layer.poll_timeout()]
            .into_iter()
            .flatten()
            .min()
    }

    fn ended(&self) -> Option<&EndReason> {
        self.events.iter().find_map(|e| match e {
            CallEvent::Ended { reason } => Some(reason),
            _ => None,
        })
    }
}

struct Pair {
    now: Instant,
    alice: Side,
    bob: Side,
}

impl Pair {
    fn new(transport: Transport) -> Pair {
        Pair {
            now: start(),
            alice: Side::new("alice", transport, 1),
            bob: Side::new("bob", transport, 2),
        }
    }

    fn dial(&mut self) {
        let config = self.alice.config();
        let call = Call::outgoing(
            config,
            "sip:bob@192.0.2.2:5061;transport=tls".parse().unwrap(),
            b"v=0 offer".to_vec(),
            Authenticator::new(Credentials::None),
            StdRng::seed_from_u64(3),
            self.now,
        );
        self.alice.call = Some(call);
        self.settle();
    }

    /// Delivers messages until nobody has anything left to say.
    fn settle(&mut self) {
        loop {
            let now = self.now;
            self.alice.flush(now);
            self.bob.flush(now);
            let mut moved = deliver(now, &mut self.alice, &mut self.bob);
            moved |= deliver(now, &mut self.bob, &mut self.alice);
            moved |= self.alice.dispatch(now);
            moved |= self.bob.dispatch(now);
            if !moved {
                break;
            }
        }
    }

    /// Runs timers up to `until`.
    fn advance(&mut self, duration: Duration) {
        let until = self.now + duration;
        loop {
            let next = [self.alice.next_timeout(), self.bob.next_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(at) if at <= until => {
                    self.now = at.max(self.now);
                    let now = self.now;
                    for side in [&mut self.alice, &mut self.bob] {
                        side.layer.handle_timeout(now);
                        if let Some(call) = &mut side.call {
                            call.handle_timeout(now);
                        }
                    }
                    self.settle();
                }
                _ => break,
            }
        }
        self.now = until;
    }
}

/// Sends what `from` has queued to `to` (serialized and parsed again), unless muted.
fn deliver(now: Instant, from: &mut Side, to: &mut Side) -> bool {
    let mut moved = false;
    while let Some(transmit) = from.layer.poll_transmit() {
        moved = true;
        let bytes = transmit.message.to_bytes();
        from.sent.push(String::from_utf8_lossy(&bytes).into_owned());
        if from.mute {
            continue;
        }
        match Message::parse(&bytes).expect("our own messages parse") {
            Message::Request(request) => to.layer.handle_request(now, request, to.transport, ()),
            Message::Response(response) => to.layer.handle_response(now, response),
        }
    }
    moved
}

fn sent_count(side: &Side, start_line: &str) -> usize {
    side.sent
        .iter()
        .filter(|m| m.starts_with(start_line))
        .count()
}

#[test]
fn answered_call_then_caller_hangs_up() {
    let mut pair = Pair::new(Transport::Tls);
    pair.dial();
    assert_eq!(pair.bob.call().state(), CallState::Trying);
    pair.bob.call().ring().unwrap();
    pair.settle();
    assert_eq!(pair.alice.call().state(), CallState::Early);
    let now = pair.now;
    pair.bob.call().accept(now, b"v=0 answer".to_vec()).unwrap();
    pair.settle();
    assert_eq!(pair.alice.call().state(), CallState::Confirmed);
    let answered = pair.alice.events.iter().find_map(|e| match e {
        CallEvent::Answered {
            response: Some(r), ..
        } => Some(r.body.clone()),
        _ => None,
    });
    assert_eq!(answered.as_deref(), Some(&b"v=0 answer"[..]));
    assert!(
        pair.bob
            .events
            .iter()
            .any(|e| matches!(e, CallEvent::Answered { ack: Some(_), .. }))
    );
    assert_eq!(sent_count(&pair.alice, "ACK "), 1);
    assert_eq!(
        pair.alice.call().dialog_id().unwrap().remote_tag,
        pair.bob.call().dialog_id().unwrap().local_tag
    );
    let now = pair.now;
    pair.alice.call().hangup(now);
    pair.settle();
    assert_eq!(pair.bob.ended(), Some(&EndReason::RemoteHangup));
    assert_eq!(pair.alice.ended(), Some(&EndReason::LocalHangup));
    assert!(pair.alice.call().is_terminated());
    assert!(pair.bob.call().is_terminated());
}

#[test]
fn caller_cancels_while_ringing() {
    let mut pair = Pair::new(Transport::Tls);
    pair.dial();
    pair.bob.call().ring().unwrap();
    pair.settle();
    let now = pair.now;
    pair.alice.call().hangup(now);
    pair.settle();
    assert_eq!(sent_count(&pair.alice, "CANCEL "), 1);
    assert_eq!(sent_count(&pair.bob, "SIP/2.0 487"), 1);
    assert_eq!(pair.bob.ended(), Some(&EndReason::Cancelled));
    assert_eq!(pair.alice.ended(), Some(&EndReason::Cancelled));
}

#[test]
fn callee_refuses_with_488_and_a_reason() {
    let mut pair = Pair::new(Transport::Tls);
    pair.dial();
    pair.bob
        .call()
        .reject(488, "plain RTP offered, SRTP is mandatory")
        .unwrap();
    pair.settle();
    let rejected = pair
        .bob
        .sent
        .iter()
        .find(|m| m.starts_with("SIP/2.0 488"))
        .unwrap();
    assert!(rejected.contains("Warning: 399 lockphone \"plain RTP offered, SRTP is mandatory\""));
    assert_eq!(
        pair.alice.ended(),
        Some(&EndReason::Rejected {
            status: 488,
            reason: "Not Acceptable Here (plain RTP offered, SRTP is mandatory)".to_owned()
        })
    );
}

fn confirmed(transport: Transport) -> Pair {
    let mut pair = Pair::new(transport);
    pair.dial();
    let now = pair.now;
    pair.bob.call().accept(now, b"v=0 answer".to_vec()).unwrap();
    pair.settle();
    assert_eq!(pair.alice.call().state(), CallState::Confirmed);
    pair
}

#[test]
fn reinvite_for_hold_is_answered_or_refused_and_the_call_goes_on() {
    let mut pair = confirmed(Transport::Tls);
    let now = pair.now;
    pair.alice
        .call()
        .reoffer(now, b"v=0 hold".to_vec(), false)
        .unwrap();
    pair.settle();
    let offer = pair.bob.events.iter().find_map(|e| match e {
        CallEvent::Reoffer { request } => Some(request.body.clone()),
        _ => None,
    });
    assert_eq!(offer.as_deref(), Some(&b"v=0 hold"[..]));
    pair.bob
        .call()
        .answer_reoffer(now, Ok(b"v=0 held".to_vec()))
        .unwrap();
    pair.settle();
    assert!(pair.alice.events.iter().any(
        |e| matches!(e, CallEvent::ReofferAnswered { response } if response.body == b"v=0 held")
    ));
    assert_eq!(sent_count(&pair.alice, "ACK "), 2);
    // Now a refused one: the call stays up.
    pair.alice
        .call()
        .reoffer(now, b"v=0 plain".to_vec(), false)
        .unwrap();
    pair.settle();
    pair.bob
        .call()
        .answer_reoffer(now, Err((488, "downgrade refused".to_owned())))
        .unwrap();
    pair.settle();
    assert!(
        pair.alice
            .events
            .iter()
            .any(|e| matches!(e, CallEvent::ReofferRefused { status: 488, .. }))
    );
    assert_eq!(pair.alice.call().state(), CallState::Confirmed);
    assert!(pair.alice.ended().is_none());
}

#[test]
fn glare_is_resolved_with_491_and_a_retry() {
    let mut pair = confirmed(Transport::Tls);
    let now = pair.now;
    pair.alice
        .call()
        .reoffer(now, b"v=0 a".to_vec(), false)
        .unwrap();
    pair.bob
        .call()
        .reoffer(now, b"v=0 b".to_vec(), false)
        .unwrap();
    pair.settle();
    assert_eq!(sent_count(&pair.alice, "SIP/2.0 491"), 1);
    assert_eq!(sent_count(&pair.bob, "SIP/2.0 491"), 1);
    // Bob (the callee) retries within 2 s, Alice after 2.1 s: Bob's goes through first.
    pair.advance(Duration::from_millis(2050));
    let reoffers = pair
        .alice
        .events
        .iter()
        .filter(|e| matches!(e, CallEvent::Reoffer { .. }))
        .count();
    assert_eq!(reoffers, 1);
    let now = pair.now;
    pair.alice
        .call()
        .answer_reoffer(now, Ok(b"v=0 ok".to_vec()))
        .unwrap();
    pair.settle();
    pair.advance(Duration::from_secs(3));
    let reoffers = pair
        .bob
        .events
        .iter()
        .filter(|e| matches!(e, CallEvent::Reoffer { .. }))
        .count();
    assert_eq!(reoffers, 1);
}

#[test]
fn session_timer_refreshes_keep_the_call_and_a_silent_peer_is_hung_up() {
    let mut pair = Pair::new(Transport::Tls);
    pair.alice.call = None;
    // Ask for a short interval.
    let mut config = pair.alice.config();
    config.session_timer.interval = Duration::from_secs(90);
    let call = Call::outgoing(
        config,
        "sip:bob@192.0.2.2:5061;transport=tls".parse().unwrap(),
        b"v=0 offer".to_vec(),
        Authenticator::new(Credentials::None),
        StdRng::seed_from_u64(3),
        pair.now,
    );
    pair.alice.call = Some(call);
    pair.settle();
    let now = pair.now;
    pair.bob.call().accept(now, b"v=0 answer".to_vec()).unwrap();
    pair.settle();
    let ok = pair
        .bob
        .sent
        .iter()
        .find(|m| m.starts_with("SIP/2.0 200"))
        .unwrap();
    assert!(ok.contains("Session-Expires: 90;refresher=uac"), "{ok}");
    // Alice refreshes every 45 s; five minutes later the call is still up.
    pair.advance(Duration::from_secs(300));
    assert!(pair.bob.ended().is_none(), "{:?}", pair.bob.events);
    assert!(sent_count(&pair.alice, "INVITE ") + sent_count(&pair.alice, "UPDATE ") >= 6);
    // Bob answered the refreshes himself and reported them (their headers may matter).
    assert!(
        pair.bob
            .events
            .iter()
            .any(|e| matches!(e, CallEvent::Refreshed { request } if request.body.is_empty())),
        "{:?}",
        pair.bob.events
    );
    // Alice goes silent: Bob ends the call before the interval runs out.
    pair.alice.mute = true;
    pair.advance(Duration::from_secs(90));
    assert!(
        matches!(pair.bob.ended(), Some(EndReason::Failed { reason }) if reason.contains("session timer"))
    );
}

#[test]
fn udp_2xx_is_retransmitted_until_ack_and_a_missing_ack_ends_the_call() {
    let mut pair = Pair::new(Transport::Udp);
    pair.dial();
    pair.alice.mute = true;
    let now = pair.now;
    pair.bob.call().accept(now, b"v=0 answer".to_vec()).unwrap();
    pair.settle();
    pair.advance(Duration::from_secs(40));
    let oks = sent_count(&pair.bob, "SIP/2.0 200");
    // T1 = 0.5 s doubling to T2 = 4 s over 32 s: 0.5, 1, 2, 4, 4, … ≈ 10 sends.
    assert!((8..=12).contains(&oks), "{oks} 2xx sent");
    assert!(
        matches!(pair.bob.ended(), Some(EndReason::Failed { reason }) if reason.contains("ACK"))
    );
    // The BYE goes out (and, over UDP, is retransmitted by its transaction).
    assert!(sent_count(&pair.bob, "BYE ") >= 1);
}

#[test]
fn bye_for_an_ended_call_gets_481_and_responses_of_others_do_not_match() {
    let mut pair = confirmed(Transport::Tls);
    let now = pair.now;
    pair.bob.call().hangup(now);
    pair.settle();
    assert_eq!(pair.alice.ended(), Some(&EndReason::RemoteHangup));
    let stranger = Response::new(StatusCode::OK, None);
    assert!(!pair.alice.call().matches_response(&stranger));
    assert_eq!(
        pair.bob.call().reoffer(now, Vec::new(), false),
        Err(CallError::WrongState {
            action: "re-offer",
            state: pair.bob.call().state(),
        })
    );
}

/// A 407 with a Bearer challenge answering `invite` (with `error="invalid_token"` when asked).
fn bearer_challenge(invite: &Request, invalid: bool) -> Response {
    let mut response = Response::for_request(invite, StatusCode(407), None);
    build::set_to_tag(&mut response, "proxy");
    let error = if invalid {
        ", error=\"invalid_token\", error_description=\"token expired\""
    } else {
        ""
    };
    response.headers.push(
        HeaderName::ProxyAuthenticate,
        format!("Bearer realm=\"example.test\", scope=\"sip\"{error}"),
    );
    response
}

fn next_invite(call: &mut Call) -> Request {
    match call.poll_output() {
        Some(CallOutput::Request(request)) if request.method == Method::Invite => request,
        other => panic!("expected an INVITE, got {other:?}"),
    }
}

#[test]
fn rejected_bearer_token_on_invite_waits_for_a_new_one_and_retries_once() {
    use crate::auth::Secret;
    let now = start();
    let side = Side::new("alice", Transport::Tls, 1);
    let mut call = Call::outgoing(
        side.config(),
        "sip:bob@example.test".parse().unwrap(),
        b"v=0 offer".to_vec(),
        Authenticator::new(Credentials::Bearer {
            token: Secret::new("old-token".to_owned()),
        }),
        StdRng::seed_from_u64(3),
        now,
    );
    let first = next_invite(&mut call);
    call.handle_response(now, &bearer_challenge(&first, false));
    let second = next_invite(&mut call);
    let auth = second.headers.get(&HeaderName::ProxyAuthorization);
    assert_eq!(auth, Some("Bearer old-token"));
    // The proxy says the token is no good: the call waits for a renewed one.
    call.handle_response(now, &bearer_challenge(&second, true));
    assert!(call.poll_output().is_none(), "no INVITE before a new token");
    assert!(matches!(
        call.poll_event(),
        Some(CallEvent::TokenRejected { description: Some(d) }) if d == "token expired"
    ));
    call.set_credentials(Credentials::Bearer {
        token: Secret::new("new-token".to_owned()),
    });
    let third = next_invite(&mut call);
    assert_eq!(
        third.headers.get(&HeaderName::ProxyAuthorization),
        Some("Bearer new-token")
    );
    assert!(third.headers.cseq().unwrap().seq > second.headers.cseq().unwrap().seq);
    // Rejected again: no loop, the call fails.
    call.handle_response(now, &bearer_challenge(&third, true));
    assert!(call.poll_output().is_none());
    assert!(matches!(
        call.poll_event(),
        Some(CallEvent::Ended {
            reason: EndReason::Rejected { status: 407, .. }
        })
    ));
}

#[test]
fn callee_answers_carry_the_record_route_of_the_invite() {
    let now = start();
    let side = Side::new("bob", Transport::Tls, 2);
    let mut invite = build::initial_invite(
        &Side::new("alice", Transport::Tls, 1).config(),
        &"sip:bob@example.test".parse().unwrap(),
        "c1",
        "a1",
        1,
        b"v=0 offer".to_vec(),
        &mut StdRng::seed_from_u64(9),
    );
    invite
        .headers
        .push(HeaderName::RecordRoute, "<sip:p2.example.test;lr>");
    invite
        .headers
        .push(HeaderName::RecordRoute, "<sip:p1.example.test;lr>");
    let mut layer: TransactionLayer<()> = TransactionLayer::new(TimerConfig::default());
    layer.handle_request(now, invite, Transport::Tls, ());
    let Some(TransactionEvent::Request {
        id: Some(id),
        request,
        ..
    }) = layer.poll_event()
    else {
        panic!("no INVITE")
    };
    let mut call =
        Call::incoming(side.config(), id, request, StdRng::seed_from_u64(7), now).unwrap();
    call.ring().unwrap();
    call.accept(now, b"v=0 answer".to_vec()).unwrap();
    let mut answers = 0;
    while let Some(output) = call.poll_output() {
        if let CallOutput::Response { response, .. } = output {
            let routes: Vec<&str> = response.headers.get_all(&HeaderName::RecordRoute).collect();
            assert_eq!(
                routes,
                ["<sip:p2.example.test;lr>", "<sip:p1.example.test;lr>"],
                "{}",
                response.status.0
            );
            answers += 1;
        }
    }
    assert_eq!(answers, 2, "180 and 200");
}

/// The caller's INVITE answered 200 by a fork with To-tag `tag`.
fn ok_from_fork(invite: &Request, tag: &str) -> Response {
    let mut ok = Response::for_request(invite, StatusCode::OK, None);
    let to = invite.headers.get(&HeaderName::To).unwrap();
    ok.headers.set(HeaderName::To, format!("{to};tag={tag}"));
    ok.headers.push(
        HeaderName::Contact,
        format!("<sip:bob@192.0.2.{}:5061;transport=tls>", tag.len()),
    );
    ok
}

#[test]
fn caller_acks_every_2xx_and_byes_a_second_fork() {
    let now = start();
    let mut call = Call::outgoing(
        Side::new("alice", Transport::Tls, 1).config(),
        "sip:bob@example.test".parse().unwrap(),
        b"v=0 offer".to_vec(),
        Authenticator::new(Credentials::None),
        StdRng::seed_from_u64(3),
        now,
    );
    let Some(CallOutput::Request(invite)) = call.poll_output() else {
        panic!("the INVITE first")
    };
    let kinds = |call: &mut Call| {
        std::iter::from_fn(|| call.poll_output())
            .map(|output| match output {
                CallOutput::Ack(ack) => format!(
                    "ACK {} to {}",
                    ack.headers.cseq().unwrap().seq,
                    ack.headers.to_header().unwrap().tag().unwrap()
                ),
                CallOutput::Request(request) => format!(
                    "{} to {}",
                    request.method,
                    request.headers.to_header().unwrap().tag().unwrap()
                ),
                other => format!("{other:?}"),
            })
            .collect::<Vec<String>>()
    };

    let first = ok_from_fork(&invite, "b1");
    assert!(call.matches_response(&first));
    call.handle_response(now, &first);
    assert_eq!(call.state(), CallState::Confirmed);
    assert_eq!(kinds(&mut call), ["ACK 1 to b1"]);

    // The same 2xx again (retransmitted): ACKed again, nothing else.
    call.handle_response(now, &first);
    assert_eq!(kinds(&mut call), ["ACK 1 to b1"]);

    // A 2xx from another fork: ACKed, and that second dialog is ended with a BYE.
    call.handle_response(now, &ok_from_fork(&invite, "b22"));
    assert_eq!(kinds(&mut call), ["ACK 1 to b22", "BYE to b22"]);
    assert_eq!(call.dialog_id().unwrap().remote_tag, "b1");

    // A response of another call (other From tag) does not match.
    let mut stranger = first.clone();
    stranger
        .headers
        .set(HeaderName::From, "<sip:alice@example.test>;tag=other");
    assert!(!call.matches_response(&stranger));
}

#[test]
fn reinvite_without_sdp_is_answered_with_our_current_sdp_until_acked() {
    let mut pair = confirmed(Transport::Udp);
    let now = pair.now;
    let oks_before = sent_count(&pair.bob, "SIP/2.0 200");
    pair.alice.call().reoffer(now, Vec::new(), false).unwrap();
    pair.settle();
    let ok = pair
        .bob
        .sent
        .iter()
        .filter(|m| m.starts_with("SIP/2.0 200"))
        .nth(oks_before)
        .expect("bob answered the re-INVITE");
    assert!(ok.contains("CSeq: 2 INVITE"), "{ok}");
    assert!(ok.ends_with("\r\n\r\nv=0 answer"), "{ok}");
    assert!(ok.contains("Session-Expires: "), "{ok}");
    assert!(
        pair.bob
            .events
            .iter()
            .any(|e| matches!(e, CallEvent::Refreshed { request } if request.body.is_empty()))
    );
    // Alice ACKed it, so bob's 2xx is not sent again.
    assert_eq!(sent_count(&pair.alice, "ACK "), 2);
    let oks = sent_count(&pair.bob, "SIP/2.0 200");
    pair.advance(Duration::from_secs(2));
    assert_eq!(sent_count(&pair.bob, "SIP/2.0 200"), oks);
}

/// The transferee (bob) reports the new call's progress in a NOTIFY (`Event: refer`).
fn notify(pair: &mut Pair, sipfrag: &str, state: &str) {
    notify_event(pair, "refer", sipfrag, state);
}

/// A NOTIFY with this `Event` header.
fn notify_event(pair: &mut Pair, event: &str, sipfrag: &str, state: &str) {
    let now = pair.now;
    let (mut notify, _) = pair.bob.call().dialog_request(Method::Notify).unwrap();
    notify.headers.push(HeaderName::Event, event.to_owned());
    notify
        .headers
        .push(HeaderName::SubscriptionState, state.to_owned());
    notify
        .headers
        .push(HeaderName::ContentType, "message/sipfrag;version=2.0");
    notify.body = sipfrag.as_bytes().to_vec();
    let bob = &mut pair.bob;
    bob.layer
        .send_request(now, notify, bob.transport, (), &mut bob.rng)
        .unwrap();
    pair.settle();
}

fn transfers(side: &Side) -> Vec<TransferProgress> {
    side.events
        .iter()
        .filter_map(|e| match e {
            CallEvent::Transfer { progress } => Some(progress.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn blind_transfer_reports_accepted_progress_and_success_from_the_notifies() {
    let mut pair = confirmed(Transport::Tls);
    pair.bob.accept_refer = true;
    let target: Uri = "sip:carol@example.test".parse().unwrap();
    pair.alice.call().refer(&target).unwrap();
    assert_eq!(
        pair.alice.call().refer(&target),
        Err(CallError::TransferPending)
    );
    pair.settle();
    let refer = pair
        .alice
        .sent
        .iter()
        .find(|m| m.starts_with("REFER "))
        .unwrap();
    assert!(
        refer.contains("Refer-To: <sip:carol@example.test>"),
        "{refer}"
    );
    assert!(
        refer.contains("Referred-By: <sip:alice@example.test>"),
        "{refer}"
    );
    assert_eq!(transfers(&pair.alice), [TransferProgress::Accepted]);
    notify(&mut pair, "SIP/2.0 100 Trying\r\n", "active;expires=60");
    notify(
        &mut pair,
        "SIP/2.0 200 OK\r\n",
        "terminated;reason=noresource",
    );
    assert_eq!(sent_count(&pair.alice, "SIP/2.0 200 OK"), 2);
    assert_eq!(
        transfers(&pair.alice),
        [
            TransferProgress::Accepted,
            TransferProgress::Trying { status: 100 },
            TransferProgress::Succeeded { status: 200 },
        ]
    );
    assert!(!pair.alice.call().transfer_pending());
    // The call itself goes on; a late NOTIFY no longer has a subscription.
    assert_eq!(pair.alice.call().state(), CallState::Confirmed);
    notify(&mut pair, "SIP/2.0 200 OK\r\n", "terminated");
    assert_eq!(sent_count(&pair.alice, "SIP/2.0 481"), 1);
}

#[test]
fn failed_transfer_target_and_missing_final_notify_are_reported_as_failures() {
    let mut pair = confirmed(Transport::Tls);
    pair.bob.accept_refer = true;
    let target: Uri = "sip:carol@example.test".parse().unwrap();
    pair.alice.call().refer(&target).unwrap();
    pair.settle();
    notify(&mut pair, "SIP/2.0 486 Busy Here\r\n", "terminated");
    assert!(matches!(
        transfers(&pair.alice).last(),
        Some(TransferProgress::Failed {
            status: Some(486),
            ..
        })
    ));
    // Again, but the far end never says how it ended.
    pair.alice.events.clear();
    pair.alice.call().refer(&target).unwrap();
    pair.settle();
    pair.advance(TRANSFER_WAIT + Duration::from_secs(1));
    assert_eq!(
        transfers(&pair.alice),
        [
            TransferProgress::Accepted,
            TransferProgress::Failed {
                status: None,
                reason: "the far end never reported the outcome of the transfer".to_owned()
            }
        ]
    );
    assert!(pair.alice.ended().is_none());
}

/// A second REFER's subscription is `Event: refer;id=<its CSeq>`: a late NOTIFY of the first
/// (no `id`) or one with another `id` gets 481 and changes nothing; the right one counts.
#[test]
fn notifies_of_an_earlier_refer_do_not_touch_the_transfer_under_way() {
    let mut pair = confirmed(Transport::Tls);
    pair.bob.accept_refer = true;
    let target: Uri = "sip:carol@example.test".parse().unwrap();
    pair.alice.call().refer(&target).unwrap();
    pair.settle();
    notify(&mut pair, "SIP/2.0 486 Busy Here\r\n", "terminated");
    pair.alice.call().refer(&target).unwrap();
    pair.settle();
    let second = pair
        .alice
        .sent
        .iter()
        .rev()
        .find(|m| m.starts_with("REFER "))
        .unwrap();
    let seq: u32 = second
        .lines()
        .find_map(|l| l.strip_prefix("CSeq: "))
        .and_then(|v| v.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    pair.alice.events.clear();
    notify(&mut pair, "SIP/2.0 200 OK\r\n", "terminated");
    notify_event(
        &mut pair,
        &format!("refer;id={}", seq + 7),
        "SIP/2.0 200 OK\r\n",
        "terminated",
    );
    assert_eq!(sent_count(&pair.alice, "SIP/2.0 481"), 2);
    assert!(transfers(&pair.alice).is_empty());
    assert!(pair.alice.call().transfer_pending());
    notify_event(
        &mut pair,
        &format!("refer;ID = {seq}"),
        "SIP/2.0 200 OK\r\n",
        "terminated",
    );
    assert_eq!(
        transfers(&pair.alice),
        [TransferProgress::Succeeded { status: 200 }]
    );
    assert!(!pair.alice.call().transfer_pending());
}

/// The REFER `call` sends next.
fn next_refer(call: &mut Call) -> Request {
    match call.poll_output() {
        Some(CallOutput::Request(request)) if request.method == Method::Refer => request,
        other => panic!("expected a REFER, got {other:?}"),
    }
}

/// A REFER challenged with 407 goes again with the credentials and a new CSeq, and its 202
/// counts.
#[test]
fn a_challenged_refer_is_sent_again_with_credentials() {
    use crate::auth::Secret;
    let mut pair = confirmed(Transport::Tls);
    let now = pair.now;
    let call = pair.alice.call();
    call.set_credentials(Credentials::Bearer {
        token: Secret::new("refer-token".to_owned()),
    });
    let target: Uri = "sip:carol@example.test".parse().unwrap();
    call.refer(&target).unwrap();
    let first = next_refer(call);
    call.handle_response(now, &bearer_challenge(&first, false));
    let second = next_refer(call);
    let seq = |r: &Request| r.headers.cseq().unwrap().seq;
    assert_eq!(seq(&second), seq(&first) + 1);
    assert_eq!(
        second.headers.get(&HeaderName::ProxyAuthorization),
        Some("Bearer refer-token")
    );
    assert_eq!(
        second.headers.get(&HeaderName::ReferTo),
        Some("<sip:carol@example.test>")
    );
    let mut accepted = Response::for_request(&second, StatusCode(202), None);
    build::set_to_tag(&mut accepted, "bob");
    call.handle_response(now, &accepted);
    assert!(call.transfer_pending());
    let events: Vec<_> = std::iter::from_fn(|| call.poll_event()).collect();
    assert!(
        events.iter().any(|e| matches!(
            e,
            CallEvent::Transfer {
                progress: TransferProgress::Accepted
            }
        )),
        "{events:?}"
    );
}

/// The same token challenged again: the transfer fails with the reason, no third REFER.
#[test]
fn a_refer_challenged_twice_fails_the_transfer() {
    use crate::auth::Secret;
    let mut pair = confirmed(Transport::Tls);
    let now = pair.now;
    let call = pair.alice.call();
    call.set_credentials(Credentials::Bearer {
        token: Secret::new("refer-token".to_owned()),
    });
    call.refer(&"sip:carol@example.test".parse().unwrap())
        .unwrap();
    let first = next_refer(call);
    call.handle_response(now, &bearer_challenge(&first, false));
    let second = next_refer(call);
    call.handle_response(now, &bearer_challenge(&second, false));
    assert!(call.poll_output().is_none());
    assert!(!call.transfer_pending());
    let failed = std::iter::from_fn(|| call.poll_event()).find_map(|e| match e {
        CallEvent::Transfer {
            progress: TransferProgress::Failed { status, reason },
        } => Some((status, reason)),
        _ => None,
    });
    let (status, reason) = failed.expect("a failed transfer");
    assert_eq!(status, Some(407));
    assert!(reason.contains("could not be authenticated"), "{reason}");
}

#[test]
fn a_refer_from_the_far_end_is_refused_with_403_and_the_call_goes_on() {
    let mut pair = confirmed(Transport::Tls);
    // bob does not accept transfers: his call refuses alice's REFER.
    let target: Uri = "sip:carol@example.test".parse().unwrap();
    pair.alice.call().refer(&target).unwrap();
    pair.settle();
    let refused = pair
        .bob
        .sent
        .iter()
        .find(|m| m.starts_with("SIP/2.0 403"))
        .unwrap();
    assert!(refused.contains("transfer requests are not accepted"));
    assert!(matches!(
        transfers(&pair.alice).as_slice(),
        [TransferProgress::Failed {
            status: Some(403),
            ..
        }]
    ));
    assert_eq!(pair.bob.call().state(), CallState::Confirmed);
    assert_eq!(pair.alice.call().state(), CallState::Confirmed);
    // A NOTIFY of another package is refused too.
    let now = pair.now;
    let (mut notify, _) = pair.bob.call().dialog_request(Method::Notify).unwrap();
    notify.headers.push(HeaderName::Event, "dialog");
    let bob = &mut pair.bob;
    bob.layer
        .send_request(now, notify, bob.transport, (), &mut bob.rng)
        .unwrap();
    pair.settle();
    assert_eq!(sent_count(&pair.alice, "SIP/2.0 489"), 1);
}

#[test]
fn transfer_needs_a_confirmed_call() {
    let mut pair = Pair::new(Transport::Tls);
    pair.dial();
    let target: Uri = "sip:carol@example.test".parse().unwrap();
    assert!(matches!(
        pair.alice.call().refer(&target),
        Err(CallError::WrongState { .. })
    ));
}
