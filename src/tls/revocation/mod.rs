//! Certificate revocation: CRLs from CRL Distribution Points, OCSP from Authority Information
//! Access, and OCSP responses stapled to the handshake.
//!
//! rustls' verifier is synchronous and runs inside the handshake on the tokio runtime, so the
//! network part cannot run there. The check runs right after the handshake, before the
//! connection is handed to anyone ([`crate::tls::ClientTls::connect`]): the verifier has
//! already checked chain and identity (and, in Common Criteria mode, key sizes and signature
//! algorithms) and kept the stapled OCSP response; [`RevocationChecker::check`] then looks at
//! every certificate of the path below the trust anchor (leaf and intermediates) that names a
//! source: the cache first, then the staple (leaf only), then each OCSP URL, then each CRL
//! URL, until one gives a verified answer. All fetches of one connection share one budget
//! (5 s). A revoked certificate, or a forged answer, refuses the connection under every
//! policy; a status that stays unknown refuses it under `hard-fail` and is reported under
//! `soft-fail`. A chain that names no source is reported as "no revocation information".
//!
//! ```no_run
//! # async fn demo(chain: Vec<rustls::pki_types::CertificateDer<'static>>,
//! #               anchors: Vec<rustls::pki_types::CertificateDer<'static>>) {
//! use lockphone::tls::revocation::{RevocationChecker, RevocationPolicy};
//!
//! let checker = RevocationChecker::new(RevocationPolicy::HardFail);
//! match checker.check(&chain, &anchors, None).await {
//!     Ok(status) => println!("revocation: {}", status.describe()),
//!     Err(refused) => println!("refused: {refused}"),
//! }
//! # }
//! ```

mod cache;
mod chain;
mod crl;
mod fetch;
mod ocsp;
mod policy;

pub use cache::RevocationCache;
pub use policy::{
    CertificateGood, RevocationPolicy, RevocationSource, RevocationStatus, RevokedInfo,
};

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rustls::pki_types::CertificateDer;
use tokio::time::Instant;

use super::TlsError;
use policy::{Answer, SourceFailure};

/// The time all revocation fetches of one connection may take together (the seeds' limit).
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(5);
/// Clock difference tolerated on thisUpdate/nextUpdate.
const CLOCK_SKEW: u64 = 300;

/// Checks the revocation status of a server's chain. Cheap to clone (the cache is shared).
#[derive(Debug, Clone)]
pub struct RevocationChecker {
    policy: RevocationPolicy,
    cache: Arc<RevocationCache>,
    budget: Duration,
}

impl RevocationChecker {
    /// A checker with its own cache and the 5 s budget.
    pub fn new(policy: RevocationPolicy) -> RevocationChecker {
        RevocationChecker {
            policy,
            cache: Arc::new(RevocationCache::new()),
            budget: DEFAULT_BUDGET,
        }
    }

    /// Uses this budget for all fetches of one connection.
    pub fn with_budget(mut self, budget: Duration) -> RevocationChecker {
        self.budget = budget;
        self
    }

    /// Shares this cache.
    pub fn with_cache(mut self, cache: Arc<RevocationCache>) -> RevocationChecker {
        self.cache = cache;
        self
    }

    /// The policy.
    pub fn policy(&self) -> RevocationPolicy {
        self.policy
    }

    /// The cache (hit and fetch counters included).
    pub fn cache(&self) -> &Arc<RevocationCache> {
        &self.cache
    }

