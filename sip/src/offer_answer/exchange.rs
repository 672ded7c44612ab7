//! [`OfferAnswer`]: one call's offer/answer state (RFC 3264).

use std::net::IpAddr;

use super::build::{self, AudioSection};
use super::codec::{self, find_telephone_event};
use super::crypto;
use super::remote::{self, Profile, resulting_direction};
use super::{AudioCodec, LocalMedia, Negotiated, NegotiatedSrtp, NegotiationError, SrtpPolicy};
use crate::sdp::{CryptoAttribute, Direction, SdesKey, SdesSuite, SessionDescription};

/// What our outstanding offer said, to check the answer against.
#[derive(Debug, Clone)]
struct PendingOffer {
    policy: SrtpPolicy,
    profile: Profile,
    proto: String,
    crypto: Vec<CryptoAttribute>,
    codecs: Vec<(AudioCodec, u8)>,
    telephone_events: Vec<(u8, u32, String)>,
    direction: Direction,
}

/// One call's SDP offer/answer state, sans-IO: owns the `o=` session id and version, our
/// current SDES keys and the last negotiated outcome.
///
/// ```
/// use lockphone_sip::offer_answer::{LocalMedia, OfferAnswer};
/// use rand::SeedableRng;
///
/// let mut rng = rand::rngs::StdRng::seed_from_u64(1);
/// let mut alice_media = LocalMedia::new("192.0.2.1".parse().unwrap(), 40000);
/// alice_media.sdes_allowed = true; // the dialog runs on verified TLS
/// let mut bob_media = LocalMedia::new("192.0.2.2".parse().unwrap(), 50000);
/// bob_media.sdes_allowed = true;
/// let mut alice = OfferAnswer::new(alice_media, &mut rng);
/// let mut bob = OfferAnswer::new(bob_media, &mut rng);
///
/// let offer = alice.create_offer(&mut rng)?;
/// let (answer, bob_view) = bob.receive_offer(&offer, &mut rng)?;
/// let alice_view = alice.receive_answer(&answer)?;
/// let (a, b) = (alice_view.srtp.unwrap(), bob_view.srtp.unwrap());
/// assert_eq!(a.suite.as_str(), "AEAD_AES_256_GCM");
/// assert_eq!(a.local_key, b.remote_key);
/// # Ok::<(), lockphone_sip::offer_answer::NegotiationError>(())
/// ```
#[derive(Debug, Clone)]
pub struct OfferAnswer {
    local: LocalMedia,
    session_id: u64,
    version: u64,
    pending: Option<PendingOffer>,
    /// The `a=crypto` lines of our last offer (their keys went out; they may be reused).
    offered: Vec<CryptoAttribute>,
    /// Our address and port when our current keys were made: keys are reused only there.
    keys_at: Option<(IpAddr, u16)>,
    current: Option<Negotiated>,
}

impl OfferAnswer {
    /// A new call. `rng` picks the `o=` session id.
    pub fn new(local: LocalMedia, rng: &mut impl rand::RngCore) -> OfferAnswer {
        OfferAnswer {
            local,
            // 52 bits: fits every peer's integer parsing, including doubles.
            session_id: rng.next_u64() >> 12,
            version: 0,
            pending: None,
            offered: Vec::new(),
            keys_at: None,
            current: None,
        }
    }

    /// What we can do.
    pub fn local(&self) -> &LocalMedia {
        &self.local
    }

    /// What we can do, to change before the next offer (direction for hold, a new address…).
    pub fn local_mut(&mut self) -> &mut LocalMedia {
        &mut self.local
    }

    /// The `o=` session id.
    pub fn session_id(&self) -> u64 {
        self.session_id
    }

    /// The `o=` version of the last SDP we wrote (0 before the first).
    pub fn session_version(&self) -> u64 {
        self.version
    }

    /// The outcome of the last successful exchange.
    pub fn current(&self) -> Option<&Negotiated> {
        self.current.as_ref()
    }

    /// Whether an offer of ours waits for its answer.
    pub fn has_pending_offer(&self) -> bool {
        self.pending.is_some()
    }

    /// Forgets the pending offer (the peer refused it, or the transaction failed); the
    /// current outcome stays.
    pub fn cancel_offer(&mut self) {
        self.pending = None;
    }

