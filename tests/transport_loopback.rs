//! The tokio transport layer on loopback: TLS and TCP connections, listeners, framing,
//! keep-alive, 400 for malformed requests. (Certificate chain and identity cases, with their
//! typed TLS failures, are in tests/trust_identity.rs.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use lockphone::tls::{ClientTlsBuilder, TrustAnchors, server_config_from_der};
use lockphone::transport::{Target, TransportEvent, TransportLayer};
use lockphone_sip::message::{Message, Transport};
use support::pki::TestCa;
use tokio::sync::mpsc::UnboundedReceiver;

const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn options_request(branch: &str) -> Vec<u8> {
    format!(
        "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5999;branch=z9hG4bK{branch};rport\r\n\
         Max-Forwards: 70\r\nFrom: <sip:alice@127.0.0.1>;tag=a1\r\nTo: <sip:bob@127.0.0.1>\r\n\
         Call-ID: {branch}@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
    .into_bytes()
}

async fn next_message(
    rx: &mut UnboundedReceiver<TransportEvent>,
) -> lockphone::transport::Incoming {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("no event within 5 s")
            .expect("transport stopped");
        if let TransportEvent::Message(incoming) = event {
            return *incoming;
        }
    }
}

struct TlsPair {
    client: TransportLayer,
    client_rx: UnboundedReceiver<TransportEvent>,
    server_rx: UnboundedReceiver<TransportEvent>,
    server: TransportLayer,
    server_addr: SocketAddr,
}

/// A TLS listener with a certificate for `server_names` from a fresh CA, and a client that
/// trusts that CA, or `other_ca` instead when given.
async fn tls_pair(
    server_names: &[&str],
    other_ca: Option<&TestCa>,
    keepalive: Option<Duration>,
) -> TlsPair {
    let ca = TestCa::new("server CA");
    let leaf = ca.leaf(server_names, &[LOCALHOST]);
    tls_pair_with(ca, leaf, other_ca, keepalive).await
}

async fn tls_pair_with(
    ca: TestCa,
    leaf: support::pki::Leaf,
    other_ca: Option<&TestCa>,
    keepalive: Option<Duration>,
) -> TlsPair {
    let server_config = server_config_from_der(vec![leaf.cert, ca.cert()], leaf.key).unwrap();
    let (server, server_rx) = TransportLayer::new(None, None);
    let server_addr = server
        .listen_tls("127.0.0.1:0".parse().unwrap(), server_config)
        .await
        .unwrap();
    let mut anchors = TrustAnchors::empty();
    anchors.add_der(other_ca.unwrap_or(&ca).cert()).unwrap();
    let client_tls = ClientTlsBuilder::new(anchors).build().unwrap();
    let (client, client_rx) = TransportLayer::new(Some(client_tls), keepalive);
    TlsPair {
        client,
        client_rx,
        server_rx,
        server,
        server_addr,
    }
}

fn target(addr: SocketAddr, name: &str) -> Target {
    Target {
        transport: Transport::Tls,
        addr,
        server_name: Some(name.to_owned()),
    }
}

#[tokio::test]
async fn tls_request_and_response_reuse_one_verified_connection() {
    let mut pair = tls_pair(&["localhost"], None, None).await;
    let to = target(pair.server_addr, "localhost");
    let info = pair.client.connect(&to).await.unwrap();
    assert!(info.security.is_verified_tls());
    assert_eq!(info.security.verified_name.as_deref(), Some("localhost"));
    pair.client.send(&to, options_request("one")).await.unwrap();
    pair.client.send(&to, options_request("two")).await.unwrap();
    let first = next_message(&mut pair.server_rx).await;
    let second = next_message(&mut pair.server_rx).await;
    assert_eq!(
        first.connection, second.connection,
        "requests to one target share a connection"
    );
    assert_eq!(first.security.transport, Transport::Tls);
    let Message::Request(request) = &first.message else {
        panic!("a request")
    };
    let response = lockphone_sip::message::Response::for_request(
        request,
        lockphone_sip::message::StatusCode::OK,
        None,
    );
    pair.server
        .send_on(first.connection.unwrap(), response.to_bytes())
        .unwrap();
    let answer = next_message(&mut pair.client_rx).await;
    let Message::Response(response) = answer.message else {
        panic!("a response")
    };
    assert_eq!(response.status.0, 200);
    assert_eq!(answer.connection, info.id);
}

#[tokio::test]
async fn malformed_request_is_answered_400_naming_the_problem() {
    let (server, mut server_rx) = TransportLayer::new(None, None);
    let addr = server
        .listen_tcp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let (client, mut client_rx) = TransportLayer::new(None, None);
    let to = Target {
        transport: Transport::Tcp,
        addr,
        server_name: None,
    };
    let bad = String::from_utf8(options_request("bad")).unwrap().replace(
        "OPTIONS sip:bob@127.0.0.1 SIP/2.0",
        "OPTIONS sip:bob@[2001:db8::1 SIP/2.0",
    );
    client.send(&to, bad.into_bytes()).await.unwrap();
    let answer = next_message(&mut client_rx).await;
    let Message::Response(response) = answer.message else {
        panic!("a response")
    };
    assert_eq!(response.status.0, 400);
    assert!(
        response.reason.to_ascii_lowercase().contains("uri"),
        "reason: {}",
        response.reason
    );
    match tokio::time::timeout(Duration::from_secs(5), server_rx.recv())
        .await
        .unwrap()
        .unwrap()
    {
        TransportEvent::Dropped { reason, .. } => {
            assert!(reason.to_ascii_lowercase().contains("uri"), "{reason}")
        }
        other => panic!("expected a dropped event, got {other:?}"),
    }
}

#[tokio::test]
async fn keepalive_pings_are_answered_and_keep_the_connection() {
    let mut pair = tls_pair(&["localhost"], None, Some(Duration::from_millis(300))).await;
    let to = target(pair.server_addr, "localhost");
    pair.client.connect(&to).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    // Several pings went out and were answered: the connection is still usable.
    pair.client
        .send(&to, options_request("after-pings"))
        .await
        .unwrap();
    let got = next_message(&mut pair.server_rx).await;
    assert!(matches!(got.message, Message::Request(_)));
    while let Ok(event) = pair.client_rx.try_recv() {
        assert!(
            !matches!(event, TransportEvent::ConnectionClosed { .. }),
            "{event:?}"
        );
    }
}

#[tokio::test]
async fn udp_datagrams_are_delivered() {
    let (server, mut server_rx) = TransportLayer::new(None, None);
    let addr = server
        .bind_udp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let (client, _client_rx) = TransportLayer::new(None, None);
    client
        .bind_udp("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let to = Target {
        transport: Transport::Udp,
        addr,
        server_name: None,
    };
    client.send(&to, options_request("udp")).await.unwrap();
    let got = next_message(&mut server_rx).await;
    assert_eq!(got.security.transport, Transport::Udp);
    assert!(got.connection.is_none());
}
