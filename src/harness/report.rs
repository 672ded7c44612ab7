//! One call's report: what a loop writes as a JSON line per call.

use serde::Serialize;

use crate::call::{CallId, CallSummary};
use crate::media::{MediaReport, ReceivedAudio};
use crate::verdict::{SecurityLevel, Verdict};
use lockphone_media::impair::ImpairmentStats;

/// Whether a call did what a loop asks of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CallResult {
    /// Answered, media received (when required), ended by a hang-up.
    Ok,
    /// Anything else: see the report's `failure`.
    Failed,
}

/// Why a call failed, in classes a script can count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailureKind {
    /// The call could not be placed (target unreachable, TLS refused, bad URI).
    DialFailed,
    /// The far end refused it with a final status (see the reason).
    Rejected,
    /// Not answered within the setup timeout; cancelled.
    SetupTimeout,
    /// Answered, but it failed: an unacceptable SDP answer, a transport or session-timer
    /// failure, media that could not start.
    CallFailed,
    /// Answered, but no media packet was received.
    NoMedia,
    /// The call never reported its end.
    NoEnd,
    /// The loop was stopped (Ctrl-C) before the call was answered.
    Stopped,
}

impl FailureKind {
    /// The kebab-case name (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::DialFailed => "dial-failed",
            FailureKind::Rejected => "rejected",
            FailureKind::SetupTimeout => "setup-timeout",
            FailureKind::CallFailed => "call-failed",
            FailureKind::NoMedia => "no-media",
            FailureKind::NoEnd => "no-end",
            FailureKind::Stopped => "stopped",
        }
    }
}

/// A failure: its class and the words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The class.
    pub kind: FailureKind,
    /// What happened (`refused: 486 Busy Here`, the transport error, …).
    pub reason: String,
}

/// The media of a call in a few numbers (the full statistics are in the call summary).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaOutcome {
    /// Audio RTP packets sent.
    pub packets_sent: u64,
    /// RTP packets received and accepted (after SRTP).
    pub packets_received: u64,
    /// Packets lost on the way (RFC 3550), including those the impairment dropped.
    pub lost: i64,
    /// `lost` as a percentage of the packets expected.
    pub loss_percent: f64,
    /// Packets that came after their playout time.
    pub late: u64,
    /// Interarrival jitter, ms.
    pub jitter_ms: f64,
    /// Round-trip time from RTCP, ms.
    pub rtt_ms: Option<f64>,
    /// Estimated MOS (1–4.5).
    pub mos: Option<f64>,
    /// SRTP authentication failures.
    pub srtp_auth_failures: u64,
    /// What was played out: 20 ms frames of each kind, gaps (`gap_frames` 0: the received
    /// audio was continuous), level and dominant frequency. Its fields sit at the top level
    /// of the JSON object (`frames`, `frames_concealed`, `gap_frames`, …).
    #[serde(flatten)]
    pub audio: ReceivedAudio,
    /// What the simulated network did to the received datagrams (`--impair`).
    pub impairment: Option<ImpairmentStats>,
}

impl MediaOutcome {
    /// The few numbers of a media report.
    pub fn from_report(report: &MediaReport) -> MediaOutcome {
        let s = &report.stats;
        let expected = s.packets_received as f64 + s.lost.max(0) as f64;
        MediaOutcome {
            packets_sent: s.packets_sent,
            packets_received: s.packets_received,
            lost: s.lost,
            loss_percent: if expected > 0.0 {
                100.0 * s.lost.max(0) as f64 / expected
            } else {
                0.0
            },
            late: s.late,
            jitter_ms: s.jitter_ms,
            rtt_ms: s.rtt_ms,
            mos: s.mos,
            srtp_auth_failures: s.srtp_auth_failures,
            audio: s.audio,
            impairment: s.impairment,
        }
    }
}

