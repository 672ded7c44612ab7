//! Feeds the input to the datagram parser and, split three ways, to the stream framer; every
//! frame goes through `Message::parse` and, on error, `bad_request_for`.
//!
//! Checked beyond "no panic": frames do not depend on how the stream was split; whatever
//! parses serializes and parses back to the same message; typed values print and parse back
//! equal.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockphone_sip::framer::{Frame, FrameError, StreamFramer};
use lockphone_sip::message::{HeaderName, Headers, Message, bad_request_for};

fuzz_target!(|data: &[u8]| {
    check_message(data);
    let whole = frames(data, data.len().max(1));
    for chunk in [1, 7] {
        assert_eq!(frames(data, chunk), whole, "framing depends on read sizes");
    }
    for bytes in &whole.0 {
        check_message(bytes);
    }
});

/// The message frames and the final error when `data` arrives `chunk` bytes at a time.
fn frames(data: &[u8], chunk: usize) -> (Vec<Vec<u8>>, Option<FrameError>) {
    let mut framer = StreamFramer::new();
    let mut messages = Vec::new();
    for piece in data.chunks(chunk) {
        framer.push(piece);
        while let Some(frame) = framer.next_frame() {
            match frame {
                Ok(Frame::Message(bytes)) => messages.push(bytes),
                Ok(Frame::KeepAlivePing | Frame::KeepAlivePong) => {}
                Err(err) => return (messages, Some(err)),
            }
        }
    }
    (messages, None)
}

fn check_message(bytes: &[u8]) {
    let msg = match Message::parse(bytes) {
        Ok(msg) => msg,
        Err(err) => {
            let reason = err.bad_request_reason();
            assert!(reason.bytes().all(|b| b == b' ' || b.is_ascii_graphic()));
            if let Some(resp) = bad_request_for(bytes, &err) {
                // The error response itself must be a valid message.
                Message::parse(&resp.to_bytes()).expect("400 response parses");
            }
            return;
        }
    };
    let again = Message::parse(&msg.to_bytes()).expect("serialized message parses");
    assert_eq!(
        without_length(msg.headers()),
        without_length(again.headers())
    );
    assert_eq!(msg.body(), again.body());
    match (&msg, &again) {
        (Message::Request(a), Message::Request(b)) => {
            assert_eq!((&a.method, &a.uri), (&b.method, &b.uri));
            round_trip(&a.uri);
        }
        (Message::Response(a), Message::Response(b)) => {
            assert_eq!((a.status, &a.reason), (b.status, &b.reason))
        }
        _ => panic!("request/response changed in a round trip"),
    }
    typed_round_trips(msg.headers());
}

fn without_length(headers: &Headers) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|h| h.name != HeaderName::ContentLength)
        .map(|h| (h.name.to_string(), h.value.clone()))
        .collect()
}

fn round_trip<T>(value: &T)
where
    T: std::fmt::Display + std::str::FromStr + PartialEq + std::fmt::Debug,
    T::Err: std::fmt::Debug,
{
    let printed = value.to_string();
    let parsed: T = printed
        .parse()
        .unwrap_or_else(|e| panic!("`{printed}` does not parse back: {e:?}"));
    assert_eq!(&parsed, value, "`{printed}`");
}

fn typed_round_trips(headers: &Headers) {
    for via in headers.vias().unwrap_or_default() {
        round_trip(&via);
    }
    if let Ok(cseq) = headers.cseq() {
        round_trip(&cseq);
    }
    let _ = headers.call_id();
    let _ = headers.expires();
    let _ = headers.content_type();
    let _ = headers.is_contact_wildcard();
    for name_addr in [headers.from_header(), headers.to_header()]
        .into_iter()
        .flatten()
    {
        round_trip(&name_addr);
    }
    for list in [
        headers.contacts(),
        headers.routes(),
        headers.record_routes(),
    ] {
        for name_addr in list.unwrap_or_default() {
            round_trip(&name_addr);
        }
    }
}
