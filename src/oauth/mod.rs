//! SIP OAuth: OAuth 2.0 bearer tokens for SIP (RFC 8898, and the Cisco CUCM flavour where
//! every challenge is a 407 answered in `Proxy-Authorization`).
//!
//! * [`login`]: `lockphone login` — discovery (RFC 8414 / OpenID Connect) from the configured
//!   issuer or the registrar's `authz_server`, then the device authorization grant (RFC 8628)
//!   or the authorization code flow with PKCE S256 and a loopback redirect (RFC 7636, RFC
//!   8252); `lockphone logout` revokes the refresh token (RFC 7009) and deletes the tokens.
//! * [`TokenStore`]: the tokens at rest, AES-256-GCM encrypted with a key file (0600) next to
//!   them, written atomically.
//! * the engine's session (crate-internal): uses the stored access token, renews it a quarter
//!   of its lifetime before expiry and when the registrar says `invalid_token`, re-REGISTERs
//!   with the new one, stores rotated refresh tokens, and reports
//!   [`Event::LoginRequired`](crate::ua::Event::LoginRequired) when the refresh token is
//!   refused.
//! * [`http`]: the HTTP/1.1 client under the `oauth2` crate: tokio + rustls with the account's
//!   own TLS verifier; plain `http://` only to a loopback address.
//!
//! Tokens never reach a log, an error or a `Debug` output: they live in
//! [`Secret`](lockphone_sip::auth::Secret)s, and the server's raw answers are never shown.
//!
//! ```
//! use lockphone::oauth::{TokenSet, TokenStore};
//! use lockphone_sip::auth::Secret;
//!
//! let dir = tempfile::tempdir().unwrap();
//! let store = TokenStore::new(dir.path().join("alice.tokens"));
//! store.save(&TokenSet {
//!     issuer: "https://as.example.test".into(),
//!     client_id: "lockphone".into(),
//!     access_token: Secret::new("eyJ.secret.sig"),
//!     refresh_token: None,
//!     expires_at: None,
//!     lifetime_secs: None,
//!     scope: Some("sip".into()),
//! }).unwrap();
//! assert!(!std::fs::read_to_string(store.path()).unwrap().contains("eyJ.secret.sig"));
//! assert_eq!(store.load().unwrap().unwrap().access_token.expose(), "eyJ.secret.sig");
//! ```

mod client;
mod error;
pub mod http;
pub mod login;
mod loopback;
mod metadata;
pub(crate) mod session;
mod store;
mod tls;

pub use client::{AuthorizationRequest, OAuthClient};
pub use error::OAuthError;
pub use login::{LoginEvent, LoginOptions};
pub use loopback::RedirectListener;
pub use metadata::{ServerMetadata, discover};
pub use store::{TokenSet, TokenStore};
pub use tls::http_client;
