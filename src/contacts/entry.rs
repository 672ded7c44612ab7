//! Turning a search result entry into a [`Contact`], without trusting its encoding: a
//! malformed entry from the server is skipped, never a panic.

use ldap3::ResultEntry;
use ldap3::asn1::StructureTag;

use super::config::AttributeMap;
use super::{Contact, ContactSource, sip_uri_from};

/// An entry's DN and its text attributes (name, values), as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// The entry's DN.
    pub(crate) dn: String,
    /// Each attribute with its UTF-8 values (binary values are dropped).
    pub(crate) attributes: Vec<(String, Vec<String>)>,
}

impl Entry {
    /// Reads a SearchResultEntry (`[APPLICATION 4]`); `None` for references or bad BER.
    pub(crate) fn parse(result: ResultEntry) -> Option<Entry> {
        Entry::from_tag(result.0)
    }

    pub(super) fn from_tag(tag: StructureTag) -> Option<Entry> {
        let mut parts = tag.match_id(4)?.expect_constructed()?.into_iter();
        let dn = String::from_utf8(parts.next()?.expect_primitive()?).ok()?;
        let mut attributes = Vec::new();
        for attribute in parts.next()?.expect_constructed()? {
            let mut attribute = attribute.expect_constructed()?.into_iter();
            let name = String::from_utf8(attribute.next()?.expect_primitive()?).ok()?;
            let values = attribute
                .next()?
                .expect_constructed()?
                .into_iter()
                .filter_map(|v| String::from_utf8(v.expect_primitive()?).ok())
                .collect();
            attributes.push((name, values));
        }
        Some(Entry { dn, attributes })
    }

    /// The first non-empty value of an attribute (names compare case-insensitively).
    pub(crate) fn first(&self, attribute: &str) -> Option<&str> {
        self.attributes
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(attribute))
            .flat_map(|(_, values)| values.iter())
            .map(|v| v.trim())
            .find(|v| !v.is_empty())
    }

    /// The contact this entry describes; `None` when it has no SIP URI and no phone. Control
    /// characters are dropped from every field: whoever may edit a directory entry must not
    /// reach the terminal that shows it (escape sequences) or the SIP URI dialled.
    pub(crate) fn to_contact(&self, map: &AttributeMap) -> Option<Contact> {
        let field = |attribute: &str| {
            self.first(attribute)
                .map(printable)
                .filter(|v| !v.is_empty())
        };
        let sip_uri = field(&map.sip_uri).map(|v| sip_uri_from(&v));
        let phone = field(&map.phone);
        if sip_uri.is_none() && phone.is_none() {
            return None;
        }
        let name = field(&map.name).unwrap_or_else(|| printable(&rdn_value(&self.dn)));
        Some(Contact {
            name,
            sip_uri,
            phone,
            source: ContactSource::Directory,
        })
    }
}

/// The text without control characters (ESC, CR, LF, DEL…), trimmed.
fn printable(value: &str) -> String {
    value
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .to_owned()
}

/// The value of a DN's first RDN (`cn=Bob Builder,ou=people` → `Bob Builder`).
fn rdn_value(dn: &str) -> String {
    let first = dn.split(',').next().unwrap_or(dn);
    first
        .split_once('=')
        .map_or(first, |(_, v)| v)
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use ldap3::asn1::{ASNTag, OctetString, Sequence, Set, Tag, TagClass};

    use super::*;
    use crate::contacts::DirectoryPreset;

    fn octets(text: &str) -> Tag {
        Tag::OctetString(OctetString {
            inner: text.as_bytes().to_vec(),
            ..Default::default()
        })
    }

    fn entry_tag(dn: &str, attributes: &[(&str, &[&str])]) -> StructureTag {
        let attributes = attributes
            .iter()
            .map(|(name, values)| {
                Tag::Sequence(Sequence {
                    inner: vec![
                        octets(name),
                        Tag::Set(Set {
                            inner: values.iter().map(|v| octets(v)).collect(),
                            ..Default::default()
                        }),
                    ],
                    ..Default::default()
                })
            })
            .collect();
        Tag::Sequence(Sequence {
            id: 4,
            class: TagClass::Application,
            inner: vec![
                octets(dn),
                Tag::Sequence(Sequence {
                    inner: attributes,
                    ..Default::default()
                }),
            ],
        })
        .into_structure()
    }

    #[test]
    fn an_entry_becomes_a_contact() {
        let tag = entry_tag(
            "cn=Bob Builder,ou=people,dc=example,dc=test",
            &[
                ("CN", &["Bob Builder"]),
                ("mail", &["bob@example.test"]),
                ("telephoneNumber", &["", "+1 555 0100"]),
            ],
        );
        let entry = Entry::from_tag(tag).unwrap();
        let contact = entry
            .to_contact(&DirectoryPreset::Openldap.default_attributes())
            .unwrap();
        assert_eq!(contact.name, "Bob Builder");
        assert_eq!(contact.sip_uri.as_deref(), Some("sip:bob@example.test"));
        assert_eq!(contact.phone.as_deref(), Some("+1 555 0100"));
        assert_eq!(contact.source, ContactSource::Directory);
    }

    #[test]
    fn missing_name_uses_the_dn_and_unreachable_entries_are_dropped() {
        let map = DirectoryPreset::ActiveDirectory.default_attributes();
        let tag = entry_tag(
            "CN=Carol,OU=Staff,DC=corp",
            &[("msRTCSIP-PrimaryUserAddress", &["SIP:carol@corp.test"])],
        );
        let contact = Entry::from_tag(tag).unwrap().to_contact(&map).unwrap();
        assert_eq!(contact.name, "Carol");
        assert_eq!(contact.sip_uri.as_deref(), Some("SIP:carol@corp.test"));
        let tag = entry_tag("CN=Printer,DC=corp", &[("displayName", &["Printer"])]);
        assert!(Entry::from_tag(tag).unwrap().to_contact(&map).is_none());
    }

    #[test]
    fn control_characters_from_the_directory_never_reach_a_contact() {
        let tag = entry_tag(
            "cn=\u{1b}[2JMallory,dc=test",
            &[
                ("mail", &["\u{1b}]52;c;aGk=\u{7}eve@example.test\r\n"]),
                ("telephoneNumber", &["\u{1b}\u{9b}"]),
            ],
        );
        let contact = Entry::from_tag(tag)
            .unwrap()
            .to_contact(&DirectoryPreset::Openldap.default_attributes())
            .unwrap();
        assert_eq!(contact.name, "[2JMallory");
        assert_eq!(
            contact.sip_uri.as_deref(),
            Some("sip:]52;c;aGk=eve@example.test")
        );
        assert_eq!(contact.phone, None);
    }

    #[test]
    fn references_and_malformed_entries_are_skipped() {
        let reference = Tag::Sequence(Sequence {
            id: 19,
            class: TagClass::Application,
            inner: vec![octets("ldap://elsewhere/")],
        })
        .into_structure();
        assert!(Entry::from_tag(reference).is_none());
        let truncated = Tag::Sequence(Sequence {
            id: 4,
            class: TagClass::Application,
            inner: vec![octets("cn=x")],
        })
        .into_structure();
        assert!(Entry::from_tag(truncated).is_none());
    }
}
