//! CAPF enrollment against the test CAPF server (written from the same reference): the three
//! authentication modes with RSA 2048 and EC P-256, the refusals (wrong, replayed string,
//! unknown device, RSA 1024, pin mismatch), renewal with the LSC, fetch and delete, malformed
//! and truncated server messages, the `lockphone enroll` command, and an end-to-end
//! registration at the kit's kamailio with the enrolled LSC as client certificate.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use lockphone::capf::client::{
    AuthIdentity, AuthString, ClientError, ClientOptions, Credentials, Outcome,
};
use lockphone::capf::driver::{EnrollError, EnrollEvent, EnrollOptions, enroll};
use lockphone::capf::keys::{DeviceKey, KeyError, KeyKind};
use lockphone::capf::message::{Curve, KeyRequest, command, tag};
use lockphone::capf::pin::PinError;
use lockphone::capf::server::ca::IssuingCa;
use lockphone::capf::server::devices::{AuthMode, Device, DeviceTable, Operation};
use lockphone::capf::server::{CapfServer, ServerOptions};
use lockphone::capf::store::LscStore;
use lockphone::capf::wire::{Element, Frame};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

const RSA: KeyRequest = KeyRequest::Rsa(2048);
const EC: KeyRequest = KeyRequest::Ec(Curve::P256);

/// A CAPF server on a loopback port with its CA, and a scratch folder.
struct Lab {
    rt: tokio::runtime::Runtime,
    server: CapfServer,
    addr: SocketAddr,
    ca_pem: String,
    capf_pem: String,
    dir: tempfile::TempDir,
}

