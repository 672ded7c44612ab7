//! Tests of [`Authenticator`].

use super::*;
use crate::auth::Secret;
use crate::message::{HeaderName, Method, Uri};

/// An RNG that yields 0, 1, 2, … so cnonces are predictable.
struct Counting(u8);

impl RngCore for Counting {
    fn next_u32(&mut self) -> u32 {
        let mut b = [0; 4];
        self.fill_bytes(&mut b);
        u32::from_le_bytes(b)
    }
    fn next_u64(&mut self) -> u64 {
        let mut b = [0; 8];
        self.fill_bytes(&mut b);
        u64::from_le_bytes(b)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for byte in dest {
            *byte = self.0;
            self.0 = self.0.wrapping_add(1);
        }
    }
}

const PASSWORD: &str = "Circle of Life";
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.payload.sig";

fn digest_creds() -> Credentials {
    Credentials::Digest {
        username: "alice".into(),
        password: Secret::new(PASSWORD),
    }
}

fn bearer_creds(token: &str) -> Credentials {
    Credentials::Bearer {
        token: Secret::new(token),
    }
}

fn challenge(status: StatusCode, headers: &[(HeaderName, &str)]) -> Response {
    let mut resp = Response::new(status, None);
    for (name, value) in headers {
        resp.headers.push(name.clone(), *value);
    }
    resp
}

fn www(value: &str) -> Response {
    challenge(
        StatusCode::UNAUTHORIZED,
        &[(HeaderName::WwwAuthenticate, value)],
    )
}

fn register() -> Request {
    let uri: Uri = "sips:example.test".parse().unwrap();
    let mut req = Request::new(Method::Register, uri);
    req.headers
        .push(HeaderName::Authorization, "stale leftover");
    req
}

fn authorized(auth: &mut Authenticator) -> Request {
    let mut req = register();
    auth.authorize(&mut req, &mut Counting(0));
    req
}

#[test]
fn digest_prefers_sha256_and_matches_vectors() {
    let mut auth = Authenticator::new(digest_creds());
    let resp = challenge(
        StatusCode::UNAUTHORIZED,
        &[
            (
                HeaderName::WwwAuthenticate,
                r#"Digest realm="example.test", nonce="nonce123", qop="auth", algorithm=MD5"#,
            ),
            (
                HeaderName::WwwAuthenticate,
                r#"Digest realm="example.test", nonce="nonce123", qop="auth,auth-int", algorithm=SHA-256, opaque="op""#,
            ),
            (
                HeaderName::WwwAuthenticate,
                r#"Bearer realm="example.test""#,
            ),
        ],
    );
    assert_eq!(auth.on_challenge(&resp), Ok(ChallengeOutcome::Retry));
    let req = authorized(&mut auth);
    let values: Vec<&str> = req.headers.get_all(&HeaderName::Authorization).collect();
    assert_eq!(
        values,
        [
            "Digest username=\"alice\", realm=\"example.test\", nonce=\"nonce123\", uri=\"sips:example.test\", \
             response=\"d4e6a1251e834e109fe1cc8cb57a2fc055f782ea534071a15fd0d3d985f66cc8\", algorithm=SHA-256, \
             cnonce=\"000102030405060708090a0b0c0d0e0f\", opaque=\"op\", qop=auth, nc=00000001"
        ]
    );
    // The next request counts on: nc=2.
    let req = authorized(&mut auth);
    let value = req.headers.get(&HeaderName::Authorization).unwrap();
    assert!(
        value.contains(
            "response=\"dccc4a703f3a1dec51d817855f90e9724b58cbb62073d9047f93e3cc7d764da3\""
        )
    );
    assert!(value.ends_with("nc=00000002"));
}

