//! The device's key pair: generation (RSA 2048/3072/4096 with e = 65537, EC P-256/P-384/P-521)
//! on aws-lc-rs, the public key as DER SubjectPublicKeyInfo, and the certificate-mode
//! signatures of reference §5.4.
//!
//! ```no_run
//! use lockphone::capf::keys::{DeviceKey, KeyKind};
//! use lockphone::capf::message::Curve;
//!
//! let key = DeviceKey::generate(KeyKind::Ec(Curve::P256))?;
//! assert_eq!(key.spki()[0], 0x30); // DER SEQUENCE
//! # Ok::<(), lockphone::capf::keys::KeyError>(())
//! ```

use aws_lc_rs::digest::{self, Digest};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaKeyPair, EcdsaSigningAlgorithm, KeyPair};
use rsa::pkcs8::DecodePrivateKey;
use rsa::pkcs8::DecodePublicKey;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::message::{Curve, KeyRequest};

/// The smallest RSA key Lockphone generates or signs with.
pub const MIN_RSA_BITS: u16 = 2048;

/// A key type and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase", tag = "type")]
pub enum KeyKind {
    /// RSA with this modulus size in bits.
    Rsa {
        /// Modulus bits.
        bits: u16,
    },
    /// ECDSA on this curve.
    Ec {
        /// The curve.
        curve: Curve,
    },
}

#[allow(non_snake_case)]
impl KeyKind {
    /// Shorthand for `KeyKind::Rsa { bits }`.
    pub fn Rsa(bits: u16) -> KeyKind {
        KeyKind::Rsa { bits }
    }

    /// Shorthand for `KeyKind::Ec { curve }`.
    pub fn Ec(curve: Curve) -> KeyKind {
        KeyKind::Ec { curve }
    }
}

impl std::fmt::Display for KeyKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyKind::Rsa { bits } => write!(f, "RSA {bits}"),
            KeyKind::Ec { curve } => write!(f, "EC {}", curve.name()),
        }
    }
}

/// Why a key could not be made, read or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The server asked for a key weaker than RSA 2048.
    #[error(
        "the CAPF server asked for an RSA {bits}-bit key; Lockphone refuses RSA keys below {min} bits: ask the administrator to set the device's key size to 2048 or more (or an EC curve)"
    )]
    TooWeak {
        /// The size asked for.
        bits: u16,
        /// The minimum accepted.
        min: u16,
    },
    /// A key type or size Lockphone cannot generate.
    #[error(
        "the CAPF server asked for {0}, which Lockphone cannot generate (supported: RSA 2048/3072/4096, EC P-256/P-384/P-521)"
    )]
    Unsupported(String),
    /// The crypto library failed.
    #[error("key operation failed: {0}")]
    Crypto(&'static str),
    /// A stored or provided private key is not a usable PKCS#8 RSA or EC key.
    #[error("not a usable private key (PKCS#8 RSA or EC P-256/P-384/P-521 expected)")]
    BadPrivateKey,
}

/// The key to generate for a KEY_GENERATE_REQUEST, or why not.
pub fn kind_for_request(request: KeyRequest, min_rsa_bits: u16) -> Result<KeyKind, KeyError> {
    let min = min_rsa_bits.max(MIN_RSA_BITS);
    match request {
        KeyRequest::Rsa(bits) if bits < min => Err(KeyError::TooWeak { bits, min }),
        KeyRequest::Rsa(bits @ (2048 | 3072 | 4096)) => Ok(KeyKind::Rsa { bits }),
        KeyRequest::Ec(curve) => Ok(KeyKind::Ec { curve }),
        other => Err(KeyError::Unsupported(other.to_string())),
    }
}

/// The hash of a certificate-mode signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureHash {
    /// SHA-1 (SIGNED_DATA).
    Sha1,
    /// SHA-512 (SHA2_SIGNED_DATA, hash ID 3).
    Sha512,
}

impl SignatureHash {
    fn digest(self, message: &[u8]) -> Digest {
        match self {
            SignatureHash::Sha1 => digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, message),
            SignatureHash::Sha512 => digest::digest(&digest::SHA512, message),
        }
    }

    /// The DER DigestInfo prefix of PKCS#1 v1.5.
    fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            SignatureHash::Sha1 => &[
                0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
                0x14,
            ],
            SignatureHash::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
        }
    }
}

