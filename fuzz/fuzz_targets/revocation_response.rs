//! Feeds the input as a revocation answer for a fixed certificate and its CA (made with
//! openssl, in `fixtures/revocation/`): the first byte picks a CRL (0), a stapled OCSP
//! response (1) or an OCSP response to our nonce (2); the rest is the DER.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockphone::tls::revocation::fuzzing::{check_crl, check_ocsp};

const CA: &[u8] = include_bytes!("../fixtures/revocation/ca.der");
const LEAF: &[u8] = include_bytes!("../fixtures/revocation/leaf.der");
const URL: &str = "http://127.0.0.1:1/ca.crl";
/// Within the fixtures' validity (seeds made at 1795460779).
const NOW: u64 = 1_795_464_379;
const NONCE: [u8; 16] = [7; 16];

fuzz_target!(|data: &[u8]| {
    let Some((&kind, der)) = data.split_first() else {
        return;
    };
    let outcome = match kind % 3 {
        0 => check_crl(der, LEAF, CA, URL, NOW),
        1 => check_ocsp(der, LEAF, CA, None, NOW),
        _ => check_ocsp(der, LEAF, CA, Some(&NONCE), NOW),
    }
    .expect("the fixtures parse");
    // An answer names the source it came from.
    if outcome.starts_with("Ok(") {
        let source = ["source: Crl", "source: Stapled", "source: Ocsp"][usize::from(kind % 3)];
        assert!(outcome.contains(source), "{outcome}");
    }
});
