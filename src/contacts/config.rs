//! The contact settings of an account: `[[account.contacts]]` entries and the
//! `[account.directory]` LDAP table.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One contact written in the config file (`[[account.contacts]]`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ContactEntry {
    /// The name shown and searched.
    pub name: String,
    /// The SIP address, e.g. `sip:bob@example.test`.
    pub sip_uri: Option<String>,
    /// A phone number, e.g. `+1 555 0100`.
    pub phone: Option<String>,
}

/// Which kind of directory server the defaults are made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DirectoryPreset {
    /// OpenLDAP / inetOrgPerson: name `cn`, SIP URI from `mail`, phone `telephoneNumber`.
    #[default]
    Openldap,
    /// Active Directory: name `displayName`, SIP URI `msRTCSIP-PrimaryUserAddress`, phone
    /// `telephoneNumber`, people only.
    ActiveDirectory,
}

impl DirectoryPreset {
    /// The default search filter (`{q}` is replaced by the escaped search text).
    pub fn default_filter(self) -> &'static str {
        match self {
            DirectoryPreset::Openldap => "(|(cn=*{q}*)(mail=*{q}*)(telephoneNumber=*{q}*))",
            DirectoryPreset::ActiveDirectory => {
                "(&(objectCategory=person)(|(displayName=*{q}*)(cn=*{q}*)(mail=*{q}*)(telephoneNumber=*{q}*)(msRTCSIP-PrimaryUserAddress=*{q}*)))"
            }
        }
    }

    /// The default attribute mapping.
    pub fn default_attributes(self) -> AttributeMap {
        match self {
            DirectoryPreset::Openldap => AttributeMap {
                name: "cn".to_owned(),
                sip_uri: "mail".to_owned(),
                phone: "telephoneNumber".to_owned(),
            },
            DirectoryPreset::ActiveDirectory => AttributeMap {
                name: "displayName".to_owned(),
                sip_uri: "msRTCSIP-PrimaryUserAddress".to_owned(),
                phone: "telephoneNumber".to_owned(),
            },
        }
    }
}

/// Which LDAP attribute holds each field of a contact.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeMap {
    /// The display name attribute.
    pub name: String,
    /// The SIP address attribute; a value without a scheme (e.g. a `mail`) gets `sip:`.
    pub sip_uri: String,
    /// The phone number attribute.
    pub phone: String,
}

/// Partial attribute mapping as written in the file; missing keys come from the preset.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttributeOverrides {
    /// The display name attribute.
    pub name: Option<String>,
    /// The SIP address attribute.
    pub sip_uri: Option<String>,
    /// The phone number attribute.
    pub phone: Option<String>,
}

fn default_cache_secs() -> u64 {
    60
}

fn default_timeout_secs() -> u64 {
    5
}

fn default_size_limit() -> u32 {
    50
}

/// The LDAP directory of an account (`[account.directory]`).
///
/// TLS is mandatory: `ldaps://host` (port 636, or 3269 for an AD global catalog) or
/// `ldap://host` with `starttls = true`. The server certificate is checked like the SIP
/// server's: the account's `tls` anchors, identity policy, pins and trust store.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryConfig {
    /// `ldaps://host[:port]` or `ldap://host[:port]` (the latter only with `starttls`).
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS before anything else is sent.
    #[serde(default)]
    pub starttls: bool,
    /// Where to search, e.g. `ou=people,dc=example,dc=test`.
    pub base_dn: String,
    /// The DN to bind as (simple bind); without it the search is anonymous.
    pub bind_dn: Option<String>,
    /// A file whose first line is the bind password (mode 0600 or stricter).
    pub password_file: Option<PathBuf>,
    /// Extra CA certificates (PEM file or folder) trusted for the directory only, on top of
    /// the account's `tls.ca_file`.
    pub ca_file: Option<PathBuf>,
    /// Defaults for the filter and the attributes: `"openldap"` or `"active-directory"`.
    #[serde(default)]
    pub preset: DirectoryPreset,
    /// The search filter; `{q}` is replaced by the search text escaped per RFC 4515.
    pub filter: Option<String>,
    /// Attribute mapping (missing keys come from the preset).
    #[serde(default)]
    pub attributes: AttributeOverrides,
    /// How long results are reused for the same text, in seconds (0: no cache).
    #[serde(default = "default_cache_secs")]
    pub cache_secs: u64,
    /// Time limit of one search (connect, TLS, bind and search), in seconds.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// At most this many entries per search.
    #[serde(default = "default_size_limit")]
    pub size_limit: u32,
}

impl DirectoryConfig {
    /// The filter with `{q}` still in it.
    pub fn filter_template(&self) -> &str {
        self.filter
            .as_deref()
            .unwrap_or_else(|| self.preset.default_filter())
    }

    /// The attribute mapping (overrides on top of the preset).
    pub fn attribute_map(&self) -> AttributeMap {
        let mut map = self.preset.default_attributes();
        let o = &self.attributes;
        if let Some(v) = &o.name {
            map.name = v.clone();
        }
        if let Some(v) = &o.sip_uri {
            map.sip_uri = v.clone();
        }
        if let Some(v) = &o.phone {
            map.phone = v.clone();
        }
        map
    }