impl Lab {
    fn new() -> Lab {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let (ca, ca_pair) = IssuingCa::generate("Test CAPF CA").unwrap();
        let capf = ca.capf_certificate("CAPF-test").unwrap();
        let server =
            CapfServer::new(ca, &capf, DeviceTable::default(), ServerOptions::default()).unwrap();
        let addr = rt.block_on(server.clone().spawn("127.0.0.1:0")).unwrap();
        Lab {
            rt,
            server,
            addr,
            ca_pem: ca_pair.certificate,
            capf_pem: capf.certificate,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn pem_certs(pem: &str) -> Vec<CertificateDer<'static>> {
        CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
    }

    /// Options pinning the CA (issuer pin) or, with `pin_capf`, the CAPF certificate itself.
    fn options(&self, device: &str, pin_capf: bool) -> EnrollOptions {
        let pem = if pin_capf {
            &self.capf_pem
        } else {
            &self.ca_pem
        };
        let mut options = EnrollOptions::new(
            self.addr.ip().to_string(),
            Lab::pem_certs(pem),
            ClientOptions::new(device),
        );
        options.port = self.addr.port();
        options.timeout = Duration::from_secs(20);
        options
    }

    fn store(&self, name: &str) -> LscStore {
        LscStore::new(self.dir.path().join(name))
    }

    fn enroll(
        &self,
        options: &EnrollOptions,
        credentials: Credentials,
        store: &LscStore,
    ) -> (Result<Outcome, EnrollError>, Vec<EnrollEvent>) {
        let mut events = Vec::new();
        let result = self.rt.block_on(enroll(options, credentials, store, |e| {
            events.push(e.clone())
        }));
        (result, events)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        support::write_private(&path, text);
        path
    }

    fn last_reason(&self) -> Option<u8> {
        self.server.records().last().and_then(|r| r.reason)
    }
}

fn password(text: &str) -> Credentials {
    Credentials::AuthString(AuthString::new(text))
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// The installed pair is private, matches, names the device, and is what the server issued.
fn assert_installed(lab: &Lab, store: &LscStore, device: &str, kind: KeyKind) -> Vec<u8> {
    let lsc = store.load().unwrap().expect("an LSC is installed");
    assert_eq!(lsc.key.kind(), kind);
    assert!(
        lsc.info.subject.contains(&format!("CN={device}")),
        "{}",
        lsc.info.subject
    );
    assert_eq!(mode(&store.key_path()), 0o600);
    assert_eq!(mode(&store.certificate_path()), 0o600);
    let issued = lab.server.device(device).unwrap().certificate.unwrap();
    assert_eq!(
        issued, lsc.certificate,
        "stored certificate is the one issued"
    );
    lsc.certificate
}

#[test]
fn auth_string_mode_installs_rsa_2048_and_ec_p256() {
    let lab = Lab::new();
    for (device, key, kind, pin_capf) in [
        ("SEP0A0B0C0D0E01", RSA, KeyKind::Rsa { bits: 2048 }, false),
        (
            "SEP0A0B0C0D0E02",
            EC,
            KeyKind::Ec { curve: Curve::P256 },
            true,
        ),
    ] {
        lab.server
            .set_device(Device::install(device, AuthMode::Password, key).with_password("246810"));
        let store = lab.store(device);
        let (result, events) =
            lab.enroll(&lab.options(device, pin_capf), password("246810"), &store);
        let outcome = result.unwrap_or_else(|e| panic!("{device}: {e}"));
        assert!(matches!(outcome, Outcome::Installed(_)), "{outcome:?}");
        assert_installed(&lab, &store, device, kind);
        assert_eq!(lab.last_reason(), Some(1));
        let debug = format!("{events:?}");
        assert!(
            !debug.contains("246810"),
            "the auth string leaked into events"
        );
    }
}

#[test]
fn null_string_mode_installs_rsa_2048_and_ec_p256() {
    let lab = Lab::new();
    for (device, key, kind) in [
        ("CSFNULLRSA", RSA, KeyKind::Rsa { bits: 2048 }),
        ("CSFNULLEC", EC, KeyKind::Ec { curve: Curve::P256 }),
    ] {
        lab.server
            .set_device(Device::install(device, AuthMode::NoPassword, key));
        let store = lab.store(device);
        let (result, _) = lab.enroll(&lab.options(device, false), Credentials::None, &store);
        result.unwrap_or_else(|e| panic!("{device}: {e}"));
        assert_installed(&lab, &store, device, kind);
    }
}

#[test]
fn existing_certificate_mode_renews_rsa_2048_and_ec_p256_lscs() {
    let lab = Lab::new();
    for (device, key, kind) in [
        ("SEP00AABBCCDD01", RSA, KeyKind::Rsa { bits: 2048 }),
        ("SEP00AABBCCDD02", EC, KeyKind::Ec { curve: Curve::P256 }),
    ] {
        // First LSC (null string), then renewal authenticated by that LSC.
        lab.server
            .set_device(Device::install(device, AuthMode::NoPassword, key));
        let store = lab.store(device);
        lab.enroll(&lab.options(device, false), Credentials::None, &store)
            .0
            .unwrap();
        let first = store.load().unwrap().unwrap();
        lab.server
            .set_device(Device::install(device, AuthMode::Certificate, key));
        let credentials = Credentials::Certificate {
            identity: AuthIdentity {
                certificate: first.certificate.clone(),
                key: first.key,
            },
            sudi: None,
        };
        let (result, _) = lab.enroll(&lab.options(device, false), credentials, &store);
        result.unwrap_or_else(|e| panic!("{device}: renewal: {e}"));
        let renewed = assert_installed(&lab, &store, device, kind);
        assert_ne!(renewed, first.certificate, "a new LSC replaced the old one");
        let record = lab.server.records().pop().unwrap();
        assert_eq!(record.reason, Some(1), "{record:?}");
    }
}

#[test]
fn existing_certificate_mode_refuses_a_certificate_from_another_ca() {
    let lab = Lab::new();
    let device = "SEP00AABBCCDD03";
    lab.server
        .set_device(Device::install(device, AuthMode::Certificate, EC));
    // A "manufacturer" certificate from a CA the server does not trust.
    let (rogue, _) = IssuingCa::generate("Rogue CA").unwrap();
    let key = DeviceKey::generate(KeyKind::Ec(Curve::P256)).unwrap();
    let certificate = rogue.issue(device, key.spki(), 30).unwrap();
    let credentials = Credentials::Certificate {
        identity: AuthIdentity { certificate, key },
        sudi: None,
    };
    let store = lab.store(device);
    let (result, _) = lab.enroll(&lab.options(device, false), credentials, &store);
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            EnrollError::Protocol(ClientError::AuthenticationRefused { .. })
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("certificate or its signature"),
        "{err}"
    );
    assert!(!store.has_certificate());
}

#[test]
fn wrong_auth_string_is_refused_and_the_right_one_still_works() {
    let lab = Lab::new();
    let device = "SEP0A0B0C0D0E10";
    lab.server
        .set_device(Device::install(device, AuthMode::Password, EC).with_password("13579"));
    let store = lab.store(device);
    let (result, _) = lab.enroll(&lab.options(device, false), password("97531"), &store);
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            EnrollError::Protocol(ClientError::AuthenticationRefused { .. })
        ),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("wrong or already used authentication string"),
        "{text}"
    );
    assert!(!text.contains("97531") && !format!("{err:?}").contains("97531"));
    assert_eq!(lab.last_reason(), Some(7));
    assert!(!store.has_certificate());
    // No lockout: the operation is still pending (reference §5.8).
    lab.enroll(&lab.options(device, false), password("13579"), &store)
        .0
        .unwrap();
}

