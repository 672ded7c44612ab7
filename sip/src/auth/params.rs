//! The challenge list syntax of RFC 7235 §4.1 (as RFC 8898 uses it for SIP): one header value
//! may carry several challenges, `scheme [token68 | auth-param *(, auth-param)]`, separated by
//! commas, with quoted values that may themselves contain commas.

use super::error::{AuthError, malformed};
use crate::message::{is_lws, is_token, is_token_byte, read_quoted, snippet, split_top_level};

/// One challenge as written.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct RawChallenge<'a> {
    /// The auth-scheme (`Digest`, `Bearer`, …).
    pub(crate) scheme: &'a str,
    /// Parameters in order, values unquoted.
    pub(crate) params: Vec<(&'a str, String)>,
}

impl RawChallenge<'_> {
    /// A parameter value by case-insensitive name.
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Splits one header value into challenges.
pub(crate) fn split_challenges(value: &str) -> Result<Vec<RawChallenge<'_>>, AuthError> {
    let mut challenges: Vec<RawChallenge<'_>> = Vec::new();
    for item in split_top_level(value, b',') {
        let item = item.trim_matches(is_lws);
        if item.is_empty() {
            continue;
        }
        if starts_with_param(item) {
            let current = challenges.last_mut().ok_or_else(|| {
                malformed(format!("parameter `{}` before any scheme", snippet(item)))
            })?;
            current.params.push(parse_param(item)?);
            continue;
        }
        let (scheme, rest) = item.split_once(is_lws).unwrap_or((item, ""));
        if !is_token(scheme) {
            return Err(malformed(format!("invalid scheme `{}`", snippet(scheme))));
        }
        let rest = rest.trim_start_matches(is_lws);
        let mut params = Vec::new();
        if is_token68(rest) {
            // A token68 credential-like blob (`Negotiate abc==`): nothing we use; keep the scheme.
        } else if !rest.is_empty() {
            params.push(parse_param(rest)?);
        }
        challenges.push(RawChallenge { scheme, params });
    }
    if challenges.is_empty() {
        return Err(malformed("empty challenge"));
    }
    Ok(challenges)
}

/// Whether `item` begins with `token BWS "="`.
fn starts_with_param(item: &str) -> bool {
    let end = item
        .bytes()
        .position(|b| !is_token_byte(b))
        .unwrap_or(item.len());
    end > 0
        && item
            .get(end..)
            .is_some_and(|rest| rest.trim_start_matches(is_lws).starts_with('='))
}

/// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
fn is_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// `name = token | quoted-string`
fn parse_param(item: &str) -> Result<(&str, String), AuthError> {
    let (name, value) = item
        .split_once('=')
        .ok_or_else(|| malformed("expected `name=value`"))?;
    let name = name.trim_end_matches(is_lws);
    let value = value.trim_start_matches(is_lws);
    if !is_token(name) {
        return Err(malformed(format!(
            "invalid parameter name `{}`",
            snippet(name)
        )));
    }
    if value.starts_with('"') {
        let (value, rest) = read_quoted(value).map_err(|r| malformed(format!("{name}: {r}")))?;
        if !rest.trim_matches(is_lws).is_empty() {
            return Err(malformed(format!("{name}: text after the quoted value")));
        }
        return Ok((name, value));
    }
    if value.is_empty() || value.contains(|c: char| c.is_whitespace() || c == '"') {
        return Err(malformed(format!(
            "{name}: invalid value `{}`",
            snippet(value)
        )));
    }
    Ok((name, value.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_challenges_in_one_value() {
        let got = split_challenges(
            r#"Digest realm="a, b", nonce="n", qop="auth,auth-int" , Bearer realm=x,scope="s",, Negotiate abc==, Basic"#,
        )
        .unwrap();
        let schemes: Vec<&str> = got.iter().map(|c| c.scheme).collect();
        assert_eq!(schemes, ["Digest", "Bearer", "Negotiate", "Basic"]);
        assert_eq!(got[0].param("REALM"), Some("a, b"));
        assert_eq!(got[0].param("qop"), Some("auth,auth-int"));
        assert_eq!(
            got[1].params,
            vec![("realm", "x".to_owned()), ("scope", "s".to_owned())]
        );
        assert!(got[2].params.is_empty());
    }

    #[test]
    fn malformed_values() {
        for value in [
            "",
            " , ",
            "realm=x",
            "Digest realm=\"open",
            "Digest realm=\"x\" y",
            "Dig@st realm=x",
            "Digest realm=a b",
        ] {
            assert!(split_challenges(value).is_err(), "{value}");
        }
    }
}
