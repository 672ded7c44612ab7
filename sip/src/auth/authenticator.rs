//! [`Authenticator`]: the sans-IO client side of SIP authentication. It learns from 401/407
//! responses and adds `Authorization`/`Proxy-Authorization` to later requests.

use rand::RngCore;

use super::challenge::{
    BearerChallenge, Challenge, ChallengeOrigin, DigestChallenge, challenges_with_skipped,
};
use super::digest::{DigestInput, credentials_value};
use super::error::AuthError;
use super::secret::Credentials;
use crate::message::{Request, Response, StatusCode};

/// What [`Authenticator::on_challenge`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ChallengeOutcome {
    /// Send the request again (new CSeq) after [`Authenticator::authorize`].
    Retry,
}

/// The sans-IO authenticator of one account.
///
/// Loop protection: [`on_challenge`](Authenticator::on_challenge) returns
/// [`ChallengeOutcome::Retry`] only when the retry can succeed where the last attempt failed.
/// Once credentials for a realm have been sent, a new challenge for that realm is answered
/// again only if it is `stale=true` (new nonce, same password), or once with a fresh nonce (a
/// server that forgot its nonce without saying stale); the same nonce again, or a second fresh
/// nonce, is [`AuthError::Rejected`]. A Bearer token that was sent and is challenged again is
/// [`AuthError::InvalidToken`] (with `error="invalid_token"`: refresh, call
/// [`set_credentials`](Authenticator::set_credentials), retry once) or [`AuthError::Rejected`].
/// Call [`on_success`](Authenticator::on_success) when an authorized request gets a
/// non-401/407 final response, so that a later re-challenge starts afresh.
///
/// `Debug` shows the learnt challenges but never the password or token.
#[derive(Debug)]
pub struct Authenticator {
    credentials: Credentials,
    /// The challenges answered on every request, one per origin and realm.
    accepted: Vec<Accepted>,
}

/// A challenge that was accepted, and what has been sent for it.
#[derive(Debug)]
struct Accepted {
    origin: ChallengeOrigin,
    kind: AcceptedKind,
    /// Credentials for it went out and no success was reported since.
    sent: bool,
    /// Fresh-nonce (not stale) re-challenges accepted since the last success.
    fresh_nonce_retries: u8,
}

#[derive(Debug)]
enum AcceptedKind {
    Digest {
        challenge: DigestChallenge,
        /// The last nonce count used with `challenge.nonce`.
        nc: u32,
    },
    Bearer(BearerChallenge),
}

impl Accepted {
    fn realm(&self) -> &str {
        match &self.kind {
            AcceptedKind::Digest { challenge, .. } => &challenge.realm,
            AcceptedKind::Bearer(challenge) => challenge.realm.as_deref().unwrap_or(""),
        }
    }

    fn matches(&self, origin: ChallengeOrigin, realm: &str, bearer: bool) -> bool {
        self.origin == origin
            && matches!(self.kind, AcceptedKind::Bearer(_)) == bearer
            && self.realm() == realm
    }
}

/// How many fresh-nonce (not stale) re-challenges are answered between successes.
const MAX_FRESH_NONCE_RETRIES: u8 = 1;

impl Authenticator {
    /// An authenticator that answers with `credentials`.
    pub fn new(credentials: Credentials) -> Authenticator {
        Authenticator {
            credentials,
            accepted: Vec::new(),
        }
    }

