//! Revocation and Common Criteria against real servers on 127.0.0.1: certificates made in the
//! test name CRL and OCSP URLs pointing at a local HTTP server and at `openssl ocsp`; TLS
//! servers are rustls (stapling when asked) or `openssl s_server` (legacy cases). Each
//! refusal is asserted by its typed reason; two go through the `lockphone` binary so the
//! user-facing text is checked too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/revocation.rs"]
mod revocation_support;
mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use lockphone::tls::common_criteria::CcViolation;
use lockphone::tls::revocation::{RevocationPolicy, RevocationSource, RevocationStatus};
use lockphone::tls::{ClientTls, ClientTlsBuilder, ConnectionSecurity, TlsError, TrustAnchors};
use lockphone::transport::{Target, TransportError, TransportLayer};
use lockphone_sip::message::Transport;
use revocation_support::*;

const GOOD: [u8; 2] = [0x10, 0x01];
const REVOKED: [u8; 2] = [0x10, 0x02];

fn client(anchors: TrustAnchors, policy: RevocationPolicy) -> ClientTls {
    ClientTlsBuilder::new(anchors)
        .revocation(policy)
        .build()
        .unwrap()
}

fn cc_client(anchors: TrustAnchors) -> ClientTls {
    ClientTlsBuilder::new(anchors)
        .common_criteria(true)
        .revocation(RevocationPolicy::Off) // forced back to hard-fail by Common Criteria
        .build()
        .unwrap()
}

/// Connects through the SIP transport layer (a fresh one: no connection reuse).
async fn connect(tls: &ClientTls, addr: SocketAddr) -> Result<Arc<ConnectionSecurity>, TlsError> {
    let (layer, _events) = TransportLayer::new(Some(tls.clone()), None);
    let target = Target {
        transport: Transport::Tls,
        addr,
        server_name: Some("127.0.0.1".to_owned()),
    };
    match layer.connect(&target).await {
        Ok(info) => Ok(info.security),
        Err(TransportError::Tls { source, .. }) => Err(source),
        Err(other) => panic!("not a TLS failure: {other}"),
    }
}

fn good_sources(status: &RevocationStatus) -> Vec<(RevocationSource, bool)> {
    match status {
        RevocationStatus::Good { good } => good.iter().map(|g| (g.source, g.cached)).collect(),
        other => panic!("not good: {other:?}"),
    }
}

async fn server_for(pki: &Pki, leaf: &Leaf, staple: Option<Vec<u8>>) -> SocketAddr {
    let ca = lockphone::tls::load_certificate_chain(&pki.ca_pem()).unwrap();
    tls_server(
        vec![leaf.cert.clone(), ca[0].clone()],
        leaf.key.clone_key(),
        staple,
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_by_ocsp_then_from_the_cache_without_a_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "OCSP Test CA");
    pki.write_index(&[GOOD], &[REVOKED]);
    let responder = OcspResponder::start(&pki, (&pki.ca_pem(), &pki.ca_key()));
    let (port, requests) = counting_proxy(responder.port).await;
    let leaf = pki.leaf(GOOD, None, Some(&format!("http://127.0.0.1:{port}/")));
    let addr = server_for(&pki, &leaf, None).await;
    let tls = client(pki.anchors(), RevocationPolicy::HardFail);

    let started = Instant::now();
    let first = connect(&tls, addr).await.unwrap();
    let first_ms = started.elapsed().as_millis();
    assert_eq!(
        good_sources(&first.revocation),
        [(RevocationSource::Ocsp, false)]
    );
    assert_eq!(requests.load(Ordering::SeqCst), 1);

    let started = Instant::now();
    let second = connect(&tls, addr).await.unwrap();
    let second_ms = started.elapsed().as_millis();
    assert_eq!(
        good_sources(&second.revocation),
        [(RevocationSource::Ocsp, true)]
    );
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "the second connection fetched again"
    );
    assert_eq!(tls.revocation().cache().fetches(), 1);
    assert_eq!(tls.revocation().cache().hits(), 1);
    let json = serde_json::to_value(&*second).unwrap();
    assert_eq!(json["revocation"]["state"], "good");
    assert_eq!(json["revocation"]["good"][0]["source"], "ocsp");
    eprintln!(
        "figures: OCSP connect {first_ms} ms (fetch + verify), cached connect {second_ms} ms"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_by_ocsp_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "OCSP Test CA");
    pki.write_index(&[GOOD], &[REVOKED]);
    let responder = OcspResponder::start(&pki, (&pki.ca_pem(), &pki.ca_key()));
    let leaf = pki.leaf(REVOKED, None, Some(&responder.url()));
    let addr = server_for(&pki, &leaf, None).await;
    let err = connect(&client(pki.anchors(), RevocationPolicy::SoftFail), addr)
        .await
        .unwrap_err();
    match &err {
        TlsError::Revoked {
            by,
            reason,
            date,
            certificate,
        } => {
            assert_eq!(*by, RevocationSource::Ocsp);
            assert_eq!(reason, "keyCompromise");
            assert!(date.starts_with("2024-01-01"), "{date}");
            assert_eq!(certificate, "server 1002");
        }
        other => panic!("expected Revoked by OCSP, got {other:?}"),
    }
}