/// How RSA certificate-mode signatures are padded (reference §5.4, uncertain).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RsaSignatureForm {
    /// `00 01 FF.. 00 H(M1)`: the raw digest without DigestInfo, as capfc sends (default).
    #[default]
    Unprefixed,
    /// Standard PKCS#1 v1.5 with DigestInfo.
    DigestInfo,
}

/// A device key pair. The private half never appears in `Debug`.
pub struct DeviceKey {
    kind: KeyKind,
    pkcs8: Zeroizing<Vec<u8>>,
    spki: Vec<u8>,
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeviceKey({}, private key <redacted>)", self.kind)
    }
}

fn ec_signing_alg(curve: Curve) -> &'static EcdsaSigningAlgorithm {
    match curve {
        Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1_SIGNING,
        Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1_SIGNING,
        Curve::P521 => &signature::ECDSA_P521_SHA512_ASN1_SIGNING,
    }
}

/// The digest algorithm whose output length ECDSA on `curve` takes as its input here.
fn ec_input_alg(curve: Curve) -> &'static digest::Algorithm {
    match curve {
        Curve::P256 => &digest::SHA256,
        Curve::P384 => &digest::SHA384,
        Curve::P521 => &digest::SHA512,
    }
}

/// The ECDSA input for `hash` on `curve`, as a digest of the curve's own length: the leftmost
/// bytes of a longer hash, or a shorter hash left-padded with zeros (the same integer). ECDSA
/// on this value is ECDSA with `hash` (FIPS 186-4 §6.4).
pub(crate) fn ec_input(curve: Curve, hash: &[u8]) -> Result<Digest, KeyError> {
    let alg = ec_input_alg(curve);
    let len = alg.output_len();
    let fitted: Vec<u8> = if hash.len() >= len {
        hash.get(..len).unwrap_or_default().to_vec()
    } else {
        let mut padded = vec![0u8; len - hash.len()];
        padded.extend_from_slice(hash);
        padded
    };
    Digest::import_less_safe(&fitted, alg).map_err(|_| KeyError::Crypto("digest import"))
}

impl DeviceKey {
    /// Generates a key pair.
    pub fn generate(kind: KeyKind) -> Result<DeviceKey, KeyError> {
        match kind {
            KeyKind::Rsa { bits } => {
                let size = match bits {
                    2048 => KeySize::Rsa2048,
                    3072 => KeySize::Rsa3072,
                    4096 => KeySize::Rsa4096,
                    b if b < MIN_RSA_BITS => {
                        return Err(KeyError::TooWeak {
                            bits,
                            min: MIN_RSA_BITS,
                        });
                    }
                    _ => return Err(KeyError::Unsupported(kind.to_string())),
                };
                let pair = aws_lc_rs::rsa::KeyPair::generate(size)
                    .map_err(|_| KeyError::Crypto("RSA key generation"))?;
                let pkcs8 = pair
                    .as_der()
                    .map_err(|_| KeyError::Crypto("PKCS#8 encoding"))?;
                DeviceKey::from_pkcs8_der(pkcs8.as_ref())
            }
            KeyKind::Ec { curve } => {
                let pair = EcdsaKeyPair::generate(ec_signing_alg(curve))
                    .map_err(|_| KeyError::Crypto("EC key generation"))?;
                let pkcs8 = pair
                    .to_pkcs8v1()
                    .map_err(|_| KeyError::Crypto("PKCS#8 encoding"))?;
                DeviceKey::from_pkcs8_der(pkcs8.as_ref())
            }
        }
    }

