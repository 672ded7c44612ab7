//! Does this certificate name the SIP domain we want? RFC 5922 §7.1 and RFC 9525, with the
//! identifier types the seeds list.
//!
//! Order of evidence: subjectAltName URI `sip:domain` / `sips:domain` (no user part),
//! dNSName, otherName SRVName (`_sips.domain` / `_sip.domain`), otherName xmppAddr; the
//! Subject CN only when the certificate has no subjectAltName at all. A wildcard may only be
//! the whole left-most dNSName label and is allowed or refused by [`IdentityPolicy`].
//! Connecting by IP address matches only iPAddress entries: a certificate that names only an
//! FQDN is a mismatch (the seeds' "Prevent Identity Mismatch").
//!
//! ```
//! use lockphone::trust::identity::{ExpectedIdentity, IdentityPolicy, check_identity};
//!
//! let key = rcgen::KeyPair::generate().unwrap();
//! let cert = rcgen::CertificateParams::new(vec!["*.example.test".to_owned()])
//!     .unwrap()
//!     .self_signed(&key)
//!     .unwrap();
//! let expected = ExpectedIdentity::domain("sip.example.test");
//! assert!(check_identity(cert.der(), &expected, IdentityPolicy::default()).is_ok());
//! assert!(check_identity(cert.der(), &expected, IdentityPolicy::strict_sip()).is_err());
//! ```

use std::net::IpAddr;

use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::{FromDer, X509Certificate};

/// The OID of otherName SRVName (RFC 4985).
const OID_SRV_NAME: &str = "1.3.6.1.5.5.7.8.7";
/// The OID of otherName xmppAddr (RFC 6120).
const OID_XMPP_ADDR: &str = "1.3.6.1.5.5.7.8.5";

/// What we expected to reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectedIdentity {
    /// A SIP domain (lower-cased, without a trailing dot).
    Domain(String),
    /// An IP address we connected to directly.
    Ip(IpAddr),
}

impl ExpectedIdentity {
    /// A domain identity, normalized.
    pub fn domain(name: &str) -> ExpectedIdentity {
        ExpectedIdentity::Domain(name.trim_end_matches('.').to_ascii_lowercase())
    }

    /// The identity for a host as written in a URI: an IP address or a domain.
    pub fn from_host(host: &str) -> ExpectedIdentity {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        match bare.parse::<IpAddr>() {
            Ok(ip) => ExpectedIdentity::Ip(ip),
            Err(_) => ExpectedIdentity::domain(host),
        }
    }
}

impl std::fmt::Display for ExpectedIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedIdentity::Domain(d) => f.write_str(d),
            ExpectedIdentity::Ip(ip) => write!(f, "{ip}"),
        }
    }
}

/// Per-account identity rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdentityPolicy {
    /// Whether a `*.example.test` dNSName may match (RFC 9525: yes; strict RFC 5922: no).
    pub wildcards: bool,
}

impl Default for IdentityPolicy {
    /// RFC 9525: wildcards allowed as the whole left-most dNSName label.
    fn default() -> IdentityPolicy {
        IdentityPolicy { wildcards: true }
    }
}

impl IdentityPolicy {
    /// The strict SIP rules of RFC 5922: no wildcards.
    pub fn strict_sip() -> IdentityPolicy {
        IdentityPolicy { wildcards: false }
    }
}

/// Which identifier matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    /// subjectAltName URI `sip:domain`.
    SipUri,
    /// subjectAltName dNSName (exact).
    DnsName,
    /// subjectAltName dNSName wildcard.
    WildcardDnsName,
    /// otherName SRVName `_sips.domain`.
    SrvName,
    /// otherName xmppAddr.
    XmppAddr,
    /// subjectAltName iPAddress.
    IpAddress,
    /// The Subject CN of a certificate without subjectAltName.
    CommonName,
}

/// A successful match: how, and the name as the certificate wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityMatch {
    /// The identifier type.
    pub by: MatchedBy,
    /// The matching identifier.
    pub name: String,
}

/// Why the certificate does not identify the server we meant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// No identifier matches.
    #[error("certificate is for {} but we connected to `{expected}`", presented_list(.presented))]
    Mismatch {
        /// What we expected.
        expected: String,
        /// Every identifier the certificate presents.
        presented: Vec<String>,
    },
    /// We connected by IP address and the certificate names only host names.
    #[error(
        "connected by IP address {expected} but the certificate names only {}: connect by the server's name instead",
        presented_list(.presented)
    )]
    IpVersusName {
        /// The address.
        expected: String,
        /// The names the certificate presents.
        presented: Vec<String>,
    },
    /// Only a wildcard would match and the policy refuses wildcards.
    #[error(
        "certificate matches `{expected}` only through the wildcard `{wildcard}`, which strict SIP identity (RFC 5922) refuses"
    )]
    WildcardRefused {
        /// What we expected.
        expected: String,
        /// The wildcard name.
        wildcard: String,
    },
    /// The certificate could not be read.
    #[error("cannot read the server certificate: {0}")]
    Unreadable(String),
}

