//! CAPF commands, element tags, reason codes and the structured values (reference §3–§4).

use super::wire::{Element, Frame};

/// Command codes (reference §3).
pub mod command {
    /// S→C: opens the session and carries the version.
    pub const AUTH_REQUEST: u8 = 1;
    /// C→S: device name and credentials.
    pub const AUTH_RESPONSE: u8 = 2;
    /// S→C: generate a key pair.
    pub const KEY_GENERATE_REQUEST: u8 = 3;
    /// C→S: the public key, or a refusal.
    pub const KEY_GENERATE_RESPONSE: u8 = 4;
    /// S→C: delivers the issued certificate.
    pub const STORE_CERTIFICATE_REQUEST: u8 = 9;
    /// C→S: acknowledges storage.
    pub const STORE_CERTIFICATE_RESPONSE: u8 = 10;
    /// S→C: asks for the client's LSC.
    pub const FETCH_CERTIFICATE_REQUEST: u8 = 11;
    /// C→S: the LSC, or a failure.
    pub const FETCH_CERTIFICATE_RESPONSE: u8 = 12;
    /// S→C: asks the client to delete its LSC.
    pub const DELETE_CERTIFICATE_REQUEST: u8 = 13;
    /// C→S: result of the deletion.
    pub const DELETE_CERTIFICATE_RESPONSE: u8 = 14;
    /// S→C: the final message, with one REASON.
    pub const END_SESSION: u8 = 15;
    /// C→S: empty; "generating the key".
    pub const REQUEST_IN_PROGRESS: u8 = 17;

    /// The reference's name of a command code.
    pub fn name(code: u8) -> &'static str {
        match code {
            1 => "AUTH_REQUEST",
            2 => "AUTH_RESPONSE",
            3 => "KEY_GENERATE_REQUEST",
            4 => "KEY_GENERATE_RESPONSE",
            5 => "ENCRYPT_RESPONSE",
            6 => "ENCRYPT_REQUEST",
            7 => "DECRYPT_REQUEST",
            8 => "DECRYPT_RESPONSE",
            9 => "STORE_CERTIFICATE_REQUEST",
            10 => "STORE_CERTIFICATE_RESPONSE",
            11 => "FETCH_CERTIFICATE_REQUEST",
            12 => "FETCH_CERTIFICATE_RESPONSE",
            13 => "DELETE_CERTIFICATE_REQUEST",
            14 => "DELETE_CERTIFICATE_RESPONSE",
            15 => "END_SESSION",
            16 => "RETRY_LATER",
            17 => "REQUEST_IN_PROGRESS",
            18 => "STATUS_REQUEST",
            19 => "STATUS_RESPONSE",
            20 => "ABORT_REQUEST",
            21 => "ABORT_RESPONSE",
            22 => "SIGN_CERTIFICATE_REQUEST",
            23 => "SIGN_CERTIFICATE_RESPONSE",
            _ => "unknown command",
        }
    }
}

/// Element tags (reference §4).
pub mod tag {
    /// u8 reason code.
    pub const REASON: u8 = 1;
    /// Text (never observed).
    pub const REASON_INFO: u8 = 2;
    /// u8: 1 LSC, 2 MIC.
    pub const CERTIFICATE_TYPE: u8 = 3;
    /// A wrapped certificate (§4.1).
    pub const CERTIFICATE: u8 = 4;
    /// Bare SHA-1 signature over M1.
    pub const SIGNED_DATA: u8 = 6;
    /// u8 protocol version (3).
    pub const VERSION: u8 = 7;
    /// u8 authentication type (capfd only).
    pub const AUTH_TYPE: u8 = 8;
    /// DER SubjectPublicKeyInfo.
    pub const PUBLIC_KEY: u8 = 9;
    /// u16 RSA bits.
    pub const KEY_SIZE: u8 = 10;
    /// String + NUL.
    pub const PASSWORD: u8 = 11;
    /// String + NUL.
    pub const DEVICE_NAME: u8 = 13;
    /// SUDI certificate and signatures (§4.1).
    pub const SUDI_DATA: u8 = 16;
    /// u8: 0 RSA, 1 EC.
    pub const KEY_TYPE: u8 = 17;
    /// u8: 0 P-256, 1 P-384, 2 P-521.
    pub const CURVE: u8 = 18;
    /// Hash ID, length, signature over M1.
    pub const SHA2_SIGNED_DATA: u8 = 20;

