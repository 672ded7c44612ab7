//! One direction of SRTP and SRTCP: per-SSRC rollover counters, replay windows and SRTCP
//! indexes around the stateless [`Transform`]s, with counters of what happened.

use super::kdf::{self, Session};
use super::replay::ReplayWindow;
use super::roc;
use super::transform::{RTCP_CLEAR_LEN, Transform};
use super::{SrtpCounters, SrtpError, SrtpKeys, SrtpSuite};
use crate::rtp::{self, be16, be32};

/// Most SSRCs one context tracks (state is created only for packets that authenticate, or by
/// the application).
pub const MAX_STREAMS: usize = 256;
/// Largest SRTCP index (31 bits).
const MAX_SRTCP_INDEX: u32 = 0x7fff_ffff;

/// Per-SSRC state.
#[derive(Debug, Clone, Copy)]
struct Stream {
    ssrc: u32,
    roc: u32,
    /// Highest sequence number (RFC 3711 `s_l`), none before the first packet.
    s_l: Option<u16>,
    rtp_window: ReplayWindow,
    /// Last SRTCP index sent.
    rtcp_sent: u32,
    rtcp_window: ReplayWindow,
}

impl Stream {
    fn new(ssrc: u32, roc: u32) -> Self {
        Self {
            ssrc,
            roc,
            s_l: None,
            rtp_window: ReplayWindow::default(),
            rtcp_sent: 0,
            rtcp_window: ReplayWindow::default(),
        }
    }

    /// Records an accepted packet; moves ROC and `s_l` forward when it is the newest.
    #[inline]
    fn advance(&mut self, roc: u32, seq: u16) {
        let newest = self
            .s_l
            .is_none_or(|s_l| roc::index(roc, seq) > roc::index(self.roc, s_l));
        if newest {
            self.roc = roc;
            self.s_l = Some(seq);
        }
        self.rtp_window.accept(roc::index(roc, seq));
    }
}

/// SRTP and SRTCP for **one direction** of one media stream under one master key: use one
/// context to protect what you send and another (with the peer's key) to unprotect what you
/// receive.
///
/// - The ROC of each SSRC is guessed per RFC 3711 Appendix A, across sequence wraps and
///   reordering. [`SrtpContext::set_roc`] seeds it for a stream joined mid-way.
/// - Replay protection is always on: 128 packets over the 48-bit SRTP index and 128 over the
///   31-bit SRTCP index. Protecting an index twice is refused too (it would reuse keystream).
/// - Errors never poison the context: a packet that fails leaves no trace but a counter, and
///   the next good packet goes through.
/// - Re-INVITE: if the keys are unchanged (`SrtpKeys` compares in constant time) keep the
///   context as it is, so ROC and replay state continue; if they change (RFC 4568 §7.1.4) call
///   [`SrtpContext::rekey`], which starts every stream again at ROC 0.
///
/// ```
/// use lockphone_media::srtp::{SrtpContext, SrtpKeys, SrtpSuite};
/// use lockphone_media::rtp::{Packetizer, RtpPacket};
///
/// let keys = SrtpKeys::new(SrtpSuite::AeadAes128Gcm, &[7; 28]).unwrap();
/// let (mut tx, mut rx) = (SrtpContext::new(&keys).unwrap(), SrtpContext::new(&keys).unwrap());
/// let mut packetizer = Packetizer::from_parts(0x1234, 111, 65535, 0);
/// let (mut rtp, mut srtp, mut back) = (Vec::new(), Vec::new(), Vec::new());
/// packetizer.next_packet(b"opus frame", 960, true, &mut rtp);
/// tx.protect_rtp(&rtp, &mut srtp).unwrap();
/// rx.unprotect_rtp(&srtp, &mut back).unwrap();
/// assert_eq!(RtpPacket::parse(&back).unwrap().payload(), b"opus frame");
/// assert!(rx.unprotect_rtp(&srtp, &mut back).is_err()); // replay
/// assert_eq!(rx.counters().replays, 1);
/// ```
pub struct SrtpContext {
    suite: SrtpSuite,
    rtp: Transform,
    rtcp: Transform,
    streams: Vec<Stream>,
    counters: SrtpCounters,
    /// The context of the keys before [`SrtpContext::rekey_with_grace`], still accepting
    /// packets that fail under the new keys until [`SrtpContext::end_grace`].
    previous: Option<Box<SrtpContext>>,
    /// A packet's original bytes while a previous context may need them.
    spare: Vec<u8>,
}

/// Unprotects a packet in place with one context, without counting.
type Unprotect = fn(&mut SrtpContext, &mut [u8]) -> Result<usize, SrtpError>;

impl std::fmt::Debug for SrtpContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SrtpContext")
            .field("suite", &self.suite)
            .field("streams", &self.streams.len())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

