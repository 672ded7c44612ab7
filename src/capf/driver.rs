//! Runs the sans-IO [`Client`] over TLS (tokio-rustls, TLS 1.2+): connects, verifies the CAPF
//! server by its pin, moves bytes, generates the key on a blocking thread, and stores, fetches
//! or deletes the LSC in the [`LscStore`].
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use lockphone::capf::client::{AuthString, ClientOptions, Credentials};
//! use lockphone::capf::driver::{EnrollOptions, enroll};
//! use lockphone::capf::store::LscStore;
//!
//! let pins = lockphone::tls::load_certificate_chain("capf.pem".as_ref())?;
//! let options = EnrollOptions::new("capf.example.test", pins, ClientOptions::new("SEP0A0B0C0D0E0F"));
//! let store = LscStore::new("/home/alice/.config/lockphone/certificates/alice");
//! let outcome = enroll(&options, Credentials::AuthString(AuthString::new("123456")), &store, |e| {
//!     println!("{e:?}");
//! }).await?;
//! # Ok(()) }
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use rustls::ClientConfig;
use rustls::pki_types::CertificateDer;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::client::{
    Action, Client, ClientError, ClientOptions, Credentials, Outcome, Output, Progress,
};
use super::keys::DeviceKey;
use super::pin::{CapfServerVerifier, PinError, PinMatch};
use super::store::{LscStore, StoreError};

/// Where and how to enroll.
#[derive(Debug, Clone)]
pub struct EnrollOptions {
    /// The CAPF server's host name or IP address.
    pub host: String,
    /// Its port (3804 by default).
    pub port: u16,
    /// The pinned CAPF certificate(s) or issuer(s).
    pub pins: Vec<CertificateDer<'static>>,
    /// The protocol options.
    pub client: ClientOptions,
    /// How long to wait for the connection and for each server message.
    pub timeout: Duration,
}

impl EnrollOptions {
    /// Defaults: port 3804, 30 s timeout.
    pub fn new(
        host: impl Into<String>,
        pins: Vec<CertificateDer<'static>>,
        client: ClientOptions,
    ) -> Self {
        EnrollOptions {
            host: host.into(),
            port: super::DEFAULT_PORT,
            pins,
            client,
            timeout: Duration::from_secs(30),
        }
    }
}

/// Why enrollment failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EnrollError {
    /// TCP connection failed.
    #[error("cannot connect to the CAPF server {server}: {reason}")]
    Connect {
        /// host:port.
        server: String,
        /// The error.
        reason: String,
    },
    /// The server's certificate does not match the pin.
    #[error("{0}")]
    Pin(PinError),
    /// Another TLS failure.
    #[error("TLS with the CAPF server {server} failed: {reason}")]
    Tls {
        /// host:port.
        server: String,
        /// The error.
        reason: String,
    },
    /// Nothing arrived in time.
    #[error("the CAPF server did not answer within {secs} s while {state}")]
    Timeout {
        /// The timeout.
        secs: u64,
        /// Where we were.
        state: String,
    },
    /// The connection broke.
    #[error("the connection to the CAPF server broke: {0}")]
    Io(String),
    /// The protocol failed (END_SESSION reasons, malformed messages, refused keys, …).
    #[error("{0}")]
    Protocol(#[from] ClientError),
    /// The certificate store failed.
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Bad options.
    #[error("{0}")]
    Config(String),
}

/// What happened outside the protocol steps.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum DriverEvent {
    /// TCP connect.
    Connecting {
        /// host:port.
        server: String,
    },
    /// TLS is up and the server matched the pin.
    Connected {
        /// host:port.
        server: String,
        /// The TLS version.
        tls_version: String,
        /// The cipher suite.
        cipher_suite: String,
        /// How the server's certificate matched.
        pinned: PinMatch,
        /// The server certificate's SHA-256.
        server_sha256: String,
    },
    /// The key is ready.
    KeyGenerated {
        /// The key kind.
        key: String,
        /// How long generation took.
        millis: u64,
    },
    /// The LSC and key were written.
    CertificateStored {
        /// The certificate file.
        certificate: String,
        /// The key file.
        key: String,
    },
    /// Our LSC was sent to the server (fetch).
    CertificateSent {
        /// Whether we had one.
        present: bool,
    },
    /// Our LSC was deleted.
    CertificateDeleted {
        /// Whether there was one.
        existed: bool,
    },
}

