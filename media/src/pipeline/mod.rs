//! The sans-IO media pipeline of one call.
//!
//! ```text
//! push_capture_frame ─▶ encode ─▶ RTP packetize ─▶ SRTP protect ─▶ poll_transmit
//! handle_packet ─▶ RTP/RTCP demux (RFC 5761) ─▶ SRTP unprotect ─▶ jitter buffer ─▶ pull_playout_frame
//!                                                              └▶ DTMF ─▶ poll_event
//! poll_timeout / handle_timeout: RTCP SR/RR every ~5 s after a quick start (RTT within ~2 s;
//!                                loss reported back drives Opus FEC), DTMF packet pacing
//! close: SR/RR + SDES + BYE;  rekey: new SRTP keys, same stream
//! ```
//!
//! The caller owns the clock, the socket and the audio device: it calls
//! [`MediaPipeline::push_capture_frame`] and [`MediaPipeline::pull_playout_frame`] every 20 ms
//! (a [`Pacer`](crate::audio::Pacer) or the device says when), hands every datagram to
//! [`MediaPipeline::handle_packet`], sends what [`MediaPipeline::poll_transmit`] gives, and
//! sleeps until [`MediaPipeline::poll_timeout`].
//!
//! ```
//! use std::time::Instant;
//! use lockphone_media::codec::{Codec, CodecConfig};
//! use lockphone_media::pipeline::{MediaPipeline, MediaSecurity, PipelineConfig};
//!
//! let config = PipelineConfig::new(CodecConfig::default_for(Codec::Pcmu), MediaSecurity::PlainRtp);
//! let now = Instant::now();
//! let mut alice = MediaPipeline::new(config.clone(), now, &mut rand::rng()).unwrap();
//! let mut bob = MediaPipeline::new(config, now, &mut rand::rng()).unwrap();
//! alice.push_capture_frame(now, &[1000; 960]).unwrap();
//! while let Some(t) = alice.poll_transmit() {
//!     bob.handle_packet(now, &t.data);
//! }
//! let frame = bob.pull_playout_frame(now);
//! assert_eq!(frame.kind(), lockphone_media::audio::FrameKind::Audio);
//! ```

mod config;
mod receive;
mod report;
mod send;

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use thiserror::Error;

pub use self::config::{MediaSecurity, PayloadTypes, PipelineConfig};
use self::receive::{Receiver, is_rtcp};
use self::report::Reporter;
use self::send::Sender;
use crate::audio::{FRAME_DURATION, FRAME_SAMPLES, Frame, FrameKind};
use crate::codec::{Codec, CodecError};
use crate::dtmf::{DtmfError, DtmfTone};
use crate::jitter::JitterBuffer;
use crate::rtcp::{self, RtcpError};
use crate::rtp::{Packetizer, RtpError};
use crate::srtp::{SrtpContext, SrtpError, SrtpKeys};
use crate::stats::{CodecImpairment, StatsSnapshot, mos_from_r, r_factor};