#[test]
fn a_used_auth_string_cannot_be_replayed() {
    let lab = Lab::new();
    let device = "SEP0A0B0C0D0E11";
    lab.server
        .set_device(Device::install(device, AuthMode::Password, EC).with_password("8642"));
    let store = lab.store(device);
    lab.enroll(&lab.options(device, false), password("8642"), &store)
        .0
        .unwrap();
    // Replay right away: the string was used up with the install (capfd, which keeps the
    // string, answers reason 0 "nothing scheduled" instead; the client maps both).
    let other = lab.store("replayer");
    let (result, _) = lab.enroll(&lab.options(device, false), password("8642"), &other);
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            EnrollError::Protocol(ClientError::AuthenticationRefused { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("already used"), "{err}");
    // Even when the administrator re-arms the install, the old string stays used up.
    let mut entry = lab.server.device(device).unwrap();
    assert!(entry.password.is_none(), "the one-time string was consumed");
    entry.operation = Operation::Install;
    lab.server.set_device(entry);
    let (result, _) = lab.enroll(&lab.options(device, false), password("8642"), &other);
    assert!(
        matches!(
            result,
            Err(EnrollError::Protocol(
                ClientError::AuthenticationRefused { .. }
            ))
        ),
        "{result:?}"
    );
    assert!(!other.has_certificate());
}

#[test]
fn unknown_device_is_reported_by_name() {
    let lab = Lab::new();
    let store = lab.store("nobody");
    let (result, _) = lab.enroll(
        &lab.options("SEPFFFFFFFFFFFF", false),
        Credentials::None,
        &store,
    );
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            EnrollError::Protocol(ClientError::UnknownDevice { .. })
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("does not know device `SEPFFFFFFFFFFFF`"),
        "{err}"
    );
    assert_eq!(lab.last_reason(), Some(9));
}

