//! Frame + parse a 809-byte INVITE with SDP with Lockphone's framer and parser (and read the
//! headers a transaction needs), against a bare `rsip::SipMessage::try_from` of the same bytes,
//! in the same run. After criterion, an interleaved timing loop prints
//! `ratio lockphone/rsip = X.XX` (below 1 means Lockphone is faster), and the same for
//! `Message::parse` alone.
//!
//! `cargo bench -p lockphone-sip --bench parse`

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::Criterion;
use lockphone_sip::framer::{Frame, StreamFramer};
use lockphone_sip::message::Message;

const INVITE: &[u8] = b"INVITE sips:bob@biloxi.example.test SIP/2.0\r\n\
Via: SIP/2.0/TLS pc33.atlanta.example.test:5061;branch=z9hG4bK776asdhds;rport\r\n\
Max-Forwards: 70\r\n\
To: Bob <sips:bob@biloxi.example.test>\r\n\
From: \"Alice\" <sips:alice@atlanta.example.test>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.atlanta.example.test\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sips:alice@pc33.atlanta.example.test;transport=tls>\r\n\
Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE\r\n\
Supported: replaces, timer\r\n\
User-Agent: Lockphone/0.1\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 269\r\n\
\r\n\
v=0\r\n\
o=alice 2890844526 2890844526 IN IP4 192.0.2.101\r\n\
s=-\r\n\
c=IN IP4 192.0.2.101\r\n\
t=0 0\r\n\
m=audio 49172 RTP/SAVP 111 0 101\r\n\
a=rtpmap:111 opus/48000/2\r\n\
a=rtpmap:101 telephone-event/8000\r\n\
a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:PS1uQCVeeCFCanVmcjkpPywjNWhcYD0mXXtxaVBR\r\n";

/// Frames, parses, and reads top Via, CSeq, From, To and Call-ID.
fn lockphone(bytes: &[u8]) -> usize {
    let mut framer = StreamFramer::new();
    framer.push(bytes);
    let Some(Ok(Frame::Message(frame))) = framer.next_frame() else {
        panic!("the INVITE frames")
    };
    let Ok(Message::Request(req)) = Message::parse(&frame) else {
        panic!("the INVITE parses")
    };
    let via = req.top_via().expect("Via");
    let cseq = req.cseq().expect("CSeq");
    let from = req.from_header().expect("From");
    let to = req.to_header().expect("To");
    let call_id = req.call_id().expect("Call-ID");
    via.branch().map_or(0, str::len)
        + cseq.seq as usize
        + from.tag().map_or(0, str::len)
        + to.params.len()
        + call_id.len()
        + req.body.len()
}

/// rsip's bare parse.
fn rsip_parse(bytes: &[u8]) -> rsip::SipMessage {
    rsip::SipMessage::try_from(bytes).expect("rsip parses the INVITE")
}

fn benches(c: &mut Criterion) {
    let mut group = c.benchmark_group("invite_800B");
    group.bench_function("lockphone_frame_parse_read", |b| {
        b.iter(|| lockphone(black_box(INVITE)))
    });
    group.bench_function("rsip_parse", |b| b.iter(|| rsip_parse(black_box(INVITE))));
    group.bench_function("lockphone_parse_only", |b| {
        b.iter(|| Message::parse(black_box(INVITE)))
    });
    group.finish();
}

/// Median time per call of `f` over `rounds` rounds of `n` calls each.
#[allow(clippy::disallowed_methods)] // a benchmark measures wall time by design
fn time_rounds<R>(rounds: usize, n: u32, mut f: impl FnMut() -> R) -> Vec<Duration> {
    (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                black_box(f());
            }
            start.elapsed() / n
        })
        .collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let mut criterion = Criterion::default().configure_from_args();
    benches(&mut criterion);
    criterion.final_summary();
    if !benching {
        // `cargo test --benches`: a smoke check only.
        assert!(lockphone(INVITE) > 0);
        let _ = rsip_parse(INVITE);
        return;
    }
    // Interleave the two so that load from other processes hits both alike.
    let (mut ours, mut theirs, mut parse_only) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..9 {
        ours.extend(time_rounds(1, 20_000, || lockphone(black_box(INVITE))));
        theirs.extend(time_rounds(1, 20_000, || rsip_parse(black_box(INVITE))));
        parse_only.extend(time_rounds(1, 20_000, || Message::parse(black_box(INVITE))));
    }
    let (ours, theirs, parse_only) = (median(ours), median(theirs), median(parse_only));
    println!(
        "lockphone frame+parse+read: {ours:?} per message, rsip parse: {theirs:?} per message ({} bytes)",
        INVITE.len()
    );
    println!(
        "parse only (no framing, no typed reads): {parse_only:?}, ratio {:.2}",
        parse_only.as_secs_f64() / theirs.as_secs_f64()
    );
    println!(
        "ratio lockphone/rsip = {:.2}",
        ours.as_secs_f64() / theirs.as_secs_f64()
    );
}
