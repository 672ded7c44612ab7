//! The one server-certificate verifier every SIP TLS connection uses.
//!
//! 1. Chain: the certificate must chain to a configured anchor (webpki: path building through
//!    the intermediates the server sent, validity dates, key usage).
//! 2. Identity: the SIP identity rules of [`crate::trust::identity`] replace web-PKI name
//!    matching: a `sip:domain` URI, SRVName or xmppAddr identifies a SIP server as well as a
//!    dNSName does.
//! 3. When 1 or 2 fail for a reason a user may override (unknown issuer, self-signed, name
//!    mismatch — never expired, not yet valid, revoked or a bad signature) and the account
//!    pins certificates (`tls.pinned_sha256`, the administrator's), the pins alone decide: a
//!    pinned certificate is accepted, any other is refused as [`TlsError::PinMismatch`] with
//!    no question (a CA-verified certificate is accepted whatever the pins: they are an extra
//!    acceptance path, not a restriction). Without pins the user's decisions decide: a
//!    certificate stored by "Always trust" for
//!    this identity is accepted; a *different* certificate for a stored identity is refused as
//!    [`TlsError::CertificateChanged`]; otherwise the connection is refused with the typed
//!    reason (unknown issuer, name mismatch, …) and the certificate's summary is kept
//!    ([`SipServerVerifier::pending_decision`]) so the user agent can ask the user.
//!
//! The user's answer ([`crate::trust::TrustDecision`]) comes back through
//! [`SipServerVerifier::trust_always`] (stored in the trust store file) or
//! [`SipServerVerifier::trust_for_session`] (kept in memory only). In FIPS mode neither the
//! store nor session decisions are consulted: only CAs and the account's pins are trusted.
//!
//! How each accepted certificate was trusted is remembered (by fingerprint) so the connection
//! record can say so.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::verify_server_cert_signed_by_trust_anchor;
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, OtherError, RootCertStore, SignatureScheme};

use super::record::{TrustBasis, fingerprint};
use super::summary::CertificateSummary;
use super::{TlsError, TrustAnchors};
use crate::trust::identity::{ExpectedIdentity, IdentityPolicy, check_identity};
use crate::trust::kind;
use crate::trust::store::{StoreError, StoreVerdict, TrustStore, TrustedCertificate};

/// The reason a question gives for a certificate that is its own issuer.
const SELF_SIGNED: &str =
    "self-signed: no CA vouches for it (check its fingerprint with the administrator)";
/// The reason a question gives for a certificate signed by a CA we do not trust.
const UNKNOWN_ISSUER: &str = "not signed by a trusted CA (unknown issuer)";

/// Verifies SIP servers' certificates. See the [module docs](self).
#[derive(Debug)]
pub struct SipServerVerifier {
    roots: Arc<RootCertStore>,
    provider: Arc<CryptoProvider>,
    identity: IdentityPolicy,
    store: Option<Mutex<TrustStore>>,
    pinned: Vec<String>,
    /// (identity, fingerprint) pairs the user accepted with "Continue", for this run only.
    session: Mutex<HashSet<(String, String)>>,
    /// Whether the user's decisions (store, session) may be used: not in FIPS mode.
    user_decisions: bool,
    accepted: Mutex<HashMap<String, TrustBasis>>,
    undecided: Mutex<HashMap<String, CertificateSummary>>,
    /// By identity: the fingerprint of the certificate the latest refusal was about (for
    /// whatever reason), so a question is only raised about the certificate of the error at
    /// hand ([`SipServerVerifier::question_for`]).
    last_refused: Mutex<HashMap<String, String>>,
    /// Common Criteria rules, checked before anything else (revocation hook: see
    /// [`super::revocation`]).
    common_criteria: Option<super::common_criteria::CommonCriteria>,
    /// The OCSP responses servers stapled, by leaf fingerprint, for the revocation check
    /// that runs after the handshake.
    staples: Mutex<HashMap<String, Vec<u8>>>,
    /// The intermediates servers presented, by leaf fingerprint, for a revocation check
    /// after a handshake that another library drove (the LDAP client).
    intermediates: Mutex<HashMap<String, Vec<CertificateDer<'static>>>>,
}