#[test]
fn a_server_asking_for_rsa_1024_is_refused() {
    let lab = Lab::new();
    let device = "SEP0A0B0C0D0E12";
    lab.server.set_device(Device::install(
        device,
        AuthMode::NoPassword,
        KeyRequest::Rsa(1024),
    ));
    let store = lab.store(device);
    let (result, events) = lab.enroll(&lab.options(device, false), Credentials::None, &store);
    let err = result.unwrap_err();
    assert!(
        matches!(
            err,
            EnrollError::Protocol(ClientError::KeyRefused(KeyError::TooWeak {
                bits: 1024,
                ..
            }))
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("RSA 1024-bit") && err.to_string().contains("2048"),
        "{err}"
    );
    // We answered without a public key; the server ended with reason 7.
    let record = lab.server.records().pop().unwrap();
    assert_eq!(record.reason, Some(7));
    assert!(record.detail.contains("client refused"), "{record:?}");
    assert!(!events.iter().any(|e| matches!(
        e,
        EnrollEvent::Driver(lockphone::capf::driver::DriverEvent::KeyGenerated { .. })
    )));
    assert!(!store.has_certificate());
}

#[test]
fn a_capf_server_not_matching_the_pin_is_refused_before_any_capf_byte() {
    let lab = Lab::new();
    let device = "SEP0A0B0C0D0E13";
    lab.server
        .set_device(Device::install(device, AuthMode::NoPassword, EC));
    let (other_ca, other_pair) = IssuingCa::generate("Test CAPF CA").unwrap();
    let other_capf = other_ca.capf_certificate("CAPF-test").unwrap();
    for pin in [other_pair.certificate, other_capf.certificate] {
        let mut options = lab.options(device, false);
        options.pins = Lab::pem_certs(&pin);
        let store = lab.store(device);
        let (result, _) = lab.enroll(&options, Credentials::None, &store);
        let err = result.unwrap_err();
        assert!(
            matches!(err, EnrollError::Pin(PinError::Mismatch { .. })),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("neither the pinned CAPF certificate nor issued by it"),
            "{err}"
        );
        assert!(!store.has_certificate());
    }
    std::thread::sleep(Duration::from_millis(100));
    assert!(
        lab.server.records().iter().all(|r| r.device.is_empty()),
        "no CAPF session ran: {:?}",
        lab.server.records()
    );
    assert_eq!(
        lab.server.device(device).unwrap().operation,
        Operation::Install
    );
}

#[test]
fn fetch_sends_the_lsc_and_delete_removes_it() {
    let lab = Lab::new();
    let device = "SEP0A0B0C0D0E14";
    lab.server
        .set_device(Device::install(device, AuthMode::NoPassword, EC));
    let store = lab.store(device);
    lab.enroll(&lab.options(device, false), Credentials::None, &store)
        .0
        .unwrap();
    let installed = store.load_certificate().unwrap().unwrap();

    let mut entry = lab.server.device(device).unwrap();
    entry.certificate = None;
    lab.server
        .set_device(entry.with_operation(Operation::Fetch));
    let (result, _) = lab.enroll(&lab.options(device, false), Credentials::None, &store);
    assert_eq!(result.unwrap(), Outcome::Fetched { sent: true });
    assert_eq!(
        lab.server.device(device).unwrap().certificate,
        Some(installed)
    );
    assert_eq!(lab.last_reason(), Some(0));

    let entry = lab.server.device(device).unwrap();
    lab.server
        .set_device(entry.with_operation(Operation::Delete));
    let (result, _) = lab.enroll(&lab.options(device, false), Credentials::None, &store);
    assert_eq!(result.unwrap(), Outcome::Deleted { existed: true });
    assert!(!store.has_certificate() && !store.key_path().exists());
    assert_eq!(lab.server.device(device).unwrap().certificate, None);
}

// ---- A scripted server for malformed and truncated messages ----

/// Serves one TLS connection: for each step, sends the bytes, then (if `read`) waits for one
/// client message. Closes at the end.
fn scripted(lab: &Lab, steps: Vec<(Vec<u8>, bool)>) -> SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (ca, _) = IssuingCa::generate("Script CA").unwrap();
    let _ = ca;
    let capf_key = lab.capf_pem.clone();
    let _ = capf_key;
    // Reuse the lab's CAPF identity so the pin matches.
    let (ca2, pair) = IssuingCa::generate("Scripted").unwrap();
    let capf = ca2.capf_certificate("CAPF-script").unwrap();
    let chain = Lab::pem_certs(&capf.certificate);
    let key = lockphone::capf::server::ca::private_key_der(&capf).unwrap();
    let config = lockphone::tls::server_config_from_der(chain, key).unwrap();
    let listener = lab
        .rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    std::fs::write(lab.dir.path().join("script-ca.pem"), &pair.certificate).unwrap();
    lab.rt.spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut tls = tokio_rustls::TlsAcceptor::from(config)
            .accept(tcp)
            .await
            .unwrap();
        let mut buf = [0u8; 4096];
        for (bytes, read) in steps {
            if tls.write_all(&bytes).await.is_err() {
                return;
            }
            let _ = tls.flush().await;
            if read && matches!(tls.read(&mut buf).await, Ok(0) | Err(_)) {
                return;
            }
        }
        let _ = tls.shutdown().await;
    });
    addr
}

