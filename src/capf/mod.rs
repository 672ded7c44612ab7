//! CAPF enrollment: obtaining and renewing a Locally Significant Certificate (LSC) from a
//! Cisco Certificate Authority Proxy Function, and a CAPF server for tests and labs.
//!
//! Written from `shared/reference/capf.md`: TLS on TCP 3804 (§1), the 8-byte header and
//! tag/length/value elements ([`wire`], §2), the commands, tags and reasons ([`message`],
//! §3–4), and the flows ([`client`], §5). The client is sans-IO; [`driver`] runs it on a
//! tokio-rustls connection that verifies the server by pinning its certificate or its issuer
//! ([`pin`]); [`keys`] makes the device key; [`store`] keeps the LSC and its key (0600) in the
//! account's certificate store, where the account's TLS setup finds it.
//!
//! Where the reference is uncertain, [`client::ClientOptions`] makes the point configurable
//! with the recommended default: VERSION echoes the server's, RSA certificate-mode signatures
//! carry no DigestInfo, the null string omits PASSWORD, one REQUEST_IN_PROGRESS is sent.

pub mod check;
pub mod client;
pub mod driver;
pub mod keys;
pub mod message;
pub mod pin;
pub mod server;
pub mod store;
pub mod wire;

/// The CAPF port of CUCM and capfd.
pub const DEFAULT_PORT: u16 = 3804;
