//! Real revocation infrastructure on 127.0.0.1 for tests/trust_revocation.rs: a CA made with
//! rcgen whose leaves name CRL and OCSP URLs, a counting HTTP server for CRLs, `openssl ocsp`
//! as the OCSP responder (index.txt + CA), stapled responses made by `openssl ocsp`, and
//! rustls TLS servers (stapling when asked).
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use lockphone::tls::TrustAnchors;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, CertifiedIssuer,
    CrlDistributionPoint, CustomExtension, DnType, IsCa, KeyIdMethod, KeyPair, RevocationReason,
    RevokedCertParams, SanType, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A CA on disk (PEM cert and key, for `openssl ocsp`) that issues leaves naming sources.
pub struct Pki {
    pub dir: PathBuf,
    ca: CertifiedIssuer<'static, KeyPair>,
}

/// A leaf certificate with its key and PEM file.
pub struct Leaf {
    pub cert: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
    pub pem: PathBuf,
    pub serial: [u8; 2],
}

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 128 {
        out.push(n as u8);
    } else if n < 256 {
        out.extend([0x81, n as u8]);
    } else {
        out.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    out.extend_from_slice(content);
    out
}

/// The DER value of an Authority Information Access extension with one OCSP URL.
fn aia_ocsp(url: &str) -> Vec<u8> {
    let oid = [0x06, 0x08, 0x2B, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01];
    let mut desc = oid.to_vec();
    desc.extend(tlv(0x86, url.as_bytes()));
    tlv(0x30, &tlv(0x30, &desc))
}

impl Pki {
    /// A new CA named `name`, written to `dir/ca.pem` and `dir/ca.key`.
    pub fn new(dir: &Path, name: &str) -> Pki {
        std::fs::create_dir_all(dir).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        std::fs::write(dir.join("ca.key"), key.serialize_pem()).unwrap();
        let ca = CertifiedIssuer::self_signed(params, key).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        Pki {
            dir: dir.to_owned(),
            ca,
        }
    }

