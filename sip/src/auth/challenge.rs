//! Typed challenges: [`Challenge`], [`DigestChallenge`], [`BearerChallenge`], read from
//! `WWW-Authenticate` and `Proxy-Authenticate`.

use super::digest::DigestAlgorithm;
use super::error::{AuthError, malformed};
use super::params::{RawChallenge, split_challenges};
use crate::message::{HeaderName, Response, snippet};

/// Where a challenge came from, which decides the header that answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChallengeOrigin {
    /// `WWW-Authenticate` (a 401 from the registrar or UAS), answered in `Authorization`.
    Www,
    /// `Proxy-Authenticate` (a 407 from a proxy), answered in `Proxy-Authorization`.
    Proxy,
}

impl ChallengeOrigin {
    /// The header that carries the challenge.
    pub fn challenge_header(self) -> HeaderName {
        match self {
            ChallengeOrigin::Www => HeaderName::WwwAuthenticate,
            ChallengeOrigin::Proxy => HeaderName::ProxyAuthenticate,
        }
    }

    /// The header that carries the answer.
    pub fn credentials_header(self) -> HeaderName {
        match self {
            ChallengeOrigin::Www => HeaderName::Authorization,
            ChallengeOrigin::Proxy => HeaderName::ProxyAuthorization,
        }
    }
}

/// One challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Digest …` with an algorithm Lockphone supports.
    Digest(DigestChallenge),
    /// `Bearer …` (RFC 8898).
    Bearer(BearerChallenge),
    /// Any other scheme (`Basic`, `Negotiate`, …), which Lockphone does not answer.
    Other {
        /// The scheme as written.
        scheme: String,
    },
}

impl Challenge {
    /// The scheme name (`Digest`, `Bearer`, or as written).
    pub fn scheme(&self) -> &str {
        match self {
            Challenge::Digest(_) => "Digest",
            Challenge::Bearer(_) => "Bearer",
            Challenge::Other { scheme } => scheme,
        }
    }
}

/// A Digest challenge (RFC 7616 §3.3, RFC 8760).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestChallenge {
    /// The protection space.
    pub realm: String,
    /// The server nonce.
    pub nonce: String,
    /// Opaque data to echo.
    pub opaque: Option<String>,
    /// The hash algorithm (MD5 when absent).
    pub algorithm: DigestAlgorithm,
    /// The qop options offered (`auth`, `auth-int`); empty for an RFC 2069 challenge.
    pub qop: Vec<String>,
    /// Whether the previous nonce was merely stale (retry with the new one, same password).
    pub stale: bool,
    /// The `domain` parameter.
    pub domain: Option<String>,
    /// The `algorithm` value exactly as the server spelled it (echoed in the answer); `None`
    /// when the server sent none.
    pub algorithm_name: Option<String>,
}

/// A Bearer challenge (RFC 8898 §2.3, RFC 6750 §3).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BearerChallenge {
    /// The protection space.
    pub realm: Option<String>,
    /// The scope the token needs.
    pub scope: Option<String>,
    /// The authorization server to get a token from.
    pub authz_server: Option<String>,
    /// An error code (`invalid_token`, `insufficient_scope`, …).
    pub error: Option<String>,
    /// A human-readable error description.
    pub error_description: Option<String>,
}

/// Parses one `WWW-Authenticate`/`Proxy-Authenticate` value, which may hold several
/// challenges. Digest challenges with an algorithm Lockphone does not support are skipped.
///
/// ```
/// use lockphone_sip::auth::{parse_challenges, Challenge, DigestAlgorithm};
///
/// let got = parse_challenges(
///     r#"Digest realm="sip.test", nonce="abc", algorithm=SHA-256, qop="auth", Bearer realm="sip.test""#,
/// )
/// .unwrap();
/// assert!(matches!(&got[0], Challenge::Digest(d) if d.algorithm == DigestAlgorithm::Sha256));
/// assert!(matches!(&got[1], Challenge::Bearer(b) if b.realm.as_deref() == Some("sip.test")));
/// ```
pub fn parse_challenges(value: &str) -> Result<Vec<Challenge>, AuthError> {
    Ok(parse_with_skipped(value)?.0)
}