fn frame(command: u8, elements: Vec<Element>) -> Vec<u8> {
    Frame::new(command, 7, elements).encode().unwrap()
}

fn hello() -> (Vec<u8>, bool) {
    (
        frame(command::AUTH_REQUEST, vec![Element::u8(tag::VERSION, 3)]),
        true,
    )
}

fn run_script(lab: &Lab, steps: Vec<(Vec<u8>, bool)>) -> EnrollError {
    let addr = scripted(lab, steps);
    let pem = std::fs::read_to_string(lab.dir.path().join("script-ca.pem")).unwrap();
    let mut client = ClientOptions::new("SEP0A0B0C0D0E15");
    client.request_in_progress = false;
    let mut options = EnrollOptions::new("127.0.0.1", Lab::pem_certs(&pem), client);
    options.port = addr.port();
    options.timeout = Duration::from_secs(5);
    let store = lab.store("scripted");
    let started = std::time::Instant::now();
    let (result, _) = lab.enroll(&options, Credentials::None, &store);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "no hang on a bad server"
    );
    assert!(!store.has_certificate(), "nothing stored from a bad server");
    result.unwrap_err()
}

#[test]
fn malformed_and_truncated_server_messages_fail_cleanly() {
    let lab = Lab::new();
    // An element longer than its payload.
    let err = run_script(
        &lab,
        vec![(vec![0x55, 1, 0, 0, 0, 7, 0, 4, 7, 0, 9, 3], false)],
    );
    assert!(
        err.to_string().contains("element 7 announces 9 bytes"),
        "{err}"
    );
    // A header cut off by the close.
    let err = run_script(&lab, vec![(vec![0x55, 1, 0, 0], false)]);
    assert!(
        err.to_string()
            .contains("closed the connection while waiting for AUTH_REQUEST"),
        "{err}"
    );
    // A payload shorter than announced, then close.
    let err = run_script(
        &lab,
        vec![(vec![0x55, 1, 0, 0, 0, 7, 0, 8, 7, 0, 1], false)],
    );
    assert!(
        matches!(err, EnrollError::Protocol(ClientError::Closed { .. })),
        "{err}"
    );
    // Not CAPF at all.
    let err = run_script(
        &lab,
        vec![(b"HTTP/1.1 400 Bad Request\r\n\r\n".to_vec(), false)],
    );
    assert!(err.to_string().contains("protocol ID 0x48"), "{err}");
    // A one-byte KEY_SIZE.
    let err = run_script(
        &lab,
        vec![
            hello(),
            (
                frame(
                    command::KEY_GENERATE_REQUEST,
                    vec![Element::u8(tag::KEY_SIZE, 8)],
                ),
                false,
            ),
        ],
    );
    assert!(
        err.to_string().contains("KEY_SIZE element is malformed"),
        "{err}"
    );
    // A broken certificate wrapper.
    let err = run_script(
        &lab,
        vec![
            hello(),
            (
                frame(
                    command::KEY_GENERATE_REQUEST,
                    vec![Element::u8(tag::KEY_TYPE, 1), Element::u8(tag::CURVE, 0)],
                ),
                true,
            ),
            (
                frame(
                    command::STORE_CERTIFICATE_REQUEST,
                    vec![Element::new(
                        tag::CERTIFICATE,
                        vec![1, 0xff, 0xff, 0, 1, 0x30],
                    )],
                ),
                false,
            ),
        ],
    );
    assert!(
        err.to_string().contains("CERTIFICATE element is malformed"),
        "{err}"
    );
    // A well-formed certificate for somebody else's key: refused, not stored.
    let (ca, _) = IssuingCa::generate("Other").unwrap();
    let stranger = DeviceKey::generate(KeyKind::Ec(Curve::P256)).unwrap();
    let foreign = ca.issue("SEP0A0B0C0D0E15", stranger.spki(), 30).unwrap();
    let err = run_script(
        &lab,
        vec![
            hello(),
            (
                frame(
                    command::KEY_GENERATE_REQUEST,
                    vec![Element::u8(tag::KEY_TYPE, 1), Element::u8(tag::CURVE, 0)],
                ),
                true,
            ),
            (
                frame(
                    command::STORE_CERTIFICATE_REQUEST,
                    vec![Element::new(
                        tag::CERTIFICATE,
                        lockphone::capf::message::wrap_certificate(&foreign, 1),
                    )],
                ),
                true,
            ),
            (
                frame(command::END_SESSION, vec![Element::u8(tag::REASON, 1)]),
                false,
            ),
        ],
    );
    assert!(
        matches!(
            err,
            EnrollError::Protocol(ClientError::CertificateRejected(_))
        ),
        "{err}"
    );
    assert!(
        err.to_string()
            .contains("does not carry the public key we generated"),
        "{err}"
    );
    // A session ID that changes.
    let err = run_script(
        &lab,
        vec![
            hello(),
            (
                Frame::new(command::END_SESSION, 8, vec![Element::u8(tag::REASON, 1)])
                    .encode()
                    .unwrap(),
                false,
            ),
        ],
    );
    assert!(
        err.to_string()
            .contains("changed the session ID from 7 to 8"),
        "{err}"
    );
}