    /// An intermediate CA signed by this one (in `dir`), with this serial and CRL URL.
    pub fn intermediate(&self, dir: &Path, name: &str, serial: [u8; 2], crl: Option<&str>) -> Pki {
        std::fs::create_dir_all(dir).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        if let Some(url) = crl {
            params.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![url.to_owned()],
            }];
        }
        let key = KeyPair::generate().unwrap();
        std::fs::write(dir.join("ca.key"), key.serialize_pem()).unwrap();
        let ca = CertifiedIssuer::signed_by(params, key, &self.ca).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        Pki {
            dir: dir.to_owned(),
            ca,
        }
    }

    /// The CA certificate.
    pub fn cert(&self) -> CertificateDer<'static> {
        self.ca.der().clone()
    }

    /// The CA as the client's only anchor.
    pub fn anchors(&self) -> TrustAnchors {
        let mut anchors = TrustAnchors::empty();
        anchors.add_der(self.ca.der().clone()).unwrap();
        anchors
    }

    pub fn ca_pem(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    pub fn ca_key(&self) -> PathBuf {
        self.dir.join("ca.key")
    }

    /// A leaf for 127.0.0.1 with this serial, naming a CRL and/or an OCSP URL.
    pub fn leaf(&self, serial: [u8; 2], crl: Option<&str>, ocsp: Option<&str>) -> Leaf {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(
            DnType::CommonName,
            format!("server {:02X}{:02X}", serial[0], serial[1]),
        );
        params.subject_alt_names = vec![SanType::IpAddress("127.0.0.1".parse().unwrap())];
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        if let Some(url) = crl {
            params.crl_distribution_points = vec![CrlDistributionPoint {
                uris: vec![url.to_owned()],
            }];
        }
        if let Some(url) = ocsp {
            params.custom_extensions = vec![CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 5, 5, 7, 1, 1],
                aia_ocsp(url),
            )];
        }
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        let pem = self.dir.join(format!("leaf-{}.pem", hex(&serial)));
        std::fs::write(&pem, cert.pem()).unwrap();
        Leaf {
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
            pem,
            serial,
        }
    }

    /// A CRL (valid for a day) revoking these serials for key compromise.
    pub fn crl(&self, revoked: &[[u8; 2]]) -> Vec<u8> {
        let now = time::OffsetDateTime::now_utc();
        let params = CertificateRevocationListParams {
            this_update: now - time::Duration::minutes(1),
            next_update: now + time::Duration::days(1),
            crl_number: SerialNumber::from(1u64),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|serial| RevokedCertParams {
                    serial_number: SerialNumber::from_slice(serial),
                    revocation_time: now - time::Duration::hours(1),
                    reason_code: Some(RevocationReason::KeyCompromise),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: KeyIdMethod::Sha256,
        };
        params.signed_by(&self.ca).unwrap().der().to_vec()
    }

    /// Writes the `openssl ocsp` index: these serials valid, those revoked.
    pub fn write_index(&self, good: &[[u8; 2]], revoked: &[[u8; 2]]) -> PathBuf {
        let mut text = String::new();
        for serial in good {
            text.push_str(&format!(
                "V\t301231235959Z\t\t{}\tunknown\t/CN=server\n",
                hex(serial)
            ));
        }
        for serial in revoked {
            text.push_str(&format!(
                "R\t301231235959Z\t240101000000Z,keyCompromise\t{}\tunknown\t/CN=server\n",
                hex(serial)
            ));
        }
        let path = self.dir.join("index.txt");
        std::fs::write(&path, text).unwrap();
        std::fs::write(self.dir.join("index.txt.attr"), "unique_subject = no\n").unwrap();
        path
    }

    /// A DER OCSP response for `leaf` made by `openssl ocsp` from the index (for stapling).
    pub fn staple_for(&self, leaf: &Leaf) -> Vec<u8> {
        let req = self.dir.join(format!("req-{}.der", hex(&leaf.serial)));
        let resp = self.dir.join(format!("resp-{}.der", hex(&leaf.serial)));
        openssl(&[
            "ocsp",
            "-issuer",
            path(&self.ca_pem()),
            "-cert",
            path(&leaf.pem),
            "-no_nonce",
            "-reqout",
            path(&req),
        ]);
        openssl(&[
            "ocsp",
            "-index",
            path(&self.dir.join("index.txt")),
            "-rsigner",
            path(&self.ca_pem()),
            "-rkey",
            path(&self.ca_key()),
            "-CA",
            path(&self.ca_pem()),
            "-reqin",
            path(&req),
            "-respout",
            path(&resp),
            "-ndays",
            "1",
        ]);
        std::fs::read(resp).unwrap()
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// Runs the openssl CLI, panicking with its stderr on failure.
pub fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Serves `body` to every HTTP request; returns the URL and the request counter.
pub async fn serve_http(body: Vec<u8>, file: &str) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = format!(
                    "HTTP/1.0 200 OK\r\nContent-Type: application/pkix-crl\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.write_all(&body).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (format!("http://127.0.0.1:{port}/{file}"), count)
}

/// A server that accepts connections and never answers.
pub async fn black_hole() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    port
}

/// Forwards TCP to `upstream`, counting connections.
pub async fn counting_proxy(upstream: u16) -> (u16, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let count = Arc::new(AtomicUsize::new(0));
    let counter = count.clone();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", upstream)).await {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    (port, count)
}

/// `openssl ocsp` serving an index over HTTP; killed when dropped.
pub struct OcspResponder {
    child: Child,
    pub port: u16,
}

impl OcspResponder {
    /// Starts a responder signing with `signer` (cert, key) for the CA of `pki`.
    pub fn start(pki: &Pki, signer: (&Path, &Path)) -> OcspResponder {
        let port = closed_port();
        let log_path = pki.dir.join(format!("ocsp-{port}.log"));
        let log = std::fs::File::create(&log_path).unwrap();
        let child = Command::new("openssl")
            .args([
                "ocsp",
                "-index",
                path(&pki.dir.join("index.txt")),
                "-port",
                &port.to_string(),
                "-rsigner",
                path(signer.0),
                "-rkey",
                path(signer.1),
                "-CA",
                path(&pki.ca_pem()),
                "-ndays",
                "1",
                "-ignore_err",
            ])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("openssl ocsp");
        // Readiness from its log: `openssl ocsp` (3.0) stops answering after a connection
        // that sends nothing, so it must not be probed by connecting.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while !std::fs::read_to_string(&log_path).is_ok_and(|l| l.contains("waiting for OCSP")) {
            assert!(
                std::time::Instant::now() < deadline,
                "openssl ocsp did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        OcspResponder { child, port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.port)
    }
}

impl Drop for OcspResponder {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A rustls TLS server on 127.0.0.1 presenting `chain` (stapling `staple` when given); it
/// completes handshakes and holds each connection until the client leaves.
pub async fn tls_server(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    staple: Option<Vec<u8>>,
) -> SocketAddr {
    let builder = rustls::ServerConfig::builder_with_provider(lockphone::tls::provider())
        .with_protocol_versions(lockphone::tls::PROTOCOL_VERSIONS)
        .unwrap()
        .with_no_client_auth();
    let config = match staple {
        Some(ocsp) => builder
            .with_single_cert_with_ocsp(chain, key, ocsp)
            .unwrap(),
        None => builder.with_single_cert(chain, key).unwrap(),
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(tcp).await {
                    let mut buf = [0u8; 1024];
                    while matches!(tls.read(&mut buf).await, Ok(n) if n > 0) {}
                }
            });
        }
    });
    addr
}

