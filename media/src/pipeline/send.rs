//! The sending half: encode → RTP packetize → SRTP protect → queue; DTMF key presses.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::{PacketKind, PayloadTypes, PipelineError, Transmit};
use crate::audio::{FRAME_DURATION, FRAME_SAMPLES};
use crate::codec::AudioEncoder;
use crate::dtmf::{DtmfEncoder, DtmfPacket};
use crate::rtcp::SenderInfo;
use crate::rtp::Packetizer;
use crate::srtp::{SrtpContext, SrtpCounters, SrtpError, SrtpKeys};
use crate::stats::SendStats;

/// Gap left between two queued key presses.
const DTMF_GAP: Duration = Duration::from_millis(60);
/// Buffers kept for reuse.
const POOL_LIMIT: usize = 32;

pub(super) struct Sender {
    encoder: Box<dyn AudioEncoder>,
    packetizer: Packetizer,
    srtp: Option<SrtpContext>,
    payload_types: PayloadTypes,
    clock_rate: u32,
    /// RTP timestamp units per frame.
    step: u32,
    payload: Vec<u8>,
    queue: VecDeque<Transmit>,
    pool: Vec<Vec<u8>>,
    /// The next audio packet starts a talk-spurt (marker bit).
    talkspurt: bool,
    dtmf_encoder: Option<DtmfEncoder>,
    /// Telephone-event packets waiting for their send time.
    dtmf: VecDeque<(Instant, DtmfPacket)>,
    /// Time and RTP timestamp of the last audio frame, for sender reports.
    last_frame: Option<(Instant, u32)>,
    stats: SendStats,
}

impl Sender {
    pub(super) fn new(
        encoder: Box<dyn AudioEncoder>,
        packetizer: Packetizer,
        srtp: Option<SrtpContext>,
        payload_types: PayloadTypes,
    ) -> Self {
        let clock_rate = encoder.codec().clock_rate();
        let dtmf_encoder = payload_types
            .telephone_event
            .map(|_| DtmfEncoder::new(clock_rate, FRAME_DURATION));
        Self {
            step: encoder.codec().timestamp_step(),
            encoder,
            packetizer,
            srtp,
            payload_types,
            clock_rate,
            payload: Vec::with_capacity(1500),
            queue: VecDeque::new(),
            pool: Vec::new(),
            talkspurt: true,
            dtmf_encoder,
            dtmf: VecDeque::new(),
            last_frame: None,
            stats: SendStats::default(),
        }
    }

    pub(super) fn ssrc(&self) -> u32 {
        self.packetizer.ssrc()
    }

    pub(super) fn stats(&self) -> SendStats {
        self.stats
    }

    pub(super) fn srtp_counters(&self) -> Option<SrtpCounters> {
        self.srtp.as_ref().map(SrtpContext::counters)
    }

    /// New keys for what we send: SSRC, sequence numbers and timestamps go on, the ROC
    /// starts again at 0.
    pub(super) fn rekey(&mut self, keys: &SrtpKeys) -> Result<(), SrtpError> {
        match self.srtp.as_mut() {
            Some(srtp) => srtp.rekey(keys),
            None => Ok(()),
        }
    }

    pub(super) fn encoder_mut(&mut self) -> &mut dyn AudioEncoder {
        self.encoder.as_mut()
    }

    pub(super) fn encoder_lookahead(&self) -> Duration {
        self.encoder.lookahead()
    }

    /// `d` in RTP timestamp units (timestamps wrap modulo 2^32: so does this).
    fn units(&self, d: Duration) -> u32 {
        crate::rtp::clock_units(d, self.clock_rate) as u32
    }

    /// Protects `plain` (when SRTP is on) and queues it.
    fn emit(&mut self, kind: PacketKind, plain: Vec<u8>) -> Result<(), PipelineError> {
        let mut data = plain;
        if let Some(srtp) = self.srtp.as_mut() {
            match kind {
                PacketKind::Rtp => srtp.protect_rtp_in_place(&mut data)?,
                PacketKind::Rtcp => srtp.protect_rtcp_in_place(&mut data)?,
            }
        }
        self.stats.bytes += data.len() as u64;
        self.queue.push_back(Transmit { kind, data });
        Ok(())
    }

    fn buffer(&mut self) -> Vec<u8> {
        self.pool.pop().unwrap_or_else(|| Vec::with_capacity(1500))
    }

