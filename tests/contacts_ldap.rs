//! Directory search against a real OpenLDAP (Debian `slapd`) on 127.0.0.1: LDAPS and
//! StartTLS with a certificate from a test CA, simple bind, RFC 4515 escaping, config
//! contacts merged, certificates refused with the same typed reasons as SIP, and the
//! `lockphone contacts search` command's output and exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/revocation.rs"]
mod revocation_support;
mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use lockphone::config::Config;
use lockphone::contacts::{Contact, ContactSource, ContactsError, Directory};
use lockphone::tls::TlsError;
use support::pki::TestCa;
use support::slapd::{PEOPLE_DN, SERVICE_DN, SERVICE_PASSWORD, Slapd, sample_ldif};

/// One slapd for the whole test binary, with its CA and a CA it does not use.
struct Server {
    slapd: Slapd,
    pki: tempfile::TempDir,
}

impl Server {
    fn ca(&self) -> PathBuf {
        self.pki.path().join("ca.crt")
    }
    fn other_ca(&self) -> PathBuf {
        self.pki.path().join("other-ca.crt")
    }
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let pki = tempfile::tempdir().unwrap();
        let ca = TestCa::new("Directory Test CA");
        support::slapd::write_ca(pki.path(), "ca", &ca);
        support::slapd::write_ca(pki.path(), "other-ca", &TestCa::new("Other CA"));
        // The certificate names only the IP address: `localhost` is the wrong name.
        let leaf = ca.leaf(&[], &["127.0.0.1".parse().unwrap()]);
        let (cert, key) = support::slapd::write_leaf(pki.path(), "ldap", &leaf);
        let slapd = Slapd::start(&cert, &key, &sample_ldif());
        Server { slapd, pki }
    })
}

/// What to vary in a test account.
struct Setup<'a> {
    url: String,
    starttls: bool,
    ca: PathBuf,
    password: Option<&'a str>,
    contacts: &'a str,
    extra: &'a str,
}

impl Setup<'_> {
    fn ldaps() -> Setup<'static> {
        let server = server();
        Setup {
            url: server.slapd.ldaps_url(),
            starttls: false,
            ca: server.ca(),
            password: Some(SERVICE_PASSWORD),
            contacts: "",
            extra: "",
        }
    }

    /// Writes the config (and the 0600 password file) in `dir`; returns the config path.
    fn write(&self, dir: &Path) -> PathBuf {
        let bind = match self.password {
            Some(password) => {
                support::write_private(&dir.join("ldap.password"), &format!("{password}\n"));
                format!("bind_dn = \"{SERVICE_DN}\"\npassword_file = \"ldap.password\"\n")
            }
            None => String::new(),
        };
        let text = format!(
            "[[account]]\nname = \"alice\"\naor = \"sip:alice@example.test\"\n\
             [account.tls]\nca_file = \"{ca}\"\ntrust_store = \"{dir}/trust.json\"\n\
             {contacts}\n\
             [account.directory]\nurl = \"{url}\"\nstarttls = {starttls}\nbase_dn = \"{PEOPLE_DN}\"\n{bind}{extra}\n",
            ca = self.ca.display(),
            dir = dir.display(),
            contacts = self.contacts,
            url = self.url,
            starttls = self.starttls,
            extra = self.extra,
        );
        let path = dir.join("lockphone.toml");
        std::fs::write(&path, text).unwrap();
        path
    }

    fn directory(&self, dir: &Path) -> Directory {
        let config = Config::load(&self.write(dir)).unwrap();
        Directory::from_config(config.account(None).unwrap()).unwrap()
    }

    /// Why a search for `carol` with this account fails.
    async fn refusal(&self, dir: &Path) -> ContactsError {
        self.directory(dir).search("carol").await.unwrap_err()
    }
}

fn names(contacts: &[Contact]) -> Vec<&str> {
    contacts.iter().map(|c| c.name.as_str()).collect()
}

