//! OCSP (RFC 6960): the request for one certificate (SHA-1 CertID, as RFC 5019 profiles it,
//! and a random nonce), and the checks on a response, fetched or stapled:
//! - successful status, a BasicOCSPResponse;
//! - signed by the issuer itself, or by a delegated responder certificate included in the
//!   response that the issuer signed, that carries id-kp-OCSPSigning and is valid now; the
//!   responder ID must name the signer; any other signer is a forgery;
//! - a SingleResponse whose CertID (SHA-1 or SHA-256) names our certificate;
//! - thisUpdate not in the future, nextUpdate not passed; without a nextUpdate the answer must
//!   be recent (one hour) and is not cached;
//! - our nonce echoed when the responder echoes one (a different one is a replay); a response
//!   without a nonce is accepted when fresh (RFC 5019 responders pre-sign).

use aws_lc_rs::digest;
use x509_cert::der::asn1::{Any, ObjectIdentifier, OctetString};
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::Extension;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::AlgorithmIdentifierOwned;
use x509_ocsp::ext::Nonce;
use x509_ocsp::{
    BasicOcspResponse, CertId, CertStatus, OcspRequest, OcspResponse, OcspResponseStatus, Request,
    ResponderId, TbsRequest, Version,
};
use x509_parser::asn1_rs::BitString;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;
use x509_parser::x509::AlgorithmIdentifier;

use super::chain::{display_name, trim_serial};
use super::policy::{Answer, RevocationSource, RevokedInfo, SourceFailure};
use super::{CLOCK_SKEW, reason_name, rfc3339};

const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const OCSP_BASIC: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.1");
const OCSP_NONCE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.48.1.2");
/// How old an answer without nextUpdate may be.
const MAX_AGE_WITHOUT_NEXT_UPDATE: u64 = 3600;

/// A DER OCSP request for `cert` with this nonce.
pub(super) fn request(
    cert: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
    nonce: &[u8],
) -> Result<Vec<u8>, String> {
    let bad = |e: x509_cert::der::Error| format!("cannot build the OCSP request: {e}");
    let cert_id = CertId {
        hash_algorithm: AlgorithmIdentifierOwned {
            oid: SHA1,
            parameters: Some(Any::null()),
        },
        issuer_name_hash: OctetString::new(
            hash(SHA1, issuer.subject().as_raw()).unwrap_or_default(),
        )
        .map_err(bad)?,
        issuer_key_hash: OctetString::new(
            hash(SHA1, &issuer.public_key().subject_public_key.data).unwrap_or_default(),
        )
        .map_err(bad)?,
        serial_number: SerialNumber::new(cert.raw_serial()).map_err(bad)?,
    };
    let nonce_value = Nonce::new(nonce.to_vec())
        .map_err(bad)?
        .to_der()
        .map_err(bad)?;
    let request = OcspRequest {
        tbs_request: TbsRequest {
            version: Version::V1,
            requestor_name: None,
            request_list: vec![Request {
                req_cert: cert_id,
                single_request_extensions: None,
            }],
            request_extensions: Some(vec![Extension {
                extn_id: OCSP_NONCE,
                critical: false,
                extn_value: OctetString::new(nonce_value).map_err(bad)?,
            }]),
        },
        optional_signature: None,
    };
    request.to_der().map_err(bad)
}

fn hash(alg: ObjectIdentifier, data: &[u8]) -> Option<Vec<u8>> {
    let algorithm = if alg == SHA1 {
        &digest::SHA1_FOR_LEGACY_USE_ONLY
    } else if alg == SHA256 {
        &digest::SHA256
    } else {
        return None;
    };
    Some(digest::digest(algorithm, data).as_ref().to_vec())
}

/// The status of `cert` in the OCSP response `der` (from `source`, at `now`, Unix seconds).
/// `nonce` is the one we sent (None for a staple).
pub(super) fn check(
    der: &[u8],
    cert: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
    nonce: Option<&[u8]>,
    source: RevocationSource,
    now: u64,
) -> Result<Answer, SourceFailure> {
    let unavailable = |why: String| SourceFailure::Unavailable(format!("{source}: {why}"));
    let forged = |why: String| SourceFailure::Forged(format!("{source}: {why}"));
    let response = OcspResponse::from_der(der)
        .map_err(|e| unavailable(format!("not a DER OCSP response ({e})")))?;
    if response.response_status != OcspResponseStatus::Successful {
        return Err(unavailable(format!(
            "the responder answered {:?}",
            response.response_status
        )));
    }
    let bytes = response
        .response_bytes
        .ok_or_else(|| unavailable("successful response without a body".to_owned()))?;
    if bytes.response_type != OCSP_BASIC {
        return Err(unavailable("not a basic OCSP response".to_owned()));
    }
    let basic = BasicOcspResponse::from_der(bytes.response.as_bytes())
        .map_err(|e| unavailable(format!("malformed basic response ({e})")))?;
    verify_signature(&basic, issuer, now).map_err(forged)?;
    let single = basic
        .tbs_response_data
        .responses
        .iter()
        .find(|single| names_certificate(&single.cert_id, cert, issuer))
        .ok_or_else(|| {
            unavailable("the response does not answer for this certificate".to_owned())
        })?;
    let this_update = single.this_update.0.to_unix_duration().as_secs();
    if this_update > now + CLOCK_SKEW {
        return Err(unavailable("thisUpdate is in the future".to_owned()));
    }
    let next_update = single
        .next_update
        .as_ref()
        .map(|t| t.0.to_unix_duration().as_secs());
    if let Some(next) = next_update
        && next + CLOCK_SKEW < now
    {
        return Err(unavailable("stale (nextUpdate has passed)".to_owned()));
    }
    let echoed = basic.nonce();
    match (nonce, &echoed) {
        (Some(ours), Some(theirs)) if theirs.0.as_bytes() != ours => {
            return Err(forged(
                "its nonce is not the one we sent (a replayed response)".to_owned(),
            ));
        }
        (Some(_), Some(_)) => {}
        _ => {
            if next_update.is_none() && this_update + MAX_AGE_WITHOUT_NEXT_UPDATE < now {
                return Err(unavailable(
                    "old response without nextUpdate or nonce".to_owned(),
                ));
            }
        }
    }
    match &single.cert_status {
        CertStatus::Good(_) => Ok(Answer::Good {
            source,
            until: next_update,
        }),
        CertStatus::Revoked(info) => Ok(Answer::Revoked(RevokedInfo {
            certificate: display_name(cert),
            source,
            reason: info
                .revocation_reason
                .map(|r| reason_name(r as u32))
                .unwrap_or_else(|| "unspecified".to_owned()),
            date: rfc3339(info.revocation_time.0.to_unix_duration().as_secs() as i64),
        })),
        CertStatus::Unknown(_) => Err(unavailable(
            "the responder does not know this certificate".to_owned(),
        )),
    }
}

