//! Splits a TCP/TLS byte stream into SIP messages by `Content-Length` (RFC 3261 §18.3), and
//! recognises the RFC 5626 §4.4.1 keep-alives between messages.
//!
//! Sans-IO: the driver [`push`](StreamFramer::push)es whatever bytes the socket gave, then
//! takes [`next_frame`](StreamFramer::next_frame) until it returns `None`.
//!
//! ```
//! use lockphone_sip::framer::{Frame, StreamFramer};
//! use lockphone_sip::Message;
//!
//! let mut framer = StreamFramer::new();
//! framer.push(b"\r\n\r\nOPTIONS sip:b@example.test SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\n");
//! assert_eq!(framer.next_frame(), Some(Ok(Frame::KeepAlivePing)));
//! assert_eq!(framer.next_frame(), None); // the rest of the message has not arrived yet
//! framer.push(b"From: <sip:a@h>;tag=1\r\nTo: <sip:b@h>\r\nCall-ID: x\r\nCSeq: 1 OPTIONS\r\nl: 0\r\n\r\n");
//! let Some(Ok(Frame::Message(bytes))) = framer.next_frame() else { panic!("a message") };
//! assert!(Message::parse(&bytes).is_ok());
//! ```
//!
//! # Errors
//!
//! A message without `Content-Length`, with an unreadable one, or larger than
//! [`MAX_MESSAGE_SIZE`] (headers alone, or headers plus the announced body) cannot be framed:
//! the stream has lost its message boundaries. After an error the framer is **poisoned**: it
//! ignores further pushes and returns the same error from every `next_frame` call. The driver
//! must close the connection (and may first answer `400`/`513` if it can).
//!
//! # Keep-alives
//!
//! Between messages, `CRLFCRLF` is a [`Frame::KeepAlivePing`] (answer with a single CRLF) and a
//! lone `CRLF` is a [`Frame::KeepAlivePong`]. A CRLF that is the last thing buffered is reported
//! as a pong at once (a pong must not wait for more traffic); if the next bytes pushed begin
//! with CRLF, the two halves were a ping split across reads, and a `KeepAlivePing` follows the
//! pong, so every ping is still answered. `CRLF CR` waits for the next byte. A stray LF between
//! messages is skipped.
//!
//! # Cost
//!
//! Each byte is examined a bounded number of times however the stream is split (the header
//! scan resumes where it stopped), and each message is copied once into its frame.

use crate::message::{MAX_MESSAGE_SIZE, content_length_value, snippet};

/// One unit taken from a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// The exact bytes of one message (start line, headers, `Content-Length` body bytes), for
    /// [`Message::parse`](crate::message::Message::parse).
    Message(Vec<u8>),
    /// `CRLFCRLF` outside a message: the peer checks that the flow is alive; answer `CRLF`.
    KeepAlivePing,
    /// A lone `CRLF` outside a message: the answer to a ping we sent.
    KeepAlivePong,
}

/// Why a stream can no longer be framed. The connection must be closed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The header section, or headers plus `Content-Length`, exceed [`MAX_MESSAGE_SIZE`].
    #[error("message larger than {max} bytes (at least {size} bytes)")]
    TooLarge {
        /// The size known so far.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// A message on a stream without `Content-Length` (required on streams, RFC 3261 §18.3).
    #[error("message on a stream without Content-Length")]
    MissingContentLength,
    /// `Content-Length` is not a decimal number.
    #[error("Content-Length `{0}` is not a number")]
    BadContentLength(String),
    /// Two `Content-Length` headers disagree.
    #[error("conflicting Content-Length values {first} and {second}")]
    ConflictingContentLength {
        /// The first value.
        first: usize,
        /// The value that disagrees with it.
        second: usize,
    },
}