/// `openssl s_server` with extra arguments (legacy servers: TLS 1.1, weak keys); killed when
/// dropped.
pub struct OpensslServer {
    child: Child,
    pub port: u16,
}

impl OpensslServer {
    pub fn start(cert: &Path, key: &Path, extra: &[&str]) -> OpensslServer {
        let port = closed_port();
        let child = Command::new("openssl")
            .args([
                "s_server",
                "-accept",
                &port.to_string(),
                "-cert",
                path(cert),
                "-key",
                path(key),
            ])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("openssl s_server");
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "openssl s_server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        OpensslServer { child, port }
    }
}

impl Drop for OpensslServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An RSA CA and leaf made with the openssl CLI: `leaf_bits`-bit leaf key, signed with
/// `digest` (sha256, sha1). Returns (ca.pem, leaf.pem, leaf.key).
pub fn openssl_chain(dir: &Path, leaf_bits: u32, digest: &str) -> (PathBuf, PathBuf, PathBuf) {
    std::fs::create_dir_all(dir).unwrap();
    let p = |name: &str| dir.join(name);
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        path(&p("ca.key")),
        "-out",
        path(&p("ca.pem")),
        "-subj",
        "/CN=Legacy Test CA",
        "-days",
        "2",
        "-sha256",
    ]);
    openssl(&[
        "req",
        "-newkey",
        &format!("rsa:{leaf_bits}"),
        "-nodes",
        "-keyout",
        path(&p("leaf.key")),
        "-out",
        path(&p("leaf.csr")),
        "-subj",
        "/CN=legacy server",
    ]);
    std::fs::write(p("ext.cnf"), "subjectAltName=IP:127.0.0.1\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        path(&p("leaf.csr")),
        "-CA",
        path(&p("ca.pem")),
        "-CAkey",
        path(&p("ca.key")),
        "-CAcreateserial",
        "-out",
        path(&p("leaf.pem")),
        "-days",
        "2",
        &format!("-{digest}"),
        "-extfile",
        path(&p("ext.cnf")),
    ]);
    (p("ca.pem"), p("leaf.pem"), p("leaf.key"))
}
