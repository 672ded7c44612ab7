//! [`TokenStore`]: the tokens of one account, encrypted at rest.
//!
//! The file holds a JSON envelope with AES-256-GCM ciphertext; the 256-bit key is in a key
//! file next to it (`<name>.key`, mode 0600, created on first save). Both files are written
//! atomically (a private temporary file renamed over the old one) in a 0700 folder. No OS
//! keyring is used: none is reachable without a desktop session bus, and a key file keeps
//! headless use working. The key file protects the tokens from being read out of a copy of the
//! token file alone (a backup, a bug report, a stray `cat`); an attacker who can read the
//! user's files can read both.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use lockphone_sip::auth::Secret;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use super::OAuthError;
use crate::user_files::{create_private_dir, lockphone_config_dir, write_private_atomic};

const FORMAT: &str = "lockphone-oauth-tokens";
const AAD: &[u8] = b"lockphone-oauth-tokens-v1";
const KEY_LEN: usize = 32;

/// The tokens of one login. `Debug` never shows a token.
#[derive(Debug, Clone)]
pub struct TokenSet {
    /// The issuer that issued them.
    pub issuer: String,
    /// The client ID they were issued to.
    pub client_id: String,
    /// The access token (sent to the registrar).
    pub access_token: Secret,
    /// The refresh token, if the server gave one.
    pub refresh_token: Option<Secret>,
    /// When the access token expires (seconds since the Unix epoch), if the server said.
    pub expires_at: Option<u64>,
    /// The access token's lifetime as issued (`expires_in`), seconds.
    pub lifetime_secs: Option<u64>,
    /// The scope granted.
    pub scope: Option<String>,
}

impl TokenSet {
    /// Seconds since the Unix epoch.
    pub fn unix_now() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
    }

    /// How long the access token stays valid from `now` (Unix seconds); `None` if unknown.
    pub fn remaining(&self, now: u64) -> Option<Duration> {
        self.expires_at
            .map(|at| Duration::from_secs(at.saturating_sub(now)))
    }

    /// How long from `now` until the access token should be refreshed: a quarter of its
    /// lifetime before it expires (at least 5 s, at most 5 min before). `None` without a
    /// refresh token or a known expiry.
    pub fn refresh_due(&self, now: u64) -> Option<Duration> {
        self.refresh_token.as_ref()?;
        let expires_at = self.expires_at?;
        let lifetime = self.lifetime_secs.unwrap_or(300);
        let margin = (lifetime / 4).clamp(5, 300);
        Some(Duration::from_secs(
            expires_at.saturating_sub(margin).saturating_sub(now),
        ))
    }
}

/// The stored form (inside the ciphertext).
#[derive(Serialize, Deserialize)]
struct Plain {
    issuer: String,
    client_id: String,
    access_token: String,
    refresh_token: Option<String>,
    expires_at: Option<u64>,
    lifetime_secs: Option<u64>,
    scope: Option<String>,
}

impl Drop for Plain {
    fn drop(&mut self) {
        self.access_token.zeroize();
        if let Some(t) = &mut self.refresh_token {
            t.zeroize();
        }
    }
}

/// The file format around the ciphertext.
#[derive(Serialize, Deserialize)]
struct Envelope {
    format: String,
    version: u32,
    cipher: String,
    nonce: String,
    ciphertext: String,
}

/// The token file of one account and its key file.
#[derive(Debug, Clone)]
pub struct TokenStore {
    path: PathBuf,
    key_path: PathBuf,
}

impl TokenStore {
    /// The store at `path`; its key is `path` with the extension `key`.
    pub fn new(path: impl Into<PathBuf>) -> TokenStore {
        let path = path.into();
        let key_path = path.with_extension("key");
        TokenStore { path, key_path }
    }

    /// The default store of an account: `$XDG_CONFIG_HOME/lockphone/oauth/<account>.tokens`
    /// (`~/.config/…` without XDG_CONFIG_HOME).
    pub fn default_for(account: &str) -> Result<TokenStore, OAuthError> {
        let base = lockphone_config_dir().ok_or_else(|| OAuthError::Store {
            path: PathBuf::from("~/.config/lockphone/oauth"),
            reason: "neither XDG_CONFIG_HOME nor HOME is set: set auth.token_store".into(),
        })?;
        let safe: String = account
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Ok(TokenStore::new(
            base.join("oauth").join(format!("{safe}.tokens")),
        ))
    }

    /// The token file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key file.
    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    fn error(&self, reason: impl Into<String>) -> OAuthError {
        OAuthError::Store {
            path: self.path.clone(),
            reason: reason.into(),
        }
    }

