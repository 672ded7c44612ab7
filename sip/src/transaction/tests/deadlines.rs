//! The deadline index behind `poll_timeout`: after every kind of input, in a seeded random
//! mix, it must give what asking every live transaction gives, and timers that fire together
//! must still be handled in transaction-id order. Plus an ignored timing of `poll_timeout` with
//! 1,000 and 20,000 live transactions.

use std::collections::BTreeMap;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::message::Method;

/// What the test knows about a live transaction of the layer.
enum Live {
    /// A client transaction and the request as sent.
    Client(Request),
    /// A server transaction and the request as received.
    Server(Request),
}

/// Drains the layer, forgetting ended transactions (a peer's CANCEL starts one the test does
/// not track), and checks the id order of what one
/// `handle_timeout` call sent: client retransmissions (requests) first, then server ones
/// (responses), each by ascending id.
fn drain(layer: &mut Layer, live: &mut BTreeMap<TransactionId, Live>, after_timeout: bool) {
    let sent = transmits(layer);
    if after_timeout {
        let order: Vec<(bool, TransactionId)> = sent
            .iter()
            .filter_map(|t| Some((matches!(t.message, Message::Response(_)), t.id?)))
            .collect();
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(order, sorted, "timers that fire together go in id order");
    }
    while let Some(event) = layer.poll_event() {
        if let TransactionEvent::Terminated { id } = event {
            live.remove(&id);
        }
    }
}

fn check(layer: &Layer) {
    layer.assert_deadline_index();
    assert_eq!(layer.poll_timeout(), layer.scanned_timeout());
}

/// A random live transaction of the wanted side.
fn pick(
    live: &BTreeMap<TransactionId, Live>,
    rng: &mut ChaCha8Rng,
    client: bool,
) -> Option<(TransactionId, Request)> {
    let side: Vec<(TransactionId, &Request)> = live
        .iter()
        .filter_map(|(&id, l)| match (l, client) {
            (Live::Client(r), true) | (Live::Server(r), false) => Some((id, r)),
            _ => None,
        })
        .collect();
    if side.is_empty() {
        return None;
    }
    side.get(rng.random_range(0..side.len()))
        .map(|&(id, r)| (id, r.clone()))
}

fn transport(rng: &mut ChaCha8Rng) -> Transport {
    if rng.random_bool(0.5) {
        Transport::Udp
    } else {
        Transport::Tls
    }
}

#[test]
fn poll_timeout_is_the_earliest_transaction_timeout_through_a_random_mix() {
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    let mut layer = layer();
    let start = base();
    let mut now = start;
    let mut live: BTreeMap<TransactionId, Live> = BTreeMap::new();
    let mut seq = 0u32;
    // Each operation kind, how often it ran with an effect: the mix must reach all of them.
    let mut ran = [0usize; 9];
    for _ in 0..4_000 {
        let op = rng.random_range(0..ran.len());
        let mut after_timeout = false;
        let done = match op {
            // A new client transaction.
            0 => {
                seq += 1;
                let method = ["INVITE", "OPTIONS", "REGISTER"][rng.random_range(0..3)];
                let id = layer
                    .send_request(
                        now,
                        request(method, &format!("out-{seq}"), seq, None),
                        transport(&mut rng),
                        "peer",
                        &mut rng,
                    )
                    .expect("a well-formed request");
                let sent = layer.client_request(id).expect("alive").clone();
                live.insert(id, Live::Client(sent));
                true
            }
            // A response to a client transaction.
            1 => pick(&live, &mut rng, true).is_some_and(|(_, sent)| {
                let status = [100, 180, 200, 486][rng.random_range(0..4)];
                let tag = (status != 100).then_some("peer-tag");
                let answer = response(&sent, status, tag);
                layer.handle_response(now, answer);
                true
            }),
            // A new server transaction.
            2 => {
                seq += 1;
                let method = ["INVITE", "OPTIONS", "BYE"][rng.random_range(0..3)];
                let branch = format!("z9hG4bK-in-{seq}");
                let incoming = request(method, &format!("in-{seq}"), seq, Some(&branch));
                let before = layer.len();
                layer.handle_request(now, incoming.clone(), transport(&mut rng), "caller");
                assert_eq!(layer.len(), before + 1);
                let newest = std::iter::from_fn(|| layer.poll_event()).find_map(|e| match e {
                    TransactionEvent::Request { id: Some(id), .. } => Some(id),
                    _ => None,
                });
                let newest = newest.expect("a new request goes up with its transaction");
                live.insert(newest, Live::Server(incoming));
                true
            }
            // A retransmitted request, or an ACK, to a server transaction.
            3 => pick(&live, &mut rng, false).is_some_and(|(_, received)| {
                let mut again = received.clone();
                if received.method == Method::Invite && rng.random_bool(0.5) {
                    again.method = Method::Ack;
                    let cseq = received.cseq().expect("test requests have a CSeq");
                    again
                        .headers
                        .set(HeaderName::CSeq, format!("{} ACK", cseq.seq));
                }
                layer.handle_request(now, again, Transport::Udp, "caller");
                true
            }),
            // The TU answers a server transaction (errors are fine: already answered).
            4 => pick(&live, &mut rng, false).is_some_and(|(id, received)| {
                let status = [180, 200, 486][rng.random_range(0..3)];
                let _ = layer.respond(now, id, response(&received, status, Some("me")));
                true
            }),
            // CANCEL: ours for a client INVITE, or a peer's for a server one.
            5 => {
                if rng.random_bool(0.5) {
                    pick(&live, &mut rng, true).is_some_and(|(id, _)| {
                        if let Ok(cancel) = layer.cancel(now, id) {
                            let sent = layer.client_request(cancel).expect("alive").clone();
                            live.insert(cancel, Live::Client(sent));
                        }
                        true
                    })
                } else {
                    pick(&live, &mut rng, false).is_some_and(|(_, received)| {
                        let mut cancel = received.clone();
                        let cseq = received.cseq().expect("test requests have a CSeq");
                        cancel.method = Method::Cancel;
                        cancel
                            .headers
                            .set(HeaderName::CSeq, format!("{} CANCEL", cseq.seq));
                        layer.handle_request(now, cancel, Transport::Udp, "caller");
                        true
                    })
                }
            }
            // The transport fails for a random transaction.
            6 => {
                let client = rng.random_bool(0.5);
                pick(&live, &mut rng, client).is_some_and(|(id, _)| {
                    layer.handle_transport_error(id);
                    true
                })
            }
            // Time passes a little, and timers fire.
            7 => {
                now += ms(rng.random_range(0..3_000));
                layer.handle_timeout(now);
                after_timeout = true;
                true
            }
            // Time jumps to the next timer exactly.
            _ => layer.poll_timeout().is_some_and(|at| {
                now = now.max(at);
                layer.handle_timeout(now);
                after_timeout = true;
                true
            }),
        };
        if done {
            ran[op] += 1;
        }
        drain(&mut layer, &mut live, after_timeout);
        check(&layer);
    }
    assert!(ran.iter().all(|&n| n > 50), "every operation ran: {ran:?}");
    // Let every timer run out: the index empties with the layer.
    now += secs(120);
    layer.handle_timeout(now);
    check(&layer);
    assert_eq!(layer.poll_timeout(), None);
}

