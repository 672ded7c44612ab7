//! One control connection: lines in (at most 64 KiB each), one answer per line out, and the
//! phone's events for a subscribed client. Nothing a client sends can affect another
//! client or a call beyond what its valid commands ask.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;

use super::{EventLine, Shared};
use crate::control::{
    Command, CommandResult, ControlError, ErrorCode, MAX_LINE, PROTOCOL_VERSION, RequestId,
    ServerMessage, Token, execute, parse_request,
};

/// Lines queued for a client that does not read; events beyond wait in the broadcast
/// backlog, and are reported lost when that overflows.
const OUT_QUEUE: usize = 256;

/// How long a TCP client may take to send `auth` before it is disconnected, so that idle
/// connections cannot pile up on the control port.
pub(crate) const AUTH_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves one connection until the client closes it (or fails to authenticate).
pub(crate) async fn serve<S>(stream: S, shared: Arc<Shared>, token: Option<Arc<Token>>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (reader, writer) = tokio::io::split(stream);
    let (out, lines_out) = mpsc::channel::<String>(OUT_QUEUE);
    let writer = tokio::spawn(write_lines(writer, lines_out));
    let mut connection = Connection {
        shared,
        out,
        authenticated: token.is_none(),
        token,
        subscription: None,
    };
    connection
        .send(&ServerMessage::Hello {
            protocol: PROTOCOL_VERSION,
            authenticate: !connection.authenticated,
        })
        .await;
    let mut lines = LineReader::new(reader);
    loop {
        let next = if connection.authenticated {
            lines.next().await
        } else {
            match tokio::time::timeout(AUTH_TIMEOUT, lines.next()).await {
                Ok(next) => next,
                Err(_) => {
                    tracing::warn!("control connection closed: no `auth` in time");
                    connection
                        .error(
                            None,
                            ErrorCode::Unauthorized,
                            format!(
                                "no `auth` with the daemon's token within {} s",
                                AUTH_TIMEOUT.as_secs()
                            ),
                        )
                        .await;
                    break;
                }
            }
        };
        let keep_going = match next {
            Ok(Line::Text(text)) if text.trim().is_empty() => true,
            Ok(Line::Text(text)) => connection.handle(&text).await,
            Ok(Line::TooLong) => {
                connection
                    .error(
                        None,
                        ErrorCode::LineTooLong,
                        format!("the line is longer than {MAX_LINE} bytes and was skipped"),
                    )
                    .await;
                connection.authenticated
            }
            Ok(Line::NotUtf8) => {
                connection
                    .error(None, ErrorCode::BadJson, "the line is not UTF-8".to_owned())
                    .await;
                connection.authenticated
            }
            Ok(Line::End) | Err(_) => false,
        };
        if !keep_going {
            break;
        }
    }
    if let Some(subscription) = connection.subscription.take() {
        subscription.abort();
    }
    drop(connection);
    let _ = writer.await;
}

/// A connection's state.
struct Connection {
    shared: Arc<Shared>,
    out: mpsc::Sender<String>,
    /// The token a TCP client must send first; `None` on the Unix socket.
    token: Option<Arc<Token>>,
    authenticated: bool,
    /// The task forwarding events, while subscribed.
    subscription: Option<JoinHandle<()>>,
}

impl Connection {
    async fn send(&self, message: &ServerMessage) {
        // A closed writer means the client left; the reader notices next.
        let _ = self.out.send(message.to_line()).await;
    }

    async fn error(&self, id: Option<RequestId>, code: ErrorCode, message: String) {
        self.send(&ServerMessage::Error {
            id,
            error: ControlError::new(code, message),
        })
        .await;
    }

    /// Answers one line; false to close the connection.
    async fn handle(&mut self, line: &str) -> bool {
        let request = match parse_request(line) {
            Ok(request) => request,
            Err(rejected) => {
                self.send(&ServerMessage::Error {
                    id: rejected.id,
                    error: rejected.error,
                })
                .await;
                // An unauthenticated client gets one chance.
                return self.authenticated;
            }
        };
        let id = request.id;
        if !self.authenticated {
            let accepted = match (&request.command, &self.token) {
                (Command::Auth { token }, Some(expected)) => expected.matches(token),
                _ => false,
            };
            if !accepted {
                tracing::warn!("control connection refused: no or wrong token");
                self.error(
                    id,
                    ErrorCode::Unauthorized,
                    "the first command must be `auth` with the daemon's token".to_owned(),
                )
                .await;
                return false;
            }
            self.authenticated = true;
            self.reply(id, CommandResult::Done {}).await;
            return true;
        }
        match request.command {
            Command::Auth { .. } => self.reply(id, CommandResult::Done {}).await,
            Command::Subscribe { stats } => {
                if let Some(old) = self.subscription.take() {
                    old.abort();
                }
                // Subscribed before the reply: no event after the reply is missed.
                let events = self.shared.events.subscribe();
                self.reply(id, CommandResult::Done {}).await;
                self.subscription = Some(tokio::spawn(forward_events(
                    events,
                    self.out.clone(),
                    stats,
                )));
            }
            Command::Unsubscribe => {
                if let Some(old) = self.subscription.take() {
                    old.abort();
                }
                self.reply(id, CommandResult::Done {}).await;
            }
            Command::Shutdown => {
                self.reply(id, CommandResult::Done {}).await;
                let _ = self.shared.stop.send(true);
            }
            command => {
                let name = command.name();
                match execute(&self.shared.phone, command).await {
                    Ok(result) => self.reply(id, result).await,
                    Err(error) => {
                        tracing::info!(command = name, code = ?error.code, "control command failed");
                        self.send(&ServerMessage::Error { id, error }).await;
                    }
                }
            }
        }
        true
    }