    /// Checks `presented` (leaf first, as the server sent it) with the account's `anchors`
    /// (full certificates: the issuer of the last presented certificate is among them) and
    /// the OCSP response the server stapled, if any.
    pub async fn check(
        &self,
        presented: &[CertificateDer<'_>],
        anchors: &[CertificateDer<'_>],
        staple: Option<&[u8]>,
    ) -> Result<RevocationStatus, TlsError> {
        if self.policy == RevocationPolicy::Off {
            return Ok(RevocationStatus::Off);
        }
        let deadline = Instant::now() + self.budget;
        let now = unix_now();
        let mut good = Vec::new();
        let mut unknown = Vec::new();
        let work = self.links(presented, anchors);
        for (index, item) in work.into_iter().enumerate() {
            let staple = if index == 0 { staple } else { None };
            if item.sources.is_empty() && staple.is_none() {
                continue;
            }
            let Some((issuer_der, key)) = &item.issuer else {
                unknown.push(format!(
                    "{}: its issuer certificate is not known",
                    item.name
                ));
                continue;
            };
            match self
                .one(&item, issuer_der, key, staple, deadline, now)
                .await
            {
                Ok((Answer::Good { source, .. }, cached)) => good.push(CertificateGood {
                    certificate: item.name.clone(),
                    source,
                    cached,
                }),
                Ok((Answer::Revoked(info), _)) => {
                    return Err(TlsError::Revoked {
                        certificate: info.certificate,
                        by: info.source,
                        reason: info.reason,
                        date: info.date,
                    });
                }
                Err(SourceFailure::Forged(why)) => {
                    return Err(TlsError::RevocationForged {
                        certificate: item.name.clone(),
                        why,
                    });
                }
                Err(SourceFailure::Unavailable(why)) => {
                    unknown.push(format!("{}: {why}", item.name));
                }
            }
        }
        if !unknown.is_empty() {
            let why = unknown.join("; ");
            return match self.policy {
                RevocationPolicy::SoftFail => {
                    tracing::warn!(%why, "revocation status unknown; allowed by soft-fail");
                    Ok(RevocationStatus::SoftFailed { why, good })
                }
                _ => Err(TlsError::RevocationUnknown { why }),
            };
        }
        Ok(if good.is_empty() {
            RevocationStatus::NoInformation
        } else {
            RevocationStatus::Good { good }
        })
    }

    /// The certificates to check, with what is needed of them across the fetches.
    fn links(&self, presented: &[CertificateDer<'_>], anchors: &[CertificateDer<'_>]) -> Vec<Item> {
        let presented_parsed = chain::parse_all(presented);
        let anchors_parsed = chain::parse_all(anchors);
        chain::path(&presented_parsed, &anchors_parsed)
            .into_iter()
            .map(|link| Item {
                name: chain::display_name(&link.cert),
                sources: chain::sources(&link.cert),
                cert: link.cert.as_raw().to_vec(),
                issuer: link
                    .issuer
                    .map(|i| (i.as_raw().to_vec(), chain::cache_key(&link.cert, &i))),
            })
            .collect()
    }

    /// One certificate: cache, staple, OCSP, CRL.
    async fn one(
        &self,
        item: &Item,
        issuer_der: &[u8],
        key: &str,
        staple: Option<&[u8]>,
        deadline: Instant,
        now: u64,
    ) -> Result<(Answer, bool), SourceFailure> {
        let cert_der = item.cert.as_slice();
        if let Some(answer) = self.cache.get(key, now) {
            tracing::debug!(certificate = %item.name, source = %cache::source_of(&answer), "revocation answer from cache");
            return Ok((answer, true));
        }
        let mut failures = Vec::new();
        let mut answer = None;
        if let Some(staple) = staple {
            match with_pair(cert_der, issuer_der, |c, i| {
                ocsp::check(staple, c, i, None, RevocationSource::Stapled, now)
            }) {
                Some(Ok(a)) => answer = Some(a),
                Some(Err(SourceFailure::Forged(why))) => return Err(SourceFailure::Forged(why)),
                Some(Err(SourceFailure::Unavailable(why))) => failures.push(why),
                None => {}
            }
        }
        for url in &item.sources.ocsp {
            if answer.is_some() {
                break;
            }
            let nonce: [u8; 16] = rand::random();
            let Some(request) = with_pair(cert_der, issuer_der, |c, i| ocsp::request(c, i, &nonce))
            else {
                break;
            };
            let request = request.map_err(SourceFailure::Unavailable)?;
            let started = Instant::now();
            self.cache.count_fetch();
            let body =
                match within(deadline, fetch::post_ocsp(url, &request, fetch::MAX_OCSP)).await {
                    Ok(body) => body,
                    Err(why) => {
                        failures.push(format!("OCSP {why}"));
                        continue;
                    }
                };
            tracing::debug!(%url, ms = started.elapsed().as_millis() as u64, "OCSP response fetched");
            match with_pair(cert_der, issuer_der, |c, i| {
                ocsp::check(&body, c, i, Some(&nonce), RevocationSource::Ocsp, now)
            }) {
                Some(Ok(a)) => answer = Some(a),
                Some(Err(SourceFailure::Forged(why))) => {
                    return Err(SourceFailure::Forged(format!("{why} from {url}")));
                }
                Some(Err(SourceFailure::Unavailable(why))) => {
                    failures.push(format!("{why} ({url})"))
                }
                None => {}
            }
        }
        for url in &item.sources.crl {
            if answer.is_some() {
                break;
            }
            let started = Instant::now();
            self.cache.count_fetch();
            let body = match within(deadline, fetch::get(url, fetch::MAX_CRL)).await {
                Ok(body) => body,
                Err(why) => {
                    failures.push(format!("CRL {why}"));
                    continue;
                }
            };
            tracing::debug!(%url, ms = started.elapsed().as_millis() as u64, bytes = body.len(), "CRL fetched");
            match with_pair(cert_der, issuer_der, |c, i| {
                crl::check(&body, c, i, url, now)
            }) {
                Some(Ok(a)) => answer = Some(a),
                Some(Err(SourceFailure::Forged(why))) => return Err(SourceFailure::Forged(why)),
                Some(Err(SourceFailure::Unavailable(why))) => failures.push(why),
                None => {}
            }
        }
        match answer {
            Some(answer) => {
                self.cache.put(key.to_owned(), &answer);
                Ok((answer, false))
            }
            None if failures.is_empty() => Err(SourceFailure::Unavailable(
                "no usable revocation source".to_owned(),
            )),
            None => Err(SourceFailure::Unavailable(failures.join("; "))),
        }
    }
}

/// Entry points for the fuzz targets (`fuzz/`, built with `--cfg fuzzing` by cargo-fuzz
/// only): the CRL and OCSP checks on untrusted bytes, without the network.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    /// The CRL check of `der` for `cert` issued by `issuer` (DER), fetched from `url`, at
    /// `now`; `None` when a certificate does not parse.
    pub fn check_crl(
        der: &[u8],
        cert: &[u8],
        issuer: &[u8],
        url: &str,
        now: u64,
    ) -> Option<String> {
        super::with_pair(cert, issuer, |c, i| {
            format!("{:?}", super::crl::check(der, c, i, url, now))
        })
    }

    /// The OCSP check of `der` (stapled when `nonce` is `None`, else the answer to it).
    pub fn check_ocsp(
        der: &[u8],
        cert: &[u8],
        issuer: &[u8],
        nonce: Option<&[u8]>,
        now: u64,
    ) -> Option<String> {
        let source = if nonce.is_some() {
            super::RevocationSource::Ocsp
        } else {
            super::RevocationSource::Stapled
        };
        super::with_pair(cert, issuer, |c, i| {
            format!("{:?}", super::ocsp::check(der, c, i, nonce, source, now))
        })
    }
}

/// What the check needs of one certificate of the path (owned: it lives across fetches).
struct Item {
    name: String,
    sources: chain::Sources,
    cert: Vec<u8>,
    /// The issuer (DER) and the certificate's cache key, when the issuer is known.
    issuer: Option<(Vec<u8>, String)>,
}

/// Runs `f` on the parsed certificate and issuer (None if either does not parse).
fn with_pair<T>(
    cert: &[u8],
    issuer: &[u8],
    f: impl FnOnce(
        &x509_parser::certificate::X509Certificate<'_>,
        &x509_parser::certificate::X509Certificate<'_>,
    ) -> T,
) -> Option<T> {
    use x509_parser::prelude::FromDer;
    let (_, c) = x509_parser::certificate::X509Certificate::from_der(cert).ok()?;
    let (_, i) = x509_parser::certificate::X509Certificate::from_der(issuer).ok()?;
    Some(f(&c, &i))
}

/// Runs a fetch within the connection's budget.
async fn within(
    deadline: Instant,
    fetch: impl Future<Output = Result<Vec<u8>, String>>,
) -> Result<Vec<u8>, String> {
    if Instant::now() >= deadline {
        return Err("not tried: the 5 s revocation budget was used up".to_owned());
    }
    tokio::time::timeout_at(deadline, fetch)
        .await
        .unwrap_or_else(|_| Err("no answer within the revocation budget".to_owned()))
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Unix seconds as RFC 3339 (UTC).
fn rfc3339(secs: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| secs.to_string())
}

/// The RFC 5280 name of a CRL reason code.
fn reason_name(code: u32) -> String {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => "unknown reason",
    }
    .to_owned()
}
