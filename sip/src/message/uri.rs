//! SIP and SIPS URIs (RFC 3261 §19.1), with IPv6 references.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A URI scheme Lockphone routes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    /// `sip:`
    Sip,
    /// `sips:` (TLS on every hop, RFC 5630).
    Sips,
}

impl Scheme {
    /// `sip` or `sips`.
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Sip => "sip",
            Scheme::Sips => "sips",
        }
    }
}

/// The host part of a URI or `Via` sent-by.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Host {
    /// A domain name, as written (compare case-insensitively).
    Domain(String),
    /// An IPv4 address.
    Ipv4(Ipv4Addr),
    /// An IPv6 address (written `[2001:db8::1]`).
    Ipv6(Ipv6Addr),
}

/// A `;name[=value]` parameter of a URI or header value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// The parameter name, as written.
    pub name: String,
    /// The value, if any (quotes kept for quoted strings).
    pub value: Option<String>,
}

impl Param {
    /// A parameter with a value.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Param {
        Param {
            name: name.into(),
            value: Some(value.into()),
        }
    }

    /// A parameter without a value (`;lr`).
    pub fn flag(name: impl Into<String>) -> Param {
        Param {
            name: name.into(),
            value: None,
        }
    }
}

/// Looks up a parameter by name (case-insensitive); `Some(None)` for a flag parameter.
pub(crate) fn find_param<'a>(params: &'a [Param], name: &str) -> Option<Option<&'a str>> {
    params
        .iter()
        .find(|p| p.name.eq_ignore_ascii_case(name))
        .map(|p| p.value.as_deref())
}

/// A `sip:` or `sips:` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uri {
    /// The scheme.
    pub scheme: Scheme,
    /// The user part, still percent-encoded as on the wire.
    pub user: Option<String>,
    /// The password part (deprecated by RFC 3261 but parsed).
    pub password: Option<String>,
    /// The host.
    pub host: Host,
    /// The port, when written.
    pub port: Option<u16>,
    /// URI parameters (`;transport=tls;lr`).
    pub params: Vec<Param>,
    /// URI headers (`?subject=x`), name and value as written.
    pub headers: Vec<(String, String)>,
}

impl Uri {
    /// A URI with no user, port, parameters or headers.
    pub fn new(scheme: Scheme, host: Host) -> Uri {
        Uri {
            scheme,
            user: None,
            password: None,
            host,
            port: None,
            params: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// A URI parameter by name: `Some(None)` for a flag such as `lr`.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        find_param(&self.params, name)
    }

    /// The `transport` parameter, if present and known.
    pub fn transport_param(&self) -> Option<super::Transport> {
        self.param("transport")
            .flatten()
            .and_then(super::Transport::from_name)
    }
}
