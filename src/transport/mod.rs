//! The tokio edge of SIP: UDP sockets, TCP and TLS connections and listeners.
//!
//! Everything above this module is sans-IO. The transport layer turns bytes on sockets into
//! parsed [`Message`](lockphone_sip::message::Message)s (with the [`ConnectionSecurity`] of the connection they really came on)
//! and sends serialized messages, reusing one connection per destination for requests and the
//! connection a request came on for its responses. Streams are framed by `Content-Length`
//! (`lockphone_sip::framer`), answer CRLF keep-alive pings and send their own (RFC 5626
//! §4.4.1). Malformed requests that can still be answered get a `400` naming the problem;
//! anything else is dropped and counted.

mod connection;
mod error;
mod layer;
mod received;

pub use error::TransportError;
pub use layer::{ConnectionId, ConnectionInfo, Incoming, Target, TransportEvent, TransportLayer};

use crate::tls::ConnectionSecurity;
