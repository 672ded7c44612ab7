//! Chain and SIP identity, case by case, against real TLS servers (rustls listeners of the
//! transport layer on 127.0.0.1) presenting certificates made for each case with rcgen: every
//! refusal has its own typed reason, every positive case is verified for the right name, and
//! the user's decisions ("Always trust", "Continue") are honoured exactly as far as they go.
//! The same decisions through the `Phone` API and through the real binary at an interactive
//! prompt (tmux) run against the peers kit's kamailio.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use lockphone::tls::{
    ClientTls, ClientTlsBuilder, TlsError, TrustAnchors, TrustBasis, fingerprint,
    server_config_from_der,
};
use lockphone::transport::{ConnectionInfo, Target, TransportError, TransportLayer};
use lockphone::trust::identity::{IdentityError, IdentityPolicy};
use lockphone::trust::store::{TrustStore, TrustedCertificate};
use lockphone_sip::message::Transport;
use rcgen::{DnType, SanType, date_time_ymd};
use support::pki::{Leaf, TestCa};

/// A real TLS server on 127.0.0.1 presenting `leaf` (and `ca` after it, when given).
async fn tls_server(leaf: &Leaf, ca: Option<&TestCa>) -> (TransportLayer, SocketAddr) {
    let mut chain = vec![leaf.cert.clone()];
    chain.extend(ca.map(TestCa::cert));
    let config = server_config_from_der(chain, leaf.key.clone_key()).unwrap();
    let (server, _events) = TransportLayer::new(None, None);
    let addr = server
        .listen_tls("127.0.0.1:0".parse().unwrap(), config)
        .await
        .unwrap();
    (server, addr)
}

/// What a client trusts.
#[derive(Default)]
struct Trust<'a> {
    ca: Option<&'a TestCa>,
    policy: IdentityPolicy,
    store: Option<&'a Path>,
    pins: Vec<String>,
}

fn client(trust: &Trust<'_>) -> ClientTls {
    let mut anchors = TrustAnchors::empty();
    if let Some(ca) = trust.ca {
        anchors.add_der(ca.cert()).unwrap();
    }
    let mut builder = ClientTlsBuilder::new(anchors)
        .identity_policy(trust.policy)
        .pinned(trust.pins.clone());
    if let Some(path) = trust.store {
        builder = builder.trust_store(Arc::new(TrustStore::open(path).unwrap()));
    }
    builder.build().unwrap()
}

async fn connect(
    tls: &ClientTls,
    addr: SocketAddr,
    name: &str,
) -> Result<ConnectionInfo, TransportError> {
    let (client, _events) = TransportLayer::new(Some(tls.clone()), None);
    let target = Target {
        transport: Transport::Tls,
        addr,
        server_name: Some(name.to_owned()),
    };
    client.connect(&target).await
}

/// The TLS reason of a refused connection.
fn refusal(result: Result<ConnectionInfo, TransportError>) -> TlsError {
    match result {
        Err(TransportError::Tls { source, .. }) => source,
        Err(other) => panic!("refused, but not by TLS: {other}"),
        Ok(info) => panic!("accepted, expected a refusal: {:?}", info.security),
    }
}

/// Connects to a server presenting `leaf` (signed by `ca`) as `name`.
async fn connect_to(
    leaf: &Leaf,
    ca: Option<&TestCa>,
    trust: &Trust<'_>,
    name: &str,
) -> (ClientTls, Result<ConnectionInfo, TransportError>) {
    let (_server, addr) = tls_server(leaf, ca).await;
    let tls = client(trust);
    let result = connect(&tls, addr, name).await;
    (tls, result)
}

/// Writes a trust store at `path` holding the user's "Always trust" of the certificate with
/// this fingerprint for sip.example.test.
fn store_trusting(path: &Path, sha256: &str) {
    let mut store = TrustStore::open(path).unwrap();
    store.insert(TrustedCertificate::new(
        "sip.example.test",
        sha256,
        "s",
        "i",
        "x",
    ));
    store.save().unwrap();
}

fn dns(name: &str) -> SanType {
    SanType::DnsName(name.try_into().unwrap())
}

// ---- refused, each with its own reason ----

#[tokio::test]
async fn unknown_ca_is_refused_and_offered_for_a_decision() {
    let ca = TestCa::new("server CA");
    let other = TestCa::new("someone else");
    let leaf = ca.leaf(&["sip.example.test"], &[]);
    let trust = Trust {
        ca: Some(&other),
        ..Trust::default()
    };
    let (tls, result) = connect_to(&leaf, Some(&ca), &trust, "sip.example.test").await;
    assert!(matches!(refusal(result), TlsError::UnknownIssuer));
    let pending = tls
        .pending_decision("sip.example.test")
        .expect("a decision");
    assert_eq!(pending.sha256, fingerprint(leaf.cert.as_ref()));
    assert!(
        pending.reason.contains("unknown issuer"),
        "{}",
        pending.reason
    );
}