    /// Reads the tokens; `None` when nothing is stored.
    pub fn load(&self) -> Result<Option<TokenSet>, OAuthError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(format!("cannot read: {e}"))),
        };
        let envelope: Envelope = serde_json::from_str(&text)
            .map_err(|_| self.error("not a Lockphone token file: log in again"))?;
        if envelope.format != FORMAT || envelope.version != 1 || envelope.cipher != "AES-256-GCM" {
            return Err(self.error("unknown token file format: log in again"));
        }
        let key = self.read_key()?.ok_or_else(|| {
            self.error(format!(
                "its key file {} is missing: log in again",
                self.key_path.display()
            ))
        })?;
        let nonce: [u8; NONCE_LEN] = B64
            .decode(&envelope.nonce)
            .ok()
            .and_then(|n| n.try_into().ok())
            .ok_or_else(|| self.error("damaged (nonce): log in again"))?;
        let mut data = Zeroizing::new(
            B64.decode(&envelope.ciphertext)
                .map_err(|_| self.error("damaged (ciphertext): log in again"))?,
        );
        let plain = key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(AAD),
                &mut data,
            )
            .map_err(|_| {
                self.error(
                    "cannot be decrypted with its key file (damaged or replaced): log in again",
                )
            })?;
        let plain: Plain = serde_json::from_slice(plain)
            .map_err(|_| self.error("damaged (content): log in again"))?;
        Ok(Some(TokenSet {
            issuer: plain.issuer.clone(),
            client_id: plain.client_id.clone(),
            access_token: Secret::new(plain.access_token.clone()),
            refresh_token: plain.refresh_token.clone().map(Secret::new),
            expires_at: plain.expires_at,
            lifetime_secs: plain.lifetime_secs,
            scope: plain.scope.clone(),
        }))
    }

    /// Encrypts and writes the tokens (atomically, mode 0600), creating the key on first use.
    pub fn save(&self, tokens: &TokenSet) -> Result<(), OAuthError> {
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        create_private_dir(dir)
            .map_err(|e| self.error(format!("cannot create its folder: {e}")))?;
        let key = match self.read_key()? {
            Some(key) => key,
            None => self.create_key()?,
        };
        let plain = Plain {
            issuer: tokens.issuer.clone(),
            client_id: tokens.client_id.clone(),
            access_token: tokens.access_token.expose().to_owned(),
            refresh_token: tokens.refresh_token.as_ref().map(|t| t.expose().to_owned()),
            expires_at: tokens.expires_at,
            lifetime_secs: tokens.lifetime_secs,
            scope: tokens.scope.clone(),
        };
        let mut data = Zeroizing::new(
            serde_json::to_vec(&plain).map_err(|e| self.error(format!("cannot encode: {e}")))?,
        );
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| self.error("no randomness for the nonce"))?;
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(AAD),
            &mut *data,
        )
        .map_err(|_| self.error("encryption failed"))?;
        let envelope = Envelope {
            format: FORMAT.to_owned(),
            version: 1,
            cipher: "AES-256-GCM".to_owned(),
            nonce: B64.encode(nonce),
            ciphertext: B64.encode(&*data),
        };
        let text = serde_json::to_string_pretty(&envelope)
            .map_err(|e| self.error(format!("cannot encode: {e}")))?;
        write_private_atomic(&self.path, text.as_bytes())
            .map_err(|e| self.error(format!("cannot write: {e}")))
    }

    /// Deletes the tokens and their key; whether anything was there.
    pub fn delete(&self) -> Result<bool, OAuthError> {
        let mut existed = false;
        for path in [&self.path, &self.key_path] {
            match std::fs::remove_file(path) {
                Ok(()) => existed = true,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(OAuthError::Store {
                        path: path.clone(),
                        reason: format!("cannot delete: {e}"),
                    });
                }
            }
        }
        Ok(existed)
    }

    fn read_key(&self) -> Result<Option<LessSafeKey>, OAuthError> {
        let text = match std::fs::read_to_string(&self.key_path) {
            Ok(t) => Zeroizing::new(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(format!("cannot read its key file: {e}"))),
        };
        crate::tls::check_private(&self.key_path).map_err(|e| OAuthError::Store {
            path: self.key_path.clone(),
            reason: e.to_string(),
        })?;
        let bytes = Zeroizing::new(
            B64.decode(text.trim())
                .map_err(|_| self.error("its key file is damaged: log in again"))?,
        );
        if bytes.len() != KEY_LEN {
            return Err(self.error("its key file is damaged: log in again"));
        }
        let key = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| self.error("its key file is damaged: log in again"))?;
        Ok(Some(LessSafeKey::new(key)))
    }

    fn create_key(&self) -> Result<LessSafeKey, OAuthError> {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        SystemRandom::new()
            .fill(&mut *bytes)
            .map_err(|_| self.error("no randomness for the key"))?;
        let text = Zeroizing::new(format!("{}\n", B64.encode(*bytes)));
        write_private_atomic(&self.key_path, text.as_bytes())
            .map_err(|e| self.error(format!("cannot write its key file: {e}")))?;
        let key = UnboundKey::new(&AES_256_GCM, &*bytes)
            .map_err(|_| self.error("cannot use the new key"))?;
        Ok(LessSafeKey::new(key))
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn tokens() -> TokenSet {
        TokenSet {
            issuer: "http://127.0.0.1:3000".into(),
            client_id: "softphone".into(),
            access_token: Secret::new("eyJ.access.sig"),
            refresh_token: Some(Secret::new("refresh-XYZ")),
            expires_at: Some(1_000_100),
            lifetime_secs: Some(100),
            scope: Some("sip".into()),
        }
    }

    #[test]
    fn round_trip_encrypted_private_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path().join("sub/alice.tokens"));
        assert!(store.load().unwrap().is_none());
        store.save(&tokens()).unwrap();
        let raw = std::fs::read_to_string(store.path()).unwrap();
        assert!(
            !raw.contains("eyJ.access") && !raw.contains("refresh-XYZ"),
            "{raw}"
        );
        assert!(raw.contains("AES-256-GCM"));
        for p in [store.path(), store.key_path()] {
            let mode = std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", p.display());
        }
        let dir_mode = std::fs::metadata(dir.path().join("sub"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        let back = store.load().unwrap().unwrap();
        assert_eq!(back.access_token.expose(), "eyJ.access.sig");
        assert_eq!(back.refresh_token.unwrap().expose(), "refresh-XYZ");
        assert_eq!(
            (back.expires_at, back.scope.as_deref()),
            (Some(1_000_100), Some("sip"))
        );
        // A second save reuses the key; no temporary files stay behind.
        let key = std::fs::read(store.key_path()).unwrap();
        store.save(&tokens()).unwrap();
        assert_eq!(std::fs::read(store.key_path()).unwrap(), key);
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(store.delete().unwrap());
        assert!(!store.path().exists() && !store.key_path().exists());
        assert!(!store.delete().unwrap());
    }

    #[test]
    fn tampering_or_a_lost_key_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = TokenStore::new(dir.path().join("a.tokens"));
        store.save(&tokens()).unwrap();
        let raw = std::fs::read_to_string(store.path()).unwrap();
        let mut envelope: serde_json::Value = serde_json::from_str(&raw).unwrap();
        let ct = envelope["ciphertext"].as_str().unwrap().to_owned();
        let mut bytes = B64.decode(ct).unwrap();
        bytes[3] ^= 1;
        envelope["ciphertext"] = B64.encode(bytes).into();
        std::fs::write(store.path(), envelope.to_string()).unwrap();
        let err = store.load().unwrap_err();
        assert!(err.to_string().contains("cannot be decrypted"), "{err}");
        assert!(err.needs_login());

        store.save(&tokens()).unwrap();
        std::fs::set_permissions(store.key_path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(store.load().is_err(), "a key readable by others is refused");
        std::fs::remove_file(store.key_path()).unwrap();
        let err = store.load().unwrap_err();
        assert!(err.to_string().contains("key file"), "{err}");
        assert!(!format!("{err:?} {:?}", tokens()).contains("refresh-XYZ"));
    }

    #[test]
    fn refresh_is_due_a_quarter_lifetime_before_expiry() {
        let t = tokens();
        assert_eq!(t.refresh_due(1_000_000), Some(Duration::from_secs(75)));
        assert_eq!(t.refresh_due(1_000_090), Some(Duration::ZERO));
        let short = TokenSet {
            lifetime_secs: Some(20),
            expires_at: Some(1_000_020),
            ..tokens()
        };
        assert_eq!(short.refresh_due(1_000_000), Some(Duration::from_secs(15)));
        let none = TokenSet {
            refresh_token: None,
            ..tokens()
        };
        assert_eq!(none.refresh_due(1_000_000), None);
        assert_eq!(t.remaining(1_000_050), Some(Duration::from_secs(50)));
    }
}
