//! The latency the media pipeline adds from capture to playout, measured end to end.
//!
//! Two pipelines (SRTP AES-128-GCM) are connected by an in-memory loop with no network delay
//! or jitter. The sender captures 1 kHz tone bursts with sharp onsets; the receiver's playout
//! is timed like a sound card's: capture frame `k` (samples `960k…960k+959`) is pushed when
//! complete, at `(k+1) × 20 ms`, and playout frame `j` starts playing at `(j+1) × 20 ms +
//! phase`. The latency of a burst is when its onset is heard minus when it was spoken. It is
//! made of the 20 ms framing, the wait in the jitter buffer (0–20 ms depending on the phase
//! between the capture and playout clocks, which are independent in practice), and the
//! codec's look-ahead and filters. For each codec it prints the latency at phase 0, the mean
//! over phases 0–19 ms, and the parts, e.g.
//! `latency opus: phase 0 → 26.5 ms, mean over phases 36.0 ms (framing 20, jitter buffer wait 0–19, codec 6.5 ms)`.
//! The goal is ≤ 40 ms. A G.711 baseline (only its 48 ↔ 8 kHz filters as codec delay) runs
//! in the same process.

use std::time::{Duration, Instant};

use lockphone_media::audio::{FRAME_DURATION, FRAME_SAMPLES};
use lockphone_media::codec::{Codec, CodecConfig};
use lockphone_media::pipeline::{MediaPipeline, MediaSecurity, PipelineConfig};
use lockphone_media::srtp::{SrtpKeys, SrtpSuite};
use rand::SeedableRng;
use rand::rngs::StdRng;

const RATE: f64 = 48_000.0;
/// A burst every 300 ms, 100 ms long.
const BURST_EVERY: usize = 14_400;
const BURST_LEN: usize = 4_800;
const SECONDS: usize = 6;

/// The one clock read of this bench: only differences from it matter.
#[allow(clippy::disallowed_methods)]
fn epoch() -> Instant {
    Instant::now()
}

fn input_sample(i: usize) -> i16 {
    if i % BURST_EVERY < BURST_LEN {
        let t = i as f64 / RATE;
        (12_000.0 * (std::f64::consts::TAU * 1000.0 * t).sin()) as i16
    } else {
        0
    }
}

/// Sample positions where the envelope first crosses half the burst level after a quiet
/// stretch.
fn onsets(x: &[i16]) -> Vec<usize> {
    let mut found = Vec::new();
    let mut quiet = 0usize;
    for (i, &s) in x.iter().enumerate() {
        if s.unsigned_abs() > 6_000 {
            if quiet > 2_400 {
                found.push(i);
            }
            quiet = 0;
        } else {
            quiet += 1;
        }
    }
    found
}

/// Mean capture-to-playout latency of the bursts, with playout `phase` after capture.
fn latency(codec: Codec, phase: Duration) -> (Duration, Duration) {
    let suite = SrtpSuite::AeadAes128Gcm;
    let key = SrtpKeys::new(suite, &[7; 28]).expect("28 bytes is AES-128-GCM key + salt");
    let config = PipelineConfig::new(
        CodecConfig::default_for(codec),
        MediaSecurity::Srtp {
            send: key.clone(),
            receive: key,
        },
    );
    let t0 = epoch();
    let mut rng = StdRng::seed_from_u64(1);
    let mut tx = MediaPipeline::new(config.clone(), t0, &mut rng).expect("valid configuration");
    let mut rx = MediaPipeline::new(config, t0, &mut rng).expect("valid configuration");
    let frames = SECONDS * 50;
    let mut heard = Vec::with_capacity(frames * FRAME_SAMPLES);
    // Events in time order: capture k at (k+1)·20 ms, playout j at (j+1)·20 ms + phase.
    for k in 0..frames as u32 {
        let at = t0 + FRAME_DURATION * (k + 1);
        let frame: [i16; FRAME_SAMPLES] =
            std::array::from_fn(|s| input_sample(k as usize * FRAME_SAMPLES + s));
        tx.push_capture_frame(at, &frame)
            .expect("encodes and protects");
        while let Some(t) = tx.poll_transmit() {
            rx.handle_packet(at, &t.data);
        }
        let play_at = at + phase;
        heard.extend_from_slice(rx.pull_playout_frame(play_at).samples());
    }
    let spoken: Vec<usize> = (0..frames * FRAME_SAMPLES / BURST_EVERY)
        .map(|b| b * BURST_EVERY)
        .collect();
    let mut total = 0.0;
    let mut n = 0.0;
    for &on in &onsets(&heard) {
        // Output sample n plays at n/48k + 20 ms + phase; the burst was spoken at its index.
        let played = on as f64 / RATE + FRAME_DURATION.as_secs_f64() + phase.as_secs_f64();
        if let Some(&said) = spoken.iter().rev().find(|&&s| (s as f64) / RATE <= played) {
            total += played - said as f64 / RATE;
            n += 1.0;
        }
    }
    let stats = rx.stats(t0 + FRAME_DURATION * frames as u32);
    let mean = Duration::from_secs_f64(if n > 0.0 { total / n } else { f64::NAN });
    (
        mean,
        Duration::from_secs_f64(stats.jitter_buffer.delay_ms / 1000.0),
    )
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    for codec in [Codec::Pcmu, Codec::Opus] {
        let lookahead = CodecConfig::default_for(codec)
            .encoder()
            .map(|e| e.lookahead())
            .unwrap_or_default();
        let (at_zero, jb) = latency(codec, Duration::ZERO);
        let phases: Vec<Duration> = (0..20).map(Duration::from_millis).collect();
        let mean =
            phases.iter().map(|&p| ms(latency(codec, p).0)).sum::<f64>() / phases.len() as f64;
        let codec_part = ms(at_zero) - ms(FRAME_DURATION);
        println!(
            "latency {codec}: phase 0 → {:.1} ms, mean over phases 0–19 ms {mean:.1} ms \
             (framing 20 ms, jitter buffer {:.0} ms deep incl. the frame played, wait 0–19 ms by phase, \
             codec {codec_part:.1} ms of which encoder look-ahead {:.1} ms); goal ≤ 40 ms: {}",
            ms(at_zero),
            ms(jb),
            ms(lookahead),
            if mean <= 40.0 { "met" } else { "NOT met" }
        );
    }
}
