//! Tests of `Message::parse` and of the serializer's round trip.

use super::*;
use crate::message::{Host, Transport};

const INVITE: &str = "INVITE sips:bob@[2001:db8::1]:5061 SIP/2.0\r\n\
Via: SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: Bob <sips:bob@example.test>\r\n\
From: \"Alice\" <sips:alice@example.test>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.example.test\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sips:alice@[2001:db8::9]:5061;transport=tls>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

fn request(raw: &[u8]) -> Request {
    match Message::parse(raw) {
        Ok(Message::Request(req)) => req,
        other => panic!("not a request: {other:?}"),
    }
}

fn response(raw: &[u8]) -> Response {
    match Message::parse(raw) {
        Ok(Message::Response(resp)) => resp,
        other => panic!("not a response: {other:?}"),
    }
}

#[test]
fn invite_with_ipv6() {
    let req = request(INVITE.as_bytes());
    assert_eq!(req.method, Method::Invite);
    assert_eq!(req.uri.host, Host::Ipv6("2001:db8::1".parse().unwrap()));
    assert_eq!(req.uri.port, Some(5061));
    let via = req.top_via().unwrap();
    assert_eq!(via.transport, Transport::Tls);
    assert_eq!(via.host, Host::Ipv6("2001:db8::9".parse().unwrap()));
    assert_eq!(
        req.contacts().unwrap()[0].uri.host,
        Host::Ipv6("2001:db8::9".parse().unwrap())
    );
    assert_eq!(req.body, b"v=0\n");
    assert_eq!(req.headers.len(), 9);
}

const COMPACT_FOLDED_LF: &[u8] = b"\r\n\r\nREGISTER sip:registrar.example.test SIP/2.0\n\
v: SIP/2.0/TCP [2001:db8::5]:5060\n ;branch=z9hG4bKnashds7\n\
f: <sip:alice@example.test>;tag=456248\n\
t: <sip:alice@example.test>\n\
i: 843817637684230@998sdasdh09\n\
CSeq: 1826 REGISTER\n\
m: <sip:alice@[2001:db8::5]:5060>\n\
Subject: a long\n\tfolded\n   subject\n\
l: 0\n\
\n";

#[test]
fn compact_names_folding_and_bare_lf() {
    let req = request(COMPACT_FOLDED_LF);
    assert_eq!(req.method, Method::Register);
    let via = req.top_via().unwrap();
    assert_eq!(via.transport, Transport::Tcp);
    assert_eq!(via.branch(), Some("z9hG4bKnashds7"));
    assert_eq!(
        req.headers.get(&HeaderName::Via),
        Some("SIP/2.0/TCP [2001:db8::5]:5060 ;branch=z9hG4bKnashds7")
    );
    assert_eq!(
        req.headers.get(&HeaderName::Subject),
        Some("a long folded subject")
    );
    assert_eq!(req.call_id().unwrap(), "843817637684230@998sdasdh09");
    assert_eq!(req.contacts().unwrap()[0].uri.port, Some(5060));
    assert!(req.body.is_empty());

    // The serializer writes long names and a single computed Content-Length.
    let text = String::from_utf8(req.to_bytes()).unwrap();
    assert!(text.starts_with("REGISTER sip:registrar.example.test SIP/2.0\r\nVia: SIP/2.0/TCP"));
    for name in [
        "\r\nFrom: ",
        "\r\nTo: ",
        "\r\nCall-ID: ",
        "\r\nContact: ",
        "\r\nSubject: a long folded subject\r\n",
    ] {
        assert!(text.contains(name), "{name} in {text}");
    }
    assert_eq!(text.matches("Content-Length").count(), 1);
    assert!(text.ends_with("\r\nContent-Length: 0\r\n\r\n"));
    assert_eq!(request(text.as_bytes()), req);
}

