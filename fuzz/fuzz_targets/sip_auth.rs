//! Parses the input as a challenge header value, then runs the authenticator on a 401 and a
//! 407 that carry it, for both Digest and Bearer credentials.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lockphone_sip::auth::{Authenticator, Credentials, Secret, parse_challenges};
use lockphone_sip::message::{HeaderName, Method, Request, Response, StatusCode};

/// A deterministic RNG (the fuzzer must be reproducible).
struct Steps(u64);

impl rand::RngCore for Steps {
    fn next_u32(&mut self) -> u32 {
        self.next_u64() as u32
    }
    fn next_u64(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        for byte in dest {
            *byte = self.next_u64() as u8;
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(value) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_challenges(value);
    if value.contains(['\r', '\n']) {
        return; // not a header value a parsed response could carry
    }
    for credentials in [
        Credentials::Digest {
            username: "alice".into(),
            password: Secret::new("pw"),
        },
        Credentials::Bearer {
            token: Secret::new("tok"),
        },
    ] {
        let mut auth = Authenticator::new(credentials);
        for (status, header) in [
            (StatusCode::UNAUTHORIZED, HeaderName::WwwAuthenticate),
            (
                StatusCode::PROXY_AUTH_REQUIRED,
                HeaderName::ProxyAuthenticate,
            ),
        ] {
            let mut resp = Response::new(status, None);
            resp.headers.push(header, value);
            let outcome = auth.on_challenge(&resp);
            let mut req = Request::new(
                Method::Register,
                "sips:example.test".parse().expect("valid URI"),
            );
            auth.authorize(&mut req, &mut Steps(1));
            if outcome.is_ok() {
                assert!(auth.has_challenges());
            }
            for value in req.headers.iter().map(|h| &h.value) {
                assert!(
                    !value.contains(['\r', '\n']),
                    "credential value with a line break"
                );
            }
        }
    }
});
