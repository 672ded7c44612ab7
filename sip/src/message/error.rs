//! [`ParseError`]: why bytes or a header value are not a usable SIP message, worded so that the
//! text can go back to the sender as a `400` reason phrase.

use super::StatusCode;

/// Why a SIP message or header value could not be parsed.
///
/// Messages name the problem precisely ("Via: unknown transport `SCTPX`", "Content-Length 120
/// but only 40 body bytes"). Any text quoted from the input is cut to a few dozen characters
/// and stripped of control characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The message is larger than [`MAX_MESSAGE_SIZE`](super::MAX_MESSAGE_SIZE).
    #[error("message larger than {max} bytes ({size} bytes)")]
    TooLarge {
        /// The size of the input.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// Nothing but line breaks.
    #[error("empty message")]
    Empty,
    /// The header section does not end with an empty line.
    #[error("headers not terminated by an empty line")]
    UnterminatedHeaders,
    /// The start line or a header line is not UTF-8.
    #[error("line {line} is not valid UTF-8")]
    NotUtf8 {
        /// The 1-based line number.
        line: usize,
    },
    /// A control character (other than tab) inside a line, including a CR not followed by LF.
    #[error("control character 0x{byte:02x} in line {line}")]
    ControlCharacter {
        /// The 1-based line number.
        line: usize,
        /// The offending byte.
        byte: u8,
    },
    /// The request or status line is malformed.
    #[error("bad start line `{line}`: {reason}")]
    StartLine {
        /// The start line (shortened).
        line: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The SIP version is not `SIP/2.0`.
    #[error("unsupported SIP version `{0}`")]
    Version(String),
    /// A header line without a `:`.
    #[error("header line {line} has no colon")]
    MissingColon {
        /// The 1-based line number.
        line: usize,
    },
    /// A header name that is not an RFC 3261 token.
    #[error("invalid header name `{0}`")]
    HeaderName(String),
    /// A continuation line (starting with a space or tab) before any header.
    #[error("continuation line before the first header")]
    LeadingContinuation,
    /// A mandatory header is absent.
    #[error("missing {0} header")]
    MissingHeader(&'static str),
    /// `Content-Length` is not a decimal number.
    #[error("Content-Length `{0}` is not a number")]
    ContentLength(String),
    /// Two `Content-Length` headers disagree.
    #[error("conflicting Content-Length values {first} and {second}")]
    ConflictingContentLength {
        /// The first value.
        first: usize,
        /// The value that disagrees with it.
        second: usize,
    },
    /// Fewer body bytes than `Content-Length` announces.
    #[error("Content-Length {declared} but only {available} body bytes")]
    BodyTooShort {
        /// The `Content-Length` value.
        declared: usize,
        /// The bytes present after the header section.
        available: usize,
    },
    /// A URI whose scheme is neither `sip` nor `sips` (a UAS answers `416` when this is the
    /// Request-URI).
    #[error("unsupported URI scheme `{0}`")]
    UnsupportedScheme(String),
    /// A malformed `sip:`/`sips:` URI.
    #[error("URI `{uri}`: {reason}")]
    Uri {
        /// The URI (shortened).
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A malformed header value.
    #[error("{header}: {reason}")]
    Header {
        /// The header (`Via`, `From`, …).
        header: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The `CSeq` method differs from the request method.
    #[error("CSeq method {cseq} does not match request method {request}")]
    CSeqMethodMismatch {
        /// The method in `CSeq`.
        cseq: String,
        /// The method on the request line.
        request: String,
    },
}

/// The longest reason phrase [`ParseError::bad_request_reason`] returns.
const MAX_REASON_LEN: usize = 120;

impl ParseError {
    /// A short reason phrase naming the problem, for the `400` sent back: printable ASCII only,
    /// capitalised, at most 120 characters.
    pub fn bad_request_reason(&self) -> String {
        let text = self.to_string();
        let mut reason = String::with_capacity(text.len().min(MAX_REASON_LEN));
        for (i, c) in text.chars().enumerate() {
            if i == MAX_REASON_LEN {
                break;
            }
            let c = if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            };
            reason.push(if i == 0 { c.to_ascii_uppercase() } else { c });
        }
        reason
    }

    /// The status code a UAS answers a request with when it fails this way: `416 Unsupported
    /// URI Scheme` for a Request-URI that is not `sip`/`sips`, `513 Message Too Large` for an
    /// oversized message, `400 Bad Request` otherwise.
    pub fn status_code(&self) -> StatusCode {
        match self {
            ParseError::UnsupportedScheme(_) => StatusCode(416),
            ParseError::TooLarge { .. } => StatusCode(513),
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The error as found inside the header `header`: a header error is relabelled, any other
    /// error (a bad URI, say) becomes the reason of a [`ParseError::Header`].
    pub(crate) fn in_header(self, header: &'static str) -> ParseError {
        match self {
            ParseError::Header { reason, .. } => ParseError::Header { header, reason },
            ParseError::MissingHeader(_) => ParseError::MissingHeader(header),
            other => ParseError::Header {
                header,
                reason: other.to_string(),
            },
        }
    }
}

/// The longest piece of input quoted in an error message, in characters.
const MAX_SNIPPET_CHARS: usize = 40;

/// `text` cut to a few dozen characters with control characters replaced, to quote in errors.
pub(crate) fn snippet(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_SNIPPET_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().nth(MAX_SNIPPET_CHARS).is_some() {
        out.push_str("...");
    }
    out
}

/// A [`ParseError::Header`] for `header` with `reason`.
pub(crate) fn header_error(header: &'static str, reason: impl Into<String>) -> ParseError {
    ParseError::Header {
        header,
        reason: reason.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reason_is_short_printable_and_capitalised() {
        let err = ParseError::Header {
            header: "via",
            reason: "x\u{7}y".repeat(100),
        };
        let reason = err.bad_request_reason();
        assert!(reason.starts_with("Via: x?y"));
        assert_eq!(reason.len(), MAX_REASON_LEN);
        assert!(reason.bytes().all(|b| b == b' ' || b.is_ascii_graphic()));
    }

    #[test]
    fn snippet_cuts_and_cleans() {
        assert_eq!(snippet("a\r\nb"), "a??b");
        let long = "x".repeat(100);
        assert_eq!(
            snippet(&long),
            format!("{}...", "x".repeat(MAX_SNIPPET_CHARS))
        );
    }

    #[test]
    fn status_codes() {
        assert_eq!(
            ParseError::UnsupportedScheme("tel".into()).status_code(),
            StatusCode(416)
        );
        assert_eq!(ParseError::Empty.status_code(), StatusCode::BAD_REQUEST);
    }

    #[test]
    fn in_header_relabels() {
        let err = ParseError::Uri {
            uri: "sip:".into(),
            reason: "empty host".into(),
        };
        assert_eq!(
            err.in_header("From").to_string(),
            "From: URI `sip:`: empty host"
        );
        assert_eq!(header_error("x", "y").in_header("To").to_string(), "To: y");
    }
}