fn with_body(body: &[u8], content_length: Option<&str>) -> Vec<u8> {
    let mut raw = INVITE
        .split("Content-Length")
        .next()
        .unwrap()
        .as_bytes()
        .to_vec();
    if let Some(length) = content_length {
        raw.extend_from_slice(format!("Content-Length: {length}\r\n").as_bytes());
    }
    raw.extend_from_slice(b"\r\n");
    raw.extend_from_slice(body);
    raw
}

#[test]
fn binary_body_round_trip() {
    let body: Vec<u8> = (0..=255u8).chain(*b"\r\n\r\nINVITE x\0").collect();
    let raw = with_body(&body, Some(&body.len().to_string()));
    let req = request(&raw);
    assert_eq!(req.body, body);
    let bytes = req.to_bytes();
    assert!(bytes.ends_with(&body));
    assert_eq!(request(&bytes), req);
    assert_eq!(Message::Request(req.clone()).to_bytes(), bytes);
}

#[test]
fn body_by_content_length() {
    // No Content-Length (datagram): the rest is the body.
    assert_eq!(request(&with_body(b"abc\r\n", None)).body, b"abc\r\n");
    // Bytes after the body are ignored (RFC 3261 §18.3).
    assert_eq!(request(&with_body(b"abcdef", Some(" 3 "))).body, b"abc");
    // Equal duplicates are fine.
    let mut raw = with_body(b"", Some("2"));
    raw.truncate(raw.len() - 2);
    raw.extend_from_slice(b"l: 2\r\n\r\nxy");
    assert_eq!(request(&raw).body, b"xy");
}

#[test]
fn content_length_errors() {
    let err = Message::parse(&with_body(&[b'x'; 40], Some("120"))).unwrap_err();
    assert_eq!(err.to_string(), "Content-Length 120 but only 40 body bytes");
    let err = Message::parse(&with_body(b"", Some("-1"))).unwrap_err();
    assert_eq!(err.to_string(), "Content-Length `-1` is not a number");
    let err = Message::parse(&with_body(b"", Some("99999999999999999999999"))).unwrap_err();
    assert!(matches!(err, ParseError::ContentLength(_)));
    let mut raw = with_body(b"", Some("2"));
    raw.truncate(raw.len() - 2);
    raw.extend_from_slice(b"l: 3\r\n\r\nxyz");
    assert_eq!(
        Message::parse(&raw).unwrap_err().to_string(),
        "conflicting Content-Length values 2 and 3"
    );
}

#[test]
fn oversize_refused() {
    let big = with_body(&vec![b'x'; MAX_MESSAGE_SIZE], None);
    let err = Message::parse(&big).unwrap_err();
    assert_eq!(
        err,
        ParseError::TooLarge {
            size: big.len(),
            max: MAX_MESSAGE_SIZE
        }
    );
    assert!(
        err.to_string()
            .starts_with("message larger than 65536 bytes")
    );
    // Exactly at the limit is fine.
    let head = with_body(b"", None).len();
    let exact = with_body(&vec![b'x'; MAX_MESSAGE_SIZE - head], None);
    assert_eq!(exact.len(), MAX_MESSAGE_SIZE);
    assert!(Message::parse(&exact).is_ok());
}

/// `INVITE` with line `n` (0-based, after the start line) replaced by `line`.
fn invite_with_line(n: usize, line: &str) -> Vec<u8> {
    let mut lines: Vec<&str> = INVITE.split("\r\n").collect();
    lines[n + 1] = line;
    lines.join("\r\n").into_bytes()
}

