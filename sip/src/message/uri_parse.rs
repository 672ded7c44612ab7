//! Parsing of `sip:`/`sips:` URIs (RFC 3261 §19.1.1, §25.1) and of `host[:port]`, with IPv6
//! references (`[2001:db8::1]`).

use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::ParseError;
use super::error::snippet;
use super::lex::{parse_params, split_around};
use super::uri::{Host, Scheme, Uri};

impl FromStr for Uri {
    type Err = ParseError;

    /// Parses a `sip:` or `sips:` URI. Another scheme (`tel:`, `https:`) gives
    /// [`ParseError::UnsupportedScheme`].
    fn from_str(s: &str) -> Result<Uri, ParseError> {
        let s = s.trim_matches(super::lex::is_lws);
        parse_uri(s).map_err(|reason| match reason {
            UriProblem::Scheme(scheme) => ParseError::UnsupportedScheme(snippet(scheme)),
            UriProblem::Other(reason) => ParseError::Uri {
                uri: snippet(s),
                reason,
            },
        })
    }
}

impl FromStr for Host {
    type Err = ParseError;

    /// Parses a domain name, an IPv4 address or a bracketed IPv6 reference.
    fn from_str(s: &str) -> Result<Host, ParseError> {
        parse_host(s).map_err(|reason| ParseError::Uri {
            uri: snippet(s),
            reason: reason.into(),
        })
    }
}

/// What is wrong with a URI.
enum UriProblem<'a> {
    /// A well-formed scheme other than `sip`/`sips`.
    Scheme(&'a str),
    /// Anything else.
    Other(String),
}

impl From<&'static str> for UriProblem<'_> {
    fn from(reason: &'static str) -> Self {
        UriProblem::Other(reason.to_owned())
    }
}

fn parse_uri(s: &str) -> Result<Uri, UriProblem<'_>> {
    let (scheme, rest) = s.split_once(':').ok_or("missing scheme")?;
    let scheme = if scheme.eq_ignore_ascii_case("sip") {
        Scheme::Sip
    } else if scheme.eq_ignore_ascii_case("sips") {
        Scheme::Sips
    } else if is_scheme(scheme) {
        return Err(UriProblem::Scheme(scheme));
    } else {
        return Err("missing scheme".into());
    };

    // The userinfo ends at the first `@`, unless a `?` (URI headers, which may carry an
    // unescaped `@` in the wild) comes first.
    let (userinfo, hostpart) = match rest.find('@') {
        Some(at) if rest.find('?').is_none_or(|q| at < q) => {
            let (userinfo, hostpart) = split_around(rest, at);
            (Some(userinfo), hostpart)
        }
        _ => (None, rest),
    };
    let (user, password) = match userinfo {
        None => (None, None),
        Some(userinfo) => {
            let (user, password) = match userinfo.split_once(':') {
                Some((user, password)) => (user, Some(password)),
                None => (userinfo, None),
            };
            if user.is_empty() {
                return Err("empty user part".into());
            }
            if !user
                .bytes()
                .chain(password.unwrap_or("").bytes())
                .all(is_userinfo_byte)
            {
                return Err("invalid character in the user part".into());
            }
            (Some(user.to_owned()), password.map(str::to_owned))
        }
    };

    let (hostport, headers) = match hostpart.split_once('?') {
        Some((hostport, headers)) => (hostport, Some(headers)),
        None => (hostpart, None),
    };
    let (hostport, params) = match hostport.split_once(';') {
        Some((hostport, params)) => (hostport, Some(params)),
        None => (hostport, None),
    };
    let (host, port) = parse_hostport(hostport)?;
    let params = match params {
        Some(params) => parse_params(params).map_err(UriProblem::Other)?,
        None => Vec::new(),
    };
    let headers = match headers {
        Some(headers) => parse_uri_headers(headers)?,
        None => Vec::new(),
    };
    Ok(Uri {
        scheme,
        user,
        password,
        host,
        port,
        params,
        headers,
    })
}

/// `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`
fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
}

/// Bytes allowed (unescaped or as `%XX`) in the user and password parts; non-ASCII UTF-8 is
/// tolerated.
fn is_userinfo_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()%&=+$,;?/".contains(&b) || b >= 0x80
}

/// `?name=value&name=value`
fn parse_uri_headers(s: &str) -> Result<Vec<(String, String)>, &'static str> {
    s.split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            if name.is_empty() || piece.chars().any(|c| c.is_whitespace() || c.is_control()) {
                Err("invalid URI header")
            } else {
                Ok((name.to_owned(), value.to_owned()))
            }
        })
        .collect()
}

