//! The driver's own logic on a simulated clock: `work(now)` is called every millisecond of
//! made-up time and the far end is a pipeline whose packets are handed straight in, so what
//! is asserted does not depend on how loaded the machine is.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use lockphone_media::audio::{
    AudioSource, FRAME_SAMPLES, Frame, PLAYOUT_PERIOD_SAMPLES, WavSource,
};
use lockphone_media::codec::Codec;
use lockphone_media::pipeline::MediaPipeline;
use lockphone_media::srtp::SrtpSuite;
use zeroize::Zeroizing;

use super::*;
use crate::media::audio_io::{AudioIn, AudioOut};
use crate::media::params::{MediaParams, SrtpParams};
use crate::media::socket::MediaSocket;

const MS: Duration = Duration::from_millis(1);
const SUITE: &str = "AES_CM_128_HMAC_SHA1_80";
/// The far end's first loud frame (a 1 kHz tone from here on; silence before).
const LOUD_FROM: u32 = 10;
/// Samples per millisecond.
const PER_MS: usize = 48;

fn params(codec: Codec, keys: Option<(u8, u8)>) -> MediaParams {
    let nowhere = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 9);
    let master = |fill: u8| {
        let len = SrtpSuite::from_sdes_name(SUITE).unwrap().master_len();
        Zeroizing::new(vec![fill; len])
    };
    MediaParams {
        remote_rtp: nowhere,
        remote_rtcp: nowhere,
        rtcp_mux: false,
        codec,
        payload_type: codec.default_payload_type(),
        telephone_event: Some(101),
        srtp: keys.map(|(send, receive)| SrtpParams {
            suite_name: SUITE.to_owned(),
            send_master: master(send),
            receive_master: master(receive),
        }),
        send: true,
        receive: true,
    }
}

/// A driver on real (unused) sockets, started at `start`.
async fn driver(params: &MediaParams, output: &AudioOut, start: Instant) -> Driver {
    let socket = MediaSocket::bind(IpAddr::V4(Ipv4Addr::LOCALHOST))
        .await
        .unwrap();
    let params = Checked::new(params).unwrap();
    let pipeline = build_pipeline(&params, "driver-test", start, None).unwrap();
    let (_, commands) = mpsc::unbounded_channel();
    let (events, _) = mpsc::channel(64);
    Driver::new(Parts {
        rtp: socket.rtp,
        rtcp: socket.rtcp,
        params,
        pipeline,
        cname: "driver-test".to_owned(),
        capture: Capture::open(&AudioIn::Silence).unwrap(),
        playout: Playout::open(output).unwrap(),
        commands,
        events,
        start,
        impairment: None,
        opus: None,
    })
    .0
}

/// The far end: a pipeline with the keys the driver receives with.
fn far_end(params: &MediaParams, at: Instant) -> MediaPipeline {
    let mut mirrored = params.clone();
    if let Some(srtp) = &mut mirrored.srtp {
        std::mem::swap(&mut srtp.send_master, &mut srtp.receive_master);
    }
    build_pipeline(&Checked::new(&mirrored).unwrap(), "far-end", at, None).unwrap()
}

/// Frame `k` of the far end's microphone.
fn far_frame(k: u32) -> [i16; FRAME_SAMPLES] {
    std::array::from_fn(|i| {
        if k < LOUD_FROM {
            return 0;
        }
        let t = (k as usize * FRAME_SAMPLES + i) as f64 / 48_000.0;
        (12_000.0 * (std::f64::consts::TAU * 1000.0 * t).sin()) as i16
    })
}

/// Hands everything `from` has queued to the driver's pipeline at `at`.
fn deliver(from: &mut MediaPipeline, to: &mut Driver, at: Instant) {
    while let Some(t) = from.poll_transmit() {
        to.pipeline.handle_packet(at.into_std(), &t.data);
    }
    // What the driver would send goes nowhere.
    while to.pipeline.poll_transmit().is_some() {}
}

/// Samples in a playout period, as the output sees them.
const PERIOD: usize = PLAYOUT_PERIOD_SAMPLES;

/// One call on the simulated clock: the far end captures frame `k` over
/// `[20k, 20k + 20) ms + phase` and its packet arrives, with no network delay, when the
/// frame is complete; the driver works every millisecond from 0 and records to a WAV file.
/// Returns where the first loud sample is in the recording, and the packet's arrival.
async fn onset(codec: Codec, phase: u32) -> (usize, u32) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("heard.wav");
    let params = params(codec, None);
    let t0 = Instant::now();
    let mut d = driver(&params, &AudioOut::File(path.clone()), t0).await;
    let mut far = far_end(&params, t0);
    let mut k = 0;
    for ms in 0..600u32 {
        let t = t0 + MS * ms;
        if ms >= 20 + phase && (ms - phase).is_multiple_of(20) {
            far.push_capture_frame(t.into_std(), &far_frame(k)).unwrap();
            k += 1;
            deliver(&mut far, &mut d, t);
        }
        d.work(t);
    }
    let report = d.finish().await;
    assert_eq!(report.output_errors, 0, "{report:?}");
    let mut wav = WavSource::open(&path, false).unwrap();
    let mut frame = Frame::silence();
    let mut heard = Vec::new();
    while wav.read_frame(&mut frame).unwrap() {
        heard.extend_from_slice(frame.samples());
    }
    // 600 ms worked: 60 periods, 30 whole frames, all in the recording.
    assert_eq!(heard.len(), 30 * FRAME_SAMPLES);
    assert_eq!(report.stats.audio.frames, 30);
    let at = heard.iter().position(|s| s.unsigned_abs() > 6_000).unwrap();
    (at, 20 * (LOUD_FROM + 1) + phase)
}

