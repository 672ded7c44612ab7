//! The receiving half: demultiplex RTP and RTCP (RFC 5761), SRTP unprotect, payload type
//! dispatch to the jitter buffer or the DTMF decoder, reception statistics.

use std::collections::VecDeque;
use std::time::Instant;

use super::{DropReason, MediaEvent, PacketOutcome, PayloadTypes};
use crate::dtmf::DtmfDecoder;
use crate::jitter::JitterBuffer;
use crate::rtcp::{ReceptionStats, ReportBlock};
use crate::rtp::RtpPacket;
use crate::srtp::{SrtpContext, SrtpCounters, SrtpError, SrtpKeys};
use crate::stats::ReceiveStats;

/// RFC 5761 §4: with RTP and RTCP on one port, a second byte of 192–223 is RTCP (RTP
/// payload types 64–95, which would collide, are never used).
pub(super) fn is_rtcp(datagram: &[u8]) -> bool {
    matches!(datagram, [first, second, ..] if first >> 6 == 2 && (192..=223).contains(second))
}

pub(super) struct Receiver {
    srtp: Option<SrtpContext>,
    jitter: JitterBuffer,
    payload_types: PayloadTypes,
    clock_rate: u32,
    remote_ssrc: Option<u32>,
    reception: Option<ReceptionStats>,
    dtmf: DtmfDecoder,
    last_packet: Option<Instant>,
    stats: ReceiveStats,
}

impl Receiver {
    pub(super) fn new(
        srtp: Option<SrtpContext>,
        jitter: JitterBuffer,
        payload_types: PayloadTypes,
    ) -> Self {
        Self {
            srtp,
            clock_rate: jitter.codec().clock_rate(),
            jitter,
            payload_types,
            remote_ssrc: None,
            reception: None,
            dtmf: DtmfDecoder::default(),
            last_packet: None,
            stats: ReceiveStats::default(),
        }
    }

    pub(super) fn jitter(&self) -> &JitterBuffer {
        &self.jitter
    }

    pub(super) fn jitter_mut(&mut self) -> &mut JitterBuffer {
        &mut self.jitter
    }

    pub(super) fn remote_ssrc(&self) -> Option<u32> {
        self.remote_ssrc
    }

    pub(super) fn srtp_counters(&self) -> Option<SrtpCounters> {
        self.srtp.as_ref().map(SrtpContext::counters)
    }

    pub(super) fn last_packet(&self) -> Option<Instant> {
        self.last_packet
    }

    pub(super) fn reception_mut(&mut self) -> Option<&mut ReceptionStats> {
        self.reception.as_mut()
    }

    /// Counters, with the loss and jitter figures filled in.
    pub(super) fn stats(&self) -> ReceiveStats {
        let mut stats = self.stats;
        if let Some(r) = &self.reception {
            let lost = i64::from(r.cumulative_lost());
            let expected = i64::from(r.received()) + lost;
            stats.lost = lost;
            stats.loss_fraction = if expected > 0 {
                (lost.max(0) as f64 / expected as f64).clamp(0.0, 1.0)
            } else {
                0.0
            };
            stats.jitter_ms = r.jitter_duration().as_secs_f64() * 1000.0;
        }
        stats
    }

    pub(super) fn count_bytes(&mut self, len: usize) {
        self.stats.bytes += len as u64;
    }

    pub(super) fn count_rtcp(&mut self) {
        self.stats.rtcp_packets += 1;
    }

    pub(super) fn count_drop(&mut self) {
        self.stats.dropped += 1;
    }

    /// The far end's new keys; its old ones still pass until [`Receiver::end_srtp_grace`].
    pub(super) fn rekey_with_grace(&mut self, keys: &SrtpKeys) -> Result<(), SrtpError> {
        match self.srtp.as_mut() {
            Some(srtp) => srtp.rekey_with_grace(keys),
            None => Ok(()),
        }
    }

    pub(super) fn end_srtp_grace(&mut self) {
        if let Some(srtp) = self.srtp.as_mut() {
            srtp.end_grace();
        }
    }

