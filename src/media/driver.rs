//! The task that runs one call's media: a thin loop around the sans-IO pipeline.
//!
//! After any input (a datagram, a command, a timer), it does what is due — the 20 ms
//! capture frames one [`Pacer`] says are owed (capture → pipeline), the 10 ms playout
//! periods another says are owed (pipeline → playout), the pipeline's timeout (RTCP, DTMF) —
//! sends everything the pipeline has queued, and sleeps until the earliest of the next
//! frame or period, the pipeline's timeout and the next stats publication.
//!
//! Playout is pulled in [`PLAYOUT_PERIOD`]s with
//! [`MediaPipeline::pull_playout_samples`]: a packet starts playing at the first period
//! after it arrives rather than at the next 20 ms tick, so at zero network jitter the wait
//! for the playout point is under 10 ms instead of under 20 ms (worst phase from capture to
//! playout: Opus 35.6 ms instead of 45.6, PCMU 32.1 instead of 42.1; `benches/latency.rs`).
//! Capture and encoding keep their 20 ms framing.

use std::net::SocketAddr;
use std::time::Duration;

use lockphone_media::audio::{PLAYOUT_PERIOD, PLAYOUT_PERIOD_SAMPLES, Pacer};
use lockphone_media::codec::{CodecConfig, OpusConfig};
use lockphone_media::impair::{Impairment, ImpairmentSpec};
use lockphone_media::pipeline::{MediaEvent, MediaPipeline, PacketKind};
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

use super::MediaError;
use super::audio_io::{Capture, Playout, SILENCE};
use super::params::Checked;
use super::stats::{self, MediaReport, MediaStats, Tally};

/// Largest datagram read (anything longer is truncated, then refused by the pipeline).
const DATAGRAM_MAX: usize = 4096;
/// How often the live statistics are published.
const PUBLISH_EVERY: Duration = Duration::from_millis(100);
/// How often the received audio's dominant frequency is recomputed while running (one FFT of
/// half a second: about 0.1 ms of CPU in a release build); always at the end. Each session's
/// first analysis falls at a random time between 1 and 3 s, so calls set up together do not
/// all analyse in the same tick.
const ANALYSE_EVERY: Duration = Duration::from_secs(2);
/// Datagrams read in one go from a socket before looking at the clock again.
const DRAIN_MAX: usize = 64;

/// Most playout periods pulled at once after a stall: 100 ms, as for capture frames.
const MAX_PERIOD_BURST: u32 = 10;

/// What the handle asks of the task.
pub(super) enum Command {
    /// A re-INVITE's outcome.
    Update(Box<Checked>),
    /// Send a key press.
    Dtmf(char),
    /// Send silence instead of the captured audio (`true`), or the audio again.
    Mute(bool),
}

/// Which port a datagram came in on.
#[derive(Clone, Copy)]
enum Port {
    Rtp,
    Rtcp,
}

/// Builds a pipeline for `params` at `now`.
pub(super) fn build_pipeline(
    params: &Checked,
    cname: &str,
    now: Instant,
    opus: Option<&OpusConfig>,
) -> Result<MediaPipeline, MediaError> {
    let wallclock = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let mut config = params.pipeline_config(cname, wallclock);
    if let (Some(opus), CodecConfig::Opus(_)) = (opus, &config.codec) {
        config.codec = CodecConfig::Opus(opus.clone());
    }
    Ok(MediaPipeline::new(
        config,
        now.into_std(),
        &mut rand::rng(),
    )?)
}

/// The running state of one session.
pub(super) struct Driver {
    pub(super) rtp: UdpSocket,
    pub(super) rtcp: UdpSocket,
    pub(super) params: Checked,
    pub(super) pipeline: MediaPipeline,
    pub(super) cname: String,
    pub(super) capture: Capture,
    pub(super) playout: Playout,
    pub(super) commands: mpsc::UnboundedReceiver<Command>,
    pub(super) stats: watch::Sender<MediaStats>,
    pub(super) events: mpsc::Sender<MediaEvent>,
    pub(super) start: Instant,
    /// The simulated bad network every received datagram crosses (`--impair`), if any.
    impairment: Option<Impairment<Vec<u8>>>,
    /// Opus settings other than the defaults, kept for pipelines a re-INVITE rebuilds.
    opus: Option<OpusConfig>,
    /// When capture frames (20 ms) are due.
    pacer: Pacer,
    /// When playout periods (10 ms) are due.
    playout_pacer: Pacer,
    /// The period being played (no allocation per period).
    period: [i16; PLAYOUT_PERIOD_SAMPLES],
    tally: Tally,
    rtp_buf: Vec<u8>,
    rtcp_buf: Vec<u8>,
    out: Vec<u8>,
    next_publish: Instant,
    next_analysis: Instant,
    last_error: Option<String>,
    /// Muted: silent frames are encoded and sent in place of the captured ones.
    muted: bool,
}

