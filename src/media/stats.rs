//! What a session reports: live [`MediaStats`] and the final [`MediaReport`].

use std::net::SocketAddr;

use lockphone_media::codec::Codec;
use lockphone_media::impair::ImpairmentStats;
use lockphone_media::stats::StatsSnapshot;
use serde::Serialize;

use super::audio_io::ReceivedAudio;

/// A live snapshot of one call's media. Counters run over the whole session, across the
/// pipelines a re-INVITE may have replaced (new keys, new codec); `pipeline` is the full
/// snapshot of the current one. Never holds key material.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaStats {
    /// Time since the session started, ms.
    pub elapsed_ms: f64,
    /// The codec in use.
    pub codec: Codec,
    /// Its payload type.
    pub payload_type: u8,
    /// The SRTP suite's SDES name, or `None` for plain RTP.
    pub srtp_suite: Option<&'static str>,
    /// Sending audio (false on hold).
    pub sending: bool,
    /// Playing received audio.
    pub receiving: bool,
    /// Where RTP goes.
    pub remote_rtp: SocketAddr,
    /// Where RTCP goes (the RTP address with rtcp-mux).
    pub remote_rtcp: SocketAddr,
    /// Pipelines built so far: 1, plus one per re-INVITE that changed the keys or codec.
    pub pipelines: u32,
    /// Audio RTP packets sent (telephone-event packets are not counted here).
    pub packets_sent: u64,
    /// Bytes sent (RTP and RTCP, as protected).
    pub bytes_sent: u64,
    /// RTCP packets sent.
    pub rtcp_sent: u64,
    /// Datagrams that came in on either port, whatever they were.
    pub datagrams_received: u64,
    /// Of those, datagrams from an address other than the negotiated RTP/RTCP ones (still
    /// processed: see the module documentation).
    pub from_unexpected_source: u64,
    /// RTP packets accepted (after SRTP), audio and telephone-event.
    pub packets_received: u64,
    /// Bytes received (RTP and RTCP, as they arrived).
    pub bytes_received: u64,
    /// RTCP packets accepted.
    pub rtcp_received: u64,
    /// Packets lost in the network (RFC 3550 cumulative).
    pub lost: i64,
    /// Packets that arrived after their playout time.
    pub late: u64,
    /// Packets received twice.
    pub duplicate: u64,
    /// Packets the jitter buffer discarded to shrink its delay or on a stream restart.
    pub discarded: u64,
    /// Datagrams dropped before the jitter buffer: garbage, unknown payload types, and
    /// every SRTP refusal below.
    pub dropped: u64,
    /// SRTP/SRTCP packets whose authentication tag did not verify.
    pub srtp_auth_failures: u64,
    /// SRTP/SRTCP packets refused as replays.
    pub srtp_replays: u64,
    /// Plain RTCP received on an SRTP session (baresip sends clear RTCP BYE/APP).
    pub srtp_cleartext: u64,
    /// Packets SRTP found too short or malformed.
    pub srtp_malformed: u64,
    /// SRTP/SRTCP packets accepted under the far end's previous keys during the grace after
    /// a re-INVITE changed them (sent before the far end switched; not failures).
    pub srtp_previous_key: u64,
    /// Datagrams the socket refused to send.
    pub send_errors: u64,
    /// Socket receive errors.
    pub receive_errors: u64,
    /// RFC 3550 interarrival jitter of the received stream, ms.
    pub jitter_ms: f64,
    /// Round-trip time from RTCP, ms, once measured.
    pub rtt_ms: Option<f64>,
    /// Estimated MOS (1–4.5), once audio has been received.
    pub mos: Option<f64>,
    /// Current jitter-buffer delay, ms.
    pub jitter_buffer_delay_ms: f64,
    /// DTMF key presses sent.
    pub dtmf_sent: u64,
    /// DTMF keys received, in order.
    pub dtmf_received: String,
    /// The far end said RTCP BYE for the stream we receive (and has not started a new one
    /// since): the current pipeline's `received.remote_bye`.
    pub remote_bye: bool,
    /// What was played out.
    pub audio: ReceivedAudio,
    /// The current pipeline's own snapshot (since its last rebuild).
    pub pipeline: StatsSnapshot,
    /// What the simulated network (`--impair`) did to the received datagrams, if one is set.
    pub impairment: Option<ImpairmentStats>,
}

/// The final word on a session, from [`MediaSession::stop`](super::MediaSession::stop).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MediaReport {
    /// The statistics at the end.
    pub stats: MediaStats,
    /// Frames the audio source failed to give, and the last reason.
    pub input_errors: u64,
    /// The last input error.
    pub input_error: Option<String>,
    /// Frames the output refused (or the WAV file could not be finished), and why.
    pub output_errors: u64,
    /// The last output error.
    pub output_error: Option<String>,
    /// The last error the pipeline reported while the session went on (a DTMF or a frame
    /// it refused, a re-INVITE it could not apply).
    pub pipeline_error: Option<String>,
    /// Why the session's task ended abnormally, if it did (a bug).
    pub failure: Option<String>,
}

