//! Parsing of the typed header values: `Via` (RFC 3261 §20.42), name-addr / addr-spec with
//! header parameters (§20.10, §20.20, §20.39) and `CSeq` (§20.16).

use std::str::FromStr;

use super::error::{header_error, snippet};
use super::lex::{find_top_level, is_lws, parse_params, read_quoted, split_around};
use super::uri_parse::parse_hostport;
use super::{CSeq, Method, NameAddr, ParseError, Transport, Uri, Via};

impl FromStr for Via {
    type Err = ParseError;

    /// Parses one `Via` value, `SIP / 2.0 / TLS [2001:db8::9]:5061;branch=z9hG4bK1;rport`
    /// (white space around `/`, `:`, `;` and `=` allowed; transport case-insensitive).
    fn from_str(s: &str) -> Result<Via, ParseError> {
        let err = |reason: String| header_error("Via", reason);
        let s = s.trim_matches(is_lws);
        let (protocol, rest) = s
            .split_once('/')
            .ok_or_else(|| err("missing sent-protocol".into()))?;
        if !protocol
            .trim_end_matches(is_lws)
            .eq_ignore_ascii_case("SIP")
        {
            return Err(err(format!("protocol `{}` is not SIP", snippet(protocol))));
        }
        let (version, rest) = rest
            .split_once('/')
            .ok_or_else(|| err("missing transport".into()))?;
        if version.trim_matches(is_lws) != "2.0" {
            return Err(err(format!(
                "unsupported version `{}`",
                snippet(version.trim_matches(is_lws))
            )));
        }
        let rest = rest.trim_start_matches(is_lws);
        let (transport, rest) = rest.split_once(is_lws).unwrap_or((rest, ""));
        let transport = Transport::from_name(transport)
            .ok_or_else(|| err(format!("unknown transport `{}`", snippet(transport))))?;
        let (sent_by, params) = match find_top_level(rest, b';') {
            Some(i) => split_around(rest, i),
            None => (rest, ""),
        };
        if sent_by.trim_matches(is_lws).is_empty() {
            return Err(err("missing sent-by".into()));
        }
        let (host, port) =
            parse_hostport(sent_by).map_err(|reason| err(format!("sent-by: {reason}")))?;
        let params = parse_params(params).map_err(err)?;
        Ok(Via {
            transport,
            host,
            port,
            params,
        })
    }
}

impl FromStr for NameAddr {
    type Err = ParseError;

    /// Parses `"Display" <uri>;params`, `Display Name <uri>;params`, `<uri>;params`, or a bare
    /// addr-spec `uri;params`, whose parameters belong to the header (RFC 3261 §20).
    fn from_str(s: &str) -> Result<NameAddr, ParseError> {
        let err = |reason: String| header_error("name-addr", reason);
        let s = s.trim_matches(is_lws);
        let (display_name, rest) = if s.starts_with('"') {
            let (name, rest) = read_quoted(s).map_err(|r| err(format!("display name: {r}")))?;
            let rest = rest.trim_start_matches(is_lws);
            if !rest.starts_with('<') {
                return Err(err("quoted display name not followed by <URI>".into()));
            }
            (Some(name), rest)
        } else {
            match s.find('<') {
                Some(open) => {
                    let (name, rest) = s.split_at_checked(open).unwrap_or(("", s));
                    let name = name.trim_matches(is_lws);
                    if name.chars().any(|c| c.is_control() || c == '"' || c == '>') {
                        return Err(err(format!("invalid display name `{}`", snippet(name))));
                    }
                    ((!name.is_empty()).then(|| name.to_owned()), rest)
                }
                None => (None, s),
            }
        };
        let (uri, params) = if let Some(inner) = rest.strip_prefix('<') {
            let (uri, after) = inner
                .split_once('>')
                .ok_or_else(|| err("missing `>`".into()))?;
            let after = after.trim_start_matches(is_lws);
            let params = match after.strip_prefix(';') {
                Some(params) => params,
                None if after.is_empty() => "",
                None => {
                    return Err(err(format!(
                        "unexpected text `{}` after the URI",
                        snippet(after)
                    )));
                }
            };
            (uri, params)
        } else {
            // addr-spec: the URI cannot carry parameters of its own, so `;` starts the header's.
            match rest.split_once(';') {
                Some((uri, params)) => (uri.trim_end_matches(is_lws), params),
                None => (rest, ""),
            }
        };
        let uri: Uri = uri.parse()?;
        let params = parse_params(params).map_err(err)?;
        Ok(NameAddr {
            display_name,
            uri,
            params,
        })
    }
}

impl FromStr for CSeq {
    type Err = ParseError;

