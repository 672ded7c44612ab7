//! `lockphone daemon`: one [`Phone`] driven by clients over JSON lines (the protocol is
//! [`crate::control`]) on a Unix socket (mode 0600) and, optionally, TCP on a loopback
//! address with a token. Uses only the phone's public API.

mod client;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::{TcpListener, UnixListener};
use tokio::sync::{broadcast, watch};

use crate::config::AccountConfig;
use crate::control::{ServerMessage, Token};
use crate::ua::{Event, Phone, UaError};

/// Events kept for a slow subscriber before it is told some were lost.
const EVENT_BACKLOG: usize = 1024;

/// Where the daemon listens.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// The Unix socket (default: [`default_socket`]).
    pub socket: PathBuf,
    /// A loopback TCP address and the token its clients must send first.
    pub tcp: Option<(SocketAddr, Token)>,
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    /// The phone could not start.
    #[error(transparent)]
    Phone(#[from] UaError),
    /// A socket could not be set up.
    #[error("{what} {path}: {source}")]
    Socket {
        /// What was being done.
        what: &'static str,
        /// The socket path or address.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// Another daemon answers on the socket.
    #[error("another daemon already listens on {0}; stop it or choose another --socket")]
    InUse(String),
    /// The options are unusable.
    #[error("{0}")]
    Options(String),
}

/// What the daemon reports while starting, for its caller to print.
#[derive(Debug, Clone)]
pub enum Started {
    /// The Unix socket is ready.
    Socket(PathBuf),
    /// The TCP listener is ready.
    Tcp(SocketAddr),
    /// Direct incoming calls are accepted here.
    Calls(SocketAddr),
}

/// The default socket: `$XDG_RUNTIME_DIR/lockphone/NAME.sock`, else in the Lockphone
/// configuration folder; `NAME` is `daemon` or `daemon-ACCOUNT`.
pub fn default_socket(account: Option<&str>) -> Option<PathBuf> {
    let dir = std::env::var_os("XDG_RUNTIME_DIR")
        .filter(|v| !v.is_empty())
        .map(|d| PathBuf::from(d).join("lockphone"))
        .or_else(crate::user_files::lockphone_config_dir)?;
    let name = match account {
        Some(account) => format!("daemon-{}.sock", sanitize(account)),
        None => "daemon.sock".to_owned(),
    };
    Some(dir.join(name))
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A phone event as the line subscribers get, serialized once for all of them.
pub(crate) struct EventLine {
    /// Whether it is a `call-stats` tick (which a client may leave out).
    pub(crate) stats: bool,
    /// The [`ServerMessage::Event`] line.
    pub(crate) line: String,
}

/// Shared by every connection.
pub(crate) struct Shared {
    pub(crate) phone: Arc<Phone>,
    pub(crate) events: broadcast::Sender<Arc<EventLine>>,
    /// Set to true to stop the daemon.
    pub(crate) stop: watch::Sender<bool>,
}

/// Runs the daemon for `account` until a `shutdown` command, SIGINT or SIGTERM; `started` is
/// told each listener as it comes up.
pub async fn run(
    account: &AccountConfig,
    options: DaemonOptions,
    started: impl Fn(Started),
) -> Result<(), DaemonError> {
    let tcp = match &options.tcp {
        Some((addr, token)) => {
            if !addr.ip().is_loopback() {
                return Err(DaemonError::Options(format!(
                    "--tcp {addr}: the control port listens on a loopback address only (127.0.0.1 or ::1)"
                )));
            }
            if token.is_empty() {
                return Err(DaemonError::Options(
                    "the token file is empty: put a long random secret in it".to_owned(),
                ));
            }
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| DaemonError::Socket {
                    what: "cannot listen on",
                    path: addr.to_string(),
                    source,
                })?;
            Some((listener, Arc::new(token.clone())))
        }
        None => None,
    };
    let unix = bind_unix(&options.socket).await?;
    let phone = Arc::new(Phone::start(account).await?);
    if account.calls.listen.is_some() {
        let addr = phone.listen().await?;
        started(Started::Calls(addr));
    }
    let (events, _) = broadcast::channel(EVENT_BACKLOG);
    let (stop, mut stopped) = watch::channel(false);
    let shared = Arc::new(Shared {
        phone: phone.clone(),
        events: events.clone(),
        stop,
    });
    let pump = tokio::spawn(pump_events(phone.clone(), events));
    started(Started::Socket(options.socket.clone()));
    let mut clients = tokio::task::JoinSet::new();
    let tcp_addr = match &tcp {
        Some((listener, _)) => listener.local_addr().ok(),
        None => None,
    };
    if let Some(addr) = tcp_addr {
        started(Started::Tcp(addr));
    }
    loop {
        tokio::select! {
            accepted = unix.accept() => match accepted {
                Ok((stream, _)) => {
                    clients.spawn(client::serve(stream, shared.clone(), None));
                }
                Err(e) => tracing::warn!(error = %e, "control socket accept failed"),
            },
            accepted = accept_tcp(tcp.as_ref().map(|(l, _)| l)) => match accepted {
                Ok((stream, peer)) => {
                    tracing::info!(%peer, "control connection over TCP");
                    let token = tcp.as_ref().map(|(_, t)| t.clone());
                    clients.spawn(client::serve(stream, shared.clone(), token));
                }
                Err(e) => tracing::warn!(error = %e, "control port accept failed"),
            },
            Some(_) = clients.join_next(), if !clients.is_empty() => {}
            _ = stopped.changed() => break,
            () = terminate() => break,
        }
    }
    clients.shutdown().await;
    drop(shared);
    let _ = std::fs::remove_file(&options.socket);
    pump.abort();
    let _ = pump.await;
    match Arc::try_unwrap(phone) {
        Ok(phone) => phone.shutdown().await,
        Err(_) => tracing::warn!("the phone is still in use; stopping without un-registering"),
    }
    Ok(())
}

/// Hands every phone event to the subscribers (the broadcast keeps a backlog per receiver).
async fn pump_events(phone: Arc<Phone>, events: broadcast::Sender<Arc<EventLine>>) {
    while let Some(event) = phone.next_event_shared().await {
        // No subscriber is fine: the event is simply not wanted.
        if events.receiver_count() == 0 {
            continue;
        }
        let stats = matches!(event, Event::CallStats { .. });
        let line = ServerMessage::Event(event).to_line();
        let _ = events.send(Arc::new(EventLine { stats, line }));
    }
}

async fn accept_tcp(
    listener: Option<&TcpListener>,
) -> std::io::Result<(tokio::net::TcpStream, SocketAddr)> {
    match listener {
        Some(listener) => listener.accept().await,
        None => std::future::pending().await,
    }
}

/// SIGINT or SIGTERM.
async fn terminate() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Binds the Unix socket with mode 0600 in a folder created 0700; a stale socket file (no
/// daemon answering) is replaced, a live one is an error.
///
/// The socket is bound inside a fresh 0700 folder next to `path`, restricted to 0600 there,
/// and only then renamed to `path`: in a shared folder (`--socket /tmp/…`) no other user can
/// connect in the moment between bind and chmod.
async fn bind_unix(path: &Path) -> Result<UnixListener, DaemonError> {
    let socket_error = |what, source| DaemonError::Socket {
        what,
        path: path.display().to_string(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    crate::user_files::create_private_dir(dir)
        .map_err(|e| socket_error("cannot create the folder of", e))?;
    if path.exists() {
        if tokio::net::UnixStream::connect(path).await.is_ok() {
            return Err(DaemonError::InUse(path.display().to_string()));
        }
        std::fs::remove_file(path)
            .map_err(|e| socket_error("cannot remove the stale socket", e))?;
    }
    let staging = dir.join(format!(".lockphone-daemon.{:016x}", rand::random::<u64>()));
    let bound = bind_private(&staging, path).map_err(|e| socket_error("cannot listen on", e));
    let _ = std::fs::remove_dir_all(&staging);
    bound
}

/// Binds a socket in the new 0700 folder `staging`, makes it 0600 and renames it to `path`
/// (a listener stays bound to its socket file across a rename).
fn bind_private(staging: &Path, path: &Path) -> std::io::Result<UnixListener> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(staging)?;
    let socket = staging.join("daemon.sock");
    let listener = UnixListener::bind(&socket)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))?;
    }
    std::fs::rename(&socket, path)?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_names_are_safe_file_names() {
        assert_eq!(sanitize("alice@pbx/1"), "alice_pbx_1");
        assert_eq!(sanitize("ok-name_2"), "ok-name_2");
    }
}
