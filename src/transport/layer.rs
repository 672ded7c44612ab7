//! The transport layer: sockets, the connection table, listeners.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lockphone_sip::message::{Message, Transport, bad_request_for};
use rustls::ServerConfig;
use rustls::pki_types::CertificateDer;
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;

use super::connection::{self, ConnectionHandle, ConnectionSetup};
use super::{ConnectionSecurity, TransportError};
use crate::tls::{ClientTls, TlsError};

/// How long a TCP connect plus TLS handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest datagram we send; bigger requests need a stream transport (RFC 3261 §18.1.1).
const MAX_UDP_SEND: usize = 65_000;

/// Identifies one TCP or TLS connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnectionId(pub u64);

/// Where to send a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The transport.
    pub transport: Transport,
    /// The destination address.
    pub addr: SocketAddr,
    /// The name the server certificate must match (TLS); the IP address when `None`.
    pub server_name: Option<String>,
}

/// A message that arrived, with where and how it came.
#[derive(Debug, Clone)]
pub struct Incoming {
    /// The parsed message.
    pub message: Message,
    /// The peer's address.
    pub source: SocketAddr,
    /// Our address it arrived at.
    pub local: SocketAddr,
    /// The connection it came on (TCP/TLS).
    pub connection: Option<ConnectionId>,
    /// What that connection really established.
    pub security: Arc<ConnectionSecurity>,
}

/// Something the transport layer reports.
#[derive(Debug, Clone)]
pub enum TransportEvent {
    /// A parsed message.
    Message(Box<Incoming>),
    /// A connection ended.
    ConnectionClosed {
        /// Which one.
        id: ConnectionId,
        /// Its peer.
        peer: SocketAddr,
        /// Why.
        reason: String,
    },
    /// A malformed message was dropped (a 400 went back if it could be answered).
    Dropped {
        /// Where it came from.
        peer: SocketAddr,
        /// What was wrong.
        reason: String,
    },
}

/// What a connection (or the UDP socket) looks like from our side.
#[derive(Debug, Clone)]
pub struct ConnectionInfo {
    /// The connection, for TCP/TLS.
    pub id: Option<ConnectionId>,
    /// Our local address on it (for `Via` and `Contact`).
    pub local: SocketAddr,
    /// What it established.
    pub security: Arc<ConnectionSecurity>,
}

struct Inner {
    udp: tokio::sync::Mutex<Option<Arc<UdpSocket>>>,
    connections: Mutex<HashMap<(Transport, SocketAddr), ConnectionHandle>>,
    by_id: Mutex<HashMap<ConnectionId, ConnectionHandle>>,
    next_id: AtomicU64,
    events: mpsc::UnboundedSender<TransportEvent>,
    client_tls: Option<ClientTls>,
    keepalive: Option<Duration>,
    dropped: AtomicU64,
}

/// Sockets and connections of one user agent. Cheap to clone.
#[derive(Clone)]
pub struct TransportLayer {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TransportLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransportLayer").finish_non_exhaustive()
    }
}

impl TransportLayer {
    /// A transport layer; received messages and connection events go to the returned channel.
    pub fn new(
        client_tls: Option<ClientTls>,
        keepalive: Option<Duration>,
    ) -> (TransportLayer, mpsc::UnboundedReceiver<TransportEvent>) {
        let (events, rx) = mpsc::unbounded_channel();
        let inner = Inner {
            udp: tokio::sync::Mutex::new(None),
            connections: Mutex::new(HashMap::new()),
            by_id: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            events,
            client_tls,
            keepalive,
            dropped: AtomicU64::new(0),
        };
        (
            TransportLayer {
                inner: Arc::new(inner),
            },
            rx,
        )
    }

    /// The server certificate last refused for `identity` for a reason the user may override
    /// (what a "trust this certificate?" prompt shows).
    pub fn pending_trust_decision(&self, identity: &str) -> Option<crate::tls::CertificateSummary> {
        self.inner
            .client_tls
            .as_ref()
            .and_then(|tls| tls.pending_decision(identity))
    }

    /// The client TLS configuration (its verifier takes the user's trust decisions).
    pub fn client_tls(&self) -> Option<&ClientTls> {
        self.inner.client_tls.as_ref()
    }