#[tokio::test]
async fn an_expired_certificate_is_refused_and_never_overridable() {
    let ca = TestCa::new("server CA");
    let leaf = ca.leaf_with(|p| {
        p.subject_alt_names = vec![dns("sip.example.test")];
        p.not_before = date_time_ymd(2019, 1, 1);
        p.not_after = date_time_ymd(2020, 1, 1);
    });
    let trust = Trust {
        ca: Some(&ca),
        ..Trust::default()
    };
    let (tls, result) = connect_to(&leaf, Some(&ca), &trust, "sip.example.test").await;
    assert!(matches!(refusal(result), TlsError::Expired));
    assert!(tls.pending_decision("sip.example.test").is_none());

    // Self-signed and expired: expired wins, and neither a pin nor a stored decision helps.
    let own = Leaf::self_signed(|p| {
        p.subject_alt_names = vec![dns("sip.example.test")];
        p.not_before = date_time_ymd(2019, 1, 1);
        p.not_after = date_time_ymd(2020, 1, 1);
    });
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("trusted.json");
    let sha = fingerprint(own.cert.as_ref());
    store_trusting(&store_path, &sha);
    let trust = Trust {
        store: Some(&store_path),
        pins: vec![sha],
        ..Trust::default()
    };
    let (tls, result) = connect_to(&own, None, &trust, "sip.example.test").await;
    assert!(matches!(refusal(result), TlsError::Expired));
    assert!(tls.pending_decision("sip.example.test").is_none());
}

#[tokio::test]
async fn a_certificate_not_yet_valid_is_refused_and_never_overridable() {
    let own = Leaf::self_signed(|p| {
        p.subject_alt_names = vec![dns("sip.example.test")];
        p.not_before = date_time_ymd(2090, 1, 1);
        p.not_after = date_time_ymd(2091, 1, 1);
    });
    let trust = Trust {
        pins: vec![fingerprint(own.cert.as_ref())],
        ..Trust::default()
    };
    let (tls, result) = connect_to(&own, None, &trust, "sip.example.test").await;
    assert!(matches!(refusal(result), TlsError::NotYetValid));
    assert!(tls.pending_decision("sip.example.test").is_none());
}

#[tokio::test]
async fn a_certificate_for_another_name_is_a_name_mismatch() {
    let ca = TestCa::new("server CA");
    let leaf = ca.leaf(&["sip.example.test"], &[]);
    let trust = Trust {
        ca: Some(&ca),
        ..Trust::default()
    };
    let (tls, result) = connect_to(&leaf, Some(&ca), &trust, "other.example.test").await;
    match refusal(result) {
        TlsError::NameMismatch {
            expected,
            presented,
        } => {
            assert_eq!(expected, "other.example.test");
            assert!(presented.contains("sip.example.test"), "{presented}");
        }
        other => panic!("expected a name mismatch, got {other:?}"),
    }
    // A name mismatch is the user's to override.
    assert!(tls.pending_decision("other.example.test").is_some());
}

#[tokio::test]
async fn connecting_by_ip_to_an_fqdn_only_certificate_is_refused() {
    let ca = TestCa::new("server CA");
    let leaf = ca.leaf(&["sip.example.test"], &[]);
    let trust = Trust {
        ca: Some(&ca),
        ..Trust::default()
    };
    let (_, result) = connect_to(&leaf, Some(&ca), &trust, "127.0.0.1").await;
    let err = refusal(result);
    assert!(
        matches!(err, TlsError::Identity(IdentityError::IpVersusName { .. })),
        "{err:?}"
    );
    assert!(
        err.to_string().contains("connect by the server's name"),
        "{err}"
    );
}

#[tokio::test]
async fn wildcards_follow_the_account_policy() {
    let ca = TestCa::new("server CA");
    let leaf = ca.leaf(&["*.example.test"], &[]);
    let strict = Trust {
        ca: Some(&ca),
        policy: IdentityPolicy::strict_sip(),
        ..Trust::default()
    };
    let (_, result) = connect_to(&leaf, Some(&ca), &strict, "sip.example.test").await;
    assert!(matches!(
        refusal(result),
        TlsError::Identity(IdentityError::WildcardRefused { .. })
    ));
    let allowed = Trust {
        ca: Some(&ca),
        ..Trust::default()
    };
    let (_, result) = connect_to(&leaf, Some(&ca), &allowed, "sip.example.test").await;
    let info = result.unwrap();
    assert_eq!(
        info.security.verified_name.as_deref(),
        Some("sip.example.test")
    );
    assert_eq!(
        info.security.trusted_by,
        Some(TrustBasis::CertificateAuthority)
    );
}