fn presented_list(names: &[String]) -> String {
    if names.is_empty() {
        "no name at all".to_owned()
    } else {
        names.join(", ")
    }
}

/// The identifiers a certificate presents.
#[derive(Debug, Default)]
struct Identifiers {
    has_san: bool,
    sip_uris: Vec<String>,
    dns_names: Vec<String>,
    srv_names: Vec<String>,
    xmpp_addrs: Vec<String>,
    ips: Vec<IpAddr>,
    common_names: Vec<String>,
    /// Everything, as printable text, for error messages.
    all: Vec<String>,
}

/// The server identities a certificate names, as trust store keys (lower case): its
/// `sip:domain` URIs, SRVName domains, dNSNames, xmppAddrs and IP addresses — the Subject CN
/// only when it has no subjectAltName. Wildcard names are left out (a store entry is for one
/// server).
pub fn server_identities(cert_der: &[u8]) -> Result<Vec<String>, IdentityError> {
    let ids = identifiers(cert_der)?;
    let mut names: Vec<String> = Vec::new();
    let domains = ids
        .sip_uris
        .iter()
        .chain(&ids.srv_names)
        .chain(&ids.dns_names)
        .chain(&ids.xmpp_addrs)
        .cloned()
        .chain(ids.ips.iter().map(IpAddr::to_string));
    let common_names = (!ids.has_san).then_some(ids.common_names.iter().cloned());
    for name in domains.chain(common_names.into_iter().flatten()) {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if !name.is_empty() && !name.contains('*') && !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(names)
}

/// Checks `cert_der` against what we expected to reach.
pub fn check_identity(
    cert_der: &[u8],
    expected: &ExpectedIdentity,
    policy: IdentityPolicy,
) -> Result<IdentityMatch, IdentityError> {
    let ids = identifiers(cert_der)?;
    match expected {
        ExpectedIdentity::Ip(ip) => match_ip(&ids, *ip),
        ExpectedIdentity::Domain(domain) => match_domain(&ids, domain, policy),
    }
}

fn match_ip(ids: &Identifiers, ip: IpAddr) -> Result<IdentityMatch, IdentityError> {
    if ids.ips.contains(&ip) {
        return Ok(IdentityMatch {
            by: MatchedBy::IpAddress,
            name: ip.to_string(),
        });
    }
    if ids.ips.is_empty() {
        return Err(IdentityError::IpVersusName {
            expected: ip.to_string(),
            presented: ids.all.clone(),
        });
    }
    Err(IdentityError::Mismatch {
        expected: ip.to_string(),
        presented: ids.all.clone(),
    })
}

fn match_domain(
    ids: &Identifiers,
    domain: &str,
    policy: IdentityPolicy,
) -> Result<IdentityMatch, IdentityError> {
    let found = |by: MatchedBy, list: &[String]| {
        list.iter()
            .find(|n| n.eq_ignore_ascii_case(domain))
            .map(|n| IdentityMatch {
                by,
                name: n.clone(),
            })
    };
    let direct = found(MatchedBy::SipUri, &ids.sip_uris)
        .or_else(|| found(MatchedBy::DnsName, &ids.dns_names))
        .or_else(|| found(MatchedBy::SrvName, &ids.srv_names))
        .or_else(|| found(MatchedBy::XmppAddr, &ids.xmpp_addrs));
    if let Some(m) = direct {
        return Ok(m);
    }
    if let Some(wildcard) = ids.dns_names.iter().find(|n| wildcard_matches(n, domain)) {
        if policy.wildcards {
            return Ok(IdentityMatch {
                by: MatchedBy::WildcardDnsName,
                name: wildcard.clone(),
            });
        }
        return Err(IdentityError::WildcardRefused {
            expected: domain.to_owned(),
            wildcard: wildcard.clone(),
        });
    }
    if !ids.has_san
        && let Some(m) = found(MatchedBy::CommonName, &ids.common_names)
    {
        return Ok(m);
    }
    Err(IdentityError::Mismatch {
        expected: domain.to_owned(),
        presented: ids.all.clone(),
    })
}

/// `*.example.test` matches exactly one left-most label (`a.example.test`, not
/// `a.b.example.test`, not `example.test`); partial-label wildcards (`f*.example.test`) never match.
fn wildcard_matches(pattern: &str, domain: &str) -> bool {
    let Some(suffix) = pattern.strip_prefix("*.") else {
        return false;
    };
    if suffix.contains('*') || !suffix.contains('.') {
        return false;
    }
    match domain.split_once('.') {
        Some((label, rest)) => !label.is_empty() && rest.eq_ignore_ascii_case(suffix),
        None => false,
    }
}

fn identifiers(cert_der: &[u8]) -> Result<Identifiers, IdentityError> {
    let (_, cert) = X509Certificate::from_der(cert_der)
        .map_err(|e| IdentityError::Unreadable(e.to_string()))?;
    let mut ids = Identifiers::default();
    for ext in cert.extensions() {
        let ParsedExtension::SubjectAlternativeName(san) = ext.parsed_extension() else {
            continue;
        };
        ids.has_san = true;
        for name in &san.general_names {
            add_general_name(&mut ids, name);
        }
    }
    for cn in cert.subject().iter_common_name() {
        if let Ok(text) = cn.as_str() {
            ids.common_names.push(text.to_owned());
            if !ids.has_san {
                ids.all.push(format!("CN={text}"));
            }
        }
    }
    Ok(ids)
}

fn add_general_name(ids: &mut Identifiers, name: &GeneralName<'_>) {
    match name {
        GeneralName::DNSName(dns) => {
            ids.dns_names.push(dns.trim_end_matches('.').to_owned());
            ids.all.push(format!("DNS:{dns}"));
        }
        GeneralName::URI(uri) => {
            ids.all.push(format!("URI:{uri}"));
            if let Some(domain) = sip_domain_of_uri(uri) {
                ids.sip_uris.push(domain);
            }
        }
        GeneralName::IPAddress(bytes) => {
            let ip = match bytes.len() {
                4 => <[u8; 4]>::try_from(*bytes).ok().map(IpAddr::from),
                16 => <[u8; 16]>::try_from(*bytes).ok().map(IpAddr::from),
                _ => None,
            };
            if let Some(ip) = ip {
                ids.all.push(format!("IP:{ip}"));
                ids.ips.push(ip);
            }
        }
        GeneralName::OtherName(oid, value) => {
            let oid = oid.to_id_string();
            let Some(text) = other_name_string(value) else {
                return;
            };
            if oid == OID_SRV_NAME {
                ids.all.push(format!("SRVName:{text}"));
                if let Some(domain) = text
                    .strip_prefix("_sips.")
                    .or_else(|| text.strip_prefix("_sip."))
                {
                    ids.srv_names.push(domain.to_owned());
                }
            } else if oid == OID_XMPP_ADDR {
                ids.all.push(format!("xmppAddr:{text}"));
                if !text.contains('@') {
                    ids.xmpp_addrs.push(text);
                }
            }
        }
        _ => {}
    }
}

/// The domain of a `sip:domain` / `sips:domain` URI with no user part (RFC 5922 §7.1: a URI
/// with a user part is not a domain identity).
fn sip_domain_of_uri(uri: &str) -> Option<String> {
    let lower = uri.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("sips:")
        .or_else(|| lower.strip_prefix("sip:"))?;
    if rest.contains('@') {
        return None;
    }
    let host = rest.split([';', '?', ':']).next()?;
    (!host.is_empty()).then(|| host.to_owned())
}

/// The string inside an otherName value as x509-parser hands it over: the whole `[0] EXPLICIT`
/// TLV (`A0 len`), holding an IA5String (0x16) or UTF8String (0x0C).
fn other_name_string(value: &[u8]) -> Option<String> {
    let (tag, inner) = der_tlv(value)?;
    let body = if tag == 0xA0 { inner } else { value };
    let (string_tag, bytes) = der_tlv(body)?;
    if string_tag != 0x16 && string_tag != 0x0C {
        return None;
    }
    String::from_utf8(bytes.to_vec()).ok()
}

/// One DER TLV: its tag and content (short and long definite lengths up to 4 bytes).
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 {
            return None;
        }
        let (len_bytes, rest) = rest.split_at_checked(count)?;
        (
            len_bytes
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b)),
            rest,
        )
    };
    Some((tag, rest.get(..len)?))
}

