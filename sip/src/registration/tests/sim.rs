//! A registration kept alive for two simulated hours through two transaction layers and a
//! lossy, reordering UDP network, against a registrar that challenges with Digest, rotates its
//! nonce (answering the old one `stale=true`), grants less than asked, and now and then answers
//! 503 with `Retry-After`. Milliseconds of real time.

use std::collections::HashSet;

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::*;
use crate::message::{Message, Method};
use crate::sim::{Network, clock};
use crate::transaction::{TimerConfig, TransactionEvent, TransactionId, TransactionLayer};

const GRANTED: u64 = 300;
const NONCE_LIFETIME: Duration = Duration::from_secs(900);
/// Every this many authorized REGISTERs while bound, the registrar answers 503 instead.
const BUSY_EVERY: usize = 7;
const RETRY_AFTER: u64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Side {
    Phone,
    Registrar,
}

type Layer = TransactionLayer<Side>;

/// The registrar's TU: what it answers, and what it saw.
#[derive(Default)]
struct Registrar {
    nonce: u32,
    nonce_since: Option<Instant>,
    call_ids: HashSet<String>,
    from_tags: HashSet<String>,
    last_cseq: u32,
    authorized: usize,
    stale_challenges: usize,
    busy: usize,
    /// When our binding runs out, while it exists.
    bound_until: Option<Instant>,
    /// Times a REGISTER arrived after the binding had run out (once it existed).
    lapses: usize,
    registrations: usize,
    removed: bool,
}

impl Registrar {
    fn answer(&mut self, now: Instant, request: &Request) -> Response {
        assert_eq!(request.method, Method::Register);
        self.call_ids
            .insert(request.headers.call_id().unwrap().to_owned());
        self.from_tags.insert(
            request
                .headers
                .from_header()
                .unwrap()
                .tag()
                .unwrap()
                .to_owned(),
        );
        let cseq = request.headers.cseq().unwrap().seq;
        assert!(
            cseq > self.last_cseq,
            "CSeq {cseq} after {}: each REGISTER is new",
            self.last_cseq
        );
        self.last_cseq = cseq;
        if self.bound_until.is_some_and(|until| until < now) {
            self.lapses += 1;
            self.bound_until = None;
        }

        let since = *self.nonce_since.get_or_insert(now);
        if now - since >= NONCE_LIFETIME {
            self.nonce += 1;
            self.nonce_since = Some(now);
        }
        let current = format!("nonce-{}", self.nonce);
        let sent = request
            .headers
            .get(&HeaderName::Authorization)
            .and_then(|auth| auth.split("nonce=\"").nth(1))
            .and_then(|rest| rest.split('"').next())
            .map(str::to_owned);
        match sent {
            Some(nonce) if nonce == current => {}
            stale => {
                let stale = stale.is_some();
                self.stale_challenges += usize::from(stale);
                let mut response = tagged(request, StatusCode::UNAUTHORIZED);
                let stale = if stale { ", stale=true" } else { "" };
                response.headers.push(
                    HeaderName::WwwAuthenticate,
                    format!(
                        "Digest realm=\"example.test\", nonce=\"{current}\", qop=\"auth\", algorithm=MD5{stale}"
                    ),
                );
                return response;
            }
        }
        self.authorized += 1;
        let removal = request.headers.expires() == Some(0);
        if self.bound_until.is_some() && !removal && self.authorized.is_multiple_of(BUSY_EVERY) {
            self.busy += 1;
            let mut response = tagged(request, StatusCode(503));
            response
                .headers
                .push(HeaderName::RetryAfter, RETRY_AFTER.to_string());
            return response;
        }
        let contact = request.headers.contacts().unwrap().remove(0);
        let mut response = tagged(request, StatusCode::OK);
        if removal {
            self.bound_until = None;
            self.removed = true;
            return response;
        }
        self.registrations += 1;
        self.bound_until = Some(now + Duration::from_secs(GRANTED));
        response.headers.push(
            HeaderName::Contact,
            format!("<{}>;expires={GRANTED}", contact.uri),
        );
        response
    }
}

