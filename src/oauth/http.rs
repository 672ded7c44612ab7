//! A small HTTP/1.1 client for the authorization server: one request per connection
//! (`Connection: close`), TLS through rustls with the account's own verifier (the same trust
//! anchors, pins and "Always trust" decisions as SIP), no redirects, no proxies, bounded in
//! time and size. Plain `http://` is only allowed to a loopback address.
//!
//! It implements [`oauth2::AsyncHttpClient`], so the `oauth2` crate runs over it.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::time::Duration;

use crate::tls::ClientTls;
use oauth2::http::{HeaderName, HeaderValue, StatusCode};
use oauth2::url::Url;
use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::OAuthError;

/// The largest response accepted.
const MAX_RESPONSE: usize = 1 << 20;

/// Why an HTTP exchange failed. Carries the URL without its query, never a body.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{url}: {reason}")]
pub struct HttpError {
    /// The URL, without query or fragment.
    pub url: String,
    /// What went wrong.
    pub reason: String,
}

impl From<HttpError> for OAuthError {
    fn from(e: HttpError) -> OAuthError {
        OAuthError::Http {
            url: e.url,
            reason: e.reason,
        }
    }
}

/// The HTTP client. Cheap to clone.
#[derive(Clone)]
pub struct HttpClient {
    tls: Option<ClientTls>,
    timeout: Duration,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("https", &self.tls.is_some())
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl HttpClient {
    /// A client; `tls` is needed for `https://` URLs (None: only loopback `http://` works).
    /// HTTPS connections go through [`ClientTls::connect`] (verifier and revocation check).
    pub fn new(tls: Option<ClientTls>) -> HttpClient {
        HttpClient {
            tls,
            timeout: Duration::from_secs(20),
        }
    }

    /// Sets the time allowed for one whole exchange (default 20 s).
    pub fn with_timeout(mut self, timeout: Duration) -> HttpClient {
        self.timeout = timeout;
        self
    }

    /// `GET url` with `Accept: application/json`.
    pub async fn get_json(&self, url: &str) -> Result<HttpResponse, HttpError> {
        let request = oauth2::http::Request::builder()
            .method(oauth2::http::Method::GET)
            .uri(url)
            .header("accept", "application/json")
            .body(Vec::new())
            .map_err(|e| HttpError {
                url: without_query(url),
                reason: e.to_string(),
            })?;
        self.execute(request).await
    }

    /// Sends one request and reads its response.
    pub async fn execute(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let url_text = request.uri().to_string();
        let fail = |reason: String| HttpError {
            url: without_query(&url_text),
            reason,
        };
        let url = Url::parse(&url_text).map_err(|e| fail(e.to_string()))?;
        check_url(&url).map_err(|e| fail(e.to_string()))?;
        let host = url
            .host_str()
            .ok_or_else(|| fail("no host".to_owned()))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = url
            .port_or_known_default()
            .ok_or_else(|| fail("no port".to_owned()))?;
        let bytes = serialize_request(&request, &url);
        let exchange = async {
            let tcp = TcpStream::connect((host.as_str(), port))
                .await
                .map_err(|e| fail(format!("cannot connect: {e}")))?;
            let _ = tcp.set_nodelay(true);
            if url.scheme() == "https" {
                let tls = self.tls.as_ref().ok_or_else(|| {
                    fail(
                        "https needs trust anchors: set tls.ca_file or tls.system_roots".to_owned(),
                    )
                })?;
                let (stream, _security) = tls
                    .connect(tcp, &host)
                    .await
                    .map_err(|e| fail(format!("TLS: {e}")))?;
                exchange(stream, &bytes).await.map_err(fail)
            } else {
                exchange(tcp, &bytes).await.map_err(fail)
            }
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| fail(format!("no answer within {} s", self.timeout.as_secs())))?
    }
}

impl<'c> AsyncHttpClient<'c> for HttpClient {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.execute(request))
    }
}

