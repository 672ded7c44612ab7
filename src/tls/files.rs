//! Reading PEM certificates and keys, and refusing keys that others can read.

use std::path::Path;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::TlsError;

fn cert_error(path: &Path, reason: impl Into<String>) -> TlsError {
    TlsError::CertificateFile {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// All certificates in a PEM file, or in every `.pem`/`.crt` file of a folder.
pub(super) fn load_ca_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    if path.is_dir() {
        let entries = std::fs::read_dir(path).map_err(|e| cert_error(path, e.to_string()))?;
        let mut certs = Vec::new();
        for entry in entries {
            let file = entry.map_err(|e| cert_error(path, e.to_string()))?.path();
            let is_pem = file
                .extension()
                .is_some_and(|ext| ext == "pem" || ext == "crt");
            if is_pem {
                certs.extend(load_certificate_chain(&file)?);
            }
        }
        if certs.is_empty() {
            return Err(cert_error(
                path,
                "no .pem or .crt certificate in this folder",
            ));
        }
        return Ok(certs);
    }
    load_certificate_chain(path)
}

/// The certificates of a PEM file, in order.
pub fn load_certificate_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let iter = CertificateDer::pem_file_iter(path).map_err(|e| cert_error(path, e.to_string()))?;
    let certs = iter
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| cert_error(path, format!("not valid PEM: {e}")))?;
    if certs.is_empty() {
        return Err(cert_error(path, "no CERTIFICATE block found"));
    }
    Ok(certs)
}

/// The private key of a PEM file. On Unix the file must not be readable by group or others.
pub fn load_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    check_private(path)?;
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError::KeyFile {
        path: Some(path.to_owned()),
        reason: format!("no usable private key: {e}"),
    })
}

/// Refuses a secret file that group or others can read.
pub fn check_private(path: &Path) -> Result<(), TlsError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path).map_err(|e| TlsError::KeyFile {
            path: Some(path.to_owned()),
            reason: e.to_string(),
        })?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(TlsError::KeyPermissions {
                path: path.to_owned(),
                mode,
            });
        }
    }
    Ok(())
}
