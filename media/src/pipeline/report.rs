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
    self, Bye, NtpTime, ReceiverReport, ReportBlock, RtcpPacket, SenderReport, compound_rr_sdes,
    compound_sr_sdes,
};
use crate::stats::RemoteStats;

/// Mean interval of the start-up reports (see [`Reporter`]).
const STARTUP_INTERVAL: Duration = Duration::from_secs(1);
/// Start-up reports at most, when the far end never sends an SR to answer.
const STARTUP_REPORTS: u32 = 6;

/// When to report, and what.
///
/// # Timing
///
/// RFC 3550 §6.2 sets a 5 s minimum interval (the first report after half of it) but lets a
/// unicast session use a reduced minimum and send its first report with no delay at all. A
/// round-trip time needs two crossings: our SR must reach the far end, and its next report
/// must carry that SR's LSR/DLSR back. With 5 s reports (the first at 2.5 s, the second 2.5–7.5 s
/// later) a 3–4 s call ends before either side has echoed an SR, so no RTT is ever measured.
///
/// So a call starts with short reports: the first after 0.25–0.75 s (half a
/// [`STARTUP_INTERVAL`], randomised), then every 0.5–1.5 s **until our report has echoed an
/// SR of the far end** (a report block with LSR ≠ 0) — the far end, doing the same, then has
/// its RTT; we have ours once it echoes ours — and at most [`STARTUP_REPORTS`] of them for
/// a far end that never sends an SR. Then the configured interval (5 s) randomised to
/// 0.5–1.5× (RFC 3550 §6.3.1). Two or three reports of about 100 bytes in the first two
/// seconds are well inside the 5 % RTCP share of even a 16 kbit/s stream. (RFC 4585's
/// `trr-int` would need RTP/AVPF, which we do not offer.)
pub(super) struct Reporter {
    interval: Duration,
    next: Instant,
    /// We have sent a report block echoing an SR of the far end: start-up is over.
    echoed: bool,
    startup_sent: u32,
    rng: StdRng,
    cname: String,
    start: Instant,
    wallclock_at_start: Duration,
    rtt: Option<Duration>,
    remote: Option<RemoteStats>,
    scratch: Vec<u8>,
    /// Report blocks of the report being written (kept for its allocation).
    blocks: Vec<ReportBlock>,
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
        let mut rng = StdRng::seed_from_u64(seed);
        // RFC 3550 §6.2: the first report after half the (here: start-up) interval.
        let first = (STARTUP_INTERVAL.min(interval) / 2).mul_f64(rng.random_range(0.5..1.5));
        Self {
            next: now + first,
            echoed: false,
            startup_sent: 0,
            interval,
            rng,
            cname,
            start: now,
            wallclock_at_start,
            rtt: None,
            remote: None,
            scratch: Vec::with_capacity(256),
            blocks: Vec::with_capacity(1),
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

    /// Builds our SR (if we have sent media) or RR, with SDES CNAME, into `scratch`, and
    /// schedules the next report.
    pub(super) fn build(
        &mut self,
        now: Instant,
        sender: &Sender,
        receiver: &mut Receiver,
    ) -> &[u8] {
        let echoed = self.write_report(now, sender, receiver);
        let startup = !self.echoed && self.startup_sent < STARTUP_REPORTS;
        self.echoed |= echoed;
        let base = if startup && !echoed {
            self.startup_sent += 1;
            STARTUP_INTERVAL.min(self.interval)
        } else {
            self.interval
        };
        // Next report after 0.5–1.5 × the interval (RFC 3550 §6.3.1).
        let factor = self.rng.random_range(0.5..1.5);
        self.next = now + base.mul_f64(factor);
        &self.scratch
    }

    /// Builds our last compound packet into `scratch`: SR or RR, SDES CNAME and a BYE for
    /// our SSRC (RFC 3550 §6.6).
    pub(super) fn build_bye(
        &mut self,
        now: Instant,
        sender: &Sender,
        receiver: &mut Receiver,
    ) -> &[u8] {
        self.write_report(now, sender, receiver);
        Bye {
            sources: vec![sender.ssrc()],
            reason: None,
        }
        .write(&mut self.scratch);
        &self.scratch
    }

    /// Writes SR or RR + SDES into `scratch`; true when its report block echoes an SR.
    fn write_report(&mut self, now: Instant, sender: &Sender, receiver: &mut Receiver) -> bool {
        let mut reports = std::mem::take(&mut self.blocks);
        reports.clear();
        reports.extend(receiver.report_block(now));
        let echoed = reports.iter().any(|b| b.last_sr != 0);
        self.scratch.clear();
        let ssrc = sender.ssrc();
        self.blocks = match sender.sender_info(now) {
            Some(info) => {
                let sr = SenderReport {
                    ssrc,
                    info: sender_info(self.ntp(now), info),
                    reports,
                };
                compound_sr_sdes(&sr, &self.cname, &mut self.scratch);
                sr.reports
            }
            None => {
                let rr = ReceiverReport { ssrc, reports };
                compound_rr_sdes(&rr, &self.cname, &mut self.scratch);
                rr.reports
            }
        };
        echoed
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
                    if remote.is_some_and(|r| bye.sources.contains(&r)) {
                        receiver.on_bye();
                    }
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
