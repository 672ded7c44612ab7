use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::audio::{FRAME_SAMPLES, test_epoch};
use crate::codec::CodecError;

const MS: Duration = Duration::from_millis(1);

/// A decoder whose output says what happened: a decoded frame is filled with the payload's
/// first byte, a FEC frame with minus the next payload's first byte (when its second byte is
/// 1), a concealed frame with -1000.
struct Probe;

const CONCEALED: i16 = -1000;

impl AudioDecoder for Probe {
    fn codec(&self) -> Codec {
        Codec::Opus
    }
    fn decode(&mut self, payload: &[u8], out: &mut [i16; FRAME_SAMPLES]) -> Result<(), CodecError> {
        match payload.first() {
            Some(&0xEE) | None => Err(CodecError::Config("probe refuses")),
            Some(&v) => {
                out.fill(i16::from(v));
                Ok(())
            }
        }
    }
    fn decode_fec(
        &mut self,
        next: &[u8],
        out: &mut [i16; FRAME_SAMPLES],
    ) -> Result<bool, CodecError> {
        match next {
            [v, 1, ..] => {
                out.fill(-i16::from(*v));
                Ok(true)
            }
            _ => Ok(false),
        }
    }
    fn conceal(&mut self, out: &mut [i16; FRAME_SAMPLES]) -> Result<(), CodecError> {
        out.fill(CONCEALED);
        Ok(())
    }
}

fn buffer() -> JitterBuffer {
    JitterBuffer::new(JitterConfig::for_codec(Codec::Opus), Box::new(Probe))
}

fn payload(seq: u16, fec: bool) -> [u8; 2] {
    [seq as u8, u8::from(fec)]
}

/// Runs `ticks` playout ticks 20 ms apart; before each tick, pushes every packet whose arrival
/// (relative to t0) is due. Returns (kind, first sample) per tick.
fn simulate(jb: &mut JitterBuffer, arrivals: &[Arrival], ticks: u32) -> Vec<(FrameKind, i16)> {
    let t0 = test_epoch();
    let mut sorted = arrivals.to_vec();
    sorted.sort_by_key(|a| a.0);
    let mut pending = sorted.into_iter().peekable();
    (0..ticks)
        .map(|i| {
            let now = t0 + FRAME_DURATION * i;
            while let Some(&(at, seq, ts, fec)) = pending.peek() {
                if t0 + at > now {
                    break;
                }
                jb.push(t0 + at, seq, ts, &payload(seq, fec));
                pending.next();
            }
            let frame = jb.pop_frame(now);
            (frame.kind(), frame.samples()[0])
        })
        .collect()
}

/// Arrival time (from t0), sequence number, RTP timestamp, carries FEC.
type Arrival = (Duration, u16, u32, bool);

/// One packet every 20 ms from t0, timestamps 960 apart.
fn regular(seqs: impl Iterator<Item = u16>) -> Vec<Arrival> {
    seqs.enumerate()
        .map(|(i, s)| (FRAME_DURATION * i as u32, s, i as u32 * 960, false))
        .collect()
}

#[test]
fn steady_stream_plays_in_order_at_the_minimum_delay() {
    let mut jb = buffer();
    let out = simulate(&mut jb, &regular(1..=100), 100);
    for (i, &(kind, v)) in out.iter().enumerate() {
        assert_eq!(kind, FrameKind::Audio, "tick {i}");
        assert_eq!(v, i16::from((i + 1) as u8));
    }
    let s = jb.stats();
    assert_eq!(s.decoded, 100);
    assert_eq!(
        (s.concealed, s.late, s.duplicate, s.discarded),
        (0, 0, 0, 0)
    );
    assert!((s.delay_ms - 20.0).abs() < 0.01);
    assert_eq!(s.target_ms, 20.0);
    assert!(s.jitter_ms < 0.01);
}

#[test]
fn reorders_packets_that_arrive_before_their_turn() {
    let mut jb = buffer();
    // 2 arrives before 1; 4 before 3, in the same tick.
    let arrivals = [(0, 2), (1, 1), (20, 3), (30, 5), (31, 4)];
    let t0 = test_epoch();
    for (at, seq) in arrivals {
        jb.push(
            t0 + at * MS,
            seq,
            u32::from(seq) * 960,
            &payload(seq, false),
        );
    }
    let out: Vec<i16> = (0..5)
        .map(|i| jb.pop_frame(t0 + 40 * MS + FRAME_DURATION * i).samples()[0])
        .collect();
    assert_eq!(out, [1, 2, 3, 4, 5]);
}

