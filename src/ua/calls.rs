//! The engine's calls: dialing, answering, the offer/answer, the media session and the
//! security verdict of each call, moved by the same thin loop as the registration.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use lockphone_sip::auth::Authenticator;
use lockphone_sip::call::{Call, CallConfig, CallEvent, CallOutput, EndReason, Role};
use lockphone_sip::message::{HeaderName, Message, Method, Param, Request, Response, Uri};
use lockphone_sip::offer_answer::{Negotiated, OfferAnswer};
use lockphone_sip::sdp::SessionDescription;
use lockphone_sip::transaction::TransactionId;
use rand::SeedableRng;
use rand::rngs::StdRng;

use super::engine::{Engine, Route};
use super::event::Event;
use crate::call::{CallId, CallOptions, CallSummary, codec_name, local_media, media_params};
use crate::media::{MediaError, MediaSession, MediaSocket, SessionOptions};
use crate::tls::ConnectionSecurity;
use crate::verdict::{self, Verdict};

/// One call the engine runs.
pub(super) struct ActiveCall {
    pub(super) id: CallId,
    pub(super) sip: Call,
    pub(super) negotiation: OfferAnswer,
    pub(super) socket: Option<MediaSocket>,
    pub(super) media: Option<MediaSession>,
    negotiated: Option<Negotiated>,
    /// Where the call's requests and responses go (the connection it started on).
    pub(super) route: Route,
    /// What the connection carrying the dialog established.
    signalling: Arc<ConnectionSecurity>,
    /// Whether the far end is the TLS peer itself (no proxy between).
    direct: bool,
    remote_call_info: Option<verdict::SecurityLevel>,
    pub(super) verdict: Option<Verdict>,
    reached_encrypted: bool,
    pub(super) options: CallOptions,
    answered_at: Option<Instant>,
    /// Our INVITE's client transaction (for CANCEL).
    invite_transaction: Option<TransactionId>,
    pub(super) peer: String,
    /// Why we hung up on our own accord (a non-conforming SDP answer, say), for the summary.
    failure: Option<String>,
    /// We send silence instead of the captured audio.
    pub(super) muted: bool,
    /// We put the call on hold (our last hold/resume re-offer that was answered).
    pub(super) on_hold: bool,
    /// Our hold (`true`) or resume re-offer waiting for its answer.
    pub(super) hold_pending: Option<bool>,
}

impl ActiveCall {
    /// A call whose offer/answer has not completed yet.
    #[allow(clippy::too_many_arguments)]
    fn new(
        id: CallId,
        sip: Call,
        negotiation: OfferAnswer,
        socket: MediaSocket,
        route: Route,
        signalling: Arc<ConnectionSecurity>,
        direct: bool,
        options: CallOptions,
        peer: String,
    ) -> ActiveCall {
        ActiveCall {
            id,
            sip,
            negotiation,
            socket: Some(socket),
            media: None,
            negotiated: None,
            route,
            signalling,
            direct,
            remote_call_info: None,
            verdict: None,
            reached_encrypted: false,
            options,
            answered_at: None,
            invite_transaction: None,
            peer,
            failure: None,
            muted: false,
            on_hold: false,
            hold_pending: None,
        }
    }

    /// `outgoing` or `incoming`, as events, the status and the summary say it.
    pub(super) fn direction(&self) -> &'static str {
        match self.sip.role() {
            Role::Caller => "outgoing",
            Role::Callee => "incoming",
        }
    }

    /// The negotiated codec's name, once negotiated.
    pub(super) fn codec(&self) -> Option<String> {
        self.negotiated.as_ref().map(negotiated_codec)
    }

    /// The negotiated SRTP suite, once negotiated (none for plain RTP).
    pub(super) fn srtp_suite(&self) -> Option<String> {
        self.negotiated.as_ref().and_then(negotiated_suite)
    }

    /// Seconds since it was answered (0 before).
    pub(super) fn duration_secs(&self, now: Instant) -> f64 {
        self.answered_at
            .map_or(0.0, |at| now.duration_since(at).as_secs_f64())
    }
}