#[test]
fn malformed_header_section() {
    for (raw, message) in [
        (
            invite_with_line(1, "Max-Forwards 70"),
            "header line 3 has no colon",
        ),
        (
            invite_with_line(1, "Max Forwards: 70"),
            "invalid header name `Max Forwards`",
        ),
        (
            invite_with_line(1, "Max-Forwards: 7\r0"),
            "control character 0x0d in line 3",
        ),
        (
            invite_with_line(1, "X: a\0b"),
            "control character 0x00 in line 3",
        ),
        (
            b"INVITE sips:b@h SIP/2.0\r\n folded: first\r\n\r\n".to_vec(),
            "continuation line before the first header",
        ),
        (
            b"INVITE sips:b@h SIP/2.0\r\nVia: x\r\n".to_vec(),
            "headers not terminated by an empty line",
        ),
        (
            b"INVITE sips:b@h SIP/2.0".to_vec(),
            "headers not terminated by an empty line",
        ),
        (b"\r\n\r\n".to_vec(), "empty message"),
        (b"".to_vec(), "empty message"),
    ] {
        assert_eq!(
            Message::parse(&raw).unwrap_err().to_string(),
            message,
            "{}",
            String::from_utf8_lossy(&raw)
        );
    }
    let raw = invite_with_line(1, "Subject: caf\u{e9} \u{1F4DE}");
    assert_eq!(
        request(&raw).headers.get(&HeaderName::Subject),
        Some("caf\u{e9} \u{1F4DE}")
    );
    let mut raw = invite_with_line(1, "Subject: caf");
    let at = raw.windows(3).position(|w| w == b"caf").unwrap() + 3;
    raw.insert(at, 0xe9);
    assert_eq!(
        Message::parse(&raw).unwrap_err(),
        ParseError::NotUtf8 { line: 3 }
    );
}

#[test]
fn malformed_start_lines() {
    for (start, message) in [
        (
            "INVITE sips:b@h SIP/3.0",
            "unsupported SIP version `SIP/3.0`",
        ),
        (
            "INV(TE sips:b@h SIP/2.0",
            "bad start line `INV(TE sips:b@h SIP/2.0`: invalid method",
        ),
        (
            "INVITE  sips:b@h SIP/2.0",
            "bad start line `INVITE  sips:b@h SIP/2.0`: expected `METHOD Request-URI SIP/2.0`",
        ),
        (
            "INVITE sips:b@h",
            "bad start line `INVITE sips:b@h`: expected `METHOD Request-URI SIP/2.0`",
        ),
        (
            "INVITE tel:+15551234 SIP/2.0",
            "unsupported URI scheme `tel`",
        ),
        (
            "INVITE sip:[::1 SIP/2.0",
            "URI `sip:[::1`: unterminated IPv6 reference",
        ),
        (
            "SIP/2.0 2000 OK",
            "bad start line `SIP/2.0 2000 OK`: status code is not a number from 100 to 699",
        ),
        (
            "SIP/2.0 099 OK",
            "bad start line `SIP/2.0 099 OK`: status code is not a number from 100 to 699",
        ),
        ("SIP/2.0", "bad start line `SIP/2.0`: missing status code"),
        ("SIP/1.0 200 OK", "unsupported SIP version `SIP/1.0`"),
    ] {
        let raw = INVITE.replacen(INVITE.lines().next().unwrap(), start, 1);
        assert_eq!(
            Message::parse(raw.as_bytes()).unwrap_err().to_string(),
            message,
            "{start}"
        );
    }
}

#[test]
fn responses() {
    let raw = INVITE.replacen(
        "INVITE sips:bob@[2001:db8::1]:5061 SIP/2.0",
        "sip/2.0 180 Ringing  Now",
        1,
    );
    let resp = response(raw.as_bytes());
    assert_eq!(resp.status, StatusCode::RINGING);
    assert_eq!(resp.reason, "Ringing  Now");
    let raw = INVITE.replacen(
        "INVITE sips:bob@[2001:db8::1]:5061 SIP/2.0",
        "SIP/2.0 200",
        1,
    );
    let resp = response(raw.as_bytes());
    assert_eq!(resp.reason, "");
    let bytes = resp.to_bytes();
    assert!(bytes.starts_with(b"SIP/2.0 200 \r\nVia: "));
    assert_eq!(response(&bytes), resp);
}

