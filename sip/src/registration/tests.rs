//! Registration against a scripted registrar, in simulated time.

use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::auth::{Authenticator, Credentials, Secret};
use crate::message::{HeaderName, Request, Response, StatusCode, Transport};

#[allow(clippy::disallowed_methods)]
fn base() -> Instant {
    Instant::now()
}

fn registration(credentials: Credentials, expires: u32) -> Registration {
    let mut config = RegistrationConfig::new(
        "sip:example.test".parse().unwrap(),
        "sip:alice@example.test".parse().unwrap(),
        "sip:alice@192.0.2.10:5061;transport=tls".parse().unwrap(),
        Transport::Tls,
    );
    config.expires = expires;
    Registration::new(
        config,
        Authenticator::new(credentials),
        StdRng::seed_from_u64(1),
    )
}

fn digest() -> Credentials {
    Credentials::Digest {
        username: "alice".to_owned(),
        password: Secret::new("alicepw"),
    }
}

fn challenge(request: &Request, nonce: &str, stale: bool) -> Response {
    let mut response = Response::for_request(request, StatusCode::UNAUTHORIZED, None);
    let stale = if stale { ", stale=true" } else { "" };
    response.headers.push(
        HeaderName::WwwAuthenticate,
        format!("Digest realm=\"example.test\", nonce=\"{nonce}\", qop=\"auth\", algorithm=SHA-256{stale}"),
    );
    response
}

fn bearer_challenge(request: &Request, error: Option<&str>) -> Response {
    let mut response = Response::for_request(request, StatusCode::UNAUTHORIZED, None);
    let error = error
        .map(|e| format!(", error=\"{e}\""))
        .unwrap_or_default();
    response.headers.push(
        HeaderName::WwwAuthenticate,
        format!("Bearer realm=\"x\"{error}"),
    );
    response
}

fn ok(request: &Request, granted: Option<u32>) -> Response {
    let mut response = Response::for_request(request, StatusCode::OK, None);
    if let Some(granted) = granted {
        response.headers.push(
            HeaderName::Contact,
            format!("<sip:alice@192.0.2.10:5061;transport=tls>;expires={granted}"),
        );
    }
    response
}

fn events(r: &mut Registration) -> Vec<RegistrationEvent> {
    std::iter::from_fn(|| r.poll_event()).collect()
}

#[test]
fn registers_with_digest_after_one_challenge() {
    let mut r = registration(digest(), 3600);
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    assert!(first.headers.get(&HeaderName::Authorization).is_none());
    assert_eq!(first.headers.get(&HeaderName::Expires), Some("3600"));
    r.handle_response(now, &challenge(&first, "n1", false));
    let second = r.poll_request().expect("retried with credentials");
    assert_eq!(
        second.headers.call_id().unwrap(),
        first.headers.call_id().unwrap()
    );
    assert_eq!(
        second.headers.cseq().unwrap().seq,
        first.headers.cseq().unwrap().seq + 1
    );
    assert_eq!(
        second.headers.from_header().unwrap().tag(),
        first.headers.from_header().unwrap().tag()
    );
    let auth = second.headers.get(&HeaderName::Authorization).unwrap();
    assert!(
        auth.starts_with("Digest ") && auth.contains("algorithm=SHA-256"),
        "{auth}"
    );
    assert!(!auth.contains("alicepw"));
    r.handle_response(now, &ok(&second, Some(1800)));
    let ev = events(&mut r);
    assert!(ev.contains(&RegistrationEvent::Registered {
        expires: Duration::from_secs(1800),
        contact: "sip:alice@192.0.2.10:5061;transport=tls".to_owned(),
    }));
    assert!(r.is_registered());
}

#[test]
fn wrong_password_fails_once_without_looping() {
    let mut r = registration(digest(), 3600);
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    r.handle_response(now, &challenge(&first, "n1", false));
    let second = r.poll_request().unwrap();
    r.handle_response(now, &challenge(&second, "n1", false));
    assert!(
        r.poll_request().is_none(),
        "must not retry the same rejected credentials"
    );
    let ev = events(&mut r);
    let failed: Vec<_> = ev
        .iter()
        .filter(|e| matches!(e, RegistrationEvent::Failed(_)))
        .collect();
    assert_eq!(failed.len(), 1);
    let RegistrationEvent::Failed(error) = failed[0] else {
        unreachable!()
    };
    assert!(error.is_credentials(), "{error}");
}

#[test]
fn stale_nonce_is_retried_with_the_new_nonce() {
    let mut r = registration(digest(), 3600);
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    r.handle_response(now, &challenge(&first, "n1", false));
    let second = r.poll_request().unwrap();
    r.handle_response(now, &challenge(&second, "n2", true));
    let third = r.poll_request().expect("stale=true retries");
    assert!(
        third
            .headers
            .get(&HeaderName::Authorization)
            .unwrap()
            .contains("nonce=\"n2\"")
    );
}

#[test]
fn proxy_challenge_gets_proxy_authorization() {
    let mut r = registration(digest(), 3600);
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    let mut response = Response::for_request(&first, StatusCode::PROXY_AUTH_REQUIRED, None);
    response.headers.push(
        HeaderName::ProxyAuthenticate,
        "Digest realm=\"x\", nonce=\"p1\"",
    );
    r.handle_response(now, &response);
    let second = r.poll_request().unwrap();
    assert!(
        second
            .headers
            .get(&HeaderName::ProxyAuthorization)
            .is_some()
    );
    assert!(second.headers.get(&HeaderName::Authorization).is_none());
}

