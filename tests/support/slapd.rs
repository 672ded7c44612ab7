//! A real OpenLDAP server (Debian `slapd`) for tests: started as the test user on 127.0.0.1
//! with an mdb database in a temporary folder, a generated slapd.conf, LDAP (for StartTLS)
//! and LDAPS listeners on free ports, a certificate chosen by the test, entries loaded with
//! slapadd. It stops when dropped, and also when the test process ends (it is watched
//! through a pipe), so a shared instance in a `static` never outlives the tests.

use std::io::Write;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::peers::free_tcp_port;
use super::pki::{Leaf, TestCa, pem};

/// The suffix of the test directory.
pub const BASE_DN: &str = "dc=example,dc=test";
/// Where the people are.
pub const PEOPLE_DN: &str = "ou=people,dc=example,dc=test";
/// The service account Lockphone binds as.
pub const SERVICE_DN: &str = "cn=lockphone,ou=services,dc=example,dc=test";
/// Its password.
pub const SERVICE_PASSWORD: &str = "dir-s3cret";

/// Entries for tests: Bob Builder (+1 555 0100), Bob Marley (+1 555 0300), Carol Danvers
/// (+1 555 0200), "Weird (Paren) Name" (+1 555 0400), and the service account.
pub fn sample_ldif() -> String {
    let person = |cn: &str, sn: &str, mail: &str, phone: &str| {
        format!(
            "dn: cn={cn},{PEOPLE_DN}\nobjectClass: inetOrgPerson\ncn: {cn}\nsn: {sn}\nmail: {mail}\ntelephoneNumber: {phone}\n\n"
        )
    };
    let mut ldif = format!(
        "dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\no: Example\ndc: example\n\n\
         dn: {PEOPLE_DN}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=services,{BASE_DN}\nobjectClass: organizationalUnit\nou: services\n\n\
         dn: {SERVICE_DN}\nobjectClass: person\nobjectClass: simpleSecurityObject\ncn: lockphone\nsn: service\nuserPassword: {SERVICE_PASSWORD}\n\n"
    );
    ldif += &person("Bob Builder", "Builder", "bob@example.test", "+1 555 0100");
    ldif += &person(
        "Bob Marley",
        "Marley",
        "bob.marley@example.test",
        "+1 555 0300",
    );
    ldif += &person(
        "Carol Danvers",
        "Danvers",
        "carol@example.test",
        "+1 555 0200",
    );
    ldif += &person(
        "Weird (Paren) Name",
        "Name",
        "weird@example.test",
        "+1 555 0400",
    );
    ldif
}

/// Writes a leaf certificate and its key as PEM files (`NAME.crt`, `NAME.key` mode 0600).
pub fn write_leaf(dir: &Path, name: &str, leaf: &Leaf) -> (PathBuf, PathBuf) {
    let cert = dir.join(format!("{name}.crt"));
    let key = dir.join(format!("{name}.key"));
    std::fs::write(&cert, leaf.pem()).unwrap();
    super::write_private(&key, &pem("PRIVATE KEY", leaf.key.secret_der()));
    (cert, key)
}

/// Writes a CA certificate as `NAME.crt`.
pub fn write_ca(dir: &Path, name: &str, ca: &TestCa) -> PathBuf {
    let path = dir.join(format!("{name}.crt"));
    std::fs::write(&path, ca.pem()).unwrap();
    path
}

fn slapd_binary(name: &str) -> PathBuf {
    let sbin = Path::new("/usr/sbin").join(name);
    if sbin.exists() {
        sbin
    } else {
        PathBuf::from(name)
    }
}

/// A running slapd.
pub struct Slapd {
    dir: tempfile::TempDir,
    /// The plain LDAP port (StartTLS).
    pub ldap_port: u16,
    /// The LDAPS port.
    pub ldaps_port: u16,
    watcher: Child,
}

impl Slapd {
    /// Starts slapd with this certificate and key (PEM files) and the entries of `ldif`.
    /// Panics (with slapd's output) if it cannot start: install `slapd` (scripts/setup.sh).
    pub fn start(cert: &Path, key: &Path, ldif: &str) -> Slapd {
        let dir = tempfile::Builder::new()
            .prefix("lockphone-slapd.")
            .tempdir()
            .unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir(&db).unwrap();
        let conf = dir.path().join("slapd.conf");
        let schema = Path::new("/etc/ldap/schema");
        std::fs::write(
            &conf,
            format!(
                "include {s}/core.schema\ninclude {s}/cosine.schema\ninclude {s}/inetorgperson.schema\n\
                 modulepath /usr/lib/ldap\nmoduleload back_mdb\n\
                 pidfile {d}/slapd.pid\n\
                 TLSCertificateFile {cert}\nTLSCertificateKeyFile {key}\n\
                 database mdb\nmaxsize 10485760\nsuffix \"{BASE_DN}\"\ndirectory {db}\n\
                 access to attrs=userPassword by anonymous auth by * none\n\
                 access to * by * read\n",
                s = schema.display(),
                d = dir.path().display(),
                cert = cert.display(),
                key = key.display(),
                db = db.display(),
            ),
        )
        .unwrap();
        let ldif_path = dir.path().join("data.ldif");
        std::fs::write(&ldif_path, ldif).unwrap();
        let out = Command::new(slapd_binary("slapadd"))
            .arg("-f")
            .arg(&conf)
            .arg("-l")
            .arg(&ldif_path)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run slapadd ({e}): install slapd (scripts/setup.sh)")
            });
        assert!(
            out.status.success(),
            "slapadd failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let (ldap_port, ldaps_port) = (free_tcp_port(), free_tcp_port());
        let urls = format!("ldap://127.0.0.1:{ldap_port}/ ldaps://127.0.0.1:{ldaps_port}/");
        let log = dir.path().join("slapd.log");
        // slapd runs in the foreground (-d 0) under a shell that stops it as soon as our end
        // of its stdin closes: on drop, or when the test process exits for any reason.
        let watcher = Command::new("sh")
            .arg("-c")
            .arg("\"$1\" -f \"$2\" -h \"$3\" -d 0 >\"$4\" 2>&1 </dev/null & pid=$!; cat >/dev/null; kill $pid 2>/dev/null; wait $pid")
            .arg("sh")
            .arg(slapd_binary("slapd"))
            .arg(&conf)
            .arg(&urls)
            .arg(&log)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("run slapd");
        let slapd = Slapd {
            dir,
            ldap_port,
            ldaps_port,
            watcher,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        let up = |port| TcpStream::connect(("127.0.0.1", port)).is_ok();
        while !(up(ldap_port) && up(ldaps_port)) {
            assert!(
                Instant::now() < deadline,
                "slapd did not start:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        slapd
    }

    /// `ldaps://127.0.0.1:PORT`.
    pub fn ldaps_url(&self) -> String {
        format!("ldaps://127.0.0.1:{}", self.ldaps_port)
    }

    /// `ldap://127.0.0.1:PORT` (use with StartTLS).
    pub fn ldap_url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.ldap_port)
    }

    /// The server's folder.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// slapd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("slapd.log")).unwrap_or_default()
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        if let Some(mut stdin) = self.watcher.stdin.take() {
            let _ = stdin.flush();
        }
        let _ = self.watcher.wait();
    }
}