/// Like [`parse_challenges`], also returning a description of every challenge skipped.
pub(crate) fn parse_with_skipped(value: &str) -> Result<(Vec<Challenge>, Vec<String>), AuthError> {
    let mut challenges = Vec::new();
    let mut skipped = Vec::new();
    for raw in split_challenges(value)? {
        if raw.scheme.eq_ignore_ascii_case("Digest") {
            match digest(&raw)? {
                Ok(challenge) => challenges.push(Challenge::Digest(challenge)),
                Err(reason) => skipped.push(reason),
            }
        } else if raw.scheme.eq_ignore_ascii_case("Bearer") {
            challenges.push(Challenge::Bearer(bearer(&raw)));
        } else {
            challenges.push(Challenge::Other {
                scheme: raw.scheme.to_owned(),
            });
        }
    }
    Ok((challenges, skipped))
}

/// A Digest challenge; the inner `Err` describes an unsupported algorithm.
fn digest(raw: &RawChallenge<'_>) -> Result<Result<DigestChallenge, String>, AuthError> {
    let realm = raw
        .param("realm")
        .ok_or_else(|| malformed("Digest challenge without realm"))?;
    let nonce = raw
        .param("nonce")
        .ok_or_else(|| malformed("Digest challenge without nonce"))?;
    let algorithm_name = raw.param("algorithm");
    let algorithm = match algorithm_name {
        None => DigestAlgorithm::Md5,
        Some(name) => match DigestAlgorithm::from_name(name) {
            Some(algorithm) => algorithm,
            None => {
                return Ok(Err(format!(
                    "Digest algorithm={} (unsupported algorithm)",
                    snippet(name)
                )));
            }
        },
    };
    let qop = raw
        .param("qop")
        .map(|qop| {
            qop.split(',')
                .map(str::trim)
                .filter(|q| !q.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    Ok(Ok(DigestChallenge {
        realm: realm.to_owned(),
        nonce: nonce.to_owned(),
        opaque: raw.param("opaque").map(str::to_owned),
        algorithm,
        qop,
        stale: raw
            .param("stale")
            .is_some_and(|s| s.eq_ignore_ascii_case("true")),
        domain: raw.param("domain").map(str::to_owned),
        algorithm_name: algorithm_name.map(str::to_owned),
    }))
}

fn bearer(raw: &RawChallenge<'_>) -> BearerChallenge {
    let get = |name| raw.param(name).map(str::to_owned);
    BearerChallenge {
        realm: get("realm"),
        scope: get("scope"),
        authz_server: get("authz_server"),
        error: get("error"),
        error_description: get("error_description"),
    }
}

/// Every challenge in a response's `WWW-Authenticate` and `Proxy-Authenticate` headers (RFC
/// 8898 allows several), in order. Malformed header values are skipped.
pub fn challenges_in(response: &Response) -> Vec<(ChallengeOrigin, Challenge)> {
    challenges_with_skipped(response).0
}

/// Like [`challenges_in`], also describing what was skipped and why.
pub(crate) fn challenges_with_skipped(
    response: &Response,
) -> (Vec<(ChallengeOrigin, Challenge)>, Vec<String>) {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for origin in [ChallengeOrigin::Www, ChallengeOrigin::Proxy] {
        for value in response.headers.get_all(&origin.challenge_header()) {
            match parse_with_skipped(value) {
                Ok((challenges, why)) => {
                    found.extend(challenges.into_iter().map(|c| (origin, c)));
                    skipped.extend(why);
                }
                Err(err) => skipped.push(err.to_string()),
            }
        }
    }
    (found, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::StatusCode;

    #[test]
    fn digest_fields() {
        let got = parse_challenges(
            r#"Digest realm="example.test", domain="sip:example.test", qop="auth, auth-int", nonce="n=1", opaque="op", stale=TRUE, algorithm=sha256"#,
        )
        .unwrap();
        let Challenge::Digest(d) = &got[0] else {
            panic!("digest")
        };
        assert_eq!(d.realm, "example.test");
        assert_eq!(d.nonce, "n=1");
        assert_eq!(d.opaque.as_deref(), Some("op"));
        assert_eq!(d.algorithm, DigestAlgorithm::Sha256);
        assert_eq!(d.algorithm_name.as_deref(), Some("sha256"));
        assert_eq!(d.qop, ["auth", "auth-int"]);
        assert!(d.stale);
        assert_eq!(d.domain.as_deref(), Some("sip:example.test"));

        let got = parse_challenges(r#"digest realm="r", nonce="n""#).unwrap();
        let Challenge::Digest(d) = &got[0] else {
            panic!("digest")
        };
        assert_eq!(
            (
                d.algorithm,
                d.algorithm_name.as_deref(),
                d.qop.len(),
                d.stale
            ),
            (DigestAlgorithm::Md5, None, 0, false)
        );
    }

    #[test]
    fn bearer_fields() {
        let got = parse_challenges(
            r#"Bearer realm="atlanta.test", scope="sip", authz_server="https://as.atlanta.test", error="invalid_token", error_description="The token expired""#,
        )
        .unwrap();
        assert_eq!(
            got,
            vec![Challenge::Bearer(BearerChallenge {
                realm: Some("atlanta.test".into()),
                scope: Some("sip".into()),
                authz_server: Some("https://as.atlanta.test".into()),
                error: Some("invalid_token".into()),
                error_description: Some("The token expired".into()),
            })]
        );
        assert_eq!(
            parse_challenges("Bearer").unwrap(),
            vec![Challenge::Bearer(BearerChallenge::default())]
        );
    }

    #[test]
    fn unsupported_algorithm_skipped_with_reason() {
        let (got, skipped) =
            parse_with_skipped(r#"Digest realm="r", nonce="n", algorithm=SHA-1, Basic realm="r""#)
                .unwrap();
        assert_eq!(
            got,
            vec![Challenge::Other {
                scheme: "Basic".into()
            }]
        );
        assert_eq!(skipped, ["Digest algorithm=SHA-1 (unsupported algorithm)"]);
    }

    #[test]
    fn digest_needs_realm_and_nonce() {
        assert_eq!(
            parse_challenges(r#"Digest realm="r""#)
                .unwrap_err()
                .to_string(),
            "malformed challenge: Digest challenge without nonce"
        );
        assert!(parse_challenges(r#"Digest nonce="n""#).is_err());
    }

    #[test]
    fn many_headers_in_a_401_and_407() {
        let mut resp = Response::new(StatusCode::UNAUTHORIZED, None);
        resp.headers.push(
            HeaderName::WwwAuthenticate,
            r#"Digest realm="r", nonce="n1", algorithm=SHA-256"#,
        );
        resp.headers.push(
            HeaderName::WwwAuthenticate,
            r#"Digest realm="r", nonce="n2""#,
        );
        resp.headers
            .push(HeaderName::WwwAuthenticate, r#"Bearer realm="r""#);
        resp.headers
            .push(HeaderName::WwwAuthenticate, r#"Digest realm="broken"#);
        resp.headers.push(
            HeaderName::ProxyAuthenticate,
            r#"Bearer realm="p", scope="sip""#,
        );
        let got = challenges_in(&resp);
        let summary: Vec<(ChallengeOrigin, &str)> =
            got.iter().map(|(o, c)| (*o, c.scheme())).collect();
        assert_eq!(
            summary,
            [
                (ChallengeOrigin::Www, "Digest"),
                (ChallengeOrigin::Www, "Digest"),
                (ChallengeOrigin::Www, "Bearer"),
                (ChallengeOrigin::Proxy, "Bearer"),
            ]
        );
        assert_eq!(challenges_with_skipped(&resp).1.len(), 1);
    }
}