/// One call of a loop (or one call answered), as a JSON line.
#[derive(Debug, Clone, Serialize)]
pub struct CallReport {
    /// The call's id in its phone (`None` when it could not even be placed).
    pub call_id: Option<CallId>,
    /// Its place in the loop: 0 for the first call placed (or answered).
    pub index: u32,
    /// `outgoing` or `incoming`.
    pub direction: &'static str,
    /// The far end.
    pub peer: String,
    /// When it started, ms after the loop started.
    pub started_ms: f64,
    /// From dialling to the answer (caller), or from the INVITE to our answer (callee), ms.
    pub setup_ms: Option<f64>,
    /// From the answer to the end, seconds.
    pub duration_secs: f64,
    /// Ok or failed.
    pub result: CallResult,
    /// Why it failed.
    pub failure: Option<Failure>,
    /// The final security verdict (level and reasons), if the call was answered.
    pub verdict: Option<Verdict>,
    /// Whether the final verdict is Encrypted.
    pub encrypted: bool,
    /// The SRTP suite.
    pub suite: Option<String>,
    /// The codec.
    pub codec: Option<String>,
    /// Why it ended, in words.
    pub end_reason: String,
    /// The media in a few numbers, if media ran.
    pub media: Option<MediaOutcome>,
}

impl CallReport {
    /// A report for a call that could not be placed at all.
    pub fn not_placed(index: u32, peer: &str, started_ms: f64, reason: String) -> CallReport {
        CallReport {
            call_id: None,
            index,
            direction: "outgoing",
            peer: peer.to_owned(),
            started_ms,
            setup_ms: None,
            duration_secs: 0.0,
            result: CallResult::Failed,
            failure: Some(Failure {
                kind: FailureKind::DialFailed,
                reason: reason.clone(),
            }),
            verdict: None,
            encrypted: false,
            suite: None,
            codec: None,
            end_reason: reason,
            media: None,
        }
    }

    /// Whether the call is Ok but not Encrypted.
    pub fn is_ok_but_not_secure(&self) -> bool {
        self.result == CallResult::Ok && !self.encrypted
    }
}

/// The facts a tracker gathered about a call before it ended.
#[derive(Debug, Clone, Default)]
pub(super) struct Gathered {
    pub(super) setup_ms: Option<f64>,
    /// A failure decided before the end (setup timeout, stopped, `call-failed` event).
    pub(super) failure: Option<Failure>,
}

/// The report of a call from its summary and what was gathered; `require_media`: no received
/// packet fails the call.
pub(super) fn judge(
    index: u32,
    started_ms: f64,
    summary: &CallSummary,
    gathered: Gathered,
    require_media: bool,
) -> CallReport {
    let media = summary.media.as_ref().map(MediaOutcome::from_report);
    let answered = summary.verdict.is_some() || gathered.setup_ms.is_some();
    let failure = gathered.failure.or_else(|| {
        classify_end(&summary.end_reason, answered).or_else(|| {
            let received = media.as_ref().map_or(0, |m| m.packets_received);
            (require_media && received == 0).then(|| Failure {
                kind: FailureKind::NoMedia,
                reason: "no media packet was received".to_owned(),
            })
        })
    });
    let encrypted = summary
        .verdict
        .as_ref()
        .is_some_and(|v| v.level == SecurityLevel::Encrypted);
    CallReport {
        call_id: Some(summary.call),
        index,
        direction: summary.direction,
        peer: summary.peer.clone(),
        started_ms,
        setup_ms: gathered.setup_ms,
        duration_secs: summary.duration_secs,
        result: if failure.is_some() {
            CallResult::Failed
        } else {
            CallResult::Ok
        },
        failure,
        verdict: summary.verdict.clone(),
        encrypted,
        suite: summary.srtp_suite.clone(),
        codec: summary.codec.clone(),
        end_reason: summary.end_reason.clone(),
        media,
    }
}

/// The failure an end reason means (`None`: a normal hang-up of an answered call).
fn classify_end(end_reason: &str, answered: bool) -> Option<Failure> {
    let failure = |kind| {
        Some(Failure {
            kind,
            reason: end_reason.to_owned(),
        })
    };
    if end_reason.starts_with("refused") {
        failure(FailureKind::Rejected)
    } else if end_reason.starts_with("failed") {
        failure(FailureKind::CallFailed)
    } else if !answered {
        // Cancelled, or hung up before any answer.
        failure(FailureKind::CallFailed)
    } else {
        None
    }
}

