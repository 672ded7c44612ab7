//! Common Criteria mode (NDcPP-style certificate rules), checked by the verifier during the
//! handshake: every certificate the server sent, and the anchor that issued the top one,
//! must have an RSA key of at least 2048 bits (EC keys are P-256 or larger by construction:
//! webpki knows no smaller curve), and no certificate the server sent may be signed with
//! SHA-1 (or MD5). The anchor's own self-signature is not relied on and not checked.
//! Revocation is forced to hard-fail and TLS is 1.2 or 1.3 (as always in Lockphone).

use rustls::pki_types::CertificateDer;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::public_key::PublicKey;

/// The smallest RSA key allowed.
pub const MIN_RSA_BITS: usize = 2048;

/// Why Common Criteria mode refuses a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CcViolation {
    /// An RSA key shorter than 2048 bits.
    #[error(
        "{certificate} has a {bits}-bit RSA key; at least 2048 bits are required: the server needs a new certificate"
    )]
    RsaKeyTooSmall {
        /// The certificate (subject).
        certificate: String,
        /// Its key size.
        bits: usize,
    },
    /// A SHA-1 (or MD5) signature.
    #[error(
        "{certificate} is signed with {algorithm}; SHA-256 or stronger is required: the server needs a certificate signed with SHA-256"
    )]
    WeakSignature {
        /// The certificate (subject).
        certificate: String,
        /// The signature algorithm.
        algorithm: String,
    },
    /// A certificate that cannot be read.
    #[error("a certificate of the chain cannot be parsed")]
    Unparsable,
}

/// The Common Criteria rules with the account's anchors (full certificates).
#[derive(Debug, Clone, Default)]
pub struct CommonCriteria {
    /// Each anchor's subject (DER) and the verdict on its key, found once at start.
    anchors: Vec<(Vec<u8>, Result<(), CcViolation>)>,
}

/// Weak signature algorithms by OID: name.
const WEAK_SIGNATURES: &[(&str, &str)] = &[
    ("1.2.840.113549.1.1.5", "sha1WithRSAEncryption"),
    ("1.3.14.3.2.29", "sha1WithRSASignature"),
    ("1.2.840.10045.4.1", "ecdsa-with-SHA1"),
    ("1.2.840.10040.4.3", "dsa-with-SHA1"),
    ("1.2.840.113549.1.1.4", "md5WithRSAEncryption"),
    ("1.2.840.113549.1.1.2", "md2WithRSAEncryption"),
];

impl CommonCriteria {
    /// The rules, with the anchors whose key sizes are checked too.
    pub fn new(anchors: Vec<CertificateDer<'static>>) -> CommonCriteria {
        let anchors = anchors
            .iter()
            .filter_map(|der| X509Certificate::from_der(der.as_ref()).ok())
            .map(|(_, anchor)| (anchor.subject().as_raw().to_vec(), check_key(&anchor)))
            .collect();
        CommonCriteria { anchors }
    }

    /// Checks the certificates the server sent (leaf first) and their anchor.
    pub fn check(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
    ) -> Result<(), CcViolation> {
        let mut top_issuer = Vec::new();
        for der in std::iter::once(end_entity).chain(intermediates) {
            let (_, cert) =
                X509Certificate::from_der(der.as_ref()).map_err(|_| CcViolation::Unparsable)?;
            check_key(&cert)?;
            let oid = cert.signature_algorithm.algorithm.to_id_string();
            if let Some((_, name)) = WEAK_SIGNATURES.iter().find(|(o, _)| *o == oid) {
                return Err(CcViolation::WeakSignature {
                    certificate: name_of(&cert),
                    algorithm: (*name).to_owned(),
                });
            }
            top_issuer = cert.issuer().as_raw().to_vec();
        }
        for (subject, verdict) in &self.anchors {
            if *subject == top_issuer {
                verdict.clone()?;
            }
        }
        Ok(())
    }
}

fn check_key(cert: &X509Certificate<'_>) -> Result<(), CcViolation> {
    if let Ok(PublicKey::RSA(rsa)) = cert.public_key().parsed() {
        let bits = rsa.key_size();
        if bits < MIN_RSA_BITS {
            return Err(CcViolation::RsaKeyTooSmall {
                certificate: name_of(cert),
                bits,
            });
        }
    }
    Ok(())
}

fn name_of(cert: &X509Certificate<'_>) -> String {
    cert.subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .map(|cn| format!("certificate `{cn}`"))
        .unwrap_or_else(|| format!("certificate `{}`", cert.subject()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ecdsa_chain() -> (CertificateDer<'static>, CertificateDer<'static>) {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let leaf_key = rcgen::KeyPair::generate().unwrap();
        let leaf = rcgen::CertificateParams::new(vec!["sip.example.test".to_owned()])
            .unwrap()
            .signed_by(&leaf_key, &issuer)
            .unwrap();
        (leaf.der().clone(), ca.der().clone())
    }

    #[test]
    fn a_p256_sha256_chain_passes() {
        let (leaf, ca) = ecdsa_chain();
        assert_eq!(CommonCriteria::new(vec![ca]).check(&leaf, &[]), Ok(()));
    }

    #[test]
    fn garbage_is_refused() {
        let junk = CertificateDer::from(vec![1u8, 2, 3]);
        assert_eq!(
            CommonCriteria::default().check(&junk, &[]),
            Err(CcViolation::Unparsable)
        );
    }
}