    /// Learns from a 401/407. Picks, per origin and realm, the Bearer challenge for Bearer
    /// credentials, or the strongest Digest challenge (SHA-512-256 > SHA-256 > MD5, first
    /// offered on a tie) with `qop=auth` or no qop for Digest credentials.
    pub fn on_challenge(&mut self, response: &Response) -> Result<ChallengeOutcome, AuthError> {
        let status = response.status;
        if status != StatusCode::UNAUTHORIZED && status != StatusCode::PROXY_AUTH_REQUIRED {
            return Err(AuthError::NotAChallenge { status: status.0 });
        }
        let (challenges, mut offered) = challenges_with_skipped(response);
        let bearer = match &self.credentials {
            Credentials::None => return Err(no_credentials(challenges)),
            Credentials::Bearer { .. } => true,
            Credentials::Digest { .. } => false,
        };
        let mut picked: Vec<(ChallengeOrigin, AcceptedKind)> = Vec::new();
        for (origin, challenge) in challenges {
            let kind = match (challenge, bearer) {
                (Challenge::Bearer(b), true) => AcceptedKind::Bearer(b),
                (Challenge::Digest(d), false) if supported_qop(&d.qop).is_some() => {
                    AcceptedKind::Digest {
                        challenge: d,
                        nc: 0,
                    }
                }
                (Challenge::Digest(d), false) => {
                    offered.push(format!(
                        "Digest realm={} (qop {} unsupported)",
                        d.realm,
                        d.qop.join(",")
                    ));
                    continue;
                }
                (other, _) => {
                    offered.push(format!(
                        "{} (does not match the configured credentials)",
                        other.scheme()
                    ));
                    continue;
                }
            };
            let candidate = Accepted {
                origin,
                kind,
                sent: false,
                fresh_nonce_retries: 0,
            };
            match picked
                .iter_mut()
                .find(|(o, k)| *o == origin && same_realm(k, &candidate.kind))
            {
                Some((_, current)) if stronger(&candidate.kind, current) => {
                    *current = candidate.kind
                }
                Some(_) => {}
                None => picked.push((origin, candidate.kind)),
            }
        }
        if picked.is_empty() {
            return Err(AuthError::NoSupportedChallenge { offered });
        }
        // Decide everything before changing anything.
        let mut updates = Vec::with_capacity(picked.len());
        for (origin, kind) in picked {
            let fresh_nonce_retries = self.check_retry(origin, &kind)?;
            updates.push(Accepted {
                origin,
                kind,
                sent: false,
                fresh_nonce_retries,
            });
        }
        for update in updates {
            let realm = update.realm().to_owned();
            let is_bearer = matches!(update.kind, AcceptedKind::Bearer(_));
            self.accepted
                .retain(|a| !a.matches(update.origin, &realm, is_bearer));
            self.accepted.push(update);
        }
        Ok(ChallengeOutcome::Retry)
    }

    /// Whether a new challenge may be answered, given what was sent for the previous one; the
    /// fresh-nonce retry count to carry on.
    fn check_retry(&self, origin: ChallengeOrigin, kind: &AcceptedKind) -> Result<u8, AuthError> {
        let (realm, is_bearer) = match kind {
            AcceptedKind::Digest { challenge, .. } => (challenge.realm.as_str(), false),
            AcceptedKind::Bearer(b) => (b.realm.as_deref().unwrap_or(""), true),
        };
        let Some(previous) = self
            .accepted
            .iter()
            .find(|a| a.matches(origin, realm, is_bearer))
        else {
            return Ok(0);
        };
        if !previous.sent {
            return Ok(previous.fresh_nonce_retries);
        }
        let rejected = |reason| AuthError::Rejected {
            realm: realm.to_owned(),
            reason,
        };
        match (kind, &previous.kind) {
            (AcceptedKind::Bearer(b), _) => match b.error.as_deref() {
                Some("invalid_token") => Err(AuthError::InvalidToken {
                    description: b.error_description.clone(),
                }),
                _ => Err(rejected("bearer token challenged again")),
            },
            (
                AcceptedKind::Digest { challenge: new, .. },
                AcceptedKind::Digest { challenge: old, .. },
            ) => {
                if new.nonce == old.nonce {
                    Err(rejected("challenged again with the same nonce"))
                } else if new.stale {
                    Ok(previous.fresh_nonce_retries)
                } else if previous.fresh_nonce_retries >= MAX_FRESH_NONCE_RETRIES {
                    Err(rejected(
                        "challenged again with a fresh nonce that is not stale",
                    ))
                } else {
                    Ok(previous.fresh_nonce_retries + 1)
                }
            }
            (AcceptedKind::Digest { .. }, AcceptedKind::Bearer(_)) => Ok(0),
        }
    }

