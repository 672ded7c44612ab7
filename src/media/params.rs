//! What the offer/answer decided, checked and turned into a pipeline configuration.

use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use lockphone_media::codec::{Codec, CodecConfig};
use lockphone_media::pipeline::{MediaSecurity, PayloadTypes, PipelineConfig};
use lockphone_media::srtp::{SrtpKeys, SrtpSuite};
use zeroize::Zeroizing;

use super::MediaError;

/// What the negotiation decided for the call's audio stream.
#[derive(Clone, Debug)]
pub struct MediaParams {
    /// Where to send RTP.
    pub remote_rtp: SocketAddr,
    /// Where to send RTCP when rtcp-mux is not used (usually `remote_rtp` port + 1).
    pub remote_rtcp: SocketAddr,
    /// RTP and RTCP share the RTP port (RFC 5761).
    pub rtcp_mux: bool,
    /// The codec.
    pub codec: Codec,
    /// Its payload type, both ways.
    pub payload_type: u8,
    /// The telephone-event payload type (RFC 4733), if negotiated.
    pub telephone_event: Option<u8>,
    /// SDES-SRTP keys, or `None` for plain RTP.
    pub srtp: Option<SrtpParams>,
    /// We send audio (false when on hold or `recvonly`/`inactive`).
    pub send: bool,
    /// We play what we receive (false when `sendonly`/`inactive`).
    pub receive: bool,
}

/// The SDES keys of the call: ours (the `a=crypto` we sent) and the far end's.
#[derive(Clone)]
pub struct SrtpParams {
    /// The SDES suite name, e.g. `AEAD_AES_256_GCM`.
    pub suite_name: String,
    /// Key ‖ salt protecting what we send.
    pub send_master: Zeroizing<Vec<u8>>,
    /// Key ‖ salt of the far end, unprotecting what we receive.
    pub receive_master: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for SrtpParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SrtpParams")
            .field("suite_name", &self.suite_name)
            .field("send_master", &"<redacted>")
            .field("receive_master", &"<redacted>")
            .finish()
    }
}

/// Checked SRTP keys.
#[derive(Clone, PartialEq, Eq)]
pub(super) struct Keys {
    pub(super) send: SrtpKeys,
    pub(super) receive: SrtpKeys,
}

impl Keys {
    pub(super) fn suite(&self) -> SrtpSuite {
        self.send.suite()
    }
}

/// [`MediaParams`] checked: the suite is known and the keys have its length.
#[derive(Clone)]
pub(super) struct Checked {
    pub(super) remote_rtp: SocketAddr,
    pub(super) remote_rtcp: SocketAddr,
    pub(super) rtcp_mux: bool,
    pub(super) codec: Codec,
    pub(super) payload_type: u8,
    pub(super) telephone_event: Option<u8>,
    pub(super) keys: Option<Keys>,
    pub(super) send: bool,
    pub(super) receive: bool,
}

impl Checked {
    pub(super) fn new(params: &MediaParams) -> Result<Self, MediaError> {
        let keys = match &params.srtp {
            Some(srtp) => {
                let suite = SrtpSuite::from_sdes_name(&srtp.suite_name)
                    .ok_or_else(|| MediaError::UnknownSuite(srtp.suite_name.clone()))?;
                Some(Keys {
                    send: SrtpKeys::new(suite, &srtp.send_master)?,
                    receive: SrtpKeys::new(suite, &srtp.receive_master)?,
                })
            }
            None => None,
        };
        Ok(Self {
            remote_rtp: params.remote_rtp,
            remote_rtcp: params.remote_rtcp,
            rtcp_mux: params.rtcp_mux,
            codec: params.codec,
            payload_type: params.payload_type,
            telephone_event: params.telephone_event,
            keys,
            send: params.send,
            receive: params.receive,
        })
    }

    /// Where RTCP goes.
    pub(super) fn rtcp_target(&self) -> SocketAddr {
        if self.rtcp_mux {
            self.remote_rtp
        } else {
            self.remote_rtcp
        }
    }

    /// Whether moving from `self` to `next` needs a new pipeline: another codec or payload
    /// types, or SRTP switched on or off. Address, direction and key changes keep it (new
    /// keys are swapped in: see [`Checked::changed_keys`]).
    pub(super) fn needs_new_pipeline(&self, next: &Checked) -> bool {
        self.codec != next.codec
            || self.payload_type != next.payload_type
            || self.telephone_event != next.telephone_event
            || self.keys.is_some() != next.keys.is_some()
    }