/// A server whose certificate the user trusted now presents another one (carried through
/// rustls as an `Other` error and surfaced as [`TlsError::CertificateChanged`]).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the certificate of {identity} changed")]
pub struct CertificateChanged {
    /// The server identity.
    pub identity: String,
    /// The fingerprint the user trusted.
    pub stored: String,
    /// What the server presents now.
    pub presented: Box<CertificateSummary>,
}

/// Why an "Always trust" decision could not be stored.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TrustStoreUnavailable {
    /// This configuration has no trust store.
    #[error("no trust store is configured for this connection")]
    NoStore,
    /// Reading or writing the store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The account pins certificates (`tls.pinned_sha256`) and the server presents another one
/// that no CA vouches for (carried through rustls as an `Other` error and surfaced as
/// [`TlsError::PinMismatch`]).
#[derive(Debug, Clone, thiserror::Error)]
#[error("the certificate of {identity} is not a pinned one")]
pub struct PinMismatch {
    /// The server identity.
    pub identity: String,
    /// The fingerprint presented.
    pub presented: String,
}

impl SipServerVerifier {
    /// A verifier over these anchors. Refuses to exist when nothing at all could be trusted
    /// (no anchor, no pin, no store): every connection would fail with a confusing error.
    pub fn new(anchors: TrustAnchors, provider: Arc<CryptoProvider>) -> Result<Self, TlsError> {
        Ok(SipServerVerifier {
            roots: Arc::new(anchors.roots),
            provider,
            identity: IdentityPolicy::default(),
            store: None,
            pinned: Vec::new(),
            session: Mutex::new(HashSet::new()),
            user_decisions: !super::fips_mode(),
            accepted: Mutex::new(HashMap::new()),
            undecided: Mutex::new(HashMap::new()),
            last_refused: Mutex::new(HashMap::new()),
            common_criteria: None,
            staples: Mutex::new(HashMap::new()),
            intermediates: Mutex::new(HashMap::new()),
        })
    }

    /// Uses these identity rules (default: RFC 9525, wildcards allowed).
    pub fn with_identity_policy(mut self, policy: IdentityPolicy) -> SipServerVerifier {
        self.identity = policy;
        self
    }

    /// Consults the user's trust store for certificates the chain or name check refuses.
    pub fn with_trust_store(mut self, store: Arc<TrustStore>) -> SipServerVerifier {
        self.store = Some(Mutex::new(Arc::unwrap_or_clone(store)));
        self
    }

    /// Accepts certificates with these SHA-256 fingerprints (hex, with or without colons).
    pub fn with_pinned(mut self, fingerprints: Vec<String>) -> SipServerVerifier {
        self.pinned = fingerprints
            .iter()
            .map(|f| normalize_fingerprint(f))
            .collect();
        self
    }

    /// Applies the Common Criteria certificate rules (RSA ≥ 2048 bits, no SHA-1) first.
    pub fn with_common_criteria(
        mut self,
        rules: super::common_criteria::CommonCriteria,
    ) -> SipServerVerifier {
        self.common_criteria = Some(rules);
        self
    }

    /// The OCSP response stapled with the certificate of this fingerprint (taken once).
    pub fn take_staple(&self, sha256: &str) -> Option<Vec<u8>> {
        self.staples.lock().ok().and_then(|mut m| m.remove(sha256))
    }

