//! Choosing and checking SDES `a=crypto` lines (RFC 4568 sections 6 and 7).

use std::collections::BTreeSet;

use super::{NegotiatedSrtp, NegotiationError};
use crate::sdp::{CryptoAttribute, CryptoError, KeyParam, SdesKey, SdesSuite};

/// Whether we can run a line as given: a suite we know with a key of its exact length, one
/// key, no MKI, and no session parameter other than the harmless window-size hint (the
/// SRTP layer supports neither MKI nor key-derivation rates, nor unencrypted/unauthenticated
/// modes).
pub(super) fn usable(crypto: &CryptoAttribute) -> bool {
    let [param] = crypto.key_params.as_slice() else {
        return false;
    };
    param.mki.is_none()
        && param.key.split(&crypto.suite).is_some()
        && crypto
            .session_params
            .iter()
            .all(|p| p.to_ascii_uppercase().starts_with("WSH="))
}

/// The first offered line (offer order) whose suite is one of `suites` and that we can run.
pub(super) fn choose<'a>(
    offered: &[&'a CryptoAttribute],
    suites: &[SdesSuite],
) -> Result<&'a CryptoAttribute, NegotiationError> {
    offered
        .iter()
        .copied()
        .find(|c| suites.contains(&c.suite) && usable(c))
        .ok_or_else(|| NegotiationError::NoSupportedSuite {
            offered: offered
                .iter()
                .map(|c| c.suite.as_str().chars().take(40).collect::<String>())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Checks the one `a=crypto` line of an answer against the lines we offered: its suite and
/// its tag must be those of one offered line.
pub(super) fn accept_answer(
    offered: &[CryptoAttribute],
    answered: &CryptoAttribute,
) -> Result<NegotiatedSrtp, NegotiationError> {
    let ours = offered
        .iter()
        .find(|c| c.suite == answered.suite)
        .ok_or_else(|| NegotiationError::SuiteNotOffered {
            suite: answered.suite.as_str().chars().take(40).collect(),
        })?;
    if ours.tag != answered.tag {
        return Err(NegotiationError::TagMismatch {
            tag: answered.tag,
            suite: answered.suite.as_str().to_owned(),
        });
    }
    check_key_length(answered)?;
    if !usable(answered) {
        return Err(NegotiationError::UnsupportedCryptoParams);
    }
    let (Some(local_key), Some(remote_key)) = (ours.key(), answered.key()) else {
        return Err(NegotiationError::Crypto(CryptoError::Missing(
            "key parameters",
        )));
    };
    Ok(NegotiatedSrtp {
        suite: answered.suite.clone(),
        tag: answered.tag,
        local_key: local_key.clone(),
        remote_key: remote_key.clone(),
    })
}

/// A `KeyLength` error if any key of a known suite has the wrong length (the parser checks
/// this already; a description built in code may not have been parsed).
pub(super) fn check_key_length(crypto: &CryptoAttribute) -> Result<(), NegotiationError> {
    let Some(expected) = crypto.suite.master_len() else {
        return Ok(());
    };
    match crypto.key_params.iter().find(|p| p.key.len() != expected) {
        Some(param) => Err(NegotiationError::Crypto(CryptoError::KeyLength {
            suite: crypto.suite.as_str().to_owned(),
            expected,
            actual: param.key.len(),
        })),
        None => Ok(()),
    }
}

/// An `a=crypto` line with one key and nothing else.
pub(super) fn line(tag: u32, suite: SdesSuite, key: SdesKey) -> CryptoAttribute {
    CryptoAttribute {
        tag,
        suite,
        key_params: vec![KeyParam {
            key,
            lifetime: None,
            mki: None,
        }],
        session_params: Vec::new(),
    }
}

/// The `a=crypto` lines of an offer: one per suite in `suites` order. Lines given in `keep`
/// (tag and key for a suite) are reused as they are; the others get fresh keys and the
/// smallest tags not taken, counting from 1.
pub(super) fn offer_lines(
    suites: &[SdesSuite],
    keep: &[(SdesSuite, u32, SdesKey)],
    rng: &mut impl rand::RngCore,
) -> Result<Vec<CryptoAttribute>, NegotiationError> {
    let kept: Vec<Option<&(SdesSuite, u32, SdesKey)>> = suites
        .iter()
        .map(|suite| keep.iter().find(|(s, _, _)| s == suite))
        .collect();
    let mut taken: BTreeSet<u32> = kept.iter().flatten().map(|(_, tag, _)| *tag).collect();
    let mut next_tag = 1u32;
    let mut lines = Vec::with_capacity(suites.len());
    for (suite, kept) in suites.iter().zip(kept) {
        match kept {
            Some((_, tag, key)) => lines.push(line(*tag, suite.clone(), key.clone())),
            None => {
                while taken.contains(&next_tag) {
                    next_tag += 1;
                }
                taken.insert(next_tag);
                lines.push(CryptoAttribute::generate(next_tag, suite.clone(), rng)?);
            }
        }
    }
    Ok(lines)
}
