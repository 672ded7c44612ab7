//! Building the LDAP search filter from the configured template and what the user typed,
//! escaped per RFC 4515 so the text can never change the filter's structure.

/// The longest search text sent to a directory (longer text is cut at a character boundary).
pub const MAX_QUERY_CHARS: usize = 128;

/// Escapes a value for an LDAP filter (RFC 4515 section 3): `*`, `(`, `)`, `\` and NUL
/// become `\2a`, `\28`, `\29`, `\5c`, `\00`. Everything else, including UTF-8, is kept.
///
/// ```
/// use lockphone::contacts::escape_filter_value;
///
/// assert_eq!(escape_filter_value("a*)(uid=*"), r"a\2a\29\28uid=\2a");
/// ```
pub fn escape_filter_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '*' => out.push_str(r"\2a"),
            '(' => out.push_str(r"\28"),
            ')' => out.push_str(r"\29"),
            '\\' => out.push_str(r"\5c"),
            '\0' => out.push_str(r"\00"),
            other => out.push(other),
        }
    }
    out
}

/// The filter for `text`: every `{q}` of `template` replaced by the escaped, trimmed text.
pub fn build_filter(template: &str, text: &str) -> String {
    let text: String = text.trim().chars().take(MAX_QUERY_CHARS).collect();
    template.replace("{q}", &escape_filter_value(&text))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn special_characters_are_escaped() {
        assert_eq!(escape_filter_value("Bob"), "Bob");
        assert_eq!(escape_filter_value("x\\y\0"), r"x\5cy\00");
        assert_eq!(escape_filter_value("Zoë (ops)"), r"Zoë \28ops\29");
    }

    #[test]
    fn the_template_gets_the_escaped_text_everywhere() {
        let filter = build_filter("(|(cn=*{q}*)(mail=*{q}*))", "  *)(objectClass=*  ");
        assert_eq!(
            filter,
            r"(|(cn=*\2a\29\28objectClass=\2a*)(mail=*\2a\29\28objectClass=\2a*))"
        );
        let long = "a".repeat(1000);
        assert_eq!(build_filter("({q})", &long).len(), MAX_QUERY_CHARS + 2);
    }
}