/// Which call and request a client transaction belongs to.
#[derive(Debug, Clone)]
pub(super) struct CallTransaction {
    pub(super) call: CallId,
    pub(super) method: Method,
    pub(super) seq: u32,
}

/// The engine's table of calls.
#[derive(Default)]
pub(super) struct Calls {
    pub(super) active: BTreeMap<CallId, ActiveCall>,
    pub(super) transactions: HashMap<TransactionId, CallTransaction>,
    /// Server transactions of INVITEs still unanswered, for CANCEL.
    pub(super) invites: HashMap<TransactionId, CallId>,
    next: u64,
    /// Answer incoming calls automatically with these options.
    pub(super) auto_answer: Option<CallOptions>,
}

impl Calls {
    fn next_id(&mut self) -> CallId {
        self.next += 1;
        CallId(self.next)
    }

    /// The call an incoming request belongs to.
    pub(super) fn for_request(&self, request: &Request) -> Option<CallId> {
        self.active
            .values()
            .find(|c| c.sip.matches_request(request))
            .map(|c| c.id)
    }

    /// The call a response belongs to.
    pub(super) fn for_response(&self, response: &Response) -> Option<CallId> {
        self.active
            .values()
            .find(|c| c.sip.matches_response(response))
            .map(|c| c.id)
    }
}

impl Engine {
    fn call_config(&self, local: SocketAddr, via_proxy: bool) -> CallConfig {
        let transport = self.target.transport;
        let params = vec![Param::new(
            "transport",
            transport.as_str().to_ascii_lowercase(),
        )];
        let contact_addr = self.listen_addr.unwrap_or(local);
        let mut config = CallConfig::new(
            self.aor.clone(),
            super::engine::contact_uri(&self.aor, contact_addr, params),
            transport,
        );
        config.via_sent_by = Some(super::engine::sent_by(local));
        config.display_name = self.account.display_name.clone();
        config.user_agent = Some(super::engine::user_agent());
        if via_proxy {
            let mut proxy = self.registrar_uri.clone();
            proxy.params.push(Param::flag("lr"));
            config.outbound_proxy = Some(proxy);
        }
        let calls = &self.account.calls;
        if calls.cisco_sis {
            config.supported.push("X-cisco-sis-2.0.0".to_owned());
        }
        config.session_timer.enabled = calls.session_expires > 0;
        config.session_timer.interval =
            std::time::Duration::from_secs(u64::from(calls.session_expires.max(90)));
        config
    }

    /// Places a call to `uri`: through the registrar when the account registers, else
    /// directly to the URI's host.
    pub(super) async fn dial(
        &mut self,
        uri: &str,
        options: CallOptions,
    ) -> Result<CallId, super::UaError> {
        let target_uri: Uri = uri
            .parse()
            .map_err(|e| super::UaError::Config(format!("cannot call `{uri}`: {e}")))?;
        let via_proxy = self.account.register;
        let target = if via_proxy {
            self.target.clone()
        } else {
            super::setup::uri_target(&self.account, &target_uri).await?
        };
        let info = match self.transport.connect(&target).await {
            Ok(info) => info,
            Err(error) => {
                self.announce_trust_decision_for(&target, &error);
                return Err(error.into());
            }
        };
        let verified = info.security.is_verified_tls();
        let socket = MediaSocket::bind(info.local.ip())
            .await
            .map_err(|e| super::UaError::Unreachable(e.to_string()))?;
        let media_addr = socket.local_addr();
        let local = local_media(
            &self.account.calls,
            media_addr.ip(),
            media_addr.port(),
            verified,
        );
        let mut rng = StdRng::from_rng(&mut self.rng);
        let mut negotiation = OfferAnswer::new(local, &mut rng);
        let offer = negotiation
            .create_offer(&mut rng)
            .map_err(|e| super::UaError::Config(format!("cannot make an SDP offer: {e}")))?;
        let config = self.call_config(info.local, via_proxy);
        let authenticator = Authenticator::new(self.credentials.clone());
        let sip = Call::outgoing(
            config,
            target_uri.clone(),
            offer.to_string().into_bytes(),
            authenticator,
            rng,
            Engine::now(),
        );
        let id = self.calls.next_id();
        let call = ActiveCall::new(
            id,
            sip,
            negotiation,
            socket,
            Route {
                target,
                connection: info.id,
                arrival: None,
            },
            info.security.clone(),
            !via_proxy,
            options,
            target_uri.to_string(),
        );
        self.emit(Event::CallStarted {
            call: id,
            direction: "outgoing".to_owned(),
            peer: call.peer.clone(),
            security: (*info.security).clone(),
        });
        self.calls.active.insert(id, call);
        Ok(id)
    }