/// The parts a driver is built from.
pub(super) struct Parts {
    pub(super) rtp: UdpSocket,
    pub(super) rtcp: UdpSocket,
    pub(super) params: Checked,
    pub(super) pipeline: MediaPipeline,
    pub(super) cname: String,
    pub(super) capture: Capture,
    pub(super) playout: Playout,
    pub(super) commands: mpsc::UnboundedReceiver<Command>,
    pub(super) events: mpsc::Sender<MediaEvent>,
    pub(super) start: Instant,
    pub(super) impairment: Option<ImpairmentSpec>,
    pub(super) opus: Option<OpusConfig>,
}

impl Driver {
    /// A driver and the first statistics (for the watch channel the handle keeps).
    pub(super) fn new(parts: Parts) -> (Self, watch::Receiver<MediaStats>) {
        let Parts {
            rtp,
            rtcp,
            params,
            pipeline,
            cname,
            capture,
            mut playout,
            commands,
            events,
            start,
            impairment,
            opus,
        } = parts;
        let impairment = impairment.map(Impairment::new);
        let tally = Tally::default();
        let context = stats::Context {
            elapsed_ms: 0.0,
            params: &params,
            tally: &tally,
            audio: playout.stats(false),
            impairment: impairment.as_ref().map(Impairment::stats),
        };
        let first = stats::combine(context, pipeline.stats(start.into_std()));
        let (stats, receiver) = watch::channel(first);
        let driver = Self {
            rtp,
            rtcp,
            params,
            pipeline,
            cname,
            capture,
            playout,
            commands,
            stats,
            events,
            start,
            impairment,
            opus,
            pacer: Pacer::new(),
            playout_pacer: {
                let mut pacer = Pacer::with_period(PLAYOUT_PERIOD);
                pacer.set_max_burst(MAX_PERIOD_BURST);
                pacer
            },
            period: [0; PLAYOUT_PERIOD_SAMPLES],
            tally,
            rtp_buf: vec![0; DATAGRAM_MAX],
            rtcp_buf: vec![0; DATAGRAM_MAX],
            out: Vec::with_capacity(1500),
            next_publish: start + PUBLISH_EVERY,
            next_analysis: start + ANALYSE_EVERY.mul_f64(rand::random_range(0.5..1.5)),
            last_error: None,
            muted: false,
        };
        (driver, receiver)
    }

    /// Runs until the handle says stop (or is dropped), then flushes and reports.
    pub(super) async fn run(mut self) -> MediaReport {
        self.work(Instant::now());
        self.transmit().await;
        loop {
            let deadline = self.next_deadline();
            tokio::select! {
                biased;
                command = self.commands.recv() => match command {
                    Some(command) => self.command(command).await,
                    None => break,
                },
                // Both ports are drained after either wakes, so a flood on one cannot
                // starve the other; the clock's work runs after every wake-up anyway.
                received = self.rtp.recv_from(&mut self.rtp_buf) => {
                    self.received(received, Port::Rtp);
                    self.drain(Port::Rtp);
                    self.drain(Port::Rtcp);
                }
                received = self.rtcp.recv_from(&mut self.rtcp_buf) => {
                    self.received(received, Port::Rtcp);
                    self.drain(Port::Rtcp);
                    self.drain(Port::Rtp);
                }
                () = tokio::time::sleep_until(deadline) => {}
            }
            self.work(Instant::now());
            self.transmit().await;
        }
        self.finish().await
    }

    fn next_deadline(&self) -> Instant {
        let mut deadline = self.next_publish;
        if let Some(frame) = self.pacer.next_deadline() {
            deadline = deadline.min(Instant::from_std(frame));
        }
        if let Some(period) = self.playout_pacer.next_deadline() {
            deadline = deadline.min(Instant::from_std(period));
        }
        if let Some(timeout) = self.pipeline.poll_timeout() {
            deadline = deadline.min(Instant::from_std(timeout));
        }
        if let Some(due) = self.impairment.as_ref().and_then(Impairment::poll_timeout) {
            deadline = deadline.min(Instant::from_std(due));
        }
        deadline
    }

