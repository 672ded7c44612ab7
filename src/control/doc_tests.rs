//! `docs/control-api.md` against the code: every ```json block parses as the message it
//! shows, and every command and event has an example.
//!
//! Commands and errors are parsed into their types. Replies, `hello` and events (which are
//! only serialized) are checked field by field at their top level against the types' field
//! lists below, written as exhaustive struct patterns: adding, removing or renaming a field
//! or an event variant does not compile until the list here (and then the document) follows.

use std::collections::BTreeSet;

use serde_json::Value;

use super::{COMMANDS, ControlError, RequestId, parse_request};
use crate::ua::{CallStatus, Event, PhoneStatus};

const DOC: &str = include_str!("../../docs/control-api.md");

/// The ```json blocks of the document.
fn json_blocks() -> Vec<&'static str> {
    let mut blocks = Vec::new();
    let mut rest = DOC;
    while let Some(start) = rest.find("```json\n") {
        let body = &rest[start + 8..];
        let end = body.find("```").expect("an unterminated ```json block");
        blocks.push(body[..end].trim());
        rest = &body[end + 3..];
    }
    blocks
}

/// One list for the event names, their fields, and the exhaustive match that keeps both true.
macro_rules! events {
    ($($variant:ident => $name:literal [$($field:ident),*]),* $(,)?) => {
        /// Every event: its name on the wire and its fields.
        const EVENTS: &[(&str, &[&str])] = &[$(($name, &[$(stringify!($field)),*])),*];

        /// Never called: it only has to compile, proving the list above is complete.
        #[allow(dead_code)]
        fn fields_of(event: &Event) -> &'static str {
            match event {
                $(Event::$variant { $($field: _),* } => stringify!($variant)),*
            }
        }

        /// The variant names, to check the wire names are their kebab-case.
        const VARIANTS: &[(&str, &str)] = &[$((stringify!($variant), $name)),*];
    };
}

events! {
    Registering => "registering" [registrar, aor],
    Connected => "connected" [peer, security],
    Registered => "registered" [expires_secs, contact],
    RefreshScheduled => "refresh-scheduled" [in_secs],
    RegistrationExpired => "registration-expired" [],
    Unregistered => "unregistered" [],
    RegistrationFailed => "registration-failed" [kind, reason],
    TrustDecisionRequired => "trust-decision-required" [server, certificate],
    CertificateChanged => "certificate-changed" [server, stored_sha256, presented],
    ConnectionLost => "connection-lost" [reason],
    CallStarted => "call-started" [call, direction, peer, security],
    CallRinging => "call-ringing" [call],
    CallAnswered => "call-answered" [call, codec, srtp_suite],
    CallSecurity => "call-security" [call, verdict],
    CallDowngrade => "call-downgrade" [call, what, action],
    CallHold => "call-hold" [call, on_hold, refused],
    CallTransfer => "call-transfer" [call, state, status, reason],
    CallFailed => "call-failed" [call, reason],
    CallStats => "call-stats" [call, stats],
    CallEnded => "call-ended" [call, summary],
    TokenRefreshed => "token-refreshed" [expires_in_secs],
    LoginRequired => "login-required" [reason, authz_server],
}

/// The fields of a status snapshot and of each of its calls (exhaustive patterns).
fn status_fields() -> (Vec<&'static str>, Vec<&'static str>) {
    #[allow(dead_code)]
    fn complete(status: &PhoneStatus, call: &CallStatus) {
        let PhoneStatus {
            account: _,
            registration: _,
            listening: _,
            auto_answer: _,
            calls: _,
        } = status;
        let CallStatus {
            call: _,
            direction: _,
            peer: _,
            state: _,
            on_hold: _,
            muted: _,
            transferring: _,
            codec: _,
            srtp_suite: _,
            verdict: _,
            duration_secs: _,
            stats: _,
        } = call;
    }
    (
        vec![
            "account",
            "registration",
            "listening",
            "auto_answer",
            "calls",
        ],
        vec![
            "call",
            "direction",
            "peer",
            "state",
            "on_hold",
            "muted",
            "transferring",
            "codec",
            "srtp_suite",
            "verdict",
            "duration_secs",
            "stats",
        ],
    )
}