    /// An initial offer or a re-offer. Each call writes a new `o=` version. Under
    /// [`SrtpPolicy::Optional`] and [`SrtpPolicy::Mandatory`] it carries one `a=crypto` per
    /// configured suite; a re-offer from the same address and port keeps the tags and keys
    /// already sent (and the current key), so the SRTP rollover counters carry on.
    pub fn create_offer(
        &mut self,
        rng: &mut impl rand::RngCore,
    ) -> Result<SessionDescription, NegotiationError> {
        let codecs = self.local.codecs();
        if codecs.is_empty() {
            return Err(NegotiationError::NoLocalCodecs);
        }
        let (proto, profile, with_crypto) = match self.local.policy {
            SrtpPolicy::Off => ("RTP/AVP", Profile::Plain, false),
            SrtpPolicy::Optional => ("RTP/AVP", Profile::Plain, true),
            SrtpPolicy::Mandatory => ("RTP/SAVP", Profile::Srtp, true),
        };
        let crypto = if with_crypto {
            if !self.local.sdes_allowed {
                return Err(NegotiationError::SdesNotAllowedLocal);
            }
            let suites = self.local.suites();
            if suites.is_empty() {
                return Err(NegotiationError::NoLocalSuites);
            }
            crypto::offer_lines(&suites, &self.reusable_keys(), rng)?
        } else {
            Vec::new()
        };
        let codecs: Vec<(AudioCodec, u8)> = codecs
            .into_iter()
            .map(|c| (c, c.default_payload_type()))
            .collect();
        let telephone_events = if self.local.telephone_event {
            build::offered_telephone_events(&codecs.iter().map(|(c, _)| *c).collect::<Vec<_>>())
        } else {
            Vec::new()
        };
        let direction = self.local.direction;
        let section = AudioSection {
            port: self.local.rtp_port,
            proto,
            codecs: &codecs,
            telephone_events: &telephone_events,
            crypto: &crypto,
            rtcp_mux: true,
            direction,
        }
        .build();
        self.version += 1;
        let mut sdp = build::session(self.local.address, self.session_id, self.version);
        sdp.media.push(section);
        if with_crypto {
            self.offered = crypto.clone();
            self.keys_at = Some(self.here());
        }
        self.pending = Some(PendingOffer {
            policy: self.local.policy,
            profile,
            proto: proto.to_owned(),
            crypto,
            codecs,
            telephone_events,
            direction,
        });
        Ok(sdp)
    }

    /// Applies the answer to our pending offer. The offer/answer exchange is over whatever the
    /// outcome: on an error the pending offer is dropped and [`OfferAnswer::current`] stays
    /// what it was.
    pub fn receive_answer(
        &mut self,
        answer: &SessionDescription,
    ) -> Result<Negotiated, NegotiationError> {
        let pending = self
            .pending
            .take()
            .ok_or(NegotiationError::NoOfferPending)?;
        if answer.media.len() != 1 {
            return Err(NegotiationError::MediaCountMismatch {
                offer: 1,
                answer: answer.media.len(),
            });
        }
        let media = &answer.media[0];
        if !media.media.eq_ignore_ascii_case("audio") {
            return Err(NegotiationError::NoAudio);
        }
        let audio = remote::read_audio(answer, media)?;
        let profile = Profile::of(&media.proto)?;
        let mismatch = || NegotiationError::ProfileMismatch {
            offer: pending.proto.clone(),
            answer: media.proto.chars().take(64).collect(),
        };
        match (pending.profile, profile) {
            (Profile::Srtp, Profile::Plain) => return Err(mismatch()),
            (Profile::Plain, Profile::Srtp) if pending.crypto.is_empty() => {
                return Err(mismatch());
            }
            _ => {}
        }
        let lines: Vec<&CryptoAttribute> = media.crypto().collect();
        let srtp = match lines.as_slice() {
            [] if pending.policy == SrtpPolicy::Mandatory => {
                return Err(NegotiationError::NoCryptoInAnswer);
            }
            [] if profile == Profile::Srtp => {
                return Err(NegotiationError::SavpWithoutCrypto(
                    media.proto.chars().take(64).collect(),
                ));
            }
            [] => None,
            [_] if pending.crypto.is_empty() => return Err(NegotiationError::UnexpectedCrypto),
            [line] => Some(crypto::accept_answer(&pending.crypto, line)?),
            several => return Err(NegotiationError::SeveralCryptoLines(several.len())),
        };
        let (codec, payload_type, receive_payload_type) = media
            .payload_types()
            .find_map(|pt| {
                let codec = AudioCodec::identify(media, pt)?;
                let ours = pending.codecs.iter().find(|(c, _)| *c == codec)?;
                Some((codec, pt, ours.1))
            })
            .ok_or(NegotiationError::CodecNotOffered)?;
        let rate = codec.clock_rate();
        let (telephone_event, receive_telephone_event) = match (
            find_telephone_event(media, rate),
            pending.telephone_events.iter().find(|(_, r, _)| *r == rate),
        ) {
            (Some(theirs), Some((ours, _, _))) => (Some(theirs), Some(*ours)),
            _ => (None, None),
        };
        let negotiated = Negotiated {
            remote_rtp: audio.rtp,
            remote_rtcp: audio.rtcp_target(audio.rtcp_mux),
            rtcp_mux: audio.rtcp_mux,
            codec,
            payload_type,
            receive_payload_type,
            clock_rate: rate,
            telephone_event,
            receive_telephone_event,
            local_direction: resulting_direction(pending.direction, audio.direction),
            srtp,
            profile: media.proto.clone(),
        };
        self.current = Some(negotiated.clone());
        Ok(negotiated)
    }

