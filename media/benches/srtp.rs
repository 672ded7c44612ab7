//! SRTP throughput: our contexts against the raw primitives and webrtc-srtp, in one run.
//!
//! For every suite and for 160 B and 80 B payloads this measures packets per second for
//! protect and unprotect (replay protection on, contexts never reset so ROC rollovers are
//! covered) of three implementations, best of several interleaved rounds:
//!
//! - `ours`: `SrtpContext::protect_rtp_in_place` / `unprotect_rtp_in_place`;
//! - `raw`: the bare primitive on the same buffers (ring AES-GCM seal/open with the 12-byte
//!   header as AAD; AES-CTR from the `ctr` crate on a pre-expanded key plus a pre-keyed
//!   HMAC-SHA1 truncated to the suite's tag), with no SRTP bookkeeping;
//! - `webrtc-srtp` 0.17.2 (`encrypt_rtp` / `decrypt_rtp`, allocating).
//!
//! It prints `ratio <suite> <size> protect=X.XX unprotect=Y.YY` (ours ÷ raw; target ≥ 0.9),
//! then runs a short criterion group for the record.
//!
//! Timings on a shared machine swing by ±40 %. For a stable ratio, count instructions: with
//! `--count SUITE ours|raw protect|both PAYLOAD N` the binary only protects N packets (and,
//! with `both`, unprotects them), and `media/benches/srtp_instructions.sh` runs it under
//! `valgrind --tool=callgrind` for two values of N, so that set-up cancels out, subtracts the
//! harness's own per-packet work (`harness`: fill and copy only), and prints instructions per
//! packet and raw ÷ ours (≥ 1: as few instructions as the bare primitive). Instructions are
//! not time — AES-NI and carry-less multiplies cost more than the scalar bookkeeping — so
//! this ratio is a lower bound of the time ratio.

mod support;

use std::hint::black_box;
use std::time::Duration;