#[tokio::test]
async fn the_common_name_is_ignored_when_the_certificate_has_a_san() {
    let ca = TestCa::new("server CA");
    let leaf = ca.leaf_with(|p| {
        p.distinguished_name
            .push(DnType::CommonName, "sip.example.test");
        p.subject_alt_names = vec![dns("other.example.test")];
    });
    let trust = Trust {
        ca: Some(&ca),
        ..Trust::default()
    };
    let (_, result) = connect_to(&leaf, Some(&ca), &trust, "sip.example.test").await;
    match refusal(result) {
        TlsError::NameMismatch { presented, .. } => {
            assert!(!presented.contains("CN="), "{presented}");
            assert!(presented.contains("other.example.test"), "{presented}");
        }
        other => panic!("expected a name mismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn a_stored_server_presenting_another_certificate_is_a_change() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("trusted.json");
    let trusted_once = Leaf::self_signed(|p| p.subject_alt_names = vec![dns("sip.example.test")]);
    let now = Leaf::self_signed(|p| p.subject_alt_names = vec![dns("sip.example.test")]);
    let stored = fingerprint(trusted_once.cert.as_ref());
    store_trusting(&store_path, &stored);
    let trust = Trust {
        store: Some(&store_path),
        ..Trust::default()
    };
    let (tls, result) = connect_to(&now, None, &trust, "sip.example.test").await;
    match refusal(result) {
        TlsError::CertificateChanged(changed) => {
            assert_eq!(changed.stored, stored);
            assert_eq!(changed.presented.sha256, fingerprint(now.cert.as_ref()));
        }
        other => panic!("expected a changed certificate, got {other:?}"),
    }
    // The user may decide again; until then it stays refused.
    let pending = tls.pending_decision("sip.example.test").unwrap();
    assert!(pending.reason.contains("CHANGED"), "{}", pending.reason);
}

#[tokio::test]
async fn a_server_presenting_another_certificate_than_the_pinned_one_is_refused() {
    let pinned = Leaf::self_signed(|p| p.subject_alt_names = vec![dns("sip.example.test")]);
    let presented = Leaf::self_signed(|p| p.subject_alt_names = vec![dns("sip.example.test")]);
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("trusted.json");
    let trust = Trust {
        pins: vec![fingerprint(pinned.cert.as_ref())],
        store: Some(&store_path),
        ..Trust::default()
    };
    let (tls, result) = connect_to(&presented, None, &trust, "sip.example.test").await;
    match refusal(result) {
        TlsError::PinMismatch(pin) => {
            assert_eq!(pin.presented, fingerprint(presented.cert.as_ref()));
        }
        other => panic!("expected a pin mismatch, got {other:?}"),
    }
    // Fail closed: the user is not asked to override the administrator's pin, and neither
    // a store entry nor Continue for the presented certificate stands in for it.
    assert!(
        tls.pending_decision("sip.example.test").is_none(),
        "no question about a pin mismatch"
    );
    let presented_sha = fingerprint(presented.cert.as_ref());
    store_trusting(&store_path, &presented_sha);
    let (server, addr) = tls_server(&presented, None).await;
    let tls = client(&trust);
    tls.trust_for_session("sip.example.test", &presented_sha);
    assert!(matches!(
        refusal(connect(&tls, addr, "sip.example.test").await),
        TlsError::PinMismatch(_)
    ));
    drop(server);
    // A certificate a CA vouches for is accepted whatever the pins (an extra path, not a
    // restriction).
    let ca = TestCa::new("server CA");
    let leaf = ca.leaf(&["sip.example.test"], &[]);
    let (_, result) = connect_to(
        &leaf,
        Some(&ca),
        &Trust {
            ca: Some(&ca),
            ..trust
        },
        "sip.example.test",
    )
    .await;
    assert_eq!(
        result.unwrap().security.trusted_by,
        Some(TrustBasis::CertificateAuthority)
    );
    let trust = Trust {
        pins: vec![fingerprint(pinned.cert.as_ref())],
        ..Trust::default()
    };
    // The pinned one itself is accepted, and says how.
    let (_, result) = connect_to(&pinned, None, &trust, "sip.example.test").await;
    assert_eq!(
        result.unwrap().security.trusted_by,
        Some(TrustBasis::PinnedFingerprint)
    );
}

/// A certificate made the usual way, `openssl req -x509` (which marks it CA:TRUE), with its key.
fn openssl_self_signed(dir: &Path, name: &str) -> Leaf {
    let (cert, key) = (dir.join("self.crt"), dir.join("self.key"));
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args(["-nodes", "-days", "30", "-subj", &format!("/CN={name}")])
        .args(["-addext", &format!("subjectAltName=DNS:{name}")])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-text", "-in"])
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("CA:TRUE"),
        "openssl req -x509 makes a CA:TRUE certificate"
    );
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    Leaf {
        cert: lockphone::tls::load_certificate_chain(&cert)
            .unwrap()
            .remove(0),
        key: lockphone::tls::load_private_key(&key).unwrap(),
    }
}

#[tokio::test]
async fn an_openssl_self_signed_certificate_is_asked_about_and_accepted_by_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    let own = openssl_self_signed(dir.path(), "sip.example.test");
    let sha = fingerprint(own.cert.as_ref());
    let (_server, addr) = tls_server(&own, None).await;
    let store_path = dir.path().join("trusted.json");
    let trust = Trust {
        store: Some(&store_path),
        ..Trust::default()
    };
    let tls = client(&trust);
    // Refused, with a question that names the reason.
    assert!(matches!(
        refusal(connect(&tls, addr, "sip.example.test").await),
        TlsError::UnknownIssuer
    ));
    let pending = tls
        .pending_decision("sip.example.test")
        .expect("a question");
    assert_eq!(pending.sha256, sha);
    assert!(pending.reason.contains("self-signed"), "{}", pending.reason);
    // Continue connects.
    tls.trust_for_session("sip.example.test", &pending.sha256);
    let info = connect(&tls, addr, "sip.example.test").await.unwrap();
    assert_eq!(info.security.trusted_by, Some(TrustBasis::UserContinued));
    // A pin of its fingerprint connects; a pin of another does not.
    let pinned = client(&Trust {
        pins: vec![sha.clone()],
        ..Trust::default()
    });
    let info = connect(&pinned, addr, "sip.example.test").await.unwrap();
    assert_eq!(
        info.security.trusted_by,
        Some(TrustBasis::PinnedFingerprint)
    );
    let other_dir = dir.path().join("other");
    std::fs::create_dir(&other_dir).unwrap();
    let other = openssl_self_signed(&other_dir, "sip.example.test");
    let (_other_server, other_addr) = tls_server(&other, None).await;
    assert!(matches!(
        refusal(connect(&pinned, other_addr, "sip.example.test").await),
        TlsError::PinMismatch(_)
    ));
    // A store entry of its fingerprint connects.
    store_trusting(&store_path, &sha);
    let stored = client(&trust);
    let info = connect(&stored, addr, "sip.example.test").await.unwrap();
    assert_eq!(info.security.trusted_by, Some(TrustBasis::UserTrustStore));
}