    /// The intermediates presented with the certificate of this fingerprint (taken once).
    pub fn take_intermediates(&self, sha256: &str) -> Vec<CertificateDer<'static>> {
        self.intermediates
            .lock()
            .ok()
            .and_then(|mut m| m.remove(sha256))
            .unwrap_or_default()
    }

    /// Whether anything at all can be trusted: an anchor, a pin, or a trust store the user's
    /// decisions go to (a server no CA vouches for can then be decided about).
    pub(super) fn can_trust_anything(&self) -> bool {
        !self.roots.is_empty()
            || !self.pinned.is_empty()
            || (self.user_decisions && self.store.is_some())
    }

    /// "Always trust": stores the certificate with this summary for `identity` in the trust
    /// store file (re-read first, so entries other processes added are kept; written
    /// atomically, mode 0600) and accepts it from now on.
    pub fn trust_always(
        &self,
        identity: &str,
        certificate: &CertificateSummary,
    ) -> Result<(), TrustStoreUnavailable> {
        let store = self.store.as_ref().ok_or(TrustStoreUnavailable::NoStore)?;
        let mut store = store.lock().map_err(|_| TrustStoreUnavailable::NoStore)?;
        let mut fresh = TrustStore::open(store.path())?;
        fresh.insert(TrustedCertificate::new(
            identity,
            &certificate.sha256,
            &certificate.subject,
            &certificate.issuer,
            &certificate.not_after,
        ));
        fresh.save()?;
        *store = fresh;
        self.forget_pending(identity);
        Ok(())
    }

    /// "Continue": accepts the certificate with this fingerprint for `identity` until this
    /// verifier is dropped (nothing is written).
    pub fn trust_for_session(&self, identity: &str, sha256: &str) {
        if let Ok(mut session) = self.session.lock() {
            session.insert((identity.to_ascii_lowercase(), normalize_fingerprint(sha256)));
        }
        self.forget_pending(identity);
    }

    /// Forgets the certificate waiting for a decision for `identity` ("Cancel").
    pub fn forget_pending(&self, identity: &str) {
        if let Ok(mut map) = self.undecided.lock() {
            map.remove(&identity.to_ascii_lowercase());
        }
    }

    fn session_trusts(&self, identity: &str, sha256: &str) -> bool {
        self.session
            .lock()
            .map(|s| s.contains(&(identity.to_ascii_lowercase(), sha256.to_owned())))
            .unwrap_or_default()
    }

    /// How the certificate with this fingerprint was accepted, if it was.
    pub fn trust_basis(&self, sha256: &str) -> Option<TrustBasis> {
        self.accepted
            .lock()
            .ok()
            .and_then(|map| map.get(sha256).copied())
    }

    /// The certificate last refused for `identity` for a reason the user may override (unknown
    /// issuer, self-signed, name mismatch): what a "trust this certificate?" prompt shows.
    pub fn pending_decision(&self, identity: &str) -> Option<CertificateSummary> {
        self.undecided
            .lock()
            .ok()
            .and_then(|map| map.get(&identity.to_ascii_lowercase()).cloned())
    }

    /// The certificate to ask the user about after a refusal for `identity`: the one waiting
    /// for a decision, but only when the latest refusal for `identity` was about that very
    /// certificate (another certificate refused since, e.g. expired, or while an older one
    /// still waits, raises no question about the older one).
    pub fn question_for(&self, identity: &str) -> Option<CertificateSummary> {
        let pending = self.pending_decision(identity)?;
        let last = self
            .last_refused
            .lock()
            .ok()?
            .get(&identity.to_ascii_lowercase())
            .cloned()?;
        (last == pending.sha256).then_some(pending)
    }

    /// Keeps `summary` as the certificate waiting for the user's decision about `identity`,
    /// unless one already waits: the certificate a decision applies to must stay the one the
    /// user was shown, even if another connection meanwhile presents a different one (that
    /// one is asked about after the decision).
    fn wait_for_decision(&self, identity: &str, summary: CertificateSummary) {
        if let Ok(mut map) = self.undecided.lock() {
            map.entry(identity.to_ascii_lowercase()).or_insert(summary);
        }
    }

    fn remember(&self, sha256: String, basis: TrustBasis) {
        if let Ok(mut map) = self.accepted.lock() {
            map.insert(sha256, basis);
        }
    }

    /// Chain and identity; `Err` says why they failed and whether the user may override.
    fn ca_verdict(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        expected: &ExpectedIdentity,
        now: UnixTime,
    ) -> Result<(), (rustls::Error, Option<String>)> {
        let parsed = ParsedCertificate::try_from(end_entity).map_err(|e| (e, None))?;
        let chain = verify_server_cert_signed_by_trust_anchor(
            &parsed,
            &self.roots,
            intermediates,
            now,
            self.provider.signature_verification_algorithms.all,
        );
        let unknown_issuer = || rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer);
        match chain {
            Ok(()) => {}
            Err(rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer)) => {
                let reason = if kind::is_self_signed_der(end_entity.as_ref()) {
                    SELF_SIGNED
                } else {
                    UNKNOWN_ISSUER
                };
                return Err((unknown_issuer(), Some(reason.to_owned())));
            }
            // `openssl req -x509` marks its self-signed certificate CA:TRUE, which webpki
            // refuses as an end entity (after the validity check, so it is not expired).
            // Self-signed is what it is: overridable like any other. A CA:TRUE certificate
            // that is not its own issuer stays refused.
            Err(rustls::Error::InvalidCertificate(CertificateError::Other(other)))
                if matches!(
                    other.0.downcast_ref::<webpki::Error>(),
                    Some(webpki::Error::CaUsedAsEndEntity)
                ) && kind::is_self_signed_server_der(end_entity.as_ref()) =>
            {
                return Err((unknown_issuer(), Some(SELF_SIGNED.to_owned())));
            }
            Err(other) => return Err((other, None)),
        }
        check_identity(end_entity.as_ref(), expected, self.identity)
            .map(|_| ())
            .map_err(|e| {
                let reason = e.to_string();
                (other_error(e), Some(reason))
            })
    }
}