/// Playout is pulled every 10 ms, and a frame is taken at the first period at or after
/// its packet arrives: the wait for the playout point is under 10 ms at every phase (it
/// was under 20 ms with whole-frame pulls). The capture-to-playout latency this gives is
/// printed, by codec; `benches/latency.rs` sweeps every phase of the pipeline alone.
#[tokio::test]
async fn a_frame_plays_from_the_first_10_ms_period_after_it_arrives() {
    for codec in [Codec::Pcmu, Codec::Opus] {
        let mut worst = 0.0f64;
        for phase in [0, 1, 5, 9, 10, 11, 15, 19] {
            let (at, arrival_ms) = onset(codec, phase).await;
            // Period m is pulled at m × 10 ms and plays from then.
            let period_ms = PLAYOUT_PERIOD.as_millis() as u32;
            assert_eq!(period_ms, 10);
            let first_period = arrival_ms.div_ceil(period_ms) as usize;
            assert_eq!(
                at / PERIOD,
                first_period,
                "{codec} phase {phase}: onset at sample {at}, packet arrived at {arrival_ms} ms"
            );
            let played_ms = (at as f64) / PER_MS as f64;
            // The onset was spoken at the start of frame LOUD_FROM.
            let spoken_ms = f64::from(20 * LOUD_FROM + phase);
            let latency = played_ms - spoken_ms;
            worst = worst.max(latency);
            eprintln!(
                "driver latency {codec} phase {phase} ms: {latency:.1} ms capture → playout \
                 (wait for the period {} ms)",
                first_period as u32 * period_ms - arrival_ms
            );
        }
        eprintln!("driver latency {codec}: worst of the phases tried {worst:.1} ms");
    }
}

/// The far end's BYE is reported, and forgotten when it starts a new stream (new SSRC).
#[tokio::test]
async fn remote_bye_is_cleared_by_a_new_stream() {
    let params = params(Codec::Pcmu, Some((1, 2)));
    let t0 = Instant::now();
    let mut d = driver(&params, &AudioOut::Null, t0).await;
    let mut far = far_end(&params, t0);
    let mut t = t0;
    let step = |d: &mut Driver, far: &mut MediaPipeline, t: &mut Instant| {
        *t += MS * 20;
        far.push_capture_frame(t.into_std(), &far_frame(0)).unwrap();
        deliver(far, d, *t);
        d.work(*t);
    };
    for _ in 0..5 {
        step(&mut d, &mut far, &mut t);
    }
    assert!(!d.snapshot(t, false).remote_bye);
    far.close(t.into_std()).unwrap();
    deliver(&mut far, &mut d, t);
    d.work(t);
    assert!(d.snapshot(t, false).remote_bye);
    // Still gone while nothing new comes (a closed pipeline sends nothing more).
    step(&mut d, &mut far, &mut t);
    assert!(d.snapshot(t, false).remote_bye);
    // The far end restarts its stream: same keys, a new SSRC.
    let mut again = far_end(&params, t);
    assert_ne!(again.ssrc(), far.ssrc());
    step(&mut d, &mut again, &mut t);
    let stats = d.snapshot(t, false);
    assert!(!stats.remote_bye, "{stats:?}");
    assert_eq!(stats.pipeline.received.packets, 5 + 1);
}

/// Packets the far end protected with its previous keys, arriving after a re-INVITE
/// changed them, are counted at the top level next to the other SRTP counters.
#[tokio::test]
async fn packets_under_the_previous_keys_are_counted_at_the_top_level() {
    let old = params(Codec::Pcmu, Some((1, 2)));
    let t0 = Instant::now();
    let mut d = driver(&old, &AudioOut::Null, t0).await;
    let mut far = far_end(&old, t0);
    let mut t = t0;
    for _ in 0..3 {
        t += MS * 20;
        far.push_capture_frame(t.into_std(), &far_frame(0)).unwrap();
        deliver(&mut far, &mut d, t);
        d.work(t);
    }
    // A re-INVITE gives new keys for what we receive; the far end has not switched yet.
    let mut new = old.clone();
    new.srtp.as_mut().unwrap().receive_master =
        Zeroizing::new(vec![
            3;
            SrtpSuite::from_sdes_name(SUITE).unwrap().master_len()
        ]);
    d.update(Checked::new(&new).unwrap(), t).await;
    for _ in 0..4 {
        t += MS * 20;
        far.push_capture_frame(t.into_std(), &far_frame(0)).unwrap();
        deliver(&mut far, &mut d, t);
        d.work(t);
    }
    let stats = d.snapshot(t, false);
    assert_eq!(stats.srtp_previous_key, 4, "{stats:?}");
    assert_eq!(stats.srtp_auth_failures, 0);
    assert_eq!(stats.packets_received, 7);
    let json = serde_json::to_value(&stats).unwrap();
    assert_eq!(json["srtp_previous_key"], 4);
}
