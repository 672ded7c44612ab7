//! Making SIP messages safe to log: credentials and SRTP keys are replaced by `<redacted>`.
//!
//! ```
//! use lockphone::redact::redact_text;
//!
//! let text = "Authorization: Bearer eyJhbGciOi.secret.sig\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20\r\n";
//! let safe = redact_text(text);
//! assert!(!safe.contains("eyJhbGciOi") && !safe.contains("WVNfX19z"));
//! assert!(safe.contains("Bearer <redacted>") && safe.contains("inline:<redacted>"));
//! ```

use lockphone_sip::message::Message;

const REDACTED: &str = "<redacted>";

/// The message as text with secrets removed (bytes that are not UTF-8 show as U+FFFD).
pub fn redact_message(message: &Message) -> String {
    redact_wire(&message.to_bytes())
}

/// A serialized message (as it goes on the wire) as text with secrets removed: what the
/// transport sends can be logged without serializing the message a second time.
pub fn redact_wire(bytes: &[u8]) -> String {
    redact_text(&String::from_utf8_lossy(bytes))
}

/// Removes secrets from SIP or SDP text: the token of Bearer credentials, the `response` of
/// Digest credentials, and every SDES `inline:` key.
pub fn redact_text(text: &str) -> String {
    text.split_inclusive('\n').map(redact_line).collect()
}

fn redact_line(line: &str) -> String {
    let lower = line.to_ascii_lowercase();
    let is_credentials =
        lower.starts_with("authorization:") || lower.starts_with("proxy-authorization:");
    if is_credentials {
        if let Some(pos) = lower.find("bearer ") {
            let end = line.find(['\r', '\n']).unwrap_or(line.len());
            let (head, tail) = (
                line.get(..pos + 7).unwrap_or(""),
                line.get(end..).unwrap_or(""),
            );
            return format!("{head}{REDACTED}{tail}");
        }
        return redact_param(line, "response=");
    }
    if lower.contains("inline:") {
        return redact_inline(line);
    }
    line.to_owned()
}

/// Replaces the value of `name` (quoted or token) in a header line.
fn redact_param(line: &str, name: &str) -> String {
    let lower = line.to_ascii_lowercase();
    let Some(start) = lower.find(name) else {
        return line.to_owned();
    };
    let value_start = start + name.len();
    let rest = line.get(value_start..).unwrap_or("");
    let value_len = if let Some(quoted) = rest.strip_prefix('"') {
        quoted.find('"').map_or(rest.len(), |i| i + 2)
    } else {
        rest.find([',', ' ', '\r', '\n']).unwrap_or(rest.len())
    };
    format!(
        "{}\"{REDACTED}\"{}",
        line.get(..value_start).unwrap_or(""),
        line.get(value_start + value_len..).unwrap_or("")
    )
}

/// Replaces every `inline:<key>` value up to the next `|`, space or end of line.
fn redact_inline(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(pos) = rest.to_ascii_lowercase().find("inline:") {
        out.push_str(rest.get(..pos + 7).unwrap_or(""));
        out.push_str(REDACTED);
        let after = rest.get(pos + 7..).unwrap_or("");
        let end = after
            .find(['|', ' ', '\r', '\n', ';'])
            .unwrap_or(after.len());
        rest = after.get(end..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::redact_text;

    #[test]
    fn digest_response_is_redacted_but_algorithm_kept() {
        let line = "Authorization: Digest username=\"alice\", realm=\"r\", nonce=\"n\", uri=\"sip:r\", response=\"0123abcd\", algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"c\"\r\n";
        let safe = redact_text(line);
        assert!(!safe.contains("0123abcd"), "{safe}");
        assert!(
            safe.contains("algorithm=SHA-256") && safe.contains("username=\"alice\""),
            "{safe}"
        );
    }

    #[test]
    fn several_inline_keys_on_one_line_are_all_redacted() {
        let line = "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:KEYONE|2^20 inline:KEYTWO|2^20\n";
        let safe = redact_text(line);
        assert!(
            !safe.contains("KEYONE") && !safe.contains("KEYTWO"),
            "{safe}"
        );
        assert!(safe.contains("|2^20"));
    }

    #[test]
    fn proxy_bearer_is_redacted() {
        let safe = redact_text("Proxy-Authorization: Bearer abc.def.ghi\r\nTo: <sip:x@y>\r\n");
        assert_eq!(
            safe,
            "Proxy-Authorization: Bearer <redacted>\r\nTo: <sip:x@y>\r\n"
        );
    }
}
