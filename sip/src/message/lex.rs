//! Lexical helpers shared by the header-value parsers: splitting at separators that are not
//! inside quotes or `<…>`, quoted strings, tokens and `;name=value` parameters.

use super::method::is_token_byte;
use super::uri::Param;

/// Splits `s` at every `sep` byte outside a quoted string and outside `<…>`.
///
/// An unterminated quote or `<` swallows the rest of the input into the last piece, where the
/// piece's own parser reports it. Runs in linear time.
pub(crate) fn split_top_level(s: &str, sep: u8) -> SplitTopLevel<'_> {
    SplitTopLevel { rest: Some(s), sep }
}

/// The iterator returned by [`split_top_level`].
pub(crate) struct SplitTopLevel<'a> {
    rest: Option<&'a str>,
    sep: u8,
}

impl<'a> Iterator for SplitTopLevel<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let s = self.rest?;
        match find_top_level(s, self.sep) {
            Some(i) => {
                let (piece, rest) = split_around(s, i);
                self.rest = Some(rest);
                Some(piece)
            }
            None => {
                self.rest = None;
                Some(s)
            }
        }
    }
}

/// The index of the first `sep` byte in `s` outside a quoted string and outside `<…>`.
pub(crate) fn find_top_level(s: &str, sep: u8) -> Option<usize> {
    if memchr::memchr2(b'"', b'<', s.as_bytes()).is_none() {
        return memchr::memchr(sep, s.as_bytes());
    }
    let mut quoted = false;
    let mut escaped = false;
    let mut angle = false;
    for (i, b) in s.bytes().enumerate() {
        if quoted {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                quoted = false;
            }
        } else if angle {
            angle = b != b'>';
        } else if b == b'"' {
            quoted = true;
        } else if b == b'<' {
            angle = true;
        } else if b == sep {
            return Some(i);
        }
    }
    None
}

/// `s` without the ASCII byte at `i`: the text before it and the text after it.
///
/// `i` must index an ASCII byte of `s` (so both halves are on character boundaries); otherwise
/// the whole of `s` is returned as the first half.
pub(crate) fn split_around(s: &str, i: usize) -> (&str, &str) {
    match (s.get(..i), s.get(i + 1..)) {
        (Some(before), Some(after)) => (before, after),
        _ => (s, ""),
    }
}

/// Linear white space as RFC 3261 allows it inside header values.
pub(crate) fn is_lws(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Whether `s` is a non-empty RFC 3261 token.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token_byte)
}

/// Reads a quoted string at the start of `s` (which begins with `"`): the unescaped content
/// and the text after the closing quote.
pub(crate) fn read_quoted(s: &str) -> Result<(String, &str), &'static str> {
    let mut chars = s.char_indices();
    if chars.next().map(|(_, c)| c) != Some('"') {
        return Err("expected a quoted string");
    }
    // Fast path: no escapes before the closing quote.
    if let Some(close) = memchr::memchr2(b'"', b'\\', s.as_bytes().get(1..).unwrap_or_default())
        && s.as_bytes().get(close + 1) == Some(&b'"')
    {
        let content = s.get(1..close + 1).unwrap_or_default();
        return Ok((content.to_owned(), s.get(close + 2..).unwrap_or_default()));
    }
    let mut out = String::new();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, s.get(i + 1..).unwrap_or(""))),
            '\\' => match chars.next() {
                Some((_, escaped)) => out.push(escaped),
                None => break,
            },
            c => out.push(c),
        }
    }
    Err("unterminated quoted string")
}

/// The length of the quoted string at the start of `s` (quotes included), if it is terminated.
fn quoted_len(s: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate().skip(1) {
        if escaped {
            escaped = false;
        } else if b == b'\\' {
            escaped = true;
        } else if b == b'"' {
            return Some(i + 1);
        }
    }
    None
}

