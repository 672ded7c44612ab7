//! The certificates to check and where each says its revocation status is published.
//!
//! The path is rebuilt from the server's certificates and the account's anchors (webpki has
//! already validated it; here each certificate's issuer is needed to check CRL and OCSP
//! signatures and to name the certificate in OCSP). Every certificate below the trust anchor
//! is checked; the anchor itself is not (nothing above it could revoke it).

use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::oid_registry::OID_PKIX_ACCESS_DESCRIPTOR_OCSP;
use x509_parser::prelude::FromDer;

/// One certificate of the path with its issuer, when the issuer is known.
pub(super) struct Link<'a> {
    /// The certificate.
    pub(super) cert: X509Certificate<'a>,
    /// The certificate that signed it.
    pub(super) issuer: Option<X509Certificate<'a>>,
}

/// Where a certificate's status can be learned.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Sources {
    /// OCSP responder URLs (AIA id-ad-ocsp).
    pub(super) ocsp: Vec<String>,
    /// CRL URLs (CRL Distribution Points, full names).
    pub(super) crl: Vec<String>,
}

impl Sources {
    /// Whether the certificate names no source at all.
    pub(super) fn is_empty(&self) -> bool {
        self.ocsp.is_empty() && self.crl.is_empty()
    }
}

/// Parses DER certificates, skipping any that do not parse (webpki already accepted them).
pub(super) fn parse_all<'a>(ders: &'a [CertificateDer<'_>]) -> Vec<X509Certificate<'a>> {
    ders.iter()
        .filter_map(|d| X509Certificate::from_der(d).ok().map(|(_, c)| c))
        .collect()
}

/// The path from the leaf (`presented[0]`) up to, not including, a trust anchor or a
/// self-issued certificate.
pub(super) fn path<'a>(
    presented: &[X509Certificate<'a>],
    anchors: &[X509Certificate<'a>],
) -> Vec<Link<'a>> {
    let mut links = Vec::new();
    let Some(mut current) = presented.first().cloned() else {
        return links;
    };
    // Bounded: a chain longer than the presented certificates would be a loop.
    for _ in 0..=presented.len() {
        if current.subject().as_raw() == current.issuer().as_raw() {
            // Self-issued: an anchor (or a self-signed pinned certificate): nothing to check.
            break;
        }
        // Each candidate's signature check is costly: the anchors are searched once.
        let anchor = find_issuer(&current, anchors);
        let issuer_is_anchor = anchor.is_some();
        let issuer = anchor.or_else(|| find_issuer(&current, presented));
        links.push(Link {
            cert: current.clone(),
            issuer: issuer.clone(),
        });
        match issuer {
            Some(next) if !issuer_is_anchor => current = next,
            _ => break,
        }
    }
    links
}

fn find_issuer<'a>(
    cert: &X509Certificate<'_>,
    candidates: &[X509Certificate<'a>],
) -> Option<X509Certificate<'a>> {
    candidates
        .iter()
        .find(|c| {
            c.subject().as_raw() == cert.issuer().as_raw()
                && cert.verify_signature(Some(c.public_key())).is_ok()
        })
        .cloned()
}

/// The OCSP and CRL URLs a certificate names (http URIs only are kept by the fetcher).
pub(super) fn sources(cert: &X509Certificate<'_>) -> Sources {
    let mut sources = Sources::default();
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::CRLDistributionPoints(points) => {
                for point in points.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &point.distribution_point
                    {
                        for name in names {
                            if let GeneralName::URI(uri) = name {
                                sources.crl.push((*uri).to_owned());
                            }
                        }
                    }
                }
            }
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for desc in &aia.accessdescs {
                    if desc.access_method == OID_PKIX_ACCESS_DESCRIPTOR_OCSP
                        && let GeneralName::URI(uri) = &desc.access_location
                    {
                        sources.ocsp.push((*uri).to_owned());
                    }
                }
            }
            _ => {}
        }
    }
    sources
}

/// How a certificate is named in reports: its common name, else its whole subject.
pub(super) fn display_name(cert: &X509Certificate<'_>) -> String {
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(str::to_owned)
        .unwrap_or_else(|| cert.subject().to_string())
}

/// The cache key of a certificate: its issuer's key and its serial number.
pub(super) fn cache_key(cert: &X509Certificate<'_>, issuer: &X509Certificate<'_>) -> String {
    let issuer_key = Sha256::digest(issuer.public_key().raw);
    format!(
        "{}:{}",
        hex::encode(issuer_key),
        hex::encode(cert.raw_serial())
    )
}

/// A serial number's bytes without leading zero bytes (DER may add one for the sign).
pub(super) fn trim_serial(serial: &[u8]) -> &[u8] {
    let start = serial.iter().position(|b| *b != 0).unwrap_or(serial.len());
    serial.get(start..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};

    use super::*;

    fn ca(name: &str) -> (CertificateDer<'static>, Issuer<'static, KeyPair>) {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let der = params.self_signed(&key).unwrap().der().clone();
        (der, Issuer::new(params, key))
    }

    #[test]
    fn the_path_climbs_through_the_intermediates_to_the_anchor_that_issued_them() {
        let (root, root_issuer) = ca("Root CA");
        let (other, _) = ca("Other CA");
        let (unrelated, _) = ca("Unrelated CA");
        let int_key = KeyPair::generate().unwrap();
        let mut int_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        int_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        int_params
            .distinguished_name
            .push(DnType::CommonName, "Intermediate CA");
        let int = int_params
            .signed_by(&int_key, &root_issuer)
            .unwrap()
            .der()
            .clone();
        let int_issuer = Issuer::new(int_params, int_key);
        let mut leaf_params = CertificateParams::new(vec!["sip.example.test".to_owned()]).unwrap();
        leaf_params
            .distinguished_name
            .push(DnType::CommonName, "sip.example.test");
        let leaf = leaf_params
            .signed_by(&KeyPair::generate().unwrap(), &int_issuer)
            .unwrap()
            .der()
            .clone();
        let presented = vec![leaf, int];
        let anchors = vec![other, root, unrelated];
        let presented_parsed = parse_all(&presented);
        let anchors_parsed = parse_all(&anchors);
        let links = path(&presented_parsed, &anchors_parsed);
        let described: Vec<(String, Option<String>)> = links
            .iter()
            .map(|l| (display_name(&l.cert), l.issuer.as_ref().map(display_name)))
            .collect();
        assert_eq!(
            described,
            [
                (
                    "sip.example.test".to_owned(),
                    Some("Intermediate CA".to_owned())
                ),
                ("Intermediate CA".to_owned(), Some("Root CA".to_owned())),
            ]
        );
    }
}
