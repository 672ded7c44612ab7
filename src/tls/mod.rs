//! TLS for SIP: client and server configurations on rustls, and what each connection
//! actually established.
//!
//! Policy: TLS 1.2 minimum, server certificates always verified (trust anchors from the
//! account's CA file and, when asked, the system store), an optional client certificate whose
//! key file must not be readable by others. The one [`verifier::SipServerVerifier`] is the seam
//! where the SIP identity rules, revocation and the user's trust store plug in.
//!
//! ```no_run
//! use lockphone::tls::{ClientTlsBuilder, TrustAnchors};
//!
//! let anchors = TrustAnchors::from_pem_file("ca.crt".as_ref())?;
//! let client = ClientTlsBuilder::new(anchors).build()?;
//! # Ok::<(), lockphone::tls::TlsError>(())
//! ```

pub mod common_criteria;
mod connect;
mod error;
mod files;
mod record;
pub mod revocation;
mod summary;
pub mod verifier;

pub use error::TlsError;
pub use files::{check_private, load_certificate_chain, load_private_key};
pub use record::{ConnectionSecurity, TrustBasis, fingerprint};
pub use summary::CertificateSummary;
pub use verifier::{CertificateChanged, PinMismatch, TrustStoreUnavailable};

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rustls::client::ResolvesClientCert;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SignatureScheme};

use crate::trust::identity::IdentityPolicy;
use crate::trust::store::TrustStore;
use revocation::{RevocationChecker, RevocationPolicy};

/// The TLS versions Lockphone speaks: 1.2 and 1.3, never older.
pub static PROTOCOL_VERSIONS: &[&rustls::SupportedProtocolVersion] =
    &[&rustls::version::TLS13, &rustls::version::TLS12];

/// Whether this build runs TLS on the FIPS-validated aws-lc module: a `fips` build whose
/// crypto provider rustls reports as FIPS (`CryptoProvider::fips()`: every suite, key
/// exchange, signature algorithm, RNG and key loader from the validated module, which is in
/// FIPS mode). A non-`fips` build is never in FIPS mode.
pub fn fips_mode() -> bool {
    static FIPS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *FIPS.get_or_init(|| cfg!(feature = "fips") && provider().fips())
}