/// A line of a loop's JSON report: a call, or the summary at the end.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum ReportLine<'a> {
    /// One call.
    Call(&'a CallReport),
    /// The loop's summary (the last line).
    Summary(&'a super::LoopSummary),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(end: &str, verdict: bool) -> CallSummary {
        CallSummary {
            call: CallId(7),
            peer: "sip:bob@127.0.0.1".to_owned(),
            direction: "outgoing",
            end_reason: end.to_owned(),
            duration_secs: 1.0,
            verdict: verdict.then(|| {
                Verdict::compute(
                    &crate::tls::ConnectionSecurity::plain(lockphone_sip::message::Transport::Udp),
                    None,
                    crate::verdict::RemoteFacts::default(),
                )
            }),
            reached_encrypted: verdict,
            srtp_suite: None,
            codec: Some("pcmu".to_owned()),
            media: None,
        }
    }

    #[test]
    fn end_reasons_are_classified() {
        let answered = Gathered {
            setup_ms: Some(12.0),
            failure: None,
        };
        let ok = judge(0, 0.0, &summary("hung up", true), answered.clone(), false);
        assert_eq!(ok.result, CallResult::Ok);
        assert_eq!(ok.call_id, Some(CallId(7)));
        let no_media = judge(0, 0.0, &summary("hung up", true), answered.clone(), true);
        assert_eq!(no_media.failure.unwrap().kind, FailureKind::NoMedia);
        let busy = judge(
            1,
            0.0,
            &summary("refused: 486 Busy Here", false),
            Gathered::default(),
            true,
        );
        assert_eq!(busy.result, CallResult::Failed);
        let failure = busy.failure.unwrap();
        assert_eq!(failure.kind, FailureKind::Rejected);
        assert_eq!(failure.reason, "refused: 486 Busy Here");
        let cancelled = judge(
            2,
            0.0,
            &summary("cancelled", false),
            Gathered::default(),
            true,
        );
        assert_eq!(cancelled.failure.unwrap().kind, FailureKind::CallFailed);
        let timeout = Gathered {
            setup_ms: None,
            failure: Some(Failure {
                kind: FailureKind::SetupTimeout,
                reason: "x".to_owned(),
            }),
        };
        let timed_out = judge(3, 0.0, &summary("cancelled", false), timeout, true);
        assert_eq!(timed_out.failure.unwrap().kind, FailureKind::SetupTimeout);
    }

    #[test]
    fn media_outcome_keeps_the_audio_counts_at_the_top_level() {
        let outcome = MediaOutcome {
            packets_sent: 100,
            packets_received: 90,
            lost: 10,
            loss_percent: 10.0,
            late: 0,
            jitter_ms: 1.5,
            rtt_ms: None,
            mos: Some(4.1),
            srtp_auth_failures: 0,
            audio: ReceivedAudio {
                frames: 100,
                frames_audio: 80,
                frames_concealed: 10,
                frames_silence: 10,
                gap_frames: 0,
                dominant_frequency_hz: Some(440.0),
                ..ReceivedAudio::default()
            },
            impairment: None,
        };
        let json = serde_json::to_value(&outcome).unwrap();
        assert!(json.get("audio").is_none(), "{json}");
        assert_eq!(json["frames"], 100);
        assert_eq!(json["frames_audio"], 80);
        assert_eq!(json["frames_fec"], 0);
        assert_eq!(json["frames_concealed"], 10);
        assert_eq!(json["frames_silence"], 10);
        assert_eq!(json["gap_frames"], 0);
        assert_eq!(json["dominant_frequency_hz"], 440.0);
        assert_eq!(json["packets_received"], 90);
    }

    #[test]
    fn report_lines_are_tagged() {
        let report = CallReport::not_placed(4, "sip:x@127.0.0.1", 1.5, "refused".to_owned());
        let line = serde_json::to_value(ReportLine::Call(&report)).unwrap();
        assert_eq!(line["type"], "call");
        assert_eq!(line["index"], 4);
        assert_eq!(line["result"], "failed");
        assert_eq!(line["failure"]["kind"], "dial-failed");
        assert!(line["call_id"].is_null());
    }
}