    /// Reads an unencrypted PKCS#8 RSA or EC private key.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<DeviceKey, KeyError> {
        if let Ok(pair) = aws_lc_rs::rsa::KeyPair::from_pkcs8(der) {
            let bits = u16::try_from(pair.public_modulus_len() * 8)
                .map_err(|_| KeyError::BadPrivateKey)?;
            let spki = pair
                .public_key()
                .as_der()
                .map_err(|_| KeyError::Crypto("SPKI encoding"))?;
            return Ok(DeviceKey {
                kind: KeyKind::Rsa { bits },
                pkcs8: Zeroizing::new(der.to_vec()),
                spki: spki.as_ref().to_vec(),
            });
        }
        for curve in [Curve::P256, Curve::P384, Curve::P521] {
            if let Ok(pair) = EcdsaKeyPair::from_pkcs8(ec_signing_alg(curve), der) {
                let spki = pair
                    .public_key()
                    .as_der()
                    .map_err(|_| KeyError::Crypto("SPKI encoding"))?;
                return Ok(DeviceKey {
                    kind: KeyKind::Ec { curve },
                    pkcs8: Zeroizing::new(der.to_vec()),
                    spki: spki.as_ref().to_vec(),
                });
            }
        }
        Err(KeyError::BadPrivateKey)
    }

    /// Reads a PEM private key (`PRIVATE KEY` block, PKCS#8).
    pub fn from_pem(text: &str) -> Result<DeviceKey, KeyError> {
        use rustls::pki_types::PrivateKeyDer;
        use rustls::pki_types::pem::PemObject;
        match PrivateKeyDer::from_pem_slice(text.as_bytes()) {
            Ok(PrivateKeyDer::Pkcs8(der)) => DeviceKey::from_pkcs8_der(der.secret_pkcs8_der()),
            _ => Err(KeyError::BadPrivateKey),
        }
    }

    /// The key type and size.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The public key as DER SubjectPublicKeyInfo.
    pub fn spki(&self) -> &[u8] {
        &self.spki
    }

    /// The private key as PKCS#8 DER (secret: store it 0600, never log it).
    pub fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The private key as PEM (secret).
    pub fn pkcs8_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(pem_block("PRIVATE KEY", &self.pkcs8))
    }

    /// Signs `message` with `hash`: RSA in `form`, EC as DER `SEQUENCE{r, s}`.
    pub fn sign(
        &self,
        message: &[u8],
        hash: SignatureHash,
        form: RsaSignatureForm,
    ) -> Result<Vec<u8>, KeyError> {
        let digest = hash.digest(message);
        match self.kind {
            KeyKind::Rsa { .. } => {
                let key = rsa::PrivateKey::from_pkcs8_der(&self.pkcs8)
                    .map_err(|_| KeyError::BadPrivateKey)?;
                let scheme = match form {
                    RsaSignatureForm::Unprefixed => rsa::pkcs1v15::Pkcs1v15Sign::new_unprefixed(),
                    RsaSignatureForm::DigestInfo => rsa::pkcs1v15::Pkcs1v15Sign {
                        hash_len: Some(digest.as_ref().len()),
                        prefix: hash.digest_info_prefix().into(),
                    },
                };
                key.sign(scheme, digest.as_ref())
                    .map_err(|_| KeyError::Crypto("RSA signature"))
            }
            KeyKind::Ec { curve } => {
                let pair = EcdsaKeyPair::from_pkcs8(ec_signing_alg(curve), &self.pkcs8)
                    .map_err(|_| KeyError::BadPrivateKey)?;
                let input = ec_input(curve, digest.as_ref())?;
                pair.sign_digest(&input)
                    .map(|sig| sig.as_ref().to_vec())
                    .map_err(|_| KeyError::Crypto("ECDSA signature"))
            }
        }
    }
}

/// Checks a certificate-mode signature over `message` by the key of `spki`, as capfd does:
/// RSA in either padding form, EC as ECDSA with `hash`.
pub fn verify_signature(
    spki: &[u8],
    message: &[u8],
    hash: SignatureHash,
    signature_bytes: &[u8],
) -> bool {
    let digest = hash.digest(message);
    let Some(parsed) = parse_spki(spki) else {
        return false;
    };
    if parsed.is_ec && parsed.curve.is_none() {
        return false;
    }
    match parsed.curve {
        Some(curve) => {
            let alg: &'static signature::EcdsaVerificationAlgorithm = match curve {
                Curve::P256 => &signature::ECDSA_P256_SHA256_ASN1,
                Curve::P384 => &signature::ECDSA_P384_SHA384_ASN1,
                Curve::P521 => &signature::ECDSA_P521_SHA512_ASN1,
            };
            let Ok(input) = ec_input(curve, digest.as_ref()) else {
                return false;
            };
            signature::UnparsedPublicKey::new(alg, parsed.key)
                .verify_digest(&input, signature_bytes)
                .is_ok()
        }
        None => {
            let Ok(key) = rsa::PublicKey::from_public_key_der(spki) else {
                return false;
            };
            let unprefixed = key
                .verify(
                    rsa::pkcs1v15::Pkcs1v15Sign::new_unprefixed(),
                    digest.as_ref(),
                    signature_bytes,
                )
                .is_ok();
            unprefixed
                || key
                    .verify(
                        rsa::pkcs1v15::Pkcs1v15Sign {
                            hash_len: Some(digest.as_ref().len()),
                            prefix: hash.digest_info_prefix().into(),
                        },
                        digest.as_ref(),
                        signature_bytes,
                    )
                    .is_ok()
        }
    }
}

