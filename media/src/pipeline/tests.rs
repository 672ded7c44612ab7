//! Two pipelines wired together in memory through the impairment stage, in simulated time.

use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand::rngs::StdRng;

use super::*;
use crate::audio::{
    AudioSink, AudioSource, FrameKind, LevelMeter, SilenceSource, ToneSource, test_epoch,
};
use crate::codec::CodecConfig;
use crate::impair::Impairment;
use crate::srtp::{SrtpKeys, SrtpSuite};

const MS: Duration = Duration::from_millis(1);
const TONE_A: f64 = 1000.0;
const TONE_B: f64 = 700.0;

fn keys(suite: SrtpSuite, fill: u8) -> SrtpKeys {
    let material: Vec<u8> = (0..suite.master_len()).map(|i| fill ^ i as u8).collect();
    SrtpKeys::new(suite, &material).unwrap()
}

fn configs(codec: Codec, suite: Option<SrtpSuite>) -> (PipelineConfig, PipelineConfig) {
    let security = |tx: u8, rx: u8| match suite {
        Some(s) => MediaSecurity::Srtp {
            send: keys(s, tx),
            receive: keys(s, rx),
        },
        None => MediaSecurity::PlainRtp,
    };
    let a = PipelineConfig::new(CodecConfig::default_for(codec), security(0x11, 0x22));
    let b = PipelineConfig::new(CodecConfig::default_for(codec), security(0x22, 0x11));
    (a, b)
}

/// One side of a call: its pipeline, what it captures, what it hears.
struct Side {
    pipeline: MediaPipeline,
    source: Box<dyn AudioSource>,
    meter: LevelMeter,
    /// Playout frames since playout started (first non-silence frame), and how many of
    /// those were silence (a gap).
    playing: bool,
    gaps: u64,
    /// Concealed frames in a row just played.
    concealed_run: u32,
    /// All-zero frames that concealment does not explain (anything but the fade-out after
    /// three concealed frames in a row).
    unexplained_zero_frames: u64,
    events: Vec<MediaEvent>,
}

impl Side {
    fn new(config: PipelineConfig, now: Instant, seed: u64, source: Box<dyn AudioSource>) -> Self {
        let pipeline = MediaPipeline::new(config, now, &mut StdRng::seed_from_u64(seed)).unwrap();
        Self {
            pipeline,
            source,
            meter: LevelMeter::new(),
            playing: false,
            gaps: 0,
            concealed_run: 0,
            unexplained_zero_frames: 0,
            events: Vec::new(),
        }
    }
}

/// Two sides and a network in each direction, stepped 1 ms at a time.
struct Pair {
    now: Instant,
    a: Side,
    b: Side,
    a_to_b: Impairment,
    b_to_a: Impairment,
    ticks: u64,
}

impl Pair {
    fn new(a: PipelineConfig, b: PipelineConfig, network: &str) -> Self {
        Self::with_seeds(a, b, network, (1, 2))
    }

    /// Like [`Pair::new`], with the seeds of A's and B's pipelines (SSRC, report times).
    fn with_seeds(a: PipelineConfig, b: PipelineConfig, network: &str, seeds: (u64, u64)) -> Self {
        let now = test_epoch();
        let spec: crate::impair::ImpairmentSpec = network.parse().unwrap();
        let mut reverse = spec.clone();
        reverse.seed = spec.seed.wrapping_add(1);
        Self {
            now,
            a: Side::new(a, now, seeds.0, Box::new(ToneSource::new(TONE_A, 0.5))),
            b: Side::new(b, now, seeds.1, Box::new(ToneSource::new(TONE_B, 0.5))),
            a_to_b: Impairment::new(spec),
            b_to_a: Impairment::new(reverse),
            ticks: 0,
        }
    }

    fn transmit(now: Instant, from: &mut Side, net: &mut Impairment) {
        while let Some(t) = from.pipeline.poll_transmit() {
            net.push(now, t.data);
        }
    }

    fn deliver(now: Instant, net: &mut Impairment, to: &mut Side) {
        while let Some(packet) = net.poll(now) {
            to.pipeline.handle_packet(now, &packet);
        }
        while let Some(e) = to.pipeline.poll_event() {
            to.events.push(e);
        }
    }