    /// The tags capfd accepts from clients; a client never sends anything else.
    pub const FROM_CLIENT: [u8; 11] = [1, 2, 3, 4, 6, 7, 9, 11, 13, 16, 20];
}

/// Certificate types of `CERTIFICATE_TYPE` and of a wrapped certificate entry.
pub mod certificate_type {
    /// Locally significant certificate.
    pub const LSC: u8 = 1;
    /// Manufacturer-installed certificate.
    pub const MIC: u8 = 2;
}

/// Hash IDs of `SHA2_SIGNED_DATA` and `SUDI_DATA`.
pub mod hash_id {
    /// SHA-1.
    pub const SHA1: u8 = 1;
    /// SHA-256.
    pub const SHA256: u8 = 2;
    /// SHA-512 (the one capfd requires).
    pub const SHA512: u8 = 3;
}

/// A REASON code (reference §4, §5.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// 0: nothing scheduled (also ends a fetch).
    NoAction,
    /// 1: generic OK.
    UpdateCertificate,
    /// 7: generic failure (CUCM: "already issued").
    InvalidElement,
    /// 9: device name not known.
    UnknownDevice,
    /// Any other code.
    Other(u8),
}

impl Reason {
    /// From the wire code.
    pub fn from_code(code: u8) -> Reason {
        match code {
            0 => Reason::NoAction,
            1 => Reason::UpdateCertificate,
            7 => Reason::InvalidElement,
            9 => Reason::UnknownDevice,
            other => Reason::Other(other),
        }
    }

    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            Reason::NoAction => 0,
            Reason::UpdateCertificate => 1,
            Reason::InvalidElement => 7,
            Reason::UnknownDevice => 9,
            Reason::Other(code) => code,
        }
    }
}

/// Why a message from the peer is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MessageError {
    /// A required element is absent.
    #[error("{command} without the required {element} element")]
    Missing {
        /// The command's name.
        command: &'static str,
        /// The element's name.
        element: &'static str,
    },
    /// An element has the wrong size or content.
    #[error("{element} element is malformed: {reason}")]
    Malformed {
        /// The element's name.
        element: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A command a client cannot receive.
    #[error("unexpected CAPF command {code} ({})", command::name(*code))]
    UnexpectedCommand {
        /// The command code.
        code: u8,
    },
}

fn malformed(element: &'static str, reason: impl Into<String>) -> MessageError {
    MessageError::Malformed {
        element,
        reason: reason.into(),
    }
}

/// Reads a one-byte element.
pub fn get_u8(frame: &Frame, tag: u8, name: &'static str) -> Result<Option<u8>, MessageError> {
    match frame.get(tag) {
        None => Ok(None),
        Some([value]) => Ok(Some(*value)),
        Some(other) => Err(malformed(
            name,
            format!("{} bytes instead of 1", other.len()),
        )),
    }
}

/// Reads a two-byte big-endian element.
pub fn get_u16(frame: &Frame, tag: u8, name: &'static str) -> Result<Option<u16>, MessageError> {
    match frame.get(tag) {
        None => Ok(None),
        Some([hi, lo]) => Ok(Some(u16::from_be_bytes([*hi, *lo]))),
        Some(other) => Err(malformed(
            name,
            format!("{} bytes instead of 2", other.len()),
        )),
    }
}

/// Reads a string element (text + NUL). Like capfd, the last byte is dropped only when it is
/// the NUL, so a peer that forgets it does not lose a character.
pub fn get_string(
    frame: &Frame,
    tag: u8,
    name: &'static str,
) -> Result<Option<String>, MessageError> {
    let Some(value) = frame.get(tag) else {
        return Ok(None);
    };
    let text = value.strip_suffix(&[0]).unwrap_or(value);
    String::from_utf8(text.to_vec())
        .map(Some)
        .map_err(|_| malformed(name, "not UTF-8 text"))
}

/// Wraps a DER certificate as a CERTIFICATE value: `01`, length N+2, `00`, type, DER (§4.1).
pub fn wrap_certificate(der: &[u8], cert_type: u8) -> Vec<u8> {
    let entry_len = u16::try_from(der.len() + 2).unwrap_or(u16::MAX);
    let mut value = Vec::with_capacity(der.len() + 5);
    value.push(0x01);
    value.extend_from_slice(&entry_len.to_be_bytes());
    value.push(0x00);
    value.push(cert_type);
    value.extend_from_slice(der);
    value
}