use aes::cipher::{InnerIvInit, KeyInit, StreamCipher};
use criterion::Criterion;
use hmac::{Hmac, Mac};
use lockphone_media::rtp::Packetizer;
use lockphone_media::srtp::{SrtpContext, SrtpKeys, SrtpSuite};
use ring::aead::{AES_128_GCM, AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use sha1::Sha1;

/// Packets per round.
const PACKETS: usize = 32_768;
/// Rounds per implementation (the best one counts).
const ROUNDS: usize = 7;
const SSRC: u32 = 0x5eed_0001;

use support::Stopwatch;

fn pps(elapsed: Duration) -> f64 {
    PACKETS as f64 / elapsed.as_secs_f64()
}

/// Plaintext RTP packet template with the given payload size.
fn template(payload: usize) -> Vec<u8> {
    let mut out = Vec::new();
    Packetizer::from_parts(SSRC, 111, 0, 0).next_packet(&vec![0x42; payload], 960, false, &mut out);
    out
}

/// Writes sequence number and timestamp of packet `n` into a plaintext copy.
fn fill(out: &mut Vec<u8>, template: &[u8], n: u64) {
    out.clear();
    out.extend_from_slice(template);
    out[2..4].copy_from_slice(&(n as u16).to_be_bytes());
    out[4..8].copy_from_slice(&((n as u32).wrapping_mul(960)).to_be_bytes());
}

/// One implementation under test: protect a round into `wire`, then unprotect it.
trait Subject {
    fn protect(&mut self, template: &[u8], first: u64, wire: &mut [Vec<u8>]);
    fn unprotect(&mut self, wire: &[Vec<u8>], scratch: &mut Vec<u8>);
}

struct Ours {
    tx: SrtpContext,
    rx: SrtpContext,
}

impl Subject for Ours {
    fn protect(&mut self, template: &[u8], first: u64, wire: &mut [Vec<u8>]) {
        for (n, out) in (first..).zip(wire.iter_mut()) {
            fill(out, template, n);
            self.tx.protect_rtp_in_place(out).expect("protect");
        }
    }

    fn unprotect(&mut self, wire: &[Vec<u8>], scratch: &mut Vec<u8>) {
        for packet in wire {
            scratch.clear();
            scratch.extend_from_slice(packet);
            black_box(self.rx.unprotect_rtp_in_place(scratch).expect("unprotect"));
        }
    }
}

/// The harness alone: fill (protect) and copy (unprotect), no crypto; subtracted from both
/// sides of the instruction-count ratio.
struct Harness;

impl Subject for Harness {
    fn protect(&mut self, template: &[u8], first: u64, wire: &mut [Vec<u8>]) {
        for (n, out) in (first..).zip(wire.iter_mut()) {
            fill(out, template, n);
        }
    }

    fn unprotect(&mut self, wire: &[Vec<u8>], scratch: &mut Vec<u8>) {
        for packet in wire {
            scratch.clear();
            scratch.extend_from_slice(packet);
            black_box(&scratch);
        }
    }
}

struct RawGcm {
    key: LessSafeKey,
}

impl RawGcm {
    fn nonce(n: u64) -> Nonce {
        let mut iv = [0; 12];
        iv[4..12].copy_from_slice(&n.to_be_bytes());
        Nonce::assume_unique_for_key(iv)
    }
}

impl Subject for RawGcm {
    fn protect(&mut self, template: &[u8], first: u64, wire: &mut [Vec<u8>]) {
        for (n, out) in (first..).zip(wire.iter_mut()) {
            fill(out, template, n);
            let (header, payload) = out.split_at_mut(12);
            let tag = self
                .key
                .seal_in_place_separate_tag(Self::nonce(n), Aad::from(&*header), payload)
                .expect("seal");
            out.extend_from_slice(tag.as_ref());
        }
    }

    fn unprotect(&mut self, wire: &[Vec<u8>], scratch: &mut Vec<u8>) {
        for (n, packet) in (0..).zip(wire) {
            scratch.clear();
            scratch.extend_from_slice(packet);
            let (header, sealed) = scratch.split_at_mut(12);
            // The nonce differs from the one used to seal, so count a verified-or-not open:
            // the work is identical either way.
            let _ = black_box(
                self.key
                    .open_in_place(Self::nonce(n), Aad::from(&*header), sealed),
            );
        }
    }
}

#[allow(clippy::large_enum_variant)]
enum Aes {
    A128(aes::Aes128Enc),
    A256(aes::Aes256Enc),
}

/// AES-CTR (128-bit big-endian counter) from the `ctr` crate on an already expanded key.
fn ctr_apply<C>(cipher: C, iv: &[u8; 16], data: &mut [u8])
where
    C: aes::cipher::BlockEncryptMut
        + aes::cipher::BlockCipher
        + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
{
    let core = ctr::CtrCore::<C, ctr::flavors::Ctr128BE>::inner_iv_init(cipher, iv.into());
    aes::cipher::StreamCipherCoreWrapper::from_core(core).apply_keystream(data);
}

struct RawCm {
    aes: Aes,
    mac: Hmac<Sha1>,
    tag_len: usize,
}

impl RawCm {
    fn ctr(&self, n: u64, data: &mut [u8]) {
        let mut iv = [0u8; 16];
        iv[6..14].copy_from_slice(&n.to_be_bytes());
        match &self.aes {
            Aes::A128(aes) => ctr_apply(aes.clone(), &iv, data),
            Aes::A256(aes) => ctr_apply(aes.clone(), &iv, data),
        }
    }
}

impl Subject for RawCm {
    fn protect(&mut self, template: &[u8], first: u64, wire: &mut [Vec<u8>]) {
        for (n, out) in (first..).zip(wire.iter_mut()) {
            fill(out, template, n);
            self.ctr(n, &mut out[12..]);
            let mut mac = self.mac.clone();
            mac.update(out);
            mac.update(&0u32.to_be_bytes());
            let tag = mac.finalize().into_bytes();
            out.extend_from_slice(&tag[..self.tag_len]);
        }
    }

    fn unprotect(&mut self, wire: &[Vec<u8>], scratch: &mut Vec<u8>) {
        for (n, packet) in (0..).zip(wire) {
            scratch.clear();
            scratch.extend_from_slice(packet);
            let body = scratch.len() - self.tag_len;
            let mut mac = self.mac.clone();
            mac.update(&scratch[..body]);
            mac.update(&0u32.to_be_bytes());
            let _ = black_box(mac.verify_truncated_left(&scratch[body..]));
            self.ctr(n, &mut scratch[12..body]);
        }
    }
}

struct Webrtc {
    tx: webrtc_srtp::context::Context,
    rx: webrtc_srtp::context::Context,
}

impl Subject for Webrtc {
    fn protect(&mut self, template: &[u8], first: u64, wire: &mut [Vec<u8>]) {
        let mut plain = Vec::new();
        for (n, out) in (first..).zip(wire.iter_mut()) {
            fill(&mut plain, template, n);
            let protected = self.tx.encrypt_rtp(&plain).expect("encrypt");
            out.clear();
            out.extend_from_slice(&protected);
        }
    }

    fn unprotect(&mut self, wire: &[Vec<u8>], _scratch: &mut Vec<u8>) {
        for packet in wire {
            black_box(self.rx.decrypt_rtp(packet).expect("decrypt"));
        }
    }
}

fn keys(suite: SrtpSuite) -> SrtpKeys {
    let master: Vec<u8> = (1..=suite.master_len() as u8).collect();
    SrtpKeys::new(suite, &master).expect("key length")
}

fn ours(suite: SrtpSuite) -> Ours {
    let keys = keys(suite);
    Ours {
        tx: SrtpContext::new(&keys).expect("context"),
        rx: SrtpContext::new(&keys).expect("context"),
    }
}

fn raw(suite: SrtpSuite) -> Box<dyn Subject> {
    let key = vec![7u8; suite.key_len()];
    if suite.is_aead() {
        let alg = if suite.key_len() == 16 {
            &AES_128_GCM
        } else {
            &AES_256_GCM
        };
        return Box::new(RawGcm {
            key: LessSafeKey::new(UnboundKey::new(alg, &key).expect("key")),
        });
    }
    let aes = if suite.key_len() == 16 {
        Aes::A128(aes::Aes128Enc::new_from_slice(&key).expect("key"))
    } else {
        Aes::A256(aes::Aes256Enc::new_from_slice(&key).expect("key"))
    };
    let mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&[9; 20]).expect("key");
    Box::new(RawCm {
        aes,
        mac,
        tag_len: suite.rtp_tag_len(),
    })
}