/// Root → intermediate (naming the root's CRL) → leaf (naming the intermediate's CRL).
async fn two_level_server(dir: &Path, intermediate_revoked: bool) -> (Pki, SocketAddr) {
    const INTERMEDIATE: [u8; 2] = [0x20, 0x01];
    let root = Pki::new(dir, "Chain Root CA");
    let revoked: &[[u8; 2]] = if intermediate_revoked {
        &[INTERMEDIATE]
    } else {
        &[]
    };
    let (root_crl, _) = serve_http(root.crl(revoked), "root.crl").await;
    let sub = root.intermediate(
        &dir.join("sub"),
        "Chain Issuing CA",
        INTERMEDIATE,
        Some(&root_crl),
    );
    let (sub_crl, _) = serve_http(sub.crl(&[REVOKED]), "sub.crl").await;
    let leaf = sub.leaf(GOOD, Some(&sub_crl), None);
    let addr = tls_server(
        vec![leaf.cert.clone(), sub.cert()],
        leaf.key.clone_key(),
        None,
    )
    .await;
    (root, addr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_certificate_of_the_chain_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let (root, addr) = two_level_server(&dir.path().join("good"), false).await;
    let security = connect(&client(root.anchors(), RevocationPolicy::HardFail), addr)
        .await
        .unwrap();
    match &security.revocation {
        RevocationStatus::Good { good } => {
            let names: Vec<(&str, RevocationSource)> = good
                .iter()
                .map(|g| (g.certificate.as_str(), g.source))
                .collect();
            assert_eq!(
                names,
                [
                    ("server 1001", RevocationSource::Crl),
                    ("Chain Issuing CA", RevocationSource::Crl)
                ]
            );
        }
        other => panic!("not good: {other:?}"),
    }

    let (root, addr) = two_level_server(&dir.path().join("revoked"), true).await;
    let err = connect(&client(root.anchors(), RevocationPolicy::HardFail), addr)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TlsError::Revoked { certificate, by: RevocationSource::Crl, .. } if certificate == "Chain Issuing CA"),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_by_crl_then_from_the_cache_under_common_criteria() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "CRL Test CA");
    let (url, requests) = serve_http(pki.crl(&[REVOKED]), "ca.crl").await;
    let leaf = pki.leaf(GOOD, Some(&url), None);
    let addr = server_for(&pki, &leaf, None).await;
    let tls = cc_client(pki.anchors());

    let started = Instant::now();
    let first = connect(&tls, addr).await.unwrap();
    let first_ms = started.elapsed().as_millis();
    assert_eq!(
        good_sources(&first.revocation),
        [(RevocationSource::Crl, false)]
    );
    assert!(first.common_criteria);
    let second = connect(&tls, addr).await.unwrap();
    assert_eq!(
        good_sources(&second.revocation),
        [(RevocationSource::Crl, true)]
    );
    assert_eq!(
        requests.load(Ordering::SeqCst),
        1,
        "the CRL was fetched twice"
    );
    eprintln!("figures: CRL connect {first_ms} ms (fetch + verify)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_by_crl_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "CRL Test CA");
    let (url, _) = serve_http(pki.crl(&[REVOKED]), "ca.crl").await;
    let leaf = pki.leaf(REVOKED, Some(&url), None);
    let addr = server_for(&pki, &leaf, None).await;
    let err = connect(&client(pki.anchors(), RevocationPolicy::HardFail), addr)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, TlsError::Revoked { by: RevocationSource::Crl, reason, .. } if reason == "keyCompromise"),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_staple_is_enough_without_any_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "Staple Test CA");
    pki.write_index(&[GOOD], &[REVOKED]);
    // The AIA URL is dead: only the staple can answer.
    let dead = format!("http://127.0.0.1:{}/", closed_port());
    let leaf = pki.leaf(GOOD, None, Some(&dead));
    let staple = pki.staple_for(&leaf);
    let addr = server_for(&pki, &leaf, Some(staple)).await;
    let tls = client(pki.anchors(), RevocationPolicy::HardFail);
    let security = connect(&tls, addr).await.unwrap();
    assert_eq!(
        good_sources(&security.revocation),
        [(RevocationSource::Stapled, false)]
    );
    assert_eq!(tls.revocation().cache().fetches(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoked_by_a_stapled_response_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "Staple Test CA");
    pki.write_index(&[GOOD], &[REVOKED]);
    let leaf = pki.leaf(
        REVOKED,
        None,
        Some(&format!("http://127.0.0.1:{}/", closed_port())),
    );
    let staple = pki.staple_for(&leaf);
    let addr = server_for(&pki, &leaf, Some(staple)).await;
    let err = connect(&client(pki.anchors(), RevocationPolicy::SoftFail), addr)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            TlsError::Revoked {
                by: RevocationSource::Stapled,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responder_down_refuses_under_hard_fail_and_is_reported_under_soft_fail() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "Down Test CA");
    let leaf = pki.leaf(
        GOOD,
        None,
        Some(&format!("http://127.0.0.1:{}/", closed_port())),
    );
    let addr = server_for(&pki, &leaf, None).await;

    let err = connect(&client(pki.anchors(), RevocationPolicy::HardFail), addr)
        .await
        .unwrap_err();
    match &err {
        TlsError::RevocationUnknown { why } => assert!(why.contains("cannot connect"), "{why}"),
        other => panic!("expected RevocationUnknown, got {other:?}"),
    }
    assert!(err.to_string().contains("soft-fail"), "{err}");

    let security = connect(&client(pki.anchors(), RevocationPolicy::SoftFail), addr)
        .await
        .unwrap();
    match &security.revocation {
        RevocationStatus::SoftFailed { why, good } => {
            assert!(why.contains("cannot connect"), "{why}");
            assert!(good.is_empty());
        }
        other => panic!("expected soft-failed, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_responder_is_given_up_after_the_five_second_budget() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "Silent Test CA");
    let port = black_hole().await;
    let leaf = pki.leaf(GOOD, None, Some(&format!("http://127.0.0.1:{port}/")));
    let addr = server_for(&pki, &leaf, None).await;
    let started = Instant::now();
    let err = connect(&client(pki.anchors(), RevocationPolicy::HardFail), addr)
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, TlsError::RevocationUnknown { .. }), "{err:?}");
    assert!(
        elapsed >= Duration::from_millis(4900) && elapsed < Duration::from_secs(8),
        "{elapsed:?}"
    );
    eprintln!(
        "figures: silent responder refused after {} ms",
        elapsed.as_millis()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_ocsp_signature_is_refused_even_under_soft_fail() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "Forge Test CA");
    pki.write_index(&[GOOD], &[]);
    // A key that claims the CA's name: the response names the CA but is not signed by it.
    let rogue = Pki::new(&dir.path().join("rogue"), "Forge Test CA");
    let responder = OcspResponder::start(&pki, (&rogue.ca_pem(), &rogue.ca_key()));
    let leaf = pki.leaf(GOOD, None, Some(&responder.url()));
    let addr = server_for(&pki, &leaf, None).await;
    let err = connect(&client(pki.anchors(), RevocationPolicy::SoftFail), addr)
        .await
        .unwrap_err();
    match &err {
        TlsError::RevocationForged { why, .. } => {
            assert!(why.contains("does not verify"), "{why}")
        }
        other => panic!("expected RevocationForged, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_source_is_reported_and_off_checks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "Plain Test CA");
    let plain = pki.leaf(GOOD, None, None);
    let addr = server_for(&pki, &plain, None).await;
    let security = connect(&client(pki.anchors(), RevocationPolicy::HardFail), addr)
        .await
        .unwrap();
    assert_eq!(security.revocation, RevocationStatus::NoInformation);

    let dead = pki.leaf(
        REVOKED,
        None,
        Some(&format!("http://127.0.0.1:{}/", closed_port())),
    );
    let addr = server_for(&pki, &dead, None).await;
    let security = connect(&client(pki.anchors(), RevocationPolicy::Off), addr)
        .await
        .unwrap();
    assert_eq!(security.revocation, RevocationStatus::Off);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tls_1_1_only_server_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "Old TLS CA");
    let leaf = pki.leaf(GOOD, None, None);
    let key = dir.path().join("leaf.key");
    std::fs::write(&key, pem_key(&leaf)).unwrap();
    let server = OpensslServer::start(
        &leaf.pem,
        &key,
        &["-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
    );
    let addr: SocketAddr = ([127, 0, 0, 1], server.port).into();
    let err = connect(&client(pki.anchors(), RevocationPolicy::HardFail), addr)
        .await
        .unwrap_err();
    assert!(matches!(err, TlsError::ProtocolVersion(_)), "{err:?}");
    assert!(err.to_string().contains("TLS 1.2 or 1.3"), "{err}");
}

/// The PEM text of `leaf`'s private key.
fn pem_key(leaf: &Leaf) -> String {
    support::pki::pem("PRIVATE KEY", leaf.key.secret_der())
}

fn anchors_from(ca: &Path) -> TrustAnchors {
    TrustAnchors::from_pem_file(ca).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_1024_is_refused_under_common_criteria() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = openssl_chain(dir.path(), 1024, "sha256");
    let server = OpensslServer::start(&cert, &key, &["-cipher", "DEFAULT:@SECLEVEL=0"]);
    let addr: SocketAddr = ([127, 0, 0, 1], server.port).into();
    let err = connect(&cc_client(anchors_from(&ca)), addr)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            TlsError::CommonCriteria(CcViolation::RsaKeyTooSmall { bits: 1024, .. })
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sha1_signed_chain_is_refused_under_common_criteria() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = openssl_chain(dir.path(), 2048, "sha1");
    let server = OpensslServer::start(&cert, &key, &["-cipher", "DEFAULT:@SECLEVEL=0"]);
    let addr: SocketAddr = ([127, 0, 0, 1], server.port).into();
    let err = connect(&cc_client(anchors_from(&ca)), addr)
        .await
        .unwrap_err();
    match &err {
        TlsError::CommonCriteria(CcViolation::WeakSignature { algorithm, .. }) => {
            assert_eq!(algorithm, "sha1WithRSAEncryption")
        }
        other => panic!("expected a SHA-1 refusal, got {other:?}"),
    }
}

/// `lockphone register` against `addr` with this TLS section; returns (exit code, stderr).
async fn register_through_binary(
    dir: &Path,
    addr: SocketAddr,
    top: &str,
    tls: &str,
) -> (Option<i32>, String) {
    let config = dir.join("lockphone.toml");
    std::fs::write(
        &config,
        format!(
            "{top}\n[[account]]\nname = \"alice\"\naor = \"sip:alice@127.0.0.1\"\nregistrar = \"sip:127.0.0.1:{}\"\n\
             [account.tls]\ntrust_store = \"{}\"\n{tls}\n",
            addr.port(),
            dir.join("store.json").display()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap().to_owned();
    let out = tokio::task::spawn_blocking(move || {
        support::run_lockphone(&["register", "--config", &config, "--duration", "1"], 30)
    })
    .await
    .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_says_a_crl_revoked_server_was_revoked() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "CRL Test CA");
    let (url, requests) = serve_http(pki.crl(&[REVOKED]), "ca.crl").await;
    let leaf = pki.leaf(REVOKED, Some(&url), None);
    let addr = server_for(&pki, &leaf, None).await;
    let tls = format!(
        "ca_file = \"{}\"\nrevocation = \"soft-fail\"",
        pki.ca_pem().display()
    );
    let (code, stderr) = register_through_binary(dir.path(), addr, "", &tls).await;
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("was REVOKED by its CA"), "{stderr}");
    assert!(stderr.contains("keyCompromise"), "{stderr}");
    assert!(stderr.contains("according to CRL"), "{stderr}");
    assert!(requests.load(Ordering::SeqCst) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_refuses_rsa_1024_in_global_common_criteria_mode() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = openssl_chain(&dir.path().join("pki"), 1024, "sha256");
    let server = OpensslServer::start(&cert, &key, &["-cipher", "DEFAULT:@SECLEVEL=0"]);
    let addr: SocketAddr = ([127, 0, 0, 1], server.port).into();
    let tls = format!("ca_file = \"{}\"", ca.display());
    let (code, stderr) =
        register_through_binary(dir.path(), addr, "common_criteria = true", &tls).await;
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("Common Criteria mode refuses"), "{stderr}");
    assert!(stderr.contains("1024-bit RSA key"), "{stderr}");
}

/// A key file (mode 0600, as the account loader demands) for `leaf`.
fn write_key(dir: &Path, leaf: &Leaf) -> std::path::PathBuf {
    let path = dir.join(format!("leaf-{}.key", hex(&leaf.serial)));
    support::write_private(&path, &pem_key(leaf));
    path
}

/// A listener for direct calls checks the revocation of the client certificate a caller
/// presents, as a client checks a server's: a certificate its CA's CRL revokes is disconnected
/// before any SIP is read; a good one is accepted with the CRL's verdict in its record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listener_refuses_a_revoked_client_certificate() {
    use lockphone::transport::TransportEvent;

    const CALLER_GOOD: [u8; 2] = [0x10, 0x03];
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path(), "Client CRL CA");
    let (crl_url, fetches) = serve_http(pki.crl(&[REVOKED]), "clients.crl").await;
    let server_leaf = pki.leaf(GOOD, None, None);
    let server_key = write_key(dir.path(), &server_leaf);
    let (listener, mut received) = TransportLayer::new(
        Some(client(pki.anchors(), RevocationPolicy::HardFail)),
        None,
    );
    let config =
        lockphone::tls::listener_config(&server_leaf.pem, &server_key, &pki.anchors()).unwrap();
    let addr = listener
        .listen_tls("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap();
    let target = Target {
        transport: Transport::Tls,
        addr,
        server_name: Some("127.0.0.1".to_owned()),
    };
    let options = |n: u32| {
        format!(
            "OPTIONS sip:bob@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TLS 127.0.0.1:5061;branch=z9hG4bK-{n}\r\n\
             From: <sip:alice@127.0.0.1>;tag={n}\r\nTo: <sip:bob@127.0.0.1>\r\nCall-ID: crl-{n}\r\n\
             CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    };
    for (n, serial) in [(1, REVOKED), (2, CALLER_GOOD)] {
        let leaf = pki.leaf(serial, Some(&crl_url), None);
        let key = write_key(dir.path(), &leaf);
        let identity = lockphone::tls::ClientIdentity::from_pem_files(&leaf.pem, &key).unwrap();
        let tls = ClientTlsBuilder::new(pki.anchors())
            .client_identity(identity)
            .revocation(RevocationPolicy::HardFail)
            .build()
            .unwrap();
        let (caller, mut caller_events) = TransportLayer::new(Some(tls), None);
        // The caller's handshake completes (TLS 1.3 clients finish first); the listener then
        // checks the certificate and closes the connection if it is revoked.
        caller.connect(&target).await.unwrap();
        let _ = caller.send(&target, options(n)).await;
        if serial == REVOKED {
            let closed = tokio::time::timeout(Duration::from_secs(10), caller_events.recv())
                .await
                .expect("the listener closes the connection")
                .unwrap();
            assert!(
                matches!(closed, TransportEvent::ConnectionClosed { .. }),
                "{closed:?}"
            );
            assert!(fetches.load(Ordering::SeqCst) >= 1, "the CRL was fetched");
            assert!(
                received.try_recv().is_err(),
                "nothing from a revoked client reaches the user agent"
            );
        } else {
            let event = tokio::time::timeout(Duration::from_secs(10), received.recv())
                .await
                .expect("the OPTIONS arrives")
                .unwrap();
            let TransportEvent::Message(incoming) = event else {
                panic!("not a message: {event:?}");
            };
            assert!(incoming.security.peer_verified);
            let sources = good_sources(&incoming.security.revocation);
            assert_eq!(sources.len(), 1, "{sources:?}");
            assert_eq!(sources[0].0, RevocationSource::Crl);
        }
    }
}