/// Why the pipeline could not be built, or could not send.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The codec refused its settings or a frame.
    #[error("codec: {0}")]
    Codec(#[from] CodecError),
    /// SRTP refused the keys or a packet (key lifetime exhausted, index reuse).
    #[error("SRTP: {0}")]
    Srtp(#[from] SrtpError),
    /// A DTMF key is not one of 0–9, *, #, A–D.
    #[error("DTMF: {0}")]
    Dtmf(#[from] DtmfError),
    /// DTMF was asked for but telephone-event was not negotiated.
    #[error("telephone-event was not negotiated: DTMF cannot be sent")]
    NoTelephoneEvent,
    /// New SRTP keys for a plain RTP pipeline: build a new pipeline to add SRTP.
    #[error("the stream is plain RTP: SRTP keys need a new pipeline")]
    NotSrtp,
}

/// How long packets under the far end's previous keys are still accepted after a rekey
/// (see [`MediaPipeline::rekey`]).
pub const REKEY_GRACE: Duration = Duration::from_secs(2);

/// Whether a datagram to send is RTP or RTCP (they share the port with rtcp-mux; without it
/// RTCP goes to the RTP port + 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// An (S)RTP packet.
    Rtp,
    /// An (S)RTCP compound packet.
    Rtcp,
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit {
    /// RTP or RTCP.
    pub kind: PacketKind,
    /// The bytes, protected when SRTP is on.
    pub data: Vec<u8>,
}

/// Something the layer above should know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaEvent {
    /// The far end pressed a key.
    Dtmf(DtmfTone),
    /// Packets now come from a new SSRC (the first one, or the far end restarted its stream).
    RemoteSsrc {
        /// The SSRC before, if any.
        previous: Option<u32>,
        /// The new SSRC.
        ssrc: u32,
    },
    /// The far end said goodbye in RTCP.
    Bye {
        /// The sources leaving.
        ssrcs: Vec<u32>,
    },
}

/// Why a received datagram was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropReason {
    /// SRTP/SRTCP refused it (authentication, replay, malformed, cleartext).
    Srtp(SrtpError),
    /// Not a valid RTP packet.
    MalformedRtp(RtpError),
    /// Not a valid RTCP compound packet.
    MalformedRtcp(RtcpError),
    /// A payload type that was not negotiated.
    UnknownPayloadType(u8),
    /// A malformed telephone-event payload.
    Dtmf(DtmfError),
}

/// What [`MediaPipeline::handle_packet`] did with a datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PacketOutcome {
    /// Audio, now in the jitter buffer.
    Audio,
    /// A telephone-event packet.
    Dtmf,
    /// An RTCP report.
    Rtcp,
    /// Dropped, and counted.
    Dropped(DropReason),
}

/// One call's media: see the [module documentation](self).
pub struct MediaPipeline {
    codec: Codec,
    srtp: bool,
    sender: Sender,
    receiver: Receiver,
    reporter: Reporter,
    events: VecDeque<MediaEvent>,
    dtmf_duration: Duration,
    /// When the far end's previous SRTP keys stop being accepted, after a rekey.
    grace_until: Option<Instant>,
    /// Our BYE has been sent: nothing more goes out.
    closed: bool,
    /// The frame being played by [`MediaPipeline::pull_playout_samples`], and how far.
    playout: Frame,
    playout_pos: usize,
    /// Where [`MediaPipeline::handle_packet`] copies a datagram to unprotect it (allocated
    /// on its first use: the call driver unprotects in place and never needs it).
    receive_buffer: Vec<u8>,
}

impl std::fmt::Debug for MediaPipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MediaPipeline")
            .field("codec", &self.codec)
            .field("srtp", &self.srtp)
            .field("ssrc", &self.sender.ssrc())
            .field("remote_ssrc", &self.receiver.remote_ssrc())
            .finish_non_exhaustive()
    }
}

impl MediaPipeline {
    /// Builds the pipeline at `now`. `rng` picks the SSRC, the initial sequence number and
    /// timestamp (RFC 3550 §5.1), and seeds the RTCP interval randomisation.
    pub fn new(
        config: PipelineConfig,
        now: Instant,
        rng: &mut impl rand::RngCore,
    ) -> Result<Self, PipelineError> {
        let codec = config.codec.codec();
        let (tx, rx, srtp) = match &config.security {
            MediaSecurity::Srtp { send, receive } => (
                Some(SrtpContext::new(send)?),
                Some(SrtpContext::new(receive)?),
                true,
            ),
            MediaSecurity::PlainRtp => (None, None, false),
        };
        let packetizer = Packetizer::new(config.send_payload_types.audio, rng);
        let sender = Sender::new(
            config.codec.encoder()?,
            packetizer,
            tx,
            config.send_payload_types,
        );
        let jitter = JitterBuffer::new(config.jitter.clone(), config.codec.decoder()?);
        let receiver = Receiver::new(rx, jitter, config.receive_payload_types);
        let seed = u64::from(rng.next_u32()) << 32 | u64::from(rng.next_u32());
        let reporter = Reporter::new(
            now,
            config.rtcp_interval,
            config.cname.clone(),
            config.wallclock_at_start,
            seed,
        );
        Ok(Self {
            codec,
            srtp,
            sender,
            receiver,
            reporter,
            events: VecDeque::new(),
            dtmf_duration: config.dtmf_duration,
            grace_until: None,
            closed: false,
            playout: Frame::silence(),
            playout_pos: FRAME_SAMPLES,
            receive_buffer: Vec::new(),
        })
    }

