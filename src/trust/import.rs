//! `lockphone trust import FILE`: the seeds' "deploy certificates on client computers".
//!
//! Every certificate of a PEM bundle is imported:
//! - a CA certificate becomes an extra trust anchor held in the store, so servers it signed
//!   are verified by a CA (and their names still checked). A CA certificate is one that may
//!   sign certificates (basicConstraints `cA` TRUE and, when it has keyUsage, `keyCertSign`),
//!   names no server (no subjectAltName: `openssl req -x509` marks self-signed server
//!   certificates `cA` too) and is not a self-signed certificate for servers only (its own
//!   issuer with extendedKeyUsage serverAuth alone);
//! - every other certificate is a server certificate, trusted as "Always trust" for each SIP identity its
//!   subjectAltNames name (`sip:` URI, SRVName, dNSName, xmppAddr, IP; the CN when it has no
//!   SAN; wildcards left out), or for the one `identity` given instead.

use rustls::pki_types::CertificateDer;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::identity::server_identities;
use super::kind;
use super::store::{TrustStore, TrustedAnchor, TrustedCertificate};
use crate::capf::keys::pem_block;
use crate::tls::{CertificateSummary, fingerprint};

/// Why a bundle could not be imported (nothing is changed then).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// The bundle holds no certificate.
    #[error("the file holds no PEM certificate")]
    Empty,
    /// A certificate cannot be parsed.
    #[error("certificate #{index} cannot be read: {reason}")]
    Unreadable {
        /// Its position in the bundle (1-based).
        index: usize,
        /// What the parser said.
        reason: String,
    },
    /// A server certificate names no identity it could be stored under.
    #[error(
        "server certificate #{index} ({subject}) names no SIP identity (no usable subjectAltName or CN): give one with --identity"
    )]
    NoIdentity {
        /// Its position in the bundle (1-based).
        index: usize,
        /// Its subject.
        subject: String,
    },
    /// `--identity` with no or several server certificates: which one is meant?
    #[error(
        "--identity names one server but the bundle holds {0} server certificates (a CA certificate has cA, keyCertSign when it has keyUsage, and no subjectAltName): import exactly one"
    )]
    AmbiguousIdentity(usize),
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// CA certificates added as trust anchors: (subject, sha256).
    pub anchors: Vec<(String, String)>,
    /// CA certificates already in the store: (subject, sha256).
    pub known_anchors: Vec<(String, String)>,
    /// Server certificates trusted: (identity, subject, sha256).
    pub servers: Vec<(String, String, String)>,
}

