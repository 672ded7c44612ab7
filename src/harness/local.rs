//! A throw-away PKI and account configurations for calls on 127.0.0.1: what `lockphone demo`,
//! the examples, the benchmarks and tests use to run a caller and a callee with nothing
//! configured.
//!
//! ```no_run
//! use lockphone::harness::local::LocalPki;
//! use lockphone::ua::Phone;
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = std::env::temp_dir().join("lockphone-local");
//! let pki = LocalPki::create(&dir, &["alice", "bob"])?;
//! let bob = pki.config("bob", Some("127.0.0.1:0"), "codecs = [\"opus\"]")?;
//! let callee = Phone::start(bob.account(None)?).await?;
//! callee.auto_answer(Some(Default::default()));
//! let listening = callee.listen().await?;
//! let target = format!("sip:bob@{listening};transport=tls");
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, SanType,
};

use crate::config::{Config, ConfigError};
use crate::user_files::{create_private_dir, write_private_atomic};

/// Why the throw-away PKI could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LocalPkiError {
    /// A file or folder could not be written.
    #[error("cannot write {path}: {source}; choose a writable folder")]
    Write {
        /// The path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A key or certificate could not be made.
    #[error("cannot make the {what}: {source}")]
    Certificate {
        /// Which one.
        what: String,
        /// Why.
        source: rcgen::Error,
    },
}

/// A CA and a certificate per user (names `127.0.0.1`, `localhost`, `sip:USER@127.0.0.1`; for
/// TLS server and client use) in a folder: `ca.crt`, `USER.crt`, `USER.key` (0600).
#[derive(Debug, Clone)]
pub struct LocalPki {
    dir: PathBuf,
}

impl LocalPki {
    /// Makes the PKI for `users` in `dir` (created 0700 if missing).
    pub fn create(dir: &Path, users: &[&str]) -> Result<LocalPki, LocalPkiError> {
        let write = |path: PathBuf, bytes: &[u8]| {
            write_private_atomic(&path, bytes).map_err(|source| LocalPkiError::Write {
                path: path.clone(),
                source,
            })
        };
        let cert_error = |what: &str| {
            let what = what.to_owned();
            move |source| LocalPkiError::Certificate { what, source }
        };
        create_private_dir(dir).map_err(|source| LocalPkiError::Write {
            path: dir.to_owned(),
            source,
        })?;
        let ca_key = KeyPair::generate().map_err(cert_error("CA key"))?;
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).map_err(cert_error("CA"))?;
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "Lockphone throw-away CA");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let issuer = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(cert_error("CA"))?;
        write(dir.join("ca.crt"), issuer.pem().as_bytes())?;
        for user in users {
            let what = format!("certificate of {user}");
            let key = KeyPair::generate().map_err(cert_error(&what))?;
            let mut params =
                CertificateParams::new(vec!["localhost".to_owned()]).map_err(cert_error(&what))?;
            params.distinguished_name.push(DnType::CommonName, *user);
            params
                .subject_alt_names
                .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
            let uri = format!("sip:{user}@127.0.0.1")
                .try_into()
                .map_err(cert_error(&what))?;
            params.subject_alt_names.push(SanType::URI(uri));
            params.extended_key_usages = vec![
                ExtendedKeyUsagePurpose::ServerAuth,
                ExtendedKeyUsagePurpose::ClientAuth,
            ];
            let cert = params.signed_by(&key, &issuer).map_err(cert_error(&what))?;
            write(dir.join(format!("{user}.crt")), cert.pem().as_bytes())?;
            write(
                dir.join(format!("{user}.key")),
                key.serialize_pem().as_bytes(),
            )?;
        }
        Ok(LocalPki {
            dir: dir.to_owned(),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The TOML of an account `user` (sip:USER@127.0.0.1, no registration, TLS with its
    /// certificate, the CA, a trust store in the folder), listening on `listen` if given, with
    /// `calls` added to `[account.calls]` (e.g. `codecs = ["opus"]`).
    pub fn account_toml(&self, user: &str, listen: Option<&str>, calls: &str) -> String {
        let path = |name: &str| format!("{:?}", self.dir.join(name).display().to_string());
        let listen = listen.map_or(String::new(), |l| format!("listen = \"{l}\"\n"));
        format!(
            "[[account]]\nname = \"{user}\"\naor = \"sip:{user}@127.0.0.1\"\nregister = false\n\
             transport = \"tls\"\n\
             [account.tls]\nca_file = {ca}\nclient_certificate = {cert}\nclient_key = {key}\n\
             trust_store = {store}\n\
             [account.calls]\n{listen}{calls}\n",
            ca = path("ca.crt"),
            cert = path(&format!("{user}.crt")),
            key = path(&format!("{user}.key")),
            store = path(&format!("{user}-trust.json")),
        )
    }

    /// [`LocalPki::account_toml`], read as a configuration.
    pub fn config(
        &self,
        user: &str,
        listen: Option<&str>,
        calls: &str,
    ) -> Result<Config, ConfigError> {
        Config::from_toml(&self.account_toml(user, listen, calls))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn makes_files_and_a_valid_config() {
        let dir = tempfile::tempdir().unwrap();
        let pki = LocalPki::create(&dir.path().join("pki"), &["alice", "bob"]).unwrap();
        for file in ["ca.crt", "alice.crt", "alice.key", "bob.crt", "bob.key"] {
            assert!(pki.dir().join(file).is_file(), "{file}");
        }
        let config = pki
            .config("bob", Some("127.0.0.1:0"), "codecs = [\"pcmu\"]")
            .unwrap();
        let account = config.account(None).unwrap();
        assert_eq!(account.name, "bob");
        assert!(!account.register);
    }
}