/// A sans-IO framer for one TCP or TLS connection. See the [module docs](self).
#[derive(Debug, Default)]
pub struct StreamFramer {
    /// Received bytes; `buf[start..]` is not framed yet.
    buf: Vec<u8>,
    /// The first byte not yet handed out.
    start: usize,
    /// Where the search for the end of the current header section resumes (≥ `start`).
    scanned: usize,
    /// The length of the current message, once its header section has been read.
    message_len: Option<usize>,
    /// The last frame was a pong made of the only two bytes buffered: a CRLF right after it
    /// completes a ping.
    split_crlf: bool,
    /// The error that stopped framing, if any.
    poisoned: Option<FrameError>,
}

impl StreamFramer {
    /// An empty framer.
    pub fn new() -> StreamFramer {
        StreamFramer::default()
    }

    /// Appends bytes received from the stream. Ignored once the framer is poisoned.
    pub fn push(&mut self, bytes: &[u8]) {
        if self.poisoned.is_some() {
            return;
        }
        // Drop consumed bytes once they are at least half the buffer: amortised linear.
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.scanned = self.scanned.saturating_sub(self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Bytes received but not yet handed out in a frame.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The next complete frame, `None` if more bytes are needed, or the error that poisoned
    /// the framer (returned again on every later call).
    pub fn next_frame(&mut self) -> Option<Result<Frame, FrameError>> {
        if let Some(err) = &self.poisoned {
            return Some(Err(err.clone()));
        }
        match self.step() {
            Ok(frame) => frame.map(Ok),
            Err(err) => {
                self.poisoned = Some(err.clone());
                self.buf = Vec::new();
                self.start = 0;
                self.scanned = 0;
                Some(Err(err))
            }
        }
    }

    fn step(&mut self) -> Result<Option<Frame>, FrameError> {
        loop {
            if let Some(len) = self.message_len {
                return Ok(self.take_message(len));
            }
            let pending = self.buf.get(self.start..).unwrap_or_default();
            let split_crlf = std::mem::take(&mut self.split_crlf);
            match pending {
                [] | [b'\r'] => {
                    self.split_crlf = split_crlf;
                    return Ok(None);
                }
                [b'\r', b'\n', ..] if split_crlf => {
                    return Ok(Some(self.consume(2, Frame::KeepAlivePing)));
                }
                [b'\r', b'\n', b'\r'] => return Ok(None),
                [b'\r', b'\n'] => {
                    self.split_crlf = true;
                    return Ok(Some(self.consume(2, Frame::KeepAlivePong)));
                }
                [b'\r', b'\n', b'\r', b'\n', ..] => {
                    return Ok(Some(self.consume(4, Frame::KeepAlivePing)));
                }
                [b'\r', b'\n', ..] => return Ok(Some(self.consume(2, Frame::KeepAlivePong))),
                [b'\n', ..] => {
                    self.start += 1;
                    self.scanned = self.scanned.max(self.start);
                    continue;
                }
                _ => {}
            }
            let Some(head_end) = self.find_head_end() else {
                let size = self.buffered();
                if size > MAX_MESSAGE_SIZE {
                    return Err(FrameError::TooLarge {
                        size,
                        max: MAX_MESSAGE_SIZE,
                    });
                }
                return Ok(None);
            };
            let head = self.buf.get(self.start..head_end).unwrap_or_default();
            let len = head.len().saturating_add(content_length(head)?);
            if len > MAX_MESSAGE_SIZE {
                return Err(FrameError::TooLarge {
                    size: len,
                    max: MAX_MESSAGE_SIZE,
                });
            }
            self.message_len = Some(len);
        }
    }

    /// Skips `n` keep-alive bytes and returns `frame`.
    fn consume(&mut self, n: usize, frame: Frame) -> Frame {
        self.start += n;
        self.scanned = self.scanned.max(self.start);
        frame
    }

    /// Hands out the current message once all `len` bytes are buffered.
    fn take_message(&mut self, len: usize) -> Option<Frame> {
        let bytes = self.buf.get(self.start..self.start + len)?.to_vec();
        self.start += len;
        self.scanned = self.start;
        self.message_len = None;
        Some(Frame::Message(bytes))
    }

    /// The index just past the empty line ending the header section that starts at `start`,
    /// remembering where to resume when it is not buffered yet.
    fn find_head_end(&mut self) -> Option<usize> {
        let mut from = self.scanned.max(self.start);
        let end = loop {
            let Some(offset) = self
                .buf
                .get(from..)
                .and_then(|rest| memchr::memchr(b'\n', rest))
            else {
                from = self.buf.len();
                break None;
            };
            let lf = from + offset;
            match (self.buf.get(lf + 1), self.buf.get(lf + 2)) {
                (Some(b'\n'), _) => break Some(lf + 2),
                (Some(b'\r'), Some(b'\n')) => break Some(lf + 3),
                // Not decidable yet: resume at this LF.
                (None, _) | (Some(b'\r'), None) => {
                    from = lf;
                    break None;
                }
                _ => from = lf + 1,
            }
        };
        self.scanned = from;
        end
    }
}

/// The `Content-Length` (or compact `l`) of a header section, folding undone; several
/// headers must agree.
fn content_length(head: &[u8]) -> Result<usize, FrameError> {
    let mut values: Vec<Vec<u8>> = Vec::new();
    let mut in_content_length = false;
    let mut line_start = 0;
    let lines = memchr::memchr_iter(b'\n', head).map(|lf| {
        let line = head.get(line_start..lf).unwrap_or_default();
        line_start = lf + 1;
        line
    });
    for line in lines.skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        match line.first() {
            None => break,
            Some(b' ' | b'\t') => {
                if let (true, Some(value)) = (in_content_length, values.last_mut()) {
                    value.push(b' ');
                    value.extend_from_slice(line);
                }
                continue;
            }
            Some(_) => {}
        }
        in_content_length = false;
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = line.split_at(colon);
        let name = name.trim_ascii_end();
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l") {
            in_content_length = true;
            values.push(value.get(1..).unwrap_or_default().to_vec());
        }
    }
    let mut found: Option<usize> = None;
    for value in &values {
        let length = std::str::from_utf8(value)
            .ok()
            .and_then(content_length_value)
            .ok_or_else(|| {
                FrameError::BadContentLength(snippet(String::from_utf8_lossy(value).trim()))
            })?;
        match found {
            Some(first) if first != length => {
                return Err(FrameError::ConflictingContentLength {
                    first,
                    second: length,
                });
            }
            _ => found = Some(length),
        }
    }
    found.ok_or(FrameError::MissingContentLength)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;
    use rand::{Rng, SeedableRng};