#[test]
fn mandatory_headers() {
    for (n, name) in [
        (0, "Via"),
        (2, "To"),
        (3, "From"),
        (4, "Call-ID"),
        (5, "CSeq"),
    ] {
        let raw = invite_with_line(n, "X-Filler: 1");
        assert_eq!(
            Message::parse(&raw).unwrap_err(),
            ParseError::MissingHeader(name),
            "{name}"
        );
    }
    let raw = invite_with_line(5, "CSeq: 314159 BYE");
    assert_eq!(
        Message::parse(&raw).unwrap_err().to_string(),
        "CSeq method BYE does not match request method INVITE"
    );
    let raw = invite_with_line(0, "Via: SIP/2.0/SCTPX host");
    assert_eq!(
        Message::parse(&raw).unwrap_err().to_string(),
        "Via: unknown transport `SCTPX`"
    );
    let raw = invite_with_line(3, "From:");
    assert_eq!(
        Message::parse(&raw).unwrap_err().to_string(),
        "From: empty value"
    );
}

#[test]
fn serializer_cannot_be_injected() {
    let mut req = request(INVITE.as_bytes());
    req.headers
        .push(HeaderName::Subject, "x\r\nVia: SIP/2.0/UDP evil");
    req.headers.push(HeaderName::ContentLength, "999");
    let bytes = req.to_bytes();
    let again = request(&bytes);
    assert_eq!(again.vias().unwrap().len(), 1);
    assert_eq!(
        again.headers.get(&HeaderName::Subject),
        Some("x  Via: SIP/2.0/UDP evil")
    );
    assert_eq!(again.headers.get(&HeaderName::ContentLength), Some("4"));
    let mut resp = Response::new(StatusCode::OK, Some("OK\r\nX: y"));
    resp.headers = req.headers.clone();
    assert!(resp.to_bytes().starts_with(b"SIP/2.0 200 OK  X: y\r\n"));
}

#[test]
fn built_request_round_trips() {
    let uri: Uri = "sips:bob@example.test".parse().unwrap();
    let mut req = Request::new(Method::Message, uri);
    req.headers
        .push(HeaderName::Via, "SIP/2.0/TLS [::1]:5061;branch=z9hG4bK9");
    req.headers
        .push(HeaderName::From, "<sips:a@example.test>;tag=1");
    req.headers.push(HeaderName::To, "<sips:bob@example.test>");
    req.headers.push(HeaderName::CallId, "c@h");
    req.headers.push(HeaderName::CSeq, "2 MESSAGE");
    req.body = b"hello".to_vec();
    let mut expected = req.clone();
    expected.headers.push(HeaderName::ContentLength, "5");
    assert_eq!(request(&req.to_bytes()), expected);
}

/// Fuzz find: a folded header whose first line is empty gained a leading space, so the value
/// changed when serialized and parsed again.
#[test]
fn folding_onto_an_empty_first_line() {
    let raw = INVITE.replacen(
        "Call-ID: a84b4c76e66710@pc33.example.test\r\n",
        "i:\r\n   c@h\r\n",
        1,
    );
    let req = request(raw.as_bytes());
    assert_eq!(req.headers.get(&HeaderName::CallId), Some("c@h"));
    assert_eq!(request(&req.to_bytes()), {
        let mut expected = req.clone();
        expected.headers.set(HeaderName::ContentLength, "4");
        expected
    });
}

#[test]
fn header_name_equality() {
    assert_eq!(HeaderName::Other("VIA".into()), HeaderName::Via);
    assert_eq!(HeaderName::Via, HeaderName::Other("via".into()));
    assert_eq!(HeaderName::from_wire("l"), HeaderName::ContentLength);
    assert_ne!(HeaderName::Via, HeaderName::From);
    assert_ne!(
        HeaderName::Other("X-A".into()),
        HeaderName::Other("X-B".into())
    );
    assert_eq!(
        HeaderName::Other("x-a".into()),
        HeaderName::Other("X-A".into())
    );
}