/// The parts of a SubjectPublicKeyInfo the CAPF code needs.
pub(crate) struct SpkiView<'a> {
    /// The EC curve; `None` for RSA (or an unknown algorithm).
    pub(crate) curve: Option<Curve>,
    /// Whether the algorithm is id-ecPublicKey.
    pub(crate) is_ec: bool,
    /// The subjectPublicKey bits (EC point or RSAPublicKey).
    pub(crate) key: &'a [u8],
}

/// Parses a DER SubjectPublicKeyInfo.
pub(crate) fn parse_spki(der: &[u8]) -> Option<SpkiView<'_>> {
    use x509_parser::prelude::FromDer;
    let (rest, spki) = x509_parser::x509::SubjectPublicKeyInfo::from_der(der).ok()?;
    if !rest.is_empty() {
        return None;
    }
    let is_ec = spki.algorithm.algorithm.to_id_string() == "1.2.840.10045.2.1";
    let curve = if is_ec {
        let oid = spki.algorithm.parameters.as_ref()?.as_oid().ok()?;
        match oid.to_id_string().as_str() {
            "1.2.840.10045.3.1.7" => Some(Curve::P256),
            "1.3.132.0.34" => Some(Curve::P384),
            "1.3.132.0.35" => Some(Curve::P521),
            _ => None,
        }
    } else {
        None
    };
    let key = match spki.subject_public_key.data {
        std::borrow::Cow::Borrowed(bytes) => bytes,
        std::borrow::Cow::Owned(_) => return None,
    };
    Some(SpkiView { curve, is_ec, key })
}

/// The key kind an SPKI holds (`None` when it is neither RSA nor a supported curve).
pub fn spki_kind(spki: &[u8]) -> Option<KeyKind> {
    let parsed = parse_spki(spki)?;
    if parsed.is_ec {
        return parsed.curve.map(|curve| KeyKind::Ec { curve });
    }
    let key = rsa::PublicKey::from_public_key_der(spki).ok()?;
    let bits = u16::try_from(rsa::traits::PublicKeyParts::n_bits_precision(&key)).ok()?;
    Some(KeyKind::Rsa { bits })
}

