//! Turning an account's configuration into the things the engine runs with: TLS, credentials,
//! and the registrar's address.

use std::net::SocketAddr;
use std::sync::Arc;

use lockphone_sip::auth::{Credentials, Secret};
use lockphone_sip::message::{Host, Uri};

use super::UaError;
use crate::config::{AccountConfig, AuthConfig, TransportKind};
use crate::tls::{ClientIdentity, ClientTls, ClientTlsBuilder, TrustAnchors, check_private};
use crate::transport::Target;
use crate::trust::identity::IdentityPolicy;
use crate::trust::store::TrustStore;

/// The CAs an account trusts: its `tls.ca_file` (file or folder) and, when asked, the
/// system's roots.
pub(crate) fn account_anchors(
    account: &AccountConfig,
) -> Result<TrustAnchors, crate::tls::TlsError> {
    let mut anchors = TrustAnchors::empty();
    if let Some(ca) = &account.tls.ca_file {
        anchors.add_pem_file(ca)?;
    }
    if account.tls.system_roots {
        anchors.add_system_roots()?;
    }
    Ok(anchors)
}

/// The server-name rules of an account: RFC 9525 wildcards, or strict RFC 5922.
pub(crate) fn identity_policy(account: &AccountConfig) -> IdentityPolicy {
    if account.tls.allow_wildcards {
        IdentityPolicy::default()
    } else {
        IdentityPolicy::strict_sip()
    }
}

/// The account's verifier rules for its other TLS clients (HTTPS to the authorization
/// server, the LDAP directory) on `anchors`: identity policy, pins, revocation policy,
/// Common Criteria, and the trust store when it opens; never a client certificate.
pub(crate) fn service_tls(account: &AccountConfig, anchors: TrustAnchors) -> ClientTlsBuilder {
    let mut builder = ClientTlsBuilder::new(anchors)
        .identity_policy(identity_policy(account))
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
    builder
}

/// Builds the account's TLS client configuration (None for UDP/TCP accounts).
pub(crate) fn client_tls(account: &AccountConfig) -> Result<Option<ClientTls>, UaError> {
    if account.transport != TransportKind::Tls {
        return Ok(None);
    }
    let mut anchors = account_anchors(account)?;
    let policy = identity_policy(account);
    let store_path = match &account.tls.trust_store {
        Some(path) => path.clone(),
        None => TrustStore::default_path().map_err(|e| UaError::Config(e.to_string()))?,
    };
    let store = TrustStore::open(&store_path).map_err(|e| UaError::Config(e.to_string()))?;
    // CA certificates the user imported (`lockphone trust import`) are anchors too.
    for anchor in store.anchors() {
        if let Some(der) = crate::trust::import::anchor_der(anchor) {
            anchors.add_der(der)?;
        }
    }
    let mut builder = ClientTlsBuilder::new(anchors)
        .identity_policy(policy)
        .trust_store(Arc::new(store))
        .pinned(account.tls.pinned_sha256.clone())
        .revocation(account.tls.revocation)
        .common_criteria(account.tls.common_criteria);
    if let (Some(cert), Some(key)) = (&account.tls.client_certificate, &account.tls.client_key) {
        builder = builder.client_identity(ClientIdentity::from_pem_files(cert, key)?);
    } else if let Some(lsc) = enrolled_lsc(account) {
        // The LSC `lockphone enroll` installed for this account (CAPF).
        builder = builder.client_identity(ClientIdentity::from_pem_files(
            &lsc.certificate_path(),
            &lsc.key_path(),
        )?);
    }
    Ok(Some(builder.build()?))
}

/// The account's CAPF certificate store, when it holds an LSC.
fn enrolled_lsc(account: &AccountConfig) -> Option<crate::capf::store::LscStore> {
    let store = crate::capf::store::LscStore::new(account.certificate_store().ok()?);
    store.has_certificate().then_some(store)
}