fn webrtc(suite: SrtpSuite) -> Webrtc {
    use webrtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
    use webrtc_srtp::protection_profile::ProtectionProfile as P;
    let profile = match suite {
        SrtpSuite::AesCm128HmacSha1_80 => P::Aes128CmHmacSha1_80,
        SrtpSuite::AesCm128HmacSha1_32 => P::Aes128CmHmacSha1_32,
        SrtpSuite::AesCm256HmacSha1_80 => P::Aes256CmHmacSha1_80,
        SrtpSuite::AesCm256HmacSha1_32 => P::Aes256CmHmacSha1_32,
        SrtpSuite::AeadAes128Gcm => P::AeadAes128Gcm,
        SrtpSuite::AeadAes256Gcm => P::AeadAes256Gcm,
    };
    let keys = keys(suite);
    let make = || {
        webrtc_srtp::context::Context::new(
            keys.master_key(),
            keys.master_salt(),
            profile,
            Some(srtp_replay_protection(128)),
            Some(srtcp_replay_protection(128)),
        )
        .expect("webrtc-srtp context")
    };
    Webrtc {
        tx: make(),
        rx: make(),
    }
}

/// Best protect and unprotect rates of each subject over interleaved rounds.
fn measure(subjects: &mut [&mut dyn Subject], payload: usize) -> Vec<(f64, f64)> {
    let template = template(payload);
    let mut wire: Vec<Vec<u8>> = (0..PACKETS)
        .map(|_| Vec::with_capacity(template.len() + 32))
        .collect();
    let mut scratch = Vec::with_capacity(template.len() + 32);
    let mut best = vec![(0.0f64, 0.0f64); subjects.len()];
    let mut first = 0u64;
    for _ in 0..ROUNDS {
        for (subject, best) in subjects.iter_mut().zip(best.iter_mut()) {
            let start = Stopwatch::start();
            subject.protect(&template, first, &mut wire);
            best.0 = best.0.max(pps(start.elapsed()));
            let start = Stopwatch::start();
            subject.unprotect(&wire, &mut scratch);
            best.1 = best.1.max(pps(start.elapsed()));
        }
        first += PACKETS as u64;
    }
    best
}

