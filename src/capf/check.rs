//! Checking an issued certificate before it is stored: it carries our public key, is valid
//! now, and names the device (CN or a subjectAltName URI/DNS name equal to the device name).

use std::time::SystemTime;

use serde::Serialize;
use x509_parser::prelude::{FromDer, GeneralName, ParsedExtension, X509Certificate};

/// What an accepted certificate says, for events and `enroll --status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateInfo {
    /// Subject DN.
    pub subject: String,
    /// Issuer DN.
    pub issuer: String,
    /// Serial number, hex.
    pub serial: String,
    /// Start of validity (RFC 3339).
    pub not_before: String,
    /// End of validity (RFC 3339).
    pub not_after: String,
    /// Start of validity, seconds since the Unix epoch.
    pub not_before_unix: i64,
    /// End of validity, seconds since the Unix epoch.
    pub not_after_unix: i64,
    /// SHA-256 fingerprint, lower-case hex.
    pub sha256: String,
    /// MD5 fingerprint, lower-case hex (what CUCM shows as `certHash`).
    pub md5: String,
}

fn rfc3339(t: x509_parser::time::ASN1Time) -> String {
    t.to_datetime()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// Summarises a DER certificate.
pub fn certificate_info(der: &[u8]) -> Result<CertificateInfo, String> {
    let (_, cert) = X509Certificate::from_der(der)
        .map_err(|e| format!("not a valid X.509 certificate: {e}"))?;
    let validity = cert.validity();
    Ok(CertificateInfo {
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        serial: cert.raw_serial_as_string().replace(':', ""),
        not_before: rfc3339(validity.not_before),
        not_after: rfc3339(validity.not_after),
        not_before_unix: validity.not_before.timestamp(),
        not_after_unix: validity.not_after.timestamp(),
        sha256: crate::tls::fingerprint(der),
        md5: hex::encode(md5_digest(der)),
    })
}

fn md5_digest(der: &[u8]) -> [u8; 16] {
    use md5::Digest;
    md5::Md5::digest(der).into()
}

/// `now` in seconds since the Unix epoch (negative before it).
pub(crate) fn unix(now: SystemTime) -> i64 {
    match now.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// The names a certificate gives its subject: CN values, and URI / DNS subjectAltNames.
pub fn certificate_names(cert: &X509Certificate<'_>) -> Vec<String> {
    let mut names: Vec<String> = cert
        .subject()
        .iter_common_name()
        .filter_map(|cn| cn.as_str().ok().map(str::to_owned))
        .collect();
    for ext in cert.extensions() {
        if let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() {
            for name in &san.general_names {
                match name {
                    GeneralName::URI(uri) | GeneralName::DNSName(uri) => {
                        names.push((*uri).to_owned());
                    }
                    _ => {}
                }
            }
        }
    }
    names
}

/// Accepts the issued certificate only if it holds `our_spki`, is valid at `now`, and names
/// `device` (case-insensitively, as device names are MAC-based).
pub fn check_issued(
    der: &[u8],
    our_spki: &[u8],
    device: &str,
    now: SystemTime,
) -> Result<CertificateInfo, String> {
    let (rest, cert) = X509Certificate::from_der(der)
        .map_err(|e| format!("the issued certificate is not valid X.509: {e}"))?;
    if !rest.is_empty() {
        return Err("the issued certificate has trailing bytes".to_owned());
    }
    if cert.public_key().raw != our_spki {
        return Err("the issued certificate does not carry the public key we generated".to_owned());
    }
    let info = certificate_info(der)?;
    let now = unix(now);
    if now < info.not_before_unix {
        return Err(format!(
            "the issued certificate is not valid yet (from {}); check this machine's clock",
            info.not_before
        ));
    }
    if now > info.not_after_unix {
        return Err(format!(
            "the issued certificate expired on {}",
            info.not_after
        ));
    }
    let names = certificate_names(&cert);
    let names_device = names.iter().any(|n| {
        let bare = n.strip_prefix("sip:").unwrap_or(n);
        bare.eq_ignore_ascii_case(device)
    });
    if !names_device {
        return Err(format!(
            "the issued certificate names {} but not the device `{device}`",
            if names.is_empty() {
                "nobody".to_owned()
            } else {
                names.join(", ")
            }
        ));
    }
    Ok(info)
}
