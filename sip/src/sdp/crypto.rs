//! SDES `a=crypto` attributes (RFC 4568) and the SRTP master key material they carry.
//!
//! ```
//! use lockphone_sip::sdp::{CryptoAttribute, SdesSuite};
//!
//! let line = "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32";
//! let crypto: CryptoAttribute = line.parse()?;
//! assert_eq!(crypto.suite, SdesSuite::AesCm128HmacSha1_80);
//! assert_eq!(crypto.key_params[0].key.len(), 30);
//! // Debug never shows the key.
//! assert!(!format!("{crypto:?}").contains("PS1uQ"));
//! # Ok::<(), lockphone_sip::sdp::CryptoError>(())
//! ```

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::alphabet;
use base64::engine::general_purpose::STANDARD;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Decodes with or without `=` padding: RFC 4568 implementations differ (the AES-256 and GCM
/// interop traps). Encoding always pads.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Largest tag RFC 4568 allows (`1*9DIGIT`).
const MAX_TAG: u32 = 999_999_999;

/// Why an `a=crypto` value was rejected. Messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// A required field is absent.
    #[error(
        "missing {0} (expected `<tag> <crypto-suite> inline:<key||salt>[|lifetime][|MKI:length] [session-params]`)"
    )]
    Missing(&'static str),
    /// The tag is not 1 to 9 decimal digits.
    #[error("tag must be 1 to 9 decimal digits, got {0:?}")]
    Tag(String),
    /// A key parameter does not use the `inline:` method (the only one RFC 4568 defines).
    #[error("key parameter must start with `inline:` (the only key method RFC 4568 defines)")]
    KeyMethod,
    /// The key||salt is not base64.
    #[error("key||salt is not valid base64")]
    Base64,
    /// The key||salt is empty.
    #[error("key||salt is empty")]
    EmptyKey,
    /// The decoded key||salt has the wrong length for the suite.
    #[error("{suite} needs {expected} bytes of key+salt, got {actual}")]
    KeyLength {
        /// The suite name.
        suite: String,
        /// Bytes the suite needs.
        expected: usize,
        /// Bytes decoded.
        actual: usize,
    },
    /// The lifetime is neither decimal digits nor `2^<digits>` (at most `2^255`).
    #[error("lifetime must be decimal digits or `2^<digits>`")]
    Lifetime,
    /// The MKI is not `<value>:<length>` with a length of 1 to 128 bytes holding the value.
    #[error("MKI must be `<decimal value>:<length 1..=128>` with the value fitting in the length")]
    Mki,
    /// The `|`-separated key info has too many or misordered fields.
    #[error("key info must be `<key||salt>[|lifetime][|MKI:length]`")]
    KeyInfoFields,
    /// Key material cannot be generated for a suite whose length we do not know.
    #[error("cannot generate key material for unknown suite {0}")]
    UnknownSuite(String),
}

/// An SRTP crypto suite named in `a=crypto` (RFC 4568, 6188, 7714).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SdesSuite {
    /// `AES_CM_128_HMAC_SHA1_80`: 16-byte key, 14-byte salt, 80-bit tag.
    AesCm128HmacSha1_80,
    /// `AES_CM_128_HMAC_SHA1_32`: 16-byte key, 14-byte salt, 32-bit RTP tag.
    AesCm128HmacSha1_32,
    /// `AES_256_CM_HMAC_SHA1_80`: 32-byte key, 14-byte salt, 80-bit tag.
    Aes256CmHmacSha1_80,
    /// `AES_256_CM_HMAC_SHA1_32`: 32-byte key, 14-byte salt, 32-bit RTP tag.
    Aes256CmHmacSha1_32,
    /// `AEAD_AES_128_GCM`: 16-byte key, 12-byte salt.
    AeadAes128Gcm,
    /// `AEAD_AES_256_GCM`: 32-byte key, 12-byte salt.
    AeadAes256Gcm,
    /// Any other suite name, kept verbatim so an offer listing it still parses.
    Unknown(String),
}

impl SdesSuite {
    /// The known suites, strongest first.
    pub const KNOWN: [SdesSuite; 6] = [
        SdesSuite::AeadAes256Gcm,
        SdesSuite::AeadAes128Gcm,
        SdesSuite::Aes256CmHmacSha1_80,
        SdesSuite::Aes256CmHmacSha1_32,
        SdesSuite::AesCm128HmacSha1_80,
        SdesSuite::AesCm128HmacSha1_32,
    ];

