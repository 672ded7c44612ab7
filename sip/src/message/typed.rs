//! Typed views of the header values the protocol logic needs: `Via`, name-addr (`From`, `To`,
//! `Contact`, `Route`) and `CSeq`. Parsing lives in `typed_parse.rs`, printing in `display.rs`.

use super::uri::{Host, Param, Uri, find_param};
use super::{Method, Transport};

/// One `Via` value: `SIP/2.0/TLS host:port;branch=…;rport`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Via {
    /// The transport in the sent-protocol.
    pub transport: Transport,
    /// The sent-by host.
    pub host: Host,
    /// The sent-by port, when written.
    pub port: Option<u16>,
    /// Parameters (`branch`, `received`, `rport`, …).
    pub params: Vec<Param>,
}

impl Via {
    /// The `branch` parameter.
    pub fn branch(&self) -> Option<&str> {
        find_param(&self.params, "branch").flatten()
    }

    /// The `received` parameter.
    pub fn received(&self) -> Option<&str> {
        find_param(&self.params, "received").flatten()
    }

    /// `rport`: `None` if absent, `Some(None)` if present without a value (a request asking for
    /// it), `Some(Some(port))` once filled in by the server (RFC 3581).
    pub fn rport(&self) -> Option<Option<u16>> {
        find_param(&self.params, "rport").map(|v| v.and_then(|p| p.parse().ok()))
    }
}

/// A name-addr or addr-spec with header parameters: `"Alice" <sip:alice@example.test>;tag=1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name without quotes, if any.
    pub display_name: Option<String>,
    /// The URI.
    pub uri: Uri,
    /// Header parameters after the URI (`tag`, `expires`, `+sip.instance`, …).
    pub params: Vec<Param>,
}

impl NameAddr {
    /// A name-addr around `uri` with no display name or parameters.
    pub fn new(uri: Uri) -> NameAddr {
        NameAddr {
            display_name: None,
            uri,
            params: Vec::new(),
        }
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&str> {
        find_param(&self.params, "tag").flatten()
    }

    /// A header parameter by name.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }
}

/// A `CSeq` value: sequence number and method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CSeq {
    /// The sequence number (< 2^31).
    pub seq: u32,
    /// The method.
    pub method: Method,
}