fn keys(value: &Value, leave_out: &[&str]) -> BTreeSet<String> {
    value
        .as_object()
        .map(|o| {
            o.keys()
                .filter(|k| !leave_out.contains(&k.as_str()))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

fn kebab(variant: &str) -> String {
    let mut out = String::new();
    for (i, c) in variant.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

fn check_reply(block: &str, value: &Value) {
    let result = &value["result"];
    let (status, call) = status_fields();
    match keys(result, &[]) {
        k if k.is_empty() => {}
        k if k == set(&["call"]) => assert!(result["call"].is_u64(), "{block}"),
        k => {
            assert_eq!(k, set(&status), "status reply fields: {block}");
            for c in result["calls"].as_array().expect("calls is a list") {
                assert_eq!(keys(c, &[]), set(&call), "status call fields: {block}");
            }
        }
    }
}

#[test]
fn every_json_example_of_the_control_api_document_parses_as_what_it_shows() {
    let mut commands = BTreeSet::new();
    let mut events = BTreeSet::new();
    let mut kinds = BTreeSet::new();
    let blocks = json_blocks();
    assert!(blocks.len() > 30, "only {} examples", blocks.len());
    for block in blocks {
        assert!(!block.contains('\n'), "an example is one line: {block}");
        let value: Value = serde_json::from_str(block)
            .unwrap_or_else(|e| panic!("example is not JSON ({e}): {block}"));
        if value.get("command").is_some() {
            let request = parse_request(block)
                .unwrap_or_else(|r| panic!("example command refused ({r:?}): {block}"));
            commands.insert(request.command.name());
            continue;
        }
        let kind = value["type"].as_str().unwrap_or_default().to_owned();
        if value["id"] != Value::Null || kind == "reply" || kind == "error" {
            let _: Option<RequestId> = serde_json::from_value(value["id"].clone())
                .unwrap_or_else(|e| panic!("bad id ({e}): {block}"));
        }
        match kind.as_str() {
            "hello" => assert_eq!(
                keys(&value, &["type"]),
                set(&["protocol", "authenticate"]),
                "{block}"
            ),
            "reply" => {
                assert_eq!(keys(&value, &[]), set(&["type", "id", "result"]), "{block}");
                check_reply(block, &value);
            }
            "error" => {
                assert_eq!(keys(&value, &[]), set(&["type", "id", "error"]), "{block}");
                let _: ControlError = serde_json::from_value(value["error"].clone())
                    .unwrap_or_else(|e| panic!("bad error ({e}): {block}"));
            }
            "event" => {
                let name = value["event"].as_str().unwrap_or_default();
                let (known, fields) = EVENTS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .unwrap_or_else(|| panic!("no event `{name}`: {block}"));
                assert_eq!(
                    keys(&value, &["type", "event"]),
                    set(fields),
                    "fields of `{name}`: {block}"
                );
                events.insert(*known);
            }
            other => panic!("unknown message type `{other}`: {block}"),
        }
        kinds.insert(kind);
    }
    let missing: Vec<_> = COMMANDS.iter().filter(|c| !commands.contains(*c)).collect();
    assert!(
        missing.is_empty(),
        "commands without an example: {missing:?}"
    );
    let missing: Vec<_> = EVENTS
        .iter()
        .map(|(n, _)| n)
        .filter(|n| !events.contains(*n))
        .collect();
    assert!(missing.is_empty(), "events without an example: {missing:?}");
    assert_eq!(kinds, set(&["hello", "reply", "error", "event"]));
}

#[test]
fn the_event_list_uses_the_wire_names() {
    for (variant, name) in VARIANTS {
        assert_eq!(kebab(variant), *name);
    }
    // And the serializer agrees, for one event without fields and one with.
    let line = serde_json::to_value(Event::RegistrationExpired).unwrap();
    assert_eq!(line["event"], "registration-expired");
    let line = serde_json::to_value(Event::CallRinging {
        call: crate::call::CallId(1),
    })
    .unwrap();
    assert_eq!(keys(&line, &["event"]), set(&["call"]));
}
