//! The account configuration file (TOML).
//!
//! One file holds every account; unknown keys are errors so a typo never silently weakens
//! security. `examples/lockphone.toml` documents every field.
//!
//! ```
//! use lockphone::config::Config;
//!
//! let config: Config = Config::from_toml(r#"
//!     [[account]]
//!     name = "alice"
//!     aor = "sip:alice@example.test"
//!     [account.auth]
//!     method = "digest"
//!     password = "secret"
//! "#).unwrap();
//! assert_eq!(config.accounts[0].registrar_uri().unwrap().to_string(), "sip:example.test;transport=tls");
//! ```

mod account;
mod calls;

pub use account::{
    AccountConfig, AuthConfig, CUCM_OAUTH_PORT, CapfConfig, OAuthConfig, OAuthFlow, Profile,
    TlsConfig, TransportKind, UntrustedPolicy,
};
pub use calls::{CallsConfig, SrtpMode};

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why the configuration could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown or mistyped keys.
    #[error("invalid config{}: {message}", path.as_ref().map(|p| format!(" {}", p.display())).unwrap_or_default())]
    Syntax {
        /// The file, when read from one.
        path: Option<PathBuf>,
        /// What the TOML parser said (it names the line and the key).
        message: String,
    },
    /// A value is present but not acceptable.
    #[error("account `{account}`: {field}: {reason}")]
    Invalid {
        /// The account name.
        account: String,
        /// The offending field.
        field: &'static str,
        /// What is wrong and what to do.
        reason: String,
    },
    /// No account with the requested name.
    #[error("no account named `{0}` in the config (names: {1})")]
    NoSuchAccount(String, String),
    /// The file has no account at all.
    #[error("the config has no [[account]]")]
    NoAccounts,
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The accounts (`[[account]]` tables).
    #[serde(rename = "account", default)]
    pub accounts: Vec<AccountConfig>,
    /// The folder relative paths in the file are resolved against (set by [`Config::load`]).
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
}

impl Config {
    /// Parses a configuration from TOML text and validates every account.
    pub fn from_toml(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: None,
            message: e.to_string(),
        })?;
        for account in &config.accounts {
            account.validate()?;
        }
        Ok(config)
    }

    /// Reads and parses a configuration file; relative paths inside it are taken relative to
    /// the file's folder.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut config = Config::from_toml(&text).map_err(|e| match e {
            ConfigError::Syntax { message, .. } => ConfigError::Syntax {
                path: Some(path.to_owned()),
                message,
            },
            other => other,
        })?;
        let base = path.parent().map(Path::to_owned).unwrap_or_default();
        for account in &mut config.accounts {
            account.resolve_paths(&base);
        }
        config.base_dir = Some(base);
        Ok(config)
    }

    /// The account called `name`, or the first one when `name` is `None`.
    pub fn account(&self, name: Option<&str>) -> Result<&AccountConfig, ConfigError> {
        match name {
            None => self.accounts.first().ok_or(ConfigError::NoAccounts),
            Some(name) => self
                .accounts
                .iter()
                .find(|a| a.name == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = self.accounts.iter().map(|a| a.name.as_str()).collect();
                    ConfigError::NoSuchAccount(name.to_owned(), names.join(", "))
                }),
        }
    }
}
