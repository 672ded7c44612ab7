//! Certificates made in the tests with rcgen.

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// A test CA that can issue server certificates.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A certificate with its key.
pub struct Leaf {
    /// The certificate.
    pub cert: CertificateDer<'static>,
    /// Its private key.
    pub key: PrivateKeyDer<'static>,
}

impl TestCa {
    /// A new self-signed CA.
    pub fn new(name: &str) -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, name);
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        TestCa { issuer }
    }

    /// The CA certificate (a trust anchor).
    pub fn cert(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// The CA certificate in PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A server certificate for DNS names and IP addresses.
    pub fn leaf(&self, dns: &[&str], ips: &[std::net::IpAddr]) -> Leaf {
        let mut sans: Vec<SanType> = dns
            .iter()
            .map(|name| SanType::DnsName((*name).try_into().unwrap()))
            .collect();
        sans.extend(ips.iter().map(|ip| SanType::IpAddress(*ip)));
        self.leaf_with_sans(sans)
    }

    /// A server certificate with exactly these subjectAltName entries.
    pub fn leaf_with_sans(&self, sans: Vec<SanType>) -> Leaf {
        self.leaf_with(|params| params.subject_alt_names = sans)
    }

    /// A server certificate with its parameters (no SAN, rcgen's default subject) edited by
    /// `edit`: validity, subject, SANs.
    pub fn leaf_with(&self, edit: impl FnOnce(&mut CertificateParams)) -> Leaf {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        edit(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }
}

impl Leaf {
    /// A self-signed server certificate (no CA knows it) with its parameters edited by `edit`.
    pub fn self_signed(edit: impl FnOnce(&mut CertificateParams)) -> Leaf {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        edit(&mut params);
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Leaf {
            cert: cert.der().clone(),
            key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        }
    }

    /// The certificate in PEM.
    pub fn pem(&self) -> String {
        pem("CERTIFICATE", self.cert.as_ref())
    }
}

/// PEM text of a DER value (`label`: `CERTIFICATE`, `PRIVATE KEY`…).
pub fn pem(label: &str, der: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out + &format!("-----END {label}-----\n")
}
