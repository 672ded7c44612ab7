//! The far end's security as CUCM reports it:
//! `Call-Info: <urn:X-cisco-remotecc:callinfo>;security=NotAuthenticated|Authenticated|Encrypted`.

use super::SecurityLevel;

/// The URN CUCM puts its call information under (compared case-insensitively).
const CISCO_CALLINFO_URN: &str = "urn:x-cisco-remotecc:callinfo";

/// The remote side's level from the values of the `Call-Info` headers of one message: the
/// `security` parameter of every `<urn:X-cisco-remotecc:callinfo>` entry (`NotAuthenticated`
/// is [`SecurityLevel::NotSecure`]). Tolerates spacing, letter case and quotes; entries
/// with other URIs and unknown values are ignored. When several entries carry a level, the
/// lowest wins. `None` when no entry says anything.
///
/// ```
/// use lockphone::verdict::{SecurityLevel, parse_remote_call_info};
/// let values = ["<http://www.example.com/alice/photo.jpg>;purpose=icon",
///               "<urn:X-cisco-remotecc:callinfo>;security=Encrypted;orientation=to"];
/// assert_eq!(parse_remote_call_info(values), Some(SecurityLevel::Encrypted));
/// assert_eq!(parse_remote_call_info(["<urn:x-cisco-remotecc:callinfo>"]), None);
/// ```
pub fn parse_remote_call_info<'a>(
    values: impl IntoIterator<Item = &'a str>,
) -> Option<SecurityLevel> {
    values
        .into_iter()
        .flat_map(split_entries)
        .filter_map(entry_security)
        .min()
}

/// Splits a header value at commas that are outside `<…>` and quotes.
fn split_entries(value: &str) -> Vec<&str> {
    let mut entries = Vec::new();
    let (mut in_angle, mut in_quote, mut start) = (false, false, 0);
    for (index, c) in value.char_indices() {
        match c {
            '"' if !in_angle => in_quote = !in_quote,
            '<' if !in_quote => in_angle = true,
            '>' if !in_quote => in_angle = false,
            ',' if !in_angle && !in_quote => {
                entries.push(&value[start..index]);
                start = index + 1;
            }
            _ => {}
        }
    }
    entries.push(&value[start..]);
    entries
}

/// The `security` level of one `<uri>;params` entry if its URI is CUCM's call-info URN.
fn entry_security(entry: &str) -> Option<SecurityLevel> {
    let rest = entry.trim().strip_prefix('<')?;
    let (uri, params) = rest.split_once('>')?;
    if !uri.trim().eq_ignore_ascii_case(CISCO_CALLINFO_URN) {
        return None;
    }
    params.split(';').find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("security") {
            return None;
        }
        SecurityLevel::from_cucm_name(value.trim().trim_matches('"').trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use SecurityLevel::*;

    fn parse(values: &[&str]) -> Option<SecurityLevel> {
        parse_remote_call_info(values.iter().copied())
    }

    #[test]
    fn the_three_values() {
        let urn = "<urn:X-cisco-remotecc:callinfo>";
        assert_eq!(
            parse(&[&format!("{urn};security=NotAuthenticated")]),
            Some(NotSecure)
        );
        assert_eq!(
            parse(&[&format!("{urn};security=Authenticated")]),
            Some(Authenticated)
        );
        assert_eq!(
            parse(&[&format!("{urn};security=Encrypted")]),
            Some(Encrypted)
        );
    }

    #[test]
    fn spacing_case_and_quotes() {
        for value in [
            "<urn:X-cisco-remotecc:callinfo>;security=Encrypted",
            "  < urn:x-cisco-remotecc:callinfo > ; security = encrypted ",
            "<URN:X-CISCO-REMOTECC:CALLINFO>;SECURITY=ENCRYPTED",
            "<urn:X-cisco-remotecc:callinfo>;security=\"Encrypted\"",
            "<urn:X-cisco-remotecc:callinfo>;orientation=to;security= \"encrypted\" ;ui-state=ringout",
        ] {
            assert_eq!(parse(&[value]), Some(Encrypted), "{value}");
        }
    }

    #[test]
    fn other_urns_unknown_values_and_absence() {
        assert_eq!(parse(&[]), None);
        assert_eq!(
            parse(&["<http://example.com/icon.png>;security=Encrypted"]),
            None
        );
        assert_eq!(
            parse(&["<urn:X-cisco-remotecc:callinfo>;orientation=to"]),
            None
        );
        assert_eq!(
            parse(&["<urn:X-cisco-remotecc:callinfo>;security=Secure"]),
            None
        );
        assert_eq!(
            parse(&["urn:X-cisco-remotecc:callinfo;security=Encrypted"]),
            None
        );
        assert_eq!(
            parse(&["<urn:X-cisco-remotecc:callinfo;security=Encrypted"]),
            None
        );
        assert_eq!(parse(&[""]), None);
    }

    #[test]
    fn several_values_and_entries() {
        // Several header fields, one of them ours.
        assert_eq!(
            parse(&[
                "<http://example.com/a.jpg>;purpose=icon",
                "<urn:X-cisco-remotecc:callinfo>;security=Authenticated",
            ]),
            Some(Authenticated)
        );
        // Comma-separated entries in one field, with a comma inside a quoted parameter.
        assert_eq!(
            parse(&[
                "<http://example.com/a,b.jpg>;purpose=\"icon, big\", <urn:X-cisco-remotecc:callinfo>;security=Encrypted"
            ]),
            Some(Encrypted)
        );
        // Conflicting reports: the lowest wins.
        assert_eq!(
            parse(&[
                "<urn:X-cisco-remotecc:callinfo>;security=Encrypted",
                "<urn:X-cisco-remotecc:callinfo>;security=NotAuthenticated",
            ]),
            Some(NotSecure)
        );
    }
}