    fn play(now: Instant, side: &mut Side) {
        let frame = side.pipeline.pull_playout_frame(now);
        if frame.kind() != FrameKind::Silence {
            side.playing = true;
        } else if side.playing {
            side.gaps += 1;
        }
        if side.playing
            && frame.peak() == 0
            && !(frame.kind() == FrameKind::Concealed && side.concealed_run >= 3)
        {
            side.unexplained_zero_frames += 1;
        }
        side.concealed_run = if frame.kind() == FrameKind::Concealed {
            side.concealed_run + 1
        } else {
            0
        };
        side.meter.write_frame(&frame).unwrap();
    }

    /// Runs for `duration` of simulated time.
    fn run(&mut self, duration: Duration) {
        let end = self.now + duration;
        while self.now < end {
            let now = self.now;
            for side in [&mut self.a, &mut self.b] {
                if side.pipeline.poll_timeout().is_some_and(|t| t <= now) {
                    side.pipeline.handle_timeout(now).unwrap();
                }
            }
            let frame_tick = self.ticks.is_multiple_of(20);
            if frame_tick {
                for side in [&mut self.a, &mut self.b] {
                    let mut frame = Frame::silence();
                    if side.source.read_frame(&mut frame).unwrap() {
                        side.pipeline
                            .push_capture_frame(now, frame.samples())
                            .unwrap();
                    }
                }
            }
            Self::transmit(now, &mut self.a, &mut self.a_to_b);
            Self::transmit(now, &mut self.b, &mut self.b_to_a);
            Self::deliver(now, &mut self.a_to_b, &mut self.b);
            Self::deliver(now, &mut self.b_to_a, &mut self.a);
            if frame_tick {
                Self::play(now, &mut self.a);
                Self::play(now, &mut self.b);
            }
            self.ticks += 1;
            self.now += MS;
        }
    }
}

#[test]
fn a_tone_crosses_every_suite_with_every_codec() {
    for codec in [Codec::Pcmu, Codec::Pcma, Codec::Opus] {
        for suite in SrtpSuite::ALL {
            let (a, b) = configs(codec, Some(suite));
            let mut pair = Pair::new(a, b, "delay=15ms,jitter=5ms,seed=3");
            pair.run(Duration::from_millis(1500));
            let what = format!("{codec} over {suite:?}");
            assert!(
                pair.b.meter.detects_tone(TONE_A),
                "{what}: B did not hear A's tone"
            );
            assert!(
                pair.a.meter.detects_tone(TONE_B),
                "{what}: A did not hear B's tone"
            );
            let found = pair.b.meter.dominant_frequency().unwrap();
            assert!((found - TONE_A).abs() <= 2.0, "{what}: heard {found} Hz");
            let stats = pair.b.pipeline.stats(pair.now);
            assert!(stats.srtp);
            let rx = stats.srtp_rx.unwrap();
            assert_eq!(
                (rx.auth_failures, rx.replays, rx.malformed),
                (0, 0, 0),
                "{what}"
            );
            assert!(rx.unprotected >= 70, "{what}: {rx:?}");
            assert_eq!(stats.jitter_buffer.late, 0, "{what}");
        }
    }
}

#[test]
fn plain_rtp_carries_the_tone_too() {
    let (a, b) = configs(Codec::Opus, None);
    let mut pair = Pair::new(a, b, "");
    pair.run(Duration::from_secs(1));
    assert!(pair.b.meter.detects_tone(TONE_A));
    let stats = pair.b.pipeline.stats(pair.now);
    assert!(!stats.srtp && stats.srtp_rx.is_none());
}

