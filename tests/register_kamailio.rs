//! Registration against the real kamailio of tests/peers over TLS, driving the `lockphone`
//! binary as a user would: digest (MD5 and SHA-256), client certificate, refresh, un-REGISTER,
//! and the failures that must each say what went wrong.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::Value;
use support::peers::PeersRun;
use support::{json_lines, run_lockphone, write_private};

/// Writes an account config in the run folder and returns its path.
fn write_config(run: &PeersRun, name: &str, port: u16, extra: &str, tls: &str) -> String {
    let path = run.dir().join(format!("{name}.toml"));
    let text = format!(
        "[[account]]\nname = \"{name}\"\naor = \"sip:alice@127.0.0.1\"\nregistrar = \"sip:127.0.0.1:{port}\"\n{extra}\n[account.tls]\n{tls}\n"
    );
    std::fs::write(&path, text).unwrap();
    path.to_string_lossy().into_owned()
}

fn digest_config(run: &PeersRun, port: u16, password: &str, expires: u32) -> String {
    let ca = run.pki().join("ca.crt");
    digest_config_with_tls(
        run,
        port,
        password,
        expires,
        &format!("ca_file = \"{}\"\n", ca.display()),
    )
}

/// A digest account (password in a private file) with this `[account.tls]` table.
fn digest_config_with_tls(
    run: &PeersRun,
    port: u16,
    password: &str,
    expires: u32,
    tls: &str,
) -> String {
    write_private(&run.dir().join("alice.password"), password);
    write_config(
        run,
        "alice",
        port,
        &format!(
            "expires = {expires}\n[account.auth]\nmethod = \"digest\"\npassword_file = \"alice.password\"\n"
        ),
        tls,
    )
}

fn events_named<'a>(events: &'a [Value], name: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["event"] == name).collect()
}

fn assert_registered_over_verified_tls(events: &[Value]) {
    let connected = events_named(events, "connected");
    assert!(!connected.is_empty(), "no connected event: {events:?}");
    let security = &connected[0]["security"];
    assert_eq!(security["transport"], "TLS");
    assert_eq!(security["peer_verified"], true);
    assert_eq!(security["verified_name"], "127.0.0.1");
    assert!(
        security["tls_version"]
            .as_str()
            .unwrap()
            .starts_with("TLSv1_"),
        "{security}"
    );
    assert!(
        !events_named(events, "registered").is_empty(),
        "never registered: {events:?}"
    );
}

fn run_register(config: &str, duration: u64) -> (std::process::ExitStatus, Vec<Value>, String) {
    let out = run_lockphone(
        &[
            "register",
            "--config",
            config,
            "--json",
            "--duration",
            &duration.to_string(),
        ],
        duration + 30,
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status, json_lines(&out.stdout), stderr)
}

#[test]
fn digest_md5_registers_and_unregisters() {
    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "digest", "--digest-algorithm", "MD5"]);
    let config = digest_config(&run, port, "alicepw", 600);
    let (status, events, stderr) = run_register(&config, 1);
    assert!(status.success(), "exit {status}: {stderr}");
    assert_registered_over_verified_tls(&events);
    assert_eq!(
        events.last().unwrap()["event"],
        "unregistered",
        "{events:?}"
    );
    let log = run.kamailio_log();
    assert!(
        log.contains("auth ok: digest user alice"),
        "kamailio did not see digest auth:\n{log}"
    );
    assert!(
        !stderr.contains("alicepw"),
        "the password leaked into the logs"
    );
}

#[test]
fn digest_sha256_registers() {
    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "digest", "--digest-algorithm", "SHA-256"]);
    let config = digest_config(&run, port, "alicepw", 600);
    let (status, events, stderr) = run_register(&config, 1);
    assert!(status.success(), "exit {status}: {stderr}");
    assert_registered_over_verified_tls(&events);
    // The log at debug level shows the Authorization we sent: it must use SHA-256.
    assert!(
        stderr.contains("algorithm=SHA-256"),
        "no SHA-256 response in the log:\n{stderr}"
    );
}

#[test]
fn client_certificate_registers_without_digest() {
    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "cert"]);
    let pki = run.pki();
    let config = write_config(
        &run,
        "alice",
        port,
        "[account.auth]\nmethod = \"none\"\n",
        &format!(
            "ca_file = \"{}\"\nclient_certificate = \"{}\"\nclient_key = \"{}\"\n",
            pki.join("ca.crt").display(),
            pki.join("alice.crt").display(),
            pki.join("alice.key").display()
        ),
    );
    let (status, events, stderr) = run_register(&config, 1);
    assert!(status.success(), "exit {status}: {stderr}");
    assert_registered_over_verified_tls(&events);
    assert_eq!(
        events_named(&events, "connected")[0]["security"]["client_certificate_presented"],
        true
    );
    assert!(
        run.kamailio_log()
            .contains("auth ok: client certificate CN=alice")
    );
}

#[test]
fn registration_is_refreshed_before_expiry() {
    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "digest", "--min-expires", "2"]);
    let config = digest_config(&run, port, "alicepw", 4);
    let (status, events, stderr) = run_register(&config, 9);
    assert!(status.success(), "exit {status}: {stderr}");
    let registered = events_named(&events, "registered");
    assert!(
        registered.len() >= 3,
        "expected refreshes every ~2-3 s over 9 s, got {registered:?}"
    );
    assert!(
        registered.iter().all(|e| e["expires_secs"] == 4),
        "{registered:?}"
    );
    assert_eq!(events.last().unwrap()["event"], "unregistered");
}

