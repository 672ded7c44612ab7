//! One directory search over LDAP with TLS: connect (LDAPS, or StartTLS before anything
//! else), simple bind, subtree search, unbind. The TLS configuration is the account's own
//! (`crate::tls::ClientTls`), handed to `ldap3` as a rustls `ClientConfig`.

use std::fmt;
use std::path::Path;
use std::time::Duration;

use ldap3::{LdapConnAsync, LdapConnSettings, LdapError, Scope, SearchOptions};
use zeroize::Zeroizing;

use super::Contact;
use super::config::{AttributeMap, DirectoryConfig};
use super::entry::Entry;
use super::error::ContactsError;
use super::filter::build_filter;
use crate::tls::{ClientTls, TlsError, check_private};

/// LDAP result codes of a partial result, kept as a success.
const RC_SIZE_LIMIT_EXCEEDED: u32 = 4;
const RC_TIME_LIMIT_EXCEEDED: u32 = 3;

/// The bind password, zeroed when dropped and never printed.
struct Password(Zeroizing<String>);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Reads the first line of a private password file.
fn read_password(path: &Path) -> Result<Password, ContactsError> {
    let fail = |reason: String| ContactsError::PasswordFile {
        path: path.to_owned(),
        reason,
    };
    check_private(path).map_err(|e| match e {
        TlsError::KeyPermissions { mode, .. } => fail(format!(
            "readable by other users (mode {mode:o}); run `chmod 600 {}`",
            path.display()
        )),
        other => fail(other.to_string()),
    })?;
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?);
    let line = text
        .lines()
        .next()
        .unwrap_or_default()
        .trim_end_matches('\r');
    if line.is_empty() {
        // An empty password would be an "unauthenticated bind" (RFC 4513 5.1.2): refused.
        return Err(fail(
            "is empty: its first line must be the password".to_owned(),
        ));
    }
    Ok(Password(Zeroizing::new(line.to_owned())))
}

/// Where and how to reach the directory.
#[derive(Debug)]
pub(crate) struct LdapSearcher {
    url: String,
    host: String,
    server: String,
    starttls: bool,
    tls: ClientTls,
    base_dn: String,
    bind: Option<(String, Password)>,
    filter: String,
    attributes: AttributeMap,
    timeout: Duration,
    size_limit: u32,
}

