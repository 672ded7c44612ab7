//! The phone's events applied to the state.

use super::{App, CallState, CallView, LiveStats, Modal, Registration, TrustPrompt};
use crate::tui::action::Action;
use crate::tui::describe;
use crate::ua::Event;

impl App {
    /// Applies one phone event.
    pub(super) fn on_event(&mut self, event: Event) -> Vec<Action> {
        if let Some(line) = describe::event(&event) {
            self.log_line(line);
        }
        let mut actions = Vec::new();
        match event {
            Event::Registering { .. } => self.registration = Registration::Registering,
            Event::Connected { security, .. } => self.fips |= security.fips,
            Event::Registered { expires_secs, .. } => {
                self.registration = Registration::Registered(expires_secs);
            }
            Event::RegistrationExpired => {
                self.registration = Registration::Lost("expired".to_owned());
            }
            Event::Unregistered => self.registration = Registration::Unregistered,
            Event::RegistrationFailed { reason, .. } => {
                self.registration = Registration::Failed(reason);
            }
            Event::ConnectionLost { reason } => self.registration = Registration::Lost(reason),
            Event::LoginRequired {
                reason,
                authz_server,
            } => {
                self.registration = Registration::LoginRequired(reason);
                if authz_server.is_some() {
                    self.authz_server = authz_server;
                }
            }
            Event::TrustDecisionRequired {
                server,
                certificate,
            } => {
                let prompt = TrustPrompt {
                    server,
                    certificate: *certificate,
                };
                match &self.modal {
                    Some(Modal::Trust(current)) if *current == prompt => {}
                    Some(Modal::Trust(_)) => self.pending_trust.push(prompt),
                    _ if self.pending_trust.contains(&prompt) => {}
                    _ => self.modal = Some(Modal::Trust(prompt)),
                }
                actions.push(Action::Bell);
            }
            Event::CallStarted {
                call,
                direction,
                peer,
                security,
            } => {
                let incoming = direction == "incoming";
                match self.call_mut(call) {
                    Some(view) => view.signalling = Some(security),
                    None => self
                        .calls
                        .push(CallView::new(call, &peer, incoming, Some(security))),
                }
                // Ended calls make room for the new one.
                self.calls.retain(|c| !c.ended() || c.id == call);
                if incoming {
                    actions.push(Action::Bell);
                }
                if self.selected_call().is_none_or(|c| c.ended() || !incoming) {
                    self.selected = Some(call);
                }
            }
            Event::CallRinging { call } => {
                if let Some(view) = self.call_mut(call)
                    && view.state == CallState::Calling
                {
                    view.state = CallState::Ringing;
                }
            }
            Event::CallAnswered {
                call,
                codec,
                srtp_suite,
            } => {
                if let Some(view) = self.call_mut(call) {
                    if !view.answered() {
                        view.state = CallState::Active;
                        view.answered_secs = Some(0);
                    }
                    view.codec = Some(codec);
                    view.suite = srtp_suite;
                }
            }
            Event::CallSecurity { call, verdict } => {
                self.fips |= verdict.fips;
                if let Some(view) = self.call_mut(call) {
                    view.verdict = Some(verdict);
                }
            }
            Event::CallDowngrade { call, what, action } => {
                let text = format!("SECURITY DOWNGRADE on call {call}: {what} (policy {action:?})");
                if let Some(view) = self.call_mut(call) {
                    view.downgrade = Some(what);
                }
                self.alarm = Some(text);
                actions.push(Action::Bell);
            }
            Event::CallHold {
                call,
                on_hold,
                refused,
            } => {
                if let Some(view) = self.call_mut(call)
                    && view.answered()
                {
                    view.state = if on_hold {
                        CallState::OnHold
                    } else {
                        CallState::Active
                    };
                }
                if let Some(why) = refused {
                    self.log_line(format!("call {call}: the far end refused: {why}"));
                }
            }
            Event::CertificateChanged { server, .. } => {
                self.alarm = Some(format!(
                    "The certificate of {server} CHANGED since you trusted it: refused"
                ));
                actions.push(Action::Bell);
            }
            Event::CallFailed { .. } => {}
            Event::CallStats { call, stats } => {
                if let Some(view) = self.call_mut(call) {
                    view.take_stats(LiveStats::of(&stats));
                }
            }
            Event::CallEnded { call, summary } => {
                if let Some(view) = self.call_mut(call) {
                    view.state = CallState::Ended(summary.end_reason.clone());
                    if let Some(verdict) = &summary.verdict {
                        view.verdict = Some(verdict.clone());
                    }
                    view.summary = Some(summary);
                }
                if self.selected == Some(call)
                    && let Some(other) = self.calls.iter().find(|c| !c.ended())
                {
                    self.selected = Some(other.id);
                }
            }
            _ => {}
        }
        actions
    }
}