#[cfg(test)]
mod tests {
    use rcgen::{CertificateParams, DnType, KeyPair, SanType};

    use super::*;

    fn cert(sans: Vec<SanType>, cn: Option<&str>) -> Vec<u8> {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.subject_alt_names = sans;
        if let Some(cn) = cn {
            params.distinguished_name.push(DnType::CommonName, cn);
        }
        params
            .self_signed(&KeyPair::generate().unwrap())
            .unwrap()
            .der()
            .to_vec()
    }

    fn dns(name: &str) -> SanType {
        SanType::DnsName(name.try_into().unwrap())
    }

    fn uri(text: &str) -> SanType {
        SanType::URI(text.try_into().unwrap())
    }

    fn check(der: &[u8], expected: &str) -> Result<IdentityMatch, IdentityError> {
        check_identity(
            der,
            &ExpectedIdentity::from_host(expected),
            IdentityPolicy::default(),
        )
    }

    #[test]
    fn sip_uri_san_matches_the_domain() {
        let der = cert(vec![uri("sip:example.test")], None);
        assert_eq!(check(&der, "EXAMPLE.test").unwrap().by, MatchedBy::SipUri);
    }

    #[test]
    fn sip_uri_with_a_user_part_is_not_a_domain_identity() {
        let der = cert(vec![uri("sip:alice@example.test")], None);
        assert!(matches!(
            check(&der, "example.test"),
            Err(IdentityError::Mismatch { .. })
        ));
    }