    pub(super) fn recycle(&mut self, mut buffer: Vec<u8>) {
        if self.pool.len() < POOL_LIMIT {
            buffer.clear();
            self.pool.push(buffer);
        }
    }

    /// Encodes and sends one captured frame (unless DTX or a key press silences it).
    pub(super) fn push_frame(
        &mut self,
        now: Instant,
        samples: &[i16; FRAME_SAMPLES],
    ) -> Result<(), PipelineError> {
        self.send_due_dtmf(now)?;
        self.encoder.encode(samples, &mut self.payload)?;
        let timestamp = self.packetizer.timestamp();
        self.last_frame = Some((now, timestamp));
        if self.payload.is_empty() || !self.dtmf.is_empty() {
            // DTX silence, or a key press owns this stretch of the timeline (RFC 4733 §2.5.1.2).
            if self.payload.is_empty() {
                self.stats.suppressed_frames += 1;
            }
            self.packetizer.advance(self.step);
            self.talkspurt = true;
            return Ok(());
        }
        let mut packet = self.buffer();
        self.packetizer
            .next_packet(&self.payload, self.step, self.talkspurt, &mut packet);
        self.talkspurt = false;
        self.stats.packets += 1;
        self.stats.payload_bytes += self.payload.len() as u64;
        self.emit(PacketKind::Rtp, packet)
    }

    /// Schedules a key press starting now (or after the key presses already queued).
    pub(super) fn send_dtmf(
        &mut self,
        now: Instant,
        digit: char,
        duration: Duration,
    ) -> Result<(), PipelineError> {
        let encoder = self.dtmf_encoder.ok_or(PipelineError::NoTelephoneEvent)?;
        let start = match self.dtmf.back() {
            Some(&(last, _)) => (last + DTMF_GAP).max(now),
            None => now,
        };
        let timestamp = self
            .packetizer
            .timestamp()
            .wrapping_add(self.units(start.saturating_duration_since(now)));
        let packets = encoder.encode(digit, duration, timestamp)?;
        self.dtmf
            .extend(packets.into_iter().map(|p| (start + p.send_at, p)));
        self.send_due_dtmf(now)
    }

    /// Sends the telephone-event packets whose time has come.
    pub(super) fn send_due_dtmf(&mut self, now: Instant) -> Result<(), PipelineError> {
        let Some(pt) = self.payload_types.telephone_event else {
            return Ok(());
        };
        while let Some(&(at, packet)) = self.dtmf.front() {
            if at > now {
                break;
            }
            self.dtmf.pop_front();
            let mut out = self.buffer();
            self.packetizer.next_packet_with(
                pt,
                packet.timestamp,
                packet.marker,
                &packet.payload,
                &mut out,
            );
            if packet.marker {
                self.stats.dtmf_events += 1;
            }
            self.emit(PacketKind::Rtp, out)?;
        }
        Ok(())
    }

    /// When the next telephone-event packet is due.
    pub(super) fn next_dtmf(&self) -> Option<Instant> {
        self.dtmf.front().map(|&(at, _)| at)
    }

    /// Sender information for an SR at `now`, if we have sent media.
    pub(super) fn sender_info(&self, now: Instant) -> Option<(u32, u32, u32)> {
        if self.stats.packets == 0 {
            return None;
        }
        let rtp_timestamp = match self.last_frame {
            Some((at, ts)) => ts.wrapping_add(self.units(now.saturating_duration_since(at))),
            None => self.packetizer.timestamp(),
        };
        // The SR counters wrap modulo 2^32 (RFC 3550 §6.4.1).
        Some((
            rtp_timestamp,
            self.stats.packets as u32,
            self.stats.payload_bytes as u32,
        ))
    }

    /// Queues an RTCP compound packet.
    pub(super) fn send_rtcp(&mut self, plain: &[u8]) -> Result<(), PipelineError> {
        let mut packet = self.buffer();
        packet.extend_from_slice(plain);
        self.stats.rtcp_packets += 1;
        self.emit(PacketKind::Rtcp, packet)
    }

    pub(super) fn poll_transmit(&mut self) -> Option<Transmit> {
        self.queue.pop_front()
    }
}

/// Fills an SR's sender info.
pub(super) fn sender_info(
    ntp: crate::rtcp::NtpTime,
    (rtp_timestamp, packet_count, octet_count): (u32, u32, u32),
) -> SenderInfo {
    SenderInfo {
        ntp,
        rtp_timestamp,
        packet_count,
        octet_count,
    }
}
