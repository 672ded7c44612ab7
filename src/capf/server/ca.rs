//! The test server's issuing CA and its CAPF TLS certificate, on rcgen.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use x509_parser::prelude::{FromDer, X509Certificate};

/// The OID of id-kp-ipsecEndSystem, which capfd puts in every LSC.
const IPSEC_END_SYSTEM: [u64; 9] = [1, 3, 6, 1, 5, 5, 7, 3, 5];

/// A CA that signs LSCs.
pub struct IssuingCa {
    der: Vec<u8>,
    issuer: Issuer<'static, KeyPair>,
    /// O, OU, L, ST, C of the CA's subject, in order, copied into every LSC subject.
    subject_extra: Vec<(DnType, String)>,
}

impl std::fmt::Debug for IssuingCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "IssuingCa({} byte certificate, key <redacted>)",
            self.der.len()
        )
    }
}

/// A certificate with its key (PEM), for the TLS side or to write to files.
pub struct PemPair {
    /// The certificate, PEM.
    pub certificate: String,
    /// The PKCS#8 key, PEM (secret).
    pub key: String,
}

impl std::fmt::Debug for PemPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PemPair(key <redacted>)")
    }
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl IssuingCa {
    /// A CA from its certificate and key (PEM).
    pub fn from_pem(certificate: &str, key: &str) -> Result<IssuingCa, String> {
        use rustls::pki_types::pem::PemObject;
        let der = CertificateDer::from_pem_slice(certificate.as_bytes())
            .map_err(|e| format!("CA certificate: {e}"))?;
        let key = KeyPair::from_pem(key).map_err(|e| format!("CA key: {e}"))?;
        IssuingCa::from_der(der.as_ref(), key)
    }

    fn from_der(der: &[u8], key: KeyPair) -> Result<IssuingCa, String> {
        let (_, cert) = X509Certificate::from_der(der).map_err(err)?;
        let mut subject_extra = Vec::new();
        for rdn in cert.subject().iter() {
            for attr in rdn.iter() {
                let oid = attr.attr_type().to_id_string();
                let kind = match oid.as_str() {
                    "2.5.4.10" => DnType::OrganizationName,
                    "2.5.4.11" => DnType::OrganizationalUnitName,
                    "2.5.4.7" => DnType::LocalityName,
                    "2.5.4.8" => DnType::StateOrProvinceName,
                    "2.5.4.6" => DnType::CountryName,
                    _ => continue,
                };
                if let Ok(value) = attr.as_str() {
                    subject_extra.push((kind, value.to_owned()));
                }
            }
        }
        let issuer = Issuer::from_ca_cert_der(&CertificateDer::from(der.to_vec()), key)
            .map_err(|e| format!("CA certificate: {e}"))?;
        Ok(IssuingCa {
            der: der.to_vec(),
            issuer,
            subject_extra,
        })
    }

    /// A new self-signed EC P-256 CA (`CN=<name>, O=Lockphone Lab`) and its PEM pair.
    pub fn generate(name: &str) -> Result<(IssuingCa, PemPair), String> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "Lockphone Lab");
        let key = KeyPair::generate().map_err(err)?;
        let cert = params.self_signed(&key).map_err(err)?;
        let pair = PemPair {
            certificate: cert.pem(),
            key: key.serialize_pem(),
        };
        Ok((IssuingCa::from_der(cert.der(), key)?, pair))
    }

    /// The CA certificate (DER).
    pub fn certificate(&self) -> CertificateDer<'static> {
        CertificateDer::from(self.der.clone())
    }

    /// A CAPF TLS certificate signed by this CA, with the extensions Cisco asks for
    /// (basicConstraints CA:TRUE pathlen:0; keyUsage digitalSignature, keyCertSign).
    pub fn capf_certificate(&self, name: &str) -> Result<PemPair, String> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyCertSign,
        ];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.distinguished_name.push(DnType::CommonName, name);
        let key = KeyPair::generate().map_err(err)?;
        let cert = params.signed_by(&key, &self.issuer).map_err(err)?;
        Ok(PemPair {
            certificate: cert.pem(),
            key: key.serialize_pem(),
        })
    }

    /// Issues an LSC for `device` and the public key `spki` (reference §6).
    pub fn issue(&self, device: &str, spki: &[u8], days: u32) -> Result<Vec<u8>, String> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        let mut serial: [u8; 16] = rand::random();
        serial[0] &= 0x7f;
        params.serial_number = Some(SerialNumber::from_slice(&serial));
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, device);
        for (kind, value) in &self.subject_extra {
            dn.push(kind.clone(), value.as_str());
        }
        params.distinguished_name = dn;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now;
        params.not_after = now + time::Duration::days(i64::from(days.clamp(1, 3560)));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
            ExtendedKeyUsagePurpose::Other(IPSEC_END_SYSTEM.to_vec()),
        ];
        let uri = device
            .to_owned()
            .try_into()
            .map_err(|e| format!("device name as URI: {e}"))?;
        params.subject_alt_names = vec![SanType::URI(uri)];
        let public = rcgen::SubjectPublicKeyInfo::from_der(spki).map_err(err)?;
        let cert = params.signed_by(&public, &self.issuer).map_err(err)?;
        Ok(cert.der().as_ref().to_vec())
    }
}

/// The DER key of a PEM pair, for rustls.
pub fn private_key_der(pair: &PemPair) -> Result<PrivateKeyDer<'static>, String> {
    use rustls::pki_types::pem::PemObject;
    PrivatePkcs8KeyDer::from_pem_slice(pair.key.as_bytes())
        .map(PrivateKeyDer::Pkcs8)
        .map_err(err)
}