#[test]
fn ten_percent_loss_stays_continuous_and_is_concealed() {
    for codec in [Codec::Pcmu, Codec::Pcma, Codec::Opus] {
        let (a, b) = configs(codec, Some(SrtpSuite::AeadAes128Gcm));
        let mut pair = Pair::new(a, b, "loss=10%,seed=11");
        pair.run(Duration::from_secs(20));
        let stats = pair.b.pipeline.stats(pair.now);
        let jb = stats.jitter_buffer;
        let meter = &pair.b.meter;
        assert_eq!(
            pair.b.gaps, 0,
            "{codec}: silent ticks after playout started"
        );
        assert!(jb.concealed > 0, "{codec}: {jb:?}");
        // Digital silence only where concealment fades out after three lost frames in a row.
        assert_eq!(pair.b.unexplained_zero_frames, 0, "{codec}");
        // About one concealed (or rebuilt) frame per lost packet: holds are not doubled up.
        let lost = pair.a_to_b.stats().lost;
        let made_up = jb.concealed + jb.fec_recovered;
        assert!(
            made_up >= lost && made_up <= lost + lost / 5 + 5,
            "{codec}: {jb:?}, {lost} lost"
        );
        assert!(
            meter.detects_tone(TONE_A),
            "{codec}: {}",
            meter.tone_fraction(TONE_A)
        );
        // Every tick after the first packet gave one full frame: decoded, rebuilt, concealed.
        let played = meter.frames_of(FrameKind::Audio)
            + meter.frames_of(FrameKind::Concealed)
            + meter.frames_of(FrameKind::FecRecovered);
        assert!(played >= 995, "{codec}: only {played} of 1000 ticks played");
        // The far end's reports came back: A knows B sees about 10 % loss.
        let remote = pair.a.pipeline.stats(pair.now).remote.unwrap();
        assert!(
            remote.interval_loss_fraction > 0.03 && remote.interval_loss_fraction < 0.2,
            "{remote:?}"
        );
        assert!(
            (stats.received.loss_fraction - 0.1).abs() < 0.03,
            "{:?}",
            stats.received
        );
        if codec == Codec::Opus {
            // The loss reported in RTCP switched on Opus FEC, and it rebuilt frames.
            assert!(jb.fec_recovered > 10, "{jb:?}");
        } else {
            assert_eq!(jb.fec_recovered, 0);
        }
        // Below a clean call's ≈ 4.4, by less when FEC rebuilt part of the loss.
        let mos = stats.mos.unwrap();
        assert!(mos < 4.3 && mos > 2.0, "{codec}: MOS {mos}");
        eprintln!("{codec} at 10 % loss: {jb:?}, MOS {mos:.2}");
    }
}

#[test]
fn clean_call_statistics_rtt_and_mos() {
    for (codec, min_mos) in [(Codec::Pcmu, 4.35), (Codec::Opus, 4.0)] {
        let (a, b) = configs(codec, Some(SrtpSuite::AesCm128HmacSha1_80));
        let mut pair = Pair::new(a, b, "delay=30ms,seed=1");
        pair.run(Duration::from_secs(12));
        let s = pair.a.pipeline.stats(pair.now);
        let rtt = s.rtt_ms.expect("RTT measured from SR/RR");
        assert!((rtt - 60.0).abs() <= 2.0, "{codec}: RTT {rtt}");
        assert!(s.mos.unwrap() >= min_mos, "{codec}: {s:?}");
        assert_eq!(s.sent.packets, 600);
        assert!(s.received.packets >= 595);
        assert_eq!(s.received.lost, 0);
        assert!(s.sent.rtcp_packets >= 2 && s.received.rtcp_packets >= 2);
        assert!(s.jitter_buffer.delay_ms <= 40.0, "{:?}", s.jitter_buffer);
        assert!(s.received.last_packet_age_ms.unwrap() < 40.0);
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"mos\""));
    }
}

#[test]
fn dtmf_goes_end_to_end_and_pauses_audio() {
    let (a, b) = configs(Codec::Pcmu, Some(SrtpSuite::AeadAes256Gcm));
    let mut pair = Pair::new(a, b, "delay=10ms,seed=2");
    pair.run(Duration::from_millis(200));
    pair.a.pipeline.send_dtmf(pair.now, '7').unwrap();
    pair.a.pipeline.send_dtmf(pair.now, '#').unwrap();
    pair.run(Duration::from_millis(600));
    let tones: Vec<char> = pair
        .b
        .events
        .iter()
        .filter_map(|e| match e {
            MediaEvent::Dtmf(t) => Some(t.digit),
            _ => None,
        })
        .collect();
    assert_eq!(tones, ['7', '#']);
    assert_eq!(pair.a.pipeline.stats(pair.now).sent.dtmf_events, 2);
    assert_eq!(pair.b.pipeline.stats(pair.now).received.dtmf_events, 2);
    assert!(matches!(
        pair.b.events.first(),
        Some(MediaEvent::RemoteSsrc { previous: None, .. })
    ));
    assert!(matches!(
        pair.a.pipeline.send_dtmf(pair.now, 'x'),
        Err(PipelineError::Dtmf(_))
    ));
}

