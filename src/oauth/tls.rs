//! The HTTPS client of an account: the same verifier (anchors, pins, identity policy,
//! "Always trust" decisions) as its SIP connections, never a client certificate.

use std::sync::Arc;

use super::OAuthError;
use super::http::HttpClient;
use crate::config::AccountConfig;
use crate::tls::{ClientTlsBuilder, TlsError};
use crate::trust::store::TrustStore;

/// The HTTP client for `account`'s authorization server. Without any trust anchor only a
/// loopback `http://` server can be reached.
pub fn http_client(account: &AccountConfig) -> Result<HttpClient, OAuthError> {
    let anchors = crate::ua::setup::account_anchors(account)?;
    let policy = crate::ua::setup::identity_policy(account);
    let mut builder = ClientTlsBuilder::new(anchors)
        .identity_policy(policy)
        .pinned(account.tls.pinned_sha256.clone())
        .revocation(account.tls.revocation)
        .common_criteria(account.tls.common_criteria);
    let store_path = account
        .tls
        .trust_store
        .clone()
        .or_else(|| TrustStore::default_path().ok());
    if let Some(store) = store_path.and_then(|p| TrustStore::open(&p).ok()) {
        builder = builder.trust_store(Arc::new(store));
    }
    match builder.build() {
        Ok(tls) => Ok(HttpClient::new(Some(tls))),
        Err(TlsError::NoTrustAnchors) => Ok(HttpClient::new(None)),
        Err(e) => Err(e.into()),
    }
}
