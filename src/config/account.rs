//! One `[[account]]` table.

use std::path::{Path, PathBuf};
use std::time::Duration;

use lockphone_sip::message::{Param, Scheme, Transport, Uri};
use serde::Deserialize;

use super::ConfigError;

/// The transport an account signals over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// SIP over TLS (the default; the only one that can carry SDES keys).
    #[default]
    Tls,
    /// SIP over TCP, unencrypted.
    Tcp,
    /// SIP over UDP, unencrypted.
    Udp,
}

impl TransportKind {
    /// The SIP transport.
    pub fn transport(self) -> Transport {
        match self {
            TransportKind::Tls => Transport::Tls,
            TransportKind::Tcp => Transport::Tcp,
            TransportKind::Udp => Transport::Udp,
        }
    }

    /// The default port for the transport (5061 for TLS, 5060 otherwise).
    pub fn default_port(self) -> u16 {
        match self {
            TransportKind::Tls => 5061,
            TransportKind::Tcp | TransportKind::Udp => 5060,
        }
    }
}

/// How the account proves itself to the registrar.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(tag = "method", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AuthConfig {
    /// No SIP-level credentials (e.g. the TLS client certificate is the credential).
    #[default]
    None,
    /// HTTP Digest (RFC 7616/8760: MD5 or SHA-256, chosen from the challenge).
    Digest {
        /// The user name; defaults to the AOR's user part.
        username: Option<String>,
        /// The password, inline. Prefer `password_file`.
        password: Option<String>,
        /// A file whose first line is the password (must not be readable by others).
        password_file: Option<PathBuf>,
    },
    /// A static Bearer token (RFC 8898) read from a file.
    Bearer {
        /// A file holding the access token.
        token_file: PathBuf,
    },
    /// OAuth 2.0 bearer tokens (RFC 8898, Cisco SIP OAuth) obtained with `lockphone login`,
    /// kept encrypted, refreshed before they expire. See [`crate::oauth`].
    #[serde(rename = "oauth")]
    OAuth(OAuthConfig),
}

/// The OAuth settings of an account (`method = "oauth"`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuthConfig {
    /// The authorization server's issuer URL (RFC 8414 discovery). When absent, the
    /// registrar's Bearer challenge names it (`authz_server`), followed only over TLS.
    pub issuer: Option<String>,
    /// The client ID registered for Lockphone at the authorization server.
    pub client_id: String,
    /// The scopes asked for (default `["sip"]`).
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The login flow `lockphone login` uses without `--device-code`/`--browser`.
    #[serde(default)]
    pub flow: OAuthFlow,
    /// The encrypted token file; default `$XDG_CONFIG_HOME/lockphone/oauth/<account>.tokens`.
    /// Its key is in the same folder (`<name>.key`, mode 0600).
    pub token_store: Option<PathBuf>,
    /// The port of the loopback redirect listener of the browser flow (0: any free port).
    #[serde(default)]
    pub redirect_port: u16,
}

/// How `lockphone login` obtains the first token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum OAuthFlow {
    /// Device authorization grant (RFC 8628): a code to enter on another device.
    #[default]
    DeviceCode,
    /// Authorization code + PKCE with a loopback redirect (RFC 7636, RFC 8252).
    Browser,
}

/// A preset of settings for a kind of server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Profile {
    /// No preset.
    #[default]
    Standard,
    /// Cisco CUCM SIP OAuth: TLS to port 5090 (unless the registrar names a port), server-only
    /// TLS authentication (no client certificate), `method = "oauth"`, Digest refused.
    Cucm,
}

fn default_scopes() -> Vec<String> {
    vec!["sip".to_owned()]
}