    /// Checks what can be checked without the network; the error names the key and the fix.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        let lower = self.url.to_ascii_lowercase();
        if lower.starts_with("ldap://") {
            if !self.starttls {
                return Err((
                    "directory.url",
                    "plain ldap:// would send the password and the results unencrypted: use ldaps:// or set starttls = true".to_owned(),
                ));
            }
        } else if lower.starts_with("ldaps://") {
            if self.starttls {
                return Err((
                    "directory.starttls",
                    "ldaps:// is already TLS: remove starttls or use ldap://".to_owned(),
                ));
            }
        } else {
            return Err((
                "directory.url",
                format!("`{}` is not ldaps://host or ldap://host", self.url),
            ));
        }
        if self.base_dn.trim().is_empty() {
            return Err(("directory.base_dn", "must name where to search".to_owned()));
        }
        if self.bind_dn.is_some() && self.password_file.is_none() {
            return Err((
                "directory.password_file",
                "bind_dn needs a password_file (mode 0600) holding its password".to_owned(),
            ));
        }
        let filter = self.filter_template();
        if !filter.contains("{q}") {
            return Err((
                "directory.filter",
                "must contain {q} where the search text goes".to_owned(),
            ));
        }
        if !balanced(filter) {
            return Err((
                "directory.filter",
                "must be one parenthesised LDAP filter, e.g. (|(cn=*{q}*)(mail=*{q}*))".to_owned(),
            ));
        }
        if self.timeout_secs == 0 {
            return Err(("directory.timeout_secs", "must be at least 1".to_owned()));
        }
        Ok(())
    }

    /// Makes relative paths absolute against `base`.
    pub(crate) fn resolve_paths(&mut self, base: &Path) {
        for p in [&mut self.password_file, &mut self.ca_file]
            .into_iter()
            .flatten()
        {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
    }
}

impl ContactEntry {
    /// Checks that the entry can be shown and dialled.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if self.name.trim().is_empty() {
            return Err(("contacts.name", "a contact needs a name".to_owned()));
        }
        if self.sip_uri.is_none() && self.phone.is_none() {
            return Err((
                "contacts",
                format!("contact `{}` needs a sip_uri or a phone", self.name),
            ));
        }
        Ok(())
    }
}

/// Whether a filter is one parenthesised expression with balanced parentheses.
fn balanced(filter: &str) -> bool {
    let filter = filter.trim();
    if !filter.starts_with('(') || !filter.ends_with(')') {
        return false;
    }
    let mut depth = 0i32;
    for (i, c) in filter.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 || (depth == 0 && i + 1 != filter.len()) {
                    return false;
                }
            }
            _ => {}
        }
    }
    depth == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory(extra: &str) -> Result<DirectoryConfig, String> {
        toml::from_str::<DirectoryConfig>(&format!(
            "url = \"ldaps://ldap.example.test\"\nbase_dn = \"dc=example,dc=test\"\n{extra}"
        ))
        .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_follow_the_preset() {
        let d = directory("").unwrap();
        assert!(d.check().is_ok());
        assert_eq!(d.attribute_map().name, "cn");
        assert_eq!(d.cache_secs, 60);
        let ad =
            directory("preset = \"active-directory\"\n[attributes]\nphone = \"mobile\"\n").unwrap();
        let map = ad.attribute_map();
        assert_eq!(
            (map.name.as_str(), map.phone.as_str()),
            ("displayName", "mobile")
        );
        assert!(ad.filter_template().contains("objectCategory=person"));
    }

    #[test]
    fn unencrypted_or_broken_settings_are_refused() {
        let plain = toml::from_str::<DirectoryConfig>(
            "url = \"ldap://ldap.example.test\"\nbase_dn = \"dc=x\"\n",
        )
        .unwrap();
        assert_eq!(plain.check().unwrap_err().0, "directory.url");
        let starttls = toml::from_str::<DirectoryConfig>(
            "url = \"ldap://ldap.example.test\"\nstarttls = true\nbase_dn = \"dc=x\"\n",
        )
        .unwrap();
        assert!(starttls.check().is_ok());
        for (extra, key) in [
            ("filter = \"(cn={name})\"", "directory.filter"),
            ("filter = \"(cn={q})(sn={q})\"", "directory.filter"),
            ("filter = \"(cn={q}\"", "directory.filter"),
            ("bind_dn = \"cn=x\"", "directory.password_file"),
            ("starttls = true", "directory.starttls"),
        ] {
            assert_eq!(
                directory(extra).unwrap().check().unwrap_err().0,
                key,
                "{extra}"
            );
        }
        assert!(directory("password = \"x\"").is_err());
    }

    #[test]
    fn a_contact_needs_a_way_to_reach_it() {
        let entry = ContactEntry {
            name: "Bob".to_owned(),
            sip_uri: None,
            phone: None,
        };
        assert!(entry.check().is_err());
        let entry = ContactEntry {
            phone: Some("+1 555".to_owned()),
            ..entry
        };
        assert!(entry.check().is_ok());
    }
}