    /// Parses `4711 INVITE`.
    fn from_str(s: &str) -> Result<CSeq, ParseError> {
        let err = |reason: String| header_error("CSeq", reason);
        let mut parts = s.split(is_lws).filter(|p| !p.is_empty());
        let (Some(seq), Some(method), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err(format!("`{}` is not `<number> <method>`", snippet(s))));
        };
        let seq = if seq.bytes().all(|b| b.is_ascii_digit()) {
            seq.parse().ok()
        } else {
            None
        };
        let seq = seq.ok_or_else(|| {
            err(format!(
                "sequence number `{}` is not a 32-bit number",
                snippet(s)
            ))
        })?;
        let method = Method::from_token(method)
            .ok_or_else(|| err(format!("invalid method `{}`", snippet(method))))?;
        Ok(CSeq { seq, method })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Host, Param, Scheme};

    #[test]
    fn via_ipv6_and_spacing() {
        let via: Via =
            "SIP / 2.0 / tls [2001:db8::9]:5061 ; branch = z9hG4bK776 ;rport;received=2001:db8::7"
                .parse()
                .unwrap();
        assert_eq!(via.transport, Transport::Tls);
        assert_eq!(via.host, Host::Ipv6("2001:db8::9".parse().unwrap()));
        assert_eq!(via.port, Some(5061));
        assert_eq!(via.branch(), Some("z9hG4bK776"));
        assert_eq!(via.rport(), Some(None));
        assert_eq!(via.received(), Some("2001:db8::7"));
    }

    #[test]
    fn via_rport_filled_in() {
        let via: Via = "SIP/2.0/UDP 192.0.2.1;rport=5066;branch=z9hG4bKx"
            .parse()
            .unwrap();
        assert_eq!(via.rport(), Some(Some(5066)));
        assert_eq!(via.port, None);
    }

    #[test]
    fn via_errors_name_the_problem() {
        for (input, message) in [
            ("SIP/2.0/SCTPX host", "Via: unknown transport `SCTPX`"),
            ("HTTP/2.0/UDP host", "Via: protocol `HTTP` is not SIP"),
            ("SIP/3.0/UDP host", "Via: unsupported version `3.0`"),
            ("SIP/2.0/UDP", "Via: missing sent-by"),
            ("SIP/2.0/UDP ;branch=x", "Via: missing sent-by"),
            ("SIP/2.0/UDP host:0x1", "Via: sent-by: invalid port"),
            ("nonsense", "Via: missing sent-protocol"),
            (
                "SIP/2.0/UDP h;branch=\"x",
                "Via: invalid value `\"x` for parameter `branch`",
            ),
        ] {
            assert_eq!(
                input.parse::<Via>().unwrap_err().to_string(),
                message,
                "{input}"
            );
        }
    }

    #[test]
    fn name_addr_forms() {
        let na: NameAddr =
            r#""Alice \"A\" Smith" <sip:alice@example.test;transport=tls>;tag=88sja8x"#
                .parse()
                .unwrap();
        assert_eq!(na.display_name.as_deref(), Some(r#"Alice "A" Smith"#));
        assert_eq!(na.uri.params, vec![Param::new("transport", "tls")]);
        assert_eq!(na.tag(), Some("88sja8x"));

        let na: NameAddr = "Bob Jones <sips:bob@[2001:db8::2]:5061>".parse().unwrap();
        assert_eq!(na.display_name.as_deref(), Some("Bob Jones"));
        assert_eq!(na.uri.scheme, Scheme::Sips);
        assert!(na.params.is_empty());

        // addr-spec: parameters belong to the header, not the URI.
        let na: NameAddr = "sip:carol@example.test;tag=1;expires=60".parse().unwrap();
        assert_eq!(na.display_name, None);
        assert!(na.uri.params.is_empty());
        assert_eq!(na.tag(), Some("1"));
        assert_eq!(na.param("expires"), Some(Some("60")));

        let na: NameAddr = "<sip:d@h>".parse().unwrap();
        assert_eq!(na.display_name, None);
    }

    #[test]
    fn name_addr_errors() {
        assert!("\"open <sip:a@b>".parse::<NameAddr>().is_err());
        assert!("\"x\" sip:a@b".parse::<NameAddr>().is_err());
        assert!("<sip:a@b".parse::<NameAddr>().is_err());
        assert!("<sip:a@b> junk".parse::<NameAddr>().is_err());
        assert_eq!(
            "<tel:+1555>".parse::<NameAddr>(),
            Err(ParseError::UnsupportedScheme("tel".into()))
        );
    }

    #[test]
    fn cseq() {
        assert_eq!(
            "  4711   INVITE ".parse::<CSeq>(),
            Ok(CSeq {
                seq: 4711,
                method: Method::Invite
            })
        );
        assert_eq!(
            "1 FOO".parse::<CSeq>().unwrap().method,
            Method::Extension("FOO".into())
        );
        assert!("x INVITE".parse::<CSeq>().is_err());
        assert!("4294967296 INVITE".parse::<CSeq>().is_err());
        assert!("+1 INVITE".parse::<CSeq>().is_err());
        assert!("1".parse::<CSeq>().is_err());
        assert!("1 INVITE x".parse::<CSeq>().is_err());
        assert!("1 INV@TE".parse::<CSeq>().is_err());
    }
}