    /// A new INVITE outside any dialog.
    pub(super) async fn incoming_invite(
        &mut self,
        transaction: TransactionId,
        request: Request,
        route: Route,
        security: Arc<ConnectionSecurity>,
        local: SocketAddr,
    ) {
        let now = Engine::now();
        let via_registrar = route.target.addr == self.target.addr;
        let config = self.call_config(local, false);
        let rng = StdRng::from_rng(&mut self.rng);
        let sip = match Call::incoming(config, transaction, request.clone(), rng, now) {
            Ok(sip) => sip,
            Err(response) => {
                let _ = self.transactions.respond(now, transaction, response);
                return;
            }
        };
        let id = self.calls.next_id();
        let peer = sip.remote_uri().to_string();
        let verified = security.is_verified_tls();
        let socket = match MediaSocket::bind(local.ip()).await {
            Ok(socket) => socket,
            Err(e) => {
                tracing::warn!(error = %e, "no media port for an incoming call");
                return;
            }
        };
        let media_addr = socket.local_addr();
        let local_media = local_media(
            &self.account.calls,
            media_addr.ip(),
            media_addr.port(),
            verified,
        );
        let mut rng = StdRng::from_rng(&mut self.rng);
        let negotiation = OfferAnswer::new(local_media, &mut rng);
        let options = self.calls.auto_answer.clone().unwrap_or_default();
        let call = ActiveCall::new(
            id,
            sip,
            negotiation,
            socket,
            route,
            security.clone(),
            !via_registrar,
            options,
            peer,
        );
        self.emit(Event::CallStarted {
            call: id,
            direction: "incoming".to_owned(),
            peer: call.peer.clone(),
            security: (*security).clone(),
        });
        self.calls.invites.insert(transaction, id);
        self.calls.active.insert(id, call);
        if self.calls.auto_answer.is_some() {
            self.answer_call(id, &request);
        } else if let Some(call) = self.calls.active.get_mut(&id) {
            let _ = call.sip.ring();
        }
    }

    /// Answers an incoming call: our SDP answer to its offer (or a 488 with the reason).
    pub(super) fn answer_call(&mut self, id: CallId, invite: &Request) {
        let now = Engine::now();
        let Some(call) = self.calls.active.get_mut(&id) else {
            return;
        };
        let mut rng = StdRng::from_rng(&mut self.rng);
        match receive_offer(&mut call.negotiation, &invite.body, &mut rng) {
            Ok((answer, negotiated)) => {
                let _ = call.sip.accept(now, answer.to_string().into_bytes());
                call.remote_call_info =
                    verdict::parse_remote_call_info(invite.headers.get_all(&HeaderName::CallInfo));
                call.answered_at = Some(now);
                let answered = call_answered(id, &negotiated);
                let started = Self::start_media(call, negotiated);
                self.emit(answered);
                if let Err(e) = started {
                    self.media_failed(id, &e);
                    return;
                }
            }
            Err((status, reason)) => {
                tracing::info!(%reason, status, "refusing the incoming call");
                let _ = call.sip.reject(status, &reason);
            }
        }
        self.publish_verdict(id);
    }