#[tokio::test]
async fn a_self_signed_ca_certificate_that_expired_is_never_overridable() {
    let own = Leaf::self_signed(|p| {
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.subject_alt_names = vec![dns("sip.example.test")];
        p.not_before = date_time_ymd(2019, 1, 1);
        p.not_after = date_time_ymd(2020, 1, 1);
    });
    let trust = Trust {
        pins: vec![fingerprint(own.cert.as_ref())],
        ..Trust::default()
    };
    let (tls, result) = connect_to(&own, None, &trust, "sip.example.test").await;
    assert!(matches!(refusal(result), TlsError::Expired));
    assert!(tls.pending_decision("sip.example.test").is_none());
}

/// A CA:TRUE certificate that is not its own issuer, presented as a server's: not "self-signed",
/// refused without a question.
#[tokio::test]
async fn a_ca_certificate_issued_by_another_ca_is_not_self_signed() {
    let ca = TestCa::new("server CA");
    let sub = ca.leaf_with(|p| {
        p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        p.subject_alt_names = vec![dns("sip.example.test")];
    });
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("trusted.json");
    let trust = Trust {
        ca: Some(&ca),
        store: Some(&store_path),
        ..Trust::default()
    };
    let (tls, result) = connect_to(&sub, Some(&ca), &trust, "sip.example.test").await;
    assert!(
        matches!(refusal(result), TlsError::BadCertificate(_)),
        "a CA used as a server"
    );
    assert!(tls.pending_decision("sip.example.test").is_none());
}

// ---- accepted ----

#[tokio::test]
async fn a_sip_uri_san_identifies_the_sip_domain() {
    let ca = TestCa::new("server CA");
    let leaf = ca.leaf_with_sans(vec![SanType::URI("sip:example.test".try_into().unwrap())]);
    let trust = Trust {
        ca: Some(&ca),
        ..Trust::default()
    };
    let (_, result) = connect_to(&leaf, Some(&ca), &trust, "example.test").await;
    let info = result.unwrap();
    assert_eq!(info.security.verified_name.as_deref(), Some("example.test"));
    // A SIP URI with a user part is not a domain identity (RFC 5922 §7.1).
    let user = ca.leaf_with_sans(vec![SanType::URI(
        "sip:alice@example.test".try_into().unwrap(),
    )]);
    let (_, result) = connect_to(&user, Some(&ca), &trust, "example.test").await;
    assert!(matches!(refusal(result), TlsError::NameMismatch { .. }));
}