/// A layer holding `n` answered INVITE server transactions over TLS (each waits out timer L,
/// 32 s), as a call-rate benchmark leaves them, plus the instant they were created.
fn answered_invites(n: usize) -> (Layer, Instant) {
    let mut layer = layer();
    let start = base();
    for i in 0..n {
        let invite = request(
            "INVITE",
            &format!("bench-{i}"),
            1,
            Some(&format!("z9hG4bK-{i}")),
        );
        let at = start + Duration::from_micros(i as u64);
        layer.handle_request(at, invite.clone(), Transport::Tls, "caller");
        let id = std::iter::from_fn(|| layer.poll_event())
            .find_map(|e| match e {
                TransactionEvent::Request { id, .. } => id,
                _ => None,
            })
            .expect("an INVITE starts a server transaction");
        layer
            .respond(at, id, response(&invite, 200, Some("me")))
            .expect("a fresh INVITE takes a 2xx");
        transmits(&mut layer);
    }
    assert_eq!(layer.len(), n);
    (layer, start)
}

/// Mean wall time of `f` over `rounds` calls, in nanoseconds.
#[allow(clippy::disallowed_methods)] // a timing report, not protocol logic
fn nanos_per_call(rounds: u32, mut f: impl FnMut()) -> f64 {
    let begin = Instant::now();
    for _ in 0..rounds {
        f();
    }
    begin.elapsed().as_nanos() as f64 / f64::from(rounds)
}

/// `cargo test -p lockphone-sip --release --lib poll_timeout_cost -- --ignored --nocapture`
#[test]
#[ignore = "a timing report; run by hand with --release --nocapture"]
fn poll_timeout_cost_with_1000_and_20000_live_transactions() {
    let mut per_call = Vec::new();
    for n in [1_000, 20_000] {
        let (mut layer, start) = answered_invites(n);
        let poll = nanos_per_call(200_000, || {
            std::hint::black_box(layer.poll_timeout());
        });
        let scan = nanos_per_call(200, || {
            std::hint::black_box(layer.scanned_timeout());
        });
        // Nothing is due one second in: handle_timeout should cost next to nothing.
        let idle = start + secs(1);
        let handle = nanos_per_call(200_000, || layer.handle_timeout(idle));
        println!(
            "{n:>6} live: poll_timeout {poll:.0} ns, handle_timeout (none due) {handle:.0} ns, \
             scan of every transaction {scan:.0} ns"
        );
        per_call.push(poll);
    }
    println!(
        "poll_timeout 20,000 / 1,000 live = {:.2}",
        per_call[1] / per_call[0]
    );
}
