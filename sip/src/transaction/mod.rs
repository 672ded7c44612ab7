//! RFC 3261 §17 transactions, sans-IO, with the RFC 6026 handling of 2xx to INVITE.
//!
//! A [`TransactionLayer`] owns every client and server transaction of a user agent, matches
//! incoming messages to them (§17.1.3, §17.2.3), runs timers A–K (and L/M of RFC 6026), and
//! hands back messages to send ([`Transmit`]), events for the layer above
//! ([`TransactionEvent`]) and the next instant it wants to be called ([`TransactionLayer::poll_timeout`]).
//! It never reads the clock and never touches a socket: time is passed in, and the driver
//! serializes and sends what it gets from [`TransactionLayer::poll_transmit`].
//!
//! The layer is generic over `A`, the driver's notion of "where": the destination given with
//! a client request, and the source given with a received request; it comes back with every
//! [`Transmit`] so responses go where the request came from.
//!
//! Inside: one file per state machine (`invite_client`, `non_invite_client`, `invite_server`,
//! `non_invite_server`, each with its RFC figure), `timers` (T1/T2/T4 and the timers derived
//! from them), `matching` (the §17.1.3/§17.2.3 keys), `cancel` (building and answering
//! CANCEL), `event` (what comes out) and `layer` (ownership, dispatch, the poll interface).
//!
//! ```
//! use std::time::{Duration, Instant};
//! use lockphone_sip::message::{Message, Method, Transport};
//! use lockphone_sip::transaction::{TimerConfig, TransactionEvent, TransactionLayer};
//! # #[allow(clippy::disallowed_methods)] fn base() -> Instant { Instant::now() }
//!
//! let raw = b"OPTIONS sip:b@example.test SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1:5060\r\n\
//! From: <sip:a@example.test>;tag=1\r\nTo: <sip:b@example.test>\r\nCall-ID: c1\r\n\
//! CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
//! let Ok(Message::Request(request)) = Message::parse(raw) else { unreachable!() };
//! let mut layer: TransactionLayer<&str> = TransactionLayer::new(TimerConfig::default());
//! let mut rng = rand::rng();
//! let now = base();
//! let id = layer.send_request(now, request, Transport::Udp, "registrar", &mut rng).unwrap();
//! let first = layer.poll_transmit().unwrap();
//! assert_eq!((first.id, first.destination), (Some(id), "registrar"));
//! // No answer: timer E retransmits after T1 = 500 ms.
//! assert_eq!(layer.poll_timeout(), Some(now + Duration::from_millis(500)));
//! layer.handle_timeout(now + Duration::from_millis(500));
//! assert!(layer.poll_transmit().is_some());
//! ```

mod cancel;
mod client;
mod event;
mod invite_client;
mod invite_server;
mod layer;
mod matching;
mod non_invite_client;
mod non_invite_server;
mod server;
mod timers;

#[cfg(test)]
mod tests;

pub use event::{TransactionError, TransactionEvent, Transmit};
pub use layer::TransactionLayer;
pub use timers::TimerConfig;

/// Identifies one transaction within a [`TransactionLayer`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TransactionId(pub u64);

/// The RFC 3261 magic cookie that starts every branch we generate.
pub const BRANCH_MAGIC_COOKIE: &str = "z9hG4bK";

/// A fresh branch parameter: the magic cookie and 20 random characters.
pub fn new_branch(rng: &mut impl rand::RngCore) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut branch = String::from(BRANCH_MAGIC_COOKIE);
    for _ in 0..20 {
        let index = rng.random_range(0..ALPHABET.len());
        branch.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'x')));
    }
    branch
}

/// The `Via` a user agent puts on a request it builds: `transport`, `via_sent_by` (else the
/// host and port of `contact`), and a random placeholder branch that keeps the header
/// well-formed until [`TransactionLayer::send_request`] sets the real one.
pub(crate) fn placeholder_via(
    transport: crate::message::Transport,
    via_sent_by: Option<&str>,
    contact: &crate::message::Uri,
    rng: &mut impl rand::Rng,
) -> String {
    let sent_by = match via_sent_by {
        Some(sent_by) => sent_by.to_owned(),
        None => crate::message::hostport(&contact.host, contact.port),
    };
    let placeholder = crate::random::random_token(rng, 8);
    format!("SIP/2.0/{transport} {sent_by};branch={BRANCH_MAGIC_COOKIE}{placeholder}")
}