#[test]
fn dtmf_needs_telephone_event() {
    let (mut a, _) = configs(Codec::Pcmu, None);
    a.send_payload_types.telephone_event = None;
    let mut p = MediaPipeline::new(a, test_epoch(), &mut StdRng::seed_from_u64(1)).unwrap();
    assert_eq!(p.stats(test_epoch()).mos, None);
    assert!(matches!(
        p.send_dtmf(test_epoch(), '1'),
        Err(PipelineError::NoTelephoneEvent)
    ));
}

/// A sender and a receiver pipeline, and one protected packet from the sender.
fn one_packet(suite: SrtpSuite) -> (MediaPipeline, MediaPipeline, Vec<u8>, Instant) {
    let (a, b) = configs(Codec::Pcma, Some(suite));
    let now = test_epoch();
    let mut a = MediaPipeline::new(a, now, &mut StdRng::seed_from_u64(1)).unwrap();
    let b = MediaPipeline::new(b, now, &mut StdRng::seed_from_u64(2)).unwrap();
    a.push_capture_frame(now, &[0; FRAME_SAMPLES]).unwrap();
    let packet = a.poll_transmit().unwrap();
    assert_eq!(packet.kind, PacketKind::Rtp);
    (a, b, packet.data, now)
}

#[test]
fn srtp_refusals_are_dropped_and_counted_by_kind() {
    let (_a, mut b, packet, now) = one_packet(SrtpSuite::AesCm128HmacSha1_32);
    let mut tampered = packet.clone();
    if let Some(byte) = tampered.get_mut(20) {
        *byte ^= 1;
    }
    assert!(matches!(
        b.handle_packet(now, &tampered),
        PacketOutcome::Dropped(DropReason::Srtp(SrtpError::AuthenticationFailed { .. }))
    ));
    assert_eq!(b.handle_packet(now, &packet), PacketOutcome::Audio);
    assert!(matches!(
        b.handle_packet(now, &packet),
        PacketOutcome::Dropped(DropReason::Srtp(SrtpError::Replay { .. }))
    ));
    // Plain RTCP where SRTCP is expected.
    let mut rr = Vec::new();
    let report = rtcp::ReceiverReport {
        ssrc: 5,
        reports: vec![rtcp::ReportBlock::default()],
    };
    rtcp::compound_rr_sdes(&report, "bob@example.com", &mut rr);
    assert!(matches!(
        b.handle_packet(now, &rr),
        PacketOutcome::Dropped(DropReason::Srtp(SrtpError::Cleartext))
    ));
    // Garbage never panics.
    for junk in [&[][..], &[0x80], &[0x80, 200, 0xFF, 0xFF], &[0xFF; 40]] {
        assert!(matches!(
            b.handle_packet(now, junk),
            PacketOutcome::Dropped(_)
        ));
    }
    let s = b.stats(now);
    let rx = s.srtp_rx.unwrap();
    assert_eq!(
        (rx.unprotected, rx.auth_failures, rx.replays, rx.cleartext),
        (1, 1, 1, 1)
    );
    assert_eq!(s.received.packets, 1);
    assert_eq!(s.received.dropped, 3 + 4);
}

#[test]
fn wrong_keys_hear_nothing() {
    let (a, mut b) = configs(Codec::Opus, Some(SrtpSuite::AeadAes128Gcm));
    b.security = MediaSecurity::Srtp {
        send: keys(SrtpSuite::AeadAes128Gcm, 0x22),
        receive: keys(SrtpSuite::AeadAes128Gcm, 0x99),
    };
    let mut pair = Pair::new(a, b, "");
    pair.run(Duration::from_millis(500));
    assert!(!pair.b.meter.detects_tone(TONE_A));
    assert_eq!(
        pair.b.meter.frames_of(FrameKind::Silence),
        pair.b.meter.frames()
    );
    assert!(
        pair.b
            .pipeline
            .stats(pair.now)
            .srtp_rx
            .unwrap()
            .auth_failures
            >= 24
    );
}

