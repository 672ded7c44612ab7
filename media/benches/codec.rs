//! Codec cost per 20 ms frame, and how many duplex calls one core could carry.
//!
//! For Opus (48 kHz mono, 32 kbit/s, VoIP) at complexity 5 and 10, with and without in-band
//! FEC planned for 10 % loss, this measures encode and decode time per frame, best of several
//! rounds, and prints
//! `opus <config>: encode X µs, decode Y µs, PLC Z µs, enc+dec W µs → N duplex streams per core`
//! where N = 20 ms ÷ (encode + decode). G.711 (µ-law, with its 48 ↔ 8 kHz filters) runs in
//! the same process as the baseline, and each Opus line gives its cost as a ratio to it.
//! A short criterion group follows for the record.
//!
//! Input: the WAV file named by `LOCKPHONE_BENCH_SPEECH` (any rate; looped to 20 s), else a
//! synthetic voiced signal (harmonics under three formants, a wandering pitch, syllables and
//! pauses). Use real speech for figures that mean something: libopus picks its mode (SILK,
//! hybrid, CELT) from the signal, and from complexity 7 up a classifier may take a synthetic
//! signal for music and choose the cheaper CELT. For example
//! `espeak-ng -w speech.wav "…"; LOCKPHONE_BENCH_SPEECH=speech.wav cargo bench --bench codec`.

mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::Criterion;
use lockphone_media::audio::{AudioSource, FRAME_SAMPLES, Frame, WavSource};
use lockphone_media::codec::{
    AudioDecoder, AudioEncoder, CodecConfig, G711Decoder, G711Encoder, G711Law, OpusConfig,
};

/// Frames per round: 20 s of audio.
const FRAMES: usize = 1000;
/// Rounds (the best counts).
const ROUNDS: usize = 5;

use support::Stopwatch;

/// A deterministic voice-like signal: a pitch of 100–160 Hz, harmonics shaped by formants at
/// 700, 1200 and 2600 Hz, 4 Hz syllables, and a pause every 1.5 s.
fn voice(frames: usize) -> Vec<[i16; FRAME_SAMPLES]> {
    let rate = 48_000.0;
    let mut phase = 0.0f64;
    let mut noise = 0x1234_5678u32;
    (0..frames)
        .map(|f| {
            std::array::from_fn(|i| {
                let t = (f * FRAME_SAMPLES + i) as f64 / rate;
                let f0 = 130.0 + 30.0 * (std::f64::consts::TAU * 0.7 * t).sin();
                phase += f0 / rate;
                let mut x = 0.0;
                for k in 1..=30 {
                    let fk = f0 * f64::from(k);
                    let formant = |c: f64, bw: f64| 1.0 / (1.0 + ((fk - c) / bw).powi(2));
                    let gain = formant(700.0, 150.0)
                        + 0.6 * formant(1200.0, 200.0)
                        + 0.3 * formant(2600.0, 300.0);
                    x += gain * (std::f64::consts::TAU * phase * f64::from(k)).sin();
                }
                noise = noise.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                x += 0.02 * (f64::from(noise >> 16) / 32768.0 - 1.0);
                let syllable = (std::f64::consts::TAU * 4.0 * t).sin().abs();
                let talking = if t % 1.5 < 1.2 { 1.0 } else { 0.0 };
                (x * syllable * talking * 3000.0).clamp(-32768.0, 32767.0) as i16
            })
        })
        .collect()
}

/// `frames` frames of the speech file in `LOCKPHONE_BENCH_SPEECH` (looped), if set.
fn speech(frames: usize) -> Option<(String, Vec<[i16; FRAME_SAMPLES]>)> {
    let path = std::env::var("LOCKPHONE_BENCH_SPEECH").ok()?;
    let mut source = WavSource::open(&path, true)
        .map_err(|e| eprintln!("LOCKPHONE_BENCH_SPEECH: {e}"))
        .ok()?;
    let mut frame = Frame::silence();
    let mut out = Vec::with_capacity(frames);
    while out.len() < frames && source.read_frame(&mut frame).ok()? {
        out.push(*frame.samples());
    }
    (out.len() == frames).then_some((path, out))
}

