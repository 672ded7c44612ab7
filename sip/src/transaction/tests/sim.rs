//! Two ends: a client layer and a server layer, each with a small TU, wired through a
//! simulated network (per-packet delay, so reordering; seeded loss and duplication), driven
//! by simulated time that always jumps to the next thing that happens. Hundreds of
//! exchanges, minutes of protocol time, milliseconds of real time.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::message::Method;
use crate::sim::{Network, clock};
use crate::transaction::new_branch;

const NON_INVITES: usize = 200;
const INVITES: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Side {
    Client,
    Server,
}

/// The final status the server's TU gives a request (by Call-ID): every fifth INVITE is busy.
fn planned_status(call_id: &str) -> u16 {
    match call_id.strip_prefix("inv-").map(str::parse::<usize>) {
        Some(Ok(n)) if n % 5 == 0 => 486,
        _ => 200,
    }
}

/// The client's TU: starts exchanges, records what comes back, ACKs every 2xx to INVITE.
#[derive(Default)]
struct ClientTu {
    /// Call-ID and method of each transaction started.
    started: BTreeMap<TransactionId, (String, Method)>,
    /// The first final status of each transaction.
    finals: HashMap<TransactionId, u16>,
    provisionals: usize,
    timeouts: Vec<TransactionId>,
    terminated: HashSet<TransactionId>,
    stray: usize,
    /// The ACK of each accepted INVITE (by Call-ID), re-sent for each 2xx retransmission.
    acks: HashMap<String, Request>,
    acks_sent: usize,
}

impl ClientTu {
    fn handle(
        &mut self,
        event: TransactionEvent<&'static str>,
        layer: &mut Layer,
        rng: &mut ChaCha8Rng,
    ) {
        match event {
            TransactionEvent::Response { id, response } => {
                assert!(
                    self.started.contains_key(&id),
                    "a response for a transaction we never started"
                );
                if response.status.is_provisional() {
                    self.provisionals += 1;
                    return;
                }
                let first = *self.finals.entry(id).or_insert(response.status.0);
                assert_eq!(
                    first, response.status.0,
                    "a second, different final for {id:?}"
                );
                let cseq = response.cseq().expect("responses carry the request's CSeq");
                if cseq.method == Method::Invite && response.status.is_success() {
                    self.ack(&response, layer, rng);
                }
            }
            TransactionEvent::Timeout { id } => self.timeouts.push(id),
            TransactionEvent::Terminated { id } => {
                assert!(self.terminated.insert(id), "terminated twice: {id:?}");
            }
            TransactionEvent::StrayResponse { response } => {
                self.stray += 1;
                // The dialog would still ACK a late 2xx.
                if response.status.is_success() {
                    self.ack(&response, layer, rng);
                }
            }
            other => panic!("unexpected event at the client: {}", describe(&other)),
        }
    }

    /// §13.2.2.4: the TU ACKs a 2xx itself, on a new branch, outside any transaction.
    fn ack(&mut self, response: &Response, layer: &mut Layer, rng: &mut ChaCha8Rng) {
        let call_id = response.call_id().expect("a Call-ID").to_owned();
        let ack = self.acks.entry(call_id).or_insert_with(|| {
            let mut ack = Request::new(Method::Ack, "sip:bob@example.test".parse().unwrap());
            ack.headers.push(
                HeaderName::Via,
                format!(
                    "SIP/2.0/UDP 192.0.2.1:5060;branch={};rport",
                    new_branch(rng)
                ),
            );
            ack.headers.push(HeaderName::MaxForwards, "70");
            for name in [HeaderName::From, HeaderName::To, HeaderName::CallId] {
                ack.headers
                    .push(name.clone(), response.headers.get(&name).unwrap());
            }
            let seq = response.cseq().unwrap().seq;
            ack.headers.push(HeaderName::CSeq, format!("{seq} ACK"));
            ack
        });
        self.acks_sent += 1;
        layer.send_stateless(Message::Request(ack.clone()), "server");
    }
}

/// A 2xx the server's TU retransmits until its ACK arrives (§13.3.1.4).
struct Pending2xx {
    id: TransactionId,
    response: Response,
    next: Instant,
    interval: Duration,
    give_up: Instant,
}