#[test]
fn interval_too_brief_retries_with_min_expires() {
    let mut r = registration(Credentials::None, 30);
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    let mut response = Response::for_request(&first, StatusCode::INTERVAL_TOO_BRIEF, None);
    response.headers.push(HeaderName::MinExpires, "120");
    r.handle_response(now, &response);
    let second = r.poll_request().unwrap();
    assert_eq!(second.headers.get(&HeaderName::Expires), Some("120"));
}

#[test]
fn refresh_happens_before_expiry_and_uses_the_granted_lifetime() {
    let mut r = registration(Credentials::None, 3600);
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    let mut response = ok(&first, None);
    response.headers.push(HeaderName::Expires, "600");
    r.handle_response(now, &response);
    // 600 s granted (Expires header): refresh at min(480, 570) = 480 s.
    assert_eq!(r.poll_timeout(), Some(now + Duration::from_secs(480)));
    r.handle_timeout(now + Duration::from_secs(479));
    assert!(r.poll_request().is_none());
    r.handle_timeout(now + Duration::from_secs(480));
    let refresh = r.poll_request().expect("refresh REGISTER");
    assert_eq!(refresh.headers.cseq().unwrap().seq, 2);
}

#[test]
fn refresh_delay_rule() {
    assert_eq!(
        refresh_delay(Duration::from_secs(3600)),
        Duration::from_secs(2880)
    );
    assert_eq!(
        refresh_delay(Duration::from_secs(60)),
        Duration::from_secs(30)
    );
    assert_eq!(
        refresh_delay(Duration::from_secs(4)),
        Duration::from_secs(2)
    );
}

#[test]
fn unregister_sends_expires_zero() {
    let mut r = registration(Credentials::None, 3600);
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    r.handle_response(now, &ok(&first, Some(3600)));
    r.unregister(now);
    let un = r.poll_request().unwrap();
    assert_eq!(un.headers.get(&HeaderName::Expires), Some("0"));
    assert!(
        un.headers
            .get(&HeaderName::Contact)
            .unwrap()
            .contains("expires=0")
    );
    r.handle_response(now, &ok(&un, None));
    assert!(events(&mut r).contains(&RegistrationEvent::Unregistered));
    assert!(!r.is_registered());
    assert_eq!(r.poll_timeout(), None, "no refresh after un-REGISTER");
}

#[test]
fn lost_connection_reregisters_with_backoff() {
    let mut r = registration(Credentials::None, 3600);
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    r.handle_response(now, &ok(&first, Some(3600)));
    let _ = events(&mut r);
    r.connection_lost(now);
    assert!(
        matches!(events(&mut r).as_slice(), [RegistrationEvent::Retrying { after, .. }] if *after == Duration::from_secs(1))
    );
    r.handle_timeout(now + Duration::from_secs(1));
    let again = r.poll_request().expect("re-REGISTER");
    // No answer: the next retry waits twice as long, and the registration is not given up.
    r.transaction_failed(now + Duration::from_secs(33));
    assert!(
        matches!(events(&mut r).as_slice(), [RegistrationEvent::Retrying { after, .. }] if *after == Duration::from_secs(2))
    );
    r.handle_timeout(now + Duration::from_secs(35));
    let third = r.poll_request().expect("second re-REGISTER");
    r.handle_response(now + Duration::from_secs(35), &ok(&third, Some(3600)));
    assert!(r.is_registered());
    assert_eq!(
        again.headers.call_id().unwrap(),
        third.headers.call_id().unwrap()
    );
}

#[test]
fn invalid_token_asks_for_a_new_token_once() {
    let mut r = registration(
        Credentials::Bearer {
            token: Secret::new("old"),
        },
        3600,
    );
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    r.handle_response(now, &bearer_challenge(&first, None));
    let second = r.poll_request().unwrap();
    assert_eq!(
        second.headers.get(&HeaderName::Authorization),
        Some("Bearer old")
    );
    r.handle_response(now, &bearer_challenge(&second, Some("invalid_token")));
    assert!(
        events(&mut r)
            .iter()
            .any(|e| matches!(e, RegistrationEvent::TokenRejected { .. }))
    );
    assert!(r.poll_request().is_none());
    r.retry_with_credentials(
        now,
        Credentials::Bearer {
            token: Secret::new("new"),
        },
    );
    let third = r.poll_request().unwrap();
    assert_eq!(
        third.headers.get(&HeaderName::Authorization),
        Some("Bearer new")
    );
    r.handle_response(now, &bearer_challenge(&third, Some("invalid_token")));
    assert!(
        r.poll_request().is_none(),
        "never loops on a rejected token"
    );
    assert!(
        events(&mut r)
            .iter()
            .any(|e| matches!(e, RegistrationEvent::Failed(_)))
    );
}

#[test]
fn responses_to_old_requests_are_ignored() {
    let mut r = registration(Credentials::None, 3600);
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    r.register(now);
    let second = r.poll_request().unwrap();
    r.handle_response(now, &ok(&first, Some(3600)));
    assert!(!r.is_registered(), "a late answer to CSeq 1 must not count");
    r.handle_response(now, &ok(&second, Some(3600)));
    assert!(r.is_registered());
}
