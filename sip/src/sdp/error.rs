//! Errors from parsing SDP.

use super::CryptoError;

/// Why an SDP body was rejected. Line numbers count from 1; messages never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SdpError {
    /// The body has no lines.
    #[error("SDP is empty")]
    Empty,
    /// A line is not `<lowercase letter>=<value>`.
    #[error(
        "SDP line {line}: expected `<type>=<value>` with a lowercase letter type, got {start:?}"
    )]
    Syntax {
        /// Line number.
        line: usize,
        /// The start of the line (at most 20 characters).
        start: String,
    },
    /// A blank line before the end of the body.
    #[error("SDP line {line}: blank line inside the description")]
    BlankLine {
        /// Line number.
        line: usize,
    },
    /// A line holds a NUL or a bare CR.
    #[error("SDP line {line}: contains a NUL or bare CR character")]
    ControlCharacter {
        /// Line number.
        line: usize,
    },
    /// `v=`, `o=` and `s=` must be the first three lines, in that order.
    #[error("SDP line {line}: expected `{expected}=` here, got `{found}=`")]
    OutOfOrder {
        /// Line number.
        line: usize,
        /// The type the grammar needs here.
        expected: char,
        /// The type found.
        found: char,
    },
    /// A required line is missing.
    #[error("SDP has no `{kind}=` line")]
    Missing {
        /// The missing type.
        kind: char,
    },
    /// A line that may appear once appears again.
    #[error("SDP line {line}: second `{kind}=` line in the same section")]
    Duplicate {
        /// Line number.
        line: usize,
        /// The type.
        kind: char,
    },
    /// A session-level line inside a media section.
    #[error("SDP line {line}: `{kind}=` is not allowed inside a media section")]
    NotInMedia {
        /// Line number.
        line: usize,
        /// The type.
        kind: char,
    },
    /// An `r=` line before any `t=` line.
    #[error("SDP line {line}: `r=` before any `t=` line")]
    RepeatWithoutTiming {
        /// Line number.
        line: usize,
    },
    /// A typed line whose value does not follow its grammar.
    #[error("SDP line {line}: invalid `{kind}=` line: {reason}")]
    Invalid {
        /// Line number.
        line: usize,
        /// The type.
        kind: char,
        /// What is wrong.
        reason: String,
    },
    /// An `a=crypto` attribute that does not parse.
    #[error("SDP line {line}: invalid `a=crypto`: {source}")]
    Crypto {
        /// Line number.
        line: usize,
        /// What is wrong with it.
        #[source]
        source: CryptoError,
    },
}
