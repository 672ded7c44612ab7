//! The message parser (RFC 3261 §7): start line, header section and body.
//!
//! - Leading CR/LF before the start line is skipped (§7.5); lines end in CRLF or a bare LF.
//! - Header folding (continuation lines starting with SP/HT) is undone into one space; compact
//!   names are mapped by [`HeaderName::from_wire`]; values are trimmed.
//! - Control characters other than tab (including a CR not followed by LF) are refused: they
//!   are how header injection and request smuggling start.
//! - The body is exactly `Content-Length` bytes when the header is present (more bytes after
//!   it are ignored, §18.3), otherwise the rest of the input. Bodies are bytes, never text.
//! - `Via`, `From`, `To`, `Call-ID` and `CSeq` must be present; the top `Via` and `CSeq` must
//!   parse and the `CSeq` method must match the request method.
//!
//! Every input gives `Ok` or `Err` in time linear in its length.

use super::error::{header_error, snippet};
use super::lex::is_lws;
use super::{
    Header, HeaderName, Headers, MAX_MESSAGE_SIZE, Message, Method, ParseError, Request, Response,
    StatusCode, Uri,
};

impl Message {
    /// Parses one complete message (a UDP datagram, or a frame from
    /// [`StreamFramer`](crate::framer::StreamFramer)).
    ///
    /// Inputs above [`MAX_MESSAGE_SIZE`] are refused with [`ParseError::TooLarge`] before
    /// anything is read.
    pub fn parse(bytes: &[u8]) -> Result<Message, ParseError> {
        if bytes.len() > MAX_MESSAGE_SIZE {
            return Err(ParseError::TooLarge {
                size: bytes.len(),
                max: MAX_MESSAGE_SIZE,
            });
        }
        let start = bytes
            .iter()
            .position(|&b| b != b'\r' && b != b'\n')
            .ok_or(ParseError::Empty)?;
        let mut lines = Lines { bytes, pos: start };
        let first = lines.next().ok_or(ParseError::Empty)?;
        if !first.terminated {
            return Err(ParseError::UnterminatedHeaders);
        }
        let start_line = parse_start_line(check_line(first.text, 1)?)?;
        let fields = collect_headers(&mut lines, Strictness::Strict)?;
        let headers: Headers = fields.into_iter().collect();
        let rest = bytes.get(lines.pos..).unwrap_or_default();
        let body = match content_length(&headers)? {
            Some(declared) => rest
                .get(..declared)
                .ok_or(ParseError::BodyTooShort {
                    declared,
                    available: rest.len(),
                })?
                .to_vec(),
            None => rest.to_vec(),
        };
        Ok(match start_line {
            StartLine::Request { method, uri } => {
                check_mandatory(&headers, Some(&method))?;
                Message::Request(Request {
                    method,
                    uri,
                    headers,
                    body,
                })
            }
            StartLine::Response { status, reason } => {
                check_mandatory(&headers, None)?;
                Message::Response(Response {
                    status,
                    reason,
                    headers,
                    body,
                })
            }
        })
    }
}

/// One line, without its line ending.
pub(crate) struct Line<'a> {
    /// The bytes before the LF (and before a CR right before it).
    pub(crate) text: &'a [u8],
    /// Whether the line ended in LF (false for a last line cut short).
    pub(crate) terminated: bool,
}

/// Splits bytes into [`Line`]s at LF, starting at `pos`.
pub(crate) struct Lines<'a> {
    pub(crate) bytes: &'a [u8],
    /// Where the next line starts: after the loop over the headers, the body's first byte.
    pub(crate) pos: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        let rest = self.bytes.get(self.pos..).filter(|rest| !rest.is_empty())?;
        match memchr::memchr(b'\n', rest) {
            Some(lf) => {
                self.pos += lf + 1;
                let text = rest.get(..lf).unwrap_or_default();
                let text = text.strip_suffix(b"\r").unwrap_or(text);
                Some(Line {
                    text,
                    terminated: true,
                })
            }
            None => {
                self.pos = self.bytes.len();
                Some(Line {
                    text: rest,
                    terminated: false,
                })
            }
        }
    }
}

/// The line as text, if it is UTF-8 without control characters other than tab.
pub(crate) fn check_line(text: &[u8], number: usize) -> Result<&str, ParseError> {
    let is_control = |b: u8| (b < 0x20 && b != b'\t') || b == 0x7f;
    // Branch-free over the whole line (vectorises); find the byte only on the error path.
    if text.iter().fold(false, |found, &b| found | is_control(b))
        && let Some(&byte) = text.iter().find(|&&b| is_control(b))
    {
        return Err(ParseError::ControlCharacter { line: number, byte });
    }
    std::str::from_utf8(text).map_err(|_| ParseError::NotUtf8 { line: number })
}

/// How [`collect_headers`] treats a bad line.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strictness {
    /// Any bad line, or a header section without its empty line, is an error.
    Strict,
    /// Bad lines are skipped and a missing empty line ends the headers (to salvage what a `400`
    /// response needs from a malformed request).
    Lenient,
}