    async fn reply(&self, id: Option<RequestId>, result: CommandResult) {
        self.send(&ServerMessage::Reply { id, result }).await;
    }
}

/// Sends the phone's events to one client; a client too slow for the backlog is told how
/// many it lost and goes on with the newest.
async fn forward_events(
    mut events: broadcast::Receiver<Arc<EventLine>>,
    out: mpsc::Sender<String>,
    stats: bool,
) {
    loop {
        let line = match events.recv().await {
            Ok(event) => {
                if !stats && event.stats {
                    continue;
                }
                event.line.clone()
            }
            Err(broadcast::error::RecvError::Lagged(lost)) => ServerMessage::Error {
                id: None,
                error: ControlError::new(
                    ErrorCode::EventsLost,
                    format!("{lost} events were dropped: this client reads too slowly"),
                ),
            }
            .to_line(),
            Err(broadcast::error::RecvError::Closed) => return,
        };
        if out.send(line).await.is_err() {
            return;
        }
    }
}

/// Writes queued lines until the queue closes or the client goes away.
async fn write_lines<W: AsyncWrite>(writer: W, mut lines: mpsc::Receiver<String>) {
    let mut writer = std::pin::pin!(writer);
    while let Some(mut line) = lines.recv().await {
        line.push('\n');
        if writer.write_all(line.as_bytes()).await.is_err() || writer.flush().await.is_err() {
            return;
        }
    }
    let _ = writer.shutdown().await;
}

/// One read from a client.
#[derive(Debug, PartialEq)]
enum Line {
    Text(String),
    TooLong,
    NotUtf8,
    End,
}

/// Splits a byte stream into lines of at most [`MAX_LINE`] bytes, holding no more than that
/// (plus one read) in memory: a longer line is reported once and skipped to its end.
struct LineReader<R> {
    reader: R,
    buf: Vec<u8>,
    /// Inside a line that was too long: drop bytes up to the next newline.
    skipping: bool,
    /// How much of `buf` is known to hold no newline (each byte is looked at once).
    scanned: usize,
}

impl<R: AsyncRead + Unpin> LineReader<R> {
    fn new(reader: R) -> Self {
        LineReader {
            reader,
            buf: Vec::with_capacity(1024),
            skipping: false,
            scanned: 0,
        }
    }

    async fn next(&mut self) -> std::io::Result<Line> {
        let mut chunk = [0u8; 8192];
        loop {
            let unscanned = self.buf.get(self.scanned..).unwrap_or_default();
            if let Some(at) = unscanned.iter().position(|&b| b == b'\n') {
                let end = self.scanned + at;
                self.scanned = 0;
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                if std::mem::take(&mut self.skipping) {
                    continue;
                }
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if line.len() > MAX_LINE {
                    return Ok(Line::TooLong);
                }
                return Ok(String::from_utf8(line).map_or(Line::NotUtf8, Line::Text));
            }
            self.scanned = self.buf.len();
            if self.buf.len() > MAX_LINE {
                self.buf.clear();
                self.scanned = 0;
                if !self.skipping {
                    self.skipping = true;
                    return Ok(Line::TooLong);
                }
            }
            let n = self.reader.read(&mut chunk).await?;
            if n == 0 {
                return Ok(Line::End);
            }
            self.buf
                .extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read_all(input: Vec<u8>) -> Vec<Line> {
        let mut reader = LineReader::new(std::io::Cursor::new(input));
        let mut lines = Vec::new();
        loop {
            let line = reader.next().await.unwrap();
            if line == Line::End {
                return lines;
            }
            lines.push(line);
        }
    }

    #[tokio::test]
    async fn long_lines_are_reported_once_and_skipped_and_the_next_line_is_read() {
        let mut input = b"{\"a\":1}\r\n".to_vec();
        input.extend(std::iter::repeat_n(b'x', MAX_LINE * 3));
        input.extend_from_slice(b"\nnext\n");
        input.extend(std::iter::repeat_n(b'y', MAX_LINE + 1));
        input.extend_from_slice(b"\n\xff\nlast");
        let lines = read_all(input).await;
        assert_eq!(
            lines,
            [
                Line::Text("{\"a\":1}".to_owned()),
                Line::TooLong,
                Line::Text("next".to_owned()),
                Line::TooLong,
                Line::NotUtf8,
            ]
        );
    }

    #[tokio::test]
    async fn lines_arriving_a_byte_at_a_time_are_split_the_same() {
        let (mut client, server) = tokio::io::duplex(1);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            client.write_all(b"ab\r\n\ncd\n").await.unwrap();
        });
        let mut reader = LineReader::new(server);
        let mut lines = Vec::new();
        loop {
            match reader.next().await.unwrap() {
                Line::End => break,
                line => lines.push(line),
            }
        }
        writer.await.unwrap();
        assert_eq!(
            lines,
            [
                Line::Text("ab".to_owned()),
                Line::Text(String::new()),
                Line::Text("cd".to_owned())
            ]
        );
    }

    #[tokio::test]
    async fn a_line_of_exactly_the_limit_is_accepted() {
        let mut input = vec![b'z'; MAX_LINE];
        input.push(b'\n');
        let lines = read_all(input).await;
        assert_eq!(lines, [Line::Text("z".repeat(MAX_LINE))]);
    }
}
