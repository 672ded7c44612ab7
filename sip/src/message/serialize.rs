//! The SIP serializer. (Being written: the SIP-messages helper replaces this file.)

use super::Message;

impl Message {
    /// The message as bytes, with `Content-Length` set from the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        Vec::new()
    }
}