/// The certificate type and DER of the first entry of a CERTIFICATE value (§4.1).
pub fn unwrap_certificate(value: &[u8]) -> Result<(u8, &[u8]), MessageError> {
    let Some(&[entry_tag, hi, lo, _zero, cert_type]) = value.get(..5) else {
        return Err(malformed(
            "CERTIFICATE",
            format!(
                "{} bytes, shorter than the 5-byte entry header",
                value.len()
            ),
        ));
    };
    if entry_tag != 0x01 {
        return Err(malformed(
            "CERTIFICATE",
            format!("entry tag {entry_tag:#04x} instead of 0x01"),
        ));
    }
    let entry_len = usize::from(u16::from_be_bytes([hi, lo]));
    let Some(der_len) = entry_len.checked_sub(2) else {
        return Err(malformed("CERTIFICATE", "entry length below 2"));
    };
    let der = value
        .get(5..5 + der_len)
        .ok_or_else(|| malformed("CERTIFICATE", "entry length exceeds the element"))?;
    if der.is_empty() {
        return Err(malformed("CERTIFICATE", "empty certificate"));
    }
    Ok((cert_type, der))
}

/// One `u8 id, u16 length, bytes` block, as in SHA2_SIGNED_DATA and SUDI_DATA.
pub fn encode_block(id: u8, bytes: &[u8]) -> Vec<u8> {
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    let mut out = Vec::with_capacity(bytes.len() + 3);
    out.push(id);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    out
}

/// One block: its ID and its bytes.
pub type Block<'a> = (u8, &'a [u8]);

/// Reads one block from the start of `value`; returns it and the rest.
pub fn decode_block<'a>(
    value: &'a [u8],
    name: &'static str,
) -> Result<(Block<'a>, &'a [u8]), MessageError> {
    let Some(&[id, hi, lo]) = value.get(..3) else {
        return Err(malformed(name, "block header cut off"));
    };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    let bytes = value
        .get(3..3 + len)
        .ok_or_else(|| malformed(name, "block longer than the element"))?;
    Ok(((id, bytes), value.get(3 + len..).unwrap_or_default()))
}

/// The SUDI (manufacturer identity) data of a certificate-mode AUTH_RESPONSE (§4.1).
#[derive(Clone, PartialEq, Eq)]
pub struct SudiData {
    /// The DER SUDI/MIC certificate.
    pub certificate: Vec<u8>,
    /// SHA-1 signature over M2.
    pub sha1_signature: Vec<u8>,
    /// SHA-512 signature over M2.
    pub sha512_signature: Vec<u8>,
}

impl std::fmt::Debug for SudiData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SudiData({} byte certificate)", self.certificate.len())
    }
}

impl SudiData {
    /// The element value: three blocks.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = encode_block(0x00, &self.certificate);
        out.extend(encode_block(hash_id::SHA1, &self.sha1_signature));
        out.extend(encode_block(hash_id::SHA512, &self.sha512_signature));
        out
    }

    /// Parses the element value; the third block must be SHA-512.
    pub fn decode(value: &[u8]) -> Result<SudiData, MessageError> {
        let ((_, certificate), rest) = decode_block(value, "SUDI_DATA")?;
        let ((_, sha1), rest) = decode_block(rest, "SUDI_DATA")?;
        let ((id, sha512), _) = decode_block(rest, "SUDI_DATA")?;
        if id != hash_id::SHA512 {
            return Err(malformed(
                "SUDI_DATA",
                format!("third block hash ID {id}, not 3"),
            ));
        }
        Ok(SudiData {
            certificate: certificate.to_vec(),
            sha1_signature: sha1.to_vec(),
            sha512_signature: sha512.to_vec(),
        })
    }
}

/// EC curves of the CURVE element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Curve {
    /// secp256r1 (code 0).
    #[serde(rename = "P-256", alias = "secp256r1")]
    P256,
    /// secp384r1 (code 1).
    #[serde(rename = "P-384", alias = "secp384r1")]
    P384,
    /// secp521r1 (code 2).
    #[serde(rename = "P-521", alias = "secp521r1")]
    P521,
}

