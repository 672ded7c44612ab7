//! The trust decision against the real kamailio of tests/peers: a certificate no CA vouches for
//! produces a TrustDecisionRequired event; "Always trust" (trust import) and a pinned
//! fingerprint let the registration through and say so; a changed certificate raises the
//! alarm and is refused; importing a PEM bundle makes its CA an anchor.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use serde_json::Value;
use support::peers::PeersRun;
use support::{json_lines, run_lockphone, write_private};

/// An account trusting only the unrelated rogue certificate as CA, with a private trust store.
fn config(run: &PeersRun, port: u16, extra_tls: &str) -> String {
    write_private(&run.dir().join("alice.password"), "alicepw");
    let path = run.dir().join("alice.toml");
    let text = format!(
        "[[account]]\nname = \"alice\"\naor = \"sip:alice@127.0.0.1\"\nregistrar = \"sip:127.0.0.1:{port}\"\n\
         [account.auth]\nmethod = \"digest\"\npassword_file = \"alice.password\"\n\
         [account.tls]\nca_file = \"{}\"\ntrust_store = \"{}\"\n{extra_tls}",
        run.pki().join("rogue.crt").display(),
        store(run).display()
    );
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn store(run: &PeersRun) -> std::path::PathBuf {
    run.dir().join("trusted-servers.json")
}

fn register(config: &str) -> (Option<i32>, Vec<Value>, String) {
    let out = run_lockphone(
        &["register", "--config", config, "--json", "--duration", "1"],
        30,
    );
    (
        out.status.code(),
        json_lines(&out.stdout),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn trust_import(run: &PeersRun, cert: &Path) {
    let store = store(run);
    let out = run_lockphone(
        &[
            "trust",
            "--store",
            store.to_str().unwrap(),
            "import",
            "--identity",
            "127.0.0.1",
            cert.to_str().unwrap(),
        ],
        10,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn sha256_of(cert: &Path) -> String {
    let chain = lockphone::tls::load_certificate_chain(cert).unwrap();
    lockphone::tls::fingerprint(chain[0].as_ref())
}

fn connected_trust(events: &[Value]) -> Value {
    events
        .iter()
        .find(|e| e["event"] == "connected")
        .expect("connected")["security"]["trusted_by"]
        .clone()
}

#[test]
fn an_untrusted_certificate_asks_for_a_decision_with_its_details() {
    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "digest"]);
    let (code, events, stderr) = register(&config(&run, port, ""));
    assert_eq!(code, Some(4), "{stderr}");
    let decision = events
        .iter()
        .find(|e| e["event"] == "trust-decision-required")
        .expect("decision event");
    assert_eq!(decision["server"], "127.0.0.1");
    let cert = &decision["certificate"];
    assert_eq!(cert["sha256"], sha256_of(&run.pki().join("server.crt")));
    assert!(
        cert["issuer"].as_str().unwrap().contains("Peers Test CA"),
        "{cert}"
    );
    assert!(
        cert["subject_alt_names"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "IP:127.0.0.1"),
        "{cert}"
    );
    assert!(
        cert["reason"].as_str().unwrap().contains("unknown issuer"),
        "{cert}"
    );
    assert!(cert["not_after"].as_str().is_some_and(|s| !s.is_empty()));
}

#[test]
fn always_trust_lets_the_registration_through_and_says_so() {
    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "digest"]);
    trust_import(&run, &run.pki().join("server.crt"));
    let (code, events, stderr) = register(&config(&run, port, ""));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(connected_trust(&events), "user-trust-store");
    assert!(events.iter().any(|e| e["event"] == "registered"));
}

#[test]
fn a_pinned_fingerprint_lets_the_registration_through() {
    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "digest"]);
    let pin = sha256_of(&run.pki().join("server.crt"))
        .replace(':', "")
        .to_ascii_lowercase();
    let (code, events, stderr) = register(&config(
        &run,
        port,
        &format!("pinned_sha256 = [\"{pin}\"]\n"),
    ));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(connected_trust(&events), "pinned-fingerprint");
}

#[test]
fn a_changed_certificate_is_refused_until_the_user_decides_again() {
    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "digest"]);
    // The user once trusted another certificate for 127.0.0.1.
    trust_import(&run, &run.pki().join("rogue.crt"));
    let (code, events, stderr) = register(&config(&run, port, ""));
    assert_eq!(code, Some(4), "{stderr}");
    assert!(stderr.contains("CHANGED"), "{stderr}");
    let alarm = events
        .iter()
        .find(|e| e["event"] == "certificate-changed")
        .expect("the CertificateChanged alarm");
    assert_eq!(alarm["server"], "127.0.0.1");
    assert_eq!(
        alarm["stored_sha256"],
        sha256_of(&run.pki().join("rogue.crt"))
    );
    assert_eq!(
        alarm["presented"]["sha256"],
        sha256_of(&run.pki().join("server.crt"))
    );
    assert!(events.iter().all(|e| e["event"] != "registered"));
    assert!(
        !run.kamailio_log().contains("REQ REGISTER"),
        "nothing crossed the refused TLS"
    );
}

#[test]
fn importing_a_bundle_makes_its_ca_an_anchor_and_says_what_it_imported() {
    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "digest"]);
    let bundle = run.dir().join("deploy.pem");
    let text = std::fs::read_to_string(run.pki().join("ca.crt")).unwrap()
        + &std::fs::read_to_string(run.pki().join("server.crt")).unwrap();
    std::fs::write(&bundle, text).unwrap();
    let store_path = store(&run);
    let out = run_lockphone(
        &[
            "trust",
            "--store",
            store_path.to_str().unwrap(),
            "import",
            bundle.to_str().unwrap(),
        ],
        10,
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("CA added as trust anchor"), "{stdout}");
    assert!(stdout.contains("Peers Test CA"), "{stdout}");
    assert!(stdout.contains("for 127.0.0.1 (sha256"), "{stdout}");
    assert!(stdout.contains("imported 2 certificate(s)"), "{stdout}");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&store_path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let list = run_lockphone(
        &["trust", "--store", store_path.to_str().unwrap(), "list"],
        10,
    );
    assert!(String::from_utf8_lossy(&list.stdout).contains("CA  "));
    // The account's own ca_file is the unrelated rogue certificate: the imported CA verifies.
    let (code, events, stderr) = register(&config(&run, port, ""));
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(connected_trust(&events), "certificate-authority");
}
