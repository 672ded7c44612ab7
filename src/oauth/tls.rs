//! The HTTPS client of an account: the same verifier (anchors, pins, identity policy,
//! "Always trust" decisions) as its SIP connections, never a client certificate.

use super::OAuthError;
use super::http::HttpClient;
use crate::config::AccountConfig;
use crate::tls::TlsError;

/// The HTTP client for `account`'s authorization server. Without any trust anchor only a
/// loopback `http://` server can be reached.
pub fn http_client(account: &AccountConfig) -> Result<HttpClient, OAuthError> {
    let anchors = crate::ua::setup::account_anchors(account)?;
    let builder = crate::ua::setup::service_tls(account, anchors);
    match builder.build() {
        Ok(tls) => Ok(HttpClient::new(Some(tls))),
        Err(TlsError::NoTrustAnchors) => Ok(HttpClient::new(None)),
        Err(e) => Err(e.into()),
    }
}