/// Best-of-rounds (encode, decode, conceal) time per frame.
fn measure(
    mut encoder: Box<dyn AudioEncoder>,
    mut decoder: Box<dyn AudioDecoder>,
    input: &[[i16; FRAME_SAMPLES]],
    rounds: usize,
) -> (Duration, Duration, Duration) {
    let mut packets: Vec<Vec<u8>> = vec![Vec::with_capacity(1500); input.len()];
    let mut out = [0i16; FRAME_SAMPLES];
    let per_frame = |d: Duration| d / u32::try_from(input.len()).unwrap_or(1);
    let (mut enc, mut dec, mut plc) = (Duration::MAX, Duration::MAX, Duration::MAX);
    for _ in 0..rounds {
        let start = Stopwatch::start();
        for (frame, packet) in input.iter().zip(packets.iter_mut()) {
            encoder
                .encode(black_box(frame), packet)
                .expect("a 20 ms frame encodes");
        }
        enc = enc.min(per_frame(start.elapsed()));
        let start = Stopwatch::start();
        for packet in &packets {
            if packet.is_empty() {
                decoder.conceal(&mut out).expect("concealment works");
            } else {
                decoder
                    .decode(black_box(packet), &mut out)
                    .expect("our own packets decode");
            }
        }
        dec = dec.min(per_frame(start.elapsed()));
        let start = Stopwatch::start();
        for _ in 0..input.len() {
            decoder.conceal(&mut out).expect("concealment works");
        }
        plc = plc.min(per_frame(start.elapsed()));
        black_box(&out);
    }
    (enc, dec, plc)
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn summary(frames: usize, rounds: usize) {
    let input = match speech(frames) {
        Some((path, input)) => {
            println!(
                "input: {path}, {} s looped; times are {}",
                frames / 50,
                Stopwatch::kind()
            );
            input
        }
        None => {
            println!(
                "input: synthetic voice, {} s (set LOCKPHONE_BENCH_SPEECH for speech); times are {}",
                frames / 50,
                Stopwatch::kind()
            );
            voice(frames)
        }
    };
    let (g_enc, g_dec, _) = measure(
        Box::new(G711Encoder::new(G711Law::MuLaw)),
        Box::new(G711Decoder::new(G711Law::MuLaw)),
        &input,
        rounds,
    );
    let baseline = g_enc + g_dec;
    println!(
        "baseline g711 (µ-law + 48↔8 kHz filters): encode {:.1} µs, decode {:.1} µs per frame",
        micros(g_enc),
        micros(g_dec)
    );
    for (complexity, fec) in [(5u8, false), (10, false), (5, true), (10, true)] {
        let config = OpusConfig {
            complexity,
            fec,
            expected_loss: if fec { 10 } else { 0 },
            ..OpusConfig::default()
        };
        let codec = CodecConfig::Opus(config);
        let (enc, dec, plc) = measure(
            codec.encoder().expect("valid settings"),
            codec.decoder().expect("valid settings"),
            &input,
            rounds,
        );
        let both = enc + dec;
        let streams = 20_000.0 / micros(both);
        println!(
            "opus complexity {complexity:>2}{}: encode {:.1} µs, decode {:.1} µs, PLC {:.1} µs, \
             enc+dec {:.1} µs → {:.0} duplex streams per core ({:.1}× g711)",
            if fec { " + FEC@10%" } else { "          " },
            micros(enc),
            micros(dec),
            micros(plc),
            micros(both),
            streams,
            both.as_secs_f64() / baseline.as_secs_f64()
        );
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` does not: keep that run short.
    let full = std::env::args().any(|a| a == "--bench");
    let (frames, rounds) = if full { (FRAMES, ROUNDS) } else { (50, 1) };
    summary(frames, rounds);

    let mut c = Criterion::default().configure_from_args();
    let input = speech(50).map_or_else(|| voice(50), |(_, input)| input);
    for complexity in [5u8, 10] {
        let codec = CodecConfig::Opus(OpusConfig {
            complexity,
            ..OpusConfig::default()
        });
        let mut encoder = codec.encoder().expect("valid settings");
        let mut packet = Vec::with_capacity(1500);
        let mut i = 0;
        c.bench_function(&format!("opus encode c{complexity}"), |b| {
            b.iter(|| {
                i = (i + 1) % input.len();
                encoder
                    .encode(black_box(&input[i]), &mut packet)
                    .expect("a 20 ms frame encodes");
            })
        });
    }
    c.final_summary();
}