#[tokio::test]
async fn an_srvname_identifies_the_sip_domain() {
    const SRV_NAME: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 8, 7];
    let ca = TestCa::new("server CA");
    let leaf = ca.leaf_with_sans(vec![SanType::OtherName((
        SRV_NAME.to_vec(),
        rcgen::OtherNameValue::Utf8String("_sips.example.test".to_owned()),
    ))]);
    let trust = Trust {
        ca: Some(&ca),
        ..Trust::default()
    };
    let (_, result) = connect_to(&leaf, Some(&ca), &trust, "example.test").await;
    assert_eq!(
        result.unwrap().security.verified_name.as_deref(),
        Some("example.test")
    );
    let (_, result) = connect_to(&leaf, Some(&ca), &trust, "other.test").await;
    assert!(matches!(refusal(result), TlsError::NameMismatch { .. }));
}

#[tokio::test]
async fn a_cn_only_certificate_identifies_its_server() {
    let ca = TestCa::new("server CA");
    let leaf = ca.leaf_with(|p| {
        p.distinguished_name
            .push(DnType::CommonName, "sip.example.test");
    });
    let trust = Trust {
        ca: Some(&ca),
        ..Trust::default()
    };
    let (_, result) = connect_to(&leaf, Some(&ca), &trust, "sip.example.test").await;
    assert_eq!(
        result.unwrap().security.verified_name.as_deref(),
        Some("sip.example.test")
    );
    let (_, result) = connect_to(&leaf, Some(&ca), &trust, "other.example.test").await;
    assert!(matches!(refusal(result), TlsError::NameMismatch { .. }));
}

#[tokio::test]
async fn always_trust_is_stored_and_reconnects_without_a_question_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("lockphone/trusted.json");
    let own = Leaf::self_signed(|p| p.subject_alt_names = vec![dns("sip.example.test")]);
    let (_server, addr) = tls_server(&own, None).await;
    let trust = Trust {
        store: Some(&store_path),
        ..Trust::default()
    };
    let tls = client(&trust);
    assert!(matches!(
        refusal(connect(&tls, addr, "sip.example.test").await),
        TlsError::UnknownIssuer
    ));
    let pending = tls.pending_decision("sip.example.test").unwrap();
    tls.trust_always("sip.example.test", &pending).unwrap();
    let info = connect(&tls, addr, "sip.example.test").await.unwrap();
    assert_eq!(info.security.trusted_by, Some(TrustBasis::UserTrustStore));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&store_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "the store is private");
    }
    // "Restart": a new configuration from the file, no question.
    let restarted = client(&trust);
    let info = connect(&restarted, addr, "sip.example.test").await.unwrap();
    assert_eq!(info.security.trusted_by, Some(TrustBasis::UserTrustStore));
    assert!(restarted.pending_decision("sip.example.test").is_none());
    // The decision is for this identity only: reached as 127.0.0.1 it is untrusted again.
    assert!(matches!(
        refusal(connect(&restarted, addr, "127.0.0.1").await),
        TlsError::UnknownIssuer
    ));
    assert!(restarted.pending_decision("127.0.0.1").is_some());
}

#[tokio::test]
async fn continue_lasts_for_this_run_only_and_is_asked_again_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let store_path = dir.path().join("trusted.json");
    let own = Leaf::self_signed(|p| p.subject_alt_names = vec![dns("sip.example.test")]);
    let (_server, addr) = tls_server(&own, None).await;
    let trust = Trust {
        store: Some(&store_path),
        ..Trust::default()
    };
    let tls = client(&trust);
    refusal(connect(&tls, addr, "sip.example.test").await);
    let pending = tls.pending_decision("sip.example.test").unwrap();
    tls.trust_for_session("sip.example.test", &pending.sha256);
    for _ in 0..2 {
        let info = connect(&tls, addr, "sip.example.test").await.unwrap();
        assert_eq!(info.security.trusted_by, Some(TrustBasis::UserContinued));
    }
    assert!(!store_path.exists(), "Continue writes nothing");
    let restarted = client(&trust);
    assert!(matches!(
        refusal(connect(&restarted, addr, "sip.example.test").await),
        TlsError::UnknownIssuer
    ));
    assert!(
        restarted.pending_decision("sip.example.test").is_some(),
        "asked again"
    );
}