/// The server's TU: answers non-INVITEs 200 at once; INVITEs 180 at once and their final
/// (200, or 486 for every fifth) a second later; retransmits each 2xx until ACKed.
#[derive(Default)]
struct ServerTu {
    timers: TimerConfig,
    /// New server transactions per Call-ID: retransmissions must never show up here.
    requests: HashMap<String, usize>,
    /// Finals to send later: (when, order) → (transaction, response).
    finals: BTreeMap<(Instant, u64), (TransactionId, Response)>,
    next_order: u64,
    pending_2xx: BTreeMap<String, Pending2xx>,
    acked: HashSet<String>,
    gave_up: usize,
    ack_timeouts: usize,
    /// INVITE transactions whose non-2xx final was ACKed (through the transaction).
    acked_non_2xx: HashSet<TransactionId>,
}

impl ServerTu {
    fn handle(&mut self, now: Instant, event: TransactionEvent<&'static str>, layer: &mut Layer) {
        match event {
            TransactionEvent::Request {
                id: Some(id),
                request,
                source,
            } => {
                assert_eq!(source, "client");
                let call_id = request.call_id().unwrap().to_owned();
                *self.requests.entry(call_id.clone()).or_default() += 1;
                let status = planned_status(&call_id);
                let tag = format!("srv-{call_id}");
                if request.method == Method::Invite {
                    layer
                        .respond(now, id, response(&request, 180, Some(&tag)))
                        .unwrap();
                    self.next_order += 1;
                    self.finals.insert(
                        (now + secs(1), self.next_order),
                        (id, response(&request, status, Some(&tag))),
                    );
                } else {
                    layer
                        .respond(now, id, response(&request, status, Some(&tag)))
                        .unwrap();
                }
            }
            TransactionEvent::Request {
                id: None, request, ..
            } => {
                assert_eq!(
                    request.method,
                    Method::Ack,
                    "only the ACK to a 2xx has no transaction"
                );
                let call_id = request.call_id().unwrap().to_owned();
                assert_eq!(
                    planned_status(&call_id),
                    200,
                    "an ACK to a non-2xx escaped its transaction"
                );
                self.pending_2xx.remove(&call_id);
                self.acked.insert(call_id);
            }
            TransactionEvent::AckTimeout { .. } => self.ack_timeouts += 1,
            TransactionEvent::Acked { id } => {
                assert!(self.acked_non_2xx.insert(id), "{id:?} reported ACKed twice");
            }
            TransactionEvent::Terminated { .. } => {}
            other => panic!("unexpected event at the server: {}", describe(&other)),
        }
    }

    fn next_timer(&self) -> Option<Instant> {
        let finals = self.finals.keys().next().map(|(at, _)| *at);
        let retransmissions = self.pending_2xx.values().map(|p| p.next).min();
        finals.into_iter().chain(retransmissions).min()
    }

    fn handle_timeout(&mut self, now: Instant, layer: &mut Layer) {
        while let Some(entry) = self.finals.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let (id, response) = entry.remove();
            layer.respond(now, id, response.clone()).unwrap();
            if response.status.is_success() {
                let call_id = response.call_id().unwrap().to_owned();
                self.pending_2xx.insert(
                    call_id,
                    Pending2xx {
                        id,
                        response,
                        next: now + self.timers.t1,
                        interval: self.timers.t1,
                        give_up: now + self.timers.sixty_four_t1(),
                    },
                );
            }
        }
        let due: Vec<String> = self
            .pending_2xx
            .iter()
            .filter(|(_, p)| p.next <= now)
            .map(|(call_id, _)| call_id.clone())
            .collect();
        for call_id in due {
            let Some(pending) = self.pending_2xx.get_mut(&call_id) else {
                continue;
            };
            if now >= pending.give_up {
                self.pending_2xx.remove(&call_id);
                self.gave_up += 1;
                continue;
            }
            // Through the transaction, still in Accepted (timer L = the give-up time).
            layer
                .respond(now, pending.id, pending.response.clone())
                .unwrap();
            pending.interval = (pending.interval * 2).min(self.timers.t2);
            pending.next = now + pending.interval;
        }
    }
}

/// One exchange to start.
struct Plan {
    at: Duration,
    method: &'static str,
    call_id: String,
}

fn plans() -> VecDeque<Plan> {
    let non_invites = (0..NON_INVITES).map(|i| Plan {
        at: ms(100 * i as u64),
        method: if i % 2 == 0 { "OPTIONS" } else { "MESSAGE" },
        call_id: format!("nin-{i}"),
    });
    let invites = (0..INVITES).map(|i| Plan {
        at: ms(50 + 400 * i as u64),
        method: "INVITE",
        call_id: format!("inv-{i}"),
    });
    let mut plans: Vec<Plan> = non_invites.chain(invites).collect();
    plans.sort_by_key(|p| p.at);
    plans.into()
}