    fn message(body: &[u8], length_header: &str) -> Vec<u8> {
        let mut raw = format!(
            "MESSAGE sips:bob@[2001:db8::1] SIP/2.0\r\n\
             Via: SIP/2.0/TLS [2001:db8::9]:5061;branch=z9hG4bK{}\r\n\
             From: <sips:a@example.test>;tag=1\r\nTo: <sips:bob@example.test>\r\n\
             Call-ID: c1\r\nCSeq: 1 MESSAGE\r\n{length_header}\r\n",
            body.len()
        )
        .into_bytes();
        raw.extend_from_slice(body);
        raw
    }

    fn with_length(body: &[u8]) -> Vec<u8> {
        message(body, &format!("Content-Length: {}\r\n", body.len()))
    }

    /// Every frame available after pushing `chunks` one by one.
    fn frames(chunks: &[&[u8]]) -> Vec<Result<Frame, FrameError>> {
        let mut framer = StreamFramer::new();
        let mut out = Vec::new();
        for chunk in chunks {
            framer.push(chunk);
            while let Some(frame) = framer.next_frame() {
                let stop = frame.is_err();
                out.push(frame);
                if stop {
                    return out;
                }
            }
        }
        out
    }

    fn stream() -> (Vec<u8>, Vec<Result<Frame, FrameError>>) {
        let binary: Vec<u8> = (0..=255u8)
            .chain(*b"\r\n\r\nINVITE sip:x SIP/2.0\r\n\r\n")
            .collect();
        let first = with_length(b"");
        let second = with_length(&binary);
        let third = message(b"hi", "l : 2\r\n");
        let mut all = b"\r\n\r\n".to_vec();
        all.extend_from_slice(&first);
        all.extend_from_slice(b"\r\n");
        all.extend_from_slice(&second);
        all.extend_from_slice(&third);
        all.extend_from_slice(b"\r\n\r\n");
        let expected = vec![
            Ok(Frame::KeepAlivePing),
            Ok(Frame::Message(first)),
            Ok(Frame::KeepAlivePong),
            Ok(Frame::Message(second)),
            Ok(Frame::Message(third)),
            Ok(Frame::KeepAlivePing),
        ];
        (all, expected)
    }

