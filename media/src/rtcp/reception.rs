//! Per-source reception statistics: loss (RFC 3550 A.1/A.3) and interarrival jitter (A.8),
//! turned into report blocks. Arrival times are passed in.

use std::time::{Duration, Instant};

use super::ntp::{NtpTime, duration_to_ntp_short};
use super::packet::ReportBlock;
use crate::rtp::{SequenceTracker, SequenceUpdate};

/// What one receiver knows about one sender.
///
/// The tracker starts without probation: under SRTP only authenticated packets reach it.
#[derive(Debug, Clone)]
pub struct ReceptionStats {
    ssrc: u32,
    clock_rate: u32,
    sequence: Option<SequenceTracker>,
    /// First arrival, the origin of the arrival clock.
    origin: Option<Instant>,
    last_transit: Option<i64>,
    /// Jitter in timestamp units, scaled by 16 (RFC 3550 A.8).
    jitter_q4: u32,
    /// LSR and the arrival of that SR.
    last_sr: Option<(u32, Instant)>,
}

impl ReceptionStats {
    /// Statistics for source `ssrc` whose RTP clock runs at `clock_rate` Hz.
    pub fn new(ssrc: u32, clock_rate: u32) -> Self {
        Self {
            ssrc,
            clock_rate: clock_rate.max(1),
            sequence: None,
            origin: None,
            last_transit: None,
            jitter_q4: 0,
            last_sr: None,
        }
    }

    /// The source.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Records a received RTP packet.
    pub fn on_packet(
        &mut self,
        sequence: u16,
        rtp_timestamp: u32,
        arrival: Instant,
    ) -> SequenceUpdate {
        let update = match &mut self.sequence {
            Some(tracker) => tracker.update(sequence),
            None => {
                let tracker = SequenceTracker::new_trusted(sequence);
                let extended = tracker.extended_max();
                self.sequence = Some(tracker);
                SequenceUpdate::Valid {
                    extended,
                    late: false,
                }
            }
        };
        if matches!(
            update,
            SequenceUpdate::Valid { .. } | SequenceUpdate::Restarted { .. }
        ) {
            self.update_jitter(rtp_timestamp, arrival);
        }
        update
    }

    fn update_jitter(&mut self, rtp_timestamp: u32, arrival: Instant) {
        let origin = *self.origin.get_or_insert(arrival);
        let elapsed = arrival.saturating_duration_since(origin);
        let arrival_units = crate::rtp::clock_units(elapsed, self.clock_rate);
        // Transit in timestamp units, modulo 2^32 like the timestamps themselves.
        let transit = i64::from((arrival_units as u32).wrapping_sub(rtp_timestamp) as i32);
        if let Some(last) = self.last_transit {
            let d = (transit - last)
                .unsigned_abs()
                .min(u64::from(u32::MAX >> 4)) as u32;
            self.jitter_q4 = self.jitter_q4 + d - ((self.jitter_q4 + 8) >> 4);
        }
        self.last_transit = Some(transit);
    }

    /// Records a sender report from this source, received at `arrival`.
    pub fn on_sender_report(&mut self, ntp: NtpTime, arrival: Instant) {
        self.last_sr = Some((ntp.middle32(), arrival));
    }

    /// Interarrival jitter in timestamp units.
    pub fn jitter(&self) -> u32 {
        self.jitter_q4 >> 4
    }

    /// Interarrival jitter as a duration.
    pub fn jitter_duration(&self) -> Duration {
        Duration::from_nanos(u64::from(self.jitter()) * 1_000_000_000 / u64::from(self.clock_rate))
    }

    /// Cumulative packets lost so far.
    pub fn cumulative_lost(&self) -> i32 {
        self.sequence
            .as_ref()
            .map_or(0, SequenceTracker::cumulative_lost)
    }

    /// Packets received so far.
    pub fn received(&self) -> u32 {
        self.sequence.as_ref().map_or(0, SequenceTracker::received)
    }

    /// A report block for an SR or RR sent at `now`, starting a new loss interval. `None`
    /// before the first packet.
    pub fn report_block(&mut self, now: Instant) -> Option<ReportBlock> {
        let tracker = self.sequence.as_mut()?;
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some((lsr, at)) => (
                lsr,
                duration_to_ntp_short(now.saturating_duration_since(at)),
            ),
            None => (0, 0),
        };
        Some(ReportBlock {
            ssrc: self.ssrc,
            fraction_lost: tracker.fraction_lost_since_last(),
            cumulative_lost: tracker.cumulative_lost(),
            extended_highest_seq: tracker.extended_max(),
            jitter: self.jitter(),
            last_sr,
            delay_since_last_sr,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::disallowed_methods)]
    fn base() -> Instant {
        Instant::now()
    }

    #[test]
    fn steady_stream_has_no_jitter_and_no_loss() {
        let t0 = base();
        let mut stats = ReceptionStats::new(7, 8000);
        for i in 0..50u16 {
            stats.on_packet(
                100 + i,
                1000 + u32::from(i) * 160,
                t0 + Duration::from_millis(20 * u64::from(i)),
            );
        }
        let block = stats.report_block(t0 + Duration::from_secs(1)).unwrap();
        assert_eq!(
            (
                block.ssrc,
                block.fraction_lost,
                block.cumulative_lost,
                block.jitter
            ),
            (7, 0, 0, 0)
        );
        assert_eq!(block.extended_highest_seq, 149);
        assert_eq!((block.last_sr, block.delay_since_last_sr), (0, 0));
    }

    #[test]
    fn alternating_delay_converges_to_its_size() {
        let t0 = base();
        let mut stats = ReceptionStats::new(7, 8000);
        for i in 0..2000u32 {
            // Every other packet is 10 ms (80 units) late.
            let late = if i % 2 == 1 { 10 } else { 0 };
            let arrival = t0 + Duration::from_millis(20 * u64::from(i) + late);
            stats.on_packet(i as u16, i * 160, arrival);
        }
        assert!((78..=80).contains(&stats.jitter()), "{}", stats.jitter());
        assert_eq!(stats.jitter_duration().as_millis(), 9);
    }

    #[test]
    fn loss_fraction_and_dlsr() {
        let t0 = base();
        let mut stats = ReceptionStats::new(1, 48_000);
        for seq in (0u16..100).filter(|s| s % 10 != 0 || *s == 0) {
            stats.on_packet(seq, u32::from(seq) * 960, t0);
        }
        stats.on_sender_report(NtpTime(0x0000_1234_5678_0000), t0);
        let block = stats.report_block(t0 + Duration::from_millis(500)).unwrap();
        assert_eq!(block.cumulative_lost, 9);
        assert_eq!(block.fraction_lost, (9 * 256 / 100) as u8);
        assert_eq!(block.last_sr, 0x1234_5678);
        assert_eq!(block.delay_since_last_sr, 32_768);
        assert_eq!(stats.report_block(t0).unwrap().fraction_lost, 0);
    }
}