/// Counters of the pipelines already replaced.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Retired {
    pub(super) pipelines: u32,
    packets_sent: u64,
    bytes_sent: u64,
    rtcp_sent: u64,
    dtmf_sent: u64,
    packets_received: u64,
    bytes_received: u64,
    rtcp_received: u64,
    lost: i64,
    late: u64,
    duplicate: u64,
    discarded: u64,
    dropped: u64,
    auth_failures: u64,
    replays: u64,
    cleartext: u64,
    malformed: u64,
    previous_key: u64,
}

impl Retired {
    /// Adds the final snapshot of a pipeline being replaced.
    pub(super) fn retire(&mut self, s: &StatsSnapshot) {
        self.pipelines += 1;
        self.packets_sent += s.sent.packets;
        self.bytes_sent += s.sent.bytes;
        self.rtcp_sent += s.sent.rtcp_packets;
        self.dtmf_sent += s.sent.dtmf_events;
        self.packets_received += s.received.packets;
        self.bytes_received += s.received.bytes;
        self.rtcp_received += s.received.rtcp_packets;
        self.lost += s.received.lost;
        self.late += s.jitter_buffer.late;
        self.duplicate += s.jitter_buffer.duplicate;
        self.discarded += s.jitter_buffer.discarded;
        self.dropped += s.received.dropped;
        if let Some(rx) = s.srtp_rx {
            self.auth_failures += rx.auth_failures;
            self.replays += rx.replays;
            self.cleartext += rx.cleartext;
            self.malformed += rx.malformed;
            self.previous_key += rx.previous_key;
        }
    }
}

/// What the driver counts itself, across the pipelines of the session.
#[derive(Debug, Default)]
pub(super) struct Tally {
    pub(super) retired: Retired,
    pub(super) datagrams_received: u64,
    pub(super) from_unexpected_source: u64,
    pub(super) send_errors: u64,
    pub(super) receive_errors: u64,
    pub(super) dtmf_received: String,
}

/// What the driver knows besides the pipeline's snapshot.
pub(super) struct Context<'a> {
    pub(super) elapsed_ms: f64,
    pub(super) params: &'a super::params::Checked,
    pub(super) tally: &'a Tally,
    pub(super) audio: ReceivedAudio,
    pub(super) impairment: Option<ImpairmentStats>,
}

/// Combines the retired counters, the current snapshot and the driver's own counts.
pub(super) fn combine(c: Context<'_>, s: StatsSnapshot) -> MediaStats {
    let t = c.tally;
    let r = t.retired;
    let rx = s.srtp_rx.unwrap_or_default();
    MediaStats {
        elapsed_ms: c.elapsed_ms,
        codec: s.codec,
        payload_type: c.params.payload_type,
        srtp_suite: c.params.suite_name(),
        sending: c.params.send,
        receiving: c.params.receive,
        remote_rtp: c.params.remote_rtp,
        remote_rtcp: c.params.rtcp_target(),
        pipelines: r.pipelines + 1,
        packets_sent: r.packets_sent + s.sent.packets,
        bytes_sent: r.bytes_sent + s.sent.bytes,
        rtcp_sent: r.rtcp_sent + s.sent.rtcp_packets,
        datagrams_received: t.datagrams_received,
        from_unexpected_source: t.from_unexpected_source,
        packets_received: r.packets_received + s.received.packets,
        bytes_received: r.bytes_received + s.received.bytes,
        rtcp_received: r.rtcp_received + s.received.rtcp_packets,
        lost: r.lost + s.received.lost,
        late: r.late + s.jitter_buffer.late,
        duplicate: r.duplicate + s.jitter_buffer.duplicate,
        discarded: r.discarded + s.jitter_buffer.discarded,
        dropped: r.dropped + s.received.dropped,
        srtp_auth_failures: r.auth_failures + rx.auth_failures,
        srtp_replays: r.replays + rx.replays,
        srtp_cleartext: r.cleartext + rx.cleartext,
        srtp_malformed: r.malformed + rx.malformed,
        srtp_previous_key: r.previous_key + rx.previous_key,
        send_errors: t.send_errors,
        receive_errors: t.receive_errors,
        jitter_ms: s.received.jitter_ms,
        rtt_ms: s.rtt_ms,
        mos: s.mos,
        jitter_buffer_delay_ms: s.jitter_buffer.delay_ms,
        dtmf_sent: r.dtmf_sent + s.sent.dtmf_events,
        dtmf_received: t.dtmf_received.clone(),
        remote_bye: s.received.remote_bye,
        audio: c.audio,
        pipeline: s,
        impairment: c.impairment,
    }
}
