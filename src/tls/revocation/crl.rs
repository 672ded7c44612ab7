//! Checking one certificate against a CRL: signed by the certificate's issuer, issued by it,
//! current (thisUpdate not in the future, nextUpdate not passed), covering the certificate
//! (RFC 5280 §6.3.3: its issuing distribution point names the URL it came from and its scope
//! includes this kind of certificate), then the serial looked up. Delta CRLs, indirect CRLs,
//! CRLs for some reasons only, and any CRL or entry with another critical extension are not
//! supported: such a CRL gives no answer (never a "good" it cannot vouch for).

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::prelude::FromDer;
use x509_parser::revocation_list::CertificateRevocationList;

use super::chain::trim_serial;
use super::policy::{Answer, RevocationSource, RevokedInfo, SourceFailure};
use super::{CLOCK_SKEW, rfc3339};

/// The status of `cert` according to the CRL `der`, at `now` (Unix seconds).
pub(super) fn check(
    der: &[u8],
    cert: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
    url: &str,
    now: u64,
) -> Result<Answer, SourceFailure> {
    let unavailable = |why: &str| SourceFailure::Unavailable(format!("CRL {url}: {why}"));
    let (_, crl) = CertificateRevocationList::from_der(der)
        .map_err(|e| unavailable(&format!("not a DER CRL ({e})")))?;
    if crl.issuer().as_raw() != issuer.subject().as_raw() {
        return Err(unavailable("issued by another CA than the certificate's"));
    }
    crl.verify_signature(issuer.public_key()).map_err(|e| {
        SourceFailure::Forged(format!(
            "CRL {url}: signature does not verify with the issuer's key ({e})"
        ))
    })?;
    let this_update = crl.last_update().timestamp();
    if this_update > now as i64 + CLOCK_SKEW as i64 {
        return Err(unavailable("thisUpdate is in the future"));
    }
    let next_update = crl.next_update().map(|t| t.timestamp());
    if let Some(next) = next_update
        && next + (CLOCK_SKEW as i64) < now as i64
    {
        return Err(unavailable("stale (nextUpdate has passed)"));
    }
    if let Some(why) = not_covered(&crl, cert, url) {
        return Err(unavailable(why));
    }
    let serial = trim_serial(cert.raw_serial());
    for entry in crl.iter_revoked_certificates() {
        if trim_serial(entry.raw_serial()) == serial {
            let reason = entry
                .reason_code()
                .map(|(_, code)| super::reason_name(u32::from(code.0)))
                .unwrap_or_else(|| "unspecified".to_owned());
            return Ok(Answer::Revoked(RevokedInfo {
                certificate: super::chain::display_name(cert),
                source: RevocationSource::Crl,
                reason,
                date: rfc3339(entry.revocation_date.timestamp()),
            }));
        }
    }
    Ok(Answer::Good {
        source: RevocationSource::Crl,
        until: next_update.and_then(|n| u64::try_from(n).ok()),
    })
}

/// Why this CRL cannot say whether `cert` (found at `url`) is revoked, if it cannot.
fn not_covered(
    crl: &CertificateRevocationList<'_>,
    cert: &X509Certificate<'_>,
    url: &str,
) -> Option<&'static str> {
    for extension in crl.extensions() {
        match extension.parsed_extension() {
            ParsedExtension::IssuingDistributionPoint(idp) => {
                if idp.indirect_crl {
                    return Some("an indirect CRL (not supported)");
                }
                if idp.only_some_reasons.is_some() {
                    return Some("it covers only some revocation reasons (not supported)");
                }
                if idp.only_contains_attribute_certs {
                    return Some("it covers only attribute certificates");
                }
                if idp.only_contains_ca_certs && !cert.is_ca() {
                    return Some("it covers only CA certificates");
                }
                if idp.only_contains_user_certs && cert.is_ca() {
                    return Some("it covers only end-entity certificates");
                }
                match &idp.distribution_point {
                    None => {}
                    Some(DistributionPointName::FullName(names)) => {
                        let ours = names
                            .iter()
                            .any(|n| matches!(n, GeneralName::URI(u) if *u == url));
                        if !ours {
                            return Some("it is the CRL of another distribution point");
                        }
                    }
                    Some(DistributionPointName::NameRelativeToCRLIssuer(_)) => {
                        return Some("its distribution point is a relative name (not supported)");
                    }
                }
            }
            _ if extension.critical => {
                return Some(
                    "it has a critical extension this client does not process (a delta CRL?)",
                );
            }
            _ => {}
        }
    }
    crl.iter_revoked_certificates()
        .any(|entry| entry.extensions().iter().any(|e| e.critical))
        .then_some("an entry has a critical extension (an indirect CRL?)")
}