fn tagged(request: &Request, status: StatusCode) -> Response {
    let mut response = Response::for_request(request, status, None);
    let to = response.headers.get(&HeaderName::To).unwrap().to_owned();
    response
        .headers
        .set(HeaderName::To, format!("{to};tag=registrar"));
    response
}

struct Sim {
    start: Instant,
    now: Instant,
    registration: Registration,
    phone: Layer,
    server: Layer,
    registrar: Registrar,
    net: Network<Side>,
    rng: ChaCha8Rng,
    /// The phone's live REGISTER transactions.
    registers: HashSet<TransactionId>,
    events: Vec<(Duration, RegistrationEvent)>,
}

impl Sim {
    fn new(seed: u64) -> Sim {
        let start = base();
        let mut config = RegistrationConfig::new(
            "sip:example.test".parse().unwrap(),
            "sip:alice@example.test".parse().unwrap(),
            "sip:alice@192.0.2.10:5060".parse().unwrap(),
            Transport::Udp,
        );
        config.expires = 3600;
        Sim {
            start,
            now: start,
            registration: Registration::new(
                config,
                Authenticator::new(digest()),
                StdRng::seed_from_u64(seed),
            ),
            phone: TransactionLayer::new(TimerConfig::default()),
            server: TransactionLayer::new(TimerConfig::default()),
            registrar: Registrar::default(),
            net: Network::new(start, seed, 0.2, 0.05, (5, 150)),
            rng: ChaCha8Rng::seed_from_u64(seed),
            registers: HashSet::new(),
            events: Vec::new(),
        }
    }

    /// Runs until `until` after the start, or until nothing is left to happen.
    fn run_until(&mut self, until: Duration) {
        let end = self.start + until;
        loop {
            self.step();
            let next = [
                self.phone.poll_timeout(),
                self.server.poll_timeout(),
                self.registration.poll_timeout(),
                self.net.next_delivery(),
            ]
            .into_iter()
            .flatten()
            .min();
            match next {
                Some(next) if next <= end => {
                    assert!(next >= self.now, "time went backwards");
                    self.now = next;
                }
                _ => break,
            }
        }
    }

    fn step(&mut self) {
        let now = self.now;
        while let Some((side, bytes)) = self.net.pop_due(now) {
            match (
                side,
                Message::parse(&bytes).expect("what a layer sends parses"),
            ) {
                (Side::Registrar, Message::Request(request)) => {
                    self.server
                        .handle_request(now, request, Transport::Udp, Side::Phone);
                }
                (Side::Phone, Message::Response(response)) => {
                    self.phone.handle_response(now, response);
                }
                (side, message) => panic!("{message:?} sent to the {side:?}"),
            }
            self.pump();
        }
        for layer in [&mut self.phone, &mut self.server] {
            if layer.poll_timeout().is_some_and(|at| at <= now) {
                layer.handle_timeout(now);
            }
        }
        if self.registration.poll_timeout().is_some_and(|at| at <= now) {
            self.registration.handle_timeout(now);
        }
        self.pump();
    }