    /// Starts (or updates) the media session with what the offer/answer decided. `Err` when
    /// it could not start (a file or sound card that cannot be opened): see
    /// [`Engine::media_failed`].
    fn start_media(call: &mut ActiveCall, negotiated: Negotiated) -> Result<(), MediaError> {
        let params = media_params(&negotiated);
        let mut started = Ok(());
        match (&call.media, call.socket.take()) {
            (Some(media), _) => {
                if let Err(e) = media.update(params) {
                    tracing::warn!(error = %e, "media update failed");
                }
            }
            (None, Some(socket)) => {
                let mut options = SessionOptions::default();
                options.impairment = call.options.impair.clone();
                options.opus = call.options.opus.clone();
                match MediaSession::start_with(
                    socket,
                    params,
                    call.options.play.clone(),
                    call.options.record.clone(),
                    options,
                ) {
                    Ok(media) => {
                        if call.muted
                            && let Err(e) = media.set_muted(true)
                        {
                            tracing::warn!(error = %e, "cannot mute");
                        }
                        call.media = Some(media);
                    }
                    Err(e) => started = Err(e),
                }
            }
            (None, None) => {}
        }
        call.negotiated = Some(negotiated);
        started
    }

    /// The call's audio could not start: a call without audio is a failure, reported
    /// ([`Event::CallFailed`], the summary's end reason) and hung up.
    fn media_failed(&mut self, id: CallId, error: &MediaError) {
        let reason = format!("the call's audio could not start: {error}");
        tracing::warn!(%reason, "hanging up");
        if let Some(call) = self.calls.active.get_mut(&id) {
            call.sip.hangup(Engine::now());
            call.failure = Some(reason.clone());
        }
        self.emit(Event::CallFailed { call: id, reason });
    }

    /// Recomputes a call's verdict and publishes it when it changed; applies the account's
    /// downgrade policy. Returns the downgrade, if the change is one.
    fn publish_verdict(&mut self, id: CallId) -> Option<verdict::Downgrade> {
        let (new, downgrade) = self.assess_verdict(id)?;
        self.publish(id, new, downgrade.as_ref());
        downgrade
    }

    /// The verdict a call has now, and the downgrade it would be from the published one;
    /// `None` before media was negotiated or when nothing changed.
    fn assess_verdict(&self, id: CallId) -> Option<(Verdict, Option<verdict::Downgrade>)> {
        let call = self.calls.active.get(&id)?;
        let negotiated = call.negotiated.as_ref()?;
        let media =
            verdict::MediaFacts::from_negotiated(negotiated, call.sip.role() == Role::Caller);
        let new = Verdict::compute(
            &call.signalling,
            Some(&media),
            verdict::RemoteFacts {
                call_info: call.remote_call_info,
                direct: call.direct,
            },
        );
        if call.verdict.as_ref() == Some(&new) {
            return None;
        }
        let downgrade = call
            .verdict
            .as_ref()
            .and_then(|old| verdict::compare(old, &new));
        Some((new, downgrade))
    }

    /// Makes `new` the call's verdict and tells the user (with the downgrade, if it is one).
    fn publish(&mut self, id: CallId, new: Verdict, downgrade: Option<&verdict::Downgrade>) {
        let Some(call) = self.calls.active.get_mut(&id) else {
            return;
        };
        call.reached_encrypted |= new.level == verdict::SecurityLevel::Encrypted;
        call.verdict = Some(new.clone());
        self.emit(Event::CallSecurity {
            call: id,
            verdict: new,
        });
        if let Some(downgrade) = downgrade {
            self.emit_downgrade(id, downgrade);
        }
    }

    fn emit_downgrade(&self, id: CallId, downgrade: &verdict::Downgrade) {
        self.emit(Event::CallDowngrade {
            call: id,
            what: downgrade.to_string(),
            action: self.account.calls.on_downgrade,
        });
    }