fn ratios() {
    println!(
        "suite payload | ours protect/unprotect | raw | webrtc-srtp 0.17.2   (packets/s of {}, best of {ROUNDS} x {PACKETS})",
        Stopwatch::kind()
    );
    for payload in [160, 80] {
        for suite in SrtpSuite::ALL {
            let (mut ours, mut raw, mut webrtc) = (ours(suite), raw(suite), webrtc(suite));
            let rates = measure(&mut [&mut ours, raw.as_mut(), &mut webrtc], payload);
            let k = |r: f64| format!("{:.0}k", r / 1000.0);
            println!(
                "{suite} {payload}B | {} / {} | {} / {} | {} / {}",
                k(rates[0].0),
                k(rates[0].1),
                k(rates[1].0),
                k(rates[1].1),
                k(rates[2].0),
                k(rates[2].1)
            );
            println!(
                "ratio {suite} {payload} protect={:.2} unprotect={:.2} (webrtc-srtp: protect={:.2} unprotect={:.2})",
                rates[0].0 / rates[1].0,
                rates[0].1 / rates[1].1,
                rates[2].0 / rates[1].0,
                rates[2].1 / rates[1].1
            );
        }
    }
}

fn criterion_group(c: &mut Criterion) {
    let mut group = c.benchmark_group("srtp_160B");
    group
        .measurement_time(Duration::from_secs(1))
        .warm_up_time(Duration::from_millis(300));
    let template = template(160);
    for suite in SrtpSuite::ALL {
        let mut ctx = ours(suite);
        let mut n = 0u64;
        let mut buf = Vec::with_capacity(256);
        group.bench_function(format!("protect {suite}"), |b| {
            b.iter(|| {
                n += 1;
                fill(&mut buf, &template, n);
                ctx.tx.protect_rtp_in_place(&mut buf).expect("protect");
            })
        });
    }
    group.finish();
}

/// The `--count` mode (see the module documentation).
fn count(args: &[String]) {
    let usage = "--count SUITE ours|raw|harness protect|both PAYLOAD N";
    let [suite, subject, op, payload, n] = args else {
        panic!("usage: {usage}");
    };
    let suite = SrtpSuite::from_sdes_name(suite).expect("an SDES suite name");
    let payload: usize = payload.parse().expect("payload size");
    let n: usize = n.parse().expect("packet count");
    let mut ours_subject = ours(suite);
    let mut raw_subject = raw(suite);
    let subject: &mut dyn Subject = match subject.as_str() {
        "ours" => &mut ours_subject,
        "raw" => raw_subject.as_mut(),
        "harness" => &mut Harness,
        other => panic!("{other}: {usage}"),
    };
    let template = template(payload);
    let mut wire: Vec<Vec<u8>> = (0..n)
        .map(|_| Vec::with_capacity(template.len() + 32))
        .collect();
    let mut scratch = Vec::with_capacity(template.len() + 32);
    subject.protect(&template, 0, &mut wire);
    if op == "both" {
        subject.unprotect(&wire, &mut scratch);
    }
    black_box(&wire);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--count") {
        count(args.get(at + 1..).unwrap_or_default());
        return;
    }
    // `cargo bench` passes --bench; `cargo test --benches` does not: there criterion checks
    // each benchmark once, and the ratio table (seconds of optimized work) is skipped.
    if std::env::args().any(|a| a == "--bench") {
        ratios();
    }
    let mut c = Criterion::default().configure_from_args();
    criterion_group(&mut c);
    c.final_summary();
}