#[tokio::test]
async fn ldaps_finds_a_contact_by_name_and_by_number() {
    let dir = tempfile::tempdir().unwrap();
    let directory = Setup::ldaps().directory(dir.path());
    let found = directory.search("carol").await.unwrap();
    assert_eq!(
        found,
        vec![Contact {
            name: "Carol Danvers".to_owned(),
            sip_uri: Some("sip:carol@example.test".to_owned()),
            phone: Some("+1 555 0200".to_owned()),
            source: ContactSource::Directory,
        }]
    );
    let by_number = directory.search("555 0300").await.unwrap();
    assert_eq!(names(&by_number), ["Bob Marley"]);
    // telephoneNumber matching ignores spaces on the server side.
    let compact = directory.search("5550300").await.unwrap();
    assert_eq!(names(&compact), ["Bob Marley"]);
    let both = directory.search("Bob").await.unwrap();
    assert_eq!(names(&both), ["Bob Builder", "Bob Marley"]);
}

#[tokio::test]
async fn starttls_search_works_anonymously() {
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup {
        url: server().slapd.ldap_url(),
        starttls: true,
        password: None,
        ..Setup::ldaps()
    };
    let found = setup.directory(dir.path()).search("builder").await.unwrap();
    assert_eq!(names(&found), ["Bob Builder"]);
    assert_eq!(found[0].sip_uri.as_deref(), Some("sip:bob@example.test"));
}

#[tokio::test]
async fn config_contacts_are_merged_first_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup {
        contacts: "[[account.contacts]]\nname = \"Bobby Tables\"\nphone = \"+1 555 0999\"\n\
                   [[account.contacts]]\nname = \"Bob Builder\"\nsip_uri = \"sip:bob@example.test\"\n\
                   [[account.contacts]]\nname = \"Alice\"\nsip_uri = \"sip:alice@example.test\"\n",
        ..Setup::ldaps()
    };
    let directory = setup.directory(dir.path());
    let found = directory.search("bob").await.unwrap();
    let summary: Vec<(&str, ContactSource)> =
        found.iter().map(|c| (c.name.as_str(), c.source)).collect();
    assert_eq!(
        summary,
        [
            ("Bob Builder", ContactSource::Config),
            ("Bobby Tables", ContactSource::Config),
            ("Bob Marley", ContactSource::Directory),
        ]
    );
    assert_eq!(names(&directory.search_local("0999")), ["Bobby Tables"]);
    // Empty text lists the config file's contacts without asking the directory.
    assert_eq!(
        names(&directory.search("").await.unwrap()),
        ["Alice", "Bob Builder", "Bobby Tables"]
    );
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused_as_unknown_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup {
        ca: server().other_ca(),
        ..Setup::ldaps()
    };
    let directory = setup.directory(dir.path());
    let err = directory.search("carol").await.unwrap_err();
    assert!(
        matches!(
            err,
            ContactsError::Tls {
                source: TlsError::UnknownIssuer,
                ..
            }
        ),
        "{err:?}"
    );
    // The refused certificate is kept for a trust prompt, as for SIP.
    let pending = directory.pending_decision().expect("certificate summary");
    assert!(pending.issuer.contains("Directory Test CA"), "{pending:?}");
    assert_eq!(pending.sha256.len(), 64 + 31, "{}", pending.sha256);
}