    #[test]
    fn several_messages_in_one_push() {
        let (all, expected) = stream();
        let got = frames(&[&all]);
        assert_eq!(got, expected);
        for frame in got {
            if let Ok(Frame::Message(bytes)) = frame {
                Message::parse(&bytes).unwrap();
            }
        }
    }

    /// Frames with a pong dropped where a ping follows it directly (a ping split across reads
    /// shows as pong + ping).
    fn merge_split_pings(frames: Vec<Result<Frame, FrameError>>) -> Vec<Result<Frame, FrameError>> {
        let mut out: Vec<Result<Frame, FrameError>> = Vec::new();
        for frame in frames {
            if frame == Ok(Frame::KeepAlivePing) && out.last() == Some(&Ok(Frame::KeepAlivePong)) {
                out.pop();
            }
            out.push(frame);
        }
        out
    }

    #[test]
    fn one_byte_at_a_time() {
        let (all, expected) = stream();
        let chunks: Vec<&[u8]> = all.chunks(1).collect();
        let got = frames(&chunks);
        assert_eq!(
            got.iter()
                .filter(|f| **f == Ok(Frame::KeepAlivePong))
                .count(),
            3
        );
        assert_eq!(merge_split_pings(got), expected);
    }

    #[test]
    fn random_splits() {
        let (all, expected) = stream();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..200 {
            let mut chunks = Vec::new();
            let mut rest = all.as_slice();
            while !rest.is_empty() {
                let n = rng.random_range(1..=rest.len().min(80));
                let (chunk, tail) = rest.split_at(n);
                chunks.push(chunk);
                rest = tail;
            }
            assert_eq!(merge_split_pings(frames(&chunks)), expected);
        }
    }

    #[test]
    fn keep_alives() {
        assert_eq!(frames(&[b"\r\n"]), vec![Ok(Frame::KeepAlivePong)]);
        assert_eq!(
            frames(&[b"\r\n\r\n\r\n"]),
            vec![Ok(Frame::KeepAlivePing), Ok(Frame::KeepAlivePong)]
        );
        // CRLF CR waits for the fourth byte.
        assert_eq!(
            frames(&[b"\r", b"\n\r", b"\n"]),
            vec![Ok(Frame::KeepAlivePing)]
        );
        // A ping split in its middle: the first half is a pong at once, the second a ping.
        assert_eq!(
            frames(&[b"\r\n", b"\r", b"\n"]),
            vec![Ok(Frame::KeepAlivePong), Ok(Frame::KeepAlivePing)]
        );
        // A pong followed by a message: nothing is merged.
        let msg = with_length(b"");
        assert_eq!(
            frames(&[b"\r\n", &msg, b"\r\n"]),
            vec![
                Ok(Frame::KeepAlivePong),
                Ok(Frame::Message(msg.clone())),
                Ok(Frame::KeepAlivePong)
            ]
        );
        // A stray LF is skipped; a lone CR waits.
        assert_eq!(frames(&[b"\n\r"]), vec![]);
    }