fn names_certificate(
    id: &CertId,
    cert: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
) -> bool {
    let alg = id.hash_algorithm.oid;
    let (Some(name_hash), Some(key_hash)) = (
        hash(alg, issuer.subject().as_raw()),
        hash(alg, &issuer.public_key().subject_public_key.data),
    ) else {
        return false;
    };
    id.issuer_name_hash.as_bytes() == name_hash.as_slice()
        && id.issuer_key_hash.as_bytes() == key_hash.as_slice()
        && trim_serial(id.serial_number.as_bytes()) == trim_serial(cert.raw_serial())
}

/// Finds who signed the response (the issuer or a delegated responder) and checks the
/// signature; `Err` says why it cannot be trusted.
fn verify_signature(
    basic: &BasicOcspResponse,
    issuer: &X509Certificate<'_>,
    now: u64,
) -> Result<(), String> {
    let tbs = basic
        .tbs_response_data
        .to_der()
        .map_err(|e| format!("cannot re-encode the response ({e})"))?;
    let alg_der = basic
        .signature_algorithm
        .to_der()
        .map_err(|e| format!("bad signature algorithm ({e})"))?;
    let (_, alg) = AlgorithmIdentifier::from_der(&alg_der)
        .map_err(|e| format!("bad signature algorithm ({e})"))?;
    let signature = BitString::new(basic.signature.unused_bits(), basic.signature.raw_bytes());
    let verify = |signer: &X509Certificate<'_>| {
        x509_parser::verify::verify_signature(signer.public_key(), &alg, &signature, &tbs)
    };
    let responder = &basic.tbs_response_data.responder_id;
    if responder_is(responder, issuer) {
        return verify(issuer).map_err(|_| {
            format!(
                "the signature does not verify with the key of {} (forged response)",
                display_name(issuer)
            )
        });
    }
    let included: Vec<Vec<u8>> = basic
        .certs
        .iter()
        .flatten()
        .filter_map(|c| c.to_der().ok())
        .collect();
    for der in &included {
        let Ok((_, candidate)) = X509Certificate::from_der(der) else {
            continue;
        };
        if !responder_is(responder, &candidate) {
            continue;
        }
        let authorized = candidate.issuer().as_raw() == issuer.subject().as_raw()
            && candidate
                .verify_signature(Some(issuer.public_key()))
                .is_ok();
        if !authorized {
            return Err(format!(
                "signed by {}, which {} did not authorize (forged response)",
                display_name(&candidate),
                display_name(issuer)
            ));
        }
        let ocsp_signing = candidate
            .extended_key_usage()
            .ok()
            .flatten()
            .is_some_and(|eku| eku.value.ocsp_signing);
        if !ocsp_signing {
            return Err(format!(
                "signed by {}, which lacks id-kp-OCSPSigning",
                display_name(&candidate)
            ));
        }
        let validity = candidate.validity();
        let now_i = now as i64;
        if validity.not_before.timestamp() > now_i || validity.not_after.timestamp() < now_i {
            return Err(format!(
                "the responder certificate {} is not valid now",
                display_name(&candidate)
            ));
        }
        return verify(&candidate).map_err(|_| {
            format!(
                "the signature does not verify with the key of responder {} (forged response)",
                display_name(&candidate)
            )
        });
    }
    Err("signed by a responder that is neither the issuer nor authorized by it".to_owned())
}

fn responder_is(id: &ResponderId, cert: &X509Certificate<'_>) -> bool {
    match id {
        ResponderId::ByName(name) => name
            .to_der()
            .is_ok_and(|der| der.as_slice() == cert.subject().as_raw()),
        ResponderId::ByKey(key_hash) => hash(SHA1, &cert.public_key().subject_public_key.data)
            .is_some_and(|h| h.as_slice() == key_hash.as_bytes()),
    }
}