    /// Moves a call's outputs into the transaction layer. Returns whether there were any (the
    /// caller must then send what the transaction layer queued).
    pub(super) fn flush_call(&mut self, id: CallId) -> bool {
        let now = Engine::now();
        let Some(call) = self.calls.active.get_mut(&id) else {
            return false;
        };
        let mut moved = false;
        while let Some(output) = call.sip.poll_output() {
            moved = true;
            match output {
                CallOutput::Request(request) => {
                    let Ok(cseq) = request.headers.cseq() else {
                        continue;
                    };
                    let initial = request.method == Method::Invite
                        && call.sip.role() == Role::Caller
                        && call
                            .sip
                            .dialog()
                            .is_none_or(|_| call.invite_transaction.is_none());
                    match self.transactions.send_request(
                        now,
                        request,
                        call.route.target.transport,
                        call.route.clone(),
                        &mut self.rng,
                    ) {
                        Ok(txn) => {
                            if initial
                                || (cseq.method == Method::Invite
                                    && call.sip.state() < lockphone_sip::call::CallState::Confirmed)
                            {
                                call.invite_transaction = Some(txn);
                            }
                            self.calls.transactions.insert(
                                txn,
                                CallTransaction {
                                    call: id,
                                    method: cseq.method,
                                    seq: cseq.seq,
                                },
                            );
                        }
                        Err(e) => tracing::warn!(error = %e, "cannot send an in-call request"),
                    }
                }
                CallOutput::Ack(ack) => self
                    .transactions
                    .send_stateless(Message::Request(ack), call.route.clone()),
                CallOutput::CancelInvite => {
                    if let Some(invite) = call.invite_transaction
                        && let Err(e) = self.transactions.cancel(now, invite)
                    {
                        tracing::debug!(error = %e, "cannot cancel");
                    }
                }
                CallOutput::Response {
                    transaction,
                    response,
                } => {
                    if response.status.is_final() {
                        self.calls.invites.remove(&transaction);
                    }
                    if let Err(e) = self.transactions.respond(now, transaction, response) {
                        tracing::debug!(error = %e, "cannot answer in a call");
                    }
                }
                CallOutput::Retransmit(response) => self
                    .transactions
                    .send_stateless(Message::Response(response), call.route.clone()),
            }
        }
        moved
    }

    /// Handles what a call reported. Returns true if anything happened.
    pub(super) async fn drain_call_events(&mut self, id: CallId) -> bool {
        let mut progressed = false;
        while let Some(event) = self
            .calls
            .active
            .get_mut(&id)
            .and_then(|c| c.sip.poll_event())
        {
            progressed = true;
            self.handle_call_event(id, event).await;
        }
        progressed
    }

    async fn handle_call_event(&mut self, id: CallId, event: CallEvent) {
        let now = Engine::now();
        match event {
            CallEvent::Progress { response } => {
                if response.status.0 == 180 || response.status.0 == 183 {
                    self.emit(Event::CallRinging { call: id });
                }
            }
            CallEvent::Answered {
                response: Some(response),
                ..
            } => self.caller_answered(id, &response),
            CallEvent::Answered { .. } => {}
            CallEvent::Reoffer { request } => self.reoffer_received(id, &request),
            CallEvent::Refreshed { request } => self.refresh_received(id, &request),
            CallEvent::ReofferAnswered { response } => {
                let Some(call) = self.calls.active.get_mut(&id) else {
                    return;
                };
                if let Some(level) =
                    verdict::parse_remote_call_info(response.headers.get_all(&HeaderName::CallInfo))
                {
                    call.remote_call_info = Some(level);
                }
                let hold = call.hold_pending.take();
                match receive_answer(&mut call.negotiation, &response.body) {
                    Ok(negotiated) => {
                        if let Err(e) = Self::start_media(call, negotiated) {
                            self.media_failed(id, &e);
                            return;
                        }
                        if let Some(on_hold) = hold {
                            call.on_hold = on_hold;
                            self.emit(Event::CallHold {
                                call: id,
                                on_hold,
                                refused: None,
                            });
                        }
                    }
                    Err((_, reason)) => {
                        tracing::warn!(%reason, "unacceptable answer to our re-offer: hanging up");
                        call.sip.hangup(now);
                    }
                }
                self.publish_verdict(id);
            }
            CallEvent::ReofferRefused { status, reason } => {
                tracing::info!(status, %reason, "the far end refused our re-offer");
                if let Some(call) = self.calls.active.get_mut(&id) {
                    call.negotiation.cancel_offer();
                }
                self.hold_refused(id, status, &reason);
            }
            CallEvent::Transfer { progress } => self.transfer_progress(id, progress),
            CallEvent::TokenRejected { description } => match &self.oauth {
                // The renewed token reaches the call through apply_token.
                Some(oauth) => oauth.token_rejected(description),
                // Nothing can renew it: the retry with the same credentials fails the call.
                None => {
                    let credentials = self.credentials.clone();
                    if let Some(call) = self.calls.active.get_mut(&id) {
                        call.sip.set_credentials(credentials);
                    }
                }
            },
            CallEvent::Ended { reason } => self.call_ended(id, reason).await,
            other => tracing::debug!(event = ?other, "call event"),
        }
    }

