//! Digest computation (RFC 7616 §3.4.1, RFC 2617, RFC 2069 without qop; SIP per RFC 3261
//! §22.4 and RFC 8760) and the `Authorization: Digest …` value.

use std::fmt::Write as _;

use md5::Md5;
use sha2::{Digest, Sha256, Sha512_256};
use zeroize::Zeroizing;

use crate::message::write_quoted;

/// A Digest hash algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DigestAlgorithm {
    /// `MD5` (the default when a challenge names none).
    Md5,
    /// `MD5-sess`.
    Md5Sess,
    /// `SHA-256` (RFC 8760).
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
    /// `SHA-512-256`.
    Sha512_256,
    /// `SHA-512-256-sess`.
    Sha512_256Sess,
}

impl DigestAlgorithm {
    /// Parses an `algorithm` value, case-insensitively; tolerates `SHA256` and `SHA512-256`
    /// without the first hyphen.
    pub fn from_name(name: &str) -> Option<DigestAlgorithm> {
        let name = name.to_ascii_uppercase();
        let (base, sess) = match name.strip_suffix("-SESS") {
            Some(base) => (base, true),
            None => (name.as_str(), false),
        };
        Some(match (base, sess) {
            ("MD5", false) => DigestAlgorithm::Md5,
            ("MD5", true) => DigestAlgorithm::Md5Sess,
            ("SHA-256" | "SHA256", false) => DigestAlgorithm::Sha256,
            ("SHA-256" | "SHA256", true) => DigestAlgorithm::Sha256Sess,
            ("SHA-512-256" | "SHA512-256", false) => DigestAlgorithm::Sha512_256,
            ("SHA-512-256" | "SHA512-256", true) => DigestAlgorithm::Sha512_256Sess,
            _ => return None,
        })
    }

    /// The canonical name (`SHA-256-sess`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            DigestAlgorithm::Md5 => "MD5",
            DigestAlgorithm::Md5Sess => "MD5-sess",
            DigestAlgorithm::Sha256 => "SHA-256",
            DigestAlgorithm::Sha256Sess => "SHA-256-sess",
            DigestAlgorithm::Sha512_256 => "SHA-512-256",
            DigestAlgorithm::Sha512_256Sess => "SHA-512-256-sess",
        }
    }

    /// Whether this is a `-sess` variant (HA1 also covers the nonce and cnonce).
    pub fn is_session(self) -> bool {
        matches!(
            self,
            DigestAlgorithm::Md5Sess
                | DigestAlgorithm::Sha256Sess
                | DigestAlgorithm::Sha512_256Sess
        )
    }

    /// Preference order when a server offers several: SHA-512-256 > SHA-256 > MD5.
    pub(crate) fn strength(self) -> u8 {
        match self {
            DigestAlgorithm::Md5 | DigestAlgorithm::Md5Sess => 0,
            DigestAlgorithm::Sha256 | DigestAlgorithm::Sha256Sess => 1,
            DigestAlgorithm::Sha512_256 | DigestAlgorithm::Sha512_256Sess => 2,
        }
    }

    /// Lower-case hex of H(parts joined by `:`).
    fn hash(self, parts: &[&str]) -> String {
        match self {
            DigestAlgorithm::Md5 | DigestAlgorithm::Md5Sess => hex_hash::<Md5>(parts),
            DigestAlgorithm::Sha256 | DigestAlgorithm::Sha256Sess => hex_hash::<Sha256>(parts),
            DigestAlgorithm::Sha512_256 | DigestAlgorithm::Sha512_256Sess => {
                hex_hash::<Sha512_256>(parts)
            }
        }
    }
}

fn hex_hash<D: Digest>(parts: &[&str]) -> String {
    let mut hash = D::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash.update(b":");
        }
        hash.update(part.as_bytes());
    }
    hex::encode(hash.finalize())
}

