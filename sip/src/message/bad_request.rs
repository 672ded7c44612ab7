//! [`bad_request_for`]: the `400` (or `416`) a UAS sends back for a request it could not parse,
//! when enough of the request survives to address a response to it.

use sha2::{Digest, Sha256};

use super::parse::{Lines, Strictness, check_line, collect_headers};
use super::{HeaderName, Headers, MAX_MESSAGE_SIZE, Method, Param, ParseError, Response};

/// Builds the error response to the malformed request `raw`, which failed with `err`.
///
/// The status is [`ParseError::status_code`] (`400`, or `416` for a Request-URI that is not
/// `sip`/`sips`) and the reason phrase is [`ParseError::bad_request_reason`], which names the
/// problem. The response copies `Via`, `From`, `To`, `Call-ID` and `CSeq` from the request and
/// adds a To-tag derived from the request (so a retransmitted bad request gets the same answer).
///
/// Returns `None` when no response can or may be sent: `raw` is a response, an `ACK` (never
/// answered), larger than [`MAX_MESSAGE_SIZE`], or its `Via`, `From`, `To`, `Call-ID` or `CSeq`
/// cannot be read. The caller then drops the bytes and counts them.
///
/// ```
/// use lockphone_sip::message::{bad_request_for, Message};
///
/// let raw = b"OPTIONS sip:bob@example.test SIP/2.0\r\n\
/// Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bK1\r\nFrom: <sip:a@example.test>;tag=1\r\n\
/// To: <sip:bob@example.test>\r\nCall-ID: c1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 120\r\n\r\nv=0\r\n";
/// let err = Message::parse(raw).unwrap_err();
/// let resp = bad_request_for(raw, &err).unwrap();
/// assert_eq!(resp.status.0, 400);
/// assert_eq!(resp.reason, "Content-Length 120 but only 5 body bytes");
/// ```
pub fn bad_request_for(raw: &[u8], err: &ParseError) -> Option<Response> {
    if raw.len() > MAX_MESSAGE_SIZE || matches!(err, ParseError::TooLarge { .. }) {
        return None;
    }
    let start = raw.iter().position(|&b| b != b'\r' && b != b'\n')?;
    let mut lines = Lines {
        bytes: raw,
        pos: start,
    };
    let first = lines.next()?;
    let method = request_method(check_line(first.text, 1).ok()?)?;
    if method == Method::Ack {
        return None;
    }
    let headers: Headers = collect_headers(&mut lines, Strictness::Lenient)
        .ok()?
        .into_iter()
        .collect();
    let vias = headers.vias().ok()?;
    let from = headers.from_header().ok()?;
    let mut to = headers.to_header().ok()?;
    let call_id = headers.call_id().ok()?;
    headers.cseq().ok()?;

    let mut response = Response::new(err.status_code(), Some(&err.bad_request_reason()));
    response.headers = headers.for_response();
    if to.tag().is_none() {
        let branch = vias.first().and_then(|via| via.branch()).unwrap_or("");
        to.params.push(Param::new(
            "tag",
            derived_tag(&[call_id, branch, from.tag().unwrap_or("")]),
        ));
        response.headers.set(HeaderName::To, to.to_string());
    }
    Some(response)
}

/// The method of a request line (`None` for a status line or a line without a valid method).
fn request_method(line: &str) -> Option<Method> {
    let token = line.split(' ').next()?;
    if token
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("SIP/"))
    {
        return None;
    }
    Method::from_token(token)
}

