//! RTCP on the side: when to report, what to put in our SR/RR, and what the far end's
//! reports tell us (round-trip time, its view of our loss, which drives Opus FEC).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::MediaEvent;
use super::receive::Receiver;
use super::send::{Sender, sender_info};
use crate::rtcp::{
    self, NtpTime, ReceiverReport, ReportBlock, RtcpPacket, SenderReport, compound_rr_sdes,
    compound_sr_sdes,
};
use crate::stats::RemoteStats;

pub(super) struct Reporter {
    interval: Duration,
    next: Instant,
    rng: StdRng,
    cname: String,
    start: Instant,
    wallclock_at_start: Duration,
    rtt: Option<Duration>,
    remote: Option<RemoteStats>,
    scratch: Vec<u8>,
}

impl Reporter {
    pub(super) fn new(
        now: Instant,
        interval: Duration,
        cname: String,
        wallclock_at_start: Duration,
        seed: u64,
    ) -> Self {
        let interval = interval.clamp(Duration::from_millis(100), Duration::from_secs(3600));
        Self {
            // RFC 3550 §6.2: the first report after half the minimum interval.
            next: now + interval / 2,
            interval,
            rng: StdRng::seed_from_u64(seed),
            cname,
            start: now,
            wallclock_at_start,
            rtt: None,
            remote: None,
            scratch: Vec::with_capacity(256),
        }
    }

    pub(super) fn next(&self) -> Instant {
        self.next
    }

    pub(super) fn rtt(&self) -> Option<Duration> {
        self.rtt
    }

    pub(super) fn remote(&self) -> Option<RemoteStats> {
        self.remote
    }

    /// Our clock in NTP form: the wall-clock at start plus the time elapsed since.
    fn ntp(&self, now: Instant) -> NtpTime {
        NtpTime::from_unix(self.wallclock_at_start + now.saturating_duration_since(self.start))
    }

    /// Builds our SR (if we have sent media) or RR, with SDES CNAME, into `scratch`.
    pub(super) fn build(
        &mut self,
        now: Instant,
        sender: &Sender,
        receiver: &mut Receiver,
    ) -> &[u8] {
        let reports: Vec<ReportBlock> = receiver.report_block(now).into_iter().collect();
        self.scratch.clear();
        match sender.sender_info(now) {
            Some(info) => {
                let sr = SenderReport {
                    ssrc: sender.ssrc(),
                    info: sender_info(self.ntp(now), info),
                    reports,
                };
                compound_sr_sdes(&sr, &self.cname, &mut self.scratch);
            }
            None => {
                let rr = ReceiverReport {
                    ssrc: sender.ssrc(),
                    reports,
                };
                compound_rr_sdes(&rr, &self.cname, &mut self.scratch);
            }
        }
        // Next report after 0.5–1.5 × the interval (RFC 3550 §6.3.1).
        let factor = self.rng.random_range(0.5..1.5);
        self.next = now + self.interval.mul_f64(factor);
        &self.scratch
    }

    /// Takes in a received compound RTCP packet.
    pub(super) fn on_rtcp(
        &mut self,
        now: Instant,
        packets: &[RtcpPacket],
        sender: &mut Sender,
        receiver: &mut Receiver,
        events: &mut VecDeque<MediaEvent>,
    ) {
        let ours = sender.ssrc();
        let remote = receiver.remote_ssrc();
        for packet in packets {
            let blocks: &[ReportBlock] = match packet {
                RtcpPacket::SenderReport(sr) => {
                    if Some(sr.ssrc) == remote
                        && let Some(reception) = receiver.reception_mut()
                    {
                        reception.on_sender_report(sr.info.ntp, now);
                    }
                    &sr.reports
                }
                RtcpPacket::ReceiverReport(rr) => &rr.reports,
                RtcpPacket::Bye(bye) => {
                    events.push_back(MediaEvent::Bye {
                        ssrcs: bye.sources.clone(),
                    });
                    &[]
                }
                _ => &[],
            };
            for block in blocks.iter().filter(|b| b.ssrc == ours) {
                self.on_report_block(now, block, sender);
            }
        }
    }

    fn on_report_block(&mut self, now: Instant, block: &ReportBlock, sender: &mut Sender) {
        if let Some(rtt) = rtcp::rtt(
            self.ntp(now).middle32(),
            block.last_sr,
            block.delay_since_last_sr,
        ) {
            self.rtt = Some(rtt);
        }
        let clock = f64::from(sender.encoder_mut().codec().clock_rate());
        let loss = f64::from(block.fraction_lost) / 256.0;
        self.remote = Some(RemoteStats {
            interval_loss_fraction: loss,
            lost: i64::from(block.cumulative_lost),
            jitter_ms: f64::from(block.jitter) / clock * 1000.0,
        });
        // Plan Opus FEC for the loss the far end sees (rounded up: 1/256 is not 0 %).
        let percent = (loss * 100.0).ceil().clamp(0.0, 100.0) as u8;
        // An encoder that refuses the setting keeps its previous one; nothing else to do.
        let _ = sender.encoder_mut().set_expected_loss(percent);
    }
}