/// Parses `host[:port]`, allowing white space around the colon (as `Via` sent-by does).
pub(crate) fn parse_hostport(s: &str) -> Result<(Host, Option<u16>), &'static str> {
    let s = s.trim_matches(super::lex::is_lws);
    let (host, port) = if s.starts_with('[') {
        let close = s.find(']').ok_or("unterminated IPv6 reference")?;
        let (host, rest) = s
            .split_at_checked(close + 1)
            .ok_or("unterminated IPv6 reference")?;
        let rest = rest.trim_start_matches(super::lex::is_lws);
        match rest.strip_prefix(':') {
            Some(port) => (host, Some(port)),
            None if rest.is_empty() => (host, None),
            None => return Err("unexpected text after the IPv6 reference"),
        }
    } else if s.matches(':').nth(1).is_some() {
        return Err("IPv6 address not in brackets");
    } else {
        match s.split_once(':') {
            Some((host, port)) => (host.trim_end_matches(super::lex::is_lws), Some(port)),
            None => (s, None),
        }
    };
    let host = parse_host(host)?;
    let port = match port {
        Some(port) => Some(parse_port(port.trim_start_matches(super::lex::is_lws))?),
        None => None,
    };
    Ok((host, port))
}

fn parse_port(s: &str) -> Result<u16, &'static str> {
    if s.is_empty() || s.len() > 5 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err("invalid port");
    }
    s.parse().map_err(|_| "port out of range")
}

/// A domain name, an IPv4 address or a bracketed IPv6 reference.
pub(crate) fn parse_host(s: &str) -> Result<Host, &'static str> {
    if let Some(inner) = s.strip_prefix('[') {
        let inner = inner
            .strip_suffix(']')
            .ok_or("unterminated IPv6 reference")?;
        return inner
            .parse::<Ipv6Addr>()
            .map(Host::Ipv6)
            .map_err(|_| "invalid IPv6 address");
    }
    if s.is_empty() {
        return Err("empty host");
    }
    if let Ok(v4) = s.parse::<Ipv4Addr>() {
        return Ok(Host::Ipv4(v4));
    }
    if s.contains(':') {
        return Err("IPv6 address not in brackets");
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
    {
        return Err("invalid character in host name");
    }
    Ok(Host::Domain(s.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Param;

    #[test]
    fn full_uri() {
        let uri: Uri = "sips:alice:secret@[2001:db8::1]:5061;transport=tls;lr?subject=hi&x=%40"
            .parse()
            .unwrap();
        assert_eq!(uri.scheme, Scheme::Sips);
        assert_eq!(uri.user.as_deref(), Some("alice"));
        assert_eq!(uri.password.as_deref(), Some("secret"));
        assert_eq!(uri.host, Host::Ipv6("2001:db8::1".parse().unwrap()));
        assert_eq!(uri.port, Some(5061));
        assert_eq!(
            uri.params,
            vec![Param::new("transport", "tls"), Param::flag("lr")]
        );
        assert_eq!(uri.transport_param(), Some(crate::message::Transport::Tls));
        assert_eq!(
            uri.headers,
            vec![
                ("subject".to_owned(), "hi".to_owned()),
                ("x".to_owned(), "%40".to_owned())
            ]
        );
    }

    #[test]
    fn hosts() {
        let uri: Uri = "SIP:example.test".parse().unwrap();
        assert_eq!(uri.scheme, Scheme::Sip);
        assert_eq!(uri.host, Host::Domain("example.test".into()));
        let uri: Uri = "sip:+1-212;phone-context=x@192.0.2.4:5060".parse().unwrap();
        assert_eq!(uri.user.as_deref(), Some("+1-212;phone-context=x"));
        assert_eq!(uri.host, Host::Ipv4("192.0.2.4".parse().unwrap()));
        // An unescaped `@` inside URI headers is not the userinfo separator.
        let uri: Uri = "sip:bob.test?Replaces=abc@host".parse().unwrap();
        assert_eq!(uri.user, None);
        assert_eq!(uri.host, Host::Domain("bob.test".into()));
    }

    #[test]
    fn other_schemes_are_a_distinct_error() {
        assert_eq!(
            "tel:+15551234".parse::<Uri>(),
            Err(ParseError::UnsupportedScheme("tel".into()))
        );
        assert!(matches!(
            "urn:service:sos".parse::<Uri>(),
            Err(ParseError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            "no scheme".parse::<Uri>(),
            Err(ParseError::Uri { .. })
        ));
    }

    #[test]
    fn bad_uris() {
        for (input, reason) in [
            ("sip:", "empty host"),
            ("sip:@host", "empty user part"),
            ("sip:[2001:db8::1", "unterminated IPv6 reference"),
            ("sip:[2001:db8::zz]", "invalid IPv6 address"),
            ("sip:2001:db8::1", "IPv6 address not in brackets"),
            ("sip:host:99999", "port out of range"),
            ("sip:host:", "invalid port"),
            ("sip:ho st", "invalid character in host name"),
            ("sip:[::1]x", "unexpected text after the IPv6 reference"),
        ] {
            match input.parse::<Uri>() {
                Err(ParseError::Uri { reason: got, .. }) => assert_eq!(got, reason, "{input}"),
                other => panic!("{input}: {other:?}"),
            }
        }
    }

    #[test]
    fn hostport_with_spaces() {
        assert_eq!(
            parse_hostport(" [::1] : 5061 "),
            Ok((Host::Ipv6("::1".parse().unwrap()), Some(5061)))
        );
        assert_eq!(
            parse_hostport("h : 1"),
            Ok((Host::Domain("h".into()), Some(1)))
        );
    }
}
