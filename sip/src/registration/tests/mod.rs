//! Registration against a scripted registrar, in simulated time: `mod.rs` answers each
//! REGISTER by hand; `sim` runs a registrar behind two transaction layers and a lossy network.

mod sim;

use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::auth::{Authenticator, Credentials, Secret};
use crate::message::{HeaderName, Request, Response, StatusCode, Transport};

fn base() -> Instant {
    crate::sim::clock()
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
fn a_contact_updated_before_polling_is_in_the_decided_register() {
    let now = base();
    let mut r = registration(Credentials::None, 3600);
    r.register(now);
    let first = r.poll_request().unwrap();
    r.handle_response(now, &ok(&first, Some(3600)));
    r.connection_lost(now);
    r.unregister(now + Duration::from_millis(10));
    assert!(r.has_request());
    // The driver reconnects (a new local port) before polling.
    r.update_contact(
        "sip:alice@192.0.2.10:40001;transport=tls".parse().unwrap(),
        Some("192.0.2.10:40001".to_owned()),
    );
    let removal = r.poll_request().unwrap();
    assert!(!r.has_request());
    assert_eq!(
        removal.headers.cseq().unwrap().seq,
        2,
        "no CSeq spent on a rebuild"
    );
    assert_eq!(removal.headers.expires(), Some(0), "still the un-REGISTER");
    let contact = removal.headers.get(&HeaderName::Contact).unwrap();
    assert!(contact.contains(":40001"), "{contact}");
    assert!(
        removal
            .headers
            .top_via()
            .unwrap()
            .to_string()
            .contains("192.0.2.10:40001"),
        "{removal:?}"
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
fn token_required_then_renewed_credentials_register_and_reregister() {
    // No token yet: the Bearer challenge is reported with where to get one.
    let mut r = registration(Credentials::None, 3600);
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    let challenge = |request: &Request| {
        let mut challenge = Response::for_request(request, StatusCode::PROXY_AUTH_REQUIRED, None);
        challenge.headers.push(
            HeaderName::ProxyAuthenticate,
            r#"Bearer realm="x", scope="sip", authz_server="https://as.test""#,
        );
        challenge
    };
    r.handle_response(now, &challenge(&first));
    let failed = events(&mut r);
    let [
        RegistrationEvent::Failed(RegistrationError::Auth(AuthError::TokenRequired {
            challenge: b,
        })),
    ] = failed.as_slice()
    else {
        panic!("{failed:?}")
    };
    assert_eq!(b.authz_server.as_deref(), Some("https://as.test"));
    assert!(r.poll_request().is_none());

    // A token arrives: a REGISTER goes out; the 407 learnt before makes it Proxy-Authorization.
    let token = |t: &str| Credentials::Bearer {
        token: Secret::new(t),
    };
    r.renew_credentials(now, token("t1"));
    let second = r.poll_request().expect("REGISTER with the new token");
    assert_eq!(second.headers.get(&HeaderName::ProxyAuthorization), None);
    r.handle_response(now, &challenge(&second));
    let third = r.poll_request().unwrap();
    assert_eq!(
        third.headers.get(&HeaderName::ProxyAuthorization),
        Some("Bearer t1")
    );
    r.handle_response(now, &ok(&third, Some(3600)));
    assert!(r.is_registered());

    // A refreshed token while registered: re-REGISTER at once, proactively with the new token.
    r.renew_credentials(now, token("t2"));
    let fourth = r
        .poll_request()
        .expect("re-REGISTER with the refreshed token");
    assert_eq!(
        fourth.headers.get(&HeaderName::ProxyAuthorization),
        Some("Bearer t2")
    );
    assert!(r.is_registered(), "the binding stays while re-registering");

    // Before register(): only replaced, nothing sent.
    let mut idle = registration(Credentials::None, 3600);
    idle.renew_credentials(now, token("t3"));
    assert!(idle.poll_request().is_none());
}

#[test]
fn renewed_tokens_that_keep_being_rejected_do_not_loop() {
    let mut r = registration(
        Credentials::Bearer {
            token: Secret::new("t1"),
        },
        3600,
    );
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    r.handle_response(now, &bearer_challenge(&first, None));
    let mut rejected = 0;
    for round in 0..5 {
        let Some(request) = r.poll_request() else {
            break;
        };
        r.handle_response(now, &bearer_challenge(&request, Some("invalid_token")));
        for event in events(&mut r) {
            if matches!(event, RegistrationEvent::TokenRejected { .. }) {
                rejected += 1;
                r.renew_credentials(
                    now,
                    Credentials::Bearer {
                        token: Secret::new(format!("t{}", round + 2)),
                    },
                );
            }
        }
    }
    assert_eq!(rejected, 1, "one refresh per success, never a loop");
    assert!(r.poll_request().is_none());
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

/// Registers with a 200 granting `granted` seconds at `now`; returns the request answered.
fn registered(r: &mut Registration, now: Instant, granted: u32) -> Request {
    r.register(now);
    let request = r.poll_request().expect("a REGISTER");
    r.handle_response(now, &ok(&request, Some(granted)));
    assert!(r.is_registered());
    let _ = events(r);
    request
}

fn failure(events: &[RegistrationEvent]) -> &RegistrationError {
    match events {
        [RegistrationEvent::Failed(error)] => error,
        other => panic!("expected one Failed, got {other:?}"),
    }
}

#[test]
fn a_final_refusal_fails_once_with_its_status_and_reason() {
    for (status, reason) in [
        (403, "Forbidden"),
        (404, "Not Found"),
        (500, "Server Internal Error"),
        (603, "Decline"),
    ] {
        let mut r = registration(Credentials::None, 3600);
        let now = base();
        r.register(now);
        let first = r.poll_request().unwrap();
        let refusal = Response::for_request(&first, StatusCode(status), Some(reason));
        r.handle_response(now, &refusal);
        let ev = events(&mut r);
        let error = failure(&ev);
        assert_eq!(
            error,
            &RegistrationError::Refused {
                status,
                reason: reason.to_owned()
            }
        );
        let text = error.to_string();
        assert!(
            text.contains(&status.to_string()) && text.contains(reason),
            "{text}"
        );
        assert!(r.poll_request().is_none(), "{status}: no retry");
        assert_eq!(r.poll_timeout(), None, "{status}: no timer");
        assert!(!r.is_registered());
    }
}

#[test]
fn an_unanswered_first_register_is_registrar_did_not_answer() {
    let mut r = registration(Credentials::None, 3600);
    let now = base();
    r.register(now);
    let _ = r.poll_request().unwrap();
    r.transaction_failed(now + Duration::from_secs(32));
    let ev = events(&mut r);
    assert_eq!(failure(&ev), &RegistrationError::NoAnswer);
    assert!(
        failure(&ev)
            .to_string()
            .contains("registrar did not answer")
    );
    assert_eq!(r.poll_timeout(), None);
    // A second report for the same (already failed) request changes nothing.
    r.transaction_failed(now + Duration::from_secs(33));
    assert!(events(&mut r).is_empty());
}

#[test]
fn a_5xx_to_a_refresh_is_retried_after_retry_after_and_the_binding_is_kept() {
    let mut r = registration(Credentials::None, 3600);
    let now = base();
    registered(&mut r, now, 3600);
    let refresh_at = now + Duration::from_secs(2880);
    assert_eq!(r.poll_timeout(), Some(refresh_at));
    r.handle_timeout(refresh_at);
    let refresh = r.poll_request().unwrap();
    let mut busy = Response::for_request(&refresh, StatusCode(503), Some("Service Unavailable"));
    busy.headers
        .push(HeaderName::RetryAfter, "120 (maintenance)");
    r.handle_response(refresh_at, &busy);
    assert!(matches!(
        events(&mut r).as_slice(),
        [RegistrationEvent::Retrying { after, reason }]
            if *after == Duration::from_secs(120) && reason.contains("503")
    ));
    assert!(r.is_registered(), "the binding still runs until 3600 s");
    assert_eq!(
        r.poll_timeout(),
        Some(refresh_at + Duration::from_secs(120))
    );
    r.handle_timeout(refresh_at + Duration::from_secs(120));
    let retry = r.poll_request().expect("retried");
    assert_eq!(retry.headers.cseq().unwrap().seq, 3);
}

#[test]
fn a_failed_refresh_lets_the_binding_expire_and_retrying_brings_it_back() {
    let mut r = registration(Credentials::None, 120);
    let now = base();
    registered(&mut r, now, 120);
    let at = |s: u64| now + Duration::from_secs(s);
    // 120 s: refresh at max(min(96, 90), 60) = 90 s.
    assert_eq!(r.poll_timeout(), Some(at(90)));
    r.handle_timeout(at(90));
    let _refresh = r.poll_request().unwrap();
    // No answer yet when the binding runs out.
    assert_eq!(r.poll_timeout(), Some(at(120)));
    r.handle_timeout(at(120));
    assert_eq!(events(&mut r), [RegistrationEvent::Expired]);
    assert!(!r.is_registered());
    // Timer F ends the refresh: retried, not given up.
    r.transaction_failed(at(122));
    assert!(matches!(
        events(&mut r).as_slice(),
        [RegistrationEvent::Retrying { after, .. }] if *after == Duration::from_secs(1)
    ));
    r.handle_timeout(at(123));
    let retry = r.poll_request().unwrap();
    r.handle_response(at(123), &ok(&retry, Some(120)));
    assert!(r.is_registered());
    assert!(matches!(
        events(&mut r).as_slice(),
        [
            RegistrationEvent::Registered { .. },
            RegistrationEvent::RefreshScheduled { after }
        ] if *after == Duration::from_secs(90)
    ));
}

#[test]
fn our_contacts_expires_wins_over_the_expires_header_and_other_bindings_are_ignored() {
    let mut r = registration(Credentials::None, 3600);
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    let mut response = Response::for_request(&first, StatusCode::OK, None);
    response.headers.push(
        HeaderName::Contact,
        "<sip:alice@198.51.100.7:5060>;expires=10, <sip:alice@192.0.2.10:5061;transport=tls>;expires=300",
    );
    response.headers.push(HeaderName::Expires, "900");
    r.handle_response(now, &response);
    assert!(events(&mut r).contains(&RegistrationEvent::Registered {
        expires: Duration::from_secs(300),
        contact: "sip:alice@192.0.2.10:5061;transport=tls".to_owned(),
    }));
    assert_eq!(r.poll_timeout(), Some(now + Duration::from_secs(240)));

    // Only another device's contact carries expires: the Expires header applies to ours.
    r.register(now);
    let second = r.poll_request().unwrap();
    let mut response = Response::for_request(&second, StatusCode::OK, None);
    response.headers.push(
        HeaderName::Contact,
        "<sip:alice@198.51.100.7:5060>;expires=10",
    );
    response.headers.push(HeaderName::Expires, "900");
    r.handle_response(now, &response);
    assert!(matches!(
        events(&mut r).first(),
        Some(RegistrationEvent::Registered { expires, .. }) if *expires == Duration::from_secs(900)
    ));
}

#[test]
fn a_200_that_drops_our_contact_is_not_bound() {
    let mut r = registration(Credentials::None, 3600);
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    r.handle_response(now, &ok(&first, Some(0)));
    assert_eq!(failure(&events(&mut r)), &RegistrationError::NotBound);
    assert!(!r.is_registered());
}

#[test]
fn the_refresh_margin_is_configurable() {
    let mut config = RegistrationConfig::new(
        "sip:example.test".parse().unwrap(),
        "sip:alice@example.test".parse().unwrap(),
        "sip:alice@192.0.2.10:5061;transport=tls".parse().unwrap(),
        Transport::Tls,
    );
    config.refresh_margin = Duration::from_secs(1000);
    let mut r = Registration::new(
        config,
        Authenticator::new(Credentials::None),
        StdRng::seed_from_u64(1),
    );
    let now = base();
    registered(&mut r, now, 3600);
    assert_eq!(r.poll_timeout(), Some(now + Duration::from_secs(2600)));
}

#[test]
fn interval_too_brief_raises_expires_for_every_later_register_and_needs_a_larger_minimum() {
    let mut r = registration(Credentials::None, 30);
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    let mut brief = Response::for_request(&first, StatusCode::INTERVAL_TOO_BRIEF, None);
    brief.headers.push(HeaderName::MinExpires, "120");
    r.handle_response(now, &brief);
    let second = r.poll_request().unwrap();
    assert!(
        second
            .headers
            .get(&HeaderName::Contact)
            .unwrap()
            .contains("expires=120")
    );
    r.handle_response(now, &ok(&second, None));
    assert!(matches!(
        events(&mut r).first(),
        Some(RegistrationEvent::Registered { expires, .. }) if *expires == Duration::from_secs(120)
    ));
    r.handle_timeout(now + Duration::from_secs(90));
    let refresh = r.poll_request().unwrap();
    assert_eq!(refresh.headers.get(&HeaderName::Expires), Some("120"));

    // A 423 whose minimum is not above what we asked for cannot be satisfied.
    let mut brief = Response::for_request(&refresh, StatusCode::INTERVAL_TOO_BRIEF, None);
    brief.headers.push(HeaderName::MinExpires, "60");
    r.handle_response(now + Duration::from_secs(90), &brief);
    assert!(matches!(
        failure(&events(&mut r)),
        RegistrationError::Refused { status: 423, .. }
    ));
    assert!(r.poll_request().is_none());
}

#[test]
fn unregister_answers_a_challenge_and_still_removes_the_binding() {
    let mut r = registration(digest(), 3600);
    let now = base();
    r.register(now);
    let first = r.poll_request().unwrap();
    r.handle_response(now, &challenge(&first, "n1", false));
    let second = r.poll_request().unwrap();
    r.handle_response(now, &ok(&second, Some(3600)));
    let _ = events(&mut r);
    r.unregister(now);
    let un = r.poll_request().unwrap();
    assert!(
        un.headers.get(&HeaderName::Authorization).is_some(),
        "credentials sent pre-emptively"
    );
    r.handle_response(now, &challenge(&un, "n2", true));
    let un_again = r.poll_request().expect("stale nonce: retried");
    assert_eq!(un_again.headers.get(&HeaderName::Expires), Some("0"));
    assert!(
        un_again
            .headers
            .get(&HeaderName::Authorization)
            .unwrap()
            .contains("nonce=\"n2\"")
    );
    r.handle_response(now, &ok(&un_again, None));
    assert_eq!(events(&mut r), [RegistrationEvent::Unregistered]);
}

#[test]
fn an_instance_id_and_reg_id_ask_for_outbound() {
    let contact_of = |instance: Option<&str>, reg_id: Option<u32>| {
        let mut config = RegistrationConfig::new(
            "sip:example.test".parse().unwrap(),
            "sip:alice@example.test".parse().unwrap(),
            "sip:alice@192.0.2.10:5061;transport=tls".parse().unwrap(),
            Transport::Tls,
        );
        config.instance_id = instance.map(str::to_owned);
        config.reg_id = reg_id;
        let mut r = Registration::new(
            config,
            Authenticator::new(Credentials::None),
            StdRng::seed_from_u64(1),
        );
        r.register(base());
        let request = r.poll_request().unwrap();
        let contacts = request.headers.contacts().unwrap();
        assert_eq!(contacts.len(), 1);
        let supported = request
            .headers
            .get(&HeaderName::Supported)
            .map(str::to_owned);
        (contacts[0].clone(), supported)
    };
    let uuid = "urn:uuid:00000000-0000-1000-8000-000a95a0e128";
    let (contact, supported) = contact_of(Some(uuid), Some(1));
    assert_eq!(
        contact.param("+sip.instance"),
        Some(Some(format!("\"<{uuid}>\"").as_str()))
    );
    assert_eq!(contact.param("reg-id"), Some(Some("1")));
    assert_eq!(supported.as_deref(), Some("outbound"));

    let (contact, supported) = contact_of(None, Some(1));
    assert_eq!(contact.param("reg-id"), None, "reg-id needs an instance id");
    assert_eq!(supported, None);
}
