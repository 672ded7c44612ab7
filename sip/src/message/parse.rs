//! The SIP parser. (Being written: the SIP-messages helper replaces this file.)

use std::str::FromStr;

use super::{CSeq, Message, NameAddr, Uri, Via};

/// Why a SIP message or header value could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// Placeholder until the parser lands.
    #[error("not implemented yet: {0}")]
    Unimplemented(&'static str),
}

impl Message {
    /// Parses one complete message.
    pub fn parse(_bytes: &[u8]) -> Result<Message, ParseError> {
        Err(ParseError::Unimplemented("Message::parse"))
    }
}

impl FromStr for Uri {
    type Err = ParseError;
    fn from_str(_s: &str) -> Result<Uri, ParseError> {
        Err(ParseError::Unimplemented("Uri"))
    }
}

impl FromStr for Via {
    type Err = ParseError;
    fn from_str(_s: &str) -> Result<Via, ParseError> {
        Err(ParseError::Unimplemented("Via"))
    }
}

impl FromStr for NameAddr {
    type Err = ParseError;
    fn from_str(_s: &str) -> Result<NameAddr, ParseError> {
        Err(ParseError::Unimplemented("NameAddr"))
    }
}

impl FromStr for CSeq {
    type Err = ParseError;
    fn from_str(_s: &str) -> Result<CSeq, ParseError> {
        Err(ParseError::Unimplemented("CSeq"))
    }
}