#[test]
fn late_and_duplicate_packets_are_dropped_and_counted() {
    let mut jb = buffer();
    let t0 = test_epoch();
    assert_eq!(
        jb.push(t0, 10, 0, &payload(10, false)),
        PushOutcome::Buffered
    );
    assert_eq!(
        jb.push(t0, 10, 0, &payload(10, false)),
        PushOutcome::Duplicate
    );
    assert_eq!(
        jb.push(t0, 12, 1920, &payload(12, false)),
        PushOutcome::Buffered
    );
    assert_eq!(jb.pop_frame(t0).samples()[0], 10);
    assert_eq!(
        jb.push(t0, 10, 0, &payload(10, false)),
        PushOutcome::Duplicate
    );
    // 11 is lost: concealed, then it shows up late.
    assert_eq!(jb.pop_frame(t0 + 20 * MS).samples()[0], CONCEALED);
    assert_eq!(
        jb.push(t0 + 21 * MS, 11, 960, &payload(11, false)),
        PushOutcome::Late
    );
    assert_eq!(jb.pop_frame(t0 + 40 * MS).samples()[0], 12);
    let s = jb.stats();
    assert_eq!((s.late, s.duplicate, s.concealed, s.decoded), (1, 2, 1, 2));
}

#[test]
fn a_lost_frame_is_rebuilt_from_the_next_packets_fec() {
    let mut jb = JitterBuffer::new(
        JitterConfig {
            min_delay: 40 * MS,
            ..JitterConfig::for_codec(Codec::Opus)
        },
        Box::new(Probe),
    );
    // 3 is lost; 4 carries FEC. 7 is lost; 8 carries none.
    let arrivals: Vec<_> = regular(1..=10)
        .into_iter()
        .filter(|a| a.1 != 3 && a.1 != 7)
        .map(|(t, s, ts, _)| (t, s, ts, s == 4))
        .collect();
    // One tick of filling up, then the ten packets' turns.
    let out = simulate(&mut jb, &arrivals, 11);
    let values: Vec<i16> = out
        .iter()
        .filter(|o| o.0 != FrameKind::Silence)
        .map(|o| o.1)
        .collect();
    assert_eq!(values, [1, 2, -4, 4, 5, 6, CONCEALED, 8, 9, 10]);
    let s = jb.stats();
    assert_eq!((s.fec_recovered, s.concealed), (1, 1));
}

#[test]
fn a_delay_spike_is_held_not_lost_and_the_delay_shrinks_back() {
    let mut jb = buffer();
    // Packet 20 and everything after it until 23 come 50 ms late, then on time again.
    let arrivals: Vec<_> = regular(1..=300)
        .into_iter()
        .map(|(t, s, ts, f)| {
            let extra = if (20..23).contains(&s) {
                50 * MS
            } else {
                Duration::ZERO
            };
            (t + extra, s, ts, f)
        })
        .collect();
    let out = simulate(&mut jb, &arrivals, 300);
    let played: Vec<i16> = out
        .iter()
        .filter(|o| o.0 == FrameKind::Audio)
        .map(|o| o.1)
        .collect();
    // Packets 20..=22 were held for (two concealed ticks), not lost.
    assert!(played.contains(&20) && played.contains(&21) && played.contains(&22));
    let s = jb.stats();
    assert_eq!(s.late, 0);
    assert!(s.concealed >= 2 && s.concealed <= 4, "{s:?}");
    // The extra delay is given back, one frame per second at most.
    assert!(s.discarded >= 1, "{s:?}");
    assert!(jb.current_delay() < 30 * MS, "{:?}", jb.current_delay());
    // Every tick produced a full frame of something.
    assert!(out.iter().skip(1).all(|o| o.0 != FrameKind::Silence));
}

