//! What a user needs to see to decide whether to trust a certificate.

use serde::Serialize;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::record::fingerprint;

/// A certificate as a trust prompt shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateSummary {
    /// The subject DN.
    pub subject: String,
    /// The issuer DN.
    pub issuer: String,
    /// Start of validity (RFC 2822 style as x509-parser prints it).
    pub not_before: String,
    /// End of validity.
    pub not_after: String,
    /// SHA-256 fingerprint (upper-case hex, colon separated).
    pub sha256: String,
    /// subjectAltName entries (`DNS:…`, `IP:…`, `URI:…`).
    pub subject_alt_names: Vec<String>,
    /// Why it was not trusted automatically.
    pub reason: String,
}

impl CertificateSummary {
    /// Summarizes a DER certificate (fields it cannot read are left empty).
    pub fn of(der: &[u8], reason: &str) -> CertificateSummary {
        let mut summary = CertificateSummary {
            subject: String::new(),
            issuer: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            sha256: fingerprint(der),
            subject_alt_names: Vec::new(),
            reason: reason.to_owned(),
        };
        if let Ok((_, cert)) = X509Certificate::from_der(der) {
            summary.subject = cert.subject().to_string();
            summary.issuer = cert.issuer().to_string();
            summary.not_before = cert.validity().not_before.to_string();
            summary.not_after = cert.validity().not_after.to_string();
            for ext in cert.extensions() {
                if let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() {
                    summary
                        .subject_alt_names
                        .extend(san.general_names.iter().map(describe));
                }
            }
        }
        summary
    }
}

fn describe(name: &GeneralName<'_>) -> String {
    match name {
        GeneralName::DNSName(d) => format!("DNS:{d}"),
        GeneralName::URI(u) => format!("URI:{u}"),
        GeneralName::RFC822Name(e) => format!("email:{e}"),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => <[u8; 4]>::try_from(*bytes)
                .map(|b| format!("IP:{}", std::net::IpAddr::from(b)))
                .unwrap_or_default(),
            16 => <[u8; 16]>::try_from(*bytes)
                .map(|b| format!("IP:{}", std::net::IpAddr::from(b)))
                .unwrap_or_default(),
            _ => "IP:?".to_owned(),
        },
        other => format!("{other}"),
    }
}