    /// How many malformed datagrams were dropped.
    pub fn dropped_count(&self) -> u64 {
        self.inner.dropped.load(Ordering::Relaxed)
    }

    /// Makes sure there is a way to `target` (connecting for TCP/TLS) and describes it.
    pub async fn connect(&self, target: &Target) -> Result<ConnectionInfo, TransportError> {
        match target.transport {
            Transport::Udp => {
                let socket = self.udp_socket().await?;
                Ok(ConnectionInfo {
                    id: None,
                    local: socket.local_addr()?,
                    security: Arc::new(ConnectionSecurity::plain(Transport::Udp)),
                })
            }
            transport => {
                let handle = self.stream_to(transport, target).await?;
                Ok(ConnectionInfo {
                    id: Some(handle.id),
                    local: handle.local,
                    security: handle.security.clone(),
                })
            }
        }
    }

    /// Sends serialized bytes to `target`, reusing or making a connection.
    pub async fn send(&self, target: &Target, bytes: Vec<u8>) -> Result<(), TransportError> {
        match target.transport {
            Transport::Udp => {
                if bytes.len() > MAX_UDP_SEND {
                    return Err(TransportError::TooLargeForUdp(bytes.len()));
                }
                let socket = self.udp_socket().await?;
                socket.send_to(&bytes, target.addr).await?;
                Ok(())
            }
            transport => {
                let handle = self.stream_to(transport, target).await?;
                handle
                    .writer
                    .send(bytes)
                    .map_err(|_| TransportError::Closed(handle.peer))
            }
        }
    }

    /// Sends on an existing connection (responses go back on the connection of the request).
    pub fn send_on(&self, id: ConnectionId, bytes: Vec<u8>) -> Result<(), TransportError> {
        let handle = lock(&self.inner.by_id).get(&id).cloned();
        match handle {
            Some(h) if h.is_open() => h
                .writer
                .send(bytes)
                .map_err(|_| TransportError::Closed(h.peer)),
            Some(h) => Err(TransportError::Closed(h.peer)),
            None => Err(TransportError::Io(std::io::Error::new(
                std::io::ErrorKind::NotConnected,
                format!("no connection {}", id.0),
            ))),
        }
    }

    /// Waits (at most `limit`) until every connection has written what was queued for it:
    /// before the process exits, so that a last response or ACK is not lost.
    pub async fn flush(&self, limit: Duration) {
        let handles: Vec<ConnectionHandle> = lock(&self.inner.by_id).values().cloned().collect();
        let mut waiting = Vec::new();
        for handle in handles.iter().filter(|h| h.is_open()) {
            let (done, written) = tokio::sync::oneshot::channel();
            if handle.flush.send(done).is_ok() {
                waiting.push(written);
            }
        }
        let _ = tokio::time::timeout(limit, async {
            for written in waiting {
                let _ = written.await;
            }
        })
        .await;
    }

    /// Closes a connection (its writer flushes and shuts down).
    pub fn close(&self, id: ConnectionId) {
        if let Some(handle) = lock(&self.inner.by_id).remove(&id) {
            lock(&self.inner.connections).retain(|_, h| h.id != id);
            drop(handle);
        }
    }

    /// Binds the UDP socket on `addr` (port 0: any) and starts receiving on it.
    pub async fn bind_udp(&self, addr: SocketAddr) -> Result<SocketAddr, TransportError> {
        let socket = Arc::new(UdpSocket::bind(addr).await?);
        let local = socket.local_addr()?;
        *self.inner.udp.lock().await = Some(socket.clone());
        let this = self.clone();
        tokio::spawn(async move { this.udp_receive_loop(socket, local).await });
        Ok(local)
    }

    /// Listens for TCP connections on `addr`.
    pub async fn listen_tcp(&self, addr: SocketAddr) -> Result<SocketAddr, TransportError> {
        self.listen(addr, None).await
    }

    /// Listens for TLS connections on `addr` with this server configuration.
    pub async fn listen_tls(
        &self,
        addr: SocketAddr,
        config: Arc<ServerConfig>,
    ) -> Result<SocketAddr, TransportError> {
        self.listen(addr, Some(TlsAcceptor::from(config))).await
    }

