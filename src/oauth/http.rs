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
use oauth2::url::Url;
use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};
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
                crate::http1::exchange(stream, &bytes, MAX_RESPONSE)
                    .await
                    .map_err(fail)
            } else {
                crate::http1::exchange(tcp, &bytes, MAX_RESPONSE)
                    .await
                    .map_err(fail)
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
