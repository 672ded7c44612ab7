//! The user's trust store: server certificates the user chose to trust ("Always trust"),
//! keyed by the server identity they were presented for.
//!
//! A JSON file under the user's config folder (`$XDG_CONFIG_HOME/lockphone/trusted-servers.json`
//! or `~/.config/lockphone/…`), written atomically (temporary file, fsync, rename) with mode
//! 0600. A stored server that later presents another certificate is refused
//! ([`StoreVerdict::Changed`]) until the user decides again.
//!
//! ```
//! use lockphone::trust::store::{StoreVerdict, TrustStore, TrustedCertificate};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let mut store = TrustStore::open(&dir.path().join("trusted.json")).unwrap();
//! store.insert(TrustedCertificate::new("sip.example.test", "AA:BB", "CN=sip", "CN=sip", "2030-01-01"));
//! store.save().unwrap();
//! let store = TrustStore::open(&dir.path().join("trusted.json")).unwrap();
//! assert_eq!(store.verdict("sip.example.test", "AA:BB"), StoreVerdict::Trusted);
//! assert!(matches!(store.verdict("sip.example.test", "CC:DD"), StoreVerdict::Changed { .. }));
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::user_files::{create_private_dir, lockphone_config_dir, write_private_atomic};

/// Why the store could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Reading or writing the file failed.
    #[error("trust store {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not a valid trust store.
    #[error("trust store {path} is corrupt ({reason}); fix or remove it")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What the JSON parser said.
        reason: String,
    },
    /// No home or config folder to put the store in.
    #[error("no config folder for the trust store: set XDG_CONFIG_HOME or HOME")]
    NoConfigDir,
}

/// One trusted server certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustedCertificate {
    /// The server identity it was accepted for (the SIP domain or IP we connected to).
    pub identity: String,
    /// SHA-256 fingerprint of the DER certificate (upper-case hex, colon separated).
    pub sha256: String,
    /// Its subject.
    pub subject: String,
    /// Its issuer.
    pub issuer: String,
    /// Its expiry date.
    pub not_after: String,
}

impl TrustedCertificate {
    /// An entry.
    pub fn new(
        identity: &str,
        sha256: &str,
        subject: &str,
        issuer: &str,
        not_after: &str,
    ) -> TrustedCertificate {
        TrustedCertificate {
            identity: identity.to_ascii_lowercase(),
            sha256: sha256.to_ascii_uppercase(),
            subject: subject.to_owned(),
            issuer: issuer.to_owned(),
            not_after: not_after.to_owned(),
        }
    }
}

/// What the store says about a certificate presented for an identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreVerdict {
    /// The user trusts exactly this certificate for this identity.
    Trusted,
    /// The user trusted another certificate for this identity: raise the alarm.
    Changed {
        /// The fingerprint the user trusted.
        stored: String,
    },
    /// The store knows nothing about this identity.
    Unknown,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoreFile {
    #[serde(default)]
    trusted: Vec<TrustedCertificate>,
}

/// The trust store file and its entries.
#[derive(Debug, Clone)]
pub struct TrustStore {
    path: PathBuf,
    entries: Vec<TrustedCertificate>,
}

impl TrustStore {
    /// The default location: `$XDG_CONFIG_HOME/lockphone/trusted-servers.json`, else
    /// `~/.config/lockphone/trusted-servers.json`.
    pub fn default_path() -> Result<PathBuf, StoreError> {
        let base = lockphone_config_dir().ok_or(StoreError::NoConfigDir)?;
        Ok(base.join("trusted-servers.json"))
    }