    /// Answers an offer (initial or re-offer): returns our answer and the outcome. On an error
    /// nothing changes; [`NegotiationError::status_code`] and its `Display` say how to refuse.
    ///
    /// The first offered codec we have wins, then the first offered `a=crypto` line whose
    /// suite we accept; our answer echoes its tag with a fresh key of that suite (on a
    /// re-offer for the same suite from an unchanged address, our current key is kept).
    pub fn receive_offer(
        &mut self,
        offer: &SessionDescription,
        rng: &mut impl rand::RngCore,
    ) -> Result<(SessionDescription, Negotiated), NegotiationError> {
        let index = remote::find_audio(offer)?;
        let media = &offer.media[index];
        let profile = Profile::of(&media.proto)?;
        let audio = remote::read_audio(offer, media)?;
        let chosen = self.choose_offered_crypto(profile, media)?;
        let codecs = self.local.codecs();
        let (codec, payload_type) = media
            .payload_types()
            .find_map(|pt| {
                let codec = AudioCodec::identify(media, pt)?;
                codecs.contains(&codec).then_some((codec, pt))
            })
            .ok_or_else(|| NegotiationError::NoCommonCodec {
                supported: codecs
                    .iter()
                    .map(|c| c.encoding_name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        let rate = codec.clock_rate();
        let telephone_event = self
            .local
            .telephone_event
            .then(|| find_telephone_event(media, rate))
            .flatten();
        let srtp = match chosen {
            Some(offered) => {
                let local_key = match self.reusable_answer_key(&offered.suite) {
                    Some(key) => key,
                    None => CryptoAttribute::generate(offered.tag, offered.suite.clone(), rng)?
                        .key()
                        .cloned()
                        .ok_or(NegotiationError::Crypto(crate::sdp::CryptoError::Missing(
                            "key parameters",
                        )))?,
                };
                let remote_key = offered.key().cloned().ok_or(NegotiationError::Crypto(
                    crate::sdp::CryptoError::Missing("key parameters"),
                ))?;
                Some(NegotiatedSrtp {
                    suite: offered.suite.clone(),
                    tag: offered.tag,
                    local_key,
                    remote_key,
                })
            }
            None => None,
        };
        let direction = resulting_direction(self.local.direction, audio.direction);
        let telephone_events: Vec<(u8, u32, String)> = telephone_event
            .map(|pt| {
                let events = media.fmtp(pt).unwrap_or(codec::TELEPHONE_EVENTS);
                (pt, rate, events.to_owned())
            })
            .into_iter()
            .collect();
        let answer_crypto: Vec<CryptoAttribute> = srtp
            .iter()
            .map(|s| crypto::line(s.tag, s.suite.clone(), s.local_key.clone()))
            .collect();
        let section = AudioSection {
            port: self.local.rtp_port,
            proto: &media.proto,
            codecs: &[(codec, payload_type)],
            telephone_events: &telephone_events,
            crypto: &answer_crypto,
            rtcp_mux: audio.rtcp_mux,
            direction,
        }
        .build();
        let negotiated = Negotiated {
            remote_rtp: audio.rtp,
            remote_rtcp: audio.rtcp_target(audio.rtcp_mux),
            rtcp_mux: audio.rtcp_mux,
            codec,
            payload_type,
            receive_payload_type: payload_type,
            clock_rate: rate,
            telephone_event,
            receive_telephone_event: telephone_event,
            local_direction: direction,
            srtp,
            profile: media.proto.clone(),
        };
        self.version += 1;
        let mut answer = build::session(self.local.address, self.session_id, self.version);
        answer.media = offer
            .media
            .iter()
            .enumerate()
            .map(|(i, m)| {
                if i == index {
                    section.clone()
                } else {
                    build::rejected(m)
                }
            })
            .collect();
        if negotiated.srtp.is_some() {
            self.keys_at = Some(self.here());
        }
        // An offer crossing ours (glare) is the dialog's to resolve; ours is void now.
        self.pending = None;
        self.current = Some(negotiated.clone());
        Ok((answer, negotiated))
    }

    /// Our address and port.
    fn here(&self) -> (IpAddr, u16) {
        (self.local.address, self.local.rtp_port)
    }

    /// Tags and keys an offer may reuse: none if our address or port changed since they were
    /// made; else the current key first, then the lines of our last offer.
    fn reusable_keys(&self) -> Vec<(SdesSuite, u32, SdesKey)> {
        if self.keys_at != Some(self.here()) {
            return Vec::new();
        }
        let mut keep: Vec<(SdesSuite, u32, SdesKey)> = Vec::new();
        if let Some(current) = self.current.as_ref().and_then(|n| n.srtp.as_ref()) {
            keep.push((
                current.suite.clone(),
                current.tag,
                current.local_key.clone(),
            ));
        }
        for line in &self.offered {
            let taken = keep
                .iter()
                .any(|(suite, tag, _)| *suite == line.suite || *tag == line.tag);
            if let (false, Some(key)) = (taken, line.key()) {
                keep.push((line.suite.clone(), line.tag, key.clone()));
            }
        }
        keep
    }

    /// Our current key, if a re-offer keeps its suite and our address and port are unchanged.
    fn reusable_answer_key(&self, suite: &SdesSuite) -> Option<SdesKey> {
        if self.keys_at != Some(self.here()) {
            return None;
        }
        let current = self.current.as_ref()?.srtp.as_ref()?;
        (current.suite == *suite).then(|| current.local_key.clone())
    }

    /// The offered `a=crypto` line we take, `None` for plain RTP, or why the offer is refused.
    fn choose_offered_crypto<'a>(
        &self,
        profile: Profile,
        media: &'a crate::sdp::MediaDescription,
    ) -> Result<Option<&'a CryptoAttribute>, NegotiationError> {
        let lines: Vec<&CryptoAttribute> = media.crypto().collect();
        for line in &lines {
            crypto::check_key_length(line)?;
        }
        let policy = self.local.policy;
        let suites = self.local.suites();
        match profile {
            Profile::Srtp => {
                if policy == SrtpPolicy::Off {
                    return Err(NegotiationError::SrtpDisabled);
                }
                if lines.is_empty() {
                    return Err(NegotiationError::SavpWithoutCrypto(
                        media.proto.chars().take(64).collect(),
                    ));
                }
                if !self.local.sdes_allowed {
                    return Err(NegotiationError::SdesNotAllowed);
                }
                crypto::choose(&lines, &suites).map(Some)
            }
            Profile::Plain => match policy {
                SrtpPolicy::Mandatory if lines.is_empty() => Err(NegotiationError::PlainRtpOffered),
                // RFC 3264: a plain profile with keys may be answered plain.
                SrtpPolicy::Off => Ok(None),
                _ if lines.is_empty() => Ok(None),
                _ if !self.local.sdes_allowed => Err(NegotiationError::SdesNotAllowed),
                SrtpPolicy::Optional => Ok(crypto::choose(&lines, &suites).ok()),
                SrtpPolicy::Mandatory => crypto::choose(&lines, &suites).map(Some),
            },
        }
    }
}
