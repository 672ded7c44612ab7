//! Lockphone: a secure SIP softphone.
#![forbid(unsafe_code)]