    /// Opens the store at `path` (empty if the file does not exist yet).
    pub fn open(path: &Path) -> Result<TrustStore, StoreError> {
        let entries = match std::fs::read_to_string(path) {
            Ok(text) => {
                let file: StoreFile =
                    serde_json::from_str(&text).map_err(|e| StoreError::Corrupt {
                        path: path.to_owned(),
                        reason: e.to_string(),
                    })?;
                file.trusted
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => {
                return Err(StoreError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        Ok(TrustStore {
            path: path.to_owned(),
            entries,
        })
    }

    /// The file behind the store.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every entry.
    pub fn entries(&self) -> &[TrustedCertificate] {
        &self.entries
    }

    /// The entry for an identity.
    pub fn get(&self, identity: &str) -> Option<&TrustedCertificate> {
        self.entries
            .iter()
            .find(|e| e.identity.eq_ignore_ascii_case(identity))
    }

    /// What the store says about `sha256` presented for `identity`.
    pub fn verdict(&self, identity: &str, sha256: &str) -> StoreVerdict {
        match self.get(identity) {
            Some(entry) if entry.sha256.eq_ignore_ascii_case(sha256) => StoreVerdict::Trusted,
            Some(entry) => StoreVerdict::Changed {
                stored: entry.sha256.clone(),
            },
            None => StoreVerdict::Unknown,
        }
    }

    /// Adds or replaces the entry of its identity.
    pub fn insert(&mut self, entry: TrustedCertificate) {
        self.entries
            .retain(|e| !e.identity.eq_ignore_ascii_case(&entry.identity));
        self.entries.push(entry);
    }

    /// Removes the entry of `identity`; whether there was one.
    pub fn remove(&mut self, identity: &str) -> bool {
        let before = self.entries.len();
        self.entries
            .retain(|e| !e.identity.eq_ignore_ascii_case(identity));
        before != self.entries.len()
    }

    /// Writes the store atomically with mode 0600 (creating the folder with mode 0700).
    pub fn save(&self) -> Result<(), StoreError> {
        let io = |source| StoreError::Io {
            path: self.path.clone(),
            source,
        };
        let dir = self.path.parent().map(Path::to_owned).unwrap_or_default();
        create_private_dir(&dir).map_err(io)?;
        let file = StoreFile {
            trusted: self.entries.clone(),
        };
        let text = serde_json::to_string_pretty(&file)
            .map_err(|e| io(std::io::Error::other(e.to_string())))?;
        write_private_atomic(&self.path, text.as_bytes()).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(identity: &str, sha: &str) -> TrustedCertificate {
        TrustedCertificate::new(identity, sha, "CN=s", "CN=i", "2030-01-01")
    }

    #[test]
    fn saved_store_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/trusted.json");
        let mut store = TrustStore::open(&path).unwrap();
        assert!(store.entries().is_empty());
        store.insert(entry("Sip.Example.Test", "aa:bb"));
        store.save().unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        let again = TrustStore::open(&path).unwrap();
        assert_eq!(
            again.verdict("sip.example.test", "AA:BB"),
            StoreVerdict::Trusted
        );
        assert!(
            !path.with_extension("json.tmp").exists(),
            "no temporary file left behind"
        );
    }

    #[test]
    fn a_different_certificate_for_a_stored_identity_is_a_change() {
        let mut store = TrustStore::open(Path::new("/nonexistent/lockphone/t.json")).unwrap();
        store.insert(entry("a.test", "11"));
        assert_eq!(
            store.verdict("a.test", "22"),
            StoreVerdict::Changed {
                stored: "11".to_owned()
            }
        );
        assert_eq!(store.verdict("b.test", "11"), StoreVerdict::Unknown);
        store.insert(entry("a.test", "22"));
        assert_eq!(
            store.entries().len(),
            1,
            "insert replaces the identity's entry"
        );
        assert!(store.remove("A.TEST"));
        assert!(!store.remove("a.test"));
    }

    #[test]
    fn a_corrupt_file_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.json");
        std::fs::write(&path, "{ not json").unwrap();
        let err = TrustStore::open(&path).unwrap_err();
        assert!(err.to_string().contains("corrupt"), "{err}");
    }
}