    /// Our INVITE was answered: check the SDP answer, start media, publish the verdict.
    fn caller_answered(&mut self, id: CallId, response: &Response) {
        let now = Engine::now();
        let Some(call) = self.calls.active.get_mut(&id) else {
            return;
        };
        call.answered_at = Some(now);
        call.remote_call_info =
            verdict::parse_remote_call_info(response.headers.get_all(&HeaderName::CallInfo));
        match receive_answer(&mut call.negotiation, &response.body) {
            Ok(negotiated) => {
                let answered = call_answered(id, &negotiated);
                let started = Self::start_media(call, negotiated);
                self.emit(answered);
                if let Err(e) = started {
                    self.media_failed(id, &e);
                    return;
                }
                self.publish_verdict(id);
            }
            Err((_, reason)) => {
                let reason = format!("the far end's SDP answer is not acceptable: {reason}");
                tracing::warn!(%reason, "hanging up");
                call.sip.hangup(now);
                call.failure = Some(reason.clone());
                self.emit(Event::CallFailed { call: id, reason });
            }
        }
    }

    /// The far end's re-INVITE or UPDATE: answer it, unless it is a downgrade the account
    /// refuses.
    fn reoffer_received(&mut self, id: CallId, request: &Request) {
        let now = Engine::now();
        let action = self.account.calls.on_downgrade;
        let Some(call) = self.calls.active.get_mut(&id) else {
            return;
        };
        // What the call was, to go back to if the account refuses a downgrade.
        let before = (
            call.negotiated.clone(),
            call.remote_call_info,
            call.negotiation.clone(),
        );
        if let Some(level) =
            verdict::parse_remote_call_info(request.headers.get_all(&HeaderName::CallInfo))
        {
            call.remote_call_info = Some(level);
        }
        let mut rng = StdRng::from_rng(&mut self.rng);
        let outcome = if request.body.is_empty() {
            call.negotiation
                .create_offer(&mut rng)
                .map(|offer| (offer, None))
                .map_err(|e| (e.status_code(), e.to_string()))
        } else {
            receive_offer(&mut call.negotiation, &request.body, &mut rng)
                .map(|(answer, negotiated)| (answer, Some(negotiated)))
        };
        let (sdp, negotiated) = match outcome {
            Ok(ok) => ok,
            Err((status, reason)) => {
                let _ = call.sip.answer_reoffer(now, Err((status, reason)));
                return;
            }
        };
        if let Some(negotiated) = negotiated.clone() {
            call.negotiated = Some(negotiated);
        }
        let assessed = self.assess_verdict(id);
        let downgrade = assessed.as_ref().and_then(|(_, d)| d.clone());
        if let Some(refused) = downgrade
            .as_ref()
            .filter(|_| action == verdict::DowngradePolicy::Refuse)
        {
            // Keep the call as it was: the verdict never changes, the user is told.
            self.emit_downgrade(id, refused);
            let Some(call) = self.calls.active.get_mut(&id) else {
                return;
            };
            call.negotiated = before.0;
            call.remote_call_info = before.1;
            call.negotiation = before.2;
            let _ = call.sip.answer_reoffer(
                now,
                Err((
                    488,
                    "security downgrade refused by account policy".to_owned(),
                )),
            );
            return;
        }
        if let Some((new, downgrade)) = assessed {
            self.publish(id, new, downgrade.as_ref());
        }
        let Some(call) = self.calls.active.get_mut(&id) else {
            return;
        };
        let _ = call
            .sip
            .answer_reoffer(now, Ok(sdp.to_string().into_bytes()));
        if let Some(negotiated) = negotiated
            && let Err(e) = Self::start_media(call, negotiated)
        {
            self.media_failed(id, &e);
            return;
        }
        if downgrade.is_some() && action == verdict::DowngradePolicy::Hangup {
            call.sip.hangup(now);
        }
    }