#[test]
fn jitter_raises_the_target_and_keeps_late_packets_rare() {
    let mut rng = StdRng::seed_from_u64(7);
    let mut jb = buffer();
    let n = 1500u16;
    let arrivals: Vec<_> = (1..=n)
        .map(|s| {
            let extra = Duration::from_micros(rng.random_range(0..60_000));
            (
                FRAME_DURATION * u32::from(s - 1) + extra,
                s,
                u32::from(s) * 960,
                false,
            )
        })
        .collect();
    let out = simulate(&mut jb, &arrivals, u32::from(n) + 20);
    let s = jb.stats();
    assert!(s.jitter_ms > 12.0 && s.jitter_ms < 30.0, "{s:?}");
    assert!(s.target_ms >= 60.0 && s.target_ms <= 120.0, "{s:?}");
    assert!(s.delay_ms >= 40.0 && s.delay_ms <= 140.0, "{s:?}");
    // After the first seconds of learning, almost nothing is late.
    assert!(s.late < u64::from(n) / 50, "{s:?}");
    assert!(
        out.iter()
            .skip(1)
            .take(usize::from(n) - 10)
            .all(|o| o.0 != FrameKind::Silence)
    );
}

#[test]
fn a_pause_ends_in_silence_and_playout_restarts() {
    let mut jb = buffer();
    // 10 packets, 1 s of nothing (DTX or hold), 10 more.
    let mut arrivals = regular(1..=10);
    // The timestamps keep counting through the pause, as a real sender's do.
    arrivals.extend((11..=20).map(|s| {
        let sent = u32::from(s + 40);
        (FRAME_DURATION * sent, s, sent * 960, false)
    }));
    let out = simulate(&mut jb, &arrivals, 70);
    let kinds: Vec<FrameKind> = out.iter().map(|o| o.0).collect();
    assert!(kinds[..10].iter().all(|&k| k == FrameKind::Audio));
    assert!(
        kinds[10..10 + HOLD_LIMIT as usize]
            .iter()
            .all(|&k| k == FrameKind::Concealed)
    );
    assert!(
        kinds[10 + HOLD_LIMIT as usize..50]
            .iter()
            .all(|&k| k == FrameKind::Silence)
    );
    assert_eq!(out[51].1, 11);
    assert_eq!(jb.stats().decoded, 20);
}

#[test]
fn sequence_numbers_wrap() {
    let mut jb = buffer();
    let seqs = (65_530u16..=65_535).chain(0..10);
    let out = simulate(&mut jb, &regular(seqs), 16);
    assert!(out.iter().all(|o| o.0 == FrameKind::Audio));
    assert_eq!(out[6].1, 0);
    assert_eq!(jb.stats().decoded, 16);
}

#[test]
fn a_sequence_jump_restarts_the_stream() {
    let mut jb = buffer();
    let mut arrivals = regular(1..=5);
    arrivals.extend((0..5).map(|i| {
        (
            FRAME_DURATION * (5 + i),
            30_000 + i as u16,
            7 + i * 960,
            false,
        )
    }));
    let out = simulate(&mut jb, &arrivals, 10);
    assert_eq!(out[4].1, 5);
    assert_eq!(out[5].1, (30_000u16 as u8) as i16);
    assert_eq!(jb.stats().late, 0);
}

#[test]
fn decoder_errors_become_concealment() {
    let mut jb = buffer();
    let t0 = test_epoch();
    jb.push(t0, 1, 0, &[0xEE]);
    let f = jb.pop_frame(t0);
    assert_eq!(
        (f.kind(), f.samples()[0]),
        (FrameKind::Concealed, CONCEALED)
    );
    assert_eq!(jb.stats().decode_errors, 1);
}

#[test]
fn nothing_received_is_silence() {
    let mut jb = buffer();
    let f = jb.pop_frame(test_epoch());
    assert_eq!(f.kind(), FrameKind::Silence);
    assert!(!jb.is_playing());
    assert_eq!(jb.stats().concealed, 0);
}

#[test]
fn after_end_of_stream_it_drains_then_plays_silence_without_concealing() {
    let t0 = test_epoch();
    let mut jb = buffer();
    let tick = |k: u32| t0 + MS * (20 * k);
    for seq in 1..=3u16 {
        jb.push(tick(0), seq, u32::from(seq) * 960, &payload(seq, false));
    }
    jb.end_of_stream();
    assert!(jb.is_ended());
    let kinds: Vec<(FrameKind, i16)> = (0..6)
        .map(|k| {
            let f = jb.pop_frame(tick(k));
            (f.kind(), f.samples()[0])
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (FrameKind::Audio, 1),
            (FrameKind::Audio, 2),
            (FrameKind::Audio, 3),
            (FrameKind::Silence, 0),
            (FrameKind::Silence, 0),
            (FrameKind::Silence, 0),
        ]
    );
    assert_eq!(jb.stats().concealed, 0);
    assert!(!jb.is_playing());
    // A new source starts over.
    jb.reset();
    assert!(!jb.is_ended());
}
