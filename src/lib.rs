//! Lockphone: a secure SIP softphone.
//!
//! The user agent on top of [`lockphone_sip`] (sans-IO SIP) and [`lockphone_media`] (the
//! media engine): accounts and their configuration, TLS with strict verification, the tokio
//! transport drivers, registration, and the `lockphone` command.
#![forbid(unsafe_code)]

pub mod call;
pub mod capf;
pub mod config;
pub mod contacts;
pub mod control;
pub mod daemon;
mod http1;
pub mod media;
pub mod oauth;
pub mod redact;
pub mod tls;
pub mod transport;
pub mod trust;
pub mod ua;
pub mod user_files;
pub mod verdict;