    #[test]
    fn lf_only_and_folded_content_length() {
        let raw =
            b"OPTIONS sip:h SIP/2.0\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\nFrom: <sip:a@h>;tag=1\n\
To: <sip:h>\nCall-ID: x\nCSeq: 1 OPTIONS\nContent-Length:\n  3\n\nabcNEXT";
        let got = frames(&[raw]);
        let expected = raw.len() - 4;
        assert_eq!(got, vec![Ok(Frame::Message(raw[..expected].to_vec()))]);
        let Ok(Frame::Message(bytes)) = &got[0] else {
            unreachable!()
        };
        match Message::parse(bytes).unwrap() {
            Message::Request(req) => assert_eq!(req.body, b"abc"),
            Message::Response(_) => panic!("a request"),
        }
    }

    #[test]
    fn missing_content_length_poisons() {
        let mut framer = StreamFramer::new();
        framer.push(&message(b"", ""));
        let err = FrameError::MissingContentLength;
        assert_eq!(framer.next_frame(), Some(Err(err.clone())));
        framer.push(&with_length(b""));
        assert_eq!(framer.next_frame(), Some(Err(err.clone())));
        assert_eq!(framer.next_frame(), Some(Err(err)));
        assert_eq!(framer.buffered(), 0);
        assert_eq!(
            FrameError::MissingContentLength.to_string(),
            "message on a stream without Content-Length"
        );
    }

    #[test]
    fn bad_and_conflicting_content_length() {
        assert_eq!(
            frames(&[&message(b"", "Content-Length: 1x\r\n")]),
            vec![Err(FrameError::BadContentLength("1x".into()))]
        );
        assert_eq!(
            frames(&[&message(b"", "Content-Length: 1\r\nl: 2\r\n")]),
            vec![Err(FrameError::ConflictingContentLength {
                first: 1,
                second: 2
            })]
        );
    }

    #[test]
    fn oversize() {
        // Headers that never end.
        let mut framer = StreamFramer::new();
        framer.push(b"INVITE sip:h SIP/2.0\r\n");
        let line = format!("X-Pad: {}\r\n", "p".repeat(1000));
        for _ in 0..66 {
            framer.push(line.as_bytes());
            if framer.next_frame().is_some() {
                break;
            }
        }
        assert!(matches!(
            framer.next_frame(),
            Some(Err(FrameError::TooLarge { .. }))
        ));
        // A Content-Length that makes the message too large is refused before the body.
        let raw = message(b"", &format!("Content-Length: {}\r\n", MAX_MESSAGE_SIZE));
        let got = frames(&[&raw]);
        assert!(
            matches!(got.as_slice(), [Err(FrameError::TooLarge { size, .. })] if *size > MAX_MESSAGE_SIZE)
        );
        // Exactly the limit is fine.
        let head = with_length(&[b'b'; 60_000]).len() - 60_000; // as long with any 5-digit body
        let body = vec![b'b'; MAX_MESSAGE_SIZE - head];
        let raw = with_length(&body);
        assert_eq!(raw.len(), MAX_MESSAGE_SIZE);
        assert_eq!(frames(&[&raw]), vec![Ok(Frame::Message(raw.clone()))]);
    }

    #[test]
    fn large_header_byte_by_byte_is_linear() {
        // Quadratic rescanning would make this take minutes; it takes milliseconds.
        let pad = format!("X-Pad: {}\r\n", "p".repeat(200));
        let mut raw = b"OPTIONS sip:h SIP/2.0\r\n".to_vec();
        while raw.len() < MAX_MESSAGE_SIZE - 500 {
            raw.extend_from_slice(pad.as_bytes());
        }
        raw.extend_from_slice(b"Content-Length: 0\r\n\r\n");
        let mut framer = StreamFramer::new();
        for byte in &raw {
            framer.push(std::slice::from_ref(byte));
            if let Some(frame) = framer.next_frame() {
                assert_eq!(frame, Ok(Frame::Message(raw.clone())));
            }
        }
        assert_eq!(framer.buffered(), 0);
    }
}