    /// Switches to new SRTP keys (a re-INVITE changed them) without touching anything else:
    /// SSRC, sequence numbers, timestamps, codec state and the jitter buffer go on, so the
    /// audio stays continuous. `send` (our new keys) and `receive` (the far end's) are each
    /// `None` when that direction's keys did not change: its context, ROC and replay state
    /// are kept. A changed direction starts again at ROC 0 (RFC 4568 §7.1.4: new keys, new
    /// crypto context).
    ///
    /// The far end's previous keys are still accepted for [`REKEY_GRACE`] (counted in
    /// `srtp_rx.previous_key`): with SDES the two ends switch at different moments — the
    /// answerer on sending its answer, the offerer on receiving it — so packets the far end
    /// protected before it switched keep arriving for up to a signalling one-way delay, plus
    /// what was in flight. Dropping them would cut a hole in the audio at every rekey. The
    /// old keys were agreed for this very call and keep their own replay window, so a
    /// replayed old packet is still refused; after the grace they fail as authentication
    /// failures. Fails on a plain RTP pipeline.
    pub fn rekey(
        &mut self,
        now: Instant,
        send: Option<&SrtpKeys>,
        receive: Option<&SrtpKeys>,
    ) -> Result<(), PipelineError> {
        if !self.srtp {
            return Err(PipelineError::NotSrtp);
        }
        // (Keys are length-checked: deriving their contexts cannot fail in practice.)
        if let Some(keys) = receive {
            self.receiver.rekey_with_grace(keys)?;
            self.grace_until = Some(now + REKEY_GRACE);
        }
        if let Some(keys) = send {
            self.sender.rekey(keys)?;
        }
        Ok(())
    }