    /// Adds `Authorization` (for 401 challenges) and `Proxy-Authorization` (for 407) to
    /// `request`, one per remembered challenge, replacing any already there. Digest answers
    /// take a fresh cnonce from `rng` and the next nonce count.
    pub fn authorize(&mut self, request: &mut Request, rng: &mut impl RngCore) {
        for origin in [ChallengeOrigin::Www, ChallengeOrigin::Proxy] {
            request.headers.remove(&origin.credentials_header());
        }
        let uri = request.uri.to_string();
        for accepted in &mut self.accepted {
            let value = match (&mut accepted.kind, &self.credentials) {
                (
                    AcceptedKind::Digest { challenge, nc },
                    Credentials::Digest { username, password },
                ) => {
                    *nc = nc.wrapping_add(1);
                    let mut cnonce = [0u8; 16];
                    rng.fill_bytes(&mut cnonce);
                    let cnonce = hex::encode(cnonce);
                    let input = DigestInput {
                        algorithm: challenge.algorithm,
                        username,
                        password: password.expose(),
                        realm: &challenge.realm,
                        nonce: &challenge.nonce,
                        method: request.method.as_str(),
                        uri: &uri,
                        qop: supported_qop(&challenge.qop).flatten(),
                        nc: *nc,
                        cnonce: &cnonce,
                    };
                    credentials_value(
                        &input,
                        challenge.algorithm_name.as_deref(),
                        challenge.opaque.as_deref(),
                    )
                }
                (AcceptedKind::Bearer(_), Credentials::Bearer { token }) => {
                    format!("Bearer {}", token.expose())
                }
                _ => continue,
            };
            request
                .headers
                .push(accepted.origin.credentials_header(), value);
            accepted.sent = true;
        }
    }

    /// Replaces the credentials (a refreshed Bearer token, say), keeping the learnt
    /// challenges; the next challenge is judged as if nothing had been sent yet.
    pub fn set_credentials(&mut self, credentials: Credentials) {
        self.credentials = credentials;
        for accepted in &mut self.accepted {
            accepted.sent = false;
            accepted.fresh_nonce_retries = 0;
        }
    }

    /// Reports that an authorized request got a final response other than 401/407: the
    /// credentials work, so a later re-challenge is answered afresh.
    pub fn on_success(&mut self) {
        for accepted in &mut self.accepted {
            accepted.sent = false;
            accepted.fresh_nonce_retries = 0;
        }
    }

    /// Whether any challenge has been learnt (requests will carry credentials).
    pub fn has_challenges(&self) -> bool {
        !self.accepted.is_empty()
    }
}

/// Why a challenge cannot be answered without credentials: a Bearer challenge says where a
/// token comes from ([`AuthError::TokenRequired`]), anything else is
/// [`AuthError::NoCredentials`].
fn no_credentials(challenges: Vec<(ChallengeOrigin, Challenge)>) -> AuthError {
    challenges
        .into_iter()
        .find_map(|(_, challenge)| match challenge {
            Challenge::Bearer(challenge) => Some(AuthError::TokenRequired { challenge }),
            _ => None,
        })
        .unwrap_or(AuthError::NoCredentials)
}

/// The qop to answer with: `Some(Some("auth"))`, `Some(None)` for an RFC 2069 challenge with
/// no qop, `None` when only unsupported options (`auth-int`) are offered.
fn supported_qop(offered: &[String]) -> Option<Option<&'static str>> {
    if offered.is_empty() {
        Some(None)
    } else if offered.iter().any(|q| q.eq_ignore_ascii_case("auth")) {
        Some(Some("auth"))
    } else {
        None
    }
}

fn same_realm(a: &AcceptedKind, b: &AcceptedKind) -> bool {
    match (a, b) {
        (AcceptedKind::Digest { challenge: a, .. }, AcceptedKind::Digest { challenge: b, .. }) => {
            a.realm == b.realm
        }
        (AcceptedKind::Bearer(a), AcceptedKind::Bearer(b)) => a.realm == b.realm,
        _ => false,
    }
}

/// Whether `candidate` is a strictly stronger Digest challenge than `current`.
fn stronger(candidate: &AcceptedKind, current: &AcceptedKind) -> bool {
    match (candidate, current) {
        (AcceptedKind::Digest { challenge: a, .. }, AcceptedKind::Digest { challenge: b, .. }) => {
            a.algorithm.strength() > b.algorithm.strength()
        }
        _ => false,
    }
}

#[cfg(test)]
#[path = "authenticator_tests.rs"]
mod tests;