impl Curve {
    /// From the wire code.
    pub fn from_code(code: u8) -> Option<Curve> {
        match code {
            0 => Some(Curve::P256),
            1 => Some(Curve::P384),
            2 => Some(Curve::P521),
            _ => None,
        }
    }

    /// The wire code.
    pub fn code(self) -> u8 {
        match self {
            Curve::P256 => 0,
            Curve::P384 => 1,
            Curve::P521 => 2,
        }
    }

    /// "P-256", "P-384" or "P-521".
    pub fn name(self) -> &'static str {
        match self {
            Curve::P256 => "P-256",
            Curve::P384 => "P-384",
            Curve::P521 => "P-521",
        }
    }
}

/// The key a KEY_GENERATE_REQUEST asks for, as sent (sizes are judged by the client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyRequest {
    /// RSA with this many bits.
    Rsa(u16),
    /// EC on this curve.
    Ec(Curve),
    /// EC on a curve code we do not know.
    UnknownCurve(u8),
    /// A KEY_TYPE we do not know.
    UnknownType(u8),
}

impl std::fmt::Display for KeyRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyRequest::Rsa(bits) => write!(f, "RSA {bits}"),
            KeyRequest::Ec(curve) => write!(f, "EC {}", curve.name()),
            KeyRequest::UnknownCurve(code) => write!(f, "EC with unknown curve code {code}"),
            KeyRequest::UnknownType(code) => write!(f, "unknown key type {code}"),
        }
    }
}

/// A message the server sends, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ServerMessage {
    /// AUTH_REQUEST.
    AuthRequest {
        /// VERSION, if present.
        version: Option<u8>,
        /// AUTH_TYPE, if present (capfd sends 0).
        auth_type: Option<u8>,
    },
    /// KEY_GENERATE_REQUEST.
    KeyGenerateRequest(KeyRequest),
    /// STORE_CERTIFICATE_REQUEST.
    StoreCertificateRequest {
        /// CERTIFICATE_TYPE, if present.
        certificate_type: Option<u8>,
        /// The DER certificate (first entry).
        certificate: Vec<u8>,
    },
    /// FETCH_CERTIFICATE_REQUEST.
    FetchCertificateRequest,
    /// DELETE_CERTIFICATE_REQUEST.
    DeleteCertificateRequest,
    /// END_SESSION with its reason (a missing REASON reads as 7, a failure).
    EndSession(Reason),
}

impl ServerMessage {
    /// Decodes a frame from the server. Unknown tags are ignored (skipped by length).
    pub fn decode(frame: &Frame) -> Result<ServerMessage, MessageError> {
        match frame.command {
            command::AUTH_REQUEST => Ok(ServerMessage::AuthRequest {
                version: get_u8(frame, tag::VERSION, "VERSION")?,
                auth_type: get_u8(frame, tag::AUTH_TYPE, "AUTH_TYPE")?,
            }),
            command::KEY_GENERATE_REQUEST => {
                let key_type = get_u8(frame, tag::KEY_TYPE, "KEY_TYPE")?.unwrap_or(0);
                let request = match key_type {
                    0 => KeyRequest::Rsa(get_u16(frame, tag::KEY_SIZE, "KEY_SIZE")?.ok_or(
                        MessageError::Missing {
                            command: "KEY_GENERATE_REQUEST",
                            element: "KEY_SIZE",
                        },
                    )?),
                    1 => {
                        let code =
                            get_u8(frame, tag::CURVE, "CURVE")?.ok_or(MessageError::Missing {
                                command: "KEY_GENERATE_REQUEST",
                                element: "CURVE",
                            })?;
                        Curve::from_code(code)
                            .map_or(KeyRequest::UnknownCurve(code), KeyRequest::Ec)
                    }
                    other => KeyRequest::UnknownType(other),
                };
                Ok(ServerMessage::KeyGenerateRequest(request))
            }
            command::STORE_CERTIFICATE_REQUEST => {
                let value = frame.get(tag::CERTIFICATE).ok_or(MessageError::Missing {
                    command: "STORE_CERTIFICATE_REQUEST",
                    element: "CERTIFICATE",
                })?;
                let (_, der) = unwrap_certificate(value)?;
                Ok(ServerMessage::StoreCertificateRequest {
                    certificate_type: get_u8(frame, tag::CERTIFICATE_TYPE, "CERTIFICATE_TYPE")?,
                    certificate: der.to_vec(),
                })
            }
            command::FETCH_CERTIFICATE_REQUEST => Ok(ServerMessage::FetchCertificateRequest),
            command::DELETE_CERTIFICATE_REQUEST => Ok(ServerMessage::DeleteCertificateRequest),
            command::END_SESSION => {
                let code = get_u8(frame, tag::REASON, "REASON")?.unwrap_or(7);
                Ok(ServerMessage::EndSession(Reason::from_code(code)))
            }
            code => Err(MessageError::UnexpectedCommand { code }),
        }
    }
}