    /// The far end's re-INVITE or UPDATE without SDP, already answered: its `Call-Info` may
    /// change the remote side of the verdict (CUCM's way to tell the callee). That is a fact
    /// reported, not an offer: it cannot be refused, so `refuse` only alerts; `hangup` hangs up.
    fn refresh_received(&mut self, id: CallId, request: &Request) {
        let Some(call) = self.calls.active.get_mut(&id) else {
            return;
        };
        let Some(level) =
            verdict::parse_remote_call_info(request.headers.get_all(&HeaderName::CallInfo))
        else {
            return;
        };
        call.remote_call_info = Some(level);
        let downgrade = self.publish_verdict(id);
        if downgrade.is_some()
            && self.account.calls.on_downgrade == verdict::DowngradePolicy::Hangup
        {
            self.hangup(id);
        }
    }

    async fn call_ended(&mut self, id: CallId, reason: EndReason) {
        let Some(call) = self.calls.active.get_mut(&id) else {
            return;
        };
        let media = match call.media.take() {
            Some(media) => Some(media.stop().await),
            None => None,
        };
        let summary = CallSummary {
            call: id,
            peer: call.peer.clone(),
            direction: call.direction(),
            end_reason: match &call.failure {
                Some(failure) => format!("failed: {failure}"),
                None => reason.to_string(),
            },
            duration_secs: call.duration_secs(Engine::now()),
            verdict: call.verdict.clone(),
            reached_encrypted: call.reached_encrypted,
            srtp_suite: call.srtp_suite(),
            codec: call.codec(),
            media,
        };
        self.emit(Event::CallEnded {
            call: id,
            summary: Box::new(summary),
        });
    }

    /// Hangs up a call.
    pub(super) fn hangup(&mut self, id: CallId) {
        if let Some(call) = self.calls.active.get_mut(&id) {
            call.sip.hangup(Engine::now());
        }
    }

    /// Puts a call on hold (sendonly) or resumes it (sendrecv) with a re-INVITE; an error
    /// when the re-offer cannot be sent now (one is already under way).
    pub(super) fn hold(&mut self, id: CallId, hold: bool) -> Result<(), super::UaError> {
        let now = Engine::now();
        let Some(call) = self.calls.active.get_mut(&id) else {
            return Err(super::UaError::NoSuchCall(id));
        };
        // What the negotiation was (direction, pending offer), to go back to if no re-offer
        // goes out: the one already under way keeps its own.
        let before = call.negotiation.clone();
        call.negotiation.local_mut().direction = hold_direction(hold);
        let what = if hold { "hold" } else { "resume" };
        let mut rng = StdRng::from_rng(&mut self.rng);
        let sent = call
            .negotiation
            .create_offer(&mut rng)
            .map_err(|e| {
                super::UaError::CallState(format!("cannot {what} call {id}: no re-offer: {e}"))
            })
            .and_then(|offer| {
                call.sip
                    .reoffer(now, offer.to_string().into_bytes(), false)
                    .map_err(|e| {
                        super::UaError::CallState(format!("cannot {what} call {id} now: {e}"))
                    })
            });
        match sent {
            Ok(()) => call.hold_pending = Some(hold),
            Err(_) => call.negotiation = before,
        }
        sent
    }

    /// Sends DTMF digits on a call's media; an error when it has none or a digit is refused.
    pub(super) fn send_dtmf(&mut self, id: CallId, digits: &str) -> Result<(), super::UaError> {
        let media = self
            .calls
            .active
            .get(&id)
            .ok_or(super::UaError::NoSuchCall(id))?
            .media
            .as_ref()
            .ok_or_else(|| {
                super::UaError::CallState(format!("call {id} has no media to send DTMF on"))
            })?;
        for digit in digits.chars() {
            media.send_dtmf(digit).map_err(|e| {
                super::UaError::CallState(format!("call {id}: DTMF `{digit}` not sent: {e}"))
            })?;
        }
        Ok(())
    }