    /// The suite for an SDP name (ASCII case-insensitive); unknown names give [`SdesSuite::Unknown`].
    ///
    /// ```
    /// use lockphone_sip::sdp::SdesSuite;
    /// assert_eq!(SdesSuite::from_name("AEAD_AES_256_GCM"), SdesSuite::AeadAes256Gcm);
    /// assert_eq!(SdesSuite::from_name("F8_128_HMAC_SHA1_80").master_len(), None);
    /// ```
    pub fn from_name(name: &str) -> SdesSuite {
        SdesSuite::KNOWN
            .into_iter()
            .find(|suite| suite.as_str().eq_ignore_ascii_case(name))
            .unwrap_or_else(|| SdesSuite::Unknown(name.to_owned()))
    }

    /// The SDP name of the suite.
    pub fn as_str(&self) -> &str {
        match self {
            SdesSuite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            SdesSuite::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
            SdesSuite::Aes256CmHmacSha1_80 => "AES_256_CM_HMAC_SHA1_80",
            SdesSuite::Aes256CmHmacSha1_32 => "AES_256_CM_HMAC_SHA1_32",
            SdesSuite::AeadAes128Gcm => "AEAD_AES_128_GCM",
            SdesSuite::AeadAes256Gcm => "AEAD_AES_256_GCM",
            SdesSuite::Unknown(name) => name,
        }
    }

    /// Master key length in bytes, `None` for an unknown suite.
    pub fn master_key_len(&self) -> Option<usize> {
        match self {
            SdesSuite::AesCm128HmacSha1_80
            | SdesSuite::AesCm128HmacSha1_32
            | SdesSuite::AeadAes128Gcm => Some(16),
            SdesSuite::Aes256CmHmacSha1_80
            | SdesSuite::Aes256CmHmacSha1_32
            | SdesSuite::AeadAes256Gcm => Some(32),
            SdesSuite::Unknown(_) => None,
        }
    }

    /// Master salt length in bytes, `None` for an unknown suite.
    pub fn master_salt_len(&self) -> Option<usize> {
        match self {
            SdesSuite::AeadAes128Gcm | SdesSuite::AeadAes256Gcm => Some(12),
            SdesSuite::Unknown(_) => None,
            _ => Some(14),
        }
    }

    /// Length of the inline key||salt in bytes (30, 30, 46, 46, 28, 44), `None` for an unknown suite.
    pub fn master_len(&self) -> Option<usize> {
        Some(self.master_key_len()? + self.master_salt_len()?)
    }
}

impl fmt::Display for SdesSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// SRTP master key||salt from an `inline:` parameter. Zeroized on drop; `Debug` and `Display`
/// print `<redacted>`.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SdesKey {
    bytes: Vec<u8>,
}

impl SdesKey {
    /// Wraps key||salt bytes.
    pub fn new(bytes: Vec<u8>) -> SdesKey {
        SdesKey { bytes }
    }

    /// The key||salt bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Length of key||salt in bytes.
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// Whether the key is empty (never true for a parsed key).
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Splits into (master key, master salt) for `suite`; `None` if the suite is unknown or the
    /// length does not match.
    pub fn split(&self, suite: &SdesSuite) -> Option<(&[u8], &[u8])> {
        if suite.master_len()? != self.bytes.len() {
            return None;
        }
        Some(self.bytes.split_at(suite.master_key_len()?))
    }

    /// Padded base64 of key||salt, as written after `inline:`.
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(&self.bytes))
    }
}

impl fmt::Debug for SdesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl fmt::Display for SdesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Master key lifetime in packets (`|2^31` or `|1048576`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lifetime {
    /// Written `2^n`.
    PowerOfTwo(u8),
    /// Written in decimal.
    Packets(u64),
}

impl Lifetime {
    /// The lifetime in packets; `None` if it does not fit in a `u64` (`2^64` and above).
    pub fn packets(&self) -> Option<u64> {
        match *self {
            Lifetime::PowerOfTwo(n) => 1u64.checked_shl(u32::from(n)),
            Lifetime::Packets(n) => Some(n),
        }
    }

    fn parse(text: &str) -> Result<Lifetime, CryptoError> {
        match text.strip_prefix("2^") {
            Some(exponent) => parse_digits(exponent)
                .map(Lifetime::PowerOfTwo)
                .ok_or(CryptoError::Lifetime),
            None => parse_digits(text)
                .map(Lifetime::Packets)
                .ok_or(CryptoError::Lifetime),
        }
    }
}

impl fmt::Display for Lifetime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Lifetime::PowerOfTwo(n) => write!(f, "2^{n}"),
            Lifetime::Packets(n) => write!(f, "{n}"),
        }
    }
}