/// Writes `text` as a quoted string, escaping `"` and `\`; CR and LF, which a quoted string
/// cannot carry, become spaces.
pub(crate) fn write_quoted(out: &mut impl std::fmt::Write, text: &str) -> std::fmt::Result {
    out.write_char('"')?;
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.write_char('\\')?;
                out.write_char(c)?;
            }
            '\r' | '\n' => out.write_char(' ')?,
            c => out.write_char(c)?,
        }
    }
    out.write_char('"')
}

/// Parses `;`-separated parameters (`s` is the text after the first `;`): `name`, `name=value`
/// or `name="quoted value"` (quotes kept), with optional white space around `=` and `;`.
/// Empty pieces (`;;`) are skipped.
pub(crate) fn parse_params(s: &str) -> Result<Vec<Param>, String> {
    let mut params = Vec::new();
    for piece in split_top_level(s, b';') {
        let piece = piece.trim_matches(is_lws);
        if piece.is_empty() {
            continue;
        }
        params.push(parse_param(piece)?);
    }
    Ok(params)
}

/// One `name[=value]` parameter.
fn parse_param(piece: &str) -> Result<Param, String> {
    let (name, value) = match piece.split_once('=') {
        Some((name, value)) => (
            name.trim_end_matches(is_lws),
            Some(value.trim_start_matches(is_lws)),
        ),
        None => (piece, None),
    };
    if !is_token(name) {
        return Err(format!(
            "invalid parameter name `{}`",
            super::error::snippet(name)
        ));
    }
    if let Some(value) = value {
        check_param_value(name, value)?;
    }
    Ok(Param {
        name: name.to_owned(),
        value: value.map(str::to_owned),
    })
}

/// A parameter value is a quoted string, or a run of characters without ASCII white space or
/// control characters, quotes, angle brackets or commas.
fn check_param_value(name: &str, value: &str) -> Result<(), String> {
    let ok = if value.starts_with('"') {
        quoted_len(value) == Some(value.len())
    } else {
        !value.is_empty()
            && value
                .bytes()
                .all(|b| b > b' ' && b != 0x7f && !matches!(b, b'"' | b'<' | b'>' | b','))
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid value `{}` for parameter `{name}`",
            super::error::snippet(value)
        ))
    }
}

/// Writes parameters as `;name[=value]…`.
pub(crate) fn write_params(out: &mut impl std::fmt::Write, params: &[Param]) -> std::fmt::Result {
    for param in params {
        write!(out, ";{param}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_outside_quotes_and_angles() {
        let pieces: Vec<&str> =
            split_top_level(r#""a,\"b" <sip:x,y@h>;p=1, <sip:z@h>,w"#, b',').collect();
        assert_eq!(
            pieces,
            vec![r#""a,\"b" <sip:x,y@h>;p=1"#, " <sip:z@h>", "w"]
        );
        assert_eq!(split_top_level("", b',').collect::<Vec<_>>(), vec![""]);
        assert_eq!(
            split_top_level("\"open,", b',').collect::<Vec<_>>(),
            vec!["\"open,"]
        );
    }

    #[test]
    fn quoted_strings() {
        assert_eq!(
            read_quoted(r#""a \"b\" \\c" rest"#),
            Ok((r#"a "b" \c"#.to_owned(), " rest"))
        );
        assert!(read_quoted(r#""open"#).is_err());
        assert!(read_quoted(r#""open\"#).is_err());
        let mut out = String::new();
        write_quoted(&mut out, "a\"b\\c\r\n").unwrap();
        assert_eq!(out, r#""a\"b\\c  ""#);
    }

    #[test]
    fn params() {
        let params = parse_params(r#"branch = z9hG4bK1 ;rport; x="a;b" ;;"#).unwrap();
        assert_eq!(
            params,
            vec![
                Param::new("branch", "z9hG4bK1"),
                Param::flag("rport"),
                Param::new("x", "\"a;b\"")
            ]
        );
        assert!(
            parse_params("a=\"open")
                .unwrap_err()
                .contains("parameter `a`")
        );
        assert!(parse_params("=v").unwrap_err().contains("parameter name"));
        assert!(parse_params("a=").is_err());
        assert!(parse_params("a=b c").is_err());
    }
}
