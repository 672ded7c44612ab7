//! Stamping `received` and `rport` on the top `Via` of an incoming request (RFC 3261 §18.2.1,
//! RFC 3581), so responses find their way back through NATs.

use std::net::SocketAddr;
use std::sync::Arc;

use lockphone_sip::message::{Host, Message, Param, ParseError, Request};

use super::layer::{ConnectionId, Incoming};
use crate::tls::ConnectionSecurity;

/// Parses bytes that arrived from `source` on `local` (and `connection`, for TCP/TLS) into
/// what the transport reports, a request stamped with where it really came from.
pub(super) fn parse_incoming(
    bytes: &[u8],
    source: SocketAddr,
    local: SocketAddr,
    connection: Option<ConnectionId>,
    security: &Arc<ConnectionSecurity>,
) -> Result<Incoming, ParseError> {
    let mut message = Message::parse(bytes)?;
    if let Message::Request(request) = &mut message {
        stamp_received(request, source);
    }
    Ok(Incoming {
        message,
        source,
        local,
        connection,
        security: security.clone(),
    })
}

/// Adds `received=<source ip>` when the sent-by host differs from where the request came from
/// (always, when the client asked for `rport`), and fills a bare `rport` with the source port.
/// Only the top `Via` is parsed and rewritten; the others stay as received. A request whose
/// top Via cannot be parsed is left alone (the transaction layer rejects it).
fn stamp_received(request: &mut Request, source: SocketAddr) {
    let Ok(mut top) = request.headers.top_via() else {
        return;
    };
    let wants_rport = matches!(top.rport(), Some(None));
    let same_host = match &top.host {
        Host::Ipv4(ip) => std::net::IpAddr::V4(*ip) == source.ip(),
        Host::Ipv6(ip) => std::net::IpAddr::V6(*ip) == source.ip(),
        Host::Domain(_) => false,
    };
    if same_host && !wants_rport {
        return;
    }
    top.params.retain(|p| {
        !p.name.eq_ignore_ascii_case("received") && !p.name.eq_ignore_ascii_case("rport")
    });
    if wants_rport {
        top.params
            .push(Param::new("rport", source.port().to_string()));
    }
    top.params
        .push(Param::new("received", source.ip().to_string()));
    request.headers.set_top_via(&top);
}

#[cfg(test)]
mod tests {
    use lockphone_sip::message::{HeaderName, Message};

    use super::stamp_received;

    fn request(via: &str) -> lockphone_sip::message::Request {
        let raw = format!(
            "OPTIONS sip:b@example.test SIP/2.0\r\nVia: {via}\r\nVia: SIP/2.0/UDP proxy.test;branch=z9hG4bKp\r\nFrom: <sip:a@example.test>;tag=1\r\nTo: <sip:b@example.test>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
        );
        match Message::parse(raw.as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => panic!("a request"),
        }
    }

    #[test]
    fn rport_and_received_are_filled_in() {
        let mut req = request("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;rport");
        stamp_received(&mut req, "192.0.2.7:40000".parse().unwrap());
        let vias = req.headers.vias().unwrap();
        assert_eq!(vias[0].rport(), Some(Some(40000)));
        assert_eq!(vias[0].received(), Some("192.0.2.7"));
        assert_eq!(vias[0].branch(), Some("z9hG4bKa"));
        assert_eq!(vias.len(), 2, "the other Via is kept");
        assert_eq!(vias[1].branch(), Some("z9hG4bKp"));
    }

    #[test]
    fn only_the_top_via_is_rewritten() {
        let mut req = request("SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;rport");
        stamp_received(&mut req, "192.0.2.7:40000".parse().unwrap());
        let values: Vec<&str> = req.headers.get_all(&HeaderName::Via).collect();
        assert_eq!(
            values,
            [
                "SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa;rport=40000;received=192.0.2.7",
                "SIP/2.0/UDP proxy.test;branch=z9hG4bKp"
            ]
        );
    }

    #[test]
    fn matching_host_without_rport_is_untouched() {
        let mut req = request("SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKa");
        let before = req.clone();
        stamp_received(&mut req, "192.0.2.7:5060".parse().unwrap());
        assert_eq!(req, before);
    }

    #[test]
    fn different_host_gets_received() {
        let mut req = request("SIP/2.0/TLS client.example.test;branch=z9hG4bKa");
        stamp_received(&mut req, "192.0.2.9:5061".parse().unwrap());
        let top = req.headers.top_via().unwrap();
        assert_eq!(top.received(), Some("192.0.2.9"));
        assert_eq!(top.rport(), None);
    }
}