#[test]
fn wrong_password_fails_with_a_credentials_error() {
    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "digest"]);
    let config = digest_config(&run, port, "not-the-password", 600);
    let (status, events, stderr) = run_register(&config, 5);
    assert_eq!(status.code(), Some(3), "{stderr}");
    let failed = events_named(&events, "registration-failed");
    assert_eq!(failed.len(), 1, "{events:?}");
    assert_eq!(failed[0]["kind"], "credentials");
    assert!(stderr.contains("rejected"), "{stderr}");
    assert!(
        !stderr.contains("not-the-password"),
        "the password leaked: {stderr}"
    );
    // One challenge answered once, never a loop.
    let registers = run.kamailio_log().matches("REQ REGISTER").count();
    assert_eq!(
        registers, 2,
        "expected REGISTER then one authenticated retry"
    );
}

#[test]
fn server_certificate_from_an_unknown_ca_is_refused() {
    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "digest"]);
    // Trust only the rogue self-signed certificate, not the CA that signed kamailio's.
    let rogue = run.pki().join("rogue.crt");
    let config = digest_config_with_tls(
        &run,
        port,
        "alicepw",
        600,
        &format!("ca_file = \"{}\"\n", rogue.display()),
    );
    let (status, events, stderr) = run_register(&config, 5);
    assert_eq!(status.code(), Some(4), "{stderr}");
    let failed = events_named(&events, "registration-failed");
    assert_eq!(failed[0]["kind"], "tls", "{events:?}");
    assert!(stderr.contains("unknown issuer"), "{stderr}");
    assert!(events_named(&events, "registered").is_empty());
    assert!(
        !run.kamailio_log().contains("REQ REGISTER"),
        "a REGISTER crossed the untrusted TLS"
    );
}

#[test]
fn name_mismatch_is_refused_with_its_own_error() {
    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "digest"]);
    let ca = run.pki().join("ca.crt");
    let tls = format!(
        "ca_file = \"{}\"\nserver_name = \"sip.example.test\"\n",
        ca.display()
    );
    let config = digest_config_with_tls(&run, port, "alicepw", 600, &tls);
    let (status, _events, stderr) = run_register(&config, 5);
    assert_eq!(status.code(), Some(4), "{stderr}");
    assert!(stderr.contains("sip.example.test"), "{stderr}");
}

#[test]
fn unreachable_registrar_fails_clearly() {
    let run = PeersRun::new();
    let port = support::peers::free_tcp_port();
    let config = digest_config(&run, port, "alicepw", 600);
    let (status, _events, stderr) = run_register(&config, 5);
    assert_eq!(status.code(), Some(5), "{stderr}");
    assert!(stderr.contains("cannot connect"), "{stderr}");
}

#[test]
fn registration_comes_back_after_the_registrar_restarts() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    let run = PeersRun::new();
    let port = run.start_kamailio(&["--auth", "digest"]);
    let config = digest_config(&run, port, "alicepw", 600);
    let mut child = Command::new("timeout")
        .args(["60", support::lockphone_bin().to_str().unwrap()])
        .args([
            "register",
            "--config",
            &config,
            "--json",
            "--duration",
            "12",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let (tx, rx) = std::sync::mpsc::channel::<Value>();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if let Ok(value) = serde_json::from_str::<Value>(&line) {
                let _ = tx.send(value);
            }
        }
    });
    let wait_for = |name: &str| -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            let event = rx
                .recv_timeout(std::time::Duration::from_secs(20))
                .unwrap_or_else(|_| panic!("no `{name}` event; saw {seen:?}"));
            let done = event["event"] == name;
            seen.push(event);
            if done {
                return seen;
            }
        }
    };
    wait_for("registered");
    run.stop_kamailio();
    wait_for("connection-lost");
    std::thread::sleep(std::time::Duration::from_secs(1));
    run.start_kamailio_on(port, &["--auth", "digest"]);
    let after = wait_for("registered");
    assert!(
        after.iter().any(|e| e["event"] == "connected"),
        "a new connection is announced before re-registering: {after:?}"
    );
    let _ = child.wait();
}

#[test]
fn a_client_key_readable_by_others_is_refused_before_connecting() {
    use std::os::unix::fs::PermissionsExt;
    let run = PeersRun::new();
    let pki = run.pki();
    let key = run.dir().join("open.key");
    std::fs::copy(pki.join("alice.key"), &key).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = write_config(
        &run,
        "alice",
        support::peers::free_tcp_port(),
        "[account.auth]\nmethod = \"none\"\n",
        &format!(
            "ca_file = \"{}\"\nclient_certificate = \"{}\"\nclient_key = \"{}\"\n",
            pki.join("ca.crt").display(),
            pki.join("alice.crt").display(),
            key.display()
        ),
    );
    let (status, _events, stderr) = run_register(&config, 2);
    assert_eq!(status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("readable by other users") && stderr.contains("chmod 600"),
        "{stderr}"
    );
}