/// A PEM block with 64-character lines.
pub fn pem_block(label: &str, der: &[u8]) -> String {
    use base64::Engine;
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in body.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m1() -> Vec<u8> {
        let mut m = b"SEP00AABBCCDDEE\0".to_vec();
        m.extend_from_slice(&[0x30, 0x82, 0x01, 0x00, 1, 2, 3]);
        m
    }

    #[test]
    fn weak_and_unknown_requests_are_refused() {
        assert_eq!(
            kind_for_request(KeyRequest::Rsa(1024), MIN_RSA_BITS),
            Err(KeyError::TooWeak {
                bits: 1024,
                min: 2048
            })
        );
        assert!(matches!(
            kind_for_request(KeyRequest::Rsa(2500), MIN_RSA_BITS),
            Err(KeyError::Unsupported(_))
        ));
        assert_eq!(
            kind_for_request(KeyRequest::Rsa(2048), 3072),
            Err(KeyError::TooWeak {
                bits: 2048,
                min: 3072
            })
        );
        assert_eq!(
            kind_for_request(KeyRequest::Ec(Curve::P384), MIN_RSA_BITS),
            Ok(KeyKind::Ec { curve: Curve::P384 })
        );
        let err = kind_for_request(KeyRequest::Rsa(1024), MIN_RSA_BITS).unwrap_err();
        assert!(err.to_string().contains("RSA 1024") || err.to_string().contains("1024-bit"));
    }

    #[test]
    fn ec_signatures_are_standard_ecdsa_with_sha1_and_sha512() {
        // Cross-checked with aws-lc-rs' own ECDSA-with-SHA-x verification.
        let cases: [(
            Curve,
            SignatureHash,
            &'static signature::EcdsaVerificationAlgorithm,
        ); 5] = [
            (
                Curve::P256,
                SignatureHash::Sha1,
                &signature::ECDSA_P256_SHA1_ASN1,
            ),
            (
                Curve::P256,
                SignatureHash::Sha512,
                &signature::ECDSA_P256_SHA512_ASN1,
            ),
            (
                Curve::P384,
                SignatureHash::Sha512,
                &signature::ECDSA_P384_SHA512_ASN1,
            ),
            (
                Curve::P521,
                SignatureHash::Sha1,
                &signature::ECDSA_P521_SHA1_ASN1,
            ),
            (
                Curve::P521,
                SignatureHash::Sha512,
                &signature::ECDSA_P521_SHA512_ASN1,
            ),
        ];
        for (curve, hash, alg) in cases {
            let key = DeviceKey::generate(KeyKind::Ec { curve }).unwrap();
            assert_eq!(spki_kind(key.spki()), Some(KeyKind::Ec { curve }));
            let sig = key.sign(&m1(), hash, RsaSignatureForm::default()).unwrap();
            let parsed = parse_spki(key.spki()).unwrap();
            signature::UnparsedPublicKey::new(alg, parsed.key)
                .verify(&m1(), &sig)
                .unwrap_or_else(|_| panic!("{curve:?} {hash:?}"));
            assert!(verify_signature(key.spki(), &m1(), hash, &sig));
            assert!(!verify_signature(key.spki(), b"other", hash, &sig));
        }
        // P-384 with SHA-1 (no aws-lc-rs verifier to compare with): our own check.
        let key = DeviceKey::generate(KeyKind::Ec(Curve::P384)).unwrap();
        let sig = key
            .sign(&m1(), SignatureHash::Sha1, RsaSignatureForm::default())
            .unwrap();
        assert!(verify_signature(
            key.spki(),
            &m1(),
            SignatureHash::Sha1,
            &sig
        ));
    }

    #[test]
    fn rsa_unprefixed_signature_is_the_reference_padding() {
        let key = DeviceKey::generate(KeyKind::Rsa(2048)).unwrap();
        assert_eq!(key.kind(), KeyKind::Rsa { bits: 2048 });
        assert_eq!(spki_kind(key.spki()), Some(KeyKind::Rsa { bits: 2048 }));
        let sig = key
            .sign(&m1(), SignatureHash::Sha1, RsaSignatureForm::Unprefixed)
            .unwrap();
        assert_eq!(sig.len(), 256);
        // s^e mod n must be 00 01 FF.. 00 SHA1(M1), with no DigestInfo.
        let public = rsa::PublicKey::from_public_key_der(key.spki()).unwrap();
        let digest = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, &m1());
        public
            .verify(
                rsa::pkcs1v15::Pkcs1v15Sign::new_unprefixed(),
                digest.as_ref(),
                &sig,
            )
            .unwrap();
        // A DigestInfo signature is a different value, and also accepted by the capfd-style check.
        let standard = key
            .sign(&m1(), SignatureHash::Sha512, RsaSignatureForm::DigestInfo)
            .unwrap();
        signature::UnparsedPublicKey::new(
            &signature::RSA_PKCS1_2048_8192_SHA512,
            parse_spki(key.spki()).unwrap().key,
        )
        .verify(&m1(), &standard)
        .unwrap();
        assert!(verify_signature(
            key.spki(),
            &m1(),
            SignatureHash::Sha512,
            &standard
        ));
        assert!(verify_signature(
            key.spki(),
            &m1(),
            SignatureHash::Sha1,
            &sig
        ));
    }

    #[test]
    fn keys_round_trip_through_pem_and_debug_hides_them() {
        let key = DeviceKey::generate(KeyKind::Ec(Curve::P256)).unwrap();
        let pem = key.pkcs8_pem();
        let again = DeviceKey::from_pem(&pem).unwrap();
        assert_eq!(again.spki(), key.spki());
        let debug = format!("{key:?}");
        assert!(debug.contains("redacted") && !debug.contains(&pem[30..60]));
        assert_eq!(
            DeviceKey::generate(KeyKind::Rsa(1024)).unwrap_err(),
            KeyError::TooWeak {
                bits: 1024,
                min: 2048
            }
        );
    }
}
