//! [`Directory`]: the contacts of an account, from its config file and its LDAP directory.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::cache::ResultCache;
use super::error::ContactsError;
use super::ldap::LdapSearcher;
use super::local::matches;
use super::{Contact, ContactSource};
use crate::config::AccountConfig;
use crate::tls::{CertificateSummary, TlsError};

/// The contacts of one account. Cheap to clone; safe to share between tasks.
#[derive(Debug, Clone)]
pub struct Directory {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    local: Vec<Contact>,
    ldap: Option<LdapSearcher>,
    cache: ResultCache,
}

impl Directory {
    /// The contacts of `account`: its `[[account.contacts]]` and, when `[account.directory]`
    /// is set, its LDAP directory. Reads the password file and builds the TLS configuration;
    /// nothing is sent until [`Directory::search`].
    pub fn from_config(account: &AccountConfig) -> Result<Directory, ContactsError> {
        let mut local = Vec::with_capacity(account.contacts.len());
        for entry in &account.contacts {
            entry
                .check()
                .map_err(|(field, reason)| ContactsError::Config { field, reason })?;
            local.push(Contact {
                name: entry.name.clone(),
                sip_uri: entry.sip_uri.clone(),
                phone: entry.phone.clone(),
                source: ContactSource::Config,
            });
        }
        local.sort_by_key(|c| c.name.to_lowercase());
        let (ldap, ttl) = match &account.directory {
            Some(config) => {
                config
                    .check()
                    .map_err(|(field, reason)| ContactsError::Config { field, reason })?;
                let tls = directory_tls(account)?;
                (
                    Some(LdapSearcher::new(config, tls)?),
                    Duration::from_secs(config.cache_secs),
                )
            }
            None => (None, Duration::ZERO),
        };
        Ok(Directory {
            inner: Arc::new(Inner {
                local,
                ldap,
                cache: ResultCache::new(ttl),
            }),
        })
    }

    /// Whether an LDAP directory is configured.
    pub fn has_directory(&self) -> bool {
        self.inner.ldap.is_some()
    }

    /// The directory server as `host:port`, when one is configured.
    pub fn server(&self) -> Option<&str> {
        self.inner.ldap.as_ref().map(LdapSearcher::server)
    }

    /// The contacts of the config file, sorted by name.
    pub fn config_contacts(&self) -> &[Contact] {
        &self.inner.local
    }

    /// The config file's contacts matching `text` (no network; for completion as one types).
    pub fn search_local(&self, text: &str) -> Vec<Contact> {
        self.inner
            .local
            .iter()
            .filter(|c| matches(c, text))
            .cloned()
            .collect()
    }

    /// The directory's contacts matching `text` (the configured filter), from the cache when
    /// the same text was searched within `cache_secs`. Empty text and no directory: none.
    pub async fn search_directory(&self, text: &str) -> Result<Vec<Contact>, ContactsError> {
        let Some(ldap) = &self.inner.ldap else {
            return Ok(Vec::new());
        };
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        if let Some(hit) = self.inner.cache.get(text, Instant::now()) {
            return Ok(hit);
        }
        let found = ldap.search(text).await?;
        self.inner.cache.put(text, &found, Instant::now());
        Ok(found)
    }

    /// Every contact matching `text`: the config file's first, then the directory's that are
    /// not already listed (same SIP URI, or same name and phone). Empty text lists the
    /// config file's contacts only. A directory failure is an error (the config matches
    /// are still available from [`Directory::search_local`]).
    pub async fn search(&self, text: &str) -> Result<Vec<Contact>, ContactsError> {
        let mut all = self.search_local(text);
        for contact in self.search_directory(text).await? {
            if !all.iter().any(|known| known.same_as(&contact)) {
                all.push(contact);
            }
        }
        Ok(all)
    }

    /// The directory server's certificate that was last refused for a reason the user may
    /// override (unknown issuer, name mismatch), to show in a trust prompt.
    pub fn pending_decision(&self) -> Option<CertificateSummary> {
        let ldap = self.inner.ldap.as_ref()?;
        ldap.tls().pending_decision(ldap.host())
    }

    /// Forgets the cached directory results (e.g. after the user changed trust settings).
    pub fn clear_cache(&self) {
        self.inner.cache.clear();
    }
}

/// The account's TLS rules for the directory: its anchors plus `directory.ca_file`, its
/// identity policy, pins, trust store, revocation policy and Common Criteria rules; never a
/// client certificate.
fn directory_tls(account: &AccountConfig) -> Result<crate::tls::ClientTls, ContactsError> {
    let tls_error = |source: TlsError| ContactsError::Config {
        field: "tls",
        reason: source.to_string(),
    };
    let mut anchors = crate::ua::setup::account_anchors(account).map_err(tls_error)?;
    if let Some(extra) = account.directory.as_ref().and_then(|d| d.ca_file.as_ref()) {
        anchors
            .add_pem_file(extra)
            .map_err(|e| ContactsError::Config {
                field: "directory.ca_file",
                reason: e.to_string(),
            })?;
    }
    let builder = crate::ua::setup::service_tls(account, anchors);
    builder.build().map_err(|e| match e {
        TlsError::NoTrustAnchors => ContactsError::Config {
            field: "directory.ca_file",
            reason: "no CA to check the directory's certificate with: set directory.ca_file or tls.ca_file (or tls.system_roots = true)".to_owned(),
        },
        other => tls_error(other),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}
    fn assert_shareable<T: Send + Sync + Clone + 'static>() {}

    #[test]
    fn a_directory_and_its_searches_can_move_between_tasks() {
        assert_shareable::<Directory>();
        let config = crate::config::Config::from_toml(
            "[[account]]\nname = \"a\"\naor = \"sip:a@example.test\"\n[[account.contacts]]\nname = \"Bob\"\nphone = \"+1 555 0100\"\n",
        )
        .unwrap();
        let directory = Directory::from_config(config.account(None).unwrap()).unwrap();
        let search = directory.search("bob");
        assert_send(&search);
        assert!(!directory.has_directory());
        assert_eq!(directory.server(), None);
        assert_eq!(directory.search_local("0100").len(), 1);
    }
}