    #[test]
    fn wildcard_follows_the_policy_and_matches_one_label_only() {
        let der = cert(vec![dns("*.example.test")], None);
        assert_eq!(
            check(&der, "sip.example.test").unwrap().by,
            MatchedBy::WildcardDnsName
        );
        assert!(check(&der, "a.b.example.test").is_err());
        assert!(check(&der, "example.test").is_err());
        let strict = check_identity(
            &der,
            &ExpectedIdentity::domain("sip.example.test"),
            IdentityPolicy::strict_sip(),
        );
        assert!(
            matches!(strict, Err(IdentityError::WildcardRefused { .. })),
            "{strict:?}"
        );
        assert!(!wildcard_matches("f*.example.test", "foo.example.test"));
    }

    #[test]
    fn cn_counts_only_without_any_san() {
        let cn_only = cert(vec![], Some("sip.example.test"));
        assert_eq!(
            check(&cn_only, "sip.example.test").unwrap().by,
            MatchedBy::CommonName
        );
        let with_san = cert(vec![dns("other.example.test")], Some("sip.example.test"));
        let err = check(&with_san, "sip.example.test").unwrap_err();
        assert!(err.to_string().contains("DNS:other.example.test"), "{err}");
    }

    #[test]
    fn ip_against_an_fqdn_only_certificate_is_a_mismatch() {
        let der = cert(vec![dns("sip.example.test")], None);
        let err = check(&der, "192.0.2.7").unwrap_err();
        assert!(matches!(err, IdentityError::IpVersusName { .. }), "{err}");
        let with_ip = cert(vec![SanType::IpAddress("192.0.2.7".parse().unwrap())], None);
        assert_eq!(
            check(&with_ip, "192.0.2.7").unwrap().by,
            MatchedBy::IpAddress
        );
        assert_eq!(
            check(&with_ip, "[192.0.2.7]").unwrap().by,
            MatchedBy::IpAddress
        );
    }

    #[test]
    fn xmpp_addr_other_name_matches_a_domain() {
        let oid = [1u64, 3, 6, 1, 5, 5, 7, 8, 5];
        let other = SanType::OtherName((
            oid.to_vec(),
            rcgen::OtherNameValue::Utf8String("example.test".into()),
        ));
        let der = cert(vec![other], None);
        assert_eq!(check(&der, "example.test").unwrap().by, MatchedBy::XmppAddr);
    }

    #[test]
    fn srv_name_value_is_decoded_from_its_explicit_wrapper() {
        // [0] EXPLICIT { IA5String "_sips.example.test" }
        let text = b"_sips.example.test";
        let mut value = vec![0xA0, (text.len() + 2) as u8, 0x16, text.len() as u8];
        value.extend_from_slice(text);
        assert_eq!(
            other_name_string(&value).as_deref(),
            Some("_sips.example.test")
        );
        assert_eq!(
            other_name_string(&[0xA0, 0x05, 0x16, 0x09]),
            None,
            "truncated"
        );
        assert_eq!(other_name_string(&[]), None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let err = check(b"\x30\x82\xff\xff not a certificate", "example.test").unwrap_err();
        assert!(matches!(err, IdentityError::Unreadable(_)));
    }
}
