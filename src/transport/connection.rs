//! One TCP or TLS connection: a reader task that frames and parses, a writer task that owns
//! the write half and sends keep-alive pings.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use lockphone_sip::framer::{Frame, StreamFramer};
use lockphone_sip::message::bad_request_for;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::layer::{ConnectionId, TransportEvent};
use crate::tls::ConnectionSecurity;

/// How long a keep-alive ping may wait for its pong before the connection is declared dead.
const PONG_TIMEOUT: Duration = Duration::from_secs(10);

/// The sending side of a live connection.
#[derive(Debug, Clone)]
pub(super) struct ConnectionHandle {
    pub(super) id: ConnectionId,
    pub(super) peer: SocketAddr,
    pub(super) local: SocketAddr,
    pub(super) security: Arc<ConnectionSecurity>,
    pub(super) writer: mpsc::UnboundedSender<Vec<u8>>,
    /// Asks the writer to write everything queued so far and then to answer.
    pub(super) flush: mpsc::UnboundedSender<oneshot::Sender<()>>,
    pub(super) closed: Arc<AtomicBool>,
}

impl ConnectionHandle {
    pub(super) fn is_open(&self) -> bool {
        !self.closed.load(Ordering::Relaxed) && !self.writer.is_closed()
    }
}

/// Everything a connection task needs to know.
pub(super) struct ConnectionSetup {
    pub(super) id: ConnectionId,
    pub(super) peer: SocketAddr,
    pub(super) local: SocketAddr,
    pub(super) security: Arc<ConnectionSecurity>,
    pub(super) keepalive: Option<Duration>,
    pub(super) events: mpsc::UnboundedSender<TransportEvent>,
}

/// Starts the reader and writer tasks of a stream and returns its handle. `register` runs
/// with the handle before the reader starts, so that nothing read from the stream (a request
/// whose answer goes back on this connection) can reach the engine before the connection is
/// known to the transport layer.
pub(super) fn spawn<S>(
    stream: S,
    setup: ConnectionSetup,
    register: impl FnOnce(&ConnectionHandle),
) -> ConnectionHandle
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read_half, write_half) = tokio::io::split(stream);
    let (writer_tx, writer_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let closed = Arc::new(AtomicBool::new(false));
    let (pong_tx, pong_rx) = mpsc::unbounded_channel::<()>();
    let (flush_tx, flush_rx) = mpsc::unbounded_channel::<oneshot::Sender<()>>();
    let handle = ConnectionHandle {
        id: setup.id,
        peer: setup.peer,
        local: setup.local,
        security: setup.security.clone(),
        writer: writer_tx.clone(),
        flush: flush_tx,
        closed: closed.clone(),
    };
    let reader = Reader {
        id: setup.id,
        peer: setup.peer,
        local: setup.local,
        security: setup.security,
        events: setup.events.clone(),
        writer: writer_tx,
        pongs: pong_tx,
    };
    register(&handle);
    let closed_by_reader = closed.clone();
    let events = setup.events.clone();
    let (id, peer) = (setup.id, setup.peer);
    tokio::spawn(async move {
        let reason = reader.run(read_half).await;
        if !closed_by_reader.swap(true, Ordering::Relaxed) {
            let _ = events.send(TransportEvent::ConnectionClosed { id, peer, reason });
        }
    });
    let events = setup.events;
    let keepalive = setup.keepalive;
    tokio::spawn(async move {
        let reason = write_loop(write_half, writer_rx, pong_rx, flush_rx, keepalive).await;
        if !closed.swap(true, Ordering::Relaxed) {
            let _ = events.send(TransportEvent::ConnectionClosed { id, peer, reason });
        }
    });
    handle
}

struct Reader {
    id: ConnectionId,
    peer: SocketAddr,
    local: SocketAddr,
    security: Arc<ConnectionSecurity>,
    events: mpsc::UnboundedSender<TransportEvent>,
    writer: mpsc::UnboundedSender<Vec<u8>>,
    pongs: mpsc::UnboundedSender<()>,
}