/// Accepts `https://`, and `http://` only to a loopback address.
pub fn check_url(url: &Url) -> Result<(), OAuthError> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(OAuthError::InsecureUrl {
            url: without_query(url.as_str()),
        }),
        other => Err(OAuthError::BadUrl {
            url: without_query(url.as_str()),
            reason: format!("unsupported scheme `{other}`"),
        }),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(oauth2::url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(oauth2::url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        Some(oauth2::url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The URL without query and fragment (safe to show).
pub(crate) fn without_query(url: &str) -> String {
    url.split(['?', '#']).next().unwrap_or_default().to_owned()
}

fn serialize_request(request: &HttpRequest, url: &Url) -> Vec<u8> {
    let mut target = url.path().to_owned();
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => String::new(),
    };
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nUser-Agent: Lockphone/{}\r\n",
        request.method(),
        env!("CARGO_PKG_VERSION")
    );
    for (name, value) in request.headers() {
        let skip = [
            oauth2::http::header::HOST,
            oauth2::http::header::CONNECTION,
            oauth2::http::header::CONTENT_LENGTH,
        ];
        if skip.contains(name) {
            continue;
        }
        if let Ok(value) = value.to_str() {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    if !request.body().is_empty() || request.method() == oauth2::http::Method::POST {
        head.push_str(&format!("Content-Length: {}\r\n", request.body().len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(request.body());
    bytes
}

async fn exchange<S>(mut stream: S, request: &[u8]) -> Result<HttpResponse, String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    stream
        .write_all(request)
        .await
        .map_err(|e| format!("cannot send: {e}"))?;
    stream
        .flush()
        .await
        .map_err(|e| format!("cannot send: {e}"))?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(response) = parse_response(&buf, false)? {
            return Ok(response);
        }
        let n = match stream.read(&mut chunk).await {
            Ok(n) => n,
            // A server closing without TLS close_notify: treat as the end of the stream.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => 0,
            Err(e) => return Err(format!("cannot read the answer: {e}")),
        };
        if n == 0 {
            return parse_response(&buf, true)?
                .ok_or_else(|| "the connection closed before the answer was complete".to_owned());
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        if buf.len() > MAX_RESPONSE {
            return Err(format!("answer larger than {MAX_RESPONSE} bytes"));
        }
    }
}

/// Parses a complete response from `buf`; `None` while more bytes are needed. `eof`: the
/// peer closed, so a body without a length ends here.
pub(crate) fn parse_response(buf: &[u8], eof: bool) -> Result<Option<HttpResponse>, String> {
    let Some(head_end) = find(buf, b"\r\n\r\n") else {
        return Ok(None);
    };
    let head = std::str::from_utf8(buf.get(..head_end).unwrap_or_default())
        .map_err(|_| "the answer's header is not UTF-8".to_owned())?;
    let body = buf.get(head_end + 4..).unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(format!("not an HTTP/1.x answer: {}", snip(status_line)));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| format!("bad status line: {}", snip(status_line)))?;
    let mut builder = oauth2::http::Response::builder().status(status);
    let mut length = None;
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("bad header line: {}", snip(line)));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| "bad Content-Length".to_owned())?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value),
        ) {
            builder = builder.header(n, v);
        }
    }
    let body = if chunked {
        match dechunk(body)? {
            Some(body) => body,
            None if eof => return Err("the chunked answer was cut short".to_owned()),
            None => return Ok(None),
        }
    } else if let Some(length) = length {
        match body.get(..length) {
            Some(b) => b.to_vec(),
            None if eof => return Err("the answer was shorter than its Content-Length".to_owned()),
            None => return Ok(None),
        }
    } else if eof || status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        body.to_vec()
    } else {
        return Ok(None);
    };
    builder
        .body(body)
        .map(Some)
        .map_err(|e| format!("bad answer: {e}"))
}

/// Decodes a chunked body; `None` until the last chunk has arrived.
fn dechunk(mut data: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut out = Vec::new();
    loop {
        let Some(line_end) = find(data, b"\r\n") else {
            return Ok(None);
        };
        let size_text = std::str::from_utf8(data.get(..line_end).unwrap_or_default())
            .map_err(|_| "bad chunk size".to_owned())?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "bad chunk size".to_owned())?;
        let rest = data.get(line_end + 2..).unwrap_or_default();
        if size == 0 {
            return Ok(Some(out));
        }
        let Some(chunk) = rest.get(..size) else {
            return Ok(None);
        };
        out.extend_from_slice(chunk);
        let Some(after) = rest.get(size + 2..) else {
            return Ok(None);
        };
        data = after;
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn snip(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_may_use_plain_http() {
        for ok in [
            "https://as.example.test/token",
            "http://127.0.0.1:3000/token",
            "http://[::1]/x",
            "http://localhost:8080/",
        ] {
            assert!(check_url(&Url::parse(ok).unwrap()).is_ok(), "{ok}");
        }
        let err = check_url(&Url::parse("http://as.example.test/token?x=1").unwrap()).unwrap_err();
        assert!(
            matches!(err, OAuthError::InsecureUrl { ref url } if url == "http://as.example.test/token"),
            "{err}"
        );
        assert!(check_url(&Url::parse("ftp://127.0.0.1/").unwrap()).is_err());
    }

    #[test]
    fn responses_by_length_chunks_and_eof() {
        let full =
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
        assert!(
            parse_response(&full[..full.len() - 1], false)
                .unwrap()
                .is_none()
        );
        let r = parse_response(full, false).unwrap().unwrap();
        assert_eq!(
            (r.status().as_u16(), r.body().as_slice()),
            (200, &b"{}"[..])
        );
        assert_eq!(r.headers()["content-type"], "application/json");

        let chunked = b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;x=y\r\n:1}\r\n0\r\n\r\n";
        assert!(
            parse_response(&chunked[..chunked.len() - 7], false)
                .unwrap()
                .is_none()
        );
        let r = parse_response(chunked, false).unwrap().unwrap();
        assert_eq!(
            (r.status().as_u16(), r.body().as_slice()),
            (400, &b"{\"a\":1}"[..])
        );

        let open = b"HTTP/1.0 200 OK\r\n\r\nabc";
        assert!(parse_response(open, false).unwrap().is_none());
        assert_eq!(parse_response(open, true).unwrap().unwrap().body(), b"abc");
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", true).is_err());
        assert!(parse_response(b"SIP/2.0 200 OK\r\n\r\n", true).is_err());
        assert!(parse_response(b"HTTP/1.1 2x0 OK\r\n\r\n", true).is_err());
    }

    #[test]
    fn request_line_headers_and_body() {
        let url = Url::parse("http://127.0.0.1:3000/token?a=b").unwrap();
        let request = oauth2::http::Request::builder()
            .method(oauth2::http::Method::POST)
            .uri(url.as_str())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(b"grant_type=x".to_vec())
            .unwrap();
        let text = String::from_utf8(serialize_request(&request, &url)).unwrap();
        assert!(
            text.starts_with(
                "POST /token?a=b HTTP/1.1\r\nHost: 127.0.0.1:3000\r\nConnection: close\r\n"
            ),
            "{text}"
        );
        assert!(text.contains("content-type: application/x-www-form-urlencoded\r\n"));
        assert!(
            text.ends_with("Content-Length: 12\r\n\r\ngrant_type=x"),
            "{text}"
        );
    }
}