/// The directory's certificate goes through the account's revocation check (hard-fail by
/// default) before the bind, as SIP's does: one its CA's CRL revokes is refused, typed.
#[tokio::test]
async fn a_revoked_directory_certificate_is_refused_before_the_bind() {
    let dir = tempfile::tempdir().unwrap();
    let pki = revocation_support::Pki::new(&dir.path().join("ca"), "Revoking CA");
    let serial = [0x0D, 0x01];
    let (crl_url, fetched) = revocation_support::serve_http(pki.crl(&[serial]), "ca.crl").await;
    let leaf = pki.leaf(serial, Some(&crl_url), None);
    let key = dir.path().join("leaf.key");
    support::write_private(
        &key,
        &support::pki::pem("PRIVATE KEY", leaf.key.secret_der()),
    );
    let slapd = Slapd::start(&leaf.pem, &key, &sample_ldif());
    let setup = Setup {
        url: slapd.ldaps_url(),
        ca: pki.ca_pem(),
        ..Setup::ldaps()
    };
    let err = setup.refusal(dir.path()).await;
    assert!(
        matches!(
            &err,
            ContactsError::Tls {
                source: TlsError::Revoked { reason, .. },
                ..
            } if reason == "keyCompromise"
        ),
        "{err:?}"
    );
    assert_eq!(
        fetched.load(Ordering::SeqCst),
        1,
        "the CRL was fetched once"
    );
}

#[tokio::test]
async fn a_certificate_for_another_name_is_refused_as_name_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup {
        url: format!("ldaps://localhost:{}", server().slapd.ldaps_port),
        ..Setup::ldaps()
    };
    let err = setup.refusal(dir.path()).await;
    match &err {
        ContactsError::Tls {
            source: TlsError::NameMismatch { expected, .. },
            ..
        } => assert_eq!(expected, "localhost"),
        other => panic!("expected a name mismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn a_wrong_bind_password_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let setup = Setup {
        password: Some("not-the-password"),
        ..Setup::ldaps()
    };
    let err = setup.refusal(dir.path()).await;
    assert!(
        matches!(&err, ContactsError::BindRefused { bind_dn, reason, .. }
            if bind_dn == SERVICE_DN && reason.contains("invalidCredentials")),
        "{err:?}"
    );
    assert!(!err.to_string().contains("not-the-password"), "{err}");
}

#[tokio::test]
async fn filter_characters_in_the_text_are_literal() {
    let dir = tempfile::tempdir().unwrap();
    let directory = Setup::ldaps().directory(dir.path());
    // Unescaped, `*` would match every entry and `*)(cn=*` would widen the filter.
    for text in ["*", "*)(cn=*", "\\2a", "bob)(|(cn=*"] {
        let found = directory.search(text).await.unwrap();
        assert!(found.is_empty(), "{text}: {:?}", names(&found));
    }
    let found = directory.search("(Paren)").await.unwrap();
    assert_eq!(names(&found), ["Weird (Paren) Name"]);
}

#[tokio::test]
async fn results_are_cached_per_text() {
    let dir = tempfile::tempdir().unwrap();
    let (port, connections) = revocation_support::counting_proxy(server().slapd.ldaps_port).await;
    let setup = Setup {
        url: format!("ldaps://127.0.0.1:{port}"),
        ..Setup::ldaps()
    };
    let directory = setup.directory(dir.path());
    let first = directory.search_directory("Danvers").await.unwrap();
    assert_eq!(names(&first), ["Carol Danvers"]);
    assert_eq!(connections.load(Ordering::SeqCst), 1);
    // The same text (case and spaces aside) within cache_secs: no new connection.
    let again = directory.search("  danvers ").await.unwrap();
    assert_eq!(first, again);
    assert_eq!(connections.load(Ordering::SeqCst), 1);
    // Another text, or after clearing the cache: the server is asked again.
    directory.search_directory("Builder").await.unwrap();
    assert_eq!(connections.load(Ordering::SeqCst), 2);
    directory.clear_cache();
    assert_eq!(directory.search_directory("Danvers").await.unwrap(), first);
    assert_eq!(connections.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let dir = tempfile::tempdir().unwrap();
    // Accepts connections (the kernel does) but never answers the TLS handshake.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let setup = Setup {
        url: format!("ldaps://127.0.0.1:{}", silent.local_addr().unwrap().port()),
        extra: "timeout_secs = 1\n",
        ..Setup::ldaps()
    };
    let started = Instant::now();
    let err = setup.refusal(dir.path()).await;
    assert!(
        matches!(err, ContactsError::Timeout { secs: 1, .. }),
        "{err:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

fn run_cli(config: &Path, args: &[&str]) -> (u8, String, String) {
    let out = support::lockphone_command(30, config.parent().unwrap())
        .args(["contacts", "search", "-c"])
        .arg(config)
        .args(args)
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1) as u8;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stdout.contains(SERVICE_PASSWORD) && !stderr.contains(SERVICE_PASSWORD),
        "the bind password was printed:\n{stdout}\n{stderr}"
    );
    (code, stdout, stderr)
}

