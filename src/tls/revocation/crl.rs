//! Checking one certificate against a CRL: signed by the certificate's issuer, issued by it,
//! current (thisUpdate not in the future, nextUpdate not passed), then the serial looked up.
//! Delta CRLs and indirect CRLs are not supported (such a CRL gives no answer).

use x509_parser::certificate::X509Certificate;
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