// ---- The command line ----

fn run_enroll(lab: &Lab, args: &[&str]) -> (std::process::Output, Vec<serde_json::Value>) {
    let out = support::run_lockphone(args, 60);
    let events = support::json_lines(&out.stdout);
    let _ = lab;
    (out, events)
}

#[test]
fn enroll_command_installs_reports_status_and_renews_when_due() {
    let lab = Lab::new();
    let device = "SEP0A0B0C0D0E20";
    lab.server
        .set_device(Device::install(device, AuthMode::Password, RSA).with_password("5551212"));
    let secret = lab.write("auth-string", "5551212\n");
    let pin = lab.write("capf-ca.pem", &lab.ca_pem);
    let store = lab.dir.path().join("cli-store");
    let server = lab.addr.to_string();
    let (out, events) = run_enroll(
        &lab,
        &[
            "enroll",
            "--capf",
            &server,
            "--device",
            device,
            "--auth-string-file",
            secret.to_str().unwrap(),
            "--capf-cert",
            pin.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
            "--json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}\n{events:?}");
    let names: Vec<&str> = events.iter().filter_map(|e| e["event"].as_str()).collect();
    for step in [
        "connecting",
        "connected",
        "session-opened",
        "authenticating",
        "key-requested",
        "key-generated",
        "public-key-sent",
        "certificate-received",
        "certificate-stored",
        "session-ended",
        "finished",
    ] {
        assert!(names.contains(&step), "missing {step}: {names:?}");
    }
    let all = String::from_utf8_lossy(&out.stdout).to_string() + &stderr;
    assert!(!all.contains("5551212"), "the auth string leaked");
    assert_eq!(events.last().unwrap()["result"]["outcome"], "installed");

    // Status, as text.
    let out = support::run_lockphone(
        &["enroll", "--status", "--store", store.to_str().unwrap()],
        30,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success()
            && text.contains(&format!("CN={device}"))
            && text.contains("expires in 36"),
        "{text}"
    );

    // Renewal not due yet with the default share; due with a share of 0.
    let renew = |share: &str| {
        run_enroll(
            &lab,
            &[
                "enroll",
                "--capf",
                &server,
                "--device",
                device,
                "--renew-if-due",
                "--renew-after",
                share,
                "--capf-cert",
                pin.to_str().unwrap(),
                "--store",
                store.to_str().unwrap(),
                "--json",
            ],
        )
    };
    let (out, events) = renew("0.67");
    assert!(out.status.success());
    assert_eq!(
        events.last().unwrap()["event"],
        "renewal-not-due",
        "{events:?}"
    );
    let before = std::fs::read(store.join("lsc.crt")).unwrap();
    lab.server
        .set_device(Device::install(device, AuthMode::Certificate, RSA));
    let (out, events) = renew("0");
    assert!(
        out.status.success(),
        "{}\n{events:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "authenticating" && e["mode"] == "existing-certificate"),
        "{events:?}"
    );
    assert_ne!(
        std::fs::read(store.join("lsc.crt")).unwrap(),
        before,
        "renewed"
    );
}

#[test]
fn enroll_command_failures_have_distinct_messages_and_exit_codes() {
    let lab = Lab::new();
    let pin = lab.write("capf.pem", &lab.capf_pem);
    let (other, other_pair) = IssuingCa::generate("Elsewhere").unwrap();
    let _ = other;
    let wrong_pin = lab.write("wrong.pem", &other_pair.certificate);
    let server = lab.addr.to_string();
    let store = lab.dir.path().join("s");
    let base = |pin: &Path, device: &str| -> Vec<String> {
        [
            "enroll",
            "--capf",
            &server,
            "--device",
            device,
            "--capf-cert",
            pin.to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let run = |args: Vec<String>| {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        support::run_lockphone(&refs, 30)
    };
    let out = run(base(&pin, "SEPUNKNOWN"));
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not know device"));
    let out = run(base(&wrong_pin, "SEPUNKNOWN"));
    assert_eq!(out.status.code(), Some(4));
    assert!(String::from_utf8_lossy(&out.stderr).contains("pinned"));
    // An auth-string file others can read is refused before connecting.
    let open = lab.dir.path().join("open-secret");
    std::fs::write(&open, "1234\n").unwrap();
    let mut args = base(&pin, "SEP1");
    args.extend([
        "--auth-string-file".to_owned(),
        open.to_str().unwrap().to_owned(),
    ]);
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// End to end: enroll from the test CAPF server, register at the kit's kamailio with the LSC as
/// the only credential (client-certificate mode, kamailio trusting the CAPF issuing CA), then place
/// a secure call through that kamailio to baresip registered there, verified from a capture.
#[test]
fn enrolled_lsc_registers_at_kamailio_and_places_a_secure_call() {
    use support::baresip::{
        baresip_log, event, start_baresip, start_capture, stop_capture, verify_call,
    };
    use support::peers::PeersRun;
    let lab = Lab::new();
    // kamailio (--auth cert) wants CN == From user.
    let device = "SEP0A0B0C0D0E30";
    lab.server
        .set_device(Device::install(device, AuthMode::NoPassword, EC));
    let run = PeersRun::new();
    let pin = lab.write("capf-pin.pem", &lab.capf_pem);
    // kamailio trusts the CAPF issuing CA (our LSC) and the kit CA (baresip bob's certificate,
    // CN=bob): one CA list with both.
    let kit_ca = std::fs::read_to_string(run.pki().join("ca.crt")).unwrap();
    let client_cas = lab.write("client-cas.pem", &format!("{}\n{kit_ca}", lab.ca_pem));
    let port = run.start_kamailio(&["--auth", "cert", "--ca", client_cas.to_str().unwrap()]);
    let config = run.dir().join("lsc.toml");
    std::fs::write(
        &config,
        format!(
            "[[account]]\nname = \"phone\"\naor = \"sip:{device}@127.0.0.1\"\nregistrar = \"sip:127.0.0.1:{port}\"\n[account.auth]\nmethod = \"none\"\n[account.tls]\nca_file = \"{}\"\n[account.capf]\nserver = \"{}\"\ndevice = \"{device}\"\nserver_certificate = \"{}\"\ncertificate_store = \"{}\"\n[account.calls]\ncodecs = [\"pcmu\"]\n",
            run.pki().join("ca.crt").display(),
            lab.addr,
            pin.display(),
            run.dir().join("lsc").display()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let out = support::run_lockphone(&["enroll", "--config", config, "--json"], 60);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // No client_certificate configured: the account presents the LSC by itself.
    let out = support::run_lockphone(
        &["register", "--config", config, "--json", "--duration", "1"],
        40,
    );
    let events = support::json_lines(&out.stdout);
    assert!(
        out.status.success(),
        "{}\n{events:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let connected = events.iter().find(|e| e["event"] == "connected").unwrap();
    assert_eq!(connected["security"]["client_certificate_presented"], true);
    assert!(
        events.iter().any(|e| e["event"] == "registered"),
        "{events:?}"
    );
    let log = run.kamailio_log();
    assert!(
        log.contains(&format!("auth ok: client certificate CN={device}")),
        "{log}"
    );

    // The callee: baresip bob, registered at the same kamailio with the kit's certificate.
    let registrar = format!("127.0.0.1:{port}");
    let bob = start_baresip(
        &run,
        "bob",
        &["--answer", "--register", &registrar, "--duration", "60"],
    );
    run.wait_for_kamailio_log(
        &["auth ok: client certificate CN=bob"],
        Duration::from_secs(10),
    );
    let pcap = start_capture(&run, &[port], &bob.rtp_ports, 60);
    let out = support::run_lockphone(
        &[
            "call",
            "sip:bob@127.0.0.1",
            "--config",
            config,
            "--json",
            "--duration",
            "4",
            "--play",
            "tone:1000",
            "--require-secure",
        ],
        40,
    );
    stop_capture(&run);
    let events = support::json_lines(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "call failed: {stderr}\n{events:#?}");
    let started = event(&events, "call-started").expect("call-started");
    assert_eq!(
        started["security"]["client_certificate_presented"], true,
        "the call leaves on the LSC connection: {started:#}"
    );
    let answered = event(&events, "call-answered").expect("call-answered");
    assert!(
        answered["srtp_suite"]
            .as_str()
            .is_some_and(|s| !s.is_empty()),
        "{answered:#}"
    );
    let summary = &event(&events, "call-ended").expect("call-ended")["summary"];
    assert_eq!(summary["reached_encrypted"], true, "{summary:#}");
    assert_eq!(summary["verdict"]["level"], "encrypted", "{summary:#}");
    assert_eq!(
        summary["verdict"]["lock"], false,
        "no lock: the remote side is unknown through the proxy: {summary:#}"
    );
    let reasons = summary["verdict"]["reasons"].to_string();
    assert!(reasons.contains("remote side unknown"), "{reasons}");
    let stats = &summary["media"]["stats"];
    assert!(
        stats["packets_received"].as_u64().unwrap() > 100,
        "{summary:#}"
    );
    assert_eq!(stats["srtp_auth_failures"], 0, "{summary:#}");
    let log = run.kamailio_log();
    assert!(
        log.matches(&format!("auth ok: client certificate CN={device}"))
            .count()
            >= 2,
        "the INVITE was admitted on the LSC too: {log}"
    );
    assert!(
        log.contains("INVITE"),
        "the INVITE went through kamailio: {log}"
    );
    let verdict = verify_call(
        &pcap,
        &run.dir().join("bob/rec"),
        &[&baresip_log(&run, "bob")],
    );
    assert!(verdict.contains("VERDICT: PASS"), "{verdict}");
}

#[test]
fn capf_server_command_serves_the_example_devices() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let port = support::peers::free_tcp_port();
    let listen = format!("127.0.0.1:{port}");
    let devices = support::repo_root().join("examples/capf-devices.toml");
    let mut server = Command::new("timeout")
        .args([
            "30",
            support::lockphone_bin().to_str().unwrap(),
            "capf-server",
        ])
        .args([
            "--dir",
            dir.path().to_str().unwrap(),
            "--devices",
            devices.to_str().unwrap(),
        ])
        .args(["--listen", &listen, "--duration", "25"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(&listen).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "capf-server did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    use std::os::unix::fs::PermissionsExt;
    let key_mode = std::fs::metadata(dir.path().join("ca.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(key_mode & 0o777, 0o600);
    let store = dir.path().join("store");
    let out = support::run_lockphone(
        &[
            "enroll",
            "--capf",
            &listen,
            "--device",
            "CSFALICE",
            "--capf-cert",
            dir.path().join("capf.crt").to_str().unwrap(),
            "--store",
            store.to_str().unwrap(),
        ],
        30,
    );
    // SIGTERM to `timeout`, which passes it on to the server it started.
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let _ = server.wait();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("enrolled: LSC CN=CSFALICE"), "{stdout}");
    assert!(
        stdout.contains("matches the pinned certificate"),
        "{stdout}"
    );
}
