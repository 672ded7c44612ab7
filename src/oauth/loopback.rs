//! The loopback redirect listener of the browser flow (RFC 8252 §7.3): `http://127.0.0.1:PORT/cb`
//! on 127.0.0.1 only. It answers the browser's request, checks `state` (and `iss`, RFC 9207,
//! when present) and hands back the authorization code.

use std::time::Duration;

use oauth2::AuthorizationCode;
use oauth2::url::form_urlencoded;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::OAuthError;

/// The path the redirect URI names.
const PATH: &str = "/cb";

/// A listener waiting for the authorization server's redirect.
#[derive(Debug)]
pub struct RedirectListener {
    listener: TcpListener,
    port: u16,
}

/// What one request to the listener carried.
#[derive(Debug, PartialEq, Eq)]
enum Delivery {
    /// Not the redirect (a favicon, say): answered 404, keep waiting.
    Other,
    /// The redirect, with its query parameters.
    Redirect(Vec<(String, String)>),
}

impl RedirectListener {
    /// Listens on 127.0.0.1:`port` (0: any free port).
    pub async fn bind(port: u16) -> Result<RedirectListener, OAuthError> {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| OAuthError::Redirect(format!("cannot listen on 127.0.0.1:{port}: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| OAuthError::Redirect(e.to_string()))?
            .port();
        Ok(RedirectListener { listener, port })
    }

    /// The redirect URI to register in the authorization request.
    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{PATH}", self.port)
    }

    /// Waits up to `timeout` for the redirect; checks `state` and, when present, `iss`.
    pub async fn wait(
        self,
        expected_state: &str,
        issuer: &str,
        timeout: Duration,
    ) -> Result<AuthorizationCode, OAuthError> {
        let wait = async {
            loop {
                let (stream, _) = self
                    .listener
                    .accept()
                    .await
                    .map_err(|e| OAuthError::Redirect(e.to_string()))?;
                match serve(stream).await {
                    Some(Delivery::Redirect(params)) => {
                        return judge(&params, expected_state, issuer);
                    }
                    Some(Delivery::Other) | None => continue,
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .map_err(|_| OAuthError::TimedOut {
                secs: timeout.as_secs(),
            })?
    }
}

/// Reads one request, answers it, and says what it was (None: unreadable).
async fn serve(mut stream: TcpStream) -> Option<Delivery> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    let head = loop {
        let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut chunk))
            .await
            .ok()?
            .ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(chunk.get(..n)?);
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break String::from_utf8_lossy(buf.get(..end)?).into_owned();
        }
        if buf.len() > 16 * 1024 {
            return None;
        }
    };
    let delivery = parse_request_line(head.lines().next().unwrap_or_default());
    let (status, page) = match &delivery {
        Delivery::Redirect(params) if params.iter().any(|(k, _)| k == "error") => (
            "200 OK",
            "Lockphone: the login did not complete. You can close this window.",
        ),
        Delivery::Redirect(_) => (
            "200 OK",
            "Lockphone: login complete. You can close this window.",
        ),
        Delivery::Other => ("404 Not Found", "Not found."),
    };
    let body = format!("<!doctype html><title>Lockphone</title><p>{page}</p>\n");
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    Some(delivery)
}

fn parse_request_line(line: &str) -> Delivery {
    let mut parts = line.split(' ');
    let (Some("GET"), Some(target)) = (parts.next(), parts.next()) else {
        return Delivery::Other;
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != PATH {
        return Delivery::Other;
    }
    Delivery::Redirect(
        form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect(),
    )
}

/// Checks a redirect's parameters (RFC 6749 §4.1.2, RFC 9207).
fn judge(
    params: &[(String, String)],
    expected_state: &str,
    issuer: &str,
) -> Result<AuthorizationCode, OAuthError> {
    let get = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if get("state") != Some(expected_state) {
        return Err(OAuthError::Redirect(
            "its state does not match the request (possible forgery); nothing was accepted".into(),
        ));
    }
    if let Some(iss) = get("iss")
        && iss.trim_end_matches('/') != issuer.trim_end_matches('/')
    {
        return Err(OAuthError::Redirect(format!(
            "it comes from issuer {iss}, not {issuer} (RFC 9207)"
        )));
    }
    if let Some(error) = get("error") {
        if error == "access_denied" {
            return Err(OAuthError::Denied);
        }
        return Err(OAuthError::Server {
            error: error.to_owned(),
            description: get("error_description").map(str::to_owned),
        });
    }
    get("code")
        .filter(|c| !c.is_empty())
        .map(|c| AuthorizationCode::new(c.to_owned()))
        .ok_or_else(|| OAuthError::Redirect("it carries no code".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(q: &str) -> Vec<(String, String)> {
        match parse_request_line(&format!("GET /cb?{q} HTTP/1.1")) {
            Delivery::Redirect(p) => p,
            Delivery::Other => panic!("not a redirect"),
        }
    }

    #[test]
    fn redirects_are_judged_by_state_issuer_and_error() {
        let iss = "http://127.0.0.1:3000";
        let code = judge(
            &params("code=abc&state=s1&iss=http%3A%2F%2F127.0.0.1%3A3000"),
            "s1",
            iss,
        )
        .unwrap();
        assert_eq!(code.secret(), "abc");
        assert!(
            matches!(judge(&params("code=abc&state=s2"), "s1", iss), Err(OAuthError::Redirect(r)) if r.contains("state"))
        );
        assert!(matches!(
            judge(&params("code=abc"), "s1", iss),
            Err(OAuthError::Redirect(_))
        ));
        assert!(
            matches!(judge(&params("code=abc&state=s1&iss=https%3A%2F%2Fevil"), "s1", iss), Err(OAuthError::Redirect(r)) if r.contains("9207"))
        );
        assert!(matches!(
            judge(&params("error=access_denied&state=s1"), "s1", iss),
            Err(OAuthError::Denied)
        ));
        assert!(matches!(
            judge(&params("error=server_error&state=s1"), "s1", iss),
            Err(OAuthError::Server { .. })
        ));
        assert_eq!(
            parse_request_line("GET /favicon.ico HTTP/1.1"),
            Delivery::Other
        );
        assert_eq!(parse_request_line("POST /cb HTTP/1.1"), Delivery::Other);
    }

    #[tokio::test]
    async fn listener_answers_the_browser_and_returns_the_code() {
        let listener = RedirectListener::bind(0).await.unwrap();
        let uri = listener.redirect_uri();
        assert!(uri.starts_with("http://127.0.0.1:") && uri.ends_with("/cb"));
        let port: u16 = uri
            .trim_start_matches("http://127.0.0.1:")
            .trim_end_matches("/cb")
            .parse()
            .unwrap();
        let browser = tokio::spawn(async move {
            let mut replies = Vec::new();
            for target in ["/favicon.ico", "/cb?code=xyz&state=st"] {
                let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                s.write_all(format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                    .await
                    .unwrap();
                let mut reply = String::new();
                s.read_to_string(&mut reply).await.unwrap();
                replies.push(reply);
            }
            replies
        });
        let code = listener
            .wait("st", "http://as", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(code.secret(), "xyz");
        let replies = browser.await.unwrap();
        assert!(replies[0].starts_with("HTTP/1.1 404"));
        assert!(replies[1].starts_with("HTTP/1.1 200") && replies[1].contains("login complete"));
        let quiet = RedirectListener::bind(0).await.unwrap();
        assert!(matches!(
            quiet.wait("s", "i", Duration::from_millis(50)).await,
            Err(OAuthError::TimedOut { .. })
        ));
    }
}