#[test]
fn unknown_payload_types_are_dropped() {
    let (_, b) = configs(Codec::Pcmu, None);
    let now = test_epoch();
    let mut b = MediaPipeline::new(b, now, &mut StdRng::seed_from_u64(2)).unwrap();
    let mut packet = Vec::new();
    let header = crate::rtp::RtpHeader {
        payload_type: 18,
        sequence: 1,
        ssrc: 9,
        ..crate::rtp::RtpHeader::default()
    };
    crate::rtp::packetize(&header, &[0; 20], &mut packet);
    assert_eq!(
        b.handle_packet(now, &packet),
        PacketOutcome::Dropped(DropReason::UnknownPayloadType(18))
    );
}

#[test]
fn opus_dtx_sends_little_in_silence_and_marks_talkspurts() {
    let (mut a, b) = configs(Codec::Opus, Some(SrtpSuite::AeadAes128Gcm));
    a.codec = CodecConfig::Opus(crate::codec::OpusConfig {
        dtx: true,
        ..crate::codec::OpusConfig::default()
    });
    let mut pair = Pair::new(a, b, "");
    pair.a.source = Box::new(SilenceSource);
    pair.run(Duration::from_secs(2));
    let sent = pair.a.pipeline.stats(pair.now).sent;
    assert!(sent.suppressed_frames > 50 && sent.packets < 50, "{sent:?}");
    // Talking again: the tone gets through.
    pair.a.source = Box::new(ToneSource::new(TONE_A, 0.5));
    pair.run(Duration::from_secs(1));
    assert!(pair.b.meter.detects_tone(TONE_A));
}

#[test]
fn poll_transmit_into_reuses_buffers() {
    let (a, _) = configs(Codec::Pcmu, Some(SrtpSuite::AesCm256HmacSha1_80));
    let now = test_epoch();
    let mut a = MediaPipeline::new(a, now, &mut StdRng::seed_from_u64(1)).unwrap();
    let mut buf = Vec::new();
    for i in 0..3u32 {
        a.push_capture_frame(now + FRAME_DURATION * i, &[0; FRAME_SAMPLES])
            .unwrap();
        assert_eq!(a.poll_transmit_into(&mut buf), Some(PacketKind::Rtp));
        // 12-byte header + 160 bytes of PCMU + 10-byte tag.
        assert_eq!(buf.len(), 182);
    }
    assert_eq!(a.poll_transmit_into(&mut buf), None);
}

#[test]
fn random_and_mutated_datagrams_never_panic() {
    use rand::{Rng, RngCore};
    let mut rng = StdRng::seed_from_u64(99);
    for codec in [Codec::Pcmu, Codec::Opus] {
        let (a, b) = configs(codec, None);
        let now = test_epoch();
        let mut a = MediaPipeline::new(a, now, &mut StdRng::seed_from_u64(1)).unwrap();
        let mut b = MediaPipeline::new(b, now, &mut StdRng::seed_from_u64(2)).unwrap();
        let mut valid = Vec::new();
        for i in 0..50u32 {
            a.push_capture_frame(now + FRAME_DURATION * i, &[i as i16 * 300; FRAME_SAMPLES])
                .unwrap();
            valid.extend(std::iter::from_fn(|| a.poll_transmit()).map(|t| t.data));
        }
        for i in 0..3000u32 {
            let t = now + Duration::from_millis(u64::from(i));
            let mut datagram = if i % 2 == 0 {
                let mut d = vec![0u8; rng.random_range(0..300)];
                rng.fill_bytes(&mut d);
                d
            } else {
                valid[i as usize % valid.len()].clone()
            };
            // Flip a few bits, keeping the RTP version most of the time so parsing goes deep.
            for _ in 0..rng.random_range(0..4) {
                if !datagram.is_empty() {
                    let at = rng.random_range(0..datagram.len());
                    datagram[at] ^= 1 << rng.random_range(0..8);
                }
            }
            if let Some(first) = datagram.first_mut()
                && i % 3 != 0
            {
                *first = (*first & 0x3F) | 0x80;
            }
            b.handle_packet(t, &datagram);
            if i % 20 == 0 {
                let frame = b.pull_playout_frame(t);
                assert_eq!(frame.samples().len(), FRAME_SAMPLES);
            }
        }
        let s = b.stats(now + Duration::from_secs(3));
        assert!(s.received.dropped > 0 && s.received.packets > 0, "{s:?}");
    }
}

