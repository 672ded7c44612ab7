//! Transaction layer tests, all in simulated time: one base instant, advanced with durations.
//!
//! - `client_timers`: timers A, B, D, E, F, K and M on client transactions;
//! - `server_timers`: 100 Trying and timers G, H, I, J and L on server transactions;
//! - `matching`: §17.1.3 / §17.2.3 matching, ACK and CANCEL, the API's errors, and input
//!   that must not panic;
//! - `sim`: a client and a server layer wired through a lossy, reordering network;
//! - `deadlines`: the deadline index behind `poll_timeout` against a scan of every transaction.

mod client_timers;
mod deadlines;
mod matching;
mod server_timers;
mod sim;

use std::time::{Duration, Instant};

use super::{
    TimerConfig, TransactionError, TransactionEvent, TransactionId, TransactionLayer, Transmit,
};
use crate::message::{HeaderName, Message, Request, Response, StatusCode, Transport};

/// The one clock reading of a test; everything else is `base() + duration`.
fn base() -> Instant {
    crate::sim::clock()
}

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

fn secs(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

/// Layers address peers by name in these tests.
type Layer = TransactionLayer<&'static str>;

fn layer() -> Layer {
    TransactionLayer::new(TimerConfig::default())
}

fn rng() -> rand_chacha::ChaCha8Rng {
    rand::SeedableRng::seed_from_u64(7)
}

/// A request as a UA at 192.0.2.1 would build it, with two `Route`s. `branch` is the top `Via`
/// branch (`None` leaves it out: `send_request` adds one).
fn request(method: &str, call_id: &str, seq: u32, branch: Option<&str>) -> Request {
    request_from("192.0.2.1:5060", method, call_id, seq, branch)
}

/// [`request`] with another `Via` sent-by.
fn request_from(
    sent_by: &str,
    method: &str,
    call_id: &str,
    seq: u32,
    branch: Option<&str>,
) -> Request {
    let branch = branch.map(|b| format!(";branch={b}")).unwrap_or_default();
    let raw = format!(
        "{method} sip:bob@example.test SIP/2.0\r\n\
         Via: SIP/2.0/UDP {sent_by}{branch}\r\n\
         Max-Forwards: 70\r\n\
         Route: <sip:p1.example.test;lr>\r\n\
         Route: <sip:p2.example.test;lr>\r\n\
         From: \"Alice\" <sip:alice@example.test>;tag=alice-tag\r\n\
         To: <sip:bob@example.test>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {seq} {method}\r\n\
         Contact: <sip:alice@192.0.2.1:5060>\r\n\
         Content-Length: 0\r\n\r\n"
    );
    match Message::parse(raw.as_bytes()) {
        Ok(Message::Request(request)) => request,
        other => panic!("test request does not parse: {other:?}"),
    }
}

/// The response to `request`, with `to_tag` added to `To` (as every response but 100 needs).
fn response(request: &Request, status: u16, to_tag: Option<&str>) -> Response {
    let mut response = Response::for_request(request, StatusCode(status), None);
    if let Some(tag) = to_tag {
        let to = response.headers.get(&HeaderName::To).unwrap_or_default();
        let to = format!("{to};tag={tag}");
        response.headers.set(HeaderName::To, to);
    }
    response
}

/// Everything queued for sending.
fn transmits(layer: &mut Layer) -> Vec<Transmit<&'static str>> {
    std::iter::from_fn(|| layer.poll_transmit()).collect()
}

/// Every queued event, described (see [`describe`]).
fn events(layer: &mut Layer) -> Vec<String> {
    std::iter::from_fn(|| layer.poll_event())
        .map(|e| describe(&e))
        .collect()
}

/// A one-line description of an event, to compare whole sequences at once.
fn describe<A>(event: &TransactionEvent<A>) -> String {
    match event {
        TransactionEvent::Response { id, response } => {
            format!("response {} {}", id.0, response.status)
        }
        TransactionEvent::Request {
            id: Some(id),
            request,
            ..
        } => format!("request {} {}", id.0, request.method),
        TransactionEvent::Request {
            id: None, request, ..
        } => format!("request - {}", request.method),
        TransactionEvent::Cancelled { invite } => format!("cancelled {}", invite.0),
        TransactionEvent::Acked { id } => format!("acked {}", id.0),
        TransactionEvent::Timeout { id } => format!("timeout {}", id.0),
        TransactionEvent::TransportError { id } => format!("transport error {}", id.0),
        TransactionEvent::AckTimeout { id } => format!("ack timeout {}", id.0),
        TransactionEvent::StrayResponse { response } => format!("stray {}", response.status),
        TransactionEvent::Terminated { id } => format!("terminated {}", id.0),
    }
}

fn sent_request<A>(transmit: &Transmit<A>) -> &Request {
    match &transmit.message {
        Message::Request(request) => request,
        Message::Response(response) => panic!("expected a request, got {}", response.status),
    }
}

fn sent_response<A>(transmit: &Transmit<A>) -> &Response {
    match &transmit.message {
        Message::Response(response) => response,
        Message::Request(request) => panic!("expected a response, got {}", request.method),
    }
}

/// What one `handle_timeout` call produced.
struct Fired {
    /// When, relative to the start of the run.
    after: Duration,
    transmits: Vec<Transmit<&'static str>>,
    events: Vec<String>,
}

/// Calls `handle_timeout` at every instant `poll_timeout` asks for, up to `start + until`,
/// and records what each call produced. Panics if time stands still or runs backwards.
fn run_timers(layer: &mut Layer, start: Instant, until: Duration) -> Vec<Fired> {
    let mut fired = Vec::new();
    let mut last = None;
    while let Some(at) = layer.poll_timeout() {
        if at > start + until {
            break;
        }
        assert!(at >= start, "a timer in the past: {:?}", start - at);
        assert!(
            last.is_none_or(|last| at > last),
            "poll_timeout did not advance after handle_timeout"
        );
        last = Some(at);
        layer.handle_timeout(at);
        fired.push(Fired {
            after: at - start,
            transmits: transmits(layer),
            events: events(layer),
        });
    }
    fired
}

/// When each transmission of a run happened (one entry per message).
fn transmit_times(fired: &[Fired]) -> Vec<Duration> {
    fired
        .iter()
        .flat_map(|f| f.transmits.iter().map(|_| f.after))
        .collect()
}

/// The events of a run, each with when it happened.
fn timed_events(fired: &[Fired]) -> Vec<(Duration, String)> {
    fired
        .iter()
        .flat_map(|f| f.events.iter().map(|e| (f.after, e.clone())))
        .collect()
}

/// Durations from a list of milliseconds.
fn millis(list: &[u64]) -> Vec<Duration> {
    list.iter().copied().map(ms).collect()
}

/// Starts a client transaction for `method` over `transport` to "proxy"; returns the layer,
/// the start instant, the id and the request as first sent.
fn start_client(transport: Transport, method: &str) -> (Layer, Instant, TransactionId, Request) {
    let mut layer = layer();
    let start = base();
    let id = layer
        .send_request(
            start,
            request(method, "call-1", 1, None),
            transport,
            "proxy",
            &mut rng(),
        )
        .expect("a well-formed request starts a transaction");
    let sent = transmits(&mut layer);
    assert_eq!(sent.len(), 1, "the request goes out at once");
    assert_eq!((sent[0].id, sent[0].destination), (Some(id), "proxy"));
    assert!(events(&mut layer).is_empty());
    let request = sent_request(&sent[0]).clone();
    (layer, start, id, request)
}
