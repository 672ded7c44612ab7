//! Sans-IO SIP for Lockphone.
//!
//! Everything in this crate takes bytes and time as input and hands back what to send and when to
//! be called again; nothing here opens a socket, spawns a task or reads the clock. The tokio
//! drivers live in the `lockphone` crate.
//!
//! Layers, bottom up:
//! - [`message`]: the SIP message model (requests, responses, URIs, headers, typed values),
//!   its parser and serializer;
//! - [`framer`]: splits a TCP/TLS byte stream into messages by `Content-Length`;
//! - [`auth`]: Digest (MD5, SHA-256) and Bearer challenges and credentials;
//! - [`transaction`]: RFC 3261 client and server transactions with timers A–K;
//! - [`registration`]: the REGISTER state machine (refresh, authentication, un-REGISTER);
//! - [`dialog`] and [`call`]: the INVITE dialog as caller or callee, re-offers, session timers;
//! - [`sdp`] and [`offer_answer`]: the SDP model with SDES keys, and one call's offer/answer.
#![forbid(unsafe_code)]

pub mod auth;
pub mod call;
pub mod dialog;
pub mod framer;
pub mod message;
pub mod offer_answer;
mod random;
pub mod registration;
pub mod sdp;
pub mod transaction;

#[cfg(test)]
mod sim;

pub use message::{
    Header, HeaderName, Headers, Host, Message, Method, NameAddr, Param, ParseError, Request,
    Response, Scheme, StatusCode, Transport, Uri, Via,
};