#[test]
fn the_cli_prints_contacts_and_maps_failures_to_exit_codes() {
    let server = server();
    let dir = tempfile::tempdir().unwrap();
    let ok = Setup {
        contacts: "[[account.contacts]]\nname = \"Bobby Tables\"\nphone = \"+1 555 0999\"\n",
        ..Setup::ldaps()
    }
    .write(dir.path());
    let (code, stdout, stderr) = run_cli(&ok, &["bob"]);
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0].starts_with("Bobby Tables") && lines[0].contains("+1 555 0999"),
        "{stdout}"
    );
    assert!(lines[0].ends_with("config"), "{stdout}");
    assert!(
        lines[1].starts_with("Bob Builder")
            && lines[1].contains("sip:bob@example.test")
            && lines[1].contains("+1 555 0100")
            && lines[1].ends_with("directory"),
        "{stdout}"
    );
    let (code, stdout, _) = run_cli(&ok, &["carol", "--json"]);
    assert_eq!(code, 0);
    let json = support::json_lines(stdout.as_bytes());
    assert_eq!(json.len(), 1, "{stdout}");
    assert_eq!(json[0]["name"], "Carol Danvers");
    assert_eq!(json[0]["sip_uri"], "sip:carol@example.test");
    assert_eq!(json[0]["phone"], "+1 555 0200");
    assert_eq!(json[0]["source"], "directory");
    let (code, stdout, stderr) = run_cli(&ok, &["nobody-by-that-name"]);
    assert_eq!((code, stdout.as_str()), (0, ""));
    assert!(stderr.contains("no contact matches"), "{stderr}");

    let cases: [(&str, Setup<'_>, u8, &str); 3] = [
        (
            "wrong password",
            Setup {
                password: Some("wrong"),
                ..Setup::ldaps()
            },
            3,
            "invalidCredentials",
        ),
        (
            "other CA",
            Setup {
                ca: server.other_ca(),
                ..Setup::ldaps()
            },
            4,
            "unknown issuer",
        ),
        (
            "closed port",
            Setup {
                url: format!("ldaps://127.0.0.1:{}", support::peers::free_tcp_port()),
                ..Setup::ldaps()
            },
            5,
            "unreachable",
        ),
    ];
    for (what, setup, expected, text) in cases {
        let case_dir = tempfile::tempdir().unwrap();
        let (code, _, stderr) = run_cli(&setup.write(case_dir.path()), &["carol"]);
        assert_eq!(code, expected, "{what}: {stderr}");
        assert!(stderr.contains(text), "{what}: {stderr}");
    }

    // A password file others can read is a configuration error, before anything is sent.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(
        dir.path().join("ldap.password"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let (code, _, stderr) = run_cli(&ok, &["carol"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("chmod 600"), "{stderr}");
}

#[test]
fn the_example_config_documents_contacts_and_a_directory() {
    let path = support::repo_root().join("examples/lockphone.toml");
    let config = Config::load(&path).unwrap();
    let account = config.account(Some("alice")).unwrap();
    assert_eq!(account.contacts.len(), 2);
    let directory = account.directory.as_ref().unwrap();
    assert!(directory.url.starts_with("ldaps://"));
    assert!(
        directory
            .password_file
            .as_ref()
            .unwrap()
            .ends_with("examples/ldap.password")
    );
    assert!(directory.filter_template().contains("{q}"));
}