    async fn command(&mut self, command: Command) {
        let now = Instant::now();
        match command {
            Command::Update(next) => self.update(*next, now).await,
            Command::Mute(muted) => self.muted = muted,
            Command::Dtmf(digit) => {
                if let Err(e) = self.pipeline.send_dtmf(now.into_std(), digit) {
                    self.last_error = Some(format!("DTMF {digit:?}: {e}"));
                }
            }
        }
    }

    /// Applies a re-INVITE. Same codec and payload types keep the pipeline (SSRC, sequence
    /// numbers, codec and jitter buffer state): same keys keep the SRTP contexts as they are
    /// (ROC, replay windows); new keys swap them in place (ROC 0 under the new keys, the far
    /// end's old keys accepted for a short grace). Another codec, other payload types, or
    /// SRTP switched on or off build a new pipeline, after a BYE for the old SSRC.
    async fn update(&mut self, next: Checked, now: Instant) {
        if self.params.needs_new_pipeline(&next) {
            match build_pipeline(&next, &self.cname, now, self.opus.as_ref()) {
                Ok(pipeline) => {
                    // The old stream ends with a BYE; what it still had queued goes to the
                    // old addresses.
                    if let Err(e) = self.pipeline.close(now.into_std()) {
                        self.last_error = Some(format!("RTCP BYE: {e}"));
                    }
                    self.transmit().await;
                    let old = std::mem::replace(&mut self.pipeline, pipeline);
                    self.tally.retired.retire(&old.stats(now.into_std()));
                }
                Err(e) => {
                    self.last_error = Some(format!("re-INVITE not applied: {e}"));
                    return;
                }
            }
        } else if let Some((send, receive)) = self.params.changed_keys(&next)
            && let Err(e) = self.pipeline.rekey(now.into_std(), send, receive)
        {
            self.last_error = Some(format!("re-INVITE keys not applied: {e}"));
            return;
        }
        self.params = next;
        self.publish(now, false);
    }

    /// Reads what else is waiting on `port`, without blocking.
    fn drain(&mut self, port: Port) {
        for _ in 0..DRAIN_MAX {
            let socket = match port {
                Port::Rtp => &self.rtp,
                Port::Rtcp => &self.rtcp,
            };
            let buf = match port {
                Port::Rtp => &mut self.rtp_buf,
                Port::Rtcp => &mut self.rtcp_buf,
            };
            match socket.try_recv_from(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return,
                result => self.received(result, port),
            }
        }
    }

    /// Hands one datagram to the pipeline. Anything may arrive; nothing here ends the call.
    fn received(&mut self, result: std::io::Result<(usize, SocketAddr)>, port: Port) {
        let (len, from) = match result {
            Ok(r) => r,
            Err(_) => {
                self.tally.receive_errors += 1;
                return;
            }
        };
        self.tally.datagrams_received += 1;
        // Processed whatever the source: a peer behind NAT or a media relay may send from
        // another address. SRTP authenticates what matters; we keep sending where the SDP
        // said (no latching), so a stranger's packets cannot redirect our stream.
        if from != self.params.remote_rtp && from != self.params.remote_rtcp {
            self.tally.from_unexpected_source += 1;
        }
        let buf = match port {
            Port::Rtp => &mut self.rtp_buf,
            Port::Rtcp => &mut self.rtcp_buf,
        };
        let datagram = buf.get_mut(..len).unwrap_or_default();
        let now = Instant::now().into_std();
        match &mut self.impairment {
            // Through the simulated network first; `work` hands over what falls due.
            Some(network) => network.push(now, datagram.to_vec()),
            // Unprotected in place, no copy. The outcome is counted by the pipeline (drops by
            // reason, SRTP counters).
            None => {
                let _ = self.pipeline.handle_packet_mut(now, datagram);
            }
        }
    }

    /// Hands the pipeline the datagrams the simulated network delivers by `at`.
    fn deliver_impaired(&mut self, at: std::time::Instant) {
        if let Some(network) = &mut self.impairment {
            while let Some(mut datagram) = network.poll(at) {
                let _ = self.pipeline.handle_packet_mut(at, &mut datagram);
            }
        }
    }