/// Everything a Digest response is computed from.
pub(crate) struct DigestInput<'a> {
    pub(crate) algorithm: DigestAlgorithm,
    pub(crate) username: &'a str,
    pub(crate) password: &'a str,
    pub(crate) realm: &'a str,
    pub(crate) nonce: &'a str,
    pub(crate) method: &'a str,
    pub(crate) uri: &'a str,
    /// `Some("auth")`, or `None` for the RFC 2069 form.
    pub(crate) qop: Option<&'a str>,
    /// The nonce count (printed as 8 hex digits).
    pub(crate) nc: u32,
    pub(crate) cnonce: &'a str,
}

/// The `response` value (RFC 7616 §3.4.1).
pub(crate) fn response(input: &DigestInput<'_>) -> String {
    let alg = input.algorithm;
    let mut ha1 = Zeroizing::new(alg.hash(&[input.username, input.realm, input.password]));
    if alg.is_session() {
        ha1 = Zeroizing::new(alg.hash(&[&ha1, input.nonce, input.cnonce]));
    }
    let ha2 = alg.hash(&[input.method, input.uri]);
    match input.qop {
        Some(qop) => {
            let nc = format!("{:08x}", input.nc);
            alg.hash(&[&ha1, input.nonce, &nc, input.cnonce, qop, &ha2])
        }
        None => alg.hash(&[&ha1, input.nonce, &ha2]),
    }
}

/// The `Digest username="…", realm="…", …` credentials value. `algorithm_name` is echoed as
/// the server spelled it (omitted if the server sent none); `opaque` is echoed if present.
pub(crate) fn credentials_value(
    input: &DigestInput<'_>,
    algorithm_name: Option<&str>,
    opaque: Option<&str>,
) -> String {
    let mut out = String::from("Digest ");
    // Writing into a `String` cannot fail.
    let _infallible = write_credentials(&mut out, input, algorithm_name, opaque);
    out
}