/// The start-up check of a FIPS build: refuses (loudly, with [`TlsError::NotFips`]) to run if
/// the TLS client configuration it would use is not FIPS-approved. Does nothing in other
/// builds.
pub fn check_fips() -> Result<(), TlsError> {
    if !cfg!(feature = "fips") {
        return Ok(());
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(|e| TlsError::Other(e.to_string()))?
        .with_root_certificates(RootCertStore::empty())
        .with_no_client_auth();
    require_fips(config.fips())
}

/// In a `fips` build, refuses a configuration rustls does not report as FIPS-approved (its
/// `fips()`); nothing in other builds.
fn require_fips(config_is_fips: bool) -> Result<(), TlsError> {
    if cfg!(feature = "fips") && !(fips_mode() && config_is_fips) {
        return Err(TlsError::NotFips);
    }
    Ok(())
}

/// What FIPS mode allows, in words (for status lines and reports).
pub const FIPS_POLICY: &str =
    "TLS 1.2/1.3, AES-GCM suites, P-256/P-384 key exchange, no user-accepted certificates";

/// The crypto provider: aws-lc-rs. In a `fips` build, its FIPS module restricted to the
/// FIPS policy: AES-GCM cipher suites only (the module already drops ChaCha20-Poly1305) and
/// the NIST curves P-256 and P-384 for key exchange (no X25519, no hybrid post-quantum group).
pub fn provider() -> Arc<CryptoProvider> {
    let mut provider = rustls::crypto::aws_lc_rs::default_provider();
    if cfg!(feature = "fips") {
        provider
            .cipher_suites
            .retain(|suite| format!("{:?}", suite.suite()).contains("_GCM_"));
        provider.kx_groups.retain(|group| {
            matches!(
                group.name(),
                rustls::NamedGroup::secp256r1 | rustls::NamedGroup::secp384r1
            )
        });
    }
    Arc::new(provider)
}

/// The certificates trusted to sign a server's certificate.
#[derive(Debug, Clone)]
pub struct TrustAnchors {
    roots: RootCertStore,
    /// The anchors as certificates (revocation needs the issuer's name and key; Common
    /// Criteria its key size).
    certs: Vec<CertificateDer<'static>>,
}

impl TrustAnchors {
    /// No anchors at all (every server is refused until some are added).
    pub fn empty() -> TrustAnchors {
        TrustAnchors {
            roots: RootCertStore::empty(),
            certs: Vec::new(),
        }
    }

    /// Anchors read from a PEM file, or from every `.pem`/`.crt` file in a folder.
    pub fn from_pem_file(path: &Path) -> Result<TrustAnchors, TlsError> {
        let mut anchors = TrustAnchors::empty();
        anchors.add_pem_file(path)?;
        Ok(anchors)
    }

    /// Adds the anchors in a PEM file or folder.
    pub fn add_pem_file(&mut self, path: &Path) -> Result<(), TlsError> {
        for cert in files::load_ca_certificates(path)? {
            self.roots
                .add(cert.clone())
                .map_err(|e| TlsError::CertificateFile {
                    path: path.to_owned(),
                    reason: format!("not a usable CA certificate: {e}"),
                })?;
            self.certs.push(cert);
        }
        Ok(())
    }

    /// Adds the operating system's trust store.
    pub fn add_system_roots(&mut self) -> Result<(), TlsError> {
        let result = rustls_native_certs::load_native_certs();
        if result.certs.is_empty() {
            let reason = result
                .errors
                .first()
                .map(|e| e.to_string())
                .unwrap_or_default();
            return Err(TlsError::SystemRoots(reason));
        }
        self.certs.extend(result.certs.iter().cloned());
        let (_added, _ignored) = self.roots.add_parsable_certificates(result.certs);
        Ok(())
    }

    /// Adds one DER certificate as an anchor.
    pub fn add_der(&mut self, der: CertificateDer<'static>) -> Result<(), TlsError> {
        self.roots
            .add(der.clone())
            .map_err(|e| TlsError::Other(format!("bad anchor: {e}")))?;
        self.certs.push(der);
        Ok(())
    }

    /// How many anchors there are.
    pub fn len(&self) -> usize {
        self.roots.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.roots.is_empty()
    }
}

/// A client certificate with its key.
#[derive(Debug)]
pub struct ClientIdentity {
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
}

impl ClientIdentity {
    /// Loads a PEM chain and key; the key file must not be readable by group or others.
    pub fn from_pem_files(chain: &Path, key: &Path) -> Result<ClientIdentity, TlsError> {
        Ok(ClientIdentity {
            chain: load_certificate_chain(chain)?,
            key: load_private_key(key)?,
        })
    }

    /// From DER values already in memory.
    pub fn from_der(chain: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Self {
        ClientIdentity { chain, key }
    }
}

/// Builds the client side of SIP over TLS.
#[derive(Debug)]
pub struct ClientTlsBuilder {
    anchors: TrustAnchors,
    identity: Option<ClientIdentity>,
    identity_policy: IdentityPolicy,
    store: Option<Arc<TrustStore>>,
    pinned: Vec<String>,
    revocation: RevocationPolicy,
    common_criteria: bool,
}

impl ClientTlsBuilder {
    /// Starts from the trust anchors (verification cannot be turned off here).
    pub fn new(anchors: TrustAnchors) -> ClientTlsBuilder {
        ClientTlsBuilder {
            anchors,
            identity: None,
            identity_policy: IdentityPolicy::default(),
            store: None,
            pinned: Vec::new(),
            revocation: RevocationPolicy::default(),
            common_criteria: false,
        }
    }

    /// The revocation policy (default `hard-fail`; Common Criteria forces `hard-fail`).
    pub fn revocation(mut self, policy: RevocationPolicy) -> ClientTlsBuilder {
        self.revocation = policy;
        self
    }

    /// Common Criteria mode: RSA keys of at least 2048 bits and no SHA-1 signature in the
    /// chain (checked in the handshake), hard-fail revocation, TLS 1.2 or 1.3.
    pub fn common_criteria(mut self, on: bool) -> ClientTlsBuilder {
        self.common_criteria = on;
        self
    }

    /// Accepts certificates the user stored with "Always trust" for the server's identity.
    pub fn trust_store(mut self, store: Arc<TrustStore>) -> ClientTlsBuilder {
        self.store = Some(store);
        self
    }

    /// Accepts certificates with these SHA-256 fingerprints even without a CA.
    pub fn pinned(mut self, fingerprints: Vec<String>) -> ClientTlsBuilder {
        self.pinned = fingerprints;
        self
    }

    /// The SIP identity rules the server certificate is checked with (default: RFC 9525).
    pub fn identity_policy(mut self, policy: IdentityPolicy) -> ClientTlsBuilder {
        self.identity_policy = policy;
        self
    }

    /// Presents this certificate when the server asks for one.
    pub fn client_identity(mut self, identity: ClientIdentity) -> ClientTlsBuilder {
        self.identity = Some(identity);
        self
    }

    /// Builds the configuration.
    pub fn build(self) -> Result<ClientTls, TlsError> {
        let provider = provider();
        let anchor_certs = Arc::new(self.anchors.certs.clone());
        let mut verifier = verifier::SipServerVerifier::new(self.anchors, provider.clone())?
            .with_identity_policy(self.identity_policy)
            .with_pinned(self.pinned);
        let revocation_policy = if self.common_criteria {
            // Common Criteria: TLS 1.2+ is Lockphone's floor anyway; make sure it stays so.
            if PROTOCOL_VERSIONS
                .iter()
                .any(|v| u16::from(v.version) < u16::from(rustls::ProtocolVersion::TLSv1_2))
            {
                return Err(TlsError::Other(
                    "Common Criteria mode needs TLS 1.2 or newer only".to_owned(),
                ));
            }
            verifier = verifier.with_common_criteria(common_criteria::CommonCriteria::new(
                anchor_certs.as_ref().clone(),
            ));
            RevocationPolicy::HardFail
        } else {
            self.revocation
        };
        if let Some(store) = self.store {
            verifier = verifier.with_trust_store(store);
        }
        if !verifier.can_trust_anything() {
            return Err(TlsError::NoTrustAnchors);
        }
        let verifier = Arc::new(verifier);
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(PROTOCOL_VERSIONS)
            .map_err(|e| TlsError::Other(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(verifier.clone());
        let (config, certified) = match self.identity {
            Some(identity) => {
                let signing_key = provider
                    .key_provider
                    .load_private_key(identity.key)
                    .map_err(|e| TlsError::KeyFile {
                        path: None,
                        reason: e.to_string(),
                    })?;
                let certified = Arc::new(CertifiedKey::new(identity.chain, signing_key));
                let resolver = PresentingResolver::new(certified.clone());
                (builder.with_client_cert_resolver(resolver), Some(certified))
            }
            None => (builder.with_no_client_auth(), None),
        };
        require_fips(config.fips())?;
        Ok(ClientTls {
            base: Arc::new(config),
            certified,
            verifier,
            revocation: RevocationChecker::new(revocation_policy),
            anchors: anchor_certs,
            common_criteria: self.common_criteria,
        })
    }
}

/// The client TLS configuration of an account.
#[derive(Debug, Clone)]
pub struct ClientTls {
    base: Arc<ClientConfig>,
    certified: Option<Arc<CertifiedKey>>,
    verifier: Arc<verifier::SipServerVerifier>,
    revocation: RevocationChecker,
    anchors: Arc<Vec<CertificateDer<'static>>>,
    common_criteria: bool,
}

impl ClientTls {
    /// A configuration for one new connection, with a flag that turns true if the server asked
    /// for our certificate and we sent it. Session resumption state is shared.
    pub fn for_connection(&self) -> (Arc<ClientConfig>, Arc<AtomicBool>) {
        let presented = Arc::new(AtomicBool::new(false));
        match &self.certified {
            Some(certified) => {
                let mut config = (*self.base).clone();
                config.client_auth_cert_resolver = Arc::new(PresentingResolver {
                    certified: certified.clone(),
                    presented: presented.clone(),
                });
                (Arc::new(config), presented)
            }
            None => (self.base.clone(), presented),
        }
    }

    /// How the server certificate with this fingerprint was trusted, if it was.
    pub fn trust_basis(&self, sha256: &str) -> Option<TrustBasis> {
        self.verifier.trust_basis(sha256)
    }

    /// The certificate last refused for `identity` for a reason the user may override.
    pub fn pending_decision(&self, identity: &str) -> Option<CertificateSummary> {
        self.verifier.pending_decision(identity)
    }

    /// The certificate to ask the user about after a refusal for `identity`: the pending one,
    /// only if the latest refusal for `identity` was about it.
    pub fn question_for(&self, identity: &str) -> Option<CertificateSummary> {
        self.verifier.question_for(identity)
    }

    /// "Always trust": stores this certificate for `identity` and accepts it from now on.
    pub fn trust_always(
        &self,
        identity: &str,
        certificate: &CertificateSummary,
    ) -> Result<(), TrustStoreUnavailable> {
        self.verifier.trust_always(identity, certificate)
    }

    /// "Continue": accepts the certificate with this fingerprint for `identity` for the life
    /// of this configuration only.
    pub fn trust_for_session(&self, identity: &str, sha256: &str) {
        self.verifier.trust_for_session(identity, sha256);
    }

    /// "Cancel": forgets the certificate waiting for a decision for `identity`.
    pub fn forget_pending(&self, identity: &str) {
        self.verifier.forget_pending(identity);
    }

    /// Whether a client certificate is configured.
    pub fn has_client_certificate(&self) -> bool {
        self.certified.is_some()
    }

    /// The revocation checker (its cache is shared by every connection of this
    /// configuration and its clones).
    pub fn revocation(&self) -> &RevocationChecker {
        &self.revocation
    }

    /// Whether Common Criteria mode is on.
    pub fn is_common_criteria(&self) -> bool {
        self.common_criteria
    }
}

/// Hands out the client certificate and remembers that the server asked for it.
#[derive(Debug)]
struct PresentingResolver {
    certified: Arc<CertifiedKey>,
    presented: Arc<AtomicBool>,
}

impl PresentingResolver {
    fn new(certified: Arc<CertifiedKey>) -> Arc<PresentingResolver> {
        Arc::new(PresentingResolver {
            certified,
            presented: Arc::new(AtomicBool::new(false)),
        })
    }
}

impl ResolvesClientCert for PresentingResolver {
    fn resolve(
        &self,
        _root_hint_subjects: &[&[u8]],
        sigschemes: &[SignatureScheme],
    ) -> Option<Arc<CertifiedKey>> {
        let scheme_ok = self.certified.key.choose_scheme(sigschemes).is_some();
        if scheme_ok {
            self.presented.store(true, Ordering::Relaxed);
            Some(self.certified.clone())
        } else {
            None
        }
    }

    fn has_certs(&self) -> bool {
        true
    }
}

/// The name the server's certificate must match: a DNS name or an IP address.
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(host.to_owned())
        .map_err(|_| TlsError::Other(format!("`{host}` is not a valid TLS server name")))
}

/// Builds a TLS server configuration (for the SIP listener) from a PEM chain and key.
pub fn server_config(chain: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = load_certificate_chain(chain)?;
    let key = load_private_key(key)?;
    server_config_from_der(chain, key)
}

/// A TLS server configuration for a SIP listener that asks every client for a certificate
/// and verifies it against `anchors` when one is sent (clients without one are still
/// accepted, as unverified). A verified client is what makes a direct incoming call's
/// signalling leg secure.
pub fn listener_config(
    chain: &Path,
    key: &Path,
    anchors: &TrustAnchors,
) -> Result<Arc<ServerConfig>, TlsError> {
    let chain = load_certificate_chain(chain)?;
    let key = load_private_key(key)?;
    let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
        Arc::new(anchors.roots.clone()),
        provider(),
    )
    .allow_unauthenticated()
    .build()
    .map_err(|e| TlsError::Other(format!("cannot verify client certificates: {e}")))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(|e| TlsError::Other(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::KeyFile {
            path: None,
            reason: e.to_string(),
        })?;
    require_fips(config.fips())?;
    Ok(Arc::new(config))
}

/// Builds a TLS server configuration from DER values.
pub fn server_config_from_der(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, TlsError> {
    let config = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(PROTOCOL_VERSIONS)
        .map_err(|e| TlsError::Other(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::KeyFile {
            path: None,
            reason: e.to_string(),
        })?;
    require_fips(config.fips())?;
    Ok(Arc::new(config))
}