/// A REASON element.
pub fn reason(reason: Reason) -> Element {
    Element::u8(tag::REASON, reason.code())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capf::wire::FrameDecoder;

    fn decode(bytes: &[u8]) -> ServerMessage {
        let mut decoder = FrameDecoder::default();
        decoder.push(bytes);
        ServerMessage::decode(&decoder.next_frame().unwrap().unwrap()).unwrap()
    }

    #[test]
    fn worked_example_key_requests() {
        assert_eq!(
            decode(&[0x55, 3, 0, 0, 0, 0x2a, 0, 8, 0x11, 0, 1, 1, 0x12, 0, 1, 0]),
            ServerMessage::KeyGenerateRequest(KeyRequest::Ec(Curve::P256))
        );
        assert_eq!(
            decode(&[
                0x55, 3, 0, 0, 0, 0x2a, 0, 9, 0x11, 0, 1, 0, 0x0a, 0, 2, 8, 0
            ]),
            ServerMessage::KeyGenerateRequest(KeyRequest::Rsa(2048))
        );
        // CUCM sends only KEY_SIZE: a missing KEY_TYPE is RSA.
        assert_eq!(
            decode(&[0x55, 3, 0, 0, 0, 1, 0, 5, 0x0a, 0, 2, 8, 0]),
            ServerMessage::KeyGenerateRequest(KeyRequest::Rsa(2048))
        );
    }

    #[test]
    fn worked_example_store_request_layout() {
        let der = vec![0x30; 1000];
        let value = wrap_certificate(&der, certificate_type::LSC);
        assert_eq!(value.len(), 1005);
        assert_eq!(&value[..5], &[0x01, 0x03, 0xea, 0x00, 0x01]);
        let frame = Frame::new(
            command::STORE_CERTIFICATE_REQUEST,
            42,
            vec![
                Element::u8(tag::CERTIFICATE_TYPE, 1),
                Element::new(tag::CERTIFICATE, value),
            ],
        );
        let bytes = frame.encode().unwrap();
        assert_eq!(
            &bytes[..16],
            &[
                0x55, 0x09, 0, 0, 0, 0x2a, 0x03, 0xf4, 3, 0, 1, 1, 4, 3, 0xed, 1
            ]
        );
        assert_eq!(
            decode(&bytes),
            ServerMessage::StoreCertificateRequest {
                certificate_type: Some(1),
                certificate: der
            }
        );
    }

    #[test]
    fn bad_certificate_wrappers_are_refused() {
        assert!(unwrap_certificate(&[1, 0, 1, 0, 1]).is_err());
        assert!(unwrap_certificate(&[2, 0, 3, 0, 1, 0x30]).is_err());
        assert!(unwrap_certificate(&[1, 0, 9, 0, 1, 0x30]).is_err());
        assert_eq!(
            unwrap_certificate(&[1, 0, 3, 0, 1, 0x30]),
            Ok((1, &[0x30u8][..]))
        );
    }

    #[test]
    fn sudi_round_trips() {
        let sudi = SudiData {
            certificate: vec![1, 2, 3],
            sha1_signature: vec![4; 20],
            sha512_signature: vec![5; 64],
        };
        assert_eq!(SudiData::decode(&sudi.encode()).unwrap(), sudi);
    }

    #[test]
    fn end_session_without_reason_is_a_failure() {
        assert_eq!(
            decode(&[0x55, 15, 0, 0, 0, 1, 0, 0]),
            ServerMessage::EndSession(Reason::InvalidElement)
        );
    }
}