#[tokio::test]
async fn a_direct_call_to_an_untrusted_server_is_refused_then_dialled_again_after_continue() {
    use lockphone::call::CallOptions;
    use lockphone::trust::TrustDecision;
    use lockphone::ua::{Event, UaError};

    let own = Leaf::self_signed(|p| p.subject_alt_names = vec![SanType::IpAddress(addr_ip())]);
    let (_server, addr) = tls_server(&own, None).await;
    let dir = tempfile::tempdir().unwrap();
    let mut phone = direct_tls_phone(dir.path()).await;
    let options = CallOptions::silence;
    let uri = format!("sips:bob@127.0.0.1:{}", addr.port());
    // A call attempt is not held: it fails at once with the TLS reason, and the question
    // comes as an event before the answer.
    let refused = phone.dial(&uri, options()).await.unwrap_err();
    assert!(
        matches!(
            refused,
            UaError::Transport(TransportError::Tls {
                source: TlsError::UnknownIssuer,
                ..
            })
        ),
        "{refused}"
    );
    let question = tokio::time::timeout(std::time::Duration::from_secs(5), phone.next_event())
        .await
        .unwrap()
        .unwrap();
    let Event::TrustDecisionRequired {
        server,
        certificate,
    } = question
    else {
        panic!("expected a trust question, got {question:?}");
    };
    assert_eq!(server, "127.0.0.1");
    assert_eq!(certificate.sha256, fingerprint(own.cert.as_ref()));
    phone
        .decide_trust(&server, TrustDecision::Continue)
        .unwrap();
    let call = phone.dial(&uri, options()).await.unwrap();
    let started = loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(5), phone.next_event())
            .await
            .unwrap()
            .unwrap();
        if let Event::CallStarted {
            call: id, security, ..
        } = event
        {
            assert_eq!(id, call);
            break security;
        }
    };
    assert_eq!(started.trusted_by, Some(TrustBasis::UserContinued));
    phone.shutdown().await;
}

#[tokio::test]
async fn a_question_is_only_about_the_certificate_of_an_overridable_refusal() {
    use lockphone::call::CallOptions;
    use lockphone::trust::TrustDecision;
    use lockphone::ua::{Event, Phone};

    let ip_san = || vec![SanType::IpAddress(addr_ip())];
    let first = Leaf::self_signed(|p| p.subject_alt_names = ip_san());
    let expired = Leaf::self_signed(|p| {
        p.subject_alt_names = ip_san();
        p.not_before = date_time_ymd(2019, 1, 1);
        p.not_after = date_time_ymd(2020, 1, 1);
    });
    let second = Leaf::self_signed(|p| p.subject_alt_names = ip_san());
    let (_s1, first_addr) = tls_server(&first, None).await;
    let (_s2, expired_addr) = tls_server(&expired, None).await;
    let (_s3, second_addr) = tls_server(&second, None).await;
    let dir = tempfile::tempdir().unwrap();
    let mut phone = direct_tls_phone(dir.path()).await;
    let uri = |addr: SocketAddr| format!("sips:bob@127.0.0.1:{}", addr.port());
    // The questions raised within `wait`, by certificate fingerprint.
    async fn questions(phone: &mut Phone, wait: std::time::Duration) -> Vec<String> {
        let mut asked = Vec::new();
        while let Ok(Some(event)) = tokio::time::timeout(wait, phone.next_event()).await {
            if let Event::TrustDecisionRequired { certificate, .. } = event {
                asked.push(certificate.sha256);
            }
        }
        asked
    }
    let wait = std::time::Duration::from_millis(800);

    phone
        .dial(&uri(first_addr), CallOptions::silence())
        .await
        .unwrap_err();
    assert_eq!(
        questions(&mut phone, wait).await,
        [fingerprint(first.cert.as_ref())]
    );
    // While it waits: an expired certificate is refused without a question (about anything).
    phone
        .dial(&uri(expired_addr), CallOptions::silence())
        .await
        .unwrap_err();
    assert_eq!(questions(&mut phone, wait).await, Vec::<String>::new());
    // Another untrusted certificate: not asked about the older one again.
    phone
        .dial(&uri(second_addr), CallOptions::silence())
        .await
        .unwrap_err();
    assert_eq!(questions(&mut phone, wait).await, Vec::<String>::new());
    // Once the first is decided, the next refusal of the second asks about the second.
    phone
        .decide_trust("127.0.0.1", TrustDecision::Cancel)
        .unwrap();
    phone
        .dial(&uri(second_addr), CallOptions::silence())
        .await
        .unwrap_err();
    assert_eq!(
        questions(&mut phone, wait).await,
        [fingerprint(second.cert.as_ref())]
    );
    phone.shutdown().await;
}

/// A phone for alice, not registering, calling directly over TLS with no CA and its trust
/// store in `dir`.
async fn direct_tls_phone(dir: &Path) -> lockphone::ua::Phone {
    let config = lockphone::config::Config::from_toml(&format!(
        "[[account]]\nname = \"alice\"\naor = \"sip:alice@127.0.0.1\"\nregister = false\ntransport = \"tls\"\n\
         [account.tls]\ntrust_store = \"{}\"\n",
        dir.join("trusted.json").display()
    ))
    .unwrap();
    lockphone::ua::Phone::start(config.account(None).unwrap())
        .await
        .unwrap()
}

fn addr_ip() -> std::net::IpAddr {
    std::net::IpAddr::from([127, 0, 0, 1])
}

// ---- the decision through the Phone API and the real binary (kamailio of tests/peers) ----

mod kamailio {
    use std::path::{Path, PathBuf};
    use std::time::Duration;

    use lockphone::config::Config;
    use lockphone::trust::{TrustDecision, TrustDecisionError};
    use lockphone::ua::{Event, FailureKind, Phone, UaError};
    use serde_json::Value;

