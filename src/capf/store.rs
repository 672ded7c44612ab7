//! The account's certificate store: the LSC (`lsc.crt`, PEM) and its private key (`lsc.key`,
//! PKCS#8 PEM), both mode 0600 in a 0700 folder, written atomically (a crash leaves the old
//! pair or the new pair, never a mix: the key is renamed into place before the certificate,
//! and the certificate is what marks an LSC as installed).
//!
//! The default folder is `$XDG_CONFIG_HOME/lockphone/certificates/<account or device>`; an
//! account's TLS setup presents the LSC found there when it has no explicit
//! `tls.client_certificate`.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use super::check::{CertificateInfo, certificate_info, unix};
use super::keys::{DeviceKey, KeyKind, pem_block};
use crate::user_files::{create_private_dir, lockphone_config_dir, write_private_atomic};

/// The certificate file's name in the store.
pub const CERTIFICATE_FILE: &str = "lsc.crt";
/// The key file's name in the store.
pub const KEY_FILE: &str = "lsc.key";

/// Why the store could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing failed.
    #[error("certificate store {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A stored file is not what it should be.
    #[error("certificate store {path}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The key file may be read by others.
    #[error("{0}")]
    Permissions(String),
    /// Neither XDG_CONFIG_HOME nor HOME is set.
    #[error(
        "cannot find a place for the certificate store: set XDG_CONFIG_HOME or HOME, or give a folder"
    )]
    NoConfigDir,
}

/// An installed LSC with its key.
#[derive(Debug)]
pub struct StoredLsc {
    /// The DER certificate.
    pub certificate: Vec<u8>,
    /// Its private key.
    pub key: DeviceKey,
    /// What the certificate says.
    pub info: CertificateInfo,
}

/// What `enroll --status` shows.
#[derive(Debug, Clone, Serialize)]
pub struct LscStatus {
    /// The store folder.
    pub store: PathBuf,
    /// The certificate, when one is installed.
    pub certificate: Option<CertificateInfo>,
    /// The key type and size.
    pub key: Option<KeyKind>,
    /// Seconds until expiry (negative: expired).
    pub expires_in_secs: Option<i64>,
    /// Whether renewal is due by the configured share of the lifetime.
    pub renewal_due: bool,
}

/// One certificate store folder.
#[derive(Debug, Clone)]
pub struct LscStore {
    dir: PathBuf,
}

/// Whether `share` (0–1) of the certificate's lifetime has passed at `now`: time to renew.
/// The reference cites renewal after 2/3 of the lifetime (the default share).
pub fn renewal_due(info: &CertificateInfo, share: f64, now: SystemTime) -> bool {
    let lifetime = (info.not_after_unix - info.not_before_unix).max(0) as f64;
    let share = if share.is_finite() {
        share.clamp(0.0, 1.0)
    } else {
        2.0 / 3.0
    };
    let due_at = info.not_before_unix as f64 + lifetime * share;
    unix(now) as f64 >= due_at
}

/// The default share of the lifetime after which the LSC is renewed.
pub const DEFAULT_RENEW_AFTER: f64 = 2.0 / 3.0;