#[cfg(test)]
mod tests {
    use rcgen::{
        BasicConstraints, CertificateParams, CertificateRevocationListParams, CrlDistributionPoint,
        CrlIssuingDistributionPoint, CrlScope, IsCa, Issuer, KeyIdMethod, KeyPair, SerialNumber,
    };

    use super::*;

    const URL: &str = "http://127.0.0.1:1/ca.crl";

    struct Ca {
        issuer: Issuer<'static, KeyPair>,
        der: Vec<u8>,
    }

    fn ca() -> Ca {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let der = params.self_signed(&key).unwrap().der().to_vec();
        Ca {
            issuer: Issuer::new(params, key),
            der,
        }
    }

    fn leaf(ca: &Ca) -> Vec<u8> {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["sip.example.test".to_owned()]).unwrap();
        params.serial_number = Some(SerialNumber::from_slice(&[7]));
        params.signed_by(&key, &ca.issuer).unwrap().der().to_vec()
    }

    fn crl(ca: &Ca, idp: Option<CrlIssuingDistributionPoint>) -> Vec<u8> {
        let now = time::OffsetDateTime::now_utc();
        let params = CertificateRevocationListParams {
            this_update: now - time::Duration::minutes(1),
            next_update: now + time::Duration::days(1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: idp,
            revoked_certs: Vec::new(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params.signed_by(&ca.issuer).unwrap().der().to_vec()
    }

    fn idp(uris: &[&str], scope: Option<CrlScope>) -> Option<CrlIssuingDistributionPoint> {
        Some(CrlIssuingDistributionPoint {
            distribution_point: CrlDistributionPoint {
                uris: uris.iter().map(|u| (*u).to_owned()).collect(),
            },
            scope,
        })
    }

    fn answer(crl_der: &[u8], cert: &[u8], ca: &Ca) -> Result<Answer, SourceFailure> {
        let (_, cert) = X509Certificate::from_der(cert).unwrap();
        let (_, issuer) = X509Certificate::from_der(&ca.der).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        check(crl_der, &cert, &issuer, URL, now)
    }

    fn unavailable_because(result: Result<Answer, SourceFailure>, why: &str) {
        match result {
            Err(SourceFailure::Unavailable(text)) => assert!(text.contains(why), "{text}"),
            other => panic!("expected no answer ({why}), got {other:?}"),
        }
    }

    #[test]
    fn a_crl_for_this_distribution_point_and_kind_answers() {
        let ca = ca();
        let leaf = leaf(&ca);
        for idp in [
            None,
            idp(&[URL], None),
            idp(&["ldap://dir/cn=CA", URL], Some(CrlScope::UserCertsOnly)),
        ] {
            let result = answer(&crl(&ca, idp), &leaf, &ca);
            assert!(matches!(result, Ok(Answer::Good { .. })), "{result:?}");
        }
    }

    #[test]
    fn a_crl_of_another_partition_or_scope_gives_no_answer() {
        let ca = ca();
        let leaf = leaf(&ca);
        unavailable_because(
            answer(
                &crl(&ca, idp(&["http://127.0.0.1:1/other.crl"], None)),
                &leaf,
                &ca,
            ),
            "another distribution point",
        );
        unavailable_because(
            answer(
                &crl(&ca, idp(&[URL], Some(CrlScope::CaCertsOnly))),
                &leaf,
                &ca,
            ),
            "only CA certificates",
        );
    }
}