#[test]
fn a_three_second_call_measures_rtt_both_ways() {
    for seed in 1..=4u64 {
        let (a, b) = configs(Codec::Opus, Some(SrtpSuite::AeadAes128Gcm));
        // Different seeds move both sides' report times.
        let network = format!("delay=40ms,jitter=2ms,seed={seed}");
        let mut pair = Pair::with_seeds(a, b, &network, (seed * 7, seed * 13));
        pair.run(Duration::from_secs(3));
        for (name, side) in [("A", &pair.a), ("B", &pair.b)] {
            let s = side.pipeline.stats(pair.now);
            let rtt = s
                .rtt_ms
                .unwrap_or_else(|| panic!("seed {seed}: {name} has no RTT after 3 s: {s:?}"));
            assert!((rtt - 80.0).abs() <= 6.0, "seed {seed}: {name}: RTT {rtt}");
            assert!(s.remote.is_some(), "{name}: the far end's report arrived");
        }
    }
    // Start-up reports end once each side has echoed the other's SR: over 20 s, about
    // 2–3 start-up reports then one every 2.5–7.5 s, not one a second.
    let (a, b) = configs(Codec::Pcmu, Some(SrtpSuite::AesCm128HmacSha1_80));
    let mut pair = Pair::new(a, b, "delay=40ms,seed=5");
    pair.run(Duration::from_secs(20));
    for side in [&pair.a, &pair.b] {
        let sent = side.pipeline.stats(pair.now).sent.rtcp_packets;
        assert!((4..=10).contains(&sent), "{sent} RTCP reports in 20 s");
    }
}

#[test]
fn start_up_reports_stop_when_the_far_end_never_sends_an_sr() {
    // Only A sends media and RTCP; B stays silent (a far end without RTCP).
    let (a, _) = configs(Codec::Pcmu, None);
    let now = test_epoch();
    let mut a = MediaPipeline::new(a, now, &mut StdRng::seed_from_u64(3)).unwrap();
    let mut rtcp = 0;
    for tick in 0..1000u32 {
        let t = now + FRAME_DURATION * tick;
        if a.poll_timeout().is_some_and(|d| d <= t) {
            a.handle_timeout(t).unwrap();
        }
        a.push_capture_frame(t, &[0; FRAME_SAMPLES]).unwrap();
        rtcp += std::iter::from_fn(|| a.poll_transmit())
            .filter(|p| p.kind == PacketKind::Rtcp)
            .count();
    }
    // 20 s: six start-up reports in the first ~6 s, then the 5 s interval.
    assert!((7..=11).contains(&rtcp), "{rtcp}");
}

