//! Plain-HTTP fetches of CRLs (GET) and OCSP responses (POST), as RFC 5280 and RFC 6960
//! publish them: HTTP/1.0 with `Connection: close`, no redirects, bounded in size; the caller
//! bounds the time. The answer is read and split by [`crate::http1`], as for OAuth.

use tokio::net::TcpStream;

/// Room for the answer's head beyond the body's limit.
const MAX_HEAD: usize = 16 * 1024;

/// The largest CRL accepted.
pub(super) const MAX_CRL: usize = 16 << 20;
/// The largest OCSP response accepted.
pub(super) const MAX_OCSP: usize = 1 << 20;

/// An `http://host[:port]/path` URL, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct HttpUrl {
    host: String,
    port: u16,
    path: String,
}

impl HttpUrl {
    /// Parses a CDP or AIA location; only `http://` is used for revocation (RFC 5280 §4.2.1.13).
    pub(super) fn parse(url: &str) -> Result<HttpUrl, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url}: only http:// revocation sources are fetched"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (rest.get(..i).unwrap_or(""), rest.get(i..).unwrap_or("/")),
            None => (rest, "/"),
        };
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("{url}: bad IPv6 host"))?;
            (host.to_owned(), after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), Some(p)),
                None => (authority.to_owned(), None),
            }
        };
        let port = match port {
            Some(p) => p.parse().map_err(|_| format!("{url}: bad port"))?,
            None => 80,
        };
        if host.is_empty() || path.contains(['\r', '\n', ' ']) {
            return Err(format!("{url}: not a usable URL"));
        }
        Ok(HttpUrl {
            host,
            port,
            path: path.to_owned(),
        })
    }
}

/// GETs `url` and returns the body of a 200 answer.
pub(super) async fn get(url: &str, max: usize) -> Result<Vec<u8>, String> {
    exchange(url, "GET", None, max).await
}

/// POSTs a DER OCSP request to `url` and returns the body of a 200 answer.
pub(super) async fn post_ocsp(url: &str, body: &[u8], max: usize) -> Result<Vec<u8>, String> {
    exchange(url, "POST", Some(body), max).await
}

async fn exchange(
    url: &str,
    method: &str,
    body: Option<&[u8]>,
    max: usize,
) -> Result<Vec<u8>, String> {
    let target = HttpUrl::parse(url)?;
    let stream = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| format!("{url}: cannot connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let host_header = if target.host.contains(':') {
        format!("[{}]:{}", target.host, target.port)
    } else {
        format!("{}:{}", target.host, target.port)
    };
    let mut request = format!(
        "{method} {} HTTP/1.0\r\nHost: {host_header}\r\nConnection: close\r\nUser-Agent: lockphone\r\n",
        target.path
    );
    if let Some(body) = body {
        request.push_str(&format!(
            "Content-Type: application/ocsp-request\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    let mut bytes = request.into_bytes();
    bytes.extend_from_slice(body.unwrap_or_default());
    answer(url, stream, &bytes, max).await
}

/// Sends the request and returns the body of a 200 answer of at most `max` bytes.
async fn answer<S>(url: &str, stream: S, request: &[u8], max: usize) -> Result<Vec<u8>, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let response = crate::http1::exchange(stream, request, max + MAX_HEAD)
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    if response.status() != 200 {
        return Err(format!("{url}: HTTP status {}", response.status()));
    }
    let body = response.into_body();
    if body.len() > max {
        return Err(format!(
            "{url}: answer of {} bytes is too large",
            body.len()
        ));
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_split_and_only_http_is_accepted() {
        let u = HttpUrl::parse("http://127.0.0.1:8080/ca.crl").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("127.0.0.1", 8080, "/ca.crl")
        );
        let u = HttpUrl::parse("http://ocsp.example.test").unwrap();
        assert_eq!((u.port, u.path.as_str()), (80, "/"));
        let u = HttpUrl::parse("http://[::1]:81/x").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("::1", 81));
        assert!(HttpUrl::parse("https://ocsp.example.test/").is_err());
        assert!(HttpUrl::parse("ldap://dir/cn=CA").is_err());
        assert!(HttpUrl::parse("http://h:99999/").is_err());
    }

    /// The body `answer` takes from a server that sends `raw` and closes.
    async fn parse_response(url: &str, raw: &[u8], max: usize) -> Result<Vec<u8>, String> {
        use tokio::io::AsyncWriteExt;
        let (client, mut server) = tokio::io::duplex(1 << 16);
        server.write_all(raw).await.unwrap();
        server.shutdown().await.unwrap();
        answer(url, client, b"GET / HTTP/1.0\r\n\r\n", max).await
    }

    #[tokio::test]
    async fn responses_need_200_and_respect_content_length() {
        let ok = b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nabcdef";
        assert_eq!(parse_response("u", ok, 10).await.unwrap(), b"abc");
        let nolen = b"HTTP/1.0 200 OK\r\n\r\nabcdef";
        assert_eq!(parse_response("u", nolen, 10).await.unwrap(), b"abcdef");
        let notfound = b"HTTP/1.0 404 Not Found\r\n\r\n";
        assert!(
            parse_response("u", notfound, 10)
                .await
                .unwrap_err()
                .contains("404")
        );
        let big = b"HTTP/1.0 200 OK\r\nContent-Length: 30\r\n\r\nabc";
        assert!(parse_response("u", big, 10).await.is_err());
        let too_long = b"HTTP/1.0 200 OK\r\n\r\nabcdefghijklmnop";
        assert!(parse_response("u", too_long, 10).await.is_err());
    }
}