#[test]
fn algorithm_echoed_as_spelled_and_md5_vector() {
    let mut auth = Authenticator::new(digest_creds());
    auth.on_challenge(&www(
        r#"Digest realm="example.test", nonce="nonce123", qop="auth", algorithm=md5"#,
    ))
    .unwrap();
    let value = authorized(&mut auth)
        .headers
        .get(&HeaderName::Authorization)
        .unwrap()
        .to_owned();
    assert!(
        value.contains("response=\"4e6eac36db0d982d6fafa2e7e2e24358\", algorithm=md5,"),
        "{value}"
    );

    let mut auth = Authenticator::new(digest_creds());
    auth.on_challenge(&www(
        r#"Digest realm="example.test", nonce="nonce123", qop=auth, algorithm=SHA256-sess"#,
    ))
    .unwrap();
    let value = authorized(&mut auth)
        .headers
        .get(&HeaderName::Authorization)
        .unwrap()
        .to_owned();
    assert!(value.contains(
        "response=\"962ffb1f03f88f56df4f805061680096505c63b4084ecf6358ebb753f9f6c2f2\", algorithm=SHA256-sess,"
    ));
}

#[test]
fn legacy_rfc2069_without_qop() {
    let mut auth = Authenticator::new(digest_creds());
    auth.on_challenge(&www(r#"Digest realm="example.test", nonce="nonce123""#))
        .unwrap();
    let value = authorized(&mut auth)
        .headers
        .get(&HeaderName::Authorization)
        .unwrap()
        .to_owned();
    assert_eq!(
        value,
        "Digest username=\"alice\", realm=\"example.test\", nonce=\"nonce123\", uri=\"sips:example.test\", \
         response=\"5fdde477f8781ce2c80a63c549f0603b\""
    );
}

#[test]
fn auth_int_only_is_refused_clearly() {
    let mut auth = Authenticator::new(digest_creds());
    let err = auth
        .on_challenge(&www(r#"Digest realm="r", nonce="n", qop="auth-int""#))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no supported challenge (offered: Digest realm=r (qop auth-int unsupported))"
    );
    let err = auth
        .on_challenge(&www(
            r#"Digest realm="r", nonce="n", algorithm=SHA-1, Basic realm="r""#,
        ))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no supported challenge (offered: Digest algorithm=SHA-1 (unsupported algorithm); \
         Basic (does not match the configured credentials))"
    );
}

#[test]
fn proxy_and_www_answered_separately() {
    let mut auth = Authenticator::new(digest_creds());
    auth.on_challenge(&www(r#"Digest realm="registrar", nonce="a", qop="auth""#))
        .unwrap();
    let resp = challenge(
        StatusCode::PROXY_AUTH_REQUIRED,
        &[(
            HeaderName::ProxyAuthenticate,
            r#"Digest realm="proxy", nonce="b", qop="auth""#,
        )],
    );
    auth.on_challenge(&resp).unwrap();
    let req = authorized(&mut auth);
    let www: Vec<&str> = req.headers.get_all(&HeaderName::Authorization).collect();
    let proxy: Vec<&str> = req
        .headers
        .get_all(&HeaderName::ProxyAuthorization)
        .collect();
    assert_eq!((www.len(), proxy.len()), (1, 1));
    assert!(www[0].contains("realm=\"registrar\""));
    assert!(proxy[0].contains("realm=\"proxy\""));
}

#[test]
fn wrong_password_never_loops() {
    let mut auth = Authenticator::new(digest_creds());
    let first = www(r#"Digest realm="r", nonce="n1", qop="auth""#);
    assert_eq!(auth.on_challenge(&first), Ok(ChallengeOutcome::Retry));
    // Challenged again before anything was sent: still fine.
    assert_eq!(auth.on_challenge(&first), Ok(ChallengeOutcome::Retry));
    authorized(&mut auth);
    // Same nonce after credentials went out: the password is wrong.
    assert_eq!(
        auth.on_challenge(&first).unwrap_err().to_string(),
        "credentials for realm `r` rejected: challenged again with the same nonce"
    );
    // A fresh nonce is tried once, then refused.
    assert_eq!(
        auth.on_challenge(&www(r#"Digest realm="r", nonce="n2", qop="auth""#)),
        Ok(ChallengeOutcome::Retry)
    );
    authorized(&mut auth);
    assert!(matches!(
        auth.on_challenge(&www(r#"Digest realm="r", nonce="n3", qop="auth""#)),
        Err(AuthError::Rejected { .. })
    ));
}

#[test]
fn stale_nonce_retries_and_success_resets() {
    let mut auth = Authenticator::new(digest_creds());
    auth.on_challenge(&www(r#"Digest realm="r", nonce="n1", qop="auth""#))
        .unwrap();
    authorized(&mut auth);
    for i in 2..6 {
        let stale = www(&format!(
            r#"Digest realm="r", nonce="n{i}", qop="auth", stale=true"#
        ));
        assert_eq!(
            auth.on_challenge(&stale),
            Ok(ChallengeOutcome::Retry),
            "stale {i}"
        );
        let value = authorized(&mut auth)
            .headers
            .get(&HeaderName::Authorization)
            .unwrap()
            .to_owned();
        assert!(value.contains(&format!("nonce=\"n{i}\"")) && value.ends_with("nc=00000001"));
    }
    // Fresh non-stale nonces: one retry between successes.
    for i in 10..13 {
        assert_eq!(
            auth.on_challenge(&www(&format!(r#"Digest realm="r", nonce="n{i}""#))),
            Ok(ChallengeOutcome::Retry)
        );
        authorized(&mut auth);
        auth.on_success();
    }
}

#[test]
fn bearer_on_401_and_407() {
    let mut auth = Authenticator::new(bearer_creds(TOKEN));
    let resp = challenge(
        StatusCode::PROXY_AUTH_REQUIRED,
        &[
            (
                HeaderName::ProxyAuthenticate,
                r#"Digest realm="cucm", nonce="x""#,
            ),
            (
                HeaderName::ProxyAuthenticate,
                r#"Bearer realm="cucm", authz_server="https://as.test""#,
            ),
        ],
    );
    assert_eq!(auth.on_challenge(&resp), Ok(ChallengeOutcome::Retry));
    let req = authorized(&mut auth);
    assert_eq!(
        req.headers.get(&HeaderName::ProxyAuthorization),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    assert_eq!(req.headers.get(&HeaderName::Authorization), None);

    let mut auth = Authenticator::new(bearer_creds(TOKEN));
    auth.on_challenge(&www(r#"Bearer realm="sip.test", scope="sip""#))
        .unwrap();
    let req = authorized(&mut auth);
    assert_eq!(
        req.headers.get(&HeaderName::Authorization),
        Some(format!("Bearer {TOKEN}").as_str())
    );
}

#[test]
fn bearer_invalid_token_then_refresh_then_reject() {
    let mut auth = Authenticator::new(bearer_creds(TOKEN));
    auth.on_challenge(&www(r#"Bearer realm="r""#)).unwrap();
    authorized(&mut auth);
    let invalid = www(r#"Bearer realm="r", error="invalid_token", error_description="expired""#);
    assert_eq!(
        auth.on_challenge(&invalid),
        Err(AuthError::InvalidToken {
            description: Some("expired".into())
        })
    );
    auth.set_credentials(bearer_creds("new-token"));
    let req = authorized(&mut auth);
    assert_eq!(
        req.headers.get(&HeaderName::Authorization),
        Some("Bearer new-token")
    );
    assert_eq!(
        auth.on_challenge(&www(r#"Bearer realm="r""#))
            .unwrap_err()
            .to_string(),
        "credentials for realm `r` rejected: bearer token challenged again"
    );
}

#[test]
fn mismatched_or_missing_credentials() {
    let mut auth = Authenticator::new(bearer_creds(TOKEN));
    assert!(matches!(
        auth.on_challenge(&www(r#"Digest realm="r", nonce="n""#)),
        Err(AuthError::NoSupportedChallenge { .. })
    ));
    let mut auth = Authenticator::new(Credentials::None);
    assert_eq!(
        auth.on_challenge(&www(r#"Digest realm="r", nonce="n""#))
            .unwrap_err()
            .to_string(),
        "challenged for credentials but none are configured"
    );
    assert_eq!(
        auth.on_challenge(&Response::new(StatusCode::OK, None)),
        Err(AuthError::NotAChallenge { status: 200 })
    );
    assert!(!auth.has_challenges());
    // With nothing learnt, authorize only clears stale headers.
    let req = authorized(&mut auth);
    assert_eq!(req.headers.get(&HeaderName::Authorization), None);
}

#[test]
fn several_challenges_picked_by_credentials() {
    // RFC 8898: one 401 with a Digest and a Bearer challenge in separate headers.
    let both = challenge(
        StatusCode::UNAUTHORIZED,
        &[
            (
                HeaderName::WwwAuthenticate,
                r#"Digest realm="r", nonce="n", qop="auth""#,
            ),
            (
                HeaderName::WwwAuthenticate,
                r#"Bearer realm="r", scope="sip", authz_server="https://as.test""#,
            ),
        ],
    );
    let mut bearer = Authenticator::new(bearer_creds(TOKEN));
    bearer.on_challenge(&both).unwrap();
    let req = authorized(&mut bearer);
    assert_eq!(
        req.headers.get_all(&HeaderName::Authorization).count(),
        1,
        "one answer only"
    );
    assert_eq!(
        req.headers.get(&HeaderName::Authorization),
        Some(format!("Bearer {TOKEN}").as_str())
    );
    let mut digest = Authenticator::new(digest_creds());
    digest.on_challenge(&both).unwrap();
    let req = authorized(&mut digest);
    assert!(
        req.headers
            .get(&HeaderName::Authorization)
            .unwrap()
            .starts_with("Digest ")
    );
    // Without credentials, the Bearer challenge says where a token comes from.
    let mut none = Authenticator::new(Credentials::None);
    let Err(AuthError::TokenRequired { challenge }) = none.on_challenge(&both) else {
        panic!("token required expected")
    };
    assert_eq!(challenge.authz_server.as_deref(), Some("https://as.test"));
    assert_eq!(challenge.scope.as_deref(), Some("sip"));
    assert_eq!(
        AuthError::TokenRequired { challenge }.to_string(),
        "the server asks for an OAuth bearer token from https://as.test: log in to obtain one"
    );
}

#[test]
fn bearer_is_sent_proactively_once_asked_and_insufficient_scope_is_final() {
    let mut auth = Authenticator::new(bearer_creds(TOKEN));
    auth.on_challenge(&www(r#"Bearer realm="r""#)).unwrap();
    authorized(&mut auth);
    auth.on_success();
    // Later requests carry the token without a new challenge.
    for _ in 0..3 {
        let req = authorized(&mut auth);
        assert_eq!(
            req.headers.get(&HeaderName::Authorization),
            Some(format!("Bearer {TOKEN}").as_str())
        );
        auth.on_success();
    }
    authorized(&mut auth);
    let scope = www(r#"Bearer realm="r", error="insufficient_scope""#);
    assert!(matches!(
        auth.on_challenge(&scope),
        Err(AuthError::Rejected { .. })
    ));
}

#[test]
fn secrets_stay_out_of_debug_and_errors() {
    let mut auth = Authenticator::new(digest_creds());
    auth.on_challenge(&www(r#"Digest realm="r", nonce="n", qop="auth""#))
        .unwrap();
    authorized(&mut auth);
    let wrong = auth
        .on_challenge(&www(r#"Digest realm="r", nonce="n", qop="auth""#))
        .unwrap_err();
    let mut bearer = Authenticator::new(bearer_creds(TOKEN));
    bearer.on_challenge(&www(r#"Bearer realm="r""#)).unwrap();
    let text = format!(
        "{auth:?} {bearer:?} {wrong} {wrong:?} {:?} {:?}",
        digest_creds(),
        bearer_creds(TOKEN)
    );
    assert!(text.contains("<redacted>"));
    assert!(!text.contains(PASSWORD) && !text.contains(TOKEN), "{text}");
}