fn other_error(e: impl std::error::Error + Send + Sync + 'static) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(OtherError(Arc::new(e))))
}

/// Upper-case hex with colons, whatever the input spelling.
pub(super) fn normalize_fingerprint(text: &str) -> String {
    let hex: String = text
        .chars()
        .filter(char::is_ascii_hexdigit)
        .collect::<String>()
        .to_ascii_uppercase();
    hex.as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).into_owned())
        .collect::<Vec<_>>()
        .join(":")
}

fn expected_identity(server_name: &ServerName<'_>) -> ExpectedIdentity {
    match server_name {
        ServerName::DnsName(name) => ExpectedIdentity::domain(name.as_ref()),
        ServerName::IpAddress(ip) => ExpectedIdentity::Ip(std::net::IpAddr::from(*ip)),
        other => ExpectedIdentity::domain(&other.to_str()),
    }
}

impl SipServerVerifier {
    /// [`ServerCertVerifier::verify_server_cert`] but for remembering refusals.
    fn verify(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        expected: &ExpectedIdentity,
        sha256: String,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(rules) = &self.common_criteria {
            rules
                .check(end_entity, intermediates)
                .map_err(other_error)?;
        }
        if !ocsp_response.is_empty()
            && let Ok(mut staples) = self.staples.lock()
        {
            staples.insert(sha256.clone(), ocsp_response.to_vec());
        }
        if !intermediates.is_empty()
            && let Ok(mut kept) = self.intermediates.lock()
        {
            kept.insert(
                sha256.clone(),
                intermediates
                    .iter()
                    .map(|c| c.clone().into_owned())
                    .collect(),
            );
        }
        let (error, overridable_reason) =
            match self.ca_verdict(end_entity, intermediates, expected, now) {
                Ok(()) => {
                    self.remember(sha256, TrustBasis::CertificateAuthority);
                    return Ok(ServerCertVerified::assertion());
                }
                Err(failure) => failure,
            };
        let Some(reason) = overridable_reason else {
            return Err(error);
        };
        let identity = expected.to_string();
        if !self.pinned.is_empty() {
            if self.pinned.contains(&sha256) {
                self.remember(sha256, TrustBasis::PinnedFingerprint);
                return Ok(ServerCertVerified::assertion());
            }
            // The pins are the administrator's: fail closed, no question, and no user
            // decision (store, Continue) can stand in for them.
            return Err(other_error(PinMismatch {
                identity,
                presented: sha256,
            }));
        }
        if !self.user_decisions {
            // FIPS mode: the user cannot accept what no CA vouches for.
            return Err(error);
        }
        if self.session_trusts(&identity, &sha256) {
            self.remember(sha256, TrustBasis::UserContinued);
            return Ok(ServerCertVerified::assertion());
        }
        let verdict = self.store.as_ref().map_or(StoreVerdict::Unknown, |s| {
            s.lock()
                .map(|s| s.verdict(&identity, &sha256))
                .unwrap_or(StoreVerdict::Unknown)
        });
        match verdict {
            StoreVerdict::Trusted => {
                self.remember(sha256, TrustBasis::UserTrustStore);
                Ok(ServerCertVerified::assertion())
            }
            StoreVerdict::Changed { stored } => {
                let reason = format!(
                    "the certificate CHANGED since you trusted it (was {stored}); {reason}"
                );
                let presented = CertificateSummary::of(end_entity.as_ref(), &reason);
                self.wait_for_decision(&identity, presented.clone());
                Err(other_error(CertificateChanged {
                    identity,
                    stored,
                    presented: Box::new(presented),
                }))
            }
            StoreVerdict::Unknown => {
                let summary = CertificateSummary::of(end_entity.as_ref(), &reason);
                self.wait_for_decision(&identity, summary);
                Err(error)
            }
        }
    }
}

