//! How many simultaneous Opus (complexity 5) + SRTP calls this machine carries with no late
//! or lost packet and no gap in the played audio, both ends on this machine (a Lockphone
//! callee answering a Lockphone caller's loop, one process, TLS + SDES-SRTP), next to the
//! bound that Opus encoding and decoding alone put on the same cores, measured in the same
//! run with the same signal (the 440 Hz tone the calls send).
//!
//! Bound: each call costs, every 20 ms, two encodes and two decodes (one each way), so
//! `cores × 20 ms ÷ (2 × (encode + decode))` calls would saturate the cores with codec work
//! alone. The capacity is searched by doubling the number of calls until a trial fails, then
//! halving the interval; a trial runs N calls at once for a few seconds and passes when every
//! call on both sides was answered, lost no packet, got none late, and played its audio
//! without a gap. The result is printed as a ratio to the bound (the goal is ≥ 0.9).
//!
//! ```sh
//! cargo bench --bench call_capacity
//! ```
//! Knobs: `LOCKPHONE_BENCH_CALL_SECS` (5, each trial's call length), `LOCKPHONE_BENCH_START`
//! (8, the first trial's calls). Under `cargo test --all-targets` (no `--bench` argument) it
//! runs one 1 s trial of 2 calls, to prove it works. Other load on the machine lowers the capacity: run it on an
//! idle machine.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod support;

use std::time::{Duration, Instant};

use lockphone::call::{CallOptions, CallSummary};
use lockphone::harness::{CallLoop, CallReport, CallResult, LoopOptions};
use lockphone::media::AudioIn;
use lockphone_media::audio::{AudioSource, FRAME_SAMPLES, Frame, ToneSource};
use lockphone_media::codec::{CodecConfig, OpusConfig};
use support::{Pair, benchmarking, by_mode, knob, start_pair};

const COMPLEXITY: u8 = 5;
const TONE_HZ: f64 = 440.0;
/// The level of Lockphone's test tone (−12 dBFS), so the bound is measured on the signal the
/// calls really encode.
const TONE_AMPLITUDE: f64 = 0.25;

fn opus() -> OpusConfig {
    OpusConfig {
        complexity: COMPLEXITY,
        ..OpusConfig::default()
    }
}

/// Encode and decode time per 20 ms frame (best of 5 rounds of 500 frames), single-threaded.
fn opus_cost() -> (Duration, Duration) {
    let config = CodecConfig::Opus(opus());
    let mut tone = ToneSource::new(TONE_HZ, TONE_AMPLITUDE);
    let frames: Vec<[i16; FRAME_SAMPLES]> = (0..500)
        .map(|_| {
            let mut frame = Frame::silence();
            tone.read_frame(&mut frame).unwrap();
            *frame.samples()
        })
        .collect();
    let (mut best_enc, mut best_dec) = (Duration::MAX, Duration::MAX);
    for _ in 0..5 {
        let mut encoder = config.encoder().unwrap();
        let mut decoder = config.decoder().unwrap();
        let mut packets = Vec::with_capacity(frames.len());
        let t = Instant::now();
        for frame in &frames {
            let mut out = Vec::with_capacity(400);
            encoder.encode(frame, &mut out).unwrap();
            packets.push(out);
        }
        let enc = t.elapsed() / frames.len() as u32;
        let mut out = [0i16; FRAME_SAMPLES];
        let t = Instant::now();
        for packet in &packets {
            decoder
                .decode(std::hint::black_box(packet), &mut out)
                .unwrap();
        }
        let dec = t.elapsed() / frames.len() as u32;
        std::hint::black_box(&out);
        best_enc = best_enc.min(enc);
        best_dec = best_dec.min(dec);
    }
    (best_enc, best_dec)
}

/// What went wrong in one side's media of a call, if anything.
fn media_fault(lost: i64, late: u64, gaps: u64, received: u64) -> Option<String> {
    (lost != 0 || late != 0 || gaps != 0 || received == 0)
        .then(|| format!("lost {lost}, late {late}, gap frames {gaps}, received {received}"))
}

fn caller_fault(report: &CallReport, secs: f64) -> Option<String> {
    if report.result != CallResult::Ok || !report.encrypted {
        return Some(format!(
            "caller call {}: {:?} {}",
            report.index,
            report.result,
            report.failure.as_ref().map_or("", |f| f.reason.as_str())
        ));
    }
    let media = report.media.as_ref()?;
    // The pacer must have kept time: one frame per 20 ms of the call.
    let expected = (secs * 50.0 * 0.95) as u64;
    if media.audio.frames < expected {
        return Some(format!(
            "caller: {} frames, expected ≥ {expected}",
            media.audio.frames
        ));
    }
    media_fault(
        media.lost,
        media.late,
        media.audio.gap_frames,
        media.packets_received,
    )
    .map(|f| format!("caller call {}: {f}", report.index))
}