/// One enrollment event: a protocol step or a driver step.
#[derive(Debug, Clone)]
pub enum EnrollEvent {
    /// A protocol step.
    Step(Progress),
    /// A driver step.
    Driver(DriverEvent),
}

impl Serialize for EnrollEvent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            EnrollEvent::Step(p) => p.serialize(serializer),
            EnrollEvent::Driver(d) => d.serialize(serializer),
        }
    }
}

/// The TLS client configuration: TLS 1.2+, the pinning verifier, no client certificate.
pub fn tls_config(verifier: Arc<CapfServerVerifier>) -> Result<ClientConfig, EnrollError> {
    let config = ClientConfig::builder_with_provider(crate::tls::provider())
        .with_protocol_versions(crate::tls::PROTOCOL_VERSIONS)
        .map_err(|e| EnrollError::Config(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(config)
}

/// Runs one CAPF session: connects, authenticates with `credentials`, and carries out what the
/// server scheduled (install, fetch, delete) against `store`. `on_event` sees every step.
pub async fn enroll(
    options: &EnrollOptions,
    credentials: Credentials,
    store: &LscStore,
    mut on_event: impl FnMut(&EnrollEvent),
) -> Result<Outcome, EnrollError> {
    if options.pins.is_empty() {
        return Err(EnrollError::Config(
            "no pinned CAPF certificate: give the CAPF certificate or its issuer (--capf-cert)"
                .to_owned(),
        ));
    }
    let server = if options.host.contains(':') && !options.host.starts_with('[') {
        format!("[{}]:{}", options.host, options.port)
    } else {
        format!("{}:{}", options.host, options.port)
    };
    on_event(&EnrollEvent::Driver(DriverEvent::Connecting {
        server: server.clone(),
    }));
    let secs = options.timeout.as_secs();
    let host = options.host.trim_start_matches('[').trim_end_matches(']');
    let tcp = tokio::time::timeout(options.timeout, TcpStream::connect((host, options.port)))
        .await
        .map_err(|_| EnrollError::Timeout {
            secs,
            state: "connecting".to_owned(),
        })?
        .map_err(|e| EnrollError::Connect {
            server: server.clone(),
            reason: e.to_string(),
        })?;
    let verifier = Arc::new(CapfServerVerifier::new(
        options.pins.clone(),
        crate::tls::provider(),
    ));
    let connector = tokio_rustls::TlsConnector::from(Arc::new(tls_config(verifier.clone())?));
    let name = crate::tls::server_name(host).map_err(|e| EnrollError::Config(e.to_string()))?;
    let handshake = connector.connect(name, tcp);
    let mut tls = match tokio::time::timeout(options.timeout, handshake).await {
        Err(_) => {
            return Err(EnrollError::Timeout {
                secs,
                state: "in the TLS handshake".to_owned(),
            });
        }
        Ok(Err(e)) => {
            if let Some(Err(pin)) = verifier.outcome() {
                return Err(EnrollError::Pin(pin));
            }
            return Err(EnrollError::Tls {
                server,
                reason: e.to_string(),
            });
        }
        Ok(Ok(tls)) => tls,
    };
    {
        let (_, conn) = tls.get_ref();
        let pinned = match verifier.outcome() {
            Some(Ok(m)) => m,
            _ => PinMatch::Certificate,
        };
        on_event(&EnrollEvent::Driver(DriverEvent::Connected {
            server: server.clone(),
            tls_version: conn
                .protocol_version()
                .map(|v| format!("{v:?}"))
                .unwrap_or_default(),
            cipher_suite: conn
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()))
                .unwrap_or_default(),
            pinned,
            server_sha256: conn
                .peer_certificates()
                .and_then(|c| c.first())
                .map(|c| crate::tls::fingerprint(c.as_ref()))
                .unwrap_or_default(),
        }));
    }

    let mut client = Client::new(options.client.clone(), credentials);
    let mut buf = vec![0u8; 16 * 1024];
    let mut state_hint = "waiting for AUTH_REQUEST".to_owned();
    loop {
        // Handle everything the client produced.
        while let Some(output) = client.poll_output() {
            match output {
                Output::Transmit(bytes) => {
                    tls.write_all(&bytes)
                        .await
                        .map_err(|e| EnrollError::Io(e.to_string()))?;
                    tls.flush()
                        .await
                        .map_err(|e| EnrollError::Io(e.to_string()))?;
                }
                Output::Progress(step) => {
                    state_hint = format!("after {step:?}").chars().take(80).collect();
                    on_event(&EnrollEvent::Step(step));
                }
                Output::Action(action) => {
                    perform(&mut client, action, store, &mut on_event).await;
                }
            }
        }
        if client.is_done() {
            break;
        }
        let read = tokio::time::timeout(options.timeout, tls.read(&mut buf)).await;
        match read {
            Err(_) => {
                return Err(EnrollError::Timeout {
                    secs,
                    state: state_hint,
                });
            }
            Ok(Ok(0)) => client.handle_close(),
            Ok(Ok(n)) => client.handle_bytes(buf.get(..n).unwrap_or_default(), SystemTime::now()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => client.handle_close(),
            Ok(Err(e)) => return Err(EnrollError::Io(e.to_string())),
        }
    }
    let _ = tokio::time::timeout(Duration::from_secs(2), tls.shutdown()).await;
    match client.result() {
        Some(Ok(outcome)) => Ok(outcome.clone()),
        Some(Err(e)) => Err(EnrollError::Protocol(e.clone())),
        None => Err(EnrollError::Io("session ended without a result".to_owned())),
    }
}

async fn perform(
    client: &mut Client,
    action: Action,
    store: &LscStore,
    on_event: &mut impl FnMut(&EnrollEvent),
) {
    match action {
        Action::GenerateKey(kind) => {
            let started = Instant::now();
            let key = tokio::task::spawn_blocking(move || DeviceKey::generate(kind))
                .await
                .unwrap_or(Err(super::keys::KeyError::Crypto(
                    "key generation task failed",
                )));
            if key.is_ok() {
                on_event(&EnrollEvent::Driver(DriverEvent::KeyGenerated {
                    key: kind.to_string(),
                    millis: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                }));
            }
            client.key_generated(key);
        }
        Action::StoreCertificate { certificate } => {
            let result = match client.take_new_key() {
                Some(key) => store.save(&certificate, &key).map_err(|e| e.to_string()),
                None => Err("the generated key is gone".to_owned()),
            };
            if result.is_ok() {
                on_event(&EnrollEvent::Driver(DriverEvent::CertificateStored {
                    certificate: store.certificate_path().display().to_string(),
                    key: store.key_path().display().to_string(),
                }));
            }
            client.certificate_stored(result);
        }
        Action::FetchCertificate => {
            let certificate = store.load_certificate().ok().flatten();
            on_event(&EnrollEvent::Driver(DriverEvent::CertificateSent {
                present: certificate.is_some(),
            }));
            client.certificate_fetched(certificate);
        }
        Action::DeleteCertificate => {
            let result = store.delete().map_err(|e| e.to_string());
            if let Ok(existed) = result {
                on_event(&EnrollEvent::Driver(DriverEvent::CertificateDeleted {
                    existed,
                }));
            }
            client.certificate_deleted(result);
        }
    }
}