/// Master key identifier: its value and its length in bytes on the wire (`|1:4`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mki {
    /// The MKI value.
    pub value: u64,
    /// Bytes the MKI takes in each SRTP packet (1 to 128).
    pub length: u8,
}

impl Mki {
    fn parse(text: &str) -> Result<Mki, CryptoError> {
        let (value, length) = text.split_once(':').ok_or(CryptoError::Mki)?;
        let value: u64 = parse_digits(value).ok_or(CryptoError::Mki)?;
        let length: u8 = parse_digits(length).ok_or(CryptoError::Mki)?;
        if !(1..=128).contains(&length) {
            return Err(CryptoError::Mki);
        }
        if length < 8 && value >> (u32::from(length) * 8) != 0 {
            return Err(CryptoError::Mki);
        }
        Ok(Mki { value, length })
    }
}

impl fmt::Display for Mki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.value, self.length)
    }
}

/// One `inline:<key||salt>[|lifetime][|MKI:length]` key parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyParam {
    /// The master key||salt.
    pub key: SdesKey,
    /// Master key lifetime, if given.
    pub lifetime: Option<Lifetime>,
    /// Master key identifier, if given.
    pub mki: Option<Mki>,
}

impl KeyParam {
    fn parse(text: &str, suite: &SdesSuite) -> Result<KeyParam, CryptoError> {
        let (method, info) = text.split_once(':').ok_or(CryptoError::KeyMethod)?;
        if !method.eq_ignore_ascii_case("inline") {
            return Err(CryptoError::KeyMethod);
        }
        let mut parts = info.split('|');
        let key_text = parts.next().unwrap_or_default();
        let mut lifetime = None;
        let mut mki = None;
        for part in parts {
            if mki.is_some() {
                return Err(CryptoError::KeyInfoFields);
            }
            if part.contains(':') {
                mki = Some(Mki::parse(part)?);
            } else if lifetime.is_none() {
                lifetime = Some(Lifetime::parse(part)?);
            } else {
                return Err(CryptoError::KeyInfoFields);
            }
        }
        let key = SdesKey::new(
            LENIENT_BASE64
                .decode(key_text)
                .map_err(|_| CryptoError::Base64)?,
        );
        if key.is_empty() {
            return Err(CryptoError::EmptyKey);
        }
        if let Some(expected) = suite.master_len()
            && key.len() != expected
        {
            return Err(CryptoError::KeyLength {
                suite: suite.as_str().to_owned(),
                expected,
                actual: key.len(),
            });
        }
        Ok(KeyParam { key, lifetime, mki })
    }

    fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("inline:")?;
        f.write_str(&self.key.to_base64())?;
        if let Some(lifetime) = &self.lifetime {
            write!(f, "|{lifetime}")?;
        }
        if let Some(mki) = &self.mki {
            write!(f, "|{mki}")?;
        }
        Ok(())
    }
}

/// An `a=crypto` attribute value: `<tag> <suite> <key-params> [session-params]` (RFC 4568).
///
/// `FromStr` takes the value after `a=crypto:`. `Display` writes that value **with the real key**
/// (it is what goes on the wire); `Debug` redacts the key. For logs use `Debug` or
/// [`SessionDescription::redacted`](super::SessionDescription::redacted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoAttribute {
    /// The tag (0 to 999 999 999) an answer echoes.
    pub tag: u32,
    /// The crypto suite.
    pub suite: SdesSuite,
    /// One or more key parameters (`;`-separated on the wire).
    pub key_params: Vec<KeyParam>,
    /// Session parameters (`KDR=`, `UNENCRYPTED_SRTP`, …), verbatim.
    pub session_params: Vec<String>,
}

impl CryptoAttribute {
    /// Fresh key material of the right length for `suite`, with one key parameter and no
    /// lifetime, MKI or session parameters.
    ///
    /// ```
    /// use lockphone_sip::sdp::{CryptoAttribute, SdesSuite};
    /// let crypto = CryptoAttribute::generate(1, SdesSuite::AeadAes256Gcm, &mut rand::rng())?;
    /// assert_eq!(crypto.key_params[0].key.len(), 44);
    /// # Ok::<(), lockphone_sip::sdp::CryptoError>(())
    /// ```
    pub fn generate(
        tag: u32,
        suite: SdesSuite,
        rng: &mut impl rand::RngCore,
    ) -> Result<CryptoAttribute, CryptoError> {
        if tag > MAX_TAG {
            return Err(CryptoError::Tag(tag.to_string()));
        }
        let len = suite
            .master_len()
            .ok_or_else(|| CryptoError::UnknownSuite(suite.as_str().to_owned()))?;
        let mut bytes = vec![0u8; len];
        rng.fill_bytes(&mut bytes);
        Ok(CryptoAttribute {
            tag,
            suite,
            key_params: vec![KeyParam {
                key: SdesKey::new(bytes),
                lifetime: None,
                mki: None,
            }],
            session_params: Vec::new(),
        })
    }