#[test]
fn bye_at_close_is_protected_and_ends_the_far_ends_receiving_cleanly() {
    let (a, b) = configs(Codec::Opus, Some(SrtpSuite::AesCm128HmacSha1_32));
    let mut pair = Pair::new(a, b, "delay=20ms,seed=4");
    pair.run(Duration::from_secs(2));
    let a_ssrc = pair.a.pipeline.ssrc();
    let before = pair.b.pipeline.stats(pair.now);
    assert!(!before.received.remote_bye);

    pair.a.pipeline.close(pair.now).unwrap();
    assert!(pair.a.pipeline.is_closed());
    // The last datagram is our compound SR + SDES + BYE, under SRTCP.
    let mut sent = Vec::new();
    while let Some(t) = pair.a.pipeline.poll_transmit() {
        sent.push(t);
    }
    let last = sent.last().unwrap();
    assert_eq!(last.kind, PacketKind::Rtcp);
    assert!(!rtcp::is_plain_compound(&last.data), "BYE sent in clear");
    let mut check = SrtpContext::new(&keys(SrtpSuite::AesCm128HmacSha1_32, 0x11)).unwrap();
    let mut plain = Vec::new();
    check.unprotect_rtcp(&last.data, &mut plain).unwrap();
    let packets = rtcp::parse_compound(&plain).unwrap();
    assert!(matches!(packets[0], rtcp::RtcpPacket::SenderReport(ref sr) if sr.ssrc == a_ssrc));
    assert!(matches!(packets[1], rtcp::RtcpPacket::SourceDescription(_)));
    assert!(
        matches!(&packets[2], rtcp::RtcpPacket::Bye(bye) if bye.sources == [a_ssrc]),
        "{packets:?}"
    );
    assert_eq!(packets.len(), 3);
    for t in sent {
        pair.a_to_b.push(pair.now, t.data);
    }
    // A is closed: a frame pushed or a timeout sends nothing more.
    pair.a
        .pipeline
        .push_capture_frame(pair.now, &[1000; FRAME_SAMPLES])
        .unwrap();
    pair.a
        .pipeline
        .handle_timeout(pair.now + Duration::from_secs(9))
        .unwrap();
    assert!(pair.a.pipeline.poll_transmit().is_none());

    pair.run(Duration::from_secs(1));
    let after = pair.b.pipeline.stats(pair.now);
    assert!(after.received.remote_bye, "{:?}", after.received);
    assert!(
        pair.b
            .events
            .iter()
            .any(|e| matches!(e, MediaEvent::Bye { ssrcs } if ssrcs == &[a_ssrc]))
    );
    // What was buffered played out, then silence: nothing concealed, nothing lost, and the
    // jitter buffer stopped playing.
    let jb = after.jitter_buffer;
    assert_eq!(jb.concealed, before.jitter_buffer.concealed, "{jb:?}");
    assert_eq!(after.received.lost, 0);
    assert!(!pair.b.pipeline.receiver.jitter().is_playing());
    let frame = pair.b.pipeline.pull_playout_frame(pair.now);
    assert_eq!(frame.kind(), FrameKind::Silence);
    assert_eq!(
        after.srtp_rx.unwrap().auth_failures + after.srtp_rx.unwrap().replays,
        0
    );
}

#[test]
fn rekey_mid_stream_keeps_ssrc_and_audio_and_refuses_old_keys_after_the_grace() {
    let suite = SrtpSuite::AeadAes256Gcm;
    let (a, b) = configs(Codec::Opus, Some(suite));
    let mut pair = Pair::new(a, b, "delay=20ms,seed=8");
    pair.run(Duration::from_secs(1));
    let (a_ssrc, b_ssrc) = (pair.a.pipeline.ssrc(), pair.b.pipeline.ssrc());
    let b_before = pair.b.pipeline.stats(pair.now);

    // B answers a re-INVITE with new keys both ways and switches at once; A switches when
    // the answer arrives 60 ms later, so 60 ms of A's old-key packets reach B after B's
    // switch (accepted in the grace), and B's first new-key packets reach A before A's
    // (lost: A cannot know keys it has not seen).
    let (a_new, b_new) = (keys(suite, 0x33), keys(suite, 0x44));
    pair.b
        .pipeline
        .rekey(pair.now, Some(&b_new), Some(&a_new))
        .unwrap();
    pair.run(Duration::from_millis(60));
    pair.a
        .pipeline
        .rekey(pair.now, Some(&a_new), Some(&b_new))
        .unwrap();
    pair.run(Duration::from_secs(3));

    for side in [&pair.a, &pair.b] {
        assert_eq!(side.gaps, 0, "a silent tick: the audio was not continuous");
        // One SSRC each way for the whole call: the stream was never rebuilt.
        let ssrc_events = side
            .events
            .iter()
            .filter(|e| matches!(e, MediaEvent::RemoteSsrc { .. }))
            .count();
        assert_eq!(ssrc_events, 1);
    }
    assert_eq!(pair.a.pipeline.ssrc(), a_ssrc);
    assert_eq!(pair.b.pipeline.ssrc(), b_ssrc);
    assert_eq!(pair.b.pipeline.remote_ssrc(), Some(a_ssrc));
    let b_stats = pair.b.pipeline.stats(pair.now);
    let rx = b_stats.srtp_rx.unwrap();
    assert!(rx.previous_key >= 2, "{rx:?}");
    assert_eq!(rx.auth_failures, 0, "{rx:?}");
    // B heard A without a hole: nothing lost, nothing concealed since the rekey.
    assert_eq!(b_stats.received.lost, 0);
    assert_eq!(
        b_stats.jitter_buffer.concealed, b_before.jitter_buffer.concealed,
        "{:?}",
        b_stats.jitter_buffer
    );
    assert!(pair.b.meter.detects_tone(TONE_A));
    // A lost only B's new-key packets that beat the answer (≈ 60 ms), concealed.
    let a_rx = pair.a.pipeline.stats(pair.now).srtp_rx.unwrap();
    assert!((1..=5).contains(&a_rx.auth_failures), "{a_rx:?}");
    assert!(pair.a.meter.detects_tone(TONE_B));

    // After the grace, a packet under A's old keys is refused and counted.
    let mut packetizer = Packetizer::from_parts(a_ssrc, 111, 60_000, 0);
    let mut rtp = Vec::new();
    packetizer.next_packet(&[0xF8; 40], 960, false, &mut rtp);
    let mut old = SrtpContext::new(&keys(suite, 0x11)).unwrap();
    let mut srtp = Vec::new();
    old.protect_rtp(&rtp, &mut srtp).unwrap();
    assert!(matches!(
        pair.b.pipeline.handle_packet(pair.now, &srtp),
        PacketOutcome::Dropped(DropReason::Srtp(SrtpError::AuthenticationFailed { .. }))
    ));
    assert_eq!(
        pair.b
            .pipeline
            .stats(pair.now)
            .srtp_rx
            .unwrap()
            .auth_failures,
        1
    );
}

