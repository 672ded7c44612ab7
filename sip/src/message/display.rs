//! Printing of URIs and typed header values. Every `Display` here round-trips: parsing the
//! printed text gives back an equal value.

use std::fmt;

use super::lex::{write_params, write_quoted};
use super::uri::{Host, Param, Uri};
use super::{CSeq, NameAddr, Via};

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Domain(name) => f.write_str(name),
            Host::Ipv4(addr) => write!(f, "{addr}"),
            Host::Ipv6(addr) => write!(f, "[{addr}]"),
        }
    }
}

impl fmt::Display for Param {
    /// `name` or `name=value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        match &self.value {
            Some(value) => write!(f, "={value}"),
            None => Ok(()),
        }
    }
}

/// `host[:port]`, as in a URI or a `Via` sent-by.
pub(crate) fn hostport(host: &Host, port: Option<u16>) -> String {
    match port {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// Writes `host[:port]`.
fn write_hostport(f: &mut fmt::Formatter<'_>, host: &Host, port: Option<u16>) -> fmt::Result {
    write!(f, "{host}")?;
    match port {
        Some(port) => write!(f, ":{port}"),
        None => Ok(()),
    }
}

impl fmt::Display for Uri {
    /// `sips:user:password@host:port;params?headers`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.scheme.as_str())?;
        if let Some(user) = &self.user {
            f.write_str(user)?;
            if let Some(password) = &self.password {
                write!(f, ":{password}")?;
            }
            f.write_str("@")?;
        }
        write_hostport(f, &self.host, self.port)?;
        write_params(f, &self.params)?;
        for (i, (name, value)) in self.headers.iter().enumerate() {
            write!(f, "{}{name}={value}", if i == 0 { '?' } else { '&' })?;
        }
        Ok(())
    }
}

impl fmt::Display for Via {
    /// `SIP/2.0/TLS host:port;params`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} ", self.transport)?;
        write_hostport(f, &self.host, self.port)?;
        write_params(f, &self.params)
    }
}

impl fmt::Display for NameAddr {
    /// `"Display Name" <uri>;params`, always with angle brackets (safe for URIs that carry
    /// parameters or commas).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(name) = &self.display_name {
            write_quoted(f, name)?;
            f.write_str(" ")?;
        }
        write!(f, "<{}>", self.uri)?;
        write_params(f, &self.params)
    }
}

impl fmt::Display for CSeq {
    /// `4711 INVITE`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses `input`, prints it, checks the print, and checks that it parses back equal.
    fn round_trip<T>(input: &str, printed: &str)
    where
        T: std::str::FromStr<Err = super::super::ParseError>
            + fmt::Display
            + PartialEq
            + fmt::Debug,
    {
        let value: T = input.parse().unwrap();
        assert_eq!(value.to_string(), printed);
        assert_eq!(printed.parse::<T>().unwrap(), value);
    }

    #[test]
    fn uri_round_trips() {
        for uri in [
            "sip:example.test",
            "sips:alice@example.test:5061",
            "sip:alice:pw@192.0.2.1;transport=tcp;lr",
            "sip:[2001:db8::1]:5060;maddr=[2001:db8::2]?subject=x&priority=urgent",
            "sip:+1-212-555;phone-context=example.test@gw.test;user=phone",
        ] {
            round_trip::<Uri>(uri, uri);
        }
        round_trip::<Uri>("SIPS:[2001:0db8:0::1]", "sips:[2001:db8::1]");
    }

    #[test]
    fn via_round_trips() {
        round_trip::<Via>(
            "SIP / 2.0 / tls [2001:db8::9]:5061 ;branch=z9hG4bK1; rport",
            "SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bK1;rport",
        );
        round_trip::<Via>(
            "SIP/2.0/UDP pc33.example.test;received=192.0.2.1;x=\"a;b\"",
            "SIP/2.0/UDP pc33.example.test;received=192.0.2.1;x=\"a;b\"",
        );
    }

    #[test]
    fn name_addr_round_trips() {
        round_trip::<NameAddr>(
            r#"  "A \"q\" \\ b"<sip:a@h;transport=tls>;tag=x "#,
            r#""A \"q\" \\ b" <sip:a@h;transport=tls>;tag=x"#,
        );
        round_trip::<NameAddr>("Bob <sip:b@h>", "\"Bob\" <sip:b@h>");
        round_trip::<NameAddr>("sip:c@h;tag=1", "<sip:c@h>;tag=1");
        round_trip::<NameAddr>("\"\" <sip:d@h>", "\"\" <sip:d@h>");
        round_trip::<NameAddr>(
            "<sips:e@[2001:db8::3]>;+sip.instance=\"<urn:uuid:1>\";reg-id=1",
            "<sips:e@[2001:db8::3]>;+sip.instance=\"<urn:uuid:1>\";reg-id=1",
        );
    }

    #[test]
    fn cseq_round_trips() {
        round_trip::<CSeq>("1  REGISTER", "1 REGISTER");
        round_trip::<CSeq>("4294967295 X-FOO", "4294967295 X-FOO");
    }
}