    /// Live statistics of every call with media.
    pub(super) fn emit_call_stats(&self) {
        for call in self.calls.active.values() {
            if let Some(media) = &call.media {
                self.emit(Event::CallStats {
                    call: call.id,
                    stats: Box::new(media.stats()),
                });
            }
        }
    }

    /// Forgets calls whose signalling is over.
    pub(super) fn reap_calls(&mut self) {
        let ended: Vec<CallId> = self
            .calls
            .active
            .values()
            .filter(|c| c.sip.is_terminated() && c.media.is_none())
            .map(|c| c.id)
            .collect();
        for id in ended {
            self.calls.active.remove(&id);
            self.calls.transactions.retain(|_, t| t.call != id);
            self.calls.invites.retain(|_, c| *c != id);
        }
    }

    /// The earliest timer of any call.
    pub(super) fn next_call_timeout(&self) -> Option<Instant> {
        self.calls
            .active
            .values()
            .filter_map(|c| c.sip.poll_timeout())
            .min()
    }

    /// Fires due call timers.
    pub(super) fn handle_call_timeouts(&mut self, now: Instant) {
        for call in self.calls.active.values_mut() {
            if call.sip.poll_timeout().is_some_and(|at| at <= now) {
                call.sip.handle_timeout(now);
            }
        }
    }

    /// The client transaction `id` of a call failed.
    pub(super) fn call_transaction_failed(&mut self, id: TransactionId) {
        if let Some(t) = self.calls.transactions.remove(&id)
            && let Some(call) = self.calls.active.get_mut(&t.call)
        {
            call.sip.transaction_failed(Engine::now(), &t.method, t.seq);
        }
    }
}

/// Answers the far end's SDP offer in `body`; a failure is the status and reason to refuse
/// it with.
fn receive_offer(
    negotiation: &mut OfferAnswer,
    body: &[u8],
    rng: &mut StdRng,
) -> Result<(SessionDescription, Negotiated), (u16, String)> {
    let offer = parse_sdp(body)?;
    negotiation
        .receive_offer(&offer, rng)
        .map_err(|e| (e.status_code(), e.to_string()))
}

/// The `CallAnswered` event of a call whose media was negotiated.
fn call_answered(call: CallId, negotiated: &Negotiated) -> Event {
    Event::CallAnswered {
        call,
        codec: negotiated_codec(negotiated),
        srtp_suite: negotiated_suite(negotiated),
    }
}

/// The name of a negotiated codec.
fn negotiated_codec(negotiated: &Negotiated) -> String {
    codec_name(negotiated.codec).to_owned()
}

/// The negotiated SRTP suite's name (none for plain RTP).
fn negotiated_suite(negotiated: &Negotiated) -> Option<String> {
    negotiated
        .srtp
        .as_ref()
        .map(|s| s.suite.as_str().to_owned())
}

/// Checks the far end's SDP answer in `body` against our offer; a failure is the status and
/// reason it is unacceptable for.
fn receive_answer(negotiation: &mut OfferAnswer, body: &[u8]) -> Result<Negotiated, (u16, String)> {
    let answer = parse_sdp(body)?;
    negotiation
        .receive_answer(&answer)
        .map_err(|e| (e.status_code(), e.to_string()))
}

/// Parses an SDP body; a missing or malformed one is a 400/488 with the reason.
fn parse_sdp(body: &[u8]) -> Result<SessionDescription, (u16, String)> {
    if body.is_empty() {
        return Err((488, "no SDP body".to_owned()));
    }
    let text = std::str::from_utf8(body).map_err(|_| (400, "the SDP is not UTF-8".to_owned()))?;
    text.parse()
        .map_err(|e| (400, format!("malformed SDP: {e}")))
}

/// Our media direction on a call put on hold (`true`: we only send) or resumed.
pub(super) fn hold_direction(hold: bool) -> lockphone_sip::sdp::Direction {
    if hold {
        lockphone_sip::sdp::Direction::SendOnly
    } else {
        lockphone_sip::sdp::Direction::SendRecv
    }
}