impl Reader {
    /// Reads until the stream ends or breaks; returns why it stopped.
    async fn run<R: AsyncRead + Unpin>(self, mut read_half: R) -> String {
        let mut framer = StreamFramer::new();
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match read_half.read(&mut buf).await {
                Ok(0) => return "closed by peer".to_owned(),
                Ok(n) => n,
                Err(e) => return format!("read failed: {e}"),
            };
            framer.push(buf.get(..n).unwrap_or_default());
            while let Some(frame) = framer.next_frame() {
                match frame {
                    Ok(Frame::Message(bytes)) => self.deliver(&bytes),
                    Ok(Frame::KeepAlivePing) => {
                        let _ = self.writer.send(b"\r\n".to_vec());
                    }
                    Ok(Frame::KeepAlivePong) => {
                        let _ = self.pongs.send(());
                    }
                    Err(e) => {
                        tracing::warn!(peer = %self.peer, error = %e, "closing connection: stream cannot be framed");
                        return format!("unframeable stream: {e}");
                    }
                }
            }
        }
    }

    fn deliver(&self, bytes: &[u8]) {
        match super::received::parse_incoming(
            bytes,
            self.peer,
            self.local,
            Some(self.id),
            &self.security,
        ) {
            Ok(incoming) => {
                let _ = self
                    .events
                    .send(TransportEvent::Message(Box::new(incoming)));
            }
            Err(error) => {
                if let Some(response) = bad_request_for(bytes, &error) {
                    let _ = self.writer.send(response.to_bytes());
                }
                tracing::debug!(peer = %self.peer, %error, "malformed message dropped");
                let _ = self.events.send(TransportEvent::Dropped {
                    peer: self.peer,
                    reason: error.to_string(),
                });
            }
        }
    }
}

/// Writes queued messages and keep-alive pings; returns why it stopped.
async fn write_loop<W: AsyncWrite + Unpin>(
    mut write_half: W,
    mut queue: mpsc::UnboundedReceiver<Vec<u8>>,
    mut pongs: mpsc::UnboundedReceiver<()>,
    mut flushes: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    keepalive: Option<Duration>,
) -> String {
    let far_future = Duration::from_secs(86_400 * 365);
    let mut next_ping = Instant::now() + keepalive.unwrap_or(far_future);
    let mut pong_deadline: Option<Instant> = None;
    loop {
        let deadline = pong_deadline.map_or(next_ping, |d| d.min(next_ping));
        tokio::select! {
            bytes = queue.recv() => {
                let Some(bytes) = bytes else {
                    let _ = write_half.shutdown().await;
                    return "closed locally".to_owned();
                };
                if let Err(e) = write_half.write_all(&bytes).await {
                    return format!("write failed: {e}");
                }
                if let Err(e) = write_half.flush().await {
                    return format!("write failed: {e}");
                }
            }
            Some(()) = pongs.recv() => {
                pong_deadline = None;
            }
            Some(done) = flushes.recv() => {
                // Everything queued before the flush was asked for is in `queue` now.
                while let Ok(bytes) = queue.try_recv() {
                    if let Err(e) = write_half.write_all(&bytes).await {
                        return format!("write failed: {e}");
                    }
                }
                if let Err(e) = write_half.flush().await {
                    return format!("write failed: {e}");
                }
                let _ = done.send(());
            }
            () = tokio::time::sleep_until(deadline) => {
                let now = Instant::now();
                if pong_deadline.is_some_and(|d| now >= d) {
                    return "keep-alive: no pong from the server within 10 s".to_owned();
                }
                if let Some(interval) = keepalive {
                    if write_half.write_all(b"\r\n\r\n").await.is_err() {
                        return "keep-alive ping could not be written".to_owned();
                    }
                    let _ = write_half.flush().await;
                    pong_deadline = Some(now + PONG_TIMEOUT);
                    next_ping = now + interval;
                } else {
                    next_ping = now + far_future;
                }
            }
        }
    }
}