/// Reads the account's SIP credentials (password or token files must be private).
pub(crate) fn credentials(account: &AccountConfig, aor: &Uri) -> Result<Credentials, UaError> {
    match &account.auth {
        AuthConfig::None => Ok(Credentials::None),
        AuthConfig::Digest {
            username,
            password,
            password_file,
        } => {
            let username = username
                .clone()
                .or_else(|| aor.user.clone())
                .ok_or_else(|| UaError::Config("auth.username is missing".to_owned()))?;
            let password = match (password, password_file) {
                (Some(p), _) => Secret::new(p.clone()),
                (None, Some(file)) => Secret::new(read_secret_file(file)?),
                (None, None) => {
                    return Err(UaError::Config("digest needs a password".to_owned()));
                }
            };
            Ok(Credentials::Digest { username, password })
        }
        AuthConfig::Bearer { token_file } => Ok(Credentials::Bearer {
            token: Secret::new(read_secret_file(token_file)?),
        }),
        // The token comes from the account's OAuth session (crate::oauth).
        AuthConfig::OAuth(_) => Ok(Credentials::None),
    }
}

fn read_secret_file(path: &std::path::Path) -> Result<String, UaError> {
    check_private(path)?;
    let text = std::fs::read_to_string(path)
        .map_err(|e| UaError::Config(format!("cannot read {}: {e}", path.display())))?;
    Ok(text.lines().next().unwrap_or_default().trim().to_owned())
}

/// Resolves the registrar URI to a transport target (A/AAAA lookup; no SRV yet).
pub(crate) async fn registrar_target(
    account: &AccountConfig,
    registrar: &Uri,
) -> Result<Target, UaError> {
    let port = registrar
        .port
        .unwrap_or_else(|| account.transport.default_port());
    let (addr, name) = match &registrar.host {
        Host::Ipv4(ip) => (SocketAddr::from((*ip, port)), ip.to_string()),
        Host::Ipv6(ip) => (SocketAddr::from((*ip, port)), ip.to_string()),
        Host::Domain(domain) => {
            let mut addrs = tokio::net::lookup_host((domain.as_str(), port))
                .await
                .map_err(|e| UaError::Unreachable(format!("cannot resolve {domain}: {e}")))?;
            let addr = addrs
                .next()
                .ok_or_else(|| UaError::Unreachable(format!("{domain} has no address")))?;
            (addr, domain.clone())
        }
    };
    let server_name = account.tls.server_name.clone().unwrap_or(name);
    Ok(Target {
        transport: account.transport.transport(),
        addr,
        server_name: Some(server_name),
    })
}

/// Resolves a URI we call directly to a transport target: its host and port, the transport of
/// its `transport=` parameter (or the account's), `sips:` meaning TLS.
pub(crate) async fn uri_target(account: &AccountConfig, uri: &Uri) -> Result<Target, UaError> {
    let transport = match uri.transport_param() {
        Some(transport) => transport,
        None if uri.scheme == lockphone_sip::message::Scheme::Sips => {
            lockphone_sip::message::Transport::Tls
        }
        None => account.transport.transport(),
    };
    let mut direct = account.clone();
    direct.tls.server_name = None;
    direct.transport = match transport {
        lockphone_sip::message::Transport::Tls => TransportKind::Tls,
        lockphone_sip::message::Transport::Tcp => TransportKind::Tcp,
        _ => TransportKind::Udp,
    };
    let mut target = registrar_target(&direct, uri).await?;
    target.transport = transport;
    Ok(target)
}

/// The TLS configuration of the account's listener: its certificate (the listener's own, or
/// the client certificate), asking callers for theirs and verifying it against the account's
/// CAs.
pub(crate) fn listener_tls(account: &AccountConfig) -> Result<Arc<rustls::ServerConfig>, UaError> {
    let calls = &account.calls;
    let (chain, key) = match (
        calls
            .listen_certificate
            .as_ref()
            .or(account.tls.client_certificate.as_ref()),
        calls
            .listen_key
            .as_ref()
            .or(account.tls.client_key.as_ref()),
    ) {
        (Some(chain), Some(key)) => (chain, key),
        _ => {
            return Err(UaError::Config(
                "a TLS listener needs calls.listen_certificate and calls.listen_key (or tls.client_certificate and tls.client_key)".to_owned(),
            ));
        }
    };
    check_private(key)?;
    let anchors = account_anchors(account)?;
    Ok(crate::tls::listener_config(chain, key, &anchors)?)
}