    /// Everything due at `now`: capture frames, playout periods, timeouts, events,
    /// publishing (sending follows).
    fn work(&mut self, now: Instant) {
        let at = now.into_std();
        self.deliver_impaired(at);
        let due = self.pacer.due(at);
        for _ in 0..due {
            let sending = self.params.send;
            let muted = self.muted;
            let pipeline = &mut self.pipeline;
            let mut failure = None;
            self.capture.tick(|frame| {
                // Muted, the capture still runs (its pacing, a file's position) but the
                // far end gets encoded silence, so the stream and the call stay up.
                let samples = if muted { &SILENCE } else { frame.samples() };
                if sending && let Err(e) = pipeline.push_capture_frame(at, samples) {
                    failure = Some(e.to_string());
                }
            });
            if failure.is_some() {
                self.last_error = failure;
            }
        }
        // Playout after capture: a frame captured, sent and looped back at the same instant
        // is heard in this period.
        for _ in 0..self.playout_pacer.due(at) {
            self.pipeline.pull_playout_samples(at, &mut self.period);
            let kind = self.pipeline.playout_kind();
            self.playout.play(&self.period, kind, self.params.receive);
        }
        if self.pipeline.poll_timeout().is_some_and(|t| t <= at)
            && let Err(e) = self.pipeline.handle_timeout(at)
        {
            self.last_error = Some(e.to_string());
        }
        while let Some(event) = self.pipeline.poll_event() {
            // (A BYE, and a new stream clearing it, are in the pipeline's statistics.)
            if let MediaEvent::Dtmf(tone) = &event {
                self.tally.dtmf_received.push(tone.digit);
            }
            // Nobody listening, or too far behind: the statistics still have it.
            let _ = self.events.try_send(event);
        }
        if now >= self.next_publish {
            let analyse = now >= self.next_analysis;
            if analyse {
                self.next_analysis = now + ANALYSE_EVERY;
            }
            self.publish(now, analyse);
        }
    }

    /// Sends what the pipeline has queued: RTP to the RTP address, RTCP to the RTCP address
    /// from the RTCP port (both on the RTP port with rtcp-mux). A UDP send only waits for
    /// the socket's readiness, which is immediate unless the send buffer is full.
    async fn transmit(&mut self) {
        let rtp_target = self.params.remote_rtp;
        let rtcp_target = self.params.rtcp_target();
        let mux = self.params.rtcp_mux;
        while let Some(kind) = self.pipeline.poll_transmit_into(&mut self.out) {
            let (port, target) = match kind {
                PacketKind::Rtp => (Port::Rtp, rtp_target),
                PacketKind::Rtcp if mux => (Port::Rtp, rtp_target),
                PacketKind::Rtcp => (Port::Rtcp, rtcp_target),
            };
            let socket = match port {
                Port::Rtp => &self.rtp,
                Port::Rtcp => &self.rtcp,
            };
            if socket.send_to(&self.out, target).await.is_err() {
                self.tally.send_errors += 1;
            }
        }
    }

    fn snapshot(&mut self, now: Instant, analyse: bool) -> MediaStats {
        let context = stats::Context {
            elapsed_ms: now.saturating_duration_since(self.start).as_secs_f64() * 1000.0,
            params: &self.params,
            tally: &self.tally,
            audio: self.playout.stats(analyse),
            impairment: self.impairment.as_ref().map(Impairment::stats),
        };
        stats::combine(context, self.pipeline.stats(now.into_std()))
    }

    fn publish(&mut self, now: Instant, analyse: bool) {
        self.next_publish = now + PUBLISH_EVERY;
        let snapshot = self.snapshot(now, analyse);
        self.stats.send_replace(snapshot);
    }

    /// Says BYE, sends what is left, finishes the output file, and reports.
    async fn finish(mut self) -> MediaReport {
        if let Err(e) = self.pipeline.close(Instant::now().into_std()) {
            self.last_error = Some(format!("RTCP BYE: {e}"));
        }
        self.transmit().await;
        self.playout.finish();
        let now = Instant::now();
        let stats = self.snapshot(now, true);
        self.stats.send_replace(stats.clone());
        let (input_errors, input_error) = self.capture.errors();
        let (output_errors, output_error) = self.playout.errors();
        MediaReport {
            stats,
            input_errors,
            input_error: input_error.map(str::to_owned),
            output_errors,
            output_error: output_error.map(str::to_owned),
            pipeline_error: self.last_error.take(),
            failure: None,
        }
    }
}

#[cfg(test)]
mod tests;