/// Imports every certificate of `certs` into `store` (not saved: the caller saves).
pub fn import_certificates(
    store: &mut TrustStore,
    certs: &[CertificateDer<'_>],
    identity: Option<&str>,
) -> Result<ImportReport, ImportError> {
    if certs.is_empty() {
        return Err(ImportError::Empty);
    }
    let mut kinds = Vec::with_capacity(certs.len());
    for (i, der) in certs.iter().enumerate() {
        let (_, cert) =
            X509Certificate::from_der(der.as_ref()).map_err(|e| ImportError::Unreadable {
                index: i + 1,
                reason: e.to_string(),
            })?;
        kinds.push(is_anchor(&cert));
    }
    let servers = kinds.iter().filter(|ca| !**ca).count();
    if identity.is_some() && servers != 1 {
        return Err(ImportError::AmbiguousIdentity(servers));
    }
    // Work out every entry first so a bad certificate changes nothing.
    let mut report = ImportReport::default();
    let mut new_anchors = Vec::new();
    let mut new_entries = Vec::new();
    for (i, (der, is_ca)) in certs.iter().zip(kinds).enumerate() {
        let summary = CertificateSummary::of(der.as_ref(), "imported by the user");
        if is_ca {
            let anchor = TrustedAnchor {
                sha256: fingerprint(der.as_ref()),
                subject: summary.subject.clone(),
                not_after: summary.not_after.clone(),
                pem: pem_block("CERTIFICATE", der.as_ref()),
            };
            new_anchors.push(anchor);
            continue;
        }
        let names = match identity {
            Some(name) => vec![name.trim_end_matches('.').to_ascii_lowercase()],
            None => server_identities(der.as_ref()).map_err(|e| ImportError::Unreadable {
                index: i + 1,
                reason: e.to_string(),
            })?,
        };
        if names.is_empty() {
            return Err(ImportError::NoIdentity {
                index: i + 1,
                subject: summary.subject,
            });
        }
        for name in names {
            new_entries.push(TrustedCertificate::new(
                &name,
                &summary.sha256,
                &summary.subject,
                &summary.issuer,
                &summary.not_after,
            ));
        }
    }
    for anchor in new_anchors {
        let shown = (anchor.subject.clone(), anchor.sha256.clone());
        if store.insert_anchor(anchor) {
            report.anchors.push(shown);
        } else {
            report.known_anchors.push(shown);
        }
    }
    for entry in new_entries {
        report.servers.push((
            entry.identity.clone(),
            entry.subject.clone(),
            entry.sha256.clone(),
        ));
        store.insert(entry);
    }
    Ok(report)
}

/// Whether an imported certificate becomes a trust anchor (see the [module docs](self)).
fn is_anchor(cert: &X509Certificate<'_>) -> bool {
    // A self-signed server certificate often says cA (`openssl req -x509`): one that names
    // servers (has a subjectAltName) is a server certificate.
    let has_san = cert.subject_alternative_name().ok().flatten().is_some();
    let server_only_self_signed = kind::is_self_signed(cert) && kind::server_auth_only(cert);
    kind::signs_certificates(cert) && !has_san && !server_only_self_signed
}

/// The DER certificate of a stored anchor.
pub fn anchor_der(anchor: &TrustedAnchor) -> Option<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject as _;
    CertificateDer::from_pem_slice(anchor.pem.as_bytes()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, SanType};

    fn ca() -> CertifiedIssuer<'static, KeyPair> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
    }

    fn server(issuer: &CertifiedIssuer<'_, KeyPair>, sans: Vec<SanType>) -> rcgen::Certificate {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = sans;
        if params.subject_alt_names.is_empty() {
            params.distinguished_name = rcgen::DistinguishedName::new();
        }
        let key = KeyPair::generate().unwrap();
        params.signed_by(&key, issuer).unwrap()
    }

    fn store() -> TrustStore {
        TrustStore::open(std::path::Path::new("/nonexistent/lockphone/t.json")).unwrap()
    }

    #[test]
    fn a_bundle_gives_anchors_and_server_entries_per_sip_identity() {
        let issuer = ca();
        let leaf = server(
            &issuer,
            vec![
                SanType::URI("sip:example.test".try_into().unwrap()),
                SanType::DnsName("sip.example.test".try_into().unwrap()),
                SanType::DnsName("*.example.test".try_into().unwrap()),
            ],
        );
        let mut store = store();
        let certs = [leaf.der().clone(), issuer.der().clone()];
        let report = import_certificates(&mut store, &certs, None).unwrap();
        assert_eq!(report.anchors.len(), 1);
        let ids: Vec<_> = report.servers.iter().map(|s| s.0.as_str()).collect();
        assert_eq!(ids, ["example.test", "sip.example.test"], "no wildcard key");
        assert_eq!(store.anchors().len(), 1);
        assert_eq!(
            anchor_der(&store.anchors()[0]).unwrap(),
            *issuer.der(),
            "the anchor's PEM round-trips"
        );
        let again = import_certificates(&mut store, &certs, None).unwrap();
        assert_eq!(again.known_anchors.len(), 1);
        assert_eq!(store.anchors().len(), 1, "an anchor is held once");
    }

    /// A self-signed certificate without subjectAltName, named by its CN, edited by `edit`.
    fn self_signed_cn(edit: impl FnOnce(&mut CertificateParams)) -> rcgen::Certificate {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "sip.example.test");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        edit(&mut params);
        params.self_signed(&KeyPair::generate().unwrap()).unwrap()
    }

    #[test]
    fn only_certificates_that_may_sign_certificates_become_anchors() {
        use rcgen::{ExtendedKeyUsagePurpose as Eku, KeyUsagePurpose as Ku};
        // cA with a keyUsage that does not allow signing certificates: a server's.
        let no_cert_sign = self_signed_cn(|p| p.key_usages = vec![Ku::DigitalSignature]);
        // Its own issuer, for servers only: a server's, even with keyCertSign.
        let server_only = self_signed_cn(|p| {
            p.key_usages = vec![Ku::KeyCertSign, Ku::DigitalSignature];
            p.extended_key_usages = vec![Eku::ServerAuth];
        });
        for cert in [&no_cert_sign, &server_only] {
            let mut store = store();
            let report = import_certificates(&mut store, &[cert.der().clone()], None).unwrap();
            assert!(report.anchors.is_empty(), "{report:?}");
            assert!(store.anchors().is_empty());
            assert_eq!(report.servers.len(), 1, "{report:?}");
            assert_eq!(report.servers[0].0, "sip.example.test");
            assert_eq!(report.servers[0].2, fingerprint(cert.der()));
        }
        // Real CAs: a root with keyCertSign, and an intermediate limited to serverAuth (not
        // its own issuer).
        let root = self_signed_cn(|p| p.key_usages = vec![Ku::KeyCertSign, Ku::CrlSign]);
        let issuer = ca();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.extended_key_usages = vec![Eku::ServerAuth];
        let intermediate = params
            .signed_by(&KeyPair::generate().unwrap(), &issuer)
            .unwrap();
        let mut store = store();
        let certs = [root.der().clone(), intermediate.der().clone()];
        let report = import_certificates(&mut store, &certs, None).unwrap();
        assert_eq!(report.anchors.len(), 2, "{report:?}");
        assert!(report.servers.is_empty());
    }

    #[test]
    fn identity_overrides_and_must_be_unambiguous() {
        let issuer = ca();
        let a = server(
            &issuer,
            vec![SanType::DnsName("a.test".try_into().unwrap())],
        );
        let b = server(
            &issuer,
            vec![SanType::DnsName("b.test".try_into().unwrap())],
        );
        let mut store = store();
        let report =
            import_certificates(&mut store, &[a.der().clone()], Some("Other.Test")).unwrap();
        assert_eq!(report.servers[0].0, "other.test");
        let err = import_certificates(&mut store, &[a.der().clone(), b.der().clone()], Some("x"))
            .unwrap_err();
        assert!(matches!(err, ImportError::AmbiguousIdentity(2)), "{err}");
        let nameless = server(&issuer, vec![]);
        let err = import_certificates(&mut store, &[nameless.der().clone()], None).unwrap_err();
        assert!(
            matches!(err, ImportError::NoIdentity { index: 1, .. }),
            "{err}"
        );
    }
}