impl LscStore {
    /// The store in `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> LscStore {
        LscStore { dir: dir.into() }
    }

    /// `$XDG_CONFIG_HOME/lockphone/certificates/<name>` (or `~/.config/...`).
    pub fn default_dir(name: &str) -> Result<PathBuf, StoreError> {
        let base = lockphone_config_dir().ok_or(StoreError::NoConfigDir)?;
        let safe: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        Ok(base.join("certificates").join(safe))
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The certificate file.
    pub fn certificate_path(&self) -> PathBuf {
        self.dir.join(CERTIFICATE_FILE)
    }

    /// The key file.
    pub fn key_path(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    /// Whether an LSC is installed.
    pub fn has_certificate(&self) -> bool {
        self.certificate_path().exists()
    }

    /// The installed certificate (DER), without touching the key.
    pub fn load_certificate(&self) -> Result<Option<Vec<u8>>, StoreError> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let path = self.certificate_path();
        let text = match std::fs::read(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StoreError::Io { path, source }),
        };
        let cert = CertificateDer::from_pem_slice(&text).map_err(|e| StoreError::Corrupt {
            path: path.clone(),
            reason: format!("no PEM certificate: {e}"),
        })?;
        Ok(Some(cert.as_ref().to_vec()))
    }

    /// The installed LSC and key, if any. The key file must be private.
    pub fn load(&self) -> Result<Option<StoredLsc>, StoreError> {
        let Some(certificate) = self.load_certificate()? else {
            return Ok(None);
        };
        let key_path = self.key_path();
        crate::tls::check_private(&key_path).map_err(|e| StoreError::Permissions(e.to_string()))?;
        let text = std::fs::read_to_string(&key_path).map_err(|source| StoreError::Io {
            path: key_path.clone(),
            source,
        })?;
        let key = DeviceKey::from_pem(&text).map_err(|e| StoreError::Corrupt {
            path: key_path.clone(),
            reason: e.to_string(),
        })?;
        let info = certificate_info(&certificate).map_err(|reason| StoreError::Corrupt {
            path: self.certificate_path(),
            reason,
        })?;
        let (_, cert) = <x509_parser::prelude::X509Certificate<'_> as x509_parser::prelude::FromDer<'_, _>>::from_der(&certificate)
            .map_err(|e| StoreError::Corrupt {
                path: self.certificate_path(),
                reason: e.to_string(),
            })?;
        if cert.public_key().raw != key.spki() {
            return Err(StoreError::Corrupt {
                path: key_path,
                reason: "the key does not belong to the certificate".to_owned(),
            });
        }
        Ok(Some(StoredLsc {
            certificate,
            key,
            info,
        }))
    }

    /// Installs a certificate with its key, replacing any previous pair.
    pub fn save(&self, certificate: &[u8], key: &DeviceKey) -> Result<(), StoreError> {
        create_private_dir(&self.dir).map_err(|source| StoreError::Io {
            path: self.dir.clone(),
            source,
        })?;
        let write = |path: PathBuf, bytes: &[u8]| {
            write_private_atomic(&path, bytes).map_err(|source| StoreError::Io { path, source })
        };
        write(self.key_path(), key.pkcs8_pem().as_bytes())?;
        write(
            self.certificate_path(),
            pem_block("CERTIFICATE", certificate).as_bytes(),
        )
    }

    /// Removes the LSC and its key; `false` when there was none.
    pub fn delete(&self) -> Result<bool, StoreError> {
        let existed = self.has_certificate();
        for path in [self.certificate_path(), self.key_path()] {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => return Err(StoreError::Io { path, source }),
            }
        }
        Ok(existed)
    }

    /// What is installed, and whether it is due for renewal.
    pub fn status(&self, renew_after: f64, now: SystemTime) -> Result<LscStatus, StoreError> {
        let loaded = self.load()?;
        Ok(match loaded {
            Some(lsc) => LscStatus {
                store: self.dir.clone(),
                expires_in_secs: Some(lsc.info.not_after_unix - unix(now)),
                renewal_due: renewal_due(&lsc.info, renew_after, now),
                key: Some(lsc.key.kind()),
                certificate: Some(lsc.info),
            },
            None => LscStatus {
                store: self.dir.clone(),
                certificate: None,
                key: None,
                expires_in_secs: None,
                renewal_due: false,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(not_before: i64, not_after: i64) -> CertificateInfo {
        CertificateInfo {
            subject: String::new(),
            issuer: String::new(),
            serial: String::new(),
            not_before: String::new(),
            not_after: String::new(),
            not_before_unix: not_before,
            not_after_unix: not_after,
            sha256: String::new(),
            md5: String::new(),
        }
    }

    #[test]
    fn renewal_is_due_after_the_configured_share() {
        let at = |s: u64| SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(s);
        let lsc = info(1000, 4000);
        assert!(!renewal_due(&lsc, DEFAULT_RENEW_AFTER, at(2999)));
        assert!(renewal_due(&lsc, DEFAULT_RENEW_AFTER, at(3000)));
        assert!(!renewal_due(&lsc, 0.9, at(3000)));
        assert!(renewal_due(&lsc, 0.5, at(2500)));
    }
}
