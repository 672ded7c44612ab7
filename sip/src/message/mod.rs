//! The SIP message model: requests, responses, headers and typed header values.
//!
//! Lockphone parses SIP itself rather than on `rsip` 0.4: rsip cannot parse IPv6 references,
//! compact or folded headers, `SHA-256` digest names or Bearer credentials, ignores
//! `Content-Length` and corrupts binary bodies (see `ARCHITECTURE.md`, "Why not rsip").
//!
//! ```
//! use lockphone_sip::message::{Message, Method};
//!
//! let raw = b"OPTIONS sip:bob@[2001:db8::1]:5061 SIP/2.0\r\n\
//! v: SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bK776asdhds\r\n\
//! f: <sip:alice@example.test>;tag=1928301774\r\n\
//! t: <sip:bob@example.test>\r\n\
//! i: a84b4c76e66710\r\n\
//! CSeq: 63104 OPTIONS\r\n\
//! l: 0\r\n\r\n";
//! let Message::Request(req) = Message::parse(raw).unwrap() else { panic!("a request") };
//! assert_eq!(req.method, Method::Options);
//! assert_eq!(req.top_via().unwrap().branch(), Some("z9hG4bK776asdhds"));
//! ```

mod access;
mod bad_request;
mod display;
mod error;
mod headers;
mod lex;
mod method;
mod parse;
mod serialize;
mod typed;
mod typed_parse;
mod uri;
mod uri_parse;

pub use bad_request::bad_request_for;
pub(crate) use display::hostport;
pub use error::ParseError;
pub(crate) use error::snippet;
pub use headers::{Header, HeaderName, Headers};
pub(crate) use lex::{is_lws, is_token, read_quoted, split_top_level, write_quoted};
pub use method::Method;
pub(crate) use method::is_token_byte;
pub(crate) use parse::content_length_value;
pub use typed::{CSeq, NameAddr, Via};
pub use uri::{Host, Param, Scheme, Uri};

use std::fmt;

/// The largest message Lockphone accepts, in bytes (start line, headers and body).
pub const MAX_MESSAGE_SIZE: usize = 64 * 1024;

/// A SIP transport protocol, as named in `Via` and in the `transport` URI parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP datagrams (RFC 3261 retransmissions apply).
    Udp,
    /// A TCP byte stream.
    Tcp,
    /// TLS over TCP.
    Tls,
}

impl Transport {
    /// The name used in `Via` (`UDP`, `TCP`, `TLS`).
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
            Transport::Tls => "TLS",
        }
    }

    /// Whether the transport delivers reliably (no retransmission timers needed).
    pub fn is_reliable(self) -> bool {
        !matches!(self, Transport::Udp)
    }

    /// Parses a transport name, case-insensitively.
    pub fn from_name(name: &str) -> Option<Transport> {
        if name.eq_ignore_ascii_case("udp") {
            Some(Transport::Udp)
        } else if name.eq_ignore_ascii_case("tcp") {
            Some(Transport::Tcp)
        } else if name.eq_ignore_ascii_case("tls") {
            Some(Transport::Tls)
        } else {
            None
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SIP response status code (100–699).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StatusCode(pub u16);

impl StatusCode {
    /// 100 Trying.
    pub const TRYING: StatusCode = StatusCode(100);
    /// 180 Ringing.
    pub const RINGING: StatusCode = StatusCode(180);
    /// 200 OK.
    pub const OK: StatusCode = StatusCode(200);
    /// 400 Bad Request.
    pub const BAD_REQUEST: StatusCode = StatusCode(400);
    /// 401 Unauthorized.
    pub const UNAUTHORIZED: StatusCode = StatusCode(401);
    /// 407 Proxy Authentication Required.
    pub const PROXY_AUTH_REQUIRED: StatusCode = StatusCode(407);
    /// 423 Interval Too Brief.
    pub const INTERVAL_TOO_BRIEF: StatusCode = StatusCode(423);
    /// 481 Call/Transaction Does Not Exist.
    pub const NO_TRANSACTION: StatusCode = StatusCode(481);
    /// 486 Busy Here.
    pub const BUSY_HERE: StatusCode = StatusCode(486);
    /// 487 Request Terminated.
    pub const REQUEST_TERMINATED: StatusCode = StatusCode(487);
    /// 488 Not Acceptable Here.
    pub const NOT_ACCEPTABLE_HERE: StatusCode = StatusCode(488);
    /// 500 Server Internal Error.
    pub const SERVER_ERROR: StatusCode = StatusCode(500);
    /// 603 Decline.
    pub const DECLINE: StatusCode = StatusCode(603);

    /// 1xx.
    pub fn is_provisional(self) -> bool {
        self.0 < 200
    }
    /// 2xx.
    pub fn is_success(self) -> bool {
        (200..300).contains(&self.0)
    }
    /// 200–699.
    pub fn is_final(self) -> bool {
        self.0 >= 200
    }
    /// The usual reason phrase for this code ("" when unknown).
    pub fn default_reason(self) -> &'static str {
        match self.0 {
            100 => "Trying",
            180 => "Ringing",
            181 => "Call Is Being Forwarded",
            183 => "Session Progress",
            200 => "OK",
            202 => "Accepted",
            400 => "Bad Request",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            405 => "Method Not Allowed",
            407 => "Proxy Authentication Required",
            408 => "Request Timeout",
            413 => "Request Entity Too Large",
            415 => "Unsupported Media Type",
            416 => "Unsupported URI Scheme",
            420 => "Bad Extension",
            423 => "Interval Too Brief",
            480 => "Temporarily Unavailable",
            481 => "Call/Transaction Does Not Exist",
            482 => "Loop Detected",
            483 => "Too Many Hops",
            486 => "Busy Here",
            487 => "Request Terminated",
            488 => "Not Acceptable Here",
            491 => "Request Pending",
            500 => "Server Internal Error",
            501 => "Not Implemented",
            503 => "Service Unavailable",
            504 => "Server Time-out",
            603 => "Decline",
            606 => "Not Acceptable",
            _ => "",
        }
    }
}

impl fmt::Display for StatusCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A SIP request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method (`INVITE`, `REGISTER`, …).
    pub method: Method,
    /// The Request-URI.
    pub uri: Uri,
    /// Header fields in wire order.
    pub headers: Headers,
    /// The body, byte for byte (may be binary).
    pub body: Vec<u8>,
}

/// A SIP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: StatusCode,
    /// The reason phrase.
    pub reason: String,
    /// Header fields in wire order.
    pub headers: Headers,
    /// The body, byte for byte (may be binary).
    pub body: Vec<u8>,
}

/// A SIP request or response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// A request.
    Request(Request),
    /// A response.
    Response(Response),
}
