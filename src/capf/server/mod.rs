//! A CAPF server for tests and labs, written from the same reference as the client (§5, §9):
//! a device table with scheduled operations, one-time authentication strings, an issuing CA,
//! and capfd's END_SESSION reasons. It serves TLS 1.2+ with a CAPF certificate.
//!
//! ```no_run
//! # async fn demo() -> Result<(), String> {
//! use lockphone::capf::message::KeyRequest;
//! use lockphone::capf::server::{CapfServer, ServerOptions};
//! use lockphone::capf::server::ca::IssuingCa;
//! use lockphone::capf::server::devices::{AuthMode, Device, DeviceTable};
//!
//! let (ca, _) = IssuingCa::generate("Lab CAPF CA")?;
//! let capf = ca.capf_certificate("CAPF-lab")?;
//! let mut devices = DeviceTable::default();
//! devices.insert(Device::install("SEP0A0B0C0D0E0F", AuthMode::Password, KeyRequest::Rsa(2048)).with_password("123456"));
//! let server = CapfServer::new(ca, &capf, devices, ServerOptions::default())?;
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3804").await.map_err(|e| e.to_string())?;
//! server.serve(listener).await;
//! # Ok(()) }
//! ```

pub mod ca;
pub mod devices;
mod session;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::ServerConfig;
use rustls::pki_types::CertificateDer;
use tokio::net::TcpListener;

use ca::{IssuingCa, PemPair};
use devices::DeviceTable;

/// Server behaviour, with capfd's defaults.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    /// Validity of issued LSCs in days (1–3560, default 365).
    pub validity_days: u32,
    /// Send AUTH_TYPE=0 in AUTH_REQUEST as capfd does (CUCM does not).
    pub send_auth_type: bool,
    /// VERSION values accepted from clients (capfd: only 3; CUCM also took 2 from Jabber).
    pub accepted_versions: Vec<u8>,
    /// The reason sent when nothing is scheduled (capfd 0; CUCM 7, "already issued").
    pub nothing_scheduled_reason: u8,
    /// How long to wait for each client message.
    pub timeout: Duration,
    /// Extra CAs trusted for certificate-mode authentication (the issuer is always trusted).
    pub verify_cas: Vec<CertificateDer<'static>>,
}

impl Default for ServerOptions {
    fn default() -> ServerOptions {
        ServerOptions {
            validity_days: 365,
            send_auth_type: true,
            accepted_versions: vec![3],
            nothing_scheduled_reason: 0,
            timeout: Duration::from_secs(10),
            verify_cas: Vec::new(),
        }
    }
}

/// What one session did, for logs and tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    /// The session ID.
    pub session_id: u32,
    /// The device name (empty before AUTH_RESPONSE).
    pub device: String,
    /// The END_SESSION reason sent, if any.
    pub reason: Option<u8>,
    /// What happened, in words.
    pub detail: String,
}

pub(crate) struct Shared {
    pub(crate) ca: IssuingCa,
    pub(crate) devices: Mutex<DeviceTable>,
    pub(crate) options: ServerOptions,
    pub(crate) records: Mutex<Vec<SessionRecord>>,
    next_session: Mutex<u32>,
}

impl Shared {
    fn next_session_id(&self) -> u32 {
        match self.next_session.lock() {
            Ok(mut n) => {
                *n = n.wrapping_add(1);
                *n
            }
            Err(_) => 1,
        }
    }
}

/// The server: share it with [`Clone`]; every clone serves the same devices.
#[derive(Clone)]
pub struct CapfServer {
    tls: Arc<ServerConfig>,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CapfServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CapfServer")
    }
}

impl CapfServer {
    /// A server with this issuing CA, CAPF TLS certificate and devices.
    pub fn new(
        ca: IssuingCa,
        capf: &PemPair,
        devices: DeviceTable,
        options: ServerOptions,
    ) -> Result<CapfServer, String> {
        use rustls::pki_types::pem::PemObject;
        let chain = CertificateDer::pem_slice_iter(capf.certificate.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("CAPF certificate: {e}"))?;
        let key = ca::private_key_der(capf)?;
        let tls = crate::tls::server_config_from_der(chain, key).map_err(|e| e.to_string())?;
        Ok(CapfServer {
            tls,
            shared: Arc::new(Shared {
                ca,
                devices: Mutex::new(devices),
                options,
                records: Mutex::new(Vec::new()),
                next_session: Mutex::new(0),
            }),
        })
    }

    /// Adds or re-arms a device.
    pub fn set_device(&self, device: devices::Device) {
        if let Ok(mut table) = self.shared.devices.lock() {
            table.insert(device);
        }
    }

    /// A device's current entry (operation, last certificate).
    pub fn device(&self, name: &str) -> Option<devices::Device> {
        self.shared.devices.lock().ok()?.get(name).cloned()
    }

    /// The sessions so far.
    pub fn records(&self) -> Vec<SessionRecord> {
        self.shared
            .records
            .lock()
            .map(|r| r.clone())
            .unwrap_or_default()
    }

    /// Serves connections until the task is dropped; each one in its own task.
    pub async fn serve(self, listener: TcpListener) {
        loop {
            let Ok((tcp, peer)) = listener.accept().await else {
                continue;
            };
            let acceptor = tokio_rustls::TlsAcceptor::from(self.tls.clone());
            let shared = self.shared.clone();
            tokio::spawn(async move {
                match tokio::time::timeout(shared.options.timeout, acceptor.accept(tcp)).await {
                    Ok(Ok(tls)) => session::run(tls, shared).await,
                    Ok(Err(e)) => tracing::info!("CAPF: TLS handshake with {peer} failed: {e}"),
                    Err(_) => tracing::info!("CAPF: TLS handshake with {peer} timed out"),
                }
            });
        }
    }

    /// Binds `addr`, serves in the background, and returns the bound address.
    pub async fn spawn(self, addr: &str) -> Result<std::net::SocketAddr, String> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
        let local = listener.local_addr().map_err(|e| e.to_string())?;
        tokio::spawn(self.serve(listener));
        Ok(local)
    }
}