struct Sim {
    start: Instant,
    now: Instant,
    transport: Transport,
    client: Layer,
    server: Layer,
    client_tu: ClientTu,
    server_tu: ServerTu,
    net: Network<Side>,
    rng: ChaCha8Rng,
    plans: VecDeque<Plan>,
    /// Messages each side handed to the network, by kind ("INVITE", "ACK", "200", …).
    sent: BTreeMap<(Side, String), usize>,
    steps: usize,
}

impl Sim {
    /// A run over `transport`; the network loses and duplicates packets with these
    /// probabilities and delays each by a random number of milliseconds in `delay_ms`.
    fn new(
        seed: u64,
        transport: Transport,
        loss: f64,
        duplicate: f64,
        delay_ms: (u64, u64),
    ) -> Sim {
        let start = base();
        let net = Network::new(start, seed, loss, duplicate, delay_ms);
        Sim {
            start,
            now: start,
            transport,
            client: layer(),
            server: layer(),
            client_tu: ClientTu::default(),
            server_tu: ServerTu::default(),
            net,
            rng: ChaCha8Rng::seed_from_u64(seed.wrapping_add(1)),
            plans: plans(),
            sent: BTreeMap::new(),
            steps: 0,
        }
    }

    /// Runs until nothing is left to happen: no timer, no packet, no plan.
    fn run(&mut self) {
        loop {
            self.step();
            let next = [
                self.client.poll_timeout(),
                self.server.poll_timeout(),
                self.net.next_delivery(),
                self.server_tu.next_timer(),
                self.plans.front().map(|p| self.start + p.at),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next else { break };
            assert!(next >= self.now, "time went backwards");
            self.now = next;
            self.steps += 1;
            assert!(self.steps < 200_000, "the simulation does not settle");
        }
    }

    /// Everything due at `now`, then whatever it caused.
    fn step(&mut self) {
        let now = self.now;
        while let Some((side, bytes)) = self.net.pop_due(now) {
            let message = Message::parse(&bytes).expect("what a layer sends parses");
            match (side, message) {
                (Side::Server, Message::Request(request)) => {
                    self.server
                        .handle_request(now, request, self.transport, "client");
                }
                (Side::Client, Message::Response(response)) => {
                    self.client.handle_response(now, response);
                }
                (side, message) => panic!("{message:?} sent to the {side:?}"),
            }
            self.pump();
        }
        if self.client.poll_timeout().is_some_and(|at| at <= now) {
            self.client.handle_timeout(now);
        }
        if self.server.poll_timeout().is_some_and(|at| at <= now) {
            self.server.handle_timeout(now);
        }
        self.server_tu.handle_timeout(now, &mut self.server);
        while self.plans.front().is_some_and(|p| self.start + p.at <= now) {
            let Some(plan) = self.plans.pop_front() else {
                break;
            };
            let request = request(plan.method, &plan.call_id, 1, None);
            let id = self
                .client
                .send_request(now, request, self.transport, "server", &mut self.rng)
                .unwrap();
            let method = Method::from_token(plan.method).unwrap();
            self.client_tu.started.insert(id, (plan.call_id, method));
        }
        self.pump();
    }

    /// Moves messages to the network and events to the TUs until both layers are quiet.
    fn pump(&mut self) {
        loop {
            let mut progressed = false;
            for (side, layer, to, destination) in [
                (Side::Client, &mut self.client, Side::Server, "server"),
                (Side::Server, &mut self.server, Side::Client, "client"),
            ] {
                while let Some(transmit) = layer.poll_transmit() {
                    progressed = true;
                    assert_eq!(transmit.destination, destination);
                    let kind = match &transmit.message {
                        Message::Request(request) => request.method.to_string(),
                        Message::Response(response) => response.status.to_string(),
                    };
                    *self.sent.entry((side, kind)).or_default() += 1;
                    self.net.send(self.now, to, transmit.message.to_bytes());
                }
            }
            while let Some(event) = self.client.poll_event() {
                progressed = true;
                self.client_tu
                    .handle(event, &mut self.client, &mut self.rng);
            }
            while let Some(event) = self.server.poll_event() {
                progressed = true;
                self.server_tu.handle(self.now, event, &mut self.server);
            }
            if !progressed {
                break;
            }
        }
    }

    fn sent(&self, side: Side, kind: &str) -> usize {
        self.sent
            .get(&(side, kind.to_owned()))
            .copied()
            .unwrap_or_default()
    }

    /// What every run must show: each request got its planned final response exactly once
    /// as a new request at the server, and both layers ended empty.
    fn check_outcome(&self) {
        let tu = &self.client_tu;
        assert_eq!(tu.started.len(), NON_INVITES + INVITES);
        assert!(tu.timeouts.is_empty(), "timed out: {:?}", tu.timeouts);
        for (id, (call_id, method)) in &tu.started {
            let expected = planned_status(call_id);
            assert_eq!(
                tu.finals.get(id),
                Some(&expected),
                "{method} {call_id} ({id:?})"
            );
            assert!(tu.terminated.contains(id), "{call_id} never terminated");
        }
        assert_eq!(
            tu.stray, 0,
            "every response arrived while its transaction lived"
        );

        let server = &self.server_tu;
        assert_eq!(server.requests.len(), NON_INVITES + INVITES);
        for (call_id, count) in &server.requests {
            assert_eq!(*count, 1, "{call_id} reached the server TU {count} times");
        }
        let accepted = (0..INVITES).filter(|i| i % 5 != 0).count();
        assert_eq!(server.acked.len(), accepted, "every 2xx was ACKed");
        assert_eq!((server.gave_up, server.ack_timeouts), (0, 0));
        assert_eq!(
            server.acked_non_2xx.len(),
            INVITES - accepted,
            "every non-2xx was ACKed through its transaction"
        );

        assert_eq!((self.client.len(), self.server.len()), (0, 0));
        assert_eq!(self.client.poll_timeout(), None);
        assert_eq!(self.server.poll_timeout(), None);
        assert!(self.net.is_idle());
    }
}

fn lossy_udp(seed: u64) -> Sim {
    let mut sim = Sim::new(seed, Transport::Udp, 0.3, 0.05, (5, 200));
    sim.run();
    sim
}

#[test]
fn every_exchange_completes_over_udp_with_30_percent_loss() {
    let wall = clock();
    let sim = lossy_udp(2024);
    let elapsed = wall.elapsed();
    sim.check_outcome();

    // The network really was that bad, and the timers are what got the exchanges through.
    let (_, loss) = sim.net.sent_and_loss_rate();
    assert!((0.25..0.35).contains(&loss), "loss {loss}");
    let requests = ["OPTIONS", "MESSAGE", "INVITE"]
        .iter()
        .map(|m| sim.sent(Side::Client, m))
        .sum::<usize>();
    assert!(
        requests > (NON_INVITES + INVITES) * 5 / 4,
        "{requests} requests: retransmissions happened"
    );
    assert!(
        sim.sent(Side::Server, "486") > INVITES / 5,
        "timer G retransmitted"
    );
    assert!(
        sim.client_tu.acks_sent > sim.server_tu.acked.len(),
        "2xx retransmissions were ACKed again"
    );
    assert!(sim.client_tu.provisionals > 0);

    // The last exchange starts at ~20 s; everything has lingered out about 70 s later.
    let simulated = sim.now - sim.start;
    assert!(
        simulated > secs(50) && simulated < secs(90),
        "{simulated:?}"
    );
    assert!(
        elapsed < Duration::from_secs(1),
        "{simulated:?} of protocol took {elapsed:?}"
    );
}

#[test]
fn the_same_seed_gives_the_same_run() {
    let (a, b) = (lossy_udp(99), lossy_udp(99));
    a.check_outcome();
    assert_eq!(a.net.trace(), b.net.trace());
    assert_eq!((a.now - a.start, a.steps), (b.now - b.start, b.steps));
    let c = lossy_udp(100);
    assert_ne!(a.net.trace(), c.net.trace(), "the seed matters");
}

#[test]
fn over_tcp_every_message_is_sent_exactly_once() {
    let mut sim = Sim::new(5, Transport::Tcp, 0.0, 0.0, (20, 20));
    sim.run();
    sim.check_outcome();
    let busy = INVITES / 5;
    let expected = [
        ((Side::Client, "OPTIONS"), NON_INVITES / 2),
        ((Side::Client, "MESSAGE"), NON_INVITES / 2),
        ((Side::Client, "INVITE"), INVITES),
        // One ACK per final: by the TU for 2xx, by the transaction for 486.
        ((Side::Client, "ACK"), INVITES),
        ((Side::Server, "100"), INVITES),
        ((Side::Server, "180"), INVITES),
        ((Side::Server, "200"), NON_INVITES + INVITES - busy),
        ((Side::Server, "486"), busy),
    ];
    let expected: BTreeMap<(Side, String), usize> = expected
        .into_iter()
        .map(|((side, kind), n)| ((side, kind.to_owned()), n))
        .collect();
    assert_eq!(sim.sent, expected);
}