/// Reads header lines up to and including the empty line that ends them, undoing folding.
/// Afterwards `lines.pos` is the first body byte.
pub(crate) fn collect_headers(
    lines: &mut Lines<'_>,
    strictness: Strictness,
) -> Result<Vec<Header>, ParseError> {
    let strict = strictness == Strictness::Strict;
    let mut fields: Vec<Header> = Vec::with_capacity(16);
    // Whether the last field line was kept (a continuation of a skipped line is skipped too).
    let mut kept_last = false;
    for (line, number) in lines.zip(2..) {
        if !line.terminated {
            if strict {
                return Err(ParseError::UnterminatedHeaders);
            }
            break;
        }
        if line.text.is_empty() {
            return Ok(fields);
        }
        match (header_line(line.text, number), fields.last_mut()) {
            (Ok(HeaderLine::Continuation(more)), Some(last)) if kept_last => {
                if !more.is_empty() {
                    if !last.value.is_empty() {
                        last.value.push(' ');
                    }
                    last.value.push_str(more);
                }
            }
            (Ok(HeaderLine::Continuation(_)), _) if strict => {
                return Err(ParseError::LeadingContinuation);
            }
            (Ok(HeaderLine::Field(name, value)), _) => {
                fields.push(Header {
                    name: HeaderName::from_wire(name),
                    value: value.to_owned(),
                });
                kept_last = true;
            }
            (Err(err), _) if strict => return Err(err),
            (Ok(HeaderLine::Continuation(_)), _) | (Err(_), _) => kept_last = false,
        }
    }
    if strict {
        Err(ParseError::UnterminatedHeaders)
    } else {
        Ok(fields)
    }
}

/// A header line: a new field, or the continuation of the one before.
enum HeaderLine<'a> {
    /// `name: value`
    Field(&'a str, &'a str),
    /// Text of a line that began with SP or HT, trimmed.
    Continuation(&'a str),
}

fn header_line(text: &[u8], number: usize) -> Result<HeaderLine<'_>, ParseError> {
    let line = check_line(text, number)?;
    if line.starts_with(is_lws) {
        return Ok(HeaderLine::Continuation(line.trim_matches(is_lws)));
    }
    let colon =
        memchr::memchr(b':', line.as_bytes()).ok_or(ParseError::MissingColon { line: number })?;
    let (name, value) = super::lex::split_around(line, colon);
    let name = name.trim_end_matches(is_lws);
    if !super::lex::is_token(name) {
        return Err(ParseError::HeaderName(snippet(name)));
    }
    Ok(HeaderLine::Field(name, value.trim_matches(is_lws)))
}

/// A parsed start line.
enum StartLine {
    Request { method: Method, uri: Uri },
    Response { status: StatusCode, reason: String },
}

fn parse_start_line(line: &str) -> Result<StartLine, ParseError> {
    let line = line.trim_end_matches(is_lws);
    let bad = |reason| ParseError::StartLine {
        line: snippet(line),
        reason,
    };
    if line
        .get(..4)
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case("SIP/"))
    {
        let (version, rest) = line
            .split_once(' ')
            .ok_or_else(|| bad("missing status code"))?;
        check_version(version)?;
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let code = (code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()))
            .then(|| code.parse::<u16>().ok())
            .flatten()
            .filter(|code| (100..=699).contains(code))
            .ok_or_else(|| bad("status code is not a number from 100 to 699"))?;
        return Ok(StartLine::Response {
            status: StatusCode(code),
            reason: reason.to_owned(),
        });
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("expected `METHOD Request-URI SIP/2.0`"));
    };
    let method = Method::from_token(method).ok_or_else(|| bad("invalid method"))?;
    let uri: Uri = uri.parse()?;
    check_version(version)?;
    Ok(StartLine::Request { method, uri })
}

fn check_version(version: &str) -> Result<(), ParseError> {
    if version.eq_ignore_ascii_case("SIP/2.0") {
        Ok(())
    } else {
        Err(ParseError::Version(snippet(version)))
    }
}

/// Reads a `Content-Length` value: decimal digits only.
pub(crate) fn content_length_value(value: &str) -> Option<usize> {
    let value = value.trim_matches(is_lws);
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

/// The `Content-Length`, if present; several headers must agree.
fn content_length(headers: &Headers) -> Result<Option<usize>, ParseError> {
    let mut found = None;
    for value in headers.get_all(&HeaderName::ContentLength) {
        let length =
            content_length_value(value).ok_or_else(|| ParseError::ContentLength(snippet(value)))?;
        match found {
            Some(first) if first != length => {
                return Err(ParseError::ConflictingContentLength {
                    first,
                    second: length,
                });
            }
            _ => found = Some(length),
        }
    }
    Ok(found)
}

/// `Via`, `From`, `To`, `Call-ID` and `CSeq` are present; the top `Via` and `CSeq` parse; the
/// `CSeq` method is the request's.
fn check_mandatory(headers: &Headers, method: Option<&Method>) -> Result<(), ParseError> {
    headers.top_via()?;
    let cseq = headers.cseq()?;
    if let Some(method) = method
        && cseq.method != *method
    {
        return Err(ParseError::CSeqMethodMismatch {
            cseq: snippet(cseq.method.as_str()),
            request: snippet(method.as_str()),
        });
    }
    headers.call_id()?;
    for (name, label) in [(HeaderName::From, "From"), (HeaderName::To, "To")] {
        match headers.get(&name) {
            None => return Err(ParseError::MissingHeader(label)),
            Some("") => return Err(header_error(label, "empty value")),
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