    /// The first key parameter's key (every parsed attribute has at least one).
    pub fn key(&self) -> Option<&SdesKey> {
        self.key_params.first().map(|param| &param.key)
    }
}

impl FromStr for CryptoAttribute {
    type Err = CryptoError;

    fn from_str(s: &str) -> Result<CryptoAttribute, CryptoError> {
        let mut fields = s.split_ascii_whitespace();
        let tag_text = fields.next().ok_or(CryptoError::Missing("tag"))?;
        let tag = parse_digits::<u32>(tag_text)
            .filter(|tag| tag_text.len() <= 9 && *tag <= MAX_TAG)
            .ok_or_else(|| CryptoError::Tag(tag_text.chars().take(12).collect()))?;
        let suite =
            SdesSuite::from_name(fields.next().ok_or(CryptoError::Missing("crypto-suite"))?);
        let key_params = fields
            .next()
            .ok_or(CryptoError::Missing("key parameters"))?
            .split(';')
            .map(|param| KeyParam::parse(param, &suite))
            .collect::<Result<Vec<_>, _>>()?;
        let session_params = fields.map(str::to_owned).collect();
        Ok(CryptoAttribute {
            tag,
            suite,
            key_params,
            session_params,
        })
    }
}

impl fmt::Display for CryptoAttribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} ", self.tag, self.suite)?;
        for (index, param) in self.key_params.iter().enumerate() {
            if index > 0 {
                f.write_str(";")?;
            }
            param.write(f)?;
        }
        for param in &self.session_params {
            write!(f, " {param}")?;
        }
        Ok(())
    }
}