impl LdapSearcher {
    /// Reads the URL and the password file of settings the caller checked
    /// ([`DirectoryConfig::check`], as [`super::Directory::from_config`] does); nothing is
    /// sent yet.
    pub(crate) fn new(
        config: &DirectoryConfig,
        tls: ClientTls,
    ) -> Result<LdapSearcher, ContactsError> {
        let (scheme, rest) = config
            .url
            .split_once("://")
            .ok_or_else(|| bad_url(&config.url))?;
        let secure = scheme.eq_ignore_ascii_case("ldaps");
        let authority = rest.split('/').next().unwrap_or_default();
        let (host, port) = split_host_port(authority, if secure { 636 } else { 389 })
            .ok_or_else(|| bad_url(&config.url))?;
        let bind = match (&config.bind_dn, &config.password_file) {
            (Some(dn), Some(file)) => Some((dn.clone(), read_password(file)?)),
            _ => None,
        };
        let url_host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.clone()
        };
        Ok(LdapSearcher {
            url: format!("{}://{url_host}:{port}", scheme.to_ascii_lowercase()),
            server: format!("{url_host}:{port}"),
            host,
            starttls: config.starttls,
            tls,
            base_dn: config.base_dn.clone(),
            bind,
            filter: config.filter_template().to_owned(),
            attributes: config.attribute_map(),
            timeout: Duration::from_secs(config.timeout_secs),
            size_limit: config.size_limit,
        })
    }

    /// `host:port`, for messages.
    pub(crate) fn server(&self) -> &str {
        &self.server
    }

    /// The host name the server certificate must match.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// The account's TLS client (for pending trust decisions).
    pub(crate) fn tls(&self) -> &ClientTls {
        &self.tls
    }

    /// Searches for `text`, bounded by the configured timeout.
    pub(crate) async fn search(&self, text: &str) -> Result<Vec<Contact>, ContactsError> {
        match tokio::time::timeout(self.timeout, self.search_unbounded(text)).await {
            Ok(result) => result,
            Err(_) => Err(self.timed_out()),
        }
    }

    fn timed_out(&self) -> ContactsError {
        ContactsError::Timeout {
            server: self.server.clone(),
            secs: self.timeout.as_secs(),
        }
    }

    async fn search_unbounded(&self, text: &str) -> Result<Vec<Contact>, ContactsError> {
        let (config, _presented) = self.tls.for_connection();
        let settings = LdapConnSettings::new()
            .set_config(config)
            .set_starttls(self.starttls)
            .set_conn_timeout(self.timeout);
        let (conn, mut ldap) = LdapConnAsync::with_settings(settings, &self.url)
            .await
            .map_err(|e| self.connect_error(e))?;
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!("directory connection ended: {e}");
            }
        });
        tracing::debug!(server = %self.server, starttls = self.starttls, "directory connected over TLS");
        ldap.with_timeout(self.timeout);
        self.check_revocation(&mut ldap).await?;
        if let Some((dn, password)) = &self.bind {
            let result = ldap
                .simple_bind(dn, &password.0)
                .await
                .map_err(|e| self.io_error(e))?;
            if result.rc != 0 {
                return Err(ContactsError::BindRefused {
                    server: self.server.clone(),
                    bind_dn: dn.clone(),
                    reason: describe_result(result.rc, &result.text),
                });
            }
        }
        let filter = build_filter(&self.filter, text);
        let attributes = [
            self.attributes.name.as_str(),
            self.attributes.sip_uri.as_str(),
            self.attributes.phone.as_str(),
        ];
        let size_limit = i32::try_from(self.size_limit).unwrap_or(i32::MAX);
        let result = ldap
            .with_search_options(SearchOptions::new().sizelimit(size_limit))
            .with_timeout(self.timeout)
            .search(&self.base_dn, Scope::Subtree, &filter, attributes.to_vec())
            .await
            .map_err(|e| match e {
                LdapError::FilterParsing => ContactsError::SearchFailed {
                    server: self.server.clone(),
                    reason: "directory.filter is not a valid LDAP filter".to_owned(),
                },
                other => self.io_error(other),
            })?;
        let _ = ldap.unbind().await;
        let (entries, outcome) = (result.0, result.1);
        let partial = [RC_SIZE_LIMIT_EXCEEDED, RC_TIME_LIMIT_EXCEEDED].contains(&outcome.rc);
        if outcome.rc != 0 && !partial {
            return Err(ContactsError::SearchFailed {
                server: self.server.clone(),
                reason: describe_result(outcome.rc, &outcome.text),
            });
        }
        let mut contacts: Vec<Contact> = entries
            .into_iter()
            .filter_map(Entry::parse)
            .filter_map(|entry| entry.to_contact(&self.attributes))
            .collect();
        contacts.sort_by_key(|c| c.name.to_lowercase());
        tracing::debug!(server = %self.server, found = contacts.len(), partial, "directory search done");
        Ok(contacts)
    }

    /// The account's revocation check on the server's chain, before anything is sent (the
    /// handshake ran inside `ldap3`, through our verifier, which kept the chain and staple).
    async fn check_revocation(&self, ldap: &mut ldap3::Ldap) -> Result<(), ContactsError> {
        let tls = |source: TlsError| ContactsError::Tls {
            server: self.server.clone(),
            source,
        };
        let leaf = ldap
            .get_peer_certificate()
            .await
            .map_err(|e| self.io_error(e))?
            .ok_or_else(|| {
                tls(TlsError::Other(
                    "the server presented no certificate".to_owned(),
                ))
            })?;
        let status = self
            .tls
            .check_revocation(&self.host, leaf.into())
            .await
            .map_err(tls)?;
        tracing::debug!(server = %self.server, revocation = %status.describe(), "directory certificate revocation checked");
        Ok(())
    }

    /// Classifies a failure to connect, to upgrade with StartTLS or to finish the handshake.
    fn connect_error(&self, error: LdapError) -> ContactsError {
        let tls = |source: TlsError| ContactsError::Tls {
            server: self.server.clone(),
            source,
        };
        match error {
            LdapError::Io { source } => {
                let is_tls = source
                    .get_ref()
                    .is_some_and(|inner| inner.downcast_ref::<rustls::Error>().is_some());
                if is_tls {
                    tls(TlsError::from_handshake(source, &self.host))
                } else {
                    ContactsError::Unreachable {
                        server: self.server.clone(),
                        reason: source.to_string(),
                    }
                }
            }
            LdapError::Rustls { source } => tls(TlsError::from_rustls(&source, &self.host)),
            LdapError::DNSName { .. } => tls(TlsError::Other(format!(
                "`{}` is not a valid TLS server name",
                self.host
            ))),
            LdapError::LdapResult { result } => tls(TlsError::Other(format!(
                "the server refused StartTLS: {}",
                describe_result(result.rc, &result.text)
            ))),
            LdapError::Timeout { .. } => self.timed_out(),
            other => ContactsError::Unreachable {
                server: self.server.clone(),
                reason: other.to_string(),
            },
        }
    }

    /// Classifies a failure after the connection was up.
    fn io_error(&self, error: LdapError) -> ContactsError {
        match error {
            LdapError::Timeout { .. } => self.timed_out(),
            other => ContactsError::Unreachable {
                server: self.server.clone(),
                reason: format!("the connection failed: {other}"),
            },
        }
    }
}