/// A To-tag that is the same for every retransmission of one request: 12 hex digits of
/// SHA-256 over the request's identifiers.
fn derived_tag(parts: &[&str]) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hex::encode(hash.finalize().get(..6).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Message, StatusCode};

    const HEAD: &str = "Via: SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bKq\r\n\
        Via: SIP/2.0/TCP p.test;branch=z9hG4bKr\r\n\
        From: \"A\" <sips:a@example.test>;tag=f1\r\n\
        To: <sips:b@example.test>\r\n\
        Call-ID: bad1@example.test\r\n\
        CSeq: 7 INVITE\r\n";

    fn answer(raw: &str) -> Option<Response> {
        let err = Message::parse(raw.as_bytes()).unwrap_err();
        bad_request_for(raw.as_bytes(), &err)
    }

    #[test]
    fn short_body_gets_400_naming_the_problem() {
        let raw = format!(
            "INVITE sips:b@example.test SIP/2.0\r\n{HEAD}Content-Length: 120\r\n\r\nv=0\r\n"
        );
        let resp = answer(&raw).unwrap();
        assert_eq!(resp.status, StatusCode::BAD_REQUEST);
        assert_eq!(resp.reason, "Content-Length 120 but only 5 body bytes");
        assert_eq!(resp.vias().unwrap().len(), 2);
        assert_eq!(resp.call_id().unwrap(), "bad1@example.test");
        assert_eq!(resp.cseq().unwrap().seq, 7);
        let tag = resp.to_header().unwrap().tag().unwrap().to_owned();
        assert_eq!(tag.len(), 12);
        // The same bad request gets the same tag.
        assert_eq!(
            answer(&raw).unwrap().to_header().unwrap().tag(),
            Some(tag.as_str())
        );
    }

    #[test]
    fn bad_line_elsewhere_still_answered() {
        let raw = format!(
            "INVITE sips:b@example.test SIP/2.0\r\n{HEAD}Max-Forwards 70\r\nContent-Length: 0\r\n\r\n"
        );
        let resp = answer(&raw).unwrap();
        assert_eq!(resp.reason, "Header line 8 has no colon");
        let raw =
            format!("INVITE sips:b@example.test SIP/2.0\r\n{HEAD}Contact: <sip:x\x01>\r\n\r\n");
        assert_eq!(
            answer(&raw).unwrap().reason,
            "Control character 0x01 in line 8"
        );
    }

    #[test]
    fn tel_request_uri_gets_416() {
        let raw = format!("INVITE tel:+15551234 SIP/2.0\r\n{HEAD}Content-Length: 0\r\n\r\n");
        let resp = answer(&raw).unwrap();
        assert_eq!(resp.status, StatusCode(416));
        assert_eq!(resp.reason, "Unsupported URI scheme `tel`");
    }

    #[test]
    fn keeps_existing_to_tag() {
        let raw = format!(
            "BYE sips:b@example.test SIP/2.0\r\n{}To: <sips:b@example.test>;tag=t9\r\nCSeq: 8 BYE\r\nContent-Length: x\r\n\r\n",
            HEAD.replace("To: <sips:b@example.test>\r\n", "")
                .replace("CSeq: 7 INVITE\r\n", "")
        );
        let resp = answer(&raw).unwrap();
        assert_eq!(resp.reason, "Content-Length `x` is not a number");
        assert_eq!(resp.to_header().unwrap().tag(), Some("t9"));
    }

    #[test]
    fn no_answer_when_unaddressable() {
        // Missing Call-ID.
        let raw = format!(
            "INVITE sips:b@example.test SIP/2.0\r\n{}\r\n",
            HEAD.replace("Call-ID: bad1@example.test\r\n", "")
        );
        assert_eq!(answer(&raw), None);
        // Bad top Via.
        let raw =
            format!("INVITE sips:b@example.test SIP/2.0\r\nVia: SIP/2.0/SCTPX h\r\n{HEAD}\r\n");
        assert_eq!(answer(&raw), None);
        // A response, an ACK, garbage.
        let raw = format!("SIP/2.0 999 Huh\r\n{HEAD}\r\n");
        assert_eq!(answer(&raw), None);
        let raw = format!(
            "ACK sips:b@example.test SIP/2.0\r\n{}Content-Length: 9\r\n\r\n",
            HEAD.replace("7 INVITE", "7 ACK")
        );
        assert_eq!(answer(&raw), None);
        assert_eq!(answer("\u{1}\r\n\r\n"), None);
        let big = vec![b'a'; MAX_MESSAGE_SIZE + 1];
        assert_eq!(
            bad_request_for(&big, &Message::parse(&big).unwrap_err()),
            None
        );
    }
}