    use super::support::peers::PeersRun;
    use super::support::tmux::Pane;
    use super::support::{json_lines, lockphone_bin, run_lockphone, write_private};

    /// An account trusting only the unrelated rogue certificate as CA (so kamailio's
    /// certificate needs a decision), with a private trust store.
    fn config(run: &PeersRun, port: u16) -> PathBuf {
        write_private(&run.dir().join("alice.password"), "alicepw");
        let path = run.dir().join("alice.toml");
        let text = format!(
            "[[account]]\nname = \"alice\"\naor = \"sip:alice@127.0.0.1\"\nregistrar = \"sip:127.0.0.1:{port}\"\n\
             [account.auth]\nmethod = \"digest\"\npassword_file = \"{}\"\n\
             [account.tls]\nca_file = \"{}\"\ntrust_store = \"{}\"\n",
            run.dir().join("alice.password").display(),
            run.pki().join("rogue.crt").display(),
            store(run).display()
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    fn store(run: &PeersRun) -> PathBuf {
        run.dir().join("trusted-servers.json")
    }

    fn server_sha256(run: &PeersRun) -> String {
        let chain = lockphone::tls::load_certificate_chain(&run.pki().join("server.crt")).unwrap();
        lockphone::tls::fingerprint(chain[0].as_ref())
    }

    async fn phone(config: &Path) -> Phone {
        let config = Config::load(config).unwrap();
        Phone::start(config.account(None).unwrap()).await.unwrap()
    }

    /// Events until one matches `done` (or 15 s pass).
    async fn events_until(phone: &mut Phone, done: impl Fn(&Event) -> bool) -> Vec<Event> {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let event = tokio::time::timeout_at(deadline, phone.next_event())
                .await
                .unwrap_or_else(|_| panic!("timed out; events so far: {seen:?}"))
                .expect("phone stopped");
            let stop = done(&event);
            seen.push(event);
            if stop {
                return seen;
            }
        }
    }

    fn trusted_by(events: &[Event]) -> Option<lockphone::tls::TrustBasis> {
        events.iter().find_map(|e| match e {
            Event::Connected { security, .. } => security.trusted_by,
            _ => None,
        })
    }

    fn asked(events: &[Event]) -> bool {
        events
            .iter()
            .any(|e| matches!(e, Event::TrustDecisionRequired { .. }))
    }

    #[tokio::test]
    async fn the_phone_waits_for_the_decision_and_honours_each_choice() {
        let run = PeersRun::new();
        let port = run.start_kamailio(&["--auth", "digest"]);
        let config = config(&run, port);
        let sha = server_sha256(&run);

        // Continue: registered, trusted for this phone only.
        let mut first = phone(&config).await;
        assert!(matches!(
            first.decide_trust("127.0.0.1", TrustDecision::Continue),
            Err(UaError::Trust(TrustDecisionError::NothingPending { .. }))
        ));
        first.register();
        let events = events_until(&mut first, |e| {
            matches!(e, Event::TrustDecisionRequired { .. })
        })
        .await;
        let Some(Event::TrustDecisionRequired {
            server,
            certificate,
        }) = events.last()
        else {
            unreachable!()
        };
        assert_eq!(server, "127.0.0.1");
        assert_eq!(certificate.sha256, sha);
        // Paused, not failed: nothing else comes until the decision.
        let quiet = tokio::time::timeout(Duration::from_millis(1500), first.next_event()).await;
        assert!(quiet.is_err(), "no event while waiting: {quiet:?}");
        first
            .decide_trust("127.0.0.1", TrustDecision::Continue)
            .unwrap();
        let events = events_until(&mut first, |e| matches!(e, Event::Registered { .. })).await;
        assert_eq!(
            trusted_by(&events),
            Some(lockphone::tls::TrustBasis::UserContinued)
        );
        first.shutdown().await;
        assert!(!store(&run).exists(), "Continue stores nothing");

        // After a restart: asked again. Cancel: a TLS failure, nothing stored.
        let mut second = phone(&config).await;
        second.register();
        events_until(&mut second, |e| {
            matches!(e, Event::TrustDecisionRequired { .. })
        })
        .await;
        second
            .decide_trust("127.0.0.1", TrustDecision::Cancel)
            .unwrap();
        let events = events_until(&mut second, |e| {
            matches!(
                e,
                Event::RegistrationFailed { .. } | Event::Registered { .. }
            )
        })
        .await;
        match events.last() {
            Some(Event::RegistrationFailed { kind, reason }) => {
                assert_eq!(*kind, FailureKind::Tls);
                assert!(
                    reason.contains("cancel") && reason.contains(&sha),
                    "{reason}"
                );
            }
            other => panic!("expected a failure, got {other:?}"),
        }
        second.shutdown().await;
        assert!(!store(&run).exists(), "Cancel stores nothing");

        // Always trust: stored (0600), and the next phone registers without a question.
        let mut third = phone(&config).await;
        third.register();
        events_until(&mut third, |e| {
            matches!(e, Event::TrustDecisionRequired { .. })
        })
        .await;
        third
            .decide_trust("127.0.0.1", TrustDecision::AlwaysTrust)
            .unwrap();
        let events = events_until(&mut third, |e| matches!(e, Event::Registered { .. })).await;
        assert_eq!(
            trusted_by(&events),
            Some(lockphone::tls::TrustBasis::UserTrustStore)
        );
        third.shutdown().await;
        let stored = lockphone::trust::store::TrustStore::open(&store(&run)).unwrap();
        assert_eq!(
            stored.verdict("127.0.0.1", &sha),
            lockphone::trust::store::StoreVerdict::Trusted
        );
        let mut fourth = phone(&config).await;
        fourth.register();
        let events = events_until(&mut fourth, |e| matches!(e, Event::Registered { .. })).await;
        assert!(
            !asked(&events),
            "no question after Always trust: {events:?}"
        );
        assert_eq!(
            trusted_by(&events),
            Some(lockphone::tls::TrustBasis::UserTrustStore)
        );
        fourth.shutdown().await;
    }

    const QUESTION: &str = "[A]lways trust / [C]ontinue / Cancel?";

    /// Answers the prompt of one `lockphone register` run in a terminal (a tmux pane named
    /// `name`); returns the screen at its end (`EXITED <code>` on its last line).
    fn register_answering(name: &str, config: &Path, xdg: &Path, answer: &str) -> String {
        let command = format!(
            "env XDG_CONFIG_HOME='{}' RUST_LOG=warn '{}' register --config '{}' --duration 1",
            xdg.display(),
            lockphone_bin().display(),
            config.display()
        );
        let pane = Pane::start(name, &command, 220, 60);
        let screen = pane.wait_for(&[QUESTION], 20);
        assert!(screen.contains("subject"), "{screen}");
        pane.type_text(answer);
        pane.keys(&["Enter"]);
        pane.wait_for(&["EXITED "], 20)
    }

    fn headless_register(config: &Path) -> (Option<i32>, Vec<Value>) {
        let out = run_lockphone(
            &[
                "register",
                "--config",
                config.to_str().unwrap(),
                "--json",
                "--duration",
                "1",
            ],
            30,
        );
        (out.status.code(), json_lines(&out.stdout))
    }

    #[test]
    fn at_a_terminal_always_trust_is_asked_once_and_remembered() {
        let run = PeersRun::new();
        let port = run.start_kamailio(&["--auth", "digest"]);
        let config = config(&run, port);
        let sha = server_sha256(&run);
        let screen = register_answering("trust-always", &config, run.dir(), "a");
        assert!(screen.contains(&sha), "the fingerprint is shown:\n{screen}");
        assert!(
            screen.contains("IP:127.0.0.1"),
            "the SANs are shown:\n{screen}"
        );
        assert!(screen.contains("unknown issuer"), "the reason:\n{screen}");
        assert!(screen.contains("registered for"), "{screen}");
        assert!(screen.contains("EXITED 0"), "{screen}");
        // Headless afterwards: no question, trusted by the store.
        let (code, events) = headless_register(&config);
        assert_eq!(code, Some(0));
        assert!(
            events
                .iter()
                .all(|e| e["event"] != "trust-decision-required")
        );
        let connected = events.iter().find(|e| e["event"] == "connected").unwrap();
        assert_eq!(connected["security"]["trusted_by"], "user-trust-store");
    }

    #[test]
    fn at_a_terminal_continue_is_asked_again_next_time_and_cancel_refuses() {
        let run = PeersRun::new();
        let port = run.start_kamailio(&["--auth", "digest"]);
        let config = config(&run, port);
        let screen = register_answering("trust-continue", &config, run.dir(), "c");
        assert!(screen.contains("for this run only"), "{screen}");
        assert!(screen.contains("registered for"), "{screen}");
        assert!(screen.contains("EXITED 0"), "{screen}");
        assert!(!store(&run).exists(), "Continue stores nothing");
        // Next run: asked again; Cancel refuses with the TLS exit code, storing nothing.
        let screen = register_answering("trust-cancel", &config, run.dir(), "cancel");
        assert!(screen.contains("not trusting this certificate"), "{screen}");
        assert!(screen.contains("decision: cancel"), "{screen}");
        assert!(screen.contains("EXITED 4"), "{screen}");
        assert!(!screen.contains("registered for"), "{screen}");
        assert!(!store(&run).exists(), "Cancel stores nothing");
        // Headless: refused by the policy, without a question.
        let (code, events) = headless_register(&config);
        assert_eq!(code, Some(4));
        assert!(events.iter().all(|e| e["event"] != "registered"));
    }
}