    /// The far end's stream said BYE: play out what is buffered, then silence.
    pub(super) fn on_bye(&mut self) {
        self.stats.remote_bye = true;
        self.jitter.end_of_stream();
    }

    /// A report block about the far end's stream, starting a new loss interval.
    pub(super) fn report_block(&mut self, now: Instant) -> Option<ReportBlock> {
        let block = self.reception.as_mut()?.report_block(now)?;
        self.stats.interval_loss_fraction = f64::from(block.fraction_lost) / 256.0;
        Some(block)
    }

    /// Unprotects an RTCP datagram in place (when SRTP is on) and returns the plain
    /// compound packet.
    pub(super) fn unprotect_rtcp<'a>(
        &mut self,
        datagram: &'a mut [u8],
    ) -> Result<&'a [u8], DropReason> {
        match self.srtp.as_mut() {
            Some(srtp) => match srtp.unprotect_rtcp_in_place(datagram) {
                Ok(len) => Ok(datagram.get(..len).unwrap_or_default()),
                Err(e) => Err(DropReason::Srtp(e)),
            },
            None => Ok(datagram),
        }
    }

    /// Handles one RTP datagram, unprotecting it in place.
    pub(super) fn handle_rtp(
        &mut self,
        now: Instant,
        datagram: &mut [u8],
        events: &mut VecDeque<MediaEvent>,
    ) -> PacketOutcome {
        let plain: &[u8] = match self.srtp.as_mut() {
            Some(srtp) => match srtp.unprotect_rtp_in_place(datagram) {
                Ok(len) => datagram.get(..len).unwrap_or_default(),
                Err(e) => {
                    self.stats.dropped += 1;
                    return PacketOutcome::Dropped(DropReason::Srtp(e));
                }
            },
            None => datagram,
        };
        let packet = match RtpPacket::parse(plain) {
            Ok(p) => p,
            Err(e) => {
                self.stats.dropped += 1;
                return PacketOutcome::Dropped(DropReason::MalformedRtp(e));
            }
        };
        let pt = packet.payload_type();
        let is_audio = pt == self.payload_types.audio;
        let is_event = Some(pt) == self.payload_types.telephone_event;
        if !is_audio && !is_event {
            self.stats.dropped += 1;
            return PacketOutcome::Dropped(DropReason::UnknownPayloadType(pt));
        }
        let ssrc = packet.ssrc();
        if self.remote_ssrc != Some(ssrc) {
            // A new source (first packet, or the far end restarted its stream).
            events.push_back(MediaEvent::RemoteSsrc {
                previous: self.remote_ssrc,
                ssrc,
            });
            self.remote_ssrc = Some(ssrc);
            self.reception = Some(ReceptionStats::new(ssrc, self.clock_rate));
            self.stats.remote_bye = false;
            self.jitter.reset();
            self.dtmf = DtmfDecoder::default();
        }
        if let Some(reception) = self.reception.as_mut() {
            reception.on_packet(packet.sequence(), packet.timestamp(), now);
        }
        self.stats.packets += 1;
        self.last_packet = Some(now);
        if is_audio {
            self.jitter
                .push(now, packet.sequence(), packet.timestamp(), packet.payload());
            return PacketOutcome::Audio;
        }
        match self.dtmf.on_payload(packet.timestamp(), packet.payload()) {
            Ok(Some(tone)) => {
                self.stats.dtmf_events += 1;
                events.push_back(MediaEvent::Dtmf(tone));
                PacketOutcome::Dtmf
            }
            Ok(None) => PacketOutcome::Dtmf,
            Err(e) => {
                self.stats.dropped += 1;
                PacketOutcome::Dropped(DropReason::Dtmf(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_rtcp;

    #[test]
    fn rfc5761_demultiplexing() {
        assert!(is_rtcp(&[0x80, 200, 0, 6]));
        assert!(is_rtcp(&[0x81, 201]));
        assert!(!is_rtcp(&[0x80, 0]));
        assert!(!is_rtcp(&[0x80, 111]));
        assert!(!is_rtcp(&[0x80, 0x80 | 111])); // marker set on dynamic PT 111
        assert!(!is_rtcp(&[0x40, 200]));
        assert!(!is_rtcp(&[0x80]));
    }
}
