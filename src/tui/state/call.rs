//! One call as the UI shows it, updated from the phone's events.

use std::collections::VecDeque;

use crate::call::{CallId, CallSummary};
use crate::media::MediaStats;
use crate::tls::ConnectionSecurity;
use crate::verdict::Verdict;

/// How many seconds of loss and level the sparklines keep.
pub const HISTORY: usize = 60;

/// Where a call is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallState {
    /// We sent the INVITE; no answer yet.
    Calling,
    /// The far end rings.
    Ringing,
    /// An incoming call rings here: answer or reject.
    Incoming,
    /// Answered, media flowing.
    Active,
    /// Answered and put on hold by us.
    OnHold,
    /// Over, with why.
    Ended(String),
}

impl CallState {
    /// The state in words.
    pub fn words(&self) -> String {
        match self {
            CallState::Calling => "Calling…".to_owned(),
            CallState::Ringing => "Ringing…".to_owned(),
            CallState::Incoming => "Incoming call".to_owned(),
            CallState::Active => "Active".to_owned(),
            CallState::OnHold => "On hold".to_owned(),
            CallState::Ended(why) => format!("Ended ({why})"),
        }
    }
}

/// The live figures the call pane shows, taken from each `CallStats` event.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LiveStats {
    /// Packets received.
    pub packets_received: u64,
    /// Packets lost (cumulative).
    pub lost: u64,
    /// Interarrival jitter, ms.
    pub jitter_ms: f64,
    /// Round-trip time, ms, once measured.
    pub rtt_ms: Option<f64>,
    /// Estimated MOS, once audio came.
    pub mos: Option<f64>,
    /// The received level over the last second (RMS, 0..1).
    pub level: f64,
}

impl LiveStats {
    /// The figures of a statistics snapshot.
    pub fn of(stats: &MediaStats) -> LiveStats {
        LiveStats {
            packets_received: stats.packets_received,
            lost: u64::try_from(stats.lost).unwrap_or(0),
            jitter_ms: stats.jitter_ms,
            rtt_ms: stats.rtt_ms,
            mos: stats.mos,
            level: stats.audio.recent_rms,
        }
    }
}

/// One call.
#[derive(Debug, Clone)]
pub struct CallView {
    /// Its id.
    pub id: CallId,
    /// The far end's URI.
    pub peer: String,
    /// Whether it came in.
    pub incoming: bool,
    /// Where it is.
    pub state: CallState,
    /// What the signalling connection established.
    pub signalling: Option<ConnectionSecurity>,
    /// The last verdict.
    pub verdict: Option<Verdict>,
    /// The codec, once answered.
    pub codec: Option<String>,
    /// The SRTP suite, once answered (`None`: plain RTP or not yet).
    pub suite: Option<String>,
    /// The last statistics.
    pub stats: Option<LiveStats>,
    /// Packets lost in each of the last seconds.
    pub loss_history: VecDeque<u64>,
    /// The received level (RMS × 1000) of the last seconds.
    pub level_history: VecDeque<u64>,
    /// Whether our audio is muted.
    pub muted: bool,
    /// Seconds since it was answered.
    pub answered_secs: Option<u64>,
    /// The DTMF digits sent.
    pub dtmf_sent: String,
    /// The last downgrade, in words.
    pub downgrade: Option<String>,
    /// The summary at the end.
    pub summary: Option<Box<CallSummary>>,
}

impl CallView {
    /// A call that just started.
    pub fn new(
        id: CallId,
        peer: &str,
        incoming: bool,
        security: Option<ConnectionSecurity>,
    ) -> CallView {
        CallView {
            id,
            peer: peer.to_owned(),
            incoming,
            state: if incoming {
                CallState::Incoming
            } else {
                CallState::Calling
            },
            signalling: security,
            verdict: None,
            codec: None,
            suite: None,
            stats: None,
            loss_history: VecDeque::new(),
            level_history: VecDeque::new(),
            muted: false,
            answered_secs: None,
            dtmf_sent: String::new(),
            downgrade: None,
            summary: None,
        }
    }

    /// A call we dialled before its `CallStarted` event arrived.
    pub fn dialled(id: CallId, peer: &str) -> CallView {
        CallView::new(id, peer, false, None)
    }

    /// Whether the call is over.
    pub fn ended(&self) -> bool {
        matches!(self.state, CallState::Ended(_))
    }

    /// Whether media is up (answered and not over).
    pub fn answered(&self) -> bool {
        matches!(self.state, CallState::Active | CallState::OnHold)
    }

    /// Takes new statistics, extending the sparklines.
    pub fn take_stats(&mut self, stats: LiveStats) {
        let lost_before = self.stats.map_or(0, |s| s.lost);
        push(
            &mut self.loss_history,
            stats.lost.saturating_sub(lost_before),
        );
        push(
            &mut self.level_history,
            (stats.level.clamp(0.0, 1.0) * 1000.0).round() as u64,
        );
        self.stats = Some(stats);
    }

    /// Loss over the call so far, percent of the packets expected.
    pub fn loss_percent(&self) -> Option<f64> {
        let stats = self.stats?;
        let lost = stats.lost as f64;
        let expected = stats.packets_received as f64 + lost;
        (expected > 0.0).then(|| 100.0 * lost / expected)
    }
}

fn push(history: &mut VecDeque<u64>, value: u64) {
    if history.len() == HISTORY {
        history.pop_front();
    }
    history.push_back(value);
}
