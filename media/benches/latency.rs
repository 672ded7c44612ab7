//! The latency the media pipeline adds from capture to playout, measured end to end.
//!
//! Two pipelines (SRTP AES-128-GCM) are connected by an in-memory loop with no network delay
//! or jitter. The sender captures 1 kHz tone bursts with sharp onsets; capture frame `k`
//! (samples `960k…960k+959`) is pushed when complete, at `(k+1) × 20 ms`. The receiver's
//! output is timed like a sound card's that asks for audio every `period` (20, 10 or 5 ms):
//! pull `m` happens at `(m+1) × period + phase` and its samples start playing then. With a
//! 20 ms period that is [`MediaPipeline::pull_playout_frame`]; shorter periods use
//! [`MediaPipeline::pull_playout_samples`], which takes the next frame from the jitter
//! buffer at the first pull after the previous one has played out. The latency of a burst
//! is when its onset is heard minus when it was spoken. It is made of:
//!
//! - the 20 ms framing (a frame is sent when its last sample is captured),
//! - the codec: encoder look-ahead (Opus 6.5 ms; G.711 none) and the 48 ↔ 8 kHz filters,
//! - the jitter buffer's minimum target: one frame, i.e. no wait beyond the frame itself,
//! - the wait from arrival to the next playout pull, set by the phase between the two
//!   independent clocks: 0 … period − 1 ms.
//!
//! For each codec and period it prints the latency at phase 0, the mean and the worst over
//! every phase (1 ms steps), then the figure at [`PLAYOUT_PERIOD`], the period the call
//! driver (`src/media/driver.rs`) pulls playout in. The goal is ≤ 40 ms at the worst phase.

use std::time::{Duration, Instant};

use lockphone_media::audio::{FRAME_DURATION, FRAME_SAMPLES, PLAYOUT_PERIOD};
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

/// Mean capture-to-playout latency of the bursts, and the jitter buffer's delay, for an
/// output pulling `period` of audio at `(m+1)·period + phase`.
fn latency(codec: Codec, period: Duration, phase: Duration) -> (Duration, Duration) {
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
    let pull = FRAME_SAMPLES * period.as_millis() as usize / 20;
    let mut heard = vec![0i16; frames * FRAME_SAMPLES];
    let mut pulled = 0;
    let mut next_pull = t0 + period + phase;
    let mut pull_until = |rx: &mut MediaPipeline, until: Instant, inclusive: bool| {
        while (next_pull < until || (inclusive && next_pull == until))
            && pulled + pull <= heard.len()
        {
            let out = &mut heard[pulled..pulled + pull];
            if pull == FRAME_SAMPLES {
                out.copy_from_slice(rx.pull_playout_frame(next_pull).samples());
            } else {
                rx.pull_playout_samples(next_pull, out);
            }
            pulled += pull;
            next_pull += period;
        }
    };
    // Events in time order; a capture and a pull at the same instant: capture first.
    for k in 0..frames as u32 {
        let at = t0 + FRAME_DURATION * (k + 1);
        pull_until(&mut rx, at, false);
        let frame: [i16; FRAME_SAMPLES] =
            std::array::from_fn(|s| input_sample(k as usize * FRAME_SAMPLES + s));
        tx.push_capture_frame(at, &frame)
            .expect("encodes and protects");
        while let Some(t) = tx.poll_transmit() {
            rx.handle_packet(at, &t.data);
        }
        pull_until(&mut rx, at, true);
    }
    heard.truncate(pulled);
    let spoken: Vec<usize> = (0..frames * FRAME_SAMPLES / BURST_EVERY)
        .map(|b| b * BURST_EVERY)
        .collect();
    let mut total = 0.0;
    let mut n = 0.0;
    for &on in &onsets(&heard) {
        // Output sample n plays at n/48k + period + phase; the burst was spoken at its index.
        let played = on as f64 / RATE + period.as_secs_f64() + phase.as_secs_f64();
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
    let driver_ms = PLAYOUT_PERIOD.as_millis() as u64;
    let mut at_driver_period = Vec::new();
    for codec in [Codec::Pcmu, Codec::Opus] {
        let lookahead = CodecConfig::default_for(codec)
            .encoder()
            .map(|e| e.lookahead())
            .unwrap_or_default();
        let mut periods = vec![20u64, 10, 5];
        if !periods.contains(&driver_ms) {
            periods.push(driver_ms);
        }
        for period_ms in periods {
            let period = Duration::from_millis(period_ms);
            let runs: Vec<(u64, f64, f64)> = (0..period_ms)
                .map(|p| {
                    let (lat, jb) = latency(codec, period, Duration::from_millis(p));
                    (p, ms(lat), ms(jb))
                })
                .collect();
            let (_, at_zero, jb) = runs[0];
            let mean = runs.iter().map(|r| r.1).sum::<f64>() / runs.len() as f64;
            let (worst_phase, worst, _) = runs
                .iter()
                .copied()
                .fold((0, f64::MIN, 0.0), |w, r| if r.1 > w.1 { r } else { w });
            let codec_part = at_zero - ms(FRAME_DURATION);
            println!(
                "latency {codec}, output period {period_ms} ms: phase 0 → {at_zero:.1} ms, mean {mean:.1} ms, \
                 worst {worst:.1} ms (phase {worst_phase} ms) = framing 20 + codec {codec_part:.1} \
                 (encoder look-ahead {:.1}) + wait for the pull ≤ {} ms; jitter buffer {jb:.0} ms \
                 deep incl. the frame played; goal ≤ 40 ms at the worst phase: {}",
                ms(lookahead),
                period_ms - 1,
                if worst <= 40.0 { "met" } else { "NOT met" }
            );
            if period_ms == driver_ms {
                at_driver_period.push((codec, mean, worst));
            }
        }
    }
    for (codec, mean, worst) in at_driver_period {
        println!(
            "latency {codec} in a call (the driver pulls playout every {driver_ms} ms): \
             worst phase {worst:.1} ms, mean {mean:.1} ms; goal ≤ 40 ms: {}",
            if worst <= 40.0 { "met" } else { "NOT met" }
        );
    }
}
