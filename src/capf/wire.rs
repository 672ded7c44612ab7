//! The CAPF framing: an 8-byte header (protocol ID `0x55`, command, session ID, payload
//! length, big-endian) and a payload of tag/length/value elements (reference §2).
//!
//! ```
//! use lockphone::capf::wire::{Element, Frame, FrameDecoder};
//!
//! let frame = Frame::new(15, 42, vec![Element::u8(1, 1)]);
//! let bytes = frame.encode().unwrap();
//! assert_eq!(bytes, [0x55, 0x0f, 0, 0, 0, 0x2a, 0, 4, 1, 0, 1, 1]);
//! let mut decoder = FrameDecoder::default();
//! decoder.push(&bytes);
//! assert_eq!(decoder.next_frame().unwrap(), Some(frame));
//! ```

/// The protocol ID every CAPF message starts with.
pub const PROTOCOL_ID: u8 = 0x55;
/// The size of the header.
pub const HEADER_LEN: usize = 8;
/// The largest payload a header can announce.
pub const MAX_PAYLOAD: usize = u16::MAX as usize;

/// Why bytes are not a CAPF message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The first byte is not `0x55`: the peer does not speak CAPF (or the stream is out of step).
    #[error("not a CAPF message: protocol ID {0:#04x} instead of 0x55")]
    BadProtocolId(u8),
    /// An element's header (tag + length) is cut off at the end of the payload.
    #[error("truncated CAPF element header at payload offset {offset}")]
    TruncatedElementHeader {
        /// Where the element starts in the payload.
        offset: usize,
    },
    /// An element announces more bytes than the payload holds.
    #[error("CAPF element {tag} announces {declared} bytes but only {available} remain")]
    TruncatedElement {
        /// The element's tag.
        tag: u8,
        /// The length it announces.
        declared: usize,
        /// What is left of the payload.
        available: usize,
    },
    /// A value or a payload exceeds the 65,535 bytes the length fields can express.
    #[error("CAPF {what} of {len} bytes exceeds 65535")]
    TooLarge {
        /// "element value" or "payload".
        what: &'static str,
        /// Its size.
        len: usize,
    },
}

/// One tag/length/value element.
#[derive(Clone, PartialEq, Eq)]
pub struct Element {
    /// The tag.
    pub tag: u8,
    /// The value.
    pub value: Vec<u8>,
}

impl std::fmt::Debug for Element {
    /// Values are shown only by length: they may be passwords or signatures.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Element(tag {}, {} bytes)", self.tag, self.value.len())
    }
}

impl Element {
    /// An element with this value.
    pub fn new(tag: u8, value: impl Into<Vec<u8>>) -> Element {
        Element {
            tag,
            value: value.into(),
        }
    }

    /// A one-byte value.
    pub fn u8(tag: u8, value: u8) -> Element {
        Element::new(tag, vec![value])
    }

    /// A two-byte big-endian value.
    pub fn u16(tag: u8, value: u16) -> Element {
        Element::new(tag, value.to_be_bytes().to_vec())
    }

    /// A string value: the text followed by one NUL, which counts in the length.
    pub fn string(tag: u8, text: &str) -> Element {
        let mut value = text.as_bytes().to_vec();
        value.push(0);
        Element::new(tag, value)
    }
}

/// One CAPF message as framed on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The command code (reference §3).
    pub command: u8,
    /// The session ID chosen by the server.
    pub session_id: u32,
    /// The elements, in wire order.
    pub elements: Vec<Element>,
}

impl Frame {
    /// A frame with these elements.
    pub fn new(command: u8, session_id: u32, elements: Vec<Element>) -> Frame {
        Frame {
            command,
            session_id,
            elements,
        }
    }

    /// The header and payload as one buffer (sent in one write, reference §1).
    pub fn encode(&self) -> Result<Vec<u8>, WireError> {
        let mut payload = Vec::new();
        for element in &self.elements {
            let len = u16::try_from(element.value.len()).map_err(|_| WireError::TooLarge {
                what: "element value",
                len: element.value.len(),
            })?;
            payload.push(element.tag);
            payload.extend_from_slice(&len.to_be_bytes());
            payload.extend_from_slice(&element.value);
        }
        let len = u16::try_from(payload.len()).map_err(|_| WireError::TooLarge {
            what: "payload",
            len: payload.len(),
        })?;
        let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
        out.push(PROTOCOL_ID);
        out.push(self.command);
        out.extend_from_slice(&self.session_id.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&payload);
        Ok(out)
    }