    /// Ends the stream: queues our last RTCP compound packet — SR (or RR), SDES and BYE
    /// (RFC 3550 §6.6), protected like every other — after which nothing more is sent
    /// (frames pushed are ignored, no more reports). Call once when the call ends or the
    /// pipeline is replaced.
    pub fn close(&mut self, now: Instant) -> Result<(), PipelineError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        let bye = self
            .reporter
            .build_bye(now, &self.sender, &mut self.receiver);
        self.sender.send_rtcp(bye)
    }

    /// Whether [`MediaPipeline::close`] has been called.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Forgets the far end's previous keys once the grace after a rekey is over.
    fn end_grace_if_due(&mut self, now: Instant) {
        if self.grace_until.is_some_and(|until| now >= until) {
            self.grace_until = None;
            self.receiver.end_srtp_grace();
        }
    }

    /// The codec in use.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Our SSRC.
    pub fn ssrc(&self) -> u32 {
        self.sender.ssrc()
    }

    /// The far end's SSRC, once a packet has arrived.
    pub fn remote_ssrc(&self) -> Option<u32> {
        self.receiver.remote_ssrc()
    }

    /// Encodes, packetizes and protects one captured 20 ms frame; the packet (if any: DTX
    /// may send nothing) is then waiting in [`MediaPipeline::poll_transmit`].
    pub fn push_capture_frame(
        &mut self,
        now: Instant,
        samples: &[i16; FRAME_SAMPLES],
    ) -> Result<(), PipelineError> {
        if self.closed {
            return Ok(());
        }
        self.sender.push_frame(now, samples)
    }

    /// Sends a DTMF key press of the configured duration (RFC 4733), after any already
    /// queued. Audio packets pause while it is sent.
    pub fn send_dtmf(&mut self, now: Instant, digit: char) -> Result<(), PipelineError> {
        if self.closed {
            return Ok(());
        }
        self.sender.send_dtmf(now, digit, self.dtmf_duration)
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.sender.poll_transmit()
    }

    /// Like [`MediaPipeline::poll_transmit`], but swaps the datagram into `out` and keeps
    /// `out`'s old allocation for later packets, so a steady stream does not allocate.
    pub fn poll_transmit_into(&mut self, out: &mut Vec<u8>) -> Option<PacketKind> {
        let transmit = self.sender.poll_transmit()?;
        let old = std::mem::replace(out, transmit.data);
        self.sender.recycle(old);
        Some(transmit.kind)
    }

    /// Takes in one received datagram (RTP or RTCP, protected or not as configured). Never
    /// fails: what cannot be used is dropped and counted. The datagram is copied once into
    /// a buffer the pipeline keeps (SRTP works in place); a caller that owns its receive
    /// buffer avoids that copy with [`MediaPipeline::handle_packet_mut`].
    pub fn handle_packet(&mut self, now: Instant, datagram: &[u8]) -> PacketOutcome {
        let mut buffer = std::mem::take(&mut self.receive_buffer);
        buffer.clear();
        buffer.extend_from_slice(datagram);
        let outcome = self.handle_packet_mut(now, &mut buffer);
        self.receive_buffer = buffer;
        outcome
    }

    /// Like [`MediaPipeline::handle_packet`], unprotecting in place in `datagram` (its
    /// content is then unspecified): no copy on the way to the jitter buffer.
    pub fn handle_packet_mut(&mut self, now: Instant, datagram: &mut [u8]) -> PacketOutcome {
        self.end_grace_if_due(now);
        self.receiver.count_bytes(datagram.len());
        if !is_rtcp(datagram) {
            return self.receiver.handle_rtp(now, datagram, &mut self.events);
        }
        let packets = match self.receiver.unprotect_rtcp(datagram) {
            Ok(plain) => rtcp::parse_compound(plain).map_err(DropReason::MalformedRtcp),
            Err(reason) => Err(reason),
        };
        match packets {
            Ok(packets) => {
                self.receiver.count_rtcp();
                self.reporter.on_rtcp(
                    now,
                    &packets,
                    &mut self.sender,
                    &mut self.receiver,
                    &mut self.events,
                );
                PacketOutcome::Rtcp
            }
            Err(reason) => {
                self.receiver.count_drop();
                PacketOutcome::Dropped(reason)
            }
        }
    }

    /// The frame to play now: decoded, rebuilt from FEC, concealed, or silence before the
    /// first packet. Call every 20 ms.
    pub fn pull_playout_frame(&mut self, now: Instant) -> Frame {
        self.receiver.jitter_mut().pop_frame(now)
    }

    /// Fills `out` with the next samples to play, for an output that asks for audio in
    /// periods shorter than a frame (a sound card's 5 or 10 ms callback period): the next
    /// frame is taken from the jitter buffer — as [`MediaPipeline::pull_playout_frame`]
    /// would — only when the samples of the previous one have all been handed out, at the
    /// `now` of that pull. So a packet starts playing at the first period after it arrives
    /// instead of the next 20 ms tick: at zero network jitter the wait for the playout
    /// point is under one period instead of up to 20 ms. Use this or `pull_playout_frame`,
    /// not both.
    pub fn pull_playout_samples(&mut self, now: Instant, mut out: &mut [i16]) {
        while !out.is_empty() {
            if self.playout_pos >= FRAME_SAMPLES {
                self.playout = self.receiver.jitter_mut().pop_frame(now);
                self.playout_pos = 0;
            }
            let rest = self
                .playout
                .samples()
                .get(self.playout_pos..)
                .unwrap_or_default();
            let n = rest.len().min(out.len());
            let (head, tail) = std::mem::take(&mut out).split_at_mut(n);
            head.copy_from_slice(rest.get(..n).unwrap_or_default());
            self.playout_pos += n;
            out = tail;
            if self.playout.kind() == FrameKind::Silence && !self.receiver.jitter().is_playing() {
                // Nothing to play yet: ask again at the next pull, so that playout starts
                // at the first pull after a packet, not on a 20 ms grid set by the silence.
                self.playout_pos = FRAME_SAMPLES;
            }
        }
    }

    /// The kind of the frame the last [`MediaPipeline::pull_playout_samples`] handed out
    /// samples of (its last ones): decoded, FEC, concealed or silence. An output that counts
    /// what it played asks after each pull. [`FrameKind::Silence`] before the first pull.
    pub fn playout_kind(&self) -> FrameKind {
        self.playout.kind()
    }

    /// When [`MediaPipeline::handle_timeout`] should next be called.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed {
            return self.grace_until;
        }
        let rtcp = self.reporter.next();
        let mut next = self.sender.next_dtmf().map_or(rtcp, |d| d.min(rtcp));
        if let Some(until) = self.grace_until {
            next = next.min(until);
        }
        Some(next)
    }

    /// Sends what is due: RTCP reports, DTMF packets; ends a rekey's grace.
    pub fn handle_timeout(&mut self, now: Instant) -> Result<(), PipelineError> {
        self.end_grace_if_due(now);
        if self.closed {
            return Ok(());
        }
        self.sender.send_due_dtmf(now)?;
        if now >= self.reporter.next() {
            let report = self.reporter.build(now, &self.sender, &mut self.receiver);
            self.sender.send_rtcp(report)?;
        }
        Ok(())
    }

    /// The next event for the layer above.
    pub fn poll_event(&mut self) -> Option<MediaEvent> {
        self.events.pop_front()
    }

    /// A snapshot of the stream's statistics and estimated quality at `now`.
    pub fn stats(&self, now: Instant) -> StatsSnapshot {
        let jitter = self.receiver.jitter().stats();
        let mut received = self.receiver.stats();
        received.last_packet_age_ms = self
            .receiver
            .last_packet()
            .map(|t| now.saturating_duration_since(t).as_secs_f64() * 1000.0);
        let rtt = self.reporter.rtt();
        // Mouth to ear: half the round trip, the far end's framing and look-ahead (taken as
        // ours), and our jitter buffer.
        let mouth_to_ear = rtt.map_or(Duration::ZERO, |r| r / 2)
            + FRAME_DURATION
            + self.sender.encoder_lookahead()
            + Duration::from_secs_f64(jitter.delay_ms / 1000.0);
        // Loss as heard: lost in the network or too late, less what FEC rebuilt.
        let expected = received.packets as f64 + received.lost.max(0) as f64;
        let heard_lost = (received.lost.max(0) as f64 + jitter.late as f64
            - jitter.fec_recovered as f64)
            .max(0.0);
        let loss = if expected > 0.0 {
            heard_lost / expected
        } else {
            0.0
        };
        let impairment = CodecImpairment::for_codec(self.codec);
        let r = (received.packets > 0).then(|| r_factor(mouth_to_ear, loss, 1.0, impairment));
        StatsSnapshot {
            codec: self.codec,
            srtp: self.srtp,
            sent: self.sender.stats(),
            received,
            remote: self.reporter.remote(),
            rtt_ms: rtt.map(|r| r.as_secs_f64() * 1000.0),
            jitter_buffer: jitter,
            srtp_tx: self.sender.srtp_counters(),
            srtp_rx: self.receiver.srtp_counters(),
            mouth_to_ear_ms: mouth_to_ear.as_secs_f64() * 1000.0,
            r_factor: r,
            mos: r.map(mos_from_r),
        }
    }
}
