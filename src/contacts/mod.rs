//! Contacts: from the config file (`[[account.contacts]]`) and from an LDAP directory over
//! TLS (`[account.directory]`: LDAPS or StartTLS, simple bind with a password file, a
//! search filter and attribute mapping, results cached briefly).
//!
//! The directory's certificate is checked exactly like the SIP server's (the same
//! [`crate::tls::verifier::SipServerVerifier`]: the account's anchors plus
//! `directory.ca_file`, identity policy, pins and "Always trust" store), so a refusal carries
//! the same typed [`crate::tls::TlsError`] reason.
//!
//! ```
//! use lockphone::config::Config;
//! use lockphone::contacts::Directory;
//!
//! let config = Config::from_toml(r#"
//!     [[account]]
//!     name = "alice"
//!     aor = "sip:alice@example.test"
//!     [[account.contacts]]
//!     name = "Bob Builder"
//!     sip_uri = "sip:bob@example.test"
//!     phone = "+1 555 0100"
//! "#)?;
//! let directory = Directory::from_config(config.account(None)?)?;
//! let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
//! // With an [account.directory] the same call also searches LDAP (and merges the results).
//! let found = runtime.block_on(directory.search("555 0100"))?;
//! assert_eq!(found[0].name, "Bob Builder");
//! assert_eq!(found[0].dial_target("example.test").as_deref(), Some("sip:bob@example.test"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cache;
mod config;
mod directory;
mod entry;
mod error;
mod filter;
mod ldap;
mod local;

pub use config::{
    AttributeMap, AttributeOverrides, ContactEntry, DirectoryConfig, DirectoryPreset,
};
pub use directory::Directory;
pub use error::ContactsError;
pub use filter::{MAX_QUERY_CHARS, build_filter, escape_filter_value};

use serde::Serialize;

/// Where a contact comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContactSource {
    /// The config file's `[[account.contacts]]`.
    Config,
    /// The LDAP directory.
    Directory,
}

/// A person or place one can call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Contact {
    /// The name shown.
    pub name: String,
    /// The SIP address, when known (e.g. `sip:bob@example.test`).
    pub sip_uri: Option<String>,
    /// The phone number, when known (as written, e.g. `+1 555 0100`).
    pub phone: Option<String>,
    /// Where it comes from.
    pub source: ContactSource,
}

impl Contact {
    /// What to dial: the SIP URI, else the phone number as `sip:NUMBER@domain;user=phone`
    /// (digits and a leading `+` only).
    pub fn dial_target(&self, domain: &str) -> Option<String> {
        if let Some(uri) = &self.sip_uri {
            return Some(uri.clone());
        }
        let phone = self.phone.as_deref()?.trim();
        let mut number: String = phone.chars().filter(char::is_ascii_digit).collect();
        if number.is_empty() {
            return None;
        }
        if phone.starts_with('+') {
            number.insert(0, '+');
        }
        Some(format!("sip:{number}@{domain};user=phone"))
    }

    /// Whether two entries are the same contact (same SIP URI ignoring case, or the same
    /// name and phone).
    pub fn same_as(&self, other: &Contact) -> bool {
        match (&self.sip_uri, &other.sip_uri) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            _ => self.name.eq_ignore_ascii_case(&other.name) && self.phone == other.phone,
        }
    }
}

/// A SIP URI from an address: kept when it has a scheme (`sip:`, `sips:`, `tel:`, any case),
/// `sip:` added otherwise (a `mail` value, a name or number typed in the dial field).
///
/// ```
/// use lockphone::contacts::sip_uri_from;
///
/// assert_eq!(sip_uri_from("bob@example.test"), "sip:bob@example.test");
/// assert_eq!(sip_uri_from("TEL:+15550100"), "TEL:+15550100");
/// ```
pub fn sip_uri_from(value: &str) -> String {
    let has_scheme = ["sip:", "sips:", "tel:"].iter().any(|scheme| {
        value
            .get(..scheme.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(scheme))
    });
    if has_scheme {
        value.to_owned()
    } else {
        format!("sip:{value}")
    }
}

/// Entry points for the fuzz targets (`fuzz/`, built with `--cfg fuzzing` by cargo-fuzz
/// only): directory answers from untrusted bytes, without the network.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    use super::{Contact, DirectoryPreset};

    /// A SearchResultEntry in BER, as `ldap3` reads it, made a contact under each preset's
    /// attribute mapping (none when the bytes are not an entry).
    pub fn contacts_from_ber(ber: &[u8]) -> Vec<Contact> {
        let Ok((_, tag)) = ldap3::asn1::parse_tag(ber) else {
            return Vec::new();
        };
        let Some(entry) = super::entry::Entry::from_tag(tag) else {
            return Vec::new();
        };
        [DirectoryPreset::Openldap, DirectoryPreset::ActiveDirectory]
            .iter()
            .filter_map(|preset| entry.to_contact(&preset.default_attributes()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_targets() {
        let mut carol = Contact {
            name: "Carol".to_owned(),
            sip_uri: None,
            phone: Some("+44 20 7946 0000".to_owned()),
            source: ContactSource::Directory,
        };
        assert_eq!(
            carol.dial_target("example.test").as_deref(),
            Some("sip:+442079460000@example.test;user=phone")
        );
        carol.phone = Some("ext.".to_owned());
        assert_eq!(carol.dial_target("example.test"), None);
    }
}