fn bad_url(url: &str) -> ContactsError {
    ContactsError::Config {
        field: "directory.url",
        reason: format!("`{url}` is not ldaps://host[:port] or ldap://host[:port]"),
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
fn split_host_port(authority: &str, default_port: u16) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return None;
    }
    let port = match port {
        Some(p) => p.parse().ok()?,
        None => default_port,
    };
    Some((host.to_owned(), port))
}

/// An LDAP result for people: the code's name and the server's text.
fn describe_result(rc: u32, text: &str) -> String {
    let name = match rc {
        1 => "operationsError",
        2 => "protocolError",
        8 => "strongerAuthRequired",
        13 => "confidentialityRequired",
        32 => "noSuchObject (check directory.base_dn)",
        34 => "invalidDNSyntax",
        48 => "inappropriateAuthentication",
        49 => "invalidCredentials",
        50 => "insufficientAccessRights",
        51 => "busy",
        52 => "unavailable",
        53 => "unwillingToPerform",
        _ => "error",
    };
    if text.is_empty() {
        format!("{name} ({rc})")
    } else {
        format!("{name} ({rc}): {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_and_port() {
        assert_eq!(
            split_host_port("ldap.example.test", 636),
            Some(("ldap.example.test".to_owned(), 636))
        );
        assert_eq!(
            split_host_port("dc1:3269", 636),
            Some(("dc1".to_owned(), 3269))
        );
        assert_eq!(
            split_host_port("[::1]:1636", 636),
            Some(("::1".to_owned(), 1636))
        );
        assert_eq!(split_host_port(":636", 636), None);
        assert_eq!(split_host_port("h:x", 636), None);
    }

    #[test]
    fn password_files_must_be_private_and_not_empty() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\nignored\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = read_password(&path).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let password = read_password(&path).unwrap();
        assert_eq!(password.0.as_str(), "s3cret");
        assert!(!format!("{password:?}").contains("s3cret"));
        std::fs::write(&path, "\n").unwrap();
        assert!(read_password(&path).is_err());
    }
}