fn callee_fault(summary: &CallSummary) -> Option<String> {
    let Some(media) = &summary.media else {
        return Some(format!("callee call {}: no media", summary.call));
    };
    let s = &media.stats;
    media_fault(s.lost, s.late, s.audio.gap_frames, s.packets_received)
        .map(|f| format!("callee call {}: {f}", summary.call))
}

/// Runs `n` calls at once for `secs`; the first faults found (empty: passed).
async fn trial(pair: &mut Pair, n: u32, secs: f64) -> Vec<String> {
    let mut options = LoopOptions::new(&pair.target, n, n, Duration::from_secs_f64(secs));
    options.call.play = AudioIn::Tone {
        frequency_hz: TONE_HZ,
    };
    options.call.opus = Some(opus());
    options.setup_timeout = Duration::from_secs(20);
    let mut faults = Vec::new();
    let mut calls = CallLoop::new(&mut pair.caller, options);
    while let Some(report) = calls.next_report().await {
        if let Some(fault) = caller_fault(&report, secs) {
            faults.push(fault);
        }
    }
    let summary = calls.summary();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut callee_calls = 0;
    while callee_calls < summary.ok {
        match tokio::time::timeout_at(deadline, pair.callee_ended.recv()).await {
            Ok(Some(summary)) => {
                callee_calls += 1;
                if let Some(fault) = callee_fault(&summary) {
                    faults.push(fault);
                }
            }
            _ => {
                faults.push(format!("the callee ended only {callee_calls} calls"));
                break;
            }
        }
    }
    let setup = summary.setup_ms.map_or(0.0, |s| s.p99);
    println!(
        "call_capacity: {n:4} calls: {} (setup p99 {setup:.0} ms, MOS {:.2}){}",
        if faults.is_empty() { "pass" } else { "FAIL" },
        summary.mean_mos.unwrap_or(0.0),
        faults.first().map_or(String::new(), |f| format!(
            ": {} faults, first: {f}",
            faults.len()
        ))
    );
    faults
}

#[tokio::main]
async fn main() {
    let secs: f64 = knob("LOCKPHONE_BENCH_CALL_SECS", by_mode(5.0, 1.0));
    let start: u32 = knob("LOCKPHONE_BENCH_START", by_mode(8, 2));
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let (enc, dec) = opus_cost();
    let per_call = 2.0 * (enc + dec).as_secs_f64();
    let bound = cores * 0.020 / per_call;
    println!(
        "call_capacity: Opus complexity {COMPLEXITY}: encode {:.1} µs + decode {:.1} µs per frame; \
         2 of each per call per 20 ms on {cores} cores → bound {bound:.1} calls",
        enc.as_secs_f64() * 1e6,
        dec.as_secs_f64() * 1e6,
    );
    let answer = CallOptions {
        play: AudioIn::Tone {
            frequency_hz: TONE_HZ,
        },
        opus: Some(opus()),
        ..CallOptions::default()
    };
    let mut pair = start_pair("codecs = [\"opus\"]", answer).await;
    if !benchmarking() {
        // `cargo test --all-targets`: one short trial proves the benchmark runs.
        let failures = trial(&mut pair, start, secs).await;
        println!("call_capacity (test mode): {start} calls, failures: {failures:?}");
        pair.caller.shutdown().await;
        pair.callee_task.abort();
        return;
    }
    let ceiling = (bound * 3.0).max(f64::from(start)) as u32;
    let (mut good, mut bad): (u32, Option<u32>) = (0, None);
    let mut n = start;
    loop {
        let passed = trial(&mut pair, n, secs).await.is_empty();
        // Let the last calls' transactions and sockets go before the next trial.
        tokio::time::sleep(Duration::from_secs(2)).await;
        if passed {
            good = good.max(n);
        } else {
            bad = Some(bad.map_or(n, |b| b.min(n)));
        }
        n = match bad {
            None if n >= ceiling => break,
            None => (n * 2).min(ceiling),
            Some(b) if b <= good + (good / 20).max(1) => break,
            Some(b) => good + (b - good) / 2,
        };
        if n == 0 {
            break;
        }
    }
    let (enc2, dec2) = opus_cost();
    println!(
        "call_capacity: Opus cost again after the search: encode {:.1} µs + decode {:.1} µs",
        enc2.as_secs_f64() * 1e6,
        dec2.as_secs_f64() * 1e6
    );
    println!(
        "call_capacity: {good} simultaneous Opus (complexity {COMPLEXITY}) + SRTP calls carried \
         with no late or lost packet (first failure at {}); Opus alone bounds it at {bound:.1}: \
         ratio {:.2} (goal ≥ 0.90)",
        bad.map_or("none found".to_owned(), |b| b.to_string()),
        f64::from(good) / bound
    );
    pair.caller.shutdown().await;
    pair.callee_task.abort();
}