/// Parses one or more ASCII digits (no sign, no spaces) into `T`.
pub(super) fn parse_digits<T: FromStr>(text: &str) -> Option<T> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    const KEY_30: &str = "HkNojbLX/CFGa5C12v8kSW6TuN0CJ0xxlrvgBSpP";
    const KEY_46: &str = "LlN4ncLnDDFWe6DF6g80WX6jyO0SN1yBpsvwFTpfhKnO8xg9Yoes0fYbQGWKrw==";
    const KEY_28: &str = "HEFmi7DV+h9EaY6z2P0iR2yRttsAJUpvlLneAw==";
    const KEY_44: &str = "LFF2m8DlCi9UeZ7D6A0yV3yhxusQNVp/pMnuEzhdgqfM8RY7YIWqz/QZPmM=";
    const KEY_42: &str = "Kk90mb7jCC1Sd5zB5gswVXqfxOkOM1h9osfsETZbgKXK7xQ5XoOozfIX";

    fn parse(text: &str) -> Result<CryptoAttribute, CryptoError> {
        text.parse()
    }

    #[test]
    fn suite_lengths() {
        let expected = [
            ("AES_CM_128_HMAC_SHA1_80", 16, 14, 30),
            ("AES_CM_128_HMAC_SHA1_32", 16, 14, 30),
            ("AES_256_CM_HMAC_SHA1_80", 32, 14, 46),
            ("AES_256_CM_HMAC_SHA1_32", 32, 14, 46),
            ("AEAD_AES_128_GCM", 16, 12, 28),
            ("AEAD_AES_256_GCM", 32, 12, 44),
        ];
        for (name, key, salt, total) in expected {
            let suite = SdesSuite::from_name(name);
            assert!(!matches!(suite, SdesSuite::Unknown(_)), "{name}");
            assert_eq!(suite.as_str(), name);
            assert_eq!(suite.master_key_len(), Some(key), "{name}");
            assert_eq!(suite.master_salt_len(), Some(salt), "{name}");
            assert_eq!(suite.master_len(), Some(total), "{name}");
        }
        assert_eq!(SdesSuite::KNOWN.len(), expected.len());
    }

    #[test]
    fn each_suite_parses_its_key_and_rejects_a_short_one() {
        let keys = [
            (SdesSuite::AesCm128HmacSha1_80, KEY_30),
            (SdesSuite::AesCm128HmacSha1_32, KEY_30),
            (SdesSuite::Aes256CmHmacSha1_80, KEY_46),
            (SdesSuite::Aes256CmHmacSha1_32, KEY_46),
            (SdesSuite::AeadAes128Gcm, KEY_28),
            (SdesSuite::AeadAes256Gcm, KEY_44),
        ];
        for (suite, key) in keys {
            let crypto = parse(&format!("7 {suite} inline:{key}")).unwrap();
            assert_eq!(crypto.suite, suite);
            assert_eq!(crypto.tag, 7);
            let parsed = crypto.key().unwrap();
            assert_eq!(Some(parsed.len()), suite.master_len());
            let (master, salt) = parsed.split(&suite).unwrap();
            assert_eq!(Some(master.len()), suite.master_key_len());
            assert_eq!(Some(salt.len()), suite.master_salt_len());
            assert_eq!(crypto.to_string(), format!("7 {suite} inline:{key}"));
            // A key of another suite's length is refused.
            let wrong = if suite.master_len() == Some(30) {
                KEY_46
            } else {
                KEY_30
            };
            let err = parse(&format!("7 {suite} inline:{wrong}")).unwrap_err();
            assert!(matches!(err, CryptoError::KeyLength { .. }), "{err}");
        }
    }

    #[test]
    fn gcm_42_byte_key_is_rejected_with_a_clear_message() {
        let err = parse(&format!("1 AEAD_AES_256_GCM inline:{KEY_42}")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AEAD_AES_256_GCM needs 44 bytes of key+salt, got 42"
        );
        assert!(!err.to_string().contains(KEY_42));
    }

    #[test]
    fn unpadded_keys_are_accepted_and_written_padded() {
        let unpadded = KEY_46.trim_end_matches('=');
        let crypto = parse(&format!("2 AES_256_CM_HMAC_SHA1_80 inline:{unpadded}|2^31")).unwrap();
        assert_eq!(crypto.key().unwrap().len(), 46);
        assert_eq!(
            crypto.to_string(),
            format!("2 AES_256_CM_HMAC_SHA1_80 inline:{KEY_46}|2^31")
        );
        let gcm = KEY_44.trim_end_matches('=');
        assert_eq!(
            parse(&format!("3 AEAD_AES_256_GCM inline:{gcm}"))
                .unwrap()
                .key()
                .unwrap()
                .len(),
            44
        );
    }

    #[test]
    fn lifetime_mki_and_session_params() {
        let text = "1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR|2^20|1:32;inline:QUJjZGVmMTIzNDU2Nzg5QUJDREUwMTIzNDU2Nzg5|1048576|2:32 KDR=1 UNENCRYPTED_SRTCP";
        let crypto = parse(text).unwrap();
        assert_eq!(crypto.key_params.len(), 2);
        assert_eq!(
            crypto.key_params[0].lifetime,
            Some(Lifetime::PowerOfTwo(20))
        );
        assert_eq!(
            crypto.key_params[0].lifetime.unwrap().packets(),
            Some(1 << 20)
        );
        assert_eq!(
            crypto.key_params[0].mki,
            Some(Mki {
                value: 1,
                length: 32
            })
        );
        assert_eq!(
            crypto.key_params[1].lifetime,
            Some(Lifetime::Packets(1_048_576))
        );
        assert_eq!(
            crypto.key_params[1].mki,
            Some(Mki {
                value: 2,
                length: 32
            })
        );
        assert_eq!(crypto.session_params, ["KDR=1", "UNENCRYPTED_SRTCP"]);
        assert_eq!(crypto.to_string(), text);
        // MKI alone, without a lifetime.
        let mki_only = parse(&format!("1 AES_CM_128_HMAC_SHA1_32 inline:{KEY_30}|5:1")).unwrap();
        assert_eq!(mki_only.key_params[0].lifetime, None);
        assert_eq!(
            mki_only.key_params[0].mki,
            Some(Mki {
                value: 5,
                length: 1
            })
        );
        assert_eq!(Lifetime::PowerOfTwo(64).packets(), None);
    }

    #[test]
    fn unknown_suite_is_kept() {
        let crypto = parse("9 F8_128_HMAC_SHA1_80 inline:QUJD FEC_ORDER=FEC_SRTP").unwrap();
        assert_eq!(
            crypto.suite,
            SdesSuite::Unknown("F8_128_HMAC_SHA1_80".into())
        );
        assert_eq!(crypto.suite.master_len(), None);
        assert_eq!(
            crypto.to_string(),
            "9 F8_128_HMAC_SHA1_80 inline:QUJD FEC_ORDER=FEC_SRTP"
        );
        let err = CryptoAttribute::generate(1, crypto.suite.clone(), &mut rand::rng()).unwrap_err();
        assert_eq!(err, CryptoError::UnknownSuite("F8_128_HMAC_SHA1_80".into()));
    }

    #[test]
    fn malformed_values_are_errors() {
        let k = KEY_30;
        let cases: Vec<(String, CryptoError)> = vec![
            (String::new(), CryptoError::Missing("tag")),
            ("1".into(), CryptoError::Missing("crypto-suite")),
            (
                "1 AES_CM_128_HMAC_SHA1_80".into(),
                CryptoError::Missing("key parameters"),
            ),
            (
                format!("x AES_CM_128_HMAC_SHA1_80 inline:{k}"),
                CryptoError::Tag("x".into()),
            ),
            (
                format!("+1 AES_CM_128_HMAC_SHA1_80 inline:{k}"),
                CryptoError::Tag("+1".into()),
            ),
            (
                format!("1234567890 AES_CM_128_HMAC_SHA1_80 inline:{k}"),
                CryptoError::Tag("1234567890".into()),
            ),
            (
                format!("1 AES_CM_128_HMAC_SHA1_80 {k}"),
                CryptoError::KeyMethod,
            ),
            (
                format!("1 AES_CM_128_HMAC_SHA1_80 uri:{k}"),
                CryptoError::KeyMethod,
            ),
            (
                "1 AES_CM_128_HMAC_SHA1_80 inline:!!!!".into(),
                CryptoError::Base64,
            ),
            (
                "1 AES_CM_128_HMAC_SHA1_80 inline:".into(),
                CryptoError::EmptyKey,
            ),
            (
                format!("1 AES_CM_128_HMAC_SHA1_80 inline:{k}|2^x"),
                CryptoError::Lifetime,
            ),
            (
                format!("1 AES_CM_128_HMAC_SHA1_80 inline:{k}|-5"),
                CryptoError::Lifetime,
            ),
            (
                format!("1 AES_CM_128_HMAC_SHA1_80 inline:{k}|1:0"),
                CryptoError::Mki,
            ),
            (
                format!("1 AES_CM_128_HMAC_SHA1_80 inline:{k}|1:129"),
                CryptoError::Mki,
            ),
            (
                format!("1 AES_CM_128_HMAC_SHA1_80 inline:{k}|256:1"),
                CryptoError::Mki,
            ),
            (
                format!("1 AES_CM_128_HMAC_SHA1_80 inline:{k}|1:4|2^20"),
                CryptoError::KeyInfoFields,
            ),
            (
                format!("1 AES_CM_128_HMAC_SHA1_80 inline:{k}|20|30"),
                CryptoError::KeyInfoFields,
            ),
            (
                format!("1 AES_CM_128_HMAC_SHA1_80 inline:{k};"),
                CryptoError::KeyMethod,
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(parse(&text).unwrap_err(), expected, "{text:?}");
        }
    }

    #[test]
    fn debug_and_display_of_the_key_are_redacted() {
        let crypto = parse(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY_30}|2^20")).unwrap();
        let debug = format!("{crypto:?}");
        assert!(!debug.contains(KEY_30), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
        let key = crypto.key().unwrap();
        assert_eq!(format!("{key} {key:?}"), "<redacted> <redacted>");
        assert!(!debug.contains("30, "), "no raw bytes either: {debug}");
    }

    #[test]
    fn generate_makes_keys_of_the_right_length() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for suite in SdesSuite::KNOWN {
            let crypto = CryptoAttribute::generate(3, suite.clone(), &mut rng).unwrap();
            assert_eq!(Some(crypto.key().unwrap().len()), suite.master_len());
            let again: CryptoAttribute = crypto.to_string().parse().unwrap();
            assert_eq!(again, crypto);
        }
        let a = CryptoAttribute::generate(1, SdesSuite::AeadAes128Gcm, &mut rng).unwrap();
        let b = CryptoAttribute::generate(1, SdesSuite::AeadAes128Gcm, &mut rng).unwrap();
        assert_ne!(a.key(), b.key());
        assert!(
            CryptoAttribute::generate(1_000_000_000, SdesSuite::AeadAes128Gcm, &mut rng).is_err()
        );
    }
}
