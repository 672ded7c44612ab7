//! Matching the search text against the contacts of the config file.

use super::Contact;

/// Whether `text` looks like a phone number (digits with `+ - . ( )` and spaces).
fn is_number(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_digit())
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-.()/".contains(c))
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// Whether a contact matches: the text is in its name or SIP URI (ignoring case), or a
/// number is in its phone (ignoring spaces and punctuation). Empty text matches everything.
pub(crate) fn matches(contact: &Contact, text: &str) -> bool {
    let text = text.trim();
    if text.is_empty() {
        return true;
    }
    let needle = text.to_lowercase();
    let in_text = |field: &Option<String>| {
        field
            .as_deref()
            .is_some_and(|v| v.to_lowercase().contains(&needle))
    };
    if contact.name.to_lowercase().contains(&needle) || in_text(&contact.sip_uri) {
        return true;
    }
    if is_number(text) {
        let wanted = digits(text);
        return contact
            .phone
            .as_deref()
            .is_some_and(|p| digits(p).contains(&wanted));
    }
    in_text(&contact.phone)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contacts::ContactSource;

    #[test]
    fn names_uris_and_numbers_match() {
        let alice = Contact {
            name: "Alice Liddell".to_owned(),
            sip_uri: Some("sip:alice@example.test".to_owned()),
            phone: Some("+1 (555) 010-0200".to_owned()),
            source: ContactSource::Config,
        };
        assert!(matches(&alice, "lidd"));
        assert!(matches(&alice, "ALICE@"));
        assert!(matches(&alice, "5550100"));
        assert!(matches(&alice, "555-0100"));
        assert!(matches(&alice, ""));
        assert!(!matches(&alice, "bob"));
        assert!(!matches(&alice, "999"));
    }
}