    /// The SRTP keys that change from `self` to `next`, as (send, receive), each `None` if
    /// that direction keeps its keys; `None` when neither changes (or there is no SRTP).
    pub(super) fn changed_keys<'a>(
        &self,
        next: &'a Checked,
    ) -> Option<(Option<&'a SrtpKeys>, Option<&'a SrtpKeys>)> {
        let (old, new) = (self.keys.as_ref()?, next.keys.as_ref()?);
        let send = (old.send != new.send).then_some(&new.send);
        let receive = (old.receive != new.receive).then_some(&new.receive);
        (send.is_some() || receive.is_some()).then_some((send, receive))
    }

    /// The SDES name of the suite in use, if any.
    pub(super) fn suite_name(&self) -> Option<&'static str> {
        self.keys.as_ref().map(|k| k.suite().sdes_name())
    }

    /// The pipeline configuration. `wallclock` is the Unix time now (for RTCP SR).
    pub(super) fn pipeline_config(&self, cname: &str, wallclock: Duration) -> PipelineConfig {
        let security = match &self.keys {
            Some(k) => MediaSecurity::Srtp {
                send: k.send.clone(),
                receive: k.receive.clone(),
            },
            None => MediaSecurity::PlainRtp,
        };
        let mut config = PipelineConfig::new(CodecConfig::default_for(self.codec), security);
        let payload_types = PayloadTypes {
            audio: self.payload_type,
            telephone_event: self.telephone_event,
        };
        config.send_payload_types = payload_types;
        config.receive_payload_types = payload_types;
        config.cname = cname.to_owned();
        config.wallclock_at_start = wallclock;
        config
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(suite: &str, send: u8, receive: u8, len: usize) -> MediaParams {
        let addr: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        MediaParams {
            remote_rtp: addr,
            remote_rtcp: "127.0.0.1:4001".parse().unwrap(),
            rtcp_mux: false,
            codec: Codec::Opus,
            payload_type: 111,
            telephone_event: Some(101),
            srtp: Some(SrtpParams {
                suite_name: suite.to_owned(),
                send_master: Zeroizing::new(vec![send; len]),
                receive_master: Zeroizing::new(vec![receive; len]),
            }),
            send: true,
            receive: true,
        }
    }

    #[test]
    fn debug_never_shows_keys() {
        let p = params("AEAD_AES_256_GCM", 0xAB, 0xCD, 44);
        let debug = format!("{p:?}");
        assert!(debug.contains("<redacted>"), "{debug}");
        assert!(!debug.contains("171") && !debug.contains("205"), "{debug}");
    }

    #[test]
    fn unknown_suite_and_bad_length_are_refused() {
        let err = Checked::new(&params("NULL_HMAC", 1, 2, 30)).err().unwrap();
        assert!(matches!(err, MediaError::UnknownSuite(_)), "{err}");
        let err = Checked::new(&params("AEAD_AES_256_GCM", 1, 2, 30))
            .err()
            .unwrap();
        assert!(err.to_string().contains("needs 44 bytes"), "{err}");
    }

    #[test]
    fn what_needs_a_new_pipeline() {
        let a = Checked::new(&params("AES_CM_128_HMAC_SHA1_80", 1, 2, 30)).unwrap();
        let mut moved = params("AES_CM_128_HMAC_SHA1_80", 1, 2, 30);
        moved.remote_rtp = "127.0.0.1:5000".parse().unwrap();
        moved.send = false;
        assert!(!a.needs_new_pipeline(&Checked::new(&moved).unwrap()));
        assert!(a.changed_keys(&Checked::new(&moved).unwrap()).is_none());
        // New keys (the far end's only, then another suite both ways) are swapped in.
        let rekeyed = Checked::new(&params("AES_CM_128_HMAC_SHA1_80", 1, 3, 30)).unwrap();
        assert!(!a.needs_new_pipeline(&rekeyed));
        let (send, receive) = a.changed_keys(&rekeyed).unwrap();
        assert!(send.is_none());
        assert_eq!(receive.unwrap().master(), &[3; 30][..]);
        let gcm = Checked::new(&params("AEAD_AES_128_GCM", 1, 2, 28)).unwrap();
        assert!(!a.needs_new_pipeline(&gcm));
        assert!(matches!(a.changed_keys(&gcm), Some((Some(_), Some(_)))));
        let mut pcmu = params("AES_CM_128_HMAC_SHA1_80", 1, 2, 30);
        pcmu.codec = Codec::Pcmu;
        pcmu.payload_type = 0;
        assert!(a.needs_new_pipeline(&Checked::new(&pcmu).unwrap()));
        let mut plain = params("", 0, 0, 0);
        plain.srtp = None;
        assert!(a.needs_new_pipeline(&Checked::new(&plain).unwrap()));
        assert_eq!(a.rtcp_target().port(), 4001);
        assert_eq!(a.suite_name(), Some("AES_CM_128_HMAC_SHA1_80"));
    }
}