/// TLS settings of an account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// PEM file (or folder of PEM files) with the CA certificates trusted for the server.
    pub ca_file: Option<PathBuf>,
    /// Also trust the operating system's root store.
    #[serde(default)]
    pub system_roots: bool,
    /// PEM certificate chain presented when the server asks for a client certificate.
    pub client_certificate: Option<PathBuf>,
    /// PEM private key of the client certificate (mode 0600 or stricter).
    pub client_key: Option<PathBuf>,
    /// The name the server certificate must carry; defaults to the registrar's host.
    pub server_name: Option<String>,
    /// Whether a wildcard dNSName (`*.example.test`) may identify the server: true follows
    /// RFC 9525 (the default), false the strict SIP rules of RFC 5922.
    #[serde(default = "default_true")]
    pub allow_wildcards: bool,
    /// SHA-256 fingerprints of server certificates to accept even without a CA (headless
    /// pinning; hex, colons optional).
    #[serde(default)]
    pub pinned_sha256: Vec<String>,
    /// The trust store file ("Always trust" decisions); default
    /// `$XDG_CONFIG_HOME/lockphone/trusted-servers.json`.
    pub trust_store: Option<PathBuf>,
    /// What the CLI does with a certificate nothing vouches for (no CA, pin or stored
    /// decision): `refuse` (default: asked on a terminal, refused headless) or `never-ask`.
    #[serde(default)]
    pub untrusted: UntrustedPolicy,
}

/// What the command line does with a certificate that needs the user's trust decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UntrustedPolicy {
    /// Ask on a terminal ([A]lways trust / [C]ontinue / Cancel); refuse when no one can be
    /// asked (stdin or stderr not a terminal, or `--json`).
    #[default]
    Refuse,
    /// Refuse without asking, even on a terminal.
    NeverAsk,
}

impl Default for TlsConfig {
    fn default() -> TlsConfig {
        TlsConfig {
            ca_file: None,
            system_roots: false,
            client_certificate: None,
            client_key: None,
            server_name: None,
            allow_wildcards: true,
            pinned_sha256: Vec::new(),
            trust_store: None,
            untrusted: UntrustedPolicy::default(),
        }
    }
}

/// CUCM's SIP OAuth port (`sipOAuthPort`: TLS, server-only authentication).
pub const CUCM_OAUTH_PORT: u16 = 5090;

/// CAPF enrollment settings of an account (`[account.capf]`): where `lockphone enroll` gets
/// the account's LSC from, and where it is kept.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapfConfig {
    /// The CAPF server, `host` or `host:port` (port 3804 by default).
    pub server: Option<String>,
    /// The device name the administrator configured (e.g. `SEP0A0B0C0D0E0F`, `CSFALICE`).
    pub device: Option<String>,
    /// PEM file with the CAPF server's certificate or its issuer (the pin).
    pub server_certificate: Option<PathBuf>,
    /// The folder holding the LSC and its key; default
    /// `$XDG_CONFIG_HOME/lockphone/certificates/<account name>`.
    pub certificate_store: Option<PathBuf>,
    /// Renew (existing-certificate mode) once this share of the LSC's lifetime has passed.
    #[serde(default = "default_renew_after")]
    pub renew_after: f64,
    /// The CAPF VERSION to send; default: echo the server's.
    pub version: Option<u8>,
    /// RSA signature padding in existing-certificate mode: "unprefixed" (default) or
    /// "digest-info".
    #[serde(default)]
    pub rsa_signature: crate::capf::keys::RsaSignatureForm,
    /// Send REQUEST_IN_PROGRESS before generating the key (default true).
    #[serde(default = "default_true")]
    pub request_in_progress: bool,
}

fn default_renew_after() -> f64 {
    crate::capf::store::DEFAULT_RENEW_AFTER
}

fn default_expires() -> u32 {
    3600
}

fn default_true() -> bool {
    true
}

fn default_keepalive() -> u64 {
    30
}

/// One account.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// A short name to select the account with `--account`.
    pub name: String,
    /// The address of record, e.g. `sip:alice@example.test`.
    pub aor: String,
    /// The display name put in `From`.
    pub display_name: Option<String>,
    /// The registrar / outbound proxy URI; defaults to the AOR's domain.
    pub registrar: Option<String>,
    /// `tls` (default), `tcp` or `udp`.
    #[serde(default)]
    pub transport: TransportKind,
    /// Whether to REGISTER at all.
    #[serde(default = "default_true")]
    pub register: bool,
    /// Registration lifetime asked for, in seconds.
    #[serde(default = "default_expires")]
    pub expires: u32,
    /// Seconds between CRLF keep-alive pings on TCP/TLS (0 disables them).
    #[serde(default = "default_keepalive")]
    pub keepalive_interval: u64,
    /// A preset: `"standard"` (default) or `"cucm"` (see [`Profile::Cucm`]).
    #[serde(default)]
    pub profile: Profile,
    /// Authentication.
    #[serde(default)]
    pub auth: AuthConfig,
    /// TLS settings.
    #[serde(default)]
    pub tls: TlsConfig,
    /// Calls: SRTP policy, codecs, downgrade policy, listener.
    #[serde(default)]
    pub calls: super::CallsConfig,
    /// CAPF enrollment settings.
    pub capf: Option<CapfConfig>,
}