impl ServerCertVerifier for SipServerVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let expected = expected_identity(server_name);
        let sha256 = fingerprint(end_entity.as_ref());
        let verdict = self.verify(
            end_entity,
            intermediates,
            &expected,
            sha256.clone(),
            ocsp_response,
            now,
        );
        if verdict.is_err()
            && let Ok(mut map) = self.last_refused.lock()
        {
            map.insert(expected.to_string().to_ascii_lowercase(), sha256);
        }
        verdict
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn self_signed(name: &str) -> CertificateDer<'static> {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec![name.to_owned()]).unwrap();
        params.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn the_certificate_a_decision_applies_to_is_the_first_one_shown() {
        let dir = tempfile::tempdir().unwrap();
        let store = TrustStore::open(&dir.path().join("trusted.json")).unwrap();
        let verifier = SipServerVerifier::new(TrustAnchors::empty(), super::super::provider())
            .unwrap()
            .with_trust_store(Arc::new(store));
        let name = ServerName::try_from("sip.example.test").unwrap();
        let (shown, other) = (
            self_signed("sip.example.test"),
            self_signed("sip.example.test"),
        );
        let verify = |cert: &CertificateDer<'_>| {
            verifier.verify_server_cert(cert, &[], &name, &[], UnixTime::now())
        };
        assert!(verify(&shown).is_err());
        let pending = verifier.pending_decision("sip.example.test").unwrap();
        assert_eq!(pending.sha256, fingerprint(&shown));
        // Another connection presents another certificate before the user answers.
        assert!(verify(&other).is_err());
        let pending = verifier.pending_decision("sip.example.test").unwrap();
        assert_eq!(pending.sha256, fingerprint(&shown), "still the one shown");
        verifier.trust_always("sip.example.test", &pending).unwrap();
        assert!(verify(&shown).is_ok());
        assert!(
            verify(&other).is_err(),
            "only the certificate shown was trusted"
        );
        let stored = TrustStore::open(&dir.path().join("trusted.json")).unwrap();
        assert_eq!(
            stored.verdict("sip.example.test", &fingerprint(&shown)),
            StoreVerdict::Trusted
        );
        assert_eq!(
            verifier
                .pending_decision("sip.example.test")
                .unwrap()
                .sha256,
            fingerprint(&other),
            "the other certificate is asked about next"
        );
    }
}
