//! The HTTP/1.x wire format shared by Lockphone's HTTP clients (the OAuth client in
//! [`crate::oauth::http`], the CRL and OCSP fetches of [`crate::tls::revocation`]): one request
//! per connection, the answer read and split without trusting it (bounded in size, by
//! `Content-Length`, chunked, or up to the close).

use oauth2::HttpResponse;
use oauth2::http::{HeaderName, HeaderValue, StatusCode};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Sends `request` (a whole HTTP/1.x request with `Connection: close`) and reads the answer,
/// refusing one longer than `max` bytes (head and body together); the caller bounds the time.
pub(crate) async fn exchange<S>(
    mut stream: S,
    request: &[u8],
    max: usize,
) -> Result<HttpResponse, String>
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
        if buf.len() > max {
            return Err(format!("answer larger than {max} bytes"));
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
}