#[test]
fn rekey_is_refused_on_plain_rtp() {
    let (a, _) = configs(Codec::Pcmu, None);
    let now = test_epoch();
    let mut a = MediaPipeline::new(a, now, &mut StdRng::seed_from_u64(1)).unwrap();
    let k = keys(SrtpSuite::AeadAes128Gcm, 1);
    assert!(matches!(
        a.rekey(now, Some(&k), None),
        Err(PipelineError::NotSrtp)
    ));
}

#[test]
fn short_playout_periods_hear_a_packet_at_the_first_period_after_it_arrives() {
    let (a, b) = configs(Codec::Pcma, None);
    let now = test_epoch();
    let mut a = MediaPipeline::new(a, now, &mut StdRng::seed_from_u64(1)).unwrap();
    let mut by_frame = MediaPipeline::new(b.clone(), now, &mut StdRng::seed_from_u64(2)).unwrap();
    let mut by_period = MediaPipeline::new(b, now, &mut StdRng::seed_from_u64(2)).unwrap();
    let (mut whole, mut pieces) = (Vec::new(), Vec::new());
    // Frames are captured (and arrive) at 20 ms, 40 ms, …; loud from the one sent at 100 ms.
    // One output pulls 20 ms frames at 13, 33, 53 ms…; the other 5 ms at 8, 13, 18, 23 ms…
    for ms in 0..400u32 {
        let t = now + MS * ms;
        if ms % 20 == 0 && ms > 0 {
            let level = if ms >= 100 { 8000 } else { 0 };
            a.push_capture_frame(t, &[level; FRAME_SAMPLES]).unwrap();
            while let Some(p) = a.poll_transmit() {
                by_frame.handle_packet(t, &p.data);
                by_period.handle_packet(t, &p.data);
            }
        }
        if ms % 20 == 13 {
            whole.extend_from_slice(by_frame.pull_playout_frame(t).samples());
        }
        if ms >= 8 && ms % 5 == 3 {
            let mut out = [0i16; FRAME_SAMPLES / 4];
            by_period.pull_playout_samples(t, &mut out);
            pieces.extend_from_slice(&out);
        }
    }
    let onset = |x: &[i16]| x.iter().position(|s| s.unsigned_abs() > 4000).unwrap();
    let (w, p) = (onset(&whole), onset(&pieces));
    // When each output plays its loud onset, in 1/48 ms from the start.
    let heard_whole = 13 * 48 + w;
    let heard_pieces = 8 * 48 + p;
    // The frame sent at 100 ms is played at 103 ms in 5 ms periods (the silence before the
    // first packet did not hold playout to a 20 ms grid), at 113 ms in 20 ms frames.
    assert_eq!(heard_whole - heard_pieces, 10 * 48);
    assert_eq!(heard_pieces - 103 * 48, w - (113 - 13) * 48);
    // The same audio from there on.
    let n = (whole.len() - w).min(pieces.len() - p);
    assert_eq!(&whole[w..w + n], &pieces[p..p + n]);
}