    /// The value of the last element with this tag (a repeated tag overwrites, reference §2).
    pub fn get(&self, tag: u8) -> Option<&[u8]> {
        self.elements
            .iter()
            .rev()
            .find(|e| e.tag == tag)
            .map(|e| e.value.as_slice())
    }
}

/// A decoded header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The command code.
    pub command: u8,
    /// The session ID.
    pub session_id: u32,
    /// The payload length.
    pub payload_len: u16,
}

impl Header {
    /// Decodes the 8 header bytes.
    pub fn decode(bytes: &[u8; HEADER_LEN]) -> Result<Header, WireError> {
        if bytes[0] != PROTOCOL_ID {
            return Err(WireError::BadProtocolId(bytes[0]));
        }
        Ok(Header {
            command: bytes[1],
            session_id: u32::from_be_bytes([bytes[2], bytes[3], bytes[4], bytes[5]]),
            payload_len: u16::from_be_bytes([bytes[6], bytes[7]]),
        })
    }
}

/// Splits a payload into its elements.
pub fn decode_elements(payload: &[u8]) -> Result<Vec<Element>, WireError> {
    let mut elements = Vec::new();
    let mut offset = 0;
    while offset < payload.len() {
        let Some(&[tag, hi, lo]) = payload.get(offset..offset + 3) else {
            return Err(WireError::TruncatedElementHeader { offset });
        };
        let declared = usize::from(u16::from_be_bytes([hi, lo]));
        let start = offset + 3;
        let Some(value) = payload.get(start..start + declared) else {
            return Err(WireError::TruncatedElement {
                tag,
                declared,
                available: payload.len() - start,
            });
        };
        elements.push(Element::new(tag, value));
        offset = start + declared;
    }
    Ok(elements)
}

/// Reassembles frames from a byte stream that may arrive in any pieces.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    buffer: Vec<u8>,
}

impl FrameDecoder {
    /// Appends received bytes.
    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// Whether bytes of an incomplete frame are waiting.
    pub fn has_partial(&self) -> bool {
        !self.buffer.is_empty()
    }

    /// The next complete frame, `None` while more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, WireError> {
        let Some(head) = self.buffer.first_chunk::<HEADER_LEN>() else {
            if let Some(&first) = self.buffer.first()
                && first != PROTOCOL_ID
            {
                return Err(WireError::BadProtocolId(first));
            }
            return Ok(None);
        };
        let header = Header::decode(head)?;
        let total = HEADER_LEN + usize::from(header.payload_len);
        let Some(payload) = self.buffer.get(HEADER_LEN..total) else {
            return Ok(None);
        };
        let elements = decode_elements(payload)?;
        self.buffer.drain(..total);
        Ok(Some(Frame::new(
            header.command,
            header.session_id,
            elements,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_auth_request_decodes() {
        let bytes = [
            0x55, 0x01, 0, 0, 0, 0x2a, 0, 8, 0x07, 0, 1, 3, 0x08, 0, 1, 0,
        ];
        let mut decoder = FrameDecoder::default();
        decoder.push(&bytes[..5]);
        assert_eq!(decoder.next_frame().unwrap(), None);
        decoder.push(&bytes[5..]);
        let frame = decoder.next_frame().unwrap().unwrap();
        assert_eq!(frame.command, 1);
        assert_eq!(frame.session_id, 42);
        assert_eq!(frame.get(7), Some(&[3u8][..]));
        assert_eq!(frame.get(8), Some(&[0u8][..]));
        assert!(!decoder.has_partial());
    }

    #[test]
    fn string_elements_carry_their_nul() {
        let frame = Frame::new(2, 42, vec![Element::string(11, "246810")]);
        let bytes = frame.encode().unwrap();
        assert_eq!(
            &bytes[8..],
            &[0x0b, 0, 7, b'2', b'4', b'6', b'8', b'1', b'0', 0]
        );
    }

    #[test]
    fn truncated_and_foreign_input_are_errors() {
        assert_eq!(
            decode_elements(&[1, 0]),
            Err(WireError::TruncatedElementHeader { offset: 0 })
        );
        assert_eq!(
            decode_elements(&[4, 0, 9, 1, 2]),
            Err(WireError::TruncatedElement {
                tag: 4,
                declared: 9,
                available: 2
            })
        );
        let mut decoder = FrameDecoder::default();
        decoder.push(b"HTTP/1.1 400");
        assert_eq!(decoder.next_frame(), Err(WireError::BadProtocolId(b'H')));
    }

    #[test]
    fn oversized_values_are_refused_not_truncated() {
        let frame = Frame::new(9, 1, vec![Element::new(4, vec![0; 70_000])]);
        assert!(matches!(frame.encode(), Err(WireError::TooLarge { .. })));
    }
}