    async fn listen(
        &self,
        addr: SocketAddr,
        tls: Option<TlsAcceptor>,
    ) -> Result<SocketAddr, TransportError> {
        let listener = TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let this = self.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, peer)) = listener.accept().await else {
                    continue;
                };
                let this = this.clone();
                let tls = tls.clone();
                tokio::spawn(async move {
                    if let Err(e) = this.accept(stream, peer, tls).await {
                        tracing::info!(%peer, error = %e, "incoming connection refused");
                    }
                });
            }
        });
        Ok(local)
    }

    async fn accept(
        &self,
        stream: TcpStream,
        peer: SocketAddr,
        tls: Option<TlsAcceptor>,
    ) -> Result<(), TransportError> {
        let local = stream.local_addr()?;
        let _ = stream.set_nodelay(true);
        let id = self.next_id();
        let register = |handle: &ConnectionHandle| {
            self.register_handle(handle.transport_key(), handle.clone());
        };
        match tls {
            None => {
                let security = Arc::new(ConnectionSecurity::plain(Transport::Tcp));
                connection::spawn(stream, self.setup(id, peer, local, security), register)
            }
            Some(acceptor) => {
                let tls_stream = tokio::time::timeout(CONNECT_TIMEOUT, acceptor.accept(stream))
                    .await
                    .map_err(|_| TransportError::Timeout(peer))?
                    .map_err(|e| TransportError::Tls {
                        addr: peer,
                        source: TlsError::from_handshake(e, ""),
                    })?;
                let (_, conn) = tls_stream.get_ref();
                // A client certificate is only present if the listener's verifier accepted it
                // (listeners without client verification never receive one).
                let chain: Vec<CertificateDer<'static>> = conn
                    .peer_certificates()
                    .map(|certs| certs.iter().map(|c| c.clone().into_owned()).collect())
                    .unwrap_or_default();
                let verified = chain
                    .first()
                    .map(|cert| crate::tls::CertificateSummary::of(cert, "").subject);
                let mut record = ConnectionSecurity::tls(conn, verified, false);
                if record.peer_verified {
                    record.trusted_by = Some(crate::tls::TrustBasis::CertificateAuthority);
                }
                // The client's chain gets the same revocation check as a server's (the
                // account's policy, cache and 5 s budget): revoked, or unknown under
                // hard-fail, and the connection is closed before any SIP is read.
                if let (false, Some(tls)) = (chain.is_empty(), &self.inner.client_tls) {
                    match tls.check_client_revocation(&peer.to_string(), &chain).await {
                        Ok(status) => record.revocation = status,
                        Err(refused) => {
                            let mut tls_stream = tls_stream;
                            let _ = tokio::time::timeout(
                                Duration::from_secs(1),
                                tokio::io::AsyncWriteExt::shutdown(&mut tls_stream),
                            )
                            .await;
                            return Err(TransportError::Tls {
                                addr: peer,
                                source: refused,
                            });
                        }
                    }
                }
                let security = Arc::new(record);
                connection::spawn(tls_stream, self.setup(id, peer, local, security), register)
            }
        };
        Ok(())
    }

    async fn stream_to(
        &self,
        transport: Transport,
        target: &Target,
    ) -> Result<ConnectionHandle, TransportError> {
        if let Some(handle) = lock(&self.inner.connections).get(&(transport, target.addr))
            && handle.is_open()
        {
            return Ok(handle.clone());
        }
        let addr = target.addr;
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, TcpStream::connect(addr))
            .await
            .map_err(|_| TransportError::Timeout(addr))?
            .map_err(|source| TransportError::Connect { addr, source })?;
        let _ = stream.set_nodelay(true);
        let local = stream.local_addr()?;
        let id = self.next_id();
        let handle = match transport {
            Transport::Tls => self.tls_handshake(stream, target, id, local).await?,
            _ => {
                let security = Arc::new(ConnectionSecurity::plain(transport));
                connection::spawn(stream, self.setup(id, addr, local, security), |h| {
                    self.register_handle((transport, addr), h.clone());
                })
            }
        };
        Ok(handle)
    }

    async fn tls_handshake(
        &self,
        stream: TcpStream,
        target: &Target,
        id: ConnectionId,
        local: SocketAddr,
    ) -> Result<ConnectionHandle, TransportError> {
        let addr = target.addr;
        let tls = self
            .inner
            .client_tls
            .as_ref()
            .ok_or(TransportError::NoTlsConfig)?;
        let name_text = target
            .server_name
            .clone()
            .unwrap_or_else(|| addr.ip().to_string());
        let (tls_stream, security) =
            tokio::time::timeout(CONNECT_TIMEOUT, tls.connect(stream, &name_text))
                .await
                .map_err(|_| TransportError::Timeout(addr))?
                .map_err(|source| TransportError::Tls { addr, source })?;
        let security = Arc::new(security);
        tracing::info!(
            peer = %addr,
            version = security.tls_version.as_deref().unwrap_or("?"),
            suite = security.cipher_suite.as_deref().unwrap_or("?"),
            client_cert = security.client_certificate_presented,
            revocation = %security.revocation.describe(),
            "TLS connection established, server certificate verified"
        );
        Ok(connection::spawn(
            tls_stream,
            self.setup(id, addr, local, security),
            |h| self.register_handle((Transport::Tls, addr), h.clone()),
        ))
    }

    fn setup(
        &self,
        id: ConnectionId,
        peer: SocketAddr,
        local: SocketAddr,
        security: Arc<ConnectionSecurity>,
    ) -> ConnectionSetup {
        ConnectionSetup {
            id,
            peer,
            local,
            security,
            keepalive: self.inner.keepalive,
            events: self.inner.events.clone(),
        }
    }

    fn register_handle(&self, key: (Transport, SocketAddr), handle: ConnectionHandle) {
        lock(&self.inner.by_id).insert(handle.id, handle.clone());
        lock(&self.inner.connections).insert(key, handle);
    }

    fn next_id(&self) -> ConnectionId {
        ConnectionId(self.inner.next_id.fetch_add(1, Ordering::Relaxed))
    }

    async fn udp_socket(&self) -> Result<Arc<UdpSocket>, TransportError> {
        if let Some(socket) = self.inner.udp.lock().await.as_ref() {
            return Ok(socket.clone());
        }
        let any: SocketAddr = SocketAddr::from(([0, 0, 0, 0], 0));
        self.bind_udp(any).await?;
        self.inner
            .udp
            .lock()
            .await
            .clone()
            .ok_or(TransportError::Io(std::io::Error::other(
                "UDP socket vanished after binding",
            )))
    }

    /// Receives on `socket`, bound to `local` (passed in: not a system call per datagram).
    async fn udp_receive_loop(self, socket: Arc<UdpSocket>, local: SocketAddr) {
        let security = Arc::new(ConnectionSecurity::plain(Transport::Udp));
        let mut buf = vec![0u8; 65_536];
        loop {
            let (n, peer) = match socket.recv_from(&mut buf).await {
                Ok(x) => x,
                Err(e) => {
                    tracing::debug!(error = %e, "UDP receive error");
                    continue;
                }
            };
            let datagram = buf.get(..n).unwrap_or_default();
            if datagram.iter().all(|b| *b == b'\r' || *b == b'\n') {
                continue; // keep-alive
            }
            match super::received::parse_incoming(datagram, peer, local, None, &security) {
                Ok(incoming) => {
                    let _ = self
                        .inner
                        .events
                        .send(TransportEvent::Message(Box::new(incoming)));
                }
                Err(error) => {
                    self.inner.dropped.fetch_add(1, Ordering::Relaxed);
                    if let Some(response) = bad_request_for(datagram, &error) {
                        let _ = socket.send_to(&response.to_bytes(), peer).await;
                    }
                    let _ = self.inner.events.send(TransportEvent::Dropped {
                        peer,
                        reason: error.to_string(),
                    });
                }
            }
        }
    }
}

impl ConnectionHandle {
    fn transport_key(&self) -> (Transport, SocketAddr) {
        (self.security.transport, self.peer)
    }
}

/// Locks a mutex, recovering the data if a panicking thread poisoned it.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