    /// The driver's loop: moves requests, messages and events until everything is quiet.
    fn pump(&mut self) {
        let now = self.now;
        loop {
            let mut progressed = false;
            while let Some(request) = self.registration.poll_request() {
                progressed = true;
                let id = self
                    .phone
                    .send_request(now, request, Transport::Udp, Side::Registrar, &mut self.rng)
                    .unwrap();
                self.registers.insert(id);
            }
            for layer in [&mut self.phone, &mut self.server] {
                while let Some(transmit) = layer.poll_transmit() {
                    progressed = true;
                    self.net
                        .send(now, transmit.destination, transmit.message.to_bytes());
                }
            }
            while let Some(event) = self.phone.poll_event() {
                progressed = true;
                match event {
                    TransactionEvent::Response { id, response } => {
                        assert!(self.registers.contains(&id));
                        self.registration.handle_response(now, &response);
                    }
                    TransactionEvent::Timeout { id } => {
                        assert!(self.registers.remove(&id));
                        self.registration.transaction_failed(now);
                    }
                    TransactionEvent::Terminated { id } => {
                        self.registers.remove(&id);
                    }
                    other => panic!("unexpected at the phone: {other:?}"),
                }
            }
            while let Some(event) = self.server.poll_event() {
                progressed = true;
                match event {
                    TransactionEvent::Request {
                        id: Some(id),
                        request,
                        ..
                    } => {
                        let response = self.registrar.answer(now, &request);
                        self.server.respond(now, id, response).unwrap();
                    }
                    TransactionEvent::Terminated { .. } => {}
                    other => panic!("unexpected at the registrar: {other:?}"),
                }
            }
            while let Some(event) = self.registration.poll_event() {
                progressed = true;
                self.events.push((now - self.start, event));
            }
            if !progressed {
                break;
            }
        }
    }

    fn count(&self, matches: impl Fn(&RegistrationEvent) -> bool) -> usize {
        self.events.iter().filter(|(_, e)| matches(e)).count()
    }
}

#[test]
fn a_registration_stays_bound_for_hours_over_a_lossy_network() {
    let wall = clock();
    let mut sim = Sim::new(11);
    sim.registration.register(sim.now);
    sim.run_until(Duration::from_secs(2 * 3600));

    let failures: Vec<_> = sim
        .events
        .iter()
        .filter(|(_, e)| matches!(e, RegistrationEvent::Failed(_) | RegistrationEvent::Expired))
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert!(sim.registration.is_registered());
    let registrar = &sim.registrar;
    // 300 s granted (not the 3600 asked), refreshed every 240 s: about 30 times in 2 h.
    let registered = sim.count(|e| {
        matches!(e, RegistrationEvent::Registered { expires, .. } if *expires == Duration::from_secs(GRANTED))
    });
    assert!(
        (28..=32).contains(&registered),
        "{registered} registrations"
    );
    assert_eq!(registered, registrar.registrations);
    assert_eq!(registrar.lapses, 0, "the binding never ran out");
    assert_eq!(registrar.call_ids.len(), 1, "one Call-ID");
    assert_eq!(registrar.from_tags.len(), 1, "one From tag");
    // The script's corners were really taken, and each was handled without giving up.
    assert!(
        registrar.stale_challenges >= 7,
        "{}",
        registrar.stale_challenges
    );
    assert!(registrar.busy >= 3, "{}", registrar.busy);
    assert_eq!(
        sim.count(|e| matches!(e, RegistrationEvent::Retrying { after, .. } if *after == Duration::from_secs(RETRY_AFTER))),
        registrar.busy
    );
    let (sent, loss) = sim.net.sent_and_loss_rate();
    assert!(
        sent > 100 && (0.15..0.3).contains(&loss),
        "{sent} sent, {loss} lost"
    );

    // Un-REGISTER, and everything settles.
    sim.registration.unregister(sim.now);
    sim.run_until(Duration::from_secs(3 * 3600));
    assert!(
        matches!(
            sim.events.last(),
            Some((_, RegistrationEvent::Unregistered))
        ),
        "{:?}",
        &sim.events[sim.events.len().saturating_sub(3)..]
    );
    assert!(sim.registrar.removed && sim.registrar.bound_until.is_none());
    assert_eq!(sim.registration.poll_timeout(), None);
    assert!(sim.phone.is_empty() && sim.server.is_empty() && sim.net.is_idle());
    assert!(
        wall.elapsed() < Duration::from_secs(2),
        "took {:?}",
        wall.elapsed()
    );
}