impl SrtpContext {
    /// A context for `keys`, deriving the SRTP and SRTCP session keys.
    pub fn new(keys: &SrtpKeys) -> Result<Self, SrtpError> {
        let suite = keys.suite();
        let rtp = kdf::derive(keys, Session::Rtp).ok_or(SrtpError::Crypto)?;
        let rtcp = kdf::derive(keys, Session::Rtcp).ok_or(SrtpError::Crypto)?;
        Self::from_session_keys(suite, &rtp, &rtcp)
    }

    fn from_session_keys(
        suite: SrtpSuite,
        rtp: &kdf::SessionKeys,
        rtcp: &kdf::SessionKeys,
    ) -> Result<Self, SrtpError> {
        Ok(Self {
            suite,
            rtp: Transform::new(suite, rtp, Session::Rtp).ok_or(SrtpError::Crypto)?,
            rtcp: Transform::new(suite, rtcp, Session::Rtcp).ok_or(SrtpError::Crypto)?,
            streams: Vec::new(),
            counters: SrtpCounters::default(),
            previous: None,
            spare: Vec::new(),
        })
    }

    /// The suite in use.
    pub fn suite(&self) -> SrtpSuite {
        self.suite
    }

    /// What this context has done so far.
    pub fn counters(&self) -> SrtpCounters {
        self.counters
    }

    /// Replaces the keys (possibly with another suite): every stream starts again at ROC 0
    /// with empty replay windows. Counters are kept.
    pub fn rekey(&mut self, keys: &SrtpKeys) -> Result<(), SrtpError> {
        let counters = self.counters;
        *self = Self::new(keys)?;
        self.counters = counters;
        Ok(())
    }

    /// Like [`SrtpContext::rekey`], for a receiving context: packets that fail to
    /// authenticate under the new keys are then tried under the old ones (with their ROC and
    /// replay state), and counted in [`SrtpCounters::previous_key`] when they pass, until
    /// [`SrtpContext::end_grace`]. This covers the packets the far end protected before it
    /// switched — in flight, or sent before our answer reached it. A second rekey forgets
    /// the oldest keys.
    pub fn rekey_with_grace(&mut self, keys: &SrtpKeys) -> Result<(), SrtpError> {
        let mut next = Self::new(keys)?;
        next.counters = self.counters;
        let mut old = std::mem::replace(self, next);
        old.previous = None;
        old.spare = Vec::new();
        self.spare = Vec::with_capacity(1500);
        self.previous = Some(Box::new(old));
        Ok(())
    }

    /// Forgets the keys kept by [`SrtpContext::rekey_with_grace`]: from now on only the new
    /// keys authenticate.
    pub fn end_grace(&mut self) {
        self.previous = None;
        self.spare = Vec::new();
    }

    /// Whether old keys are still accepted (see [`SrtpContext::rekey_with_grace`]).
    pub fn in_grace(&self) -> bool {
        self.previous.is_some()
    }
    /// Seeds the ROC of `ssrc` (a receiver joining a stream mid-way, or a sender resuming one):
    /// the next packet of that SSRC gets index ROC · 2^16 + SEQ. Resets that SSRC's SRTP replay
    /// window.
    pub fn set_roc(&mut self, ssrc: u32, roc: u32) -> Result<(), SrtpError> {
        let stream = stream_entry(&mut self.streams, ssrc)?;
        stream.roc = roc;
        stream.s_l = None;
        stream.rtp_window = ReplayWindow::default();
        Ok(())
    }

    /// The current ROC of `ssrc`, if the context knows that SSRC.
    pub fn roc(&self, ssrc: u32) -> Option<u32> {
        self.streams.iter().find(|s| s.ssrc == ssrc).map(|s| s.roc)
    }

