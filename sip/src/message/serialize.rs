//! The serializer: start line, headers under their canonical long names, a `Content-Length`
//! computed from the body (replacing any there was), the empty line, and the body bytes as
//! they are.
//!
//! A CR or LF inside a header value or reason phrase (which no parsed message carries, but
//! application code could put there) is written as a space, so no value can inject a header.

use std::fmt::Write as _;

use super::{HeaderName, Headers, Message, Request, Response};

impl Message {
    /// The message as bytes, with `Content-Length` set from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(req) => req.to_bytes(),
            Message::Response(resp) => resp.to_bytes(),
        }
    }
}

impl Request {
    /// The request as bytes, with `Content-Length` set from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = String::with_capacity(estimate(&self.headers));
        // Writing into a `String` cannot fail.
        let _infallible = write!(head, "{} {} SIP/2.0\r\n", self.method, self.uri);
        finish(head, &self.headers, &self.body)
    }
}

impl Response {
    /// The response as bytes, with `Content-Length` set from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = String::with_capacity(estimate(&self.headers));
        let _infallible = write!(head, "SIP/2.0 {} ", self.status);
        push_clean(&mut head, &self.reason);
        head.push_str("\r\n");
        finish(head, &self.headers, &self.body)
    }
}

/// A capacity guess for the head: the header text plus some room for the start line.
fn estimate(headers: &Headers) -> usize {
    128 + headers
        .iter()
        .map(|h| h.name.as_str().len() + h.value.len() + 4)
        .sum::<usize>()
}

/// Appends the headers, `Content-Length`, the empty line and the body to `head`.
fn finish(mut head: String, headers: &Headers, body: &[u8]) -> Vec<u8> {
    for header in headers
        .iter()
        .filter(|h| h.name != HeaderName::ContentLength)
    {
        push_clean(&mut head, header.name.as_str());
        head.push_str(": ");
        push_clean(&mut head, &header.value);
        head.push_str("\r\n");
    }
    let _infallible = write!(head, "Content-Length: {}\r\n\r\n", body.len());
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

/// Appends `text` with CR and LF replaced by spaces.
fn push_clean(out: &mut String, text: &str) {
    if text.contains(['\r', '\n']) {
        out.extend(
            text.chars()
                .map(|c| if c == '\r' || c == '\n' { ' ' } else { c }),
        );
    } else {
        out.push_str(text);
    }
}
