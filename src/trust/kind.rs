//! What a certificate is for, as trust decisions need to know: does it sign certificates (a
//! CA), is it its own issuer (self-signed), which extended key usages does it allow.
//!
//! Unreadable extensions count as absent where that makes the certificate *less* trusted
//! (not a CA, not self-signed).

use x509_parser::prelude::{FromDer, X509Certificate};

/// Whether `cert` is its own issuer: issuer and subject are the same name AND its signature
/// verifies with its own public key (a name alone proves nothing).
pub fn is_self_signed(cert: &X509Certificate<'_>) -> bool {
    cert.issuer().as_raw() == cert.subject().as_raw() && cert.verify_signature(None).is_ok()
}

/// [`is_self_signed`] of a DER certificate (`false` when it cannot be read).
pub fn is_self_signed_der(der: &[u8]) -> bool {
    X509Certificate::from_der(der).is_ok_and(|(_, cert)| is_self_signed(&cert))
}

/// Whether `cert` may sign certificates: basicConstraints `cA` TRUE and, when it has a
/// keyUsage extension, `keyCertSign` in it.
pub fn signs_certificates(cert: &X509Certificate<'_>) -> bool {
    let ca = cert
        .basic_constraints()
        .ok()
        .flatten()
        .is_some_and(|bc| bc.value.ca);
    let key_usage_allows = match cert.key_usage() {
        Ok(None) => true,
        Ok(Some(usage)) => usage.value.key_cert_sign(),
        Err(_) => false,
    };
    ca && key_usage_allows
}

/// Whether a TLS server may present `cert`: no extendedKeyUsage, or one listing serverAuth
/// (or anyExtendedKeyUsage) — the rule webpki applies to end-entity certificates.
pub fn allows_server_auth(cert: &X509Certificate<'_>) -> bool {
    match cert.extended_key_usage() {
        Ok(None) => true,
        Ok(Some(eku)) => eku.value.server_auth || eku.value.any,
        Err(_) => false,
    }
}

/// Whether `cert`'s extendedKeyUsage is present and says serverAuth and nothing else: a
/// server's certificate, whatever its basicConstraints claim.
pub fn server_auth_only(cert: &X509Certificate<'_>) -> bool {
    match cert.extended_key_usage() {
        Ok(Some(eku)) => {
            let eku = eku.value;
            eku.server_auth
                && !(eku.any
                    || eku.client_auth
                    || eku.code_signing
                    || eku.email_protection
                    || eku.time_stamping
                    || eku.ocsp_signing
                    || !eku.other.is_empty())
        }
        _ => false,
    }
}

/// A self-signed certificate a server may present ([`is_self_signed`] and
/// [`allows_server_auth`]), whatever its basicConstraints say (`openssl req -x509` sets
/// `CA:TRUE`).
pub fn is_self_signed_server_der(der: &[u8]) -> bool {
    X509Certificate::from_der(der)
        .is_ok_and(|(_, cert)| is_self_signed(&cert) && allows_server_auth(&cert))
}

#[cfg(test)]
mod tests {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa,
        KeyPair, KeyUsagePurpose,
    };

    use super::*;

    fn parse(der: &[u8]) -> X509Certificate<'_> {
        X509Certificate::from_der(der).unwrap().1
    }

    #[test]
    fn self_signed_needs_the_same_name_and_its_own_signature() {
        let key = KeyPair::generate().unwrap();
        let own = CertificateParams::new(vec!["a.test".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        assert!(is_self_signed_der(own.der()));
        // Same subject and issuer name, but signed by another key.
        let mut name = rcgen::DistinguishedName::new();
        name.push(rcgen::DnType::CommonName, "same");
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name = name.clone();
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        let mut leaf = CertificateParams::new(vec!["a.test".to_owned()]).unwrap();
        leaf.distinguished_name = name;
        let leaf = leaf
            .signed_by(&KeyPair::generate().unwrap(), &issuer)
            .unwrap();
        assert_eq!(
            parse(leaf.der()).issuer().as_raw(),
            parse(leaf.der()).subject().as_raw()
        );
        assert!(
            !is_self_signed_der(leaf.der()),
            "a name alone proves nothing"
        );
        assert!(!is_self_signed_der(b"garbage"));
    }

    #[test]
    fn a_ca_needs_ca_true_and_key_cert_sign_when_key_usage_is_present() {
        let sign = |ca: bool, usages: Vec<KeyUsagePurpose>| {
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            if ca {
                params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            }
            params.key_usages = usages;
            let der = params.self_signed(&KeyPair::generate().unwrap()).unwrap();
            signs_certificates(&parse(der.der()))
        };
        assert!(sign(true, vec![]));
        assert!(sign(true, vec![KeyUsagePurpose::KeyCertSign]));
        assert!(!sign(true, vec![KeyUsagePurpose::DigitalSignature]));
        assert!(!sign(false, vec![KeyUsagePurpose::KeyCertSign]));
    }

    #[test]
    fn server_auth_only_and_allowed() {
        let with = |purposes: Vec<ExtendedKeyUsagePurpose>| {
            let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
            params.extended_key_usages = purposes;
            let cert = params.self_signed(&KeyPair::generate().unwrap()).unwrap();
            let cert = parse(cert.der());
            (server_auth_only(&cert), allows_server_auth(&cert))
        };
        use ExtendedKeyUsagePurpose::{ClientAuth, ServerAuth};
        assert_eq!(with(vec![]), (false, true));
        assert_eq!(with(vec![ServerAuth]), (true, true));
        assert_eq!(with(vec![ServerAuth, ClientAuth]), (false, true));
        assert_eq!(with(vec![ClientAuth]), (false, false));
    }
}