    /// Protects the RTP packet `packet` into `out` (cleared first).
    pub fn protect_rtp(&mut self, packet: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError> {
        out.clear();
        out.reserve(packet.len() + self.rtp.tag_len());
        out.extend_from_slice(packet);
        self.protect_rtp_in_place(out)
    }

    /// Protects the RTP packet held in `packet`, in place: the payload is encrypted and the
    /// tag appended (reserve `rtp_tag_len` spare capacity to avoid a reallocation). On error
    /// `packet` is left unchanged.
    pub fn protect_rtp_in_place(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let header_len = rtp::header_len(packet)?;
        let (seq, ssrc) = rtp_ids(packet);
        let stream = stream_entry(&mut self.streams, ssrc)?;
        let roc = roc::estimate(stream.roc, stream.s_l, seq)
            .ok_or(SrtpError::KeyLifetimeExhausted { ssrc })?;
        let index = roc::index(roc, seq);
        if stream.rtp_window.check(index).is_err() {
            return Err(SrtpError::IndexReused { ssrc, index });
        }
        self.rtp
            .protect_rtp(packet, header_len, ssrc, roc, seq)
            .ok_or(SrtpError::Crypto)?;
        stream.advance(roc, seq);
        self.counters.protected += 1;
        Ok(())
    }

    /// Unprotects the SRTP packet `packet` into `out` (cleared first; left empty on error).
    pub fn unprotect_rtp(&mut self, packet: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError> {
        self.unprotect_into(packet, out, Self::unprotect_rtp_in_place)
    }

    /// Unprotects the SRTP packet in `packet`, in place; returns the length of the RTP packet
    /// now at its start. On error the buffer's content is unspecified.
    pub fn unprotect_rtp_in_place(&mut self, packet: &mut [u8]) -> Result<usize, SrtpError> {
        self.unprotect_counted(packet, Self::unprotect_rtp_inner)
    }

    /// Runs `unprotect` (falling back on the previous keys during a grace period) and
    /// counts the outcome.
    fn unprotect_counted(
        &mut self,
        packet: &mut [u8],
        unprotect: Unprotect,
    ) -> Result<usize, SrtpError> {
        if self.previous.is_none() {
            let result = unprotect(self, packet);
            self.counters.record(&result);
            return result;
        }
        // A failed attempt may leave the buffer changed: keep the original for the retry.
        self.spare.clear();
        self.spare.extend_from_slice(packet);
        let mut result = unprotect(self, packet);
        // `Cleartext` is an authentication failure too, on a packet that happens to parse as
        // plain RTCP (a protected one can, by chance of its ciphertext and tag).
        if matches!(
            result,
            Err(SrtpError::AuthenticationFailed { .. } | SrtpError::Cleartext)
        ) && let Some(previous) = self.previous.as_mut()
        {
            packet.copy_from_slice(&self.spare);
            if let Ok(len) = unprotect(previous, packet) {
                self.counters.previous_key += 1;
                result = Ok(len);
            }
        }
        self.counters.record(&result);
        result
    }

    fn unprotect_rtp_inner(&mut self, packet: &mut [u8]) -> Result<usize, SrtpError> {
        let header_len = rtp::header_len(packet)?;
        let min = header_len + self.rtp.tag_len();
        if packet.len() < min {
            return Err(SrtpError::TooShort {
                len: packet.len(),
                min,
            });
        }
        let (seq, ssrc) = rtp_ids(packet);
        // One lookup; the stream's state is created only once a packet authenticates.
        let at = self.streams.iter().position(|s| s.ssrc == ssrc);
        let (roc, s_l, window) = match at.and_then(|i| self.streams.get(i)) {
            Some(s) => (s.roc, s.s_l, s.rtp_window),
            None => (0, None, ReplayWindow::default()),
        };
        let roc = roc::estimate(roc, s_l, seq).ok_or(SrtpError::KeyLifetimeExhausted { ssrc })?;
        let index = roc::index(roc, seq);
        if window.check(index).is_err() {
            return Err(SrtpError::Replay { ssrc, index });
        }
        let len = self
            .rtp
            .unprotect_rtp(packet, header_len, ssrc, roc, seq)
            .ok_or(SrtpError::AuthenticationFailed { ssrc, index })?;
        match at.and_then(|i| self.streams.get_mut(i)) {
            Some(stream) => stream.advance(roc, seq),
            None => stream_entry(&mut self.streams, ssrc)?.advance(roc, seq),
        }
        Ok(len)
    }

    /// Protects the (compound) RTCP packet `packet` into `out` (cleared first).
    pub fn protect_rtcp(&mut self, packet: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError> {
        out.clear();
        out.reserve(packet.len() + self.rtcp.rtcp_overhead());
        out.extend_from_slice(packet);
        self.protect_rtcp_in_place(out)
    }

    /// Protects the RTCP packet held in `packet`, in place, with the next SRTCP index of its
    /// sender SSRC (starting at 1) and the E flag set.
    pub fn protect_rtcp_in_place(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let ssrc = rtcp_ssrc(packet)?;
        let stream = stream_entry(&mut self.streams, ssrc)?;
        let index = stream.rtcp_sent + 1;
        if index > MAX_SRTCP_INDEX {
            return Err(SrtpError::KeyLifetimeExhausted { ssrc });
        }
        self.rtcp
            .protect_rtcp(packet, ssrc, index)
            .ok_or(SrtpError::Crypto)?;
        stream.rtcp_sent = index;
        self.counters.protected += 1;
        Ok(())
    }

    /// Unprotects the SRTCP packet `packet` into `out` (cleared first; left empty on error).
    pub fn unprotect_rtcp(&mut self, packet: &[u8], out: &mut Vec<u8>) -> Result<(), SrtpError> {
        self.unprotect_into(packet, out, Self::unprotect_rtcp_in_place)
    }

    /// Unprotects the SRTCP packet in `packet`, in place; returns the length of the RTCP
    /// packet now at its start. Packets with the E flag clear (authenticated only) are
    /// accepted.
    pub fn unprotect_rtcp_in_place(&mut self, packet: &mut [u8]) -> Result<usize, SrtpError> {
        self.unprotect_counted(packet, Self::unprotect_rtcp_inner)
    }

    fn unprotect_rtcp_inner(&mut self, packet: &mut [u8]) -> Result<usize, SrtpError> {
        let ssrc = rtcp_ssrc(packet)?;
        let min = RTCP_CLEAR_LEN + self.rtcp.rtcp_overhead();
        if packet.len() < min {
            return Err(SrtpError::TooShort {
                len: packet.len(),
                min,
            });
        }
        let (encrypted, index) = self.rtcp.rtcp_trailer(packet).ok_or(SrtpError::TooShort {
            len: packet.len(),
            min,
        })?;
        let window = self
            .streams
            .iter()
            .find(|s| s.ssrc == ssrc)
            .map(|s| s.rtcp_window)
            .unwrap_or_default();
        if window.check(u64::from(index)).is_err() {
            return Err(SrtpError::Replay {
                ssrc,
                index: u64::from(index),
            });
        }
        let cleartext = crate::rtcp::is_plain_compound(packet);
        let len = self
            .rtcp
            .unprotect_rtcp(packet, ssrc, encrypted, index)
            .ok_or(if cleartext {
                SrtpError::Cleartext
            } else {
                SrtpError::AuthenticationFailed {
                    ssrc,
                    index: u64::from(index),
                }
            })?;
        stream_entry(&mut self.streams, ssrc)?
            .rtcp_window
            .accept(u64::from(index));
        Ok(len)
    }

    /// Copies `packet` into `out` (cleared first) and runs `unprotect` on it there; `out` is
    /// left holding the plain packet, or empty on error.
    fn unprotect_into(
        &mut self,
        packet: &[u8],
        out: &mut Vec<u8>,
        unprotect: fn(&mut Self, &mut [u8]) -> Result<usize, SrtpError>,
    ) -> Result<(), SrtpError> {
        out.clear();
        out.extend_from_slice(packet);
        match unprotect(self, out) {
            Ok(len) => {
                out.truncate(len);
                Ok(())
            }
            Err(err) => {
                out.clear();
                Err(err)
            }
        }
    }
}

/// Sequence number and SSRC of an RTP packet whose header length was checked.
fn rtp_ids(packet: &[u8]) -> (u16, u32) {
    (be16(packet, 2).unwrap_or(0), be32(packet, 8).unwrap_or(0))
}

/// The sender SSRC of an RTCP packet, checking the version and the 8-byte header.
fn rtcp_ssrc(packet: &[u8]) -> Result<u32, SrtpError> {
    let ssrc = be32(packet, 4).ok_or(SrtpError::TooShort {
        len: packet.len(),
        min: RTCP_CLEAR_LEN,
    })?;
    if packet.first().is_some_and(|b0| b0 >> 6 == 2) {
        Ok(ssrc)
    } else {
        Err(SrtpError::MalformedRtcp {
            reason: "version is not 2",
        })
    }
}

/// The state of `ssrc`, created (ROC 0) if new.
fn stream_entry(streams: &mut Vec<Stream>, ssrc: u32) -> Result<&mut Stream, SrtpError> {
    match streams.iter().position(|s| s.ssrc == ssrc) {
        Some(at) => streams.get_mut(at).ok_or(SrtpError::Crypto),
        None if streams.len() >= MAX_STREAMS => {
            Err(SrtpError::TooManyStreams { limit: MAX_STREAMS })
        }
        None => {
            streams.push(Stream::new(ssrc, 0));
            streams.last_mut().ok_or(SrtpError::Crypto)
        }
    }
}

#[cfg(test)]
impl SrtpContext {
    /// A context built from session keys given directly (RFC 7714 vectors).
    pub(crate) fn for_session_keys(
        suite: SrtpSuite,
        rtp: &kdf::SessionKeys,
        rtcp: &kdf::SessionKeys,
    ) -> Self {
        Self::from_session_keys(suite, rtp, rtcp).unwrap()
    }

    /// Makes the next SRTCP index of `ssrc` be `next`.
    pub(crate) fn set_next_srtcp_index(&mut self, ssrc: u32, next: u32) {
        stream_entry(&mut self.streams, ssrc).unwrap().rtcp_sent = next - 1;
    }
}