fn write_credentials(
    out: &mut String,
    input: &DigestInput<'_>,
    algorithm_name: Option<&str>,
    opaque: Option<&str>,
) -> std::fmt::Result {
    out.push_str("username=");
    write_quoted(out, input.username)?;
    out.push_str(", realm=");
    write_quoted(out, input.realm)?;
    out.push_str(", nonce=");
    write_quoted(out, input.nonce)?;
    out.push_str(", uri=");
    write_quoted(out, input.uri)?;
    write!(out, ", response=\"{}\"", response(input))?;
    if let Some(name) = algorithm_name {
        write!(out, ", algorithm={name}")?;
    }
    if input.qop.is_some() || input.algorithm.is_session() {
        out.push_str(", cnonce=");
        write_quoted(out, input.cnonce)?;
    }
    if let Some(opaque) = opaque {
        out.push_str(", opaque=");
        write_quoted(out, opaque)?;
    }
    if let Some(qop) = input.qop {
        write!(out, ", qop={qop}, nc={:08x}", input.nc)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7616 §3.9.1.
    fn rfc7616(algorithm: DigestAlgorithm) -> DigestInput<'static> {
        DigestInput {
            algorithm,
            username: "Mufasa",
            password: "Circle of Life",
            realm: "http-auth@example.org",
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            method: "GET",
            uri: "/dir/index.html",
            qop: Some("auth"),
            nc: 1,
            cnonce: "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        }
    }

    #[test]
    fn rfc7616_vectors() {
        assert_eq!(
            response(&rfc7616(DigestAlgorithm::Md5)),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
        assert_eq!(
            response(&rfc7616(DigestAlgorithm::Sha256)),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
    }

    /// The same computation with a SIP method and Request-URI; expected values computed
    /// independently (Python hashlib).
    #[test]
    fn sip_vectors() {
        let cnonce = "000102030405060708090a0b0c0d0e0f";
        let input = |algorithm, qop, nc| DigestInput {
            algorithm,
            username: "alice",
            password: "Circle of Life",
            realm: "example.test",
            nonce: "nonce123",
            method: "REGISTER",
            uri: "sips:example.test",
            qop,
            nc,
            cnonce,
        };
        for (algorithm, qop, nc, expected) in [
            (
                DigestAlgorithm::Md5,
                Some("auth"),
                1,
                "4e6eac36db0d982d6fafa2e7e2e24358",
            ),
            (
                DigestAlgorithm::Md5,
                Some("auth"),
                2,
                "dbebcc45009c2113f2a73859e89afcad",
            ),
            (
                DigestAlgorithm::Md5Sess,
                Some("auth"),
                1,
                "5a4413b072eac6e0360e48df4b33896e",
            ),
            (
                DigestAlgorithm::Md5,
                None,
                1,
                "5fdde477f8781ce2c80a63c549f0603b",
            ),
            (
                DigestAlgorithm::Sha256,
                Some("auth"),
                1,
                "d4e6a1251e834e109fe1cc8cb57a2fc055f782ea534071a15fd0d3d985f66cc8",
            ),
            (
                DigestAlgorithm::Sha256Sess,
                Some("auth"),
                1,
                "962ffb1f03f88f56df4f805061680096505c63b4084ecf6358ebb753f9f6c2f2",
            ),
            (
                DigestAlgorithm::Sha256,
                None,
                1,
                "f8bd3b981e6385c7641b42a39db5740afc3495548648f98bbe38ab67e16b0fe9",
            ),
            (
                DigestAlgorithm::Sha512_256,
                Some("auth"),
                1,
                "15e7fb1fe3b9e735622569780f455529e0215d4bf0f378ea4625557c08ffb44a",
            ),
            (
                DigestAlgorithm::Sha512_256Sess,
                Some("auth"),
                1,
                "5e8dbb478e730c9dc6b9fca902ae8a8916132d9aa1ff6c753652de19a0fe8c63",
            ),
        ] {
            assert_eq!(
                response(&input(algorithm, qop, nc)),
                expected,
                "{algorithm:?} {qop:?} {nc}"
            );
        }
    }

    #[test]
    fn algorithm_names() {
        for (name, algorithm) in [
            ("MD5", DigestAlgorithm::Md5),
            ("md5-sess", DigestAlgorithm::Md5Sess),
            ("SHA-256", DigestAlgorithm::Sha256),
            ("SHA256", DigestAlgorithm::Sha256),
            ("sha-256-SESS", DigestAlgorithm::Sha256Sess),
            ("SHA-512-256", DigestAlgorithm::Sha512_256),
            ("SHA-512-256-sess", DigestAlgorithm::Sha512_256Sess),
        ] {
            assert_eq!(DigestAlgorithm::from_name(name), Some(algorithm), "{name}");
            assert_eq!(
                DigestAlgorithm::from_name(algorithm.as_str()),
                Some(algorithm)
            );
        }
        for name in ["SHA-1", "", "-sess", "MD5-sess-sess", "AKAv1-MD5"] {
            assert_eq!(DigestAlgorithm::from_name(name), None, "{name}");
        }
    }

    #[test]
    fn credentials_value_layout() {
        let input = rfc7616(DigestAlgorithm::Sha256);
        assert_eq!(
            credentials_value(
                &input,
                Some("SHA-256"),
                Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
            ),
            "Digest username=\"Mufasa\", realm=\"http-auth@example.org\", \
             nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", uri=\"/dir/index.html\", \
             response=\"753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1\", \
             algorithm=SHA-256, cnonce=\"f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ\", \
             opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\", qop=auth, nc=00000001"
        );
        let legacy = DigestInput {
            qop: None,
            algorithm: DigestAlgorithm::Md5,
            ..rfc7616(DigestAlgorithm::Md5)
        };
        let value = credentials_value(&legacy, None, None);
        assert!(
            !value.contains("cnonce") && !value.contains("qop") && !value.contains("algorithm")
        );
    }
}