impl AccountConfig {
    fn invalid(&self, field: &'static str, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid {
            account: self.name.clone(),
            field,
            reason: reason.into(),
        }
    }

    /// Checks every field that can be checked without touching files.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let aor = self.aor_uri()?;
        if aor.user.is_none() {
            return Err(self.invalid("aor", "needs a user part, e.g. sip:alice@example.test"));
        }
        self.registrar_uri()?;
        if self.expires == 0 {
            return Err(self.invalid("expires", "must be at least 1 second"));
        }
        if self.tls.client_certificate.is_some() != self.tls.client_key.is_some() {
            return Err(self.invalid(
                "tls",
                "client_certificate and client_key must be given together",
            ));
        }
        if let AuthConfig::Digest {
            password: None,
            password_file: None,
            ..
        } = &self.auth
        {
            return Err(self.invalid("auth", "digest needs `password` or `password_file`"));
        }
        if let Some(capf) = &self.capf
            && !(capf.renew_after > 0.0 && capf.renew_after <= 1.0)
        {
            return Err(self.invalid("capf", "renew_after must be in (0, 1], e.g. 0.67"));
        }
        if self.transport != TransportKind::Tls && self.tls.client_certificate.is_some() {
            return Err(self.invalid("tls", "a client certificate needs transport = \"tls\""));
        }
        if let AuthConfig::OAuth(oauth) = &self.auth
            && oauth.client_id.trim().is_empty()
        {
            return Err(self.invalid("auth", "oauth needs a client_id"));
        }
        if self.profile == Profile::Cucm {
            self.validate_cucm()?;
        }
        Ok(())
    }

    /// The CUCM preset: TLS, server-only authentication, OAuth on, Digest off.
    fn validate_cucm(&self) -> Result<(), ConfigError> {
        if self.transport != TransportKind::Tls {
            return Err(self.invalid("transport", "profile \"cucm\" needs transport = \"tls\""));
        }
        if self.tls.client_certificate.is_some() {
            return Err(self.invalid(
                "tls",
                "profile \"cucm\" uses server-only TLS authentication: remove client_certificate",
            ));
        }
        if !matches!(self.auth, AuthConfig::OAuth(_)) {
            return Err(self.invalid(
                "auth",
                "profile \"cucm\" needs method = \"oauth\" (CUCM SIP OAuth refuses Digest)",
            ));
        }
        Ok(())
    }

    /// The folder of the account's LSC (`capf.certificate_store`, or the default per account).
    pub fn certificate_store(&self) -> Result<PathBuf, ConfigError> {
        match self.capf.as_ref().and_then(|c| c.certificate_store.clone()) {
            Some(dir) => Ok(dir),
            None => crate::capf::store::LscStore::default_dir(&self.name)
                .map_err(|e| self.invalid("capf", e.to_string())),
        }
    }

    /// The AOR as a URI.
    pub fn aor_uri(&self) -> Result<Uri, ConfigError> {
        self.aor
            .parse::<Uri>()
            .map_err(|e| self.invalid("aor", e.to_string()))
    }

    /// The registrar URI, with `transport=` set from the account's transport.
    pub fn registrar_uri(&self) -> Result<Uri, ConfigError> {
        let mut uri = match &self.registrar {
            Some(text) => text
                .parse::<Uri>()
                .map_err(|e| self.invalid("registrar", e.to_string()))?,
            None => {
                let aor = self.aor_uri()?;
                let mut uri = Uri::new(aor.scheme, aor.host);
                uri.port = aor.port;
                uri
            }
        };
        uri.user = None;
        uri.password = None;
        if self.profile == Profile::Cucm && uri.port.is_none() {
            uri.port = Some(CUCM_OAUTH_PORT);
        }
        if uri.scheme == Scheme::Sips && self.transport != TransportKind::Tls {
            return Err(self.invalid("registrar", "a sips: registrar needs transport = \"tls\""));
        }
        uri.params
            .retain(|p| !p.name.eq_ignore_ascii_case("transport"));
        if uri.scheme == Scheme::Sip {
            let name = self.transport.transport().as_str().to_ascii_lowercase();
            uri.params.push(Param::new("transport", name));
        }
        Ok(uri)
    }

    /// The keep-alive interval, if enabled.
    pub fn keepalive(&self) -> Option<Duration> {
        (self.keepalive_interval > 0).then(|| Duration::from_secs(self.keepalive_interval))
    }

    /// Makes relative paths absolute against `base`.
    pub(crate) fn resolve_paths(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        for p in [
            &mut self.tls.ca_file,
            &mut self.tls.client_certificate,
            &mut self.tls.client_key,
            &mut self.calls.listen_certificate,
            &mut self.calls.listen_key,
        ]
        .into_iter()
        .flatten()
        {
            fix(p);
        }
        if let Some(capf) = &mut self.capf {
            for p in [&mut capf.server_certificate, &mut capf.certificate_store]
                .into_iter()
                .flatten()
            {
                fix(p);
            }
        }
        match &mut self.auth {
            AuthConfig::Digest {
                password_file: Some(p),
                ..
            } => fix(p),
            AuthConfig::Bearer { token_file } => fix(token_file),
            AuthConfig::OAuth(OAuthConfig {
                token_store: Some(p),
                ..
            }) => fix(p),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigError};

    #[test]
    fn unknown_keys_are_errors() {
        let err = Config::from_toml(
            "[[account]]\nname = \"a\"\naor = \"sip:a@example.test\"\npasword = \"x\"\n",
        )
        .unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
        assert!(err.to_string().contains("pasword"), "{err}");
    }

    #[test]
    fn digest_without_password_is_refused() {
        let err = Config::from_toml(
            "[[account]]\nname = \"a\"\naor = \"sip:a@example.test\"\n[account.auth]\nmethod = \"digest\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("password"), "{err}");
    }

    #[test]
    fn registrar_defaults_to_aor_domain_with_transport() {
        let config = Config::from_toml(
            "[[account]]\nname = \"a\"\naor = \"sip:a@example.test:5062\"\ntransport = \"tcp\"\n",
        )
        .unwrap();
        let uri = config.accounts[0].registrar_uri().unwrap();
        assert_eq!(uri.to_string(), "sip:example.test:5062;transport=tcp");
    }

    #[test]
    fn oauth_and_the_cucm_preset() {
        let base =
            "[[account]]\nname = \"a\"\naor = \"sip:a@cucm.example.test\"\nprofile = \"cucm\"\n";
        let config = Config::from_toml(&format!(
            "{base}[account.auth]\nmethod = \"oauth\"\nclient_id = \"lockphone\"\n"
        ))
        .unwrap();
        let account = &config.accounts[0];
        assert_eq!(
            account.registrar_uri().unwrap().to_string(),
            "sip:cucm.example.test:5090;transport=tls"
        );
        let crate::config::AuthConfig::OAuth(oauth) = &account.auth else {
            panic!("oauth")
        };
        assert_eq!(oauth.scopes, ["sip"]);
        assert_eq!(oauth.flow, crate::config::OAuthFlow::DeviceCode);
        for (extra, field) in [
            (
                "[account.auth]\nmethod = \"digest\"\npassword = \"x\"\n",
                "auth",
            ),
            (
                "transport = \"tcp\"\n[account.auth]\nmethod = \"oauth\"\nclient_id = \"c\"\n",
                "transport",
            ),
            (
                "[account.auth]\nmethod = \"oauth\"\nclient_id = \"c\"\n[account.tls]\nclient_certificate = \"c.pem\"\nclient_key = \"k.pem\"\n",
                "tls",
            ),
        ] {
            let err = Config::from_toml(&format!("{base}{extra}")).unwrap_err();
            assert!(
                matches!(&err, ConfigError::Invalid { field: f, .. } if *f == field),
                "{err}"
            );
        }
        let err = Config::from_toml(&format!(
            "{base}[account.auth]\nmethod = \"oauth\"\nclient_id = \"c\"\nscope = \"sip\"\n"
        ))
        .unwrap_err();
        assert!(err.to_string().contains("scope"), "{err}");
    }

    #[test]
    fn certificate_without_key_is_refused() {
        let err = Config::from_toml(
            "[[account]]\nname = \"a\"\naor = \"sip:a@example.test\"\n[account.tls]\nclient_certificate = \"c.pem\"\n",
        )
        .unwrap_err();
        assert!(err.to_string().contains("client_key"), "{err}");
    }
}
